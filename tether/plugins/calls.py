"""Calling a plugin's hook: contained, counted, bounded in time, cheap when it does not wait.

A hook is untrusted code on a path people wait on (the gate runs one on every
tool call). Most hooks answer without suspending, so the coroutine is first
stepped in place: a task and a timer (tens of microseconds) are paid only by a
hook that actually waits, and that one is finished by `call_plugin`, which
bounds it and abandons it if it ignores its cancellation. Whatever a hook
raises, `SystemExit` and `KeyboardInterrupt` included, comes back as a value;
only the cancellation of the caller itself passes through.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable, Coroutine, Generator
from dataclasses import dataclass
from typing import Any

from tether.core.plugin_tasks import register_plugin_code_check
from tether.log import get_logger
from tether.plugins.guard import LifecycleTimeout, call_plugin, describe_failure

__all__ = ["HookCounters", "HookOutcome", "call_hook"]

logger = get_logger(__name__)

# Set while a hook is stepped in place: a task it starts there is plugin code,
# and its attempts to end the process are contained (plugin_tasks).
_in_hook: contextvars.ContextVar[bool] = contextvars.ContextVar("tether_in_hook", default=False)
register_plugin_code_check(_in_hook.get)


@dataclass(slots=True)
class HookCounters:
    """How often a plugin's hooks were called, failed and ran out of time."""

    calls: int = 0
    errors: int = 0
    timeouts: int = 0


@dataclass(frozen=True, slots=True)
class HookOutcome:
    """What a hook returned, or what went wrong (`error` is None on success)."""

    value: Any = None
    error: BaseException | None = None

    @property
    def timed_out(self) -> bool:
        return isinstance(self.error, LifecycleTimeout)

    def describe(self) -> str:
        return describe_failure(self.error) if self.error is not None else "ok"


class _Continue:
    """Await, inside a task, a coroutine already stepped once, relaying as `await` does."""

    __slots__ = ("_coro", "_first")

    def __init__(self, coro: Coroutine[Any, Any, Any], first: Any) -> None:
        self._coro = coro
        self._first = first

    def __await__(self) -> Generator[Any, Any, Any]:
        pending = self._first
        while True:
            try:
                sent = yield pending
            except BaseException as exc:  # noqa: BLE001 - relayed into the coroutine, as await does
                try:
                    pending = self._coro.throw(exc)
                except StopIteration as stop:
                    return stop.value
                continue
            try:
                pending = self._coro.send(sent)
            except StopIteration as stop:
                return stop.value


async def call_hook(
    owner: str,
    hook: str,
    function: Callable[..., Any],
    counters: HookCounters,
    limit: float,
    *args: Any,
) -> HookOutcome:
    """Call `function(*args)` (an async hook of plugin `owner`) for at most `limit` seconds.

    Counts the call, and an error or a timeout, in `counters`; logs a failure
    with the plugin's and the hook's names. Raises only `CancelledError`, when
    the caller is cancelled.
    """
    counters.calls += 1
    caller = asyncio.current_task()
    cancels = caller.cancelling() if caller is not None else 0
    token = _in_hook.set(True)
    outcome: HookOutcome | None
    try:
        coro = function(*args)
        first = coro.send(None)
    except StopIteration as stop:
        outcome = HookOutcome(value=stop.value)
    except BaseException as error:  # noqa: BLE001 - a plugin's failure, whatever it is, is a value
        outcome = _failed(owner, hook, counters, error)
    else:
        outcome = None
    finally:
        _in_hook.reset(token)
    if caller is not None and caller.cancelling() > cancels:
        # Stepped in the caller's task, `current_task().cancel()` meant the
        # hook's own task; it got the caller's (the gate's): refused.
        await _refuse_cancellation(caller, cancels)
        if outcome is None:
            coro.close()
        return _failed(owner, hook, counters, _CancelledCaller())
    if outcome is not None:
        return outcome
    # It waits: the rest runs in a task of its own, bounded and abandonable.
    result: list[Any] = []

    async def rest() -> None:
        result.append(await _Continue(coro, first))

    failure = await call_plugin(rest, limit)
    if failure is not None:
        return _failed(owner, hook, counters, failure)
    return HookOutcome(value=result[0] if result else None)


class _CancelledCaller(Exception):  # noqa: N818 - it reads as what happened
    def __init__(self) -> None:
        super().__init__("cancelled the task that called it; not obeyed")


async def _refuse_cancellation(caller: asyncio.Task[Any], cancels: int) -> None:
    # Nothing outside could cancel the caller while the hook was stepped (no
    # await came between): the hook did. Withdraw the request and take the
    # CancelledError it queued for the caller's next await here; a cancellation
    # arriving from outside meanwhile raises the count again, and passes.
    while caller.cancelling() > cancels:
        caller.uncancel()
    try:
        await asyncio.sleep(0)
    except asyncio.CancelledError:
        if caller.cancelling() > cancels:
            raise


def _failed(owner: str, hook: str, counters: HookCounters, error: BaseException) -> HookOutcome:
    outcome = HookOutcome(error=error)
    if outcome.timed_out:
        counters.timeouts += 1
    else:
        counters.errors += 1
    logger.error(
        "plugin_hook_failed",
        plugin=owner,
        hook=hook,
        error=outcome.describe(),
        timed_out=outcome.timed_out,
    )
    return outcome
