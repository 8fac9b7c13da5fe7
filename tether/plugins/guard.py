"""Run one call into a plugin: contained, bounded in time, and abandoned if it will not stop.

A plugin is untrusted code. Whatever its `initialize`, `start` or `stop`
raises, `SystemExit` and `KeyboardInterrupt` included, comes back as a value;
past the timeout it is cancelled, and one that swallows its cancellation is
abandoned (its coroutine closed and left), so start-up and shutdown always end.
Only the cancellation of the caller itself passes through.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Coroutine, Generator
from typing import Any

from tether.core.plugin_tasks import enter_plugin_code
from tether.core.safe_text import describe_exception, safe_repr

__all__ = ["CANCEL_GRACE_SECONDS", "LifecycleTimeout", "call_plugin", "describe_failure"]

CANCEL_GRACE_SECONDS = 0.5
"""How long a cancelled call may take to clean up before it is abandoned."""


class LifecycleTimeout(Exception):  # noqa: N818 - it reads as what happened
    """A plugin call did not finish within its time limit."""

    def __init__(self, seconds: float, *, abandoned: bool) -> None:
        self.seconds = seconds
        self.abandoned = abandoned
        tail = " and ignored its cancellation (abandoned)" if abandoned else ""
        super().__init__(f"did not finish within {seconds:g} s{tail}")


class _Abandonable:
    """Await a coroutine, relaying as `await` does, until told to drop it."""

    __slots__ = ("_abandoned", "_coro")

    def __init__(self, coro: Coroutine[Any, Any, None]) -> None:
        self._coro = coro
        self._abandoned = False

    def abandon(self) -> None:
        self._abandoned = True

    def __await__(self) -> Generator[Any, Any, None]:
        coro = self._coro
        sent: Any = None
        error: BaseException | None = None
        while True:
            if self._abandoned:
                # Whatever it raises while closed is dropped with it.
                with contextlib.suppress(BaseException):
                    coro.close()
                return
            try:
                pending = coro.send(sent) if error is None else coro.throw(error)
            except StopIteration:
                return
            sent, error = None, None
            try:
                sent = yield pending
            except GeneratorExit:
                with contextlib.suppress(BaseException):
                    coro.close()
                raise
            except BaseException as exc:  # noqa: BLE001 - relayed into the coroutine, as await does
                error = exc


async def _contained(call: Callable[[], Awaitable[None]], caught: list[BaseException]) -> None:
    # This runs in a task of its own: the mark covers the plugin's call and
    # every task it starts, and goes with the task.
    enter_plugin_code()
    try:
        await call()
    except asyncio.CancelledError as error:
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            raise  # cancelled from outside: the timeout, or the caller
        caught.append(error)
    except BaseException as error:  # noqa: BLE001 - a plugin's failure, whatever it is, is a value
        caught.append(error)


async def call_plugin(call: Callable[[], Awaitable[None]], limit: float) -> BaseException | None:
    """Await `call()` for at most `limit` seconds; None when it finished, else what went wrong.

    What went wrong is what it raised (any `BaseException`), or a
    `LifecycleTimeout`. Raises only `CancelledError`, when the caller is cancelled.
    """
    caught: list[BaseException] = []
    runner = _Abandonable(_contained(call, caught))
    task: asyncio.Task[None] = asyncio.ensure_future(runner)
    try:
        done, _ = await asyncio.wait({task}, timeout=limit)
        if done:
            return caught[0] if caught else None
        task.cancel()
        done, _ = await asyncio.wait({task}, timeout=CANCEL_GRACE_SECONDS)
        if done:
            return LifecycleTimeout(limit, abandoned=False)
        runner.abandon()
        task.cancel()  # wakes it; the relay closes the plugin's coroutine
        await asyncio.wait({task}, timeout=CANCEL_GRACE_SECONDS)
        return LifecycleTimeout(limit, abandoned=True)
    except asyncio.CancelledError:
        task.cancel()
        raise


def describe_failure(error: BaseException) -> str:
    """One readable phrase for what a plugin raised."""
    # What it raised is the plugin's object: its text is asked for safely.
    if isinstance(error, SystemExit):
        return f"tried to exit the process (SystemExit({safe_repr(error.code)})); not obeyed"
    if isinstance(error, KeyboardInterrupt):
        return "raised KeyboardInterrupt; not obeyed"
    if isinstance(error, LifecycleTimeout):
        return str(error)
    return describe_exception(error)
