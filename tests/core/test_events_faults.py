"""EventBus under hostile handlers: BaseExceptions, exits, runaway fan-out, stuck tasks."""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from collections.abc import Awaitable, Callable

import pytest
import structlog

from tether.core.events import (
    _MAX_LINGERING,
    MAX_NESTED_DEPTH,
    MAX_NESTED_HANDLER_CALLS,
    WILDCARD,
    Event,
    EventBus,
)

# These tests time things: a collector pause would be charged to them (`no_collector_pauses`).
pytestmark = pytest.mark.usefixtures("no_collector_pauses")


class HomeMadeExit(BaseException):
    """A plugin's own BaseException, outside the Exception tree."""


def _exit() -> None:
    sys.exit()


def _exit_3() -> None:
    sys.exit(3)


# How a handler tries to leave: each spelling raises something that is not an Exception.
_EXITS: list[object] = [
    pytest.param(lambda: KeyboardInterrupt(), id="KeyboardInterrupt"),
    pytest.param(lambda: SystemExit(0), id="SystemExit(0)"),
    pytest.param(lambda: SystemExit("x"), id="SystemExit('x')"),
    pytest.param(lambda: SystemExit(), id="SystemExit()"),
    pytest.param(lambda: HomeMadeExit("mine"), id="custom-BaseException"),
]

_SYS_EXITS: list[object] = [
    pytest.param(_exit, id="sys.exit()"),
    pytest.param(_exit_3, id="sys.exit(3)"),
]

Raiser = Callable[[], BaseException]


def _raiser(when: str, make: Raiser) -> Callable[[Event], Awaitable[None]]:
    """A handler raising `make()` at once, after an await, or after sync work."""

    async def at_once(event: Event) -> None:
        raise make()

    async def after_await(event: Event) -> None:
        await asyncio.sleep(0)
        raise make()

    async def after_sleep(event: Event) -> None:
        await asyncio.sleep(0.01)
        raise make()

    async def in_sync_part(event: Event) -> None:
        # Fails in a plain function it calls before its first await.
        _boom(make)

    return {
        "at-once": at_once,
        "after-await": after_await,
        "after-sleep": after_sleep,
        "sync-part": in_sync_part,
    }[when]


def _boom(make: Raiser) -> None:
    raise make()


_WHEN = ["at-once", "after-await", "after-sleep", "sync-part"]


class TestBaseExceptionsAreContained:
    @pytest.mark.parametrize("when", _WHEN)
    @pytest.mark.parametrize("make", _EXITS)
    async def test_an_exit_never_reaches_the_emitter_and_the_others_still_run(
        self, when: str, make: Raiser
    ) -> None:
        bus = EventBus(handler_timeout=2)
        heard: list[str] = []

        async def before(event: Event) -> None:
            heard.append("before")

        async def after(event: Event) -> None:
            await asyncio.sleep(0)
            heard.append("after")

        bus.subscribe("tool.gated", before)
        bus.subscribe_for("rogue", "tool.gated", _raiser(when, make))
        bus.subscribe("tool.gated", after)
        with structlog.testing.capture_logs() as logs:
            await bus.emit(Event(name="tool.gated"))
        assert heard == ["before", "after"]
        failed = [entry for entry in logs if entry["event"] == "event_handler_failed"]
        assert len(failed) == 1 and failed[0]["owner"] == "rogue"
        assert any(entry["event"] == "event_handler_disabled" for entry in logs)
        # The loop is still alive and serving.
        await asyncio.sleep(0)

    @pytest.mark.parametrize("make", _SYS_EXITS)
    @pytest.mark.parametrize("when", _WHEN)
    async def test_sys_exit_in_a_handler_is_not_obeyed(
        self, when: str, make: Callable[[], None]
    ) -> None:
        bus = EventBus(handler_timeout=2)

        async def handler(event: Event) -> None:
            if when != "at-once":
                await asyncio.sleep(0)
            make()

        bus.subscribe_for("rogue", "x", handler)
        await bus.emit(Event(name="x"))
        assert bus.disabled_reason("rogue") is not None

    @pytest.mark.parametrize("when", _WHEN)
    @pytest.mark.parametrize("pattern", [WILDCARD, "tool.*", "tool.gated"])
    async def test_an_exit_from_any_kind_of_subscription_is_contained(
        self, when: str, pattern: str
    ) -> None:
        bus = EventBus(handler_timeout=2)
        bus.subscribe_for("rogue", pattern, _raiser(when, lambda: SystemExit(0)))
        await bus.emit(Event(name="tool.gated"))
        assert bus.handlers_for("tool.gated") == ()

    @pytest.mark.parametrize("when", _WHEN)
    async def test_generator_exit_is_contained_and_counted_without_disabling(
        self, when: str
    ) -> None:
        bus = EventBus(handler_timeout=2)
        handler = _raiser(when, lambda: GeneratorExit())
        bus.subscribe_for("odd", "x", handler)
        await bus.emit(Event(name="x"))
        await bus.emit(Event(name="x"))
        assert bus.handlers_for("x") == (handler,)
        (stats,) = bus.stats()
        assert stats.errors == 2
        assert bus.disabled_reason("odd") is None

    async def test_an_exit_raised_while_being_cancelled_for_the_timeout_is_contained(
        self,
    ) -> None:
        bus = EventBus(handler_timeout=0.05)

        async def stubborn(event: Event) -> None:
            try:
                await asyncio.sleep(10)
            finally:
                raise SystemExit("on my way out")

        bus.subscribe_for("rogue", "x", stubborn)
        started = time.monotonic()
        await bus.emit(Event(name="x"))
        assert time.monotonic() - started < 1
        await asyncio.sleep(0)
        assert bus.disabled_reason("rogue") is not None

    async def test_the_emitters_own_cancellation_still_passes(self) -> None:
        bus = EventBus(handler_timeout=5)
        entered = asyncio.Event()

        async def slow(event: Event) -> None:
            entered.set()
            await asyncio.sleep(10)

        bus.subscribe("x", slow)
        emitting = asyncio.create_task(bus.emit(Event(name="x")))
        await entered.wait()
        emitting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await emitting


