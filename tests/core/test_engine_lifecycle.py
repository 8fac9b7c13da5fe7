"""Engine lifecycle: startup and shutdown order, idempotence, failures, `async with`."""

from __future__ import annotations

import pytest
import structlog

from tether.app import build_engine
from tether.core.config import TetherConfig
from tether.core.events import ENGINE_STARTED, ENGINE_STOPPED, Event
from tether.exceptions import PluginError
from tether.plugins.base import PluginContext, PluginMeta
from tether.plugins.bus import PluginEventBus
from tether.plugins.registry import PluginState


class Recorder:
    """A plugin that journals its lifecycle and the engine's events it hears."""

    def __init__(self, name: str, journal: list[str], *, fail_in: str | None = None) -> None:
        self.meta = PluginMeta(name=name, version="1.0")
        self.journal = journal
        self.fail_in = fail_in
        self.context: PluginContext | None = None

    def _record(self, entry: str) -> None:
        self.journal.append(f"{entry}:{self.meta.name}")
        if self.fail_in == entry:
            raise RuntimeError(f"{self.meta.name} fails in {entry}")

    async def initialize(self, context: PluginContext) -> None:
        self.context = context
        context.event_bus.subscribe("engine.*", self.on_engine_event)
        self._record("initialize")

    async def start(self) -> None:
        self._record("start")

    async def stop(self) -> None:
        self._record("stop")

    async def on_engine_event(self, event: Event) -> None:
        self.journal.append(f"{event.name}:{self.meta.name}")


@pytest.fixture
def journal() -> list[str]:
    return []


async def test_startup_initializes_all_then_starts_all_then_emits_engine_started(
    config: TetherConfig, journal: list[str]
) -> None:
    engine = build_engine(config, plugins=[Recorder("a", journal), Recorder("b", journal)])
    await engine.startup()
    try:
        assert journal == [
            "initialize:a",
            "initialize:b",
            "start:a",
            "start:b",
            f"{ENGINE_STARTED}:a",
            f"{ENGINE_STARTED}:b",
        ]
        assert all(info.state is PluginState.STARTED for info in engine.plugins.describe())
    finally:
        await engine.shutdown()


async def test_shutdown_emits_engine_stopped_then_stops_plugins_last_registered_first(
    config: TetherConfig, journal: list[str]
) -> None:
    engine = build_engine(config, plugins=[Recorder(name, journal) for name in ("a", "b", "c")])
    await engine.startup()
    journal.clear()
    await engine.shutdown()

    assert journal == [
        f"{ENGINE_STOPPED}:a",
        f"{ENGINE_STOPPED}:b",
        f"{ENGINE_STOPPED}:c",
        "stop:c",
        "stop:b",
        "stop:a",
    ]
    # The built-in audit plugin was registered first, so it is stopped last.
    assert engine.plugins.state("audit") is PluginState.STOPPED


async def test_plugins_receive_the_engines_event_bus_and_config(
    config: TetherConfig, journal: list[str]
) -> None:
    plugin = Recorder("a", journal)
    async with build_engine(config, plugins=[plugin]) as engine:
        assert plugin.context is not None
        # Its own view of the engine's bus: what it subscribes reaches the bus.
        view = plugin.context.event_bus
        assert isinstance(view, PluginEventBus) and view.owner == "a"

        async def handler(event: Event) -> None:
            return None

        view.subscribe("custom.event", handler)
        assert engine.event_bus.handlers_for("custom.event") == (handler,)
        assert plugin.context.config is engine.config is config


async def test_startup_twice_starts_once(config: TetherConfig, journal: list[str]) -> None:
    engine = build_engine(config, plugins=[Recorder("a", journal)])
    await engine.startup()
    await engine.startup()
    await engine.shutdown()
    assert journal.count("start:a") == 1
    assert journal.count(f"{ENGINE_STARTED}:a") == 1


async def test_shutdown_twice_stops_once(config: TetherConfig, journal: list[str]) -> None:
    engine = build_engine(config, plugins=[Recorder("a", journal)])
    await engine.startup()
    await engine.shutdown()
    await engine.shutdown()
    assert journal.count("stop:a") == 1
    assert journal.count(f"{ENGINE_STOPPED}:a") == 1


