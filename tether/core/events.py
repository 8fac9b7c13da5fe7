"""Events, the async EventBus that delivers them, and the event-name constants.

Handlers are `async def handler(event) -> None`. `await bus.emit(event)` returns
once every handler subscribed to that name has finished. A handler's exception
or slowness is contained: it is logged with the handler's name, counted, and
never reaches the emitter or the other handlers; a handler still running after
the bus's timeout is cancelled.

Why handlers are stepped by hand: most handlers finish without ever suspending
(they count, append, log). Giving each one an `asyncio.Task` and a timer costs
~50 µs per emit at ten handlers, which the gate pays on every tool call. So
`emit` runs each handler's coroutine one step in place; only the handlers that
actually suspend become tasks, and one deadline bounds them all (they start
together, so one deadline is each one's timeout).
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable, Coroutine, Generator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from operator import length_hint
from typing import Any

import structlog
from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "APPROVAL_REQUESTED",
    "APPROVAL_RESOLVED",
    "ENGINE_STARTED",
    "ENGINE_STOPPED",
    "MESSAGE_IN",
    "MESSAGE_OUT",
    "SAFETY_VIOLATION",
    "TOOL_ALLOWED",
    "TOOL_DENIED",
    "TOOL_GATED",
    "WILDCARD",
    "Event",
    "EventBus",
    "EventHandler",
    "HandlerStats",
]

logger = structlog.get_logger(__name__)

MESSAGE_IN = "message.in"
MESSAGE_OUT = "message.out"
TOOL_GATED = "tool.gated"
TOOL_ALLOWED = "tool.allowed"
TOOL_DENIED = "tool.denied"
APPROVAL_REQUESTED = "approval.requested"
APPROVAL_RESOLVED = "approval.resolved"
SAFETY_VIOLATION = "safety.violation"
ENGINE_STARTED = "engine.started"
ENGINE_STOPPED = "engine.stopped"

WILDCARD = "*"

# Handler time is measured on every 16th emit of each event name: a clock read
# per handler would double the cost of emit (it is the dominant per-handler
# cost), and a sample still shows which handler is slow. Handlers that suspend
# are always timed.
_TIMING_SAMPLE_MASK = 15

EventHandler = Callable[["Event"], Awaitable[None]]
"""An async callable taking one `Event`; what it returns is ignored."""


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Event(BaseModel):
    """Something that happened: a dotted `name`, its `data`, and when (UTC)."""

    model_config = ConfigDict(frozen=True)

    name: str
    data: dict[str, Any] = Field(default_factory=dict)
    timestamp: datetime = Field(default_factory=_utc_now)


class HandlerStats(BaseModel):
    """A snapshot of one subscription's counters."""

    model_config = ConfigDict(frozen=True)

    handler: str
    pattern: str
    calls: int
    errors: int
    timeouts: int
    total_seconds: float
    """Time spent in the handler, estimated from the sampled emits (every 16th of a name)."""


@dataclass(eq=False, slots=True)
class _Subscription:
    pattern: str
    handler: EventHandler
    name: str
    calls: int = 0
    errors: int = 0
    timeouts: int = 0
    timed_calls: int = 0
    timed_seconds: float = 0.0

    def snapshot(self, uncounted_calls: int = 0) -> HandlerStats:
        calls = self.calls + uncounted_calls
        estimate = self.timed_seconds / self.timed_calls * calls if self.timed_calls else 0.0
        return HandlerStats(
            handler=self.name,
            pattern=self.pattern,
            calls=calls,
            errors=self.errors,
            timeouts=self.timeouts,
            total_seconds=estimate,
        )


