"""EventBus: delivery, concurrency, containment, timeouts, wildcards and counters."""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Awaitable, Callable
from datetime import UTC
from typing import Any

import pytest
import structlog
from pydantic import ValidationError

from tether.core.events import (
    ENGINE_STARTED,
    MESSAGE_IN,
    TOOL_ALLOWED,
    TOOL_DENIED,
    TOOL_GATED,
    WILDCARD,
    Event,
    EventBus,
    HandlerStats,
)

# These tests time things: a collector pause would be charged to them (`no_collector_pauses`).
pytestmark = pytest.mark.usefixtures("no_collector_pauses")


def _stats_for(bus: EventBus, handler_name: str) -> HandlerStats:
    (stats,) = [s for s in bus.stats() if s.handler.endswith(handler_name)]
    return stats


class TestEvent:
    def test_is_frozen(self) -> None:
        event = Event(name=MESSAGE_IN, data={"user_id": 1})
        with pytest.raises(ValidationError):
            event.name = "other"  # type: ignore[misc]

    def test_timestamp_defaults_to_now_in_utc(self) -> None:
        event = Event(name=ENGINE_STARTED)
        assert event.timestamp.tzinfo is not None
        assert event.timestamp.utcoffset() == UTC.utcoffset(None)
        assert event.data == {}

    def test_each_event_gets_its_own_data_dict(self) -> None:
        first, second = Event(name="a"), Event(name="b")
        assert first.data is not second.data


class TestDelivery:
    async def test_emit_without_subscribers_returns(self) -> None:
        await EventBus().emit(Event(name=MESSAGE_IN))

    async def test_handler_receives_the_emitted_event(self) -> None:
        bus = EventBus()
        received: list[Event] = []

        async def handler(event: Event) -> None:
            received.append(event)

        bus.subscribe(MESSAGE_IN, handler)
        event = Event(name=MESSAGE_IN, data={"user_id": 7, "chat_id": 1, "text": "hi"})
        await bus.emit(event)
        assert received == [event]

    async def test_only_handlers_of_that_name_are_called(self) -> None:
        bus = EventBus()
        received: list[str] = []

        async def on_in(event: Event) -> None:
            received.append("in")

        async def on_denied(event: Event) -> None:
            received.append("denied")

        bus.subscribe(MESSAGE_IN, on_in)
        bus.subscribe(TOOL_DENIED, on_denied)
        await bus.emit(Event(name=TOOL_DENIED))
        assert received == ["denied"]

    async def test_handlers_start_in_subscription_order(self) -> None:
        bus = EventBus()
        order: list[int] = []
        for index in range(5):

            async def handler(event: Event, index: int = index) -> None:
                order.append(index)

            bus.subscribe(MESSAGE_IN, handler)
        await bus.emit(Event(name=MESSAGE_IN))
        assert order == [0, 1, 2, 3, 4]

    async def test_emit_returns_once_every_handler_has_finished(self) -> None:
        bus = EventBus()
        finished: list[str] = []

        async def slow(event: Event) -> None:
            await asyncio.sleep(0.05)
            finished.append("slow")

        async def yields_twice(event: Event) -> None:
            await asyncio.sleep(0)
            await asyncio.sleep(0.01)
            finished.append("yields")

        async def instant(event: Event) -> None:
            finished.append("instant")

        for handler in (slow, yields_twice, instant):
            bus.subscribe(MESSAGE_IN, handler)
        await bus.emit(Event(name=MESSAGE_IN))
        assert sorted(finished) == ["instant", "slow", "yields"]

    async def test_each_handler_runs_exactly_once_per_emit(self) -> None:
        bus = EventBus()
        calls = {"a": 0, "b": 0, "c": 0}

        async def a(event: Event) -> None:
            await asyncio.sleep(0)
            calls["a"] += 1

        async def b(event: Event) -> None:
            calls["b"] += 1

        async def c(event: Event) -> None:
            await asyncio.sleep(0.001)
            calls["c"] += 1

        for handler in (a, b, c):
            bus.subscribe(MESSAGE_IN, handler)
        for _ in range(3):
            await bus.emit(Event(name=MESSAGE_IN))
        assert calls == {"a": 3, "b": 3, "c": 3}

    async def test_handlers_run_concurrently(self) -> None:
        # Each handler waits for the other to have started: run one after the other, the
        # first would wait out its 5 s and never finish. No wall-clock bound to miss under load.
        bus = EventBus()
        started = {"one": asyncio.Event(), "two": asyncio.Event()}
        finished: list[str] = []

        def meeting(name: str, other: str) -> Callable[[Event], Awaitable[None]]:
            async def handler(event: Event) -> None:
                started[name].set()
                await asyncio.wait_for(started[other].wait(), 5)
                finished.append(name)

            return handler

        bus.subscribe(MESSAGE_IN, meeting("one", "two"))
        bus.subscribe(MESSAGE_IN, meeting("two", "one"))
        await bus.emit(Event(name=MESSAGE_IN))
        assert sorted(finished) == ["one", "two"]

    async def test_a_handler_may_emit_another_event(self) -> None:
        bus = EventBus()
        seen: list[str] = []

        async def relay(event: Event) -> None:
            await bus.emit(Event(name=TOOL_ALLOWED))
            seen.append(event.name)

        async def on_allowed(event: Event) -> None:
            await asyncio.sleep(0)
            seen.append(event.name)

        bus.subscribe(TOOL_GATED, relay)
        bus.subscribe(TOOL_ALLOWED, on_allowed)
        await bus.emit(Event(name=TOOL_GATED))
        assert seen == [TOOL_ALLOWED, TOOL_GATED]

    async def test_async_callable_objects_bound_methods_and_partials_are_handlers(self) -> None:
        bus = EventBus()
        received: list[str] = []

        class Counter:
            async def __call__(self, event: Event) -> None:
                received.append("callable")

            async def on_event(self, event: Event) -> None:
                received.append("method")

        async def tagged(tag: str, event: Event) -> None:
            received.append(tag)

        counter = Counter()
        bus.subscribe(MESSAGE_IN, counter)
        bus.subscribe(MESSAGE_IN, counter.on_event)
        bus.subscribe(MESSAGE_IN, functools.partial(tagged, "partial"))
        await bus.emit(Event(name=MESSAGE_IN))
        assert received == ["callable", "method", "partial"]


