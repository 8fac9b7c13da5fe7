"""Contain the tasks that plugin code starts, so none of them can end the process.

A plugin's handler or lifecycle call is contained where it is awaited (the
EventBus, the plugin registry), but a task it starts with
`asyncio.create_task` runs on its own: asyncio re-raises a `SystemExit` or
`KeyboardInterrupt` from any task out of the event loop, which ends every chat.
`contain_plugin_tasks` installs a task factory on the loop that wraps each task
started from plugin code (code run inside an event handler, or inside a
plugin's `initialize`, `start` or `stop`; tasks inherit that mark) so that
whatever non-`Exception` it raises is logged and counted instead. Tasks started
by Tether itself are untouched (a second Ctrl-C must still stop the process).

Not containable from inside the process, and so not contained: `os._exit`, a
signal the plugin sends to the process, and a callback scheduled with
`loop.call_soon` that raises `SystemExit` (asyncio re-raises it from the loop).
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable, Coroutine, Generator
from typing import Any

from tether.core.safe_text import safe_repr, safe_str
from tether.log import get_logger

__all__ = [
    "contain_plugin_tasks",
    "contained_task_exits",
    "enter_plugin_code",
    "in_plugin_code",
    "register_plugin_code_check",
]

logger = get_logger(__name__)

# Set for the duration of plugin code; the tasks it starts inherit it.
_plugin_code: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "tether_plugin_code", default=False
)
# Other marks of plugin code (the EventBus's handler scope), asked at task creation.
_checks: list[Callable[[], bool]] = []
_exits = 0


def enter_plugin_code() -> None:
    """Mark the current context (a task running plugin code) and the tasks it starts."""
    _plugin_code.set(True)


def in_plugin_code() -> bool:
    """True when the running code is plugin code, by any registered mark."""
    return _plugin_code.get() or any(check() for check in _checks)


def register_plugin_code_check(check: Callable[[], bool]) -> None:
    """Add another way of telling plugin code (the EventBus's handler scope)."""
    if check not in _checks:
        _checks.append(check)


def contained_task_exits() -> int:
    """How many times a task started by plugin code tried to end the process."""
    return _exits


class _Factory:
    """The task factory: wraps plugin tasks, then defers to the factory it replaced."""

    __slots__ = ("_previous",)

    def __init__(self, previous: Any) -> None:
        self._previous = previous

    def __call__(
        self, loop: asyncio.AbstractEventLoop, coro: Any, **kwargs: Any
    ) -> asyncio.Future[Any]:
        if asyncio.iscoroutine(coro) and in_plugin_code():
            coro = _Contained(coro)
        if self._previous is not None:
            return self._previous(loop, coro, **kwargs)  # type: ignore[no-any-return]
        return asyncio.Task(coro, loop=loop, **kwargs)


def contain_plugin_tasks(loop: asyncio.AbstractEventLoop) -> None:
    """Install the containing task factory on `loop` (once; keeps a factory already set)."""
    previous = loop.get_task_factory()
    if isinstance(previous, _Factory):
        return
    loop.set_task_factory(_Factory(previous))


class _Contained(Coroutine[Any, Any, Any]):
    """A plugin task's coroutine, relayed step by step; an attempt to exit ends it quietly.

    A class rather than an `async def` wrapper: a task cancelled before its
    first step never runs a wrapper's body, which would leave the plugin's
    coroutine never awaited; relaying the throw reaches it.
    """

    __slots__ = ("_coro",)

    def __init__(self, coro: Coroutine[Any, Any, Any]) -> None:
        self._coro = coro

    def send(self, value: Any) -> Any:
        try:
            return self._coro.send(value)
        except (Exception, asyncio.CancelledError, GeneratorExit):
            raise
        except BaseException as error:  # noqa: BLE001 - a plugin task trying to end the process
            _contain(self._coro, error)
        raise StopIteration(None)

    def throw(self, typ: Any, value: Any = None, traceback: Any = None) -> Any:
        try:
            return self._coro.throw(typ if value is None else value)
        except (Exception, asyncio.CancelledError, GeneratorExit):
            raise
        except BaseException as error:  # noqa: BLE001 - a plugin task trying to end the process
            _contain(self._coro, error)
        raise StopIteration(None)

    def close(self) -> None:
        self._coro.close()

    def __await__(self) -> Generator[Any, Any, Any]:
        return self._coro.__await__()


def _contain(coro: Coroutine[Any, Any, Any], error: BaseException) -> None:
    global _exits
    _exits += 1
    logger.error(
        "plugin_task_exit_contained",
        task_coroutine=safe_str(getattr(coro, "__qualname__", None)),
        error=safe_repr(error),
        reason="a task started by plugin code tried to end the process; not obeyed",
    )