class TestDisabling:
    async def test_every_subscription_of_the_owner_goes_and_others_stay(self) -> None:
        bus = EventBus()
        heard: list[str] = []

        async def rogue(event: Event) -> None:
            raise KeyboardInterrupt

        async def rogue_other(event: Event) -> None:
            heard.append("rogue-other")

        async def honest(event: Event) -> None:
            heard.append(event.name)

        bus.subscribe_for("rogue", "a", rogue)
        bus.subscribe_for("rogue", "b", rogue_other)
        bus.subscribe_for("honest", WILDCARD, honest)
        with structlog.testing.capture_logs() as logs:
            await bus.emit(Event(name="a"))
        await bus.emit(Event(name="b"))
        assert heard == ["a", "b"]
        assert set(bus.disabled_owners()) == {"rogue"}
        (disabled,) = [entry for entry in logs if entry["event"] == "event_handler_disabled"]
        assert disabled["owner"] == "rogue"
        assert disabled["subscriptions_removed"] == 2
        assert "KeyboardInterrupt" in (bus.disabled_reason("rogue") or "")

    async def test_a_disabled_owner_cannot_subscribe_again(self) -> None:
        bus = EventBus()

        async def rogue(event: Event) -> None:
            raise SystemExit

        bus.subscribe_for("rogue", "a", rogue)
        await bus.emit(Event(name="a"))
        with pytest.raises(ValueError, match="'rogue' was disabled"):
            bus.subscribe_for("rogue", "a", rogue)

    async def test_a_handler_without_owner_loses_only_its_own_subscription(self) -> None:
        bus = EventBus()
        heard: list[str] = []

        async def rogue(event: Event) -> None:
            raise SystemExit(1)

        async def other(event: Event) -> None:
            heard.append(event.name)

        bus.subscribe("a", rogue)
        bus.subscribe("a", other)
        await bus.emit(Event(name="a"))
        await bus.emit(Event(name="a"))
        assert heard == ["a", "a"]
        assert bus.handlers_for("a") == (other,)
        assert bus.disabled_owners() == {}

    async def test_an_ordinary_exception_does_not_disable(self) -> None:
        bus = EventBus()

        async def flaky(event: Event) -> None:
            raise RuntimeError("oops")

        bus.subscribe_for("flaky", "a", flaky)
        await bus.emit(Event(name="a"))
        assert bus.handlers_for("a") == (flaky,)