class TestWildcards:
    @pytest.mark.parametrize(
        ("pattern", "reached"),
        [
            pytest.param(
                WILDCARD,
                ["tool.gated", "tool.denied", "message.in", "toolbox.opened", "tool"],
                id="star-gets-everything",
            ),
            pytest.param("tool.*", ["tool.gated", "tool.denied"], id="prefix-gets-its-family"),
            pytest.param("tool.denied", ["tool.denied"], id="exact-name"),
            pytest.param("message.*", ["message.in"], id="other-family"),
        ],
    )
    async def test_pattern_reaches_matching_names(self, pattern: str, reached: list[str]) -> None:
        bus = EventBus()
        seen: list[str] = []

        async def handler(event: Event) -> None:
            seen.append(event.name)

        bus.subscribe(pattern, handler)
        for name in ("tool.gated", "tool.denied", "message.in", "toolbox.opened", "tool"):
            await bus.emit(Event(name=name))
        assert seen == reached

    async def test_exact_and_wildcard_subscribers_both_get_the_event(self) -> None:
        bus = EventBus()
        seen: list[str] = []

        async def exact(event: Event) -> None:
            seen.append("exact")

        async def family(event: Event) -> None:
            seen.append("family")

        async def everything(event: Event) -> None:
            seen.append("everything")

        bus.subscribe(TOOL_DENIED, exact)
        bus.subscribe("tool.*", family)
        bus.subscribe(WILDCARD, everything)
        await bus.emit(Event(name=TOOL_DENIED))
        assert seen == ["exact", "family", "everything"]

    async def test_handlers_for_lists_what_an_event_would_reach(self) -> None:
        bus = EventBus()

        async def family(event: Event) -> None:
            return None

        async def other(event: Event) -> None:
            return None

        bus.subscribe("tool.*", family)
        bus.subscribe(MESSAGE_IN, other)
        assert bus.handlers_for(TOOL_GATED) == (family,)
        assert bus.handlers_for("engine.started") == ()

    async def test_subscriptions_after_an_emit_are_routed(self) -> None:
        """The route cache built by the first emit is dropped when subscriptions change."""
        bus = EventBus()
        seen: list[str] = []

        async def late(event: Event) -> None:
            seen.append("late")

        await bus.emit(Event(name=TOOL_GATED))
        bus.subscribe("tool.*", late)
        await bus.emit(Event(name=TOOL_GATED))
        assert seen == ["late"]