@dataclass(eq=False, slots=True)
class _Route:
    """The subscriptions one event name reaches, and how many emits went through them.

    Every emit calls each handler of its route exactly once, so calls are counted
    once per emit here and added to the subscriptions when the route is dropped:
    a per-handler increment was a tenth of the cost of an emit.
    """

    subscriptions: tuple[_Subscription, ...]
    handlers: tuple[EventHandler, ...]
    emits: int = 0

    def taken(self, remaining: Iterator[Any], handler: EventHandler) -> _Subscription:
        """The subscription of `handler`, which an iterator over this route yielded."""
        position = len(self.handlers) - length_hint(remaining) - 1
        if self.handlers[position] is not handler:
            # The iterator moved on while the handler waited (another driver took
            # the rest): look it up instead.
            position = self.handlers.index(handler)
        return self.subscriptions[position]


_Failure = tuple[_Subscription, Event, BaseException]


def _handler_name(handler: Callable[..., Any]) -> str:
    owner = getattr(handler, "__self__", None)
    qualname = getattr(handler, "__qualname__", None) or type(handler).__qualname__
    module = getattr(handler, "__module__", None) or type(owner or handler).__module__
    return f"{module}.{qualname}"


def _is_async_callable(handler: object) -> bool:
    if inspect.iscoroutinefunction(handler):
        return True
    call = getattr(handler, "__call__", None)  # noqa: B004 - an instance with async __call__ is a handler too
    return call is not None and inspect.iscoroutinefunction(call)


def _matches(pattern: str, name: str) -> bool:
    if pattern == WILDCARD:
        return True
    if pattern.endswith(".*"):
        return name.startswith(pattern[:-1])
    return pattern == name


class _Resume:
    """Continue, inside a Task, a coroutine that `emit` already stepped once.

    It hands the future the coroutine is waiting on to the Task, then relays
    sends and throws (cancellation) exactly as `await` would.
    """

    __slots__ = ("_coro", "_first", "_on_finish")

    def __init__(
        self, coro: Coroutine[Any, Any, Any], first: Any, on_finish: Callable[[], None]
    ) -> None:
        self._coro = coro
        self._first = first
        self._on_finish = on_finish

    def __await__(self) -> Generator[Any, Any, None]:
        try:
            yield from self._relay()
        finally:
            self._on_finish()

    def _relay(self) -> Generator[Any, Any, None]:
        pending = self._first
        while True:
            try:
                sent = yield pending
            except BaseException as exc:  # noqa: BLE001 - relayed into the coroutine, as await does
                try:
                    pending = self._coro.throw(exc)
                except StopIteration:
                    return
                continue
            try:
                pending = self._coro.send(sent)
            except StopIteration:
                return