class TestNestedEmits:
    async def test_fan_out_recursion_is_bounded_and_logged_once(self) -> None:
        bus = EventBus(handler_timeout=1)
        calls = 0

        async def fan_out(event: Event) -> None:
            nonlocal calls
            calls += 1
            await bus.emit(Event(name="x"))
            await bus.emit(Event(name="x"))

        bus.subscribe("x", fan_out)
        started = time.monotonic()
        with structlog.testing.capture_logs() as logs:
            await bus.emit(Event(name="x"))
        assert time.monotonic() - started < 1
        assert calls <= MAX_NESTED_HANDLER_CALLS + 1
        assert bus.dropped_events > 0
        dropped = [entry for entry in logs if entry["event"] == "event_dropped"]
        assert len(dropped) == 1 and dropped[0]["event_name"] == "x"

    @pytest.mark.parametrize("spelling", ["await", "after-sleep", "gather", "create_task"])
    async def test_fan_out_in_every_spelling_is_bounded(self, spelling: str) -> None:
        bus = EventBus(handler_timeout=2)
        calls = 0

        async def fan_out(event: Event) -> None:
            nonlocal calls
            calls += 1
            two = (Event(name="x"), Event(name="x"))
            if spelling == "await":
                for child in two:
                    await bus.emit(child)
            elif spelling == "after-sleep":
                await asyncio.sleep(0)
                for child in two:
                    await bus.emit(child)
            elif spelling == "gather":
                await asyncio.gather(*(bus.emit(child) for child in two))
            else:
                for child in two:
                    # Not awaited: the tasks inherit the handler's context.
                    tasks.add(asyncio.create_task(bus.emit(child)))

        tasks: set[asyncio.Task[None]] = set()
        bus.subscribe("x", fan_out)
        await bus.emit(Event(name="x"))
        while pending := [task for task in tasks if not task.done()]:
            await asyncio.wait(pending)
        assert calls <= MAX_NESTED_HANDLER_CALLS + 1
        assert bus.dropped_events > 0

    async def test_a_chain_stops_at_the_depth_bound(self) -> None:
        bus = EventBus()
        depths: list[int] = []

        async def chain(event: Event) -> None:
            depth = int(event.data["depth"])
            depths.append(depth)
            await bus.emit(Event(name="x", data={"depth": depth + 1}))

        bus.subscribe("x", chain)
        await bus.emit(Event(name="x", data={"depth": 1}))
        assert depths == list(range(1, MAX_NESTED_DEPTH + 1))
        assert bus.dropped_events == 1

    async def test_emits_made_outside_handlers_are_never_dropped(self) -> None:
        bus = EventBus()
        heard = 0

        async def fan_out(event: Event) -> None:
            nonlocal heard
            if event.name == "core":
                heard += 1
                return
            await bus.emit(Event(name="x"))
            await bus.emit(Event(name="x"))

        bus.subscribe("x", fan_out)
        bus.subscribe("core", fan_out)
        await bus.emit(Event(name="x"))  # a runaway first
        assert bus.dropped_events > 0
        for _ in range(MAX_NESTED_HANDLER_CALLS * 2):
            await bus.emit(Event(name="core"))
        assert heard == MAX_NESTED_HANDLER_CALLS * 2

    async def test_each_outermost_emit_has_its_own_budget(self) -> None:
        bus = EventBus()
        calls = 0

        async def fan_out(event: Event) -> None:
            nonlocal calls
            calls += 1
            await bus.emit(Event(name="x"))
            await bus.emit(Event(name="x"))

        bus.subscribe("x", fan_out)
        await bus.emit(Event(name="x"))
        first = calls
        await bus.emit(Event(name="x"))
        assert calls == 2 * first

    async def test_a_handler_emitting_a_little_is_untouched(self) -> None:
        bus = EventBus()
        heard: list[str] = []

        async def relay(event: Event) -> None:
            await bus.emit(Event(name="relayed"))

        async def sink(event: Event) -> None:
            heard.append(event.name)

        bus.subscribe("x", relay)
        bus.subscribe("relayed", sink)
        for _ in range(50):
            await bus.emit(Event(name="x"))
        assert heard == ["relayed"] * 50
        assert bus.dropped_events == 0


class TestClose:
    async def test_a_handler_swallowing_its_cancellation_is_abandoned_by_name(self) -> None:
        bus = EventBus(handler_timeout=0.05)
        cancels = 0

        async def stubborn(event: Event) -> None:
            nonlocal cancels
            while True:
                try:
                    await asyncio.sleep(10)
                except asyncio.CancelledError:
                    cancels += 1

        bus.subscribe_for("stuck", "x", stubborn)
        await bus.emit(Event(name="x"))  # times out; the handler lives on
        assert cancels >= 1
        started = time.monotonic()
        with structlog.testing.capture_logs() as logs:
            await bus.close(grace=0.1)
        assert time.monotonic() - started < 1
        (abandoned,) = [entry for entry in logs if entry["event"] == "event_handler_abandoned"]
        assert abandoned["handler"].endswith("stubborn")
        assert abandoned["owner"] == "stuck"
        others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        assert others == []

    async def test_a_handler_that_stops_when_cancelled_is_not_called_abandoned(self) -> None:
        bus = EventBus(handler_timeout=5)

        async def patient(event: Event) -> None:
            await asyncio.sleep(10)

        bus.subscribe("x", patient)
        emitting = asyncio.create_task(bus.emit(Event(name="x")))
        await asyncio.sleep(0.01)
        with structlog.testing.capture_logs() as logs:
            await bus.close(grace=0.5)
        assert not any(entry["event"] == "event_handler_abandoned" for entry in logs)
        await emitting

    async def test_handlers_ignoring_cancellation_cannot_pile_up(self) -> None:
        bus = EventBus(handler_timeout=0.01)

        async def stubborn(event: Event) -> None:
            while True:
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.sleep(3600)

        bus.subscribe_for("stuck", "x", stubborn)
        with structlog.testing.capture_logs() as logs:
            await asyncio.gather(*(bus.emit(Event(name="x")) for _ in range(_MAX_LINGERING + 6)))
            for _ in range(3):
                await asyncio.sleep(0)
        abandoned = [entry for entry in logs if entry["event"] == "event_handler_abandoned"]
        assert len(abandoned) == 6
        assert "one of over" in abandoned[0]["reason"]
        alive = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        assert len(alive) == _MAX_LINGERING
        await bus.close(grace=0.05)

    async def test_close_with_nothing_running_returns_at_once(self) -> None:
        await EventBus().close()