class TestSubscribe:
    def test_a_plain_function_is_rejected_at_subscribe_time(self) -> None:
        def not_async(event: Event) -> None:
            return None

        with pytest.raises(TypeError, match=r"not_async is not an async callable"):
            EventBus().subscribe(MESSAGE_IN, not_async)  # type: ignore[arg-type]

    @pytest.mark.parametrize(
        "handler",
        [
            pytest.param(lambda event: None, id="lambda"),
            pytest.param(print, id="builtin"),
            pytest.param("handler", id="string"),
            pytest.param(None, id="none"),
        ],
    )
    def test_anything_not_an_async_callable_is_a_type_error(self, handler: Any) -> None:
        with pytest.raises(TypeError, match="async"):
            EventBus().subscribe(MESSAGE_IN, handler)

    def test_an_object_with_a_sync_call_is_rejected(self) -> None:
        class SyncCallable:
            def __call__(self, event: Event) -> None:
                return None

        with pytest.raises(TypeError, match="SyncCallable"):
            EventBus().subscribe(MESSAGE_IN, SyncCallable())  # type: ignore[arg-type]

    @pytest.mark.parametrize(
        "pattern",
        [pytest.param("", id="empty"), pytest.param(None, id="none"), pytest.param(3, id="int")],
    )
    def test_pattern_must_be_a_non_empty_string(self, pattern: Any) -> None:
        async def handler(event: Event) -> None:
            return None

        with pytest.raises(TypeError, match="pattern"):
            EventBus().subscribe(pattern, handler)

    @pytest.mark.parametrize(
        "timeout", [pytest.param(0, id="zero"), pytest.param(-1.0, id="negative")]
    )
    def test_handler_timeout_must_be_positive(self, timeout: float) -> None:
        with pytest.raises(ValueError, match="handler_timeout"):
            EventBus(handler_timeout=timeout)

    def test_default_handler_timeout_is_five_seconds(self) -> None:
        assert EventBus().handler_timeout == 5.0


