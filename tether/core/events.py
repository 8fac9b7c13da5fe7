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

Handlers are untrusted (plugins): whatever one raises, `SystemExit`,
`KeyboardInterrupt` and other `BaseException`s included, is contained. One
that tries to end the process (anything that is not an `Exception`, a
cancellation or `GeneratorExit`) is disabled: every subscription of its owner
(the plugin that subscribed it) is removed. Only the cancellation of the
emitter itself passes through.

Emits made from inside a handler (told apart with a context variable, which the
tasks a handler starts inherit) are bounded: past `MAX_NESTED_DEPTH` emits deep,
or `MAX_NESTED_HANDLER_CALLS` handler calls under one emit made outside any
handler, they are logged and dropped, so a handler that emits two events per
event it handles cannot grow without end. Emits made outside handlers (core
components) are never dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import inspect
import time
import weakref
from collections.abc import Awaitable, Callable, Coroutine, Generator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from operator import length_hint
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from tether.core.plugin_tasks import register_plugin_code_check
from tether.core.safe_text import safe_repr
from tether.log import get_logger

__all__ = [
    "APPROVAL_REQUESTED",
    "APPROVAL_RESOLVED",
    "ENGINE_STARTED",
    "ENGINE_STOPPED",
    "MAX_NESTED_DEPTH",
    "MAX_NESTED_HANDLER_CALLS",
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

logger = get_logger(__name__)

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

MAX_NESTED_DEPTH = 8
"""Emits nested deeper than this inside handlers are dropped (the outermost is depth 1)."""

MAX_NESTED_HANDLER_CALLS = 1000
"""Handler calls that the emits made inside handlers may cause, per outermost emit."""

# Handlers that ignored their cancellation at the timeout are left to finish on
# their own, but no more than this many at once: past it the oldest is
# abandoned, so that a handler ignoring every cancellation cannot pile up tasks.
_MAX_LINGERING = 64

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
    owner: str | None = None
    """The plugin that subscribed it (None: a core component)."""
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
    owner: str | None = None
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
            owner=self.owner,
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


class _Scope:
    """Where an emit made inside handlers stands: how deep, and its origin's budget."""

    __slots__ = ("budget", "depth")

    def __init__(self, depth: int, budget: _Budget) -> None:
        self.depth = depth
        self.budget = budget


class _Budget:
    __slots__ = ("calls", "dropped")

    def __init__(self) -> None:
        self.calls = 0
        self.dropped = 0


# Set while handlers run, and inherited by the tasks they start: None outside
# any handler; the outermost emit's own Event for its handlers (depth 1, no
# object to make on the hot path); a _Scope below that.
_scope: contextvars.ContextVar[Event | _Scope | None] = contextvars.ContextVar(
    "tether_event_scope", default=None
)


def _inside_handler() -> bool:
    return _scope.get() is not None


# Tasks a handler starts are plugin code too: their exits are contained.
register_plugin_code_check(_inside_handler)


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

    __slots__ = ("_abandoned", "_coro", "_first", "_on_finish")

    def __init__(
        self, coro: Coroutine[Any, Any, Any], first: Any, on_finish: Callable[[], None]
    ) -> None:
        self._coro = coro
        self._first = first
        self._on_finish = on_finish
        self._abandoned = False

    def abandon(self) -> None:
        """Stop relaying: the next time the task wakes, the coroutine is closed and left."""
        self._abandoned = True

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
                if self._abandoned:
                    self._close()
                    return
                try:
                    pending = self._coro.throw(exc)
                except StopIteration:
                    return
                continue
            if self._abandoned:
                self._close()
                return
            try:
                pending = self._coro.send(sent)
            except StopIteration:
                return

    def _close(self) -> None:
        # A handler that ignores the close too is left to the garbage collector.
        # Whatever it raises while closed is dropped with it.
        with contextlib.suppress(BaseException):
            self._coro.close()


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
        self.generation = 0
        """Changes whenever the subscriptions do: an emitter on a hot path reads which of
        its events are heard (`listened`) once per generation, not on every call."""
        # Handler failures wait here until every handler of the emit has run:
        # logging one formats a traceback (~80 µs), which the handlers after it
        # must not pay for.
        self._failures: list[_Failure] = []
        # Every handler task still running, with what it handles: shutdown
        # cancels these, then abandons the ones that ignore it.
        self._live: dict[asyncio.Task[None], tuple[_Subscription, Event, _Resume]] = {}
        # The live tasks that ignored their cancellation at the timeout, oldest first.
        self._lingering: dict[asyncio.Task[None], None] = {}
        # owner -> why it was disabled
        self._disabled: dict[str, str] = {}
        self._dropped = 0
        # id(outermost event) -> the work its handlers' emits have used.
        self._budgets: dict[int, _Budget] = {}

    @property
    def handler_timeout(self) -> float:
        return self._timeout

    @property
    def dropped_events(self) -> int:
        """Events emitted from inside handlers and dropped past the nesting bounds."""
        return self._dropped

    def disabled_owners(self) -> dict[str, str]:
        """Owners disabled for trying to end the process, each with the reason."""
        return dict(self._disabled)

    def disabled_reason(self, owner: str) -> str | None:
        """Why `owner` was disabled, or None when it was not."""
        return self._disabled.get(owner)

    def subscribe(self, pattern: str, handler: EventHandler) -> None:
        """Call `handler` for every event whose name matches `pattern`.

        Raises:
            TypeError: `handler` is not an async callable, or `pattern` is not a string.
        """
        self._add(pattern, handler, None)

    def subscribe_for(self, owner: str, pattern: str, handler: EventHandler) -> None:
        """`subscribe`, on behalf of `owner` (a plugin).

        A handler that tries to end the process disables every subscription of
        its owner, and the owner cannot subscribe again.

        Raises:
            TypeError: `handler` is not an async callable, or `pattern` is not a string.
            ValueError: `owner` was disabled.
        """
        self._add(pattern, handler, owner)

    def _add(self, pattern: str, handler: EventHandler, owner: str | None) -> None:
        if owner is not None and owner in self._disabled:
            raise ValueError(
                f"{owner!r} was disabled ({self._disabled[owner]}); it cannot subscribe"
            )
        if not isinstance(pattern, str) or not pattern:
            raise TypeError(f"event pattern must be a non-empty string, got {pattern!r}")
        if not _is_async_callable(handler):
            raise TypeError(
                f"{_handler_name(handler)} is not an async callable; "
                "event handlers must be 'async def handler(event) -> None'"
            )
        self._subscriptions.append(_Subscription(pattern, handler, _handler_name(handler), owner))
        self._drop_routes()

    def unsubscribe(self, pattern: str, handler: EventHandler) -> bool:
        """Remove one subscription of `handler` to `pattern`; False when there was none.

        Safe from inside a handler: an emit already under way still finishes with
        the handlers it started with.
        """
        return self._remove(pattern, handler, None)

    def unsubscribe_for(self, owner: str, pattern: str, handler: EventHandler) -> bool:
        """`unsubscribe` one of `owner`'s subscriptions only; False when there was none."""
        return self._remove(pattern, handler, owner)

    def _remove(self, pattern: str, handler: EventHandler, owner: str | None) -> bool:
        for index, subscription in enumerate(self._subscriptions):
            if (
                subscription.pattern == pattern
                and subscription.handler == handler
                and (owner is None or subscription.owner == owner)
            ):
                del self._subscriptions[index]
                self._drop_routes()
                return True
        return False

    def handlers_for(self, name: str, *, owner: str | None = None) -> tuple[EventHandler, ...]:
        """The handlers an event called `name` would reach, in subscription order.

        With `owner`, only the handlers that owner subscribed (what a plugin's
        view shows it: another plugin's handler is not its to call).
        """
        route = self._route(name)
        if owner is None:
            return route.handlers
        return tuple(sub.handler for sub in route.subscriptions if sub.owner == owner)

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
        self.generation += 1
        for route in self._routes.values():
            for subscription in route.subscriptions:
                subscription.calls += route.emits
        self._routes.clear()

    def _log_failures(self) -> None:
        failures = list(self._failures)
        self._failures.clear()
        for subscription, event, error in failures:
            fields = {
                "handler": subscription.name,
                "owner": subscription.owner,
                "event_name": event.name,
                "error": safe_repr(error),
            }
            try:
                logger.error("event_handler_failed", **fields, exc_info=error)
            except BaseException:  # noqa: BLE001 - its traceback's text is plugin code too
                logger.error("event_handler_failed", **fields, traceback="could not be formatted")
            if _tries_to_exit(error):
                self._disable(subscription, event, error)

    def _disable(self, subscription: _Subscription, event: Event, error: BaseException) -> None:
        reason = f"handler {subscription.name} raised {safe_repr(error)} on {event.name}"
        owner = subscription.owner
        if owner is None:
            # Nobody to disable: the handler itself stops receiving events.
            removed = [subscription] if subscription in self._subscriptions else []
        else:
            self._disabled.setdefault(owner, reason)
            removed = [sub for sub in self._subscriptions if sub.owner == owner]
        if not removed:
            return
        self._drop_routes()
        self._subscriptions = [sub for sub in self._subscriptions if sub not in removed]
        logger.error(
            "event_handler_disabled",
            owner=owner,
            handler=subscription.name,
            event_name=event.name,
            error=safe_repr(error),
            subscriptions_removed=len(removed),
        )

    def _admit(self, scope: Event | _Scope, event: Event, handlers: int) -> _Scope | None:
        """The scope for the handlers of an emit made inside a handler, or None to drop it."""
        if isinstance(scope, _Scope):
            budget, depth = scope.budget, scope.depth + 1
        else:
            # Inside the handlers of an outermost emit (`scope` is its event):
            # every emit below it shares one budget, kept while the event lives.
            budget, depth = self._budget_of(scope), 2
        if depth > MAX_NESTED_DEPTH:
            why = f"nested {depth} emits deep (limit {MAX_NESTED_DEPTH})"
        elif budget.calls + handlers > MAX_NESTED_HANDLER_CALLS:
            why = f"over {MAX_NESTED_HANDLER_CALLS} nested handler calls for one outermost emit"
        else:
            budget.calls += handlers
            return _Scope(depth, budget)
        self._dropped += 1
        budget.dropped += 1
        if budget.dropped == 1:
            # One line per outermost emit: a runaway handler would flood the log.
            logger.warning("event_dropped", event_name=event.name, reason=why)
        return None

    def _budget_of(self, origin: Event) -> _Budget:
        key = id(origin)
        budget = self._budgets.get(key)
        if budget is None:
            budget = self._budgets[key] = _Budget()
            # Dropped when the event is: its id cannot be reused before then.
            weakref.finalize(origin, self._budgets.pop, key, None)
        return budget

    async def close(self, grace: float = 1.0) -> None:
        """Cancel every handler still running; abandon those still running after `grace` s.

        Called at shutdown so that a handler that swallows its cancellation
        cannot keep the process alive. Never raises.
        """
        live = dict(self._live)
        if not live:
            return
        for task in live:
            task.cancel()
        _, pending = await asyncio.wait(live, timeout=grace)
        for task in pending:
            self._abandon(task, why="still running at shutdown")
        if pending:
            await asyncio.wait(pending, timeout=grace)

    def _abandon(self, task: asyncio.Task[None], *, why: str) -> None:
        entry = self._live.get(task)
        if entry is None:
            return
        subscription, event, resume = entry
        logger.error(
            "event_handler_abandoned",
            handler=subscription.name,
            owner=subscription.owner,
            event_name=event.name,
            reason=f"it ignored its cancellation and was {why}",
        )
        resume.abandon()
        task.cancel()  # wakes it, and the relay closes the handler's coroutine

    def listened(self, name: str) -> bool:
        """Whether an emit of `name` would reach any handler now.

        An emitter on a hot path asks first and builds the event only when it
        would be delivered: an emit that reaches no handler does nothing.
        """
        route = self._routes.get(name)
        if route is None:
            route = self._route(name)
        return bool(route.handlers)

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
        inner: Event | _Scope = event
        scope = _scope.get()
        if scope is not None:
            admitted = self._admit(scope, event, len(route.handlers))
            if admitted is None:
                return
            inner = admitted
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
        suspended: list[tuple[_Subscription, asyncio.Task[None]]] | None = None
        # A handler stepped here that cancels `asyncio.current_task()` means its
        # own; it gets the emitter's, which is not its to cancel (see below).
        # (With the loop given, current_task skips a lookup: a quarter of its cost.)
        emitter = asyncio.current_task(asyncio.get_running_loop())
        cancels = emitter.cancelling() if emitter is not None else 0
        # Handlers stepped here, and the tasks made for them, see `inner`.
        token = _scope.set(inner)
        try:
            while True:
                driver = drain(remaining, route, event, failures)
                try:
                    waiting_on = driver.send(None)
                except StopIteration:
                    break
                except asyncio.CancelledError as error:
                    # Nothing outside can cancel the emitter while a handler is
                    # stepped in place: the handler cancelled it, then raised.
                    position = len(route.handlers) - length_hint(remaining) - 1
                    _fail(route.subscriptions[position], event, error, failures)
                    continue
                # The handler just taken suspended: it will finish in a task of its
                # own while a fresh driver takes the handlers after it.
                subscription = route.subscriptions[len(route.handlers) - length_hint(remaining) - 1]
                if waiting is None:
                    waiting = []
                waiting.append((subscription, driver, waiting_on))
            if waiting:
                timed = drain is _drain_timed
                # Tasks are made once every handler has had its first step, so that a
                # handler that waits costs the ones after it nothing.
                suspended = [
                    (
                        subscription,
                        self._resume(subscription, event, driver, waiting_on, timed=timed),
                    )
                    for subscription, driver, waiting_on in waiting
                ]
        finally:
            _scope.reset(token)
        if failures:
            self._log_failures()
        if emitter is not None and emitter.cancelling() > cancels:
            await _refuse_cancellation(emitter, cancels, event)
        if suspended:
            await self._finish_suspended(event, suspended)

    def _resume(
        self,
        subscription: _Subscription,
        event: Event,
        driver: Coroutine[Any, Any, None],
        waiting_on: Any,
        *,
        timed: bool,
    ) -> asyncio.Task[None]:
        resume = _Resume(driver, waiting_on, self._log_failures)
        task = asyncio.ensure_future(resume)
        self._live[task] = (subscription, event, resume)
        task.add_done_callback(self._forget)
        if not timed:
            # Unsampled emits still time the handlers that wait: those are the slow ones.
            task.add_done_callback(_Stopwatch(subscription))
        return task

    def _forget(self, task: asyncio.Task[None]) -> None:
        self._live.pop(task, None)
        self._lingering.pop(task, None)

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
                # It ignores its cancellation: left to finish on its own, until
                # too many do or `close` abandons it.
                self._lingering[task] = None
                if len(self._lingering) > _MAX_LINGERING:
                    oldest = next(iter(self._lingering))
                    del self._lingering[oldest]
                    self._abandon(oldest, why=f"one of over {_MAX_LINGERING} such handlers")


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
        except BaseException as error:  # noqa: BLE001 - containing whatever a handler raises is the job
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
        except BaseException as error:  # noqa: BLE001 - containing whatever a handler raises is the job
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


async def _refuse_cancellation(emitter: asyncio.Task[Any], cancels: int, event: Event) -> None:
    # Nothing outside could cancel the emitter while its handlers were stepped
    # (no await came between): a handler did. Withdraw the request, and take
    # the CancelledError it has queued for the emitter's next await here. A
    # cancellation arriving from outside meanwhile raises the count again, and
    # passes.
    while emitter.cancelling() > cancels:
        emitter.uncancel()
    logger.error(
        "event_handler_cancelled_emitter",
        event_name=event.name,
        reason="a handler cancelled the task that emitted the event; not obeyed",
    )
    try:
        await asyncio.sleep(0)
    except asyncio.CancelledError:
        if emitter.cancelling() > cancels:
            raise


def _tries_to_exit(error: BaseException) -> bool:
    # SystemExit, KeyboardInterrupt and home-made BaseExceptions: a handler
    # raising one means to stop the process. GeneratorExit is how a coroutine is
    # closed (an abandoned handler sees it), not a request.
    return not isinstance(error, Exception | asyncio.CancelledError | GeneratorExit)


def _fail(
    subscription: _Subscription, event: Event, error: BaseException, failures: list[_Failure]
) -> None:
    subscription.errors += 1
    failures.append((subscription, event, error))