class EventBus:
    """Delivers events to async handlers, concurrently, with containment and a timeout.

    Args:
        handler_timeout: seconds a handler may run before it is cancelled
            (`TETHER_EVENT_HANDLER_TIMEOUT_SECONDS`, default 5).

    Patterns: an exact name (`"tool.denied"`), a prefix wildcard (`"tool.*"`), or
    `"*"` for every event.
    """

    def __init__(self, handler_timeout: float = 5.0) -> None:
        if handler_timeout <= 0:
            raise ValueError(f"handler_timeout must be positive, got {handler_timeout!r}")
        self._timeout = handler_timeout
        self._subscriptions: list[_Subscription] = []
        # name -> the subscriptions it reaches; rebuilt lazily after (un)subscribe,
        # so emit never filters patterns on the hot path.
        self._routes: dict[str, _Route] = {}
        # Handler failures wait here until every handler of the emit has run:
        # logging one formats a traceback (~80 µs), which the handlers after it
        # must not pay for.
        self._failures: list[_Failure] = []
        self._background: set[asyncio.Task[None]] = set()

    @property
    def handler_timeout(self) -> float:
        return self._timeout

    def subscribe(self, pattern: str, handler: EventHandler) -> None:
        """Call `handler` for every event whose name matches `pattern`.

        Raises:
            TypeError: `handler` is not an async callable, or `pattern` is not a string.
        """
        if not isinstance(pattern, str) or not pattern:
            raise TypeError(f"event pattern must be a non-empty string, got {pattern!r}")
        if not _is_async_callable(handler):
            raise TypeError(
                f"{_handler_name(handler)} is not an async callable; "
                "event handlers must be 'async def handler(event) -> None'"
            )
        self._subscriptions.append(_Subscription(pattern, handler, _handler_name(handler)))
        self._drop_routes()

    def unsubscribe(self, pattern: str, handler: EventHandler) -> bool:
        """Remove one subscription of `handler` to `pattern`; False when there was none.

        Safe from inside a handler: an emit already under way still finishes with
        the handlers it started with.
        """
        for index, subscription in enumerate(self._subscriptions):
            if subscription.pattern == pattern and subscription.handler == handler:
                del self._subscriptions[index]
                self._drop_routes()
                return True
        return False

    def handlers_for(self, name: str) -> tuple[EventHandler, ...]:
        """The handlers an event called `name` would reach, in subscription order."""
        return self._route(name).handlers

    def stats(self) -> list[HandlerStats]:
        """Counters for every subscription: calls, errors, timeouts, time spent."""
        uncounted: dict[_Subscription, int] = {}
        for route in self._routes.values():
            for subscription in route.subscriptions:
                uncounted[subscription] = uncounted.get(subscription, 0) + route.emits
        return [
            subscription.snapshot(uncounted.get(subscription, 0))
            for subscription in self._subscriptions
        ]

    def _route(self, name: str) -> _Route:
        route = self._routes.get(name)
        if route is None:
            reached = tuple(sub for sub in self._subscriptions if _matches(sub.pattern, name))
            route = _Route(reached, tuple(sub.handler for sub in reached))
            self._routes[name] = route
        return route

    def _drop_routes(self) -> None:
        for route in self._routes.values():
            for subscription in route.subscriptions:
                subscription.calls += route.emits
        self._routes.clear()

    def _log_failures(self) -> None:
        failures = list(self._failures)
        self._failures.clear()
        for subscription, event, error in failures:
            logger.error(
                "event_handler_failed",
                handler=subscription.name,
                event_name=event.name,
                error=repr(error),
                exc_info=error,
            )

    async def emit(self, event: Event) -> None:
        """Deliver `event` to every matching handler and wait until all have finished.

        Never raises because of a handler: failures are logged and counted, and a
        handler still running after the timeout is cancelled.
        """
        route = self._routes.get(event.name)
        if route is None:
            route = self._route(event.name)
        if not route.handlers:
            return
        route.emits += 1
        failures = self._failures
        # One iterator shared by every driver of this emit: a driver resumed after
        # its handler suspended finds it exhausted, so each handler runs once.
        # The untimed drain walks the handlers themselves, the timed one (every
        # 16th emit of a name) their subscriptions; both in the same order.
        drain: _Drain
        remaining: Iterator[Any]
        if route.emits & _TIMING_SAMPLE_MASK:
            drain, remaining = _drain, iter(route.handlers)
        else:
            drain, remaining = _drain_timed, iter(route.subscriptions)
        waiting: list[tuple[_Subscription, Coroutine[Any, Any, None], Any]] | None = None
        while True:
            driver = drain(remaining, route, event, failures)
            try:
                waiting_on = driver.send(None)
            except StopIteration:
                break
            # The handler just taken suspended: it will finish in a task of its
            # own while a fresh driver takes the handlers after it.
            subscription = route.subscriptions[len(route.handlers) - length_hint(remaining) - 1]
            if waiting is None:
                waiting = []
            waiting.append((subscription, driver, waiting_on))
        suspended: list[tuple[_Subscription, asyncio.Task[None]]] | None = None
        if waiting:
            timed = drain is _drain_timed
            # Tasks are made once every handler has had its first step, so that a
            # handler that waits costs the ones after it nothing.
            suspended = [
                (subscription, self._resume(subscription, driver, waiting_on, timed=timed))
                for subscription, driver, waiting_on in waiting
            ]
        if failures:
            self._log_failures()
        if suspended:
            await self._finish_suspended(event, suspended)

    def _resume(
        self,
        subscription: _Subscription,
        driver: Coroutine[Any, Any, None],
        waiting_on: Any,
        *,
        timed: bool,
    ) -> asyncio.Task[None]:
        task = asyncio.ensure_future(_Resume(driver, waiting_on, self._log_failures))
        if not timed:
            # Unsampled emits still time the handlers that wait: those are the slow ones.
            task.add_done_callback(_Stopwatch(subscription))
        return task

    async def _finish_suspended(
        self, event: Event, suspended: list[tuple[_Subscription, asyncio.Task[None]]]
    ) -> None:
        try:
            _, pending = await asyncio.wait([task for _, task in suspended], timeout=self._timeout)
        except asyncio.CancelledError:
            # The emitter was cancelled: its handlers go with it rather than run unbounded.
            for _, task in suspended:
                task.cancel()
            raise
        if not pending:
            return
        for task in pending:
            task.cancel()
        # Give the cancelled handlers their chance to clean up, briefly.
        await asyncio.wait(pending, timeout=0.1)
        for subscription, task in suspended:
            if task not in pending:
                continue
            subscription.timeouts += 1
            subscription.timed_calls += 1
            subscription.timed_seconds += self._timeout
            logger.warning(
                "event_handler_timeout",
                handler=subscription.name,
                event_name=event.name,
                timeout_seconds=self._timeout,
            )
            if not task.done():
                # A handler that ignores cancellation is left to finish on its own.
                self._background.add(task)
                task.add_done_callback(self._background.discard)