class TestUnsubscribe:
    async def test_unsubscribed_handler_is_no_longer_called(self) -> None:
        bus = EventBus()
        calls: list[int] = []

        async def handler(event: Event) -> None:
            calls.append(1)

        bus.subscribe(MESSAGE_IN, handler)
        await bus.emit(Event(name=MESSAGE_IN))
        assert bus.unsubscribe(MESSAGE_IN, handler) is True
        await bus.emit(Event(name=MESSAGE_IN))
        assert calls == [1]

    def test_unsubscribing_what_was_never_subscribed_returns_false(self) -> None:
        async def handler(event: Event) -> None:
            return None

        bus = EventBus()
        assert bus.unsubscribe(MESSAGE_IN, handler) is False
        bus.subscribe("tool.*", handler)
        assert bus.unsubscribe(TOOL_DENIED, handler) is False

    async def test_unsubscribe_removes_one_of_two_identical_subscriptions(self) -> None:
        bus = EventBus()
        calls: list[int] = []

        async def handler(event: Event) -> None:
            calls.append(1)

        bus.subscribe(MESSAGE_IN, handler)
        bus.subscribe(MESSAGE_IN, handler)
        await bus.emit(Event(name=MESSAGE_IN))
        bus.unsubscribe(MESSAGE_IN, handler)
        await bus.emit(Event(name=MESSAGE_IN))
        assert len(calls) == 3

    async def test_a_bound_method_unsubscribes_with_a_fresh_reference(self) -> None:
        bus = EventBus()

        class Plugin:
            calls = 0

            async def on_event(self, event: Event) -> None:
                self.calls += 1

        plugin = Plugin()
        bus.subscribe(MESSAGE_IN, plugin.on_event)
        assert bus.unsubscribe(MESSAGE_IN, plugin.on_event) is True
        await bus.emit(Event(name=MESSAGE_IN))
        assert plugin.calls == 0

    async def test_a_handler_may_unsubscribe_itself_while_running(self) -> None:
        bus = EventBus()
        calls: list[str] = []

        async def once(event: Event) -> None:
            bus.unsubscribe(MESSAGE_IN, once)
            calls.append("once")

        async def after(event: Event) -> None:
            calls.append("after")

        bus.subscribe(MESSAGE_IN, once)
        bus.subscribe(MESSAGE_IN, after)
        await bus.emit(Event(name=MESSAGE_IN))
        await bus.emit(Event(name=MESSAGE_IN))
        assert calls == ["once", "after", "after"]

    async def test_an_emit_under_way_finishes_with_the_handlers_it_started_with(self) -> None:
        bus = EventBus()
        calls: list[str] = []

        async def remover(event: Event) -> None:
            await asyncio.sleep(0)
            bus.unsubscribe(MESSAGE_IN, remover)
            bus.unsubscribe(MESSAGE_IN, victim)
            calls.append("remover")

        async def victim(event: Event) -> None:
            await asyncio.sleep(0.01)
            calls.append("victim")

        bus.subscribe(MESSAGE_IN, remover)
        bus.subscribe(MESSAGE_IN, victim)
        await bus.emit(Event(name=MESSAGE_IN))
        await bus.emit(Event(name=MESSAGE_IN))
        assert sorted(calls) == ["remover", "victim"]

    async def test_a_handler_may_subscribe_another_for_the_next_emit(self) -> None:
        bus = EventBus()
        calls: list[str] = []

        async def newcomer(event: Event) -> None:
            calls.append("newcomer")

        async def recruiter(event: Event) -> None:
            if not calls:
                bus.subscribe(MESSAGE_IN, newcomer)
            calls.append("recruiter")

        bus.subscribe(MESSAGE_IN, recruiter)
        await bus.emit(Event(name=MESSAGE_IN))
        await bus.emit(Event(name=MESSAGE_IN))
        assert calls == ["recruiter", "recruiter", "newcomer"]


