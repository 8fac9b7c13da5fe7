"""The plugin contract: PluginMeta, PluginContext and the TetherPlugin protocol."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from tether.core.config import TetherConfig
from tether.core.events import MESSAGE_IN, Event, EventBus
from tether.plugins.base import PluginContext, PluginMeta, TetherPlugin
from tether.plugins.registry import PluginRegistry, PluginState


class TestPluginMeta:
    def test_fields_and_default_description(self) -> None:
        meta = PluginMeta(name="metrics", version="1.0.0")
        assert (meta.name, meta.version, meta.description) == ("metrics", "1.0.0", "")

    def test_is_frozen(self) -> None:
        meta = PluginMeta(name="metrics", version="1.0.0", description="counts")
        with pytest.raises(ValidationError):
            meta.name = "other"  # type: ignore[misc]

    @pytest.mark.parametrize(
        "fields",
        [
            pytest.param({"version": "1.0"}, id="no-name"),
            pytest.param({"name": "metrics"}, id="no-version"),
        ],
    )
    def test_name_and_version_are_required(self, fields: dict[str, str]) -> None:
        with pytest.raises(ValidationError):
            PluginMeta(**fields)

    def test_equal_when_fields_are_equal(self) -> None:
        assert PluginMeta(name="a", version="1") == PluginMeta(name="a", version="1")


class TestPluginContext:
    def test_holds_the_event_bus_and_the_config(self, config: TetherConfig) -> None:
        bus = EventBus()
        context = PluginContext(event_bus=bus, config=config)
        assert context.event_bus is bus
        assert context.config is config

    def test_is_frozen(self, config: TetherConfig) -> None:
        context = PluginContext(event_bus=EventBus(), config=config)
        with pytest.raises(ValidationError):
            context.event_bus = EventBus()  # type: ignore[misc]

    def test_rejects_something_that_is_not_an_event_bus(self, config: TetherConfig) -> None:
        with pytest.raises(ValidationError, match="event_bus"):
            PluginContext(event_bus="bus", config=config)


class PlainPlugin:
    """A plugin by shape alone: it never names TetherPlugin."""

    meta = PluginMeta(name="plain", version="0.1.0", description="structural")

    def __init__(self) -> None:
        self.calls: list[str] = []

    async def initialize(self, context: PluginContext) -> None:
        self.calls.append("initialize")

    async def start(self) -> None:
        self.calls.append("start")

    async def stop(self) -> None:
        self.calls.append("stop")


class OnlyInitialize(TetherPlugin):
    """A plugin that names TetherPlugin as its base and overrides only initialize."""

    meta = PluginMeta(name="only-initialize", version="0.2.0")

    def __init__(self) -> None:
        self.seen: list[Event] = []

    async def initialize(self, context: PluginContext) -> None:
        context.event_bus.subscribe(MESSAGE_IN, self.on_message)

    async def on_message(self, event: Event) -> None:
        self.seen.append(event)


class TestTetherPlugin:
    def test_a_plain_class_with_the_members_is_a_plugin(self) -> None:
        assert isinstance(PlainPlugin(), TetherPlugin)

    def test_a_subclass_overriding_only_initialize_is_a_plugin(self) -> None:
        assert isinstance(OnlyInitialize(), TetherPlugin)

    def test_something_without_the_members_is_not_a_plugin(self) -> None:
        assert not isinstance(object(), TetherPlugin)

    async def test_a_subclass_inherits_no_op_start_and_stop(self) -> None:
        assert OnlyInitialize.start is TetherPlugin.start
        assert OnlyInitialize.stop is TetherPlugin.stop
        plugin = OnlyInitialize()
        await plugin.start()
        await plugin.stop()
        assert plugin.seen == []

    @pytest.mark.parametrize(
        "plugin_type",
        [pytest.param(PlainPlugin, id="plain"), pytest.param(OnlyInitialize, id="subclass")],
    )
    async def test_both_forms_run_through_the_whole_lifecycle(
        self, config: TetherConfig, plugin_type: type[PlainPlugin] | type[OnlyInitialize]
    ) -> None:
        plugin = plugin_type()
        registry = PluginRegistry()
        registry.register(plugin)
        await registry.init_all(PluginContext(event_bus=EventBus(), config=config))
        await registry.start_all()
        assert registry.state(plugin.meta.name) is PluginState.STARTED
        await registry.stop_all()
        assert registry.state(plugin.meta.name) is PluginState.STOPPED

    async def test_the_subclass_receives_the_events_it_subscribed_to(
        self, config: TetherConfig
    ) -> None:
        plugin = OnlyInitialize()
        bus = EventBus()
        await plugin.initialize(PluginContext(event_bus=bus, config=config))
        await bus.emit(Event(name=MESSAGE_IN, data={"user_id": 1}))
        assert [event.data for event in plugin.seen] == [{"user_id": 1}]