class _HostileTextError(Exception):
    """An exception whose every text raises an exit, and whose cause does too."""

    def __repr__(self) -> str:
        raise SystemExit(12)

    def __str__(self) -> str:
        raise KeyboardInterrupt


class _HostileExit(BaseException):
    def __repr__(self) -> str:
        raise SystemExit(13)

    def __str__(self) -> str:
        raise SystemExit(14)


def _hostile_cause() -> BaseException:
    error = ValueError("looks plain")
    error.__cause__ = _HostileTextError()
    return error


class TestHostileExceptionText:
    @pytest.mark.parametrize(
        "make",
        [
            pytest.param(_HostileTextError, id="exception-whose-text-exits"),
            pytest.param(_HostileExit, id="exit-whose-text-exits"),
            pytest.param(_hostile_cause, id="cause-whose-text-exits"),
            pytest.param(lambda: SystemExit(_HostileTextError()), id="exit-code-whose-text-exits"),
        ],
    )
    async def test_logging_a_handlers_failure_never_runs_its_way_out(self, make: Raiser) -> None:
        bus = EventBus(handler_timeout=1.0)
        ran: list[int] = []

        async def hostile(event: Event) -> None:
            raise make()

        async def other(event: Event) -> None:
            ran.append(1)

        bus.subscribe_for("rogue", "x", hostile)
        bus.subscribe("x", other)
        await bus.emit(Event(name="x"))
        await bus.emit(Event(name="x"))
        assert ran == [1, 1]
        # Logged and counted, or (an exit) its plugin disabled with a readable reason.
        counted = [s.errors for s in bus.stats() if s.handler.endswith("hostile")]
        reason = bus.disabled_reason("rogue")
        assert counted == [2] or (reason is not None and "hostile" in reason)


def _cancels_current_task(how: str) -> Callable[[Event], Awaitable[None]]:
    """A handler cancelling `asyncio.current_task()`, meaning its own, in several spellings."""

    async def handler(event: Event) -> None:
        task = asyncio.current_task()
        assert task is not None
        task.cancel()
        if how == "then-await":
            await asyncio.sleep(0)
        elif how == "then-raise":
            raise asyncio.CancelledError
        elif how == "twice":
            task.cancel()
            task.cancel()

    return handler


class TestAHandlerCancellingTheEmitter:
    @pytest.mark.parametrize("how", ["only", "then-await", "then-raise", "twice"])
    async def test_the_emitter_is_not_cancelled_and_the_others_run(self, how: str) -> None:
        bus = EventBus(handler_timeout=1.0)
        ran: list[int] = []

        async def other(event: Event) -> None:
            ran.append(1)

        bus.subscribe("x", _cancels_current_task(how))
        bus.subscribe("x", other)
        with structlog.testing.capture_logs() as logs:
            await bus.emit(Event(name="x"))
            await asyncio.sleep(0)  # the emitter's next await is not cancelled either
        assert ran == [1]
        task = asyncio.current_task()
        assert task is not None and task.cancelling() == 0
        assert any(e["event"] == "event_handler_cancelled_emitter" for e in logs)

    async def test_a_real_cancellation_of_the_emitter_still_passes(self) -> None:
        bus = EventBus(handler_timeout=5.0)
        started = asyncio.Event()

        async def slow(event: Event) -> None:
            asyncio.current_task().cancel()  # type: ignore[union-attr]
            started.set()
            await asyncio.sleep(10)

        bus.subscribe("x", slow)
        emitter = asyncio.create_task(bus.emit(Event(name="x")))
        await started.wait()
        emitter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await emitter