class TestContainment:
    @pytest.mark.parametrize(
        "suspends", [pytest.param(False, id="raises-at-once"), pytest.param(True, id="after-await")]
    )
    async def test_a_failing_handler_is_logged_by_name_and_contained(self, suspends: bool) -> None:
        bus = EventBus()
        calls: list[str] = []

        async def before(event: Event) -> None:
            calls.append("before")

        async def exploding_handler(event: Event) -> None:
            if suspends:
                await asyncio.sleep(0)
            raise RuntimeError("boom")

        async def after(event: Event) -> None:
            await asyncio.sleep(0)
            calls.append("after")

        for handler in (before, exploding_handler, after):
            bus.subscribe(TOOL_DENIED, handler)
        with structlog.testing.capture_logs() as logs:
            await bus.emit(Event(name=TOOL_DENIED))

        assert calls == ["before", "after"]
        (failure,) = [entry for entry in logs if entry["event"] == "event_handler_failed"]
        assert "exploding_handler" in failure["handler"]
        assert failure["event_name"] == TOOL_DENIED
        assert failure["log_level"] == "error"
        assert "boom" in failure["error"]
        assert _stats_for(bus, "exploding_handler").errors == 1
        assert _stats_for(bus, "after").errors == 0

    async def test_every_failing_handler_is_logged(self) -> None:
        bus = EventBus()

        async def first_bad(event: Event) -> None:
            raise ValueError("one")

        async def second_bad(event: Event) -> None:
            await asyncio.sleep(0)
            raise KeyError("two")

        bus.subscribe(MESSAGE_IN, first_bad)
        bus.subscribe(MESSAGE_IN, second_bad)
        with structlog.testing.capture_logs() as logs:
            await bus.emit(Event(name=MESSAGE_IN))
        names = sorted(e["handler"] for e in logs if e["event"] == "event_handler_failed")
        assert [name.rsplit(".", 1)[-1] for name in names] == ["first_bad", "second_bad"]

    @pytest.mark.parametrize(
        "suspends", [pytest.param(False, id="raises-at-once"), pytest.param(True, id="after-await")]
    )
    async def test_a_handler_raising_cancelled_error_does_not_cancel_the_emitter(
        self, suspends: bool
    ) -> None:
        """A handler that awaited something cancelled fails on its own; the emitter goes on."""
        bus = EventBus()
        calls: list[str] = []

        async def awaits_cancelled_work(event: Event) -> None:
            if suspends:
                await asyncio.sleep(0)
            raise asyncio.CancelledError

        async def sibling(event: Event) -> None:
            calls.append("sibling")

        bus.subscribe(MESSAGE_IN, awaits_cancelled_work)
        bus.subscribe(MESSAGE_IN, sibling)
        with structlog.testing.capture_logs() as logs:
            await bus.emit(Event(name=MESSAGE_IN))
        await asyncio.sleep(0)  # the emitter was not cancelled: it can still wait

        assert calls == ["sibling"]
        assert _stats_for(bus, "awaits_cancelled_work").errors == 1
        assert [e["event"] for e in logs] == ["event_handler_failed"]

    async def test_a_failing_handler_is_called_again_on_the_next_emit(self) -> None:
        bus = EventBus()

        async def flaky(event: Event) -> None:
            raise RuntimeError("again")

        bus.subscribe(MESSAGE_IN, flaky)
        with structlog.testing.capture_logs():
            for _ in range(3):
                await bus.emit(Event(name=MESSAGE_IN))
        stats = _stats_for(bus, "flaky")
        assert (stats.calls, stats.errors) == (3, 3)


