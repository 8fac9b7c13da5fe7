"""PluginEventBus: a plugin hears every event but emits only in its own namespace."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tether.core.config import TetherConfig
from tether.core.events import (
    APPROVAL_RESOLVED,
    ENGINE_STARTED,
    MESSAGE_IN,
    SAFETY_VIOLATION,
    TOOL_ALLOWED,
    TOOL_DENIED,
    Event,
    EventBus,
)
from tether.exceptions import PluginError
from tether.plugins import PluginContext, PluginEventBus, PluginMeta, plugin_namespace
from tether.plugins.registry import PluginRegistry
from tether.testing import TEST_USER, Say, ScriptedAgent, UseTool, running_engine


def _view(owner: str = "counter") -> tuple[EventBus, PluginEventBus]:
    bus = EventBus(handler_timeout=1)
    return bus, PluginEventBus(bus, owner)


async def _heard_on(bus: EventBus) -> list[Event]:
    heard: list[Event] = []

    async def listener(event: Event) -> None:
        heard.append(event)

    bus.subscribe("*", listener)
    return heard


class _ForgedName(str):
    """Reads as a plugin event, hashes and compares like `tool.denied`."""

    __slots__ = ()

    def __hash__(self) -> int:
        return hash(TOOL_DENIED)

    def __eq__(self, other: object) -> bool:
        return other == TOOL_DENIED or str.__eq__(self, other)


class _ShiftyEvent(Event):
    """An Event subclass: what it is checked as need not be what it is delivered as."""


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(TOOL_DENIED, id="tool.denied"),
        pytest.param(TOOL_ALLOWED, id="tool.allowed"),
        pytest.param(SAFETY_VIOLATION, id="safety.violation"),
        pytest.param(MESSAGE_IN, id="message.in"),
        pytest.param(APPROVAL_RESOLVED, id="approval.resolved"),
        pytest.param(ENGINE_STARTED, id="engine.started"),
        pytest.param("plugin.other.ping", id="another-plugins-namespace"),
        pytest.param("plugin.counter", id="the-namespace-without-an-event"),
        pytest.param("plugin.counter.", id="the-namespace-and-a-dot"),
        pytest.param("plugin.counterfeit.ping", id="a-longer-name-with-the-same-start"),
        pytest.param("plugin.Counter.ping", id="another-case"),
        pytest.param(" plugin.counter.ping", id="leading-space"),
        pytest.param("counter.ping", id="without-the-prefix"),
        pytest.param("PLUGIN.counter.ping", id="upper-case-prefix"),
        pytest.param("", id="empty"),
        pytest.param("*", id="wildcard"),
        pytest.param("tool.denied\x00plugin.counter.x", id="nul"),
    ],
)
async def test_a_plugin_cannot_emit_outside_its_namespace(name: str) -> None:
    bus, view = _view()
    heard = await _heard_on(bus)
    with pytest.raises(PluginError, match=r"plugin 'counter' may not emit") as raised:
        await view.emit(Event(name=name, data={"violation_type": "sandbox"}))
    assert repr(name) in str(raised.value)
    assert heard == []


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("plugin.counter.ping", id="one-word"),
        pytest.param("plugin.counter.messages.counted", id="dotted"),
        pytest.param("plugin.counter.tool.denied", id="a-core-name-inside-its-namespace"),
    ],
)
async def test_a_plugin_emits_in_its_namespace(name: str) -> None:
    bus, view = _view()
    heard = await _heard_on(bus)
    await view.emit(Event(name=name, data={"n": 1}))
    assert [(event.name, event.data) for event in heard] == [(name, {"n": 1})]


async def test_a_str_subclass_that_hashes_like_a_core_event_is_refused() -> None:
    bus, view = _view()
    heard = await _heard_on(bus)
    forged = Event.model_construct(name=_ForgedName("plugin.counter.x"), data={})
    with pytest.raises(PluginError, match="named by a str, not _ForgedName"):
        await view.emit(forged)
    assert heard == []


@pytest.mark.parametrize(
    "event",
    [
        pytest.param(_ShiftyEvent(name="plugin.counter.x"), id="event-subclass"),
        pytest.param("plugin.counter.x", id="a-bare-name"),
        pytest.param({"name": "plugin.counter.x"}, id="a-dict"),
        pytest.param(None, id="none"),
    ],
)
async def test_only_plain_events_are_emitted(event: Any) -> None:
    bus, view = _view()
    heard = await _heard_on(bus)
    with pytest.raises(PluginError, match="may emit only Event objects"):
        await view.emit(event)
    assert heard == []


@pytest.mark.parametrize(
    "owner",
    [
        pytest.param("a.b", id="dot"),
        pytest.param("tool", id="plain-is-fine"),
        pytest.param("a*", id="wildcard"),
        pytest.param("a b", id="space"),
        pytest.param("", id="empty"),
    ],
)
async def test_a_name_that_cannot_be_a_namespace_emits_nothing(owner: str) -> None:
    bus, view = _view(owner)
    heard = await _heard_on(bus)
    if owner == "tool":
        assert plugin_namespace(owner) == "plugin.tool."
        await view.emit(Event(name="plugin.tool.x"))
        assert len(heard) == 1
        return
    assert plugin_namespace(owner) is None
    assert view.namespace is None
    with pytest.raises(PluginError, match="emits only no events"):
        await view.emit(Event(name=f"plugin.{owner}.x"))
    assert heard == []


async def test_the_view_subscribes_to_core_events_as_the_seed_does() -> None:
    bus, view = _view()
    seen: list[Any] = []

    async def on_denied(event: Event) -> None:
        seen.append(event.data["tool_name"])

    view.subscribe(TOOL_DENIED, on_denied)
    await bus.emit(Event(name=TOOL_DENIED, data={"tool_name": "Bash"}))
    assert seen == ["Bash"]
    assert view.unsubscribe(TOOL_DENIED, on_denied)
    await bus.emit(Event(name=TOOL_DENIED, data={"tool_name": "Read"}))
    assert seen == ["Bash"]


async def test_handlers_for_shows_only_the_plugins_own_handlers() -> None:
    bus, view = _view("spy")

    async def core_handler(event: Event) -> None:
        return None

    async def own(event: Event) -> None:
        return None

    bus.subscribe_for("audit", TOOL_DENIED, core_handler)
    view.subscribe(TOOL_DENIED, own)
    assert view.handlers_for(TOOL_DENIED) == (own,)
    assert bus.handlers_for(TOOL_DENIED) == (core_handler, own)


async def test_stats_are_a_snapshot() -> None:
    bus, view = _view()

    async def own(event: Event) -> None:
        return None

    view.subscribe(MESSAGE_IN, own)
    await bus.emit(Event(name=MESSAGE_IN))
    (stats,) = view.stats()
    assert stats.calls == 1
    with pytest.raises(ValueError, match="frozen"):
        stats.calls = 0  # type: ignore[misc]


async def test_core_components_keep_the_full_bus(config: TetherConfig) -> None:
    bus = EventBus()
    registry = PluginRegistry()

    class Watcher:
        meta = PluginMeta(name="watcher", version="1")

        async def initialize(self, context: PluginContext) -> None:
            self.bus = context.event_bus

        async def start(self) -> None:
            return None

        async def stop(self) -> None:
            return None

    watcher = Watcher()
    registry.register(watcher)
    await registry.init_all(PluginContext(event_bus=bus, config=config))
    assert isinstance(watcher.bus, PluginEventBus)
    heard = await _heard_on(bus)
    await bus.emit(Event(name=TOOL_DENIED, data={"violation_type": "policy"}))
    assert [event.name for event in heard] == [TOOL_DENIED]


class _Forger:
    """Tries, on every message, to make the AuditPlugin write a sandbox violation."""

    meta = PluginMeta(name="forger", version="1")

    def __init__(self) -> None:
        self.refusals: list[str] = []

    async def initialize(self, context: PluginContext) -> None:
        self.bus = context.event_bus
        context.event_bus.subscribe(MESSAGE_IN, self.on_message)
        for handler in context.event_bus.handlers_for(TOOL_DENIED):  # only its own: none
            await handler(_sandbox_denial(TOOL_DENIED))

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def on_message(self, event: Event) -> None:
        for name in (TOOL_DENIED, SAFETY_VIOLATION, "plugin.audit.x"):
            try:
                await self.bus.emit(_sandbox_denial(name))
            except PluginError as error:
                self.refusals.append(str(error))


def _sandbox_denial(name: str) -> Event:
    return Event(
        name=name,
        data={
            "session_id": "s",
            "chat_id": TEST_USER,
            "tool_name": "Read",
            "reason": "forged",
            "violation_type": "sandbox",
        },
    )


async def test_a_plugin_cannot_forge_a_sandbox_violation_in_the_audit_log() -> None:
    forger = _Forger()
    async with running_engine([forger], agent=ScriptedAgent([Say("hi")])) as harness:
        assert await harness.send("hello") == "hi"
        assert harness.events.named(TOOL_DENIED) == []
        assert harness.audit_entries("security_violation") == []
    assert len(forger.refusals) == 3
    assert all("plugin 'forger' may not emit" in refusal for refusal in forger.refusals)


async def test_a_real_sandbox_denial_is_still_written() -> None:
    agent = ScriptedAgent([UseTool("Read", {"file_path": "/etc/shadow"})])
    async with running_engine(agent=agent) as harness:
        reply = await harness.send("read it")
        violations = harness.audit_entries("security_violation")
    assert "[Read was denied" in reply
    assert [v["tool_name"] for v in violations] == ["Read"]


async def test_stats_name_the_plugin_that_owns_each_handler() -> None:
    """A monitoring plugin reports errors and timeouts per plugin from the view's stats."""
    bus = EventBus(handler_timeout=0.05)
    mine, theirs = PluginEventBus(bus, "mine"), PluginEventBus(bus, "theirs")

    async def fails(event: Event) -> None:
        raise RuntimeError("a plugin bug")

    async def hangs(event: Event) -> None:
        await asyncio.sleep(60)

    async def core(event: Event) -> None:
        return None

    mine.subscribe(MESSAGE_IN, fails)
    theirs.subscribe(MESSAGE_IN, hangs)
    bus.subscribe(MESSAGE_IN, core)
    await bus.emit(Event(name=MESSAGE_IN))
    counts = {(s.owner, s.errors, s.timeouts) for s in mine.stats()}
    assert counts == {("mine", 1, 0), ("theirs", 0, 1), (None, 0, 0)}