async def test_shutdown_without_startup_does_nothing(
    config: TetherConfig, journal: list[str]
) -> None:
    engine = build_engine(config, plugins=[Recorder("a", journal)])
    await engine.shutdown()
    assert journal == []
    assert engine.plugins.state("a") is PluginState.REGISTERED


async def test_async_with_starts_and_shuts_down(config: TetherConfig, journal: list[str]) -> None:
    engine = build_engine(config, plugins=[Recorder("a", journal)])
    async with engine as entered:
        assert entered is engine
        assert engine.plugins.state("a") is PluginState.STARTED
    assert engine.plugins.state("a") is PluginState.STOPPED
    assert journal[-1] == "stop:a"


async def test_async_with_shuts_down_when_the_body_raises(
    config: TetherConfig, journal: list[str]
) -> None:
    engine = build_engine(config, plugins=[Recorder("a", journal)])
    with pytest.raises(KeyError):
        async with engine:
            raise KeyError("body failed")
    assert engine.plugins.state("a") is PluginState.STOPPED


@pytest.mark.parametrize(
    "phase", [pytest.param("initialize", id="initialize"), pytest.param("start", id="start")]
)
async def test_a_plugin_failing_at_startup_leaves_nothing_running(
    config: TetherConfig, journal: list[str], phase: str
) -> None:
    engine = build_engine(
        config,
        plugins=[
            Recorder("first", journal),
            Recorder("broken", journal, fail_in=phase),
            Recorder("last", journal),
        ],
    )
    with structlog.testing.capture_logs(), pytest.raises(PluginError) as caught:
        await engine.startup()

    assert "'broken'" in str(caught.value)
    assert phase in str(caught.value)
    assert isinstance(caught.value.__cause__, RuntimeError)
    assert f"{ENGINE_STARTED}:first" not in journal
    assert "start:last" not in journal
    states = {info.name: info.state for info in engine.plugins.describe()}
    assert PluginState.STARTED not in states.values()
    assert states["broken"] is PluginState.FAILED
    if phase == "start":
        assert journal[-2:] == ["start:broken", "stop:first"]
        assert states["audit"] is PluginState.STOPPED


async def test_shutdown_after_a_failed_startup_is_safe_and_stops_nothing_twice(
    config: TetherConfig, journal: list[str]
) -> None:
    engine = build_engine(
        config, plugins=[Recorder("first", journal), Recorder("broken", journal, fail_in="start")]
    )
    with structlog.testing.capture_logs(), pytest.raises(PluginError):
        await engine.startup()
    await engine.shutdown()
    await engine.shutdown()
    assert journal.count("stop:first") == 1
    assert "stop:broken" not in journal


async def test_async_with_a_failing_plugin_raises_plugin_error(
    config: TetherConfig, journal: list[str]
) -> None:
    engine = build_engine(config, plugins=[Recorder("broken", journal, fail_in="initialize")])
    body_ran = False
    with structlog.testing.capture_logs(), pytest.raises(PluginError, match="broken"):
        async with engine:
            body_ran = True
    assert not body_ran


async def test_a_plugin_failing_to_stop_does_not_stop_shutdown(
    config: TetherConfig, journal: list[str]
) -> None:
    engine = build_engine(
        config,
        plugins=[Recorder("a", journal), Recorder("bad-stop", journal, fail_in="stop")],
    )
    await engine.startup()
    with structlog.testing.capture_logs() as logs:
        await engine.shutdown()
    assert journal[-2:] == ["stop:bad-stop", "stop:a"]
    assert engine.plugins.state("bad-stop") is PluginState.FAILED
    assert engine.plugins.state("audit") is PluginState.STOPPED
    assert any(entry["event"] == "plugin_stop_failed" for entry in logs)


async def test_the_engine_exposes_config_event_bus_and_plugins(config: TetherConfig) -> None:
    engine = build_engine(config)
    assert engine.config is config
    assert engine.event_bus.handler_timeout == config.event_handler_timeout_seconds
    assert [plugin.meta.name for plugin in engine.plugins.plugins] == ["audit"]