class TestTimeout:
    async def test_a_handler_past_the_timeout_is_cancelled_and_logged(self) -> None:
        bus = EventBus(handler_timeout=0.1)
        outcome: list[str] = []

        async def stuck_handler(event: Event) -> None:
            try:
                await asyncio.sleep(10)
            except asyncio.CancelledError:
                outcome.append("cancelled")
                raise

        async def quick(event: Event) -> None:
            outcome.append("quick")

        async def within_time(event: Event) -> None:
            await asyncio.sleep(0.05)
            outcome.append("within")

        for handler in (stuck_handler, quick, within_time):
            bus.subscribe(TOOL_GATED, handler)
        with structlog.testing.capture_logs() as logs:
            await bus.emit(Event(name=TOOL_GATED))

        assert sorted(outcome) == ["cancelled", "quick", "within"]
        (timeout,) = [entry for entry in logs if entry["event"] == "event_handler_timeout"]
        assert "stuck_handler" in timeout["handler"]
        assert timeout["event_name"] == TOOL_GATED
        assert timeout["timeout_seconds"] == 0.1
        assert _stats_for(bus, "stuck_handler").timeouts == 1
        assert _stats_for(bus, "within_time").timeouts == 0
        assert _stats_for(bus, "quick").timeouts == 0

    async def test_the_emitter_is_not_kept_waiting_past_the_timeout(self) -> None:
        bus = EventBus(handler_timeout=0.1)

        async def sleeps_forever(event: Event) -> None:
            await asyncio.sleep(3600)

        bus.subscribe(TOOL_GATED, sleeps_forever)
        started = time.perf_counter()
        with structlog.testing.capture_logs():
            await bus.emit(Event(name=TOOL_GATED))
        assert time.perf_counter() - started < 0.1 + 0.05

    async def test_a_handler_that_ignores_cancellation_still_releases_the_emitter(self) -> None:
        bus = EventBus(handler_timeout=0.1)
        release = asyncio.Event()
        finished: list[str] = []

        async def stubborn(event: Event) -> None:
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                await release.wait()  # refuses to stop until told
                finished.append("stubborn")

        bus.subscribe(TOOL_GATED, stubborn)
        started = time.perf_counter()
        with structlog.testing.capture_logs() as logs:
            await bus.emit(Event(name=TOOL_GATED))
        waited = time.perf_counter() - started

        # The timeout, then a short grace for clean-up; never the handler's own pace.
        assert waited < 0.1 + 0.1 + 0.05
        assert [e["event"] for e in logs].count("event_handler_timeout") == 1
        release.set()
        for _ in range(5):
            await asyncio.sleep(0)
        assert finished == ["stubborn"]

    async def test_the_timeout_applies_to_each_emit_afresh(self) -> None:
        bus = EventBus(handler_timeout=0.15)
        finished: list[int] = []

        async def takes_a_while(event: Event) -> None:
            await asyncio.sleep(0.1)
            finished.append(1)

        bus.subscribe(MESSAGE_IN, takes_a_while)
        await bus.emit(Event(name=MESSAGE_IN))
        await bus.emit(Event(name=MESSAGE_IN))
        assert finished == [1, 1]
        assert _stats_for(bus, "takes_a_while").timeouts == 0

    async def test_a_cancelled_emitter_takes_its_handlers_with_it(self) -> None:
        bus = EventBus(handler_timeout=10)
        handler_cancelled = asyncio.Event()

        async def waits(event: Event) -> None:
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                handler_cancelled.set()
                raise

        bus.subscribe(MESSAGE_IN, waits)
        emitter = asyncio.create_task(bus.emit(Event(name=MESSAGE_IN)))
        await asyncio.sleep(0.01)
        emitter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await emitter
        await asyncio.wait_for(handler_cancelled.wait(), timeout=1)