class _Stopwatch:
    """Done-callback charging a suspended handler's task with the time it took."""

    __slots__ = ("_started", "_subscription")

    def __init__(self, subscription: _Subscription) -> None:
        self._subscription = subscription
        self._started = time.perf_counter()

    def __call__(self, task: asyncio.Task[None]) -> None:
        if task.cancelled():
            return  # a timed-out handler is charged the timeout by the bus
        self._subscription.timed_calls += 1
        self._subscription.timed_seconds += time.perf_counter() - self._started


async def _drain(
    remaining: Iterator[EventHandler], route: _Route, event: Event, failures: list[_Failure]
) -> None:
    for handler in remaining:
        try:
            await handler(event)
        except asyncio.CancelledError as error:
            _contain_cancellation(error)
            _fail(route.taken(remaining, handler), event, error, failures)
        except Exception as error:  # noqa: BLE001 - containing a handler's failure is the job
            _fail(route.taken(remaining, handler), event, error, failures)


async def _drain_timed(
    remaining: Iterator[_Subscription], route: _Route, event: Event, failures: list[_Failure]
) -> None:
    # _drain plus a clock read per handler; kept apart so that the untimed
    # emits pay nothing for it.
    clock = time.perf_counter
    started = clock()
    for subscription in remaining:
        subscription.timed_calls += 1
        try:
            await subscription.handler(event)
        except asyncio.CancelledError as error:
            _contain_cancellation(error)
            _fail(subscription, event, error, failures)
        except Exception as error:  # noqa: BLE001 - containing a handler's failure is the job
            _fail(subscription, event, error, failures)
        now = clock()
        subscription.timed_seconds += now - started
        started = now


_Drain = Callable[[Iterator[Any], _Route, Event, list[_Failure]], Coroutine[Any, Any, None]]


def _contain_cancellation(error: asyncio.CancelledError) -> None:
    # Cancelled from outside (the timeout, a cancelled emitter): let it unwind.
    # Raised by the handler itself (it awaited something that was cancelled):
    # that is the handler's failure, and must not cancel the emitter.
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise error


def _fail(
    subscription: _Subscription, event: Event, error: BaseException, failures: list[_Failure]
) -> None:
    subscription.errors += 1
    failures.append((subscription, event, error))
