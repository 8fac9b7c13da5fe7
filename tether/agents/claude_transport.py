"""Start the `claude` CLI in a session of its own, out of reach of the terminal's Ctrl-C.

A terminal sends SIGINT to every process in its foreground process group. The
SDK starts the CLI as a plain child of Tether, so a Ctrl-C typed to cancel a
request in the REPL would also kill Claude Code mid-turn, and with it the
conversation's last steps. Started in a new session (`setsid`), the CLI has no
controlling terminal and no terminal signal reaches it; Tether stops a request
with the SDK's interrupt instead, and ends the process with `disconnect()`.

The SDK spawns the CLI with `anyio.open_process(...)` inside
`SubprocessCLITransport.connect()` and offers no option for the process
group. `OwnSessionTransport` therefore lets the SDK build the command, the
environment and the pipes exactly as it always does, and adds
`start_new_session=True` to that one call while its own `connect()` runs (a
context variable scopes it: other users of the SDK in the process are
untouched). It then checks the child really is a session leader and logs a
warning if a future SDK spawns it some other way.

It is also where Claude Code's output enters Tether, so each message is
screened there for its shape (see `claude_wire`).
"""

from __future__ import annotations

import contextvars
import os
from collections.abc import AsyncIterator, Callable
from typing import Any

import anyio
from anyio.abc import Process
from claude_agent_sdk import CLIJSONDecodeError as SDKJSONDecodeError
from claude_agent_sdk._internal.transport import subprocess_cli as _sdk_subprocess
from claude_agent_sdk._internal.transport.subprocess_cli import SubprocessCLITransport

from tether.agents.claude_wire import malformed, screen
from tether.log import get_logger

__all__ = ["OwnSessionTransport"]

logger = get_logger(__name__)

_own_session: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "tether_claude_own_session", default=False
)


class _AnyioSpawningOwnSession:
    """Stands in for the `anyio` module inside the SDK's transport module."""

    def __getattr__(self, name: str) -> Any:
        return getattr(anyio, name)

    @staticmethod
    async def open_process(*args: Any, **kwargs: Any) -> Process:
        if _own_session.get():
            kwargs["start_new_session"] = True
        return await anyio.open_process(*args, **kwargs)


def _install_spawn_hook() -> None:
    current = getattr(_sdk_subprocess, "anyio", None)
    if current is anyio:
        # setattr, not assignment: the module attribute is typed as the anyio module.
        setattr(_sdk_subprocess, "anyio", _AnyioSpawningOwnSession())  # noqa: B010
    parse_line = getattr(_sdk_subprocess, "_parse_stdout_line", None)
    if parse_line is not None and not getattr(parse_line, "tether_tolerant", False):
        setattr(_sdk_subprocess, "_parse_stdout_line", _tolerant(parse_line))  # noqa: B010


def _tolerant(parse_line: Callable[[str], Any]) -> Callable[[str], Any]:
    """The SDK's line parser, with a line that starts like JSON but is not made a stand-in.

    The SDK raises there, which ends its reader and with it the turn; the line
    is whole (the SDK frames lines), so the next one can still be read.
    """

    def parse(line: str) -> Any:
        try:
            return parse_line(line)
        except SDKJSONDecodeError:
            return malformed(line, "a line that is not valid JSON")
        except RecursionError:
            # Valid JSON nested deeper than Python's decoder goes.
            return malformed(line[:1000], "a line of JSON nested too deeply to read")
        except ValueError:
            # Valid JSON Python refuses to convert, e.g. an integer of over 4,300 digits.
            return malformed(line[:1000], "a line of JSON holding a value too large to read")

    parse.tether_tolerant = True  # type: ignore[attr-defined]
    return parse


class OwnSessionTransport(SubprocessCLITransport):
    """The SDK's subprocess transport, with the CLI started in a new session.

    Every message read passes `claude_wire.screen` first: a malformed one
    reaches the SDK as a well-formed stand-in, never as a crash.
    """

    def read_messages(self) -> AsyncIterator[dict[str, Any]]:
        return self._screened(super().read_messages())

    @staticmethod
    async def _screened(
        messages: AsyncIterator[dict[str, Any]],
    ) -> AsyncIterator[dict[str, Any]]:
        async for message in messages:
            for screened in screen(message):
                yield screened

    async def connect(self) -> None:
        _install_spawn_hook()
        token = _own_session.set(True)
        try:
            await super().connect()
        finally:
            _own_session.reset(token)
        self._check_own_session()

    @property
    def pid(self) -> int | None:
        """The CLI's process id while it runs."""
        process = self._process
        return process.pid if process is not None else None

    @property
    def exited(self) -> bool:
        """True once the CLI process has ended (or was never started)."""
        process = self._process
        return process is None or process.returncode is not None

    def _check_own_session(self) -> None:
        pid = self.pid
        if pid is None or not hasattr(os, "getsid"):
            return
        try:
            own = os.getsid(pid) == pid
        except ProcessLookupError:
            return
        if not own:
            logger.warning(
                "claude_cli_shares_terminal",
                pid=pid,
                hint="this SDK version spawns the CLI differently; Ctrl-C may stop it",
            )