class TestStats:
    async def test_counts_calls_errors_and_timeouts_per_subscription(self) -> None:
        bus = EventBus(handler_timeout=0.05)
        attempts = 0

        async def sometimes(event: Event) -> None:
            nonlocal attempts
            attempts += 1
            if attempts == 2:
                raise RuntimeError("second call fails")
            if attempts == 3:
                await asyncio.sleep(1)

        bus.subscribe(TOOL_DENIED, sometimes)
        with structlog.testing.capture_logs():
            for _ in range(4):
                await bus.emit(Event(name=TOOL_DENIED))

        stats = _stats_for(bus, "sometimes")
        assert stats.pattern == TOOL_DENIED
        assert (stats.calls, stats.errors, stats.timeouts) == (4, 1, 1)
        assert stats.total_seconds >= 0.05

    async def test_time_spent_includes_a_handler_that_waits(self) -> None:
        bus = EventBus()

        async def waits_a_little(event: Event) -> None:
            await asyncio.sleep(0.05)

        bus.subscribe(MESSAGE_IN, waits_a_little)
        await bus.emit(Event(name=MESSAGE_IN))
        stats = _stats_for(bus, "waits_a_little")
        assert stats.calls == 1
        assert 0.04 <= stats.total_seconds < 1

    async def test_time_spent_is_estimated_for_handlers_that_never_wait(self) -> None:
        bus = EventBus()

        async def busy(event: Event) -> None:
            deadline = time.perf_counter() + 0.001
            while time.perf_counter() < deadline:
                pass

        bus.subscribe(MESSAGE_IN, busy)
        for _ in range(32):
            await bus.emit(Event(name=MESSAGE_IN))
        stats = _stats_for(bus, "busy")
        assert stats.calls == 32
        # Each call spins for 1 ms, so about 32 ms in all, estimated from a sample.
        assert 0.02 <= stats.total_seconds < 1

    async def test_calls_are_kept_when_subscriptions_change(self) -> None:
        bus = EventBus()

        async def steady(event: Event) -> None:
            return None

        async def newcomer(event: Event) -> None:
            return None

        bus.subscribe("tool.*", steady)
        for _ in range(3):
            await bus.emit(Event(name=TOOL_GATED))
        await bus.emit(Event(name=TOOL_DENIED))
        bus.subscribe(TOOL_GATED, newcomer)
        for _ in range(2):
            await bus.emit(Event(name=TOOL_GATED))
        bus.unsubscribe(TOOL_GATED, newcomer)
        await bus.emit(Event(name=TOOL_GATED))

        assert [(s.handler.rsplit(".", 1)[-1], s.calls) for s in bus.stats()] == [("steady", 7)]

    async def test_every_subscription_is_listed_even_before_its_first_call(self) -> None:
        bus = EventBus()

        async def never_called(event: Event) -> None:
            return None

        bus.subscribe("approval.*", never_called)
        (stats,) = bus.stats()
        assert stats.handler.endswith("never_called")
        assert stats.pattern == "approval.*"
        assert (stats.calls, stats.errors, stats.timeouts, stats.total_seconds) == (0, 0, 0, 0.0)

    async def test_stats_are_frozen_snapshots(self) -> None:
        bus = EventBus()

        async def handler(event: Event) -> None:
            return None

        bus.subscribe(MESSAGE_IN, handler)
        (before,) = bus.stats()
        await bus.emit(Event(name=MESSAGE_IN))
        (after,) = bus.stats()
        assert (before.calls, after.calls) == (0, 1)
        with pytest.raises(ValidationError):
            after.calls = 5  # type: ignore[misc]


async def _quiet(event: Event) -> None:
    return None


@pytest.mark.parametrize(
    ("pattern", "name", "heard"),
    [
        pytest.param("tool.*", "tool.allowed", True, id="wildcard"),
        pytest.param("tool.denied", "tool.denied", True, id="exact"),
        pytest.param("tool.denied", "tool.allowed", False, id="other-name"),
        pytest.param("*", "safety.violation", True, id="everything"),
        pytest.param("message.*", "tool.gated", False, id="other-family"),
    ],
)
def test_listened_says_whether_an_emit_would_reach_a_handler(
    pattern: str, name: str, heard: bool
) -> None:
    bus = EventBus()
    assert bus.listened(name) is False
    bus.subscribe(pattern, _quiet)
    assert bus.listened(name) is heard
    bus.unsubscribe(pattern, _quiet)
    assert bus.listened(name) is False


async def test_the_generation_changes_with_every_change_of_the_subscriptions() -> None:
    """An emitter that reads `listened` once per generation sees every change: a
    subscription, an unsubscription, and an owner disabled for trying to exit."""
    bus = EventBus(handler_timeout=1.0)
    seen = {bus.generation}
    bus.subscribe("tool.*", _quiet)
    assert bus.generation not in seen
    seen.add(bus.generation)
    assert bus.unsubscribe("tool.*", _quiet) is True
    assert bus.generation not in seen
    seen.add(bus.generation)
    assert bus.unsubscribe("tool.*", _quiet) is False  # nothing changed
    assert bus.generation in seen

    async def exits(event: Event) -> None:
        raise SystemExit(3)

    bus.subscribe_for("plugin-x", "tool.denied", exits)
    seen.add(bus.generation)
    assert bus.listened("tool.denied") is True
    await bus.emit(Event(name="tool.denied", data={}))
    assert bus.generation not in seen
    assert bus.listened("tool.denied") is False
