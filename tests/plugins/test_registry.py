"""PluginRegistry: shape checks, order, failure semantics, states, and installed plugins."""

from __future__ import annotations

from typing import Any

import pytest
import structlog

from tests.plugins.dist_info import FakeSite
from tether.core.config import TetherConfig
from tether.core.events import EventBus
from tether.exceptions import ConfigError, PluginError
from tether.plugins import registry as registry_module
from tether.plugins.base import PluginContext, PluginMeta, TetherPlugin
from tether.plugins.bus import PluginEventBus
from tether.plugins.registry import (
    ENTRY_POINT_GROUP,
    PluginInfo,
    PluginRegistry,
    PluginSource,
    PluginState,
    installed_plugin_names,
    load_entry_point_plugins,
)


class Recorder:
    """A plugin that writes each lifecycle call to a shared journal and can fail on cue."""

    def __init__(self, name: str, journal: list[str], *, fail_in: str | None = None) -> None:
        self.meta = PluginMeta(name=name, version="1.0", description=f"the {name} plugin")
        self._journal = journal
        self._fail_in = fail_in
        self.context: PluginContext | None = None

    async def _record(self, phase: str) -> None:
        self._journal.append(f"{phase}:{self.meta.name}")
        if self._fail_in == phase:
            raise RuntimeError(f"{self.meta.name} cannot {phase}")

    async def initialize(self, context: PluginContext) -> None:
        self.context = context
        await self._record("initialize")

    async def start(self) -> None:
        await self._record("start")

    async def stop(self) -> None:
        await self._record("stop")


@pytest.fixture
def context(config: TetherConfig) -> PluginContext:
    return PluginContext(event_bus=EventBus(), config=config)


@pytest.fixture
def journal() -> list[str]:
    return []


def _registry(*plugins: Any) -> PluginRegistry:
    registry = PluginRegistry()
    for plugin in plugins:
        registry.register(plugin)
    return registry


class TestRegister:
    def test_plugins_are_kept_in_registration_order(self, journal: list[str]) -> None:
        plugins = [Recorder(name, journal) for name in ("c", "a", "b")]
        registry = _registry(*plugins)
        assert registry.plugins == plugins

    def test_get_finds_a_plugin_by_name(self, journal: list[str]) -> None:
        plugin = Recorder("metrics", journal)
        registry = _registry(plugin)
        assert registry.get("metrics") is plugin

    def test_get_returns_none_when_absent(self) -> None:
        assert PluginRegistry().get("missing") is None

    def test_plugins_is_a_copy(self, journal: list[str]) -> None:
        registry = _registry(Recorder("a", journal))
        registry.plugins.clear()
        assert len(registry.plugins) == 1

    def test_a_taken_name_is_refused(self, journal: list[str]) -> None:
        registry = _registry(Recorder("metrics", journal))
        with pytest.raises(PluginError, match="'metrics' is already registered"):
            registry.register(Recorder("metrics", journal))
        assert len(registry.plugins) == 1

    def test_the_same_object_twice_is_refused(self, journal: list[str]) -> None:
        plugin = Recorder("metrics", journal)
        registry = _registry(plugin)
        with pytest.raises(PluginError, match="already registered"):
            registry.register(plugin)


class NoMeta:
    async def initialize(self, context: PluginContext) -> None:
        return None

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None


class MetaIsADict(NoMeta):
    meta = {"name": "dict", "version": "1"}  # noqa: RUF012 - the mistake under test


class NoStop:
    meta = PluginMeta(name="no-stop", version="1")

    async def initialize(self, context: PluginContext) -> None:
        return None

    async def start(self) -> None:
        return None


class SyncStart(NoMeta):
    meta = PluginMeta(name="sync-start", version="1")

    def start(self) -> None:  # type: ignore[override]
        return None


class SyncInitialize(NoMeta):
    meta = PluginMeta(name="sync-init", version="1")

    def initialize(self, context: PluginContext) -> None:  # type: ignore[override]
        return None


class StopIsNotCallable(NoMeta):
    meta = PluginMeta(name="stop-attr", version="1")
    stop = None  # type: ignore[assignment]


class TestNotAPlugin:
    @pytest.mark.parametrize(
        ("candidate", "fragments"),
        [
            pytest.param(NoMeta(), ("NoMeta", "'meta'", "PluginMeta"), id="no-meta"),
            pytest.param(MetaIsADict(), ("MetaIsADict", "found dict"), id="meta-not-pluginmeta"),
            pytest.param(NoStop(), ("NoStop", "'no-stop'", "no 'stop' method"), id="missing-stop"),
            pytest.param(
                StopIsNotCallable(), ("StopIsNotCallable", "no 'stop' method"), id="stop-is-none"
            ),
            pytest.param(
                SyncStart(), ("SyncStart", "'start' must be 'async def start"), id="sync-start"
            ),
            pytest.param(
                SyncInitialize(),
                ("SyncInitialize", "'initialize' must be 'async def initialize"),
                id="sync-initialize",
            ),
            pytest.param(object(), ("object",), id="plain-object"),
        ],
    )
    def test_a_non_plugin_is_refused_naming_its_class(
        self, candidate: object, fragments: tuple[str, ...]
    ) -> None:
        registry = PluginRegistry()
        with pytest.raises(PluginError) as caught:
            registry.register(candidate)  # type: ignore[arg-type]
        for fragment in fragments:
            assert fragment in str(caught.value)
        assert "is not a Tether plugin" in str(caught.value)
        assert registry.plugins == []

    def test_a_plugin_class_instead_of_an_instance_is_refused(self) -> None:
        class MetricsPlugin(TetherPlugin):
            meta = PluginMeta(name="metrics", version="1")

            async def initialize(self, context: PluginContext) -> None:
                return None

        with pytest.raises(PluginError, match=r"register an instance: .*MetricsPlugin\(\)"):
            PluginRegistry().register(MetricsPlugin)  # type: ignore[arg-type]


class TestLifecycle:
    async def test_init_and_start_in_registration_order_stop_in_reverse(
        self, context: PluginContext, journal: list[str]
    ) -> None:
        registry = _registry(*(Recorder(name, journal) for name in ("a", "b", "c")))
        await registry.init_all(context)
        await registry.start_all()
        await registry.stop_all()
        assert journal == [
            "initialize:a",
            "initialize:b",
            "initialize:c",
            "start:a",
            "start:b",
            "start:c",
            "stop:c",
            "stop:b",
            "stop:a",
        ]

    async def test_every_plugin_receives_its_own_view_of_the_same_bus_and_config(
        self, context: PluginContext, journal: list[str]
    ) -> None:
        plugins = [Recorder(name, journal) for name in ("a", "b")]
        await _registry(*plugins).init_all(context)
        views = [plugin.context.event_bus for plugin in plugins if plugin.context is not None]
        assert all(isinstance(view, PluginEventBus) for view in views)
        assert [view.owner for view in views if isinstance(view, PluginEventBus)] == ["a", "b"]
        assert all(plugin.context and plugin.context.config is context.config for plugin in plugins)

    async def test_states_follow_the_lifecycle(
        self, context: PluginContext, journal: list[str]
    ) -> None:
        registry = _registry(Recorder("a", journal))
        assert registry.state("a") is PluginState.REGISTERED
        await registry.init_all(context)
        assert registry.state("a") is PluginState.INITIALIZED
        await registry.start_all()
        assert registry.state("a") is PluginState.STARTED
        await registry.stop_all()
        assert registry.state("a") is PluginState.STOPPED

    def test_state_of_an_unknown_plugin_is_none(self) -> None:
        assert PluginRegistry().state("missing") is None

    async def test_each_phase_runs_once_however_often_it_is_asked(
        self, context: PluginContext, journal: list[str]
    ) -> None:
        registry = _registry(Recorder("a", journal))
        for _ in range(2):
            await registry.init_all(context)
            await registry.start_all()
        for _ in range(2):
            await registry.stop_all()
        assert journal == ["initialize:a", "start:a", "stop:a"]

    async def test_stop_all_before_start_does_nothing(self, journal: list[str]) -> None:
        registry = _registry(Recorder("a", journal))
        await registry.stop_all()
        assert journal == []
        assert registry.state("a") is PluginState.REGISTERED

    async def test_a_plugin_registered_late_is_started_by_the_next_round(
        self, context: PluginContext, journal: list[str]
    ) -> None:
        registry = _registry(Recorder("a", journal))
        await registry.init_all(context)
        await registry.start_all()
        registry.register(Recorder("b", journal))
        await registry.init_all(context)
        await registry.start_all()
        assert journal == ["initialize:a", "start:a", "initialize:b", "start:b"]

    async def test_describe_lists_name_version_description_source_and_state(
        self, context: PluginContext, journal: list[str]
    ) -> None:
        registry = PluginRegistry()
        registry.register(Recorder("audit", journal), source=PluginSource.BUILTIN)
        registry.register(Recorder("metrics", journal))
        registry.register(Recorder("notify", journal), source=PluginSource.ENTRY_POINT)
        await registry.init_all(context)

        assert registry.describe() == [
            PluginInfo(
                name="audit",
                version="1.0",
                description="the audit plugin",
                source=PluginSource.BUILTIN,
                state=PluginState.INITIALIZED,
            ),
            PluginInfo(
                name="metrics",
                version="1.0",
                description="the metrics plugin",
                source=PluginSource.CODE,
                state=PluginState.INITIALIZED,
            ),
            PluginInfo(
                name="notify",
                version="1.0",
                description="the notify plugin",
                source=PluginSource.ENTRY_POINT,
                state=PluginState.INITIALIZED,
            ),
        ]

    @pytest.mark.parametrize(
        ("member", "value"),
        [
            pytest.param(PluginSource.BUILTIN, "built-in", id="built-in"),
            pytest.param(PluginSource.CODE, "code", id="code"),
            pytest.param(PluginSource.ENTRY_POINT, "entry point", id="entry-point"),
        ],
    )
    def test_sources_read_as_words(self, member: PluginSource, value: str) -> None:
        assert member.value == value


class TestStartupFailures:
    async def test_a_failure_in_initialize_names_the_plugin_and_the_phase(
        self, context: PluginContext, journal: list[str]
    ) -> None:
        registry = _registry(
            Recorder("a", journal),
            Recorder("broken", journal, fail_in="initialize"),
            Recorder("c", journal),
        )
        with structlog.testing.capture_logs() as logs, pytest.raises(PluginError) as caught:
            await registry.init_all(context)

        message = str(caught.value)
        assert "'broken'" in message
        assert "initialize" in message
        assert "broken cannot initialize" in message
        assert isinstance(caught.value.__cause__, RuntimeError)
        assert journal == ["initialize:a", "initialize:broken"]
        assert [registry.state(name) for name in ("a", "broken", "c")] == [
            PluginState.INITIALIZED,
            PluginState.FAILED,
            PluginState.REGISTERED,
        ]
        (failure,) = [e for e in logs if e["event"] == "plugin_failed"]
        assert (failure["name"], failure["phase"]) == ("broken", "initialize")

    async def test_a_failure_in_start_stops_the_started_plugins_last_first_before_raising(
        self, context: PluginContext, journal: list[str]
    ) -> None:
        registry = _registry(
            Recorder("a", journal),
            Recorder("b", journal),
            Recorder("broken", journal, fail_in="start"),
            Recorder("d", journal),
        )
        await registry.init_all(context)
        with (
            structlog.testing.capture_logs(),
            pytest.raises(PluginError, match=r"plugin 'broken' failed in start") as caught,
        ):
            await registry.start_all()

        assert isinstance(caught.value.__cause__, RuntimeError)
        assert journal[-5:] == ["start:a", "start:b", "start:broken", "stop:b", "stop:a"]
        assert [registry.state(name) for name in ("a", "b", "broken", "d")] == [
            PluginState.STOPPED,
            PluginState.STOPPED,
            PluginState.FAILED,
            PluginState.INITIALIZED,
        ]
        assert "start:d" not in journal

    async def test_the_failure_is_visible_in_describe(
        self, context: PluginContext, journal: list[str]
    ) -> None:
        registry = _registry(Recorder("broken", journal, fail_in="initialize"))
        with structlog.testing.capture_logs(), pytest.raises(PluginError):
            await registry.init_all(context)
        (info,) = registry.describe()
        assert info.state is PluginState.FAILED
        assert info.error is not None
        assert info.error.startswith("initialize:")
        assert "broken cannot initialize" in info.error

    async def test_a_failed_plugin_is_not_stopped(
        self, context: PluginContext, journal: list[str]
    ) -> None:
        registry = _registry(Recorder("broken", journal, fail_in="start"))
        await registry.init_all(context)
        with structlog.testing.capture_logs(), pytest.raises(PluginError):
            await registry.start_all()
        await registry.stop_all()
        assert "stop:broken" not in journal


class TestStopFailures:
    async def test_stop_all_never_raises_and_still_stops_the_others(
        self, context: PluginContext, journal: list[str]
    ) -> None:
        registry = _registry(
            Recorder("a", journal),
            Recorder("broken", journal, fail_in="stop"),
            Recorder("c", journal),
        )
        await registry.init_all(context)
        await registry.start_all()
        with structlog.testing.capture_logs() as logs:
            await registry.stop_all()

        assert journal[-3:] == ["stop:c", "stop:broken", "stop:a"]
        assert [registry.state(name) for name in ("a", "broken", "c")] == [
            PluginState.STOPPED,
            PluginState.FAILED,
            PluginState.STOPPED,
        ]
        (failure,) = [e for e in logs if e["event"] == "plugin_stop_failed"]
        assert failure["name"] == "broken"
        assert failure["log_level"] == "error"
        assert "broken cannot stop" in failure["error"]

    async def test_a_failing_stop_during_a_failed_start_does_not_hide_the_start_error(
        self, context: PluginContext, journal: list[str]
    ) -> None:
        registry = _registry(
            Recorder("stops-badly", journal, fail_in="stop"),
            Recorder("starts-badly", journal, fail_in="start"),
        )
        await registry.init_all(context)
        with structlog.testing.capture_logs(), pytest.raises(PluginError, match="starts-badly"):
            await registry.start_all()
        assert journal[-2:] == ["start:starts-badly", "stop:stops-badly"]


class TestInstalledPlugins:
    PLUGIN_MODULE = """
        from tether.plugins.base import PluginContext, PluginMeta, TetherPlugin

        class NotifyPlugin(TetherPlugin):
            meta = PluginMeta(name="notify", version="2.1.0", description="Sends notifications")

            async def initialize(self, context: PluginContext) -> None:
                self.context = context

        def make_plugin():
            plugin = NotifyPlugin()
            plugin.meta = PluginMeta(name="made", version="3.0")
            return plugin

        instance = NotifyPlugin()

        class NotAPlugin:
            pass
    """

    def test_group_name(self) -> None:
        assert ENTRY_POINT_GROUP == "tether.plugins"

    def test_installed_names_come_from_the_entry_point_group(self, site: FakeSite) -> None:
        site.install(
            "tether-notify",
            entry_points={
                "notify": "tether_notify:NotifyPlugin",
                "made": "tether_notify:make_plugin",
            },
            modules={"tether_notify": self.PLUGIN_MODULE},
        )
        site.install("unrelated", entry_points={"notify-elsewhere": "x:y"}, group="other.plugins")
        names = installed_plugin_names()
        assert {"notify", "made"} <= set(names)
        assert "notify-elsewhere" not in names
        assert names == sorted(names)

    @pytest.mark.parametrize(
        ("target", "name"),
        [
            pytest.param("tether_notify:NotifyPlugin", "notify", id="class"),
            pytest.param("tether_notify:make_plugin", "made", id="factory"),
            pytest.param("tether_notify:instance", "notify", id="instance"),
        ],
    )
    def test_an_entry_point_may_name_a_class_a_factory_or_an_instance(
        self, site: FakeSite, target: str, name: str
    ) -> None:
        site.install(
            "tether-notify",
            entry_points={"notify": target},
            modules={"tether_notify": self.PLUGIN_MODULE},
        )
        (plugin,) = load_entry_point_plugins(["notify"])
        assert plugin.meta.name == name
        PluginRegistry().register(plugin, source=PluginSource.ENTRY_POINT)

    def test_plugins_load_in_the_order_named(self, site: FakeSite) -> None:
        site.install(
            "tether-notify",
            entry_points={
                "notify": "tether_notify:NotifyPlugin",
                "made": "tether_notify:make_plugin",
            },
            modules={"tether_notify": self.PLUGIN_MODULE},
        )
        plugins = load_entry_point_plugins(["made", "notify"])
        assert [plugin.meta.name for plugin in plugins] == ["made", "notify"]

    def test_nothing_named_loads_nothing(self) -> None:
        assert load_entry_point_plugins([]) == []

    def test_a_name_that_is_not_installed_lists_what_is(self, site: FakeSite) -> None:
        site.install(
            "tether-notify",
            entry_points={"notify": "tether_notify:NotifyPlugin"},
            modules={"tether_notify": self.PLUGIN_MODULE},
        )
        with pytest.raises(ConfigError) as caught:
            load_entry_point_plugins(["notfy"])
        message = str(caught.value)
        assert "TETHER_PLUGINS" in message
        assert "'notfy'" in message
        assert "not installed" in message
        assert "notify" in message.split("installed plugins", 1)[1]

    def test_with_nothing_installed_the_error_says_none(self) -> None:
        if installed_plugin_names():
            pytest.skip("this environment has tether plugins installed")
        with pytest.raises(ConfigError, match=r"tether\.plugins'\): none"):
            load_entry_point_plugins(["metrics"])

    def test_a_package_that_fails_to_import_is_a_plugin_error(self, site: FakeSite) -> None:
        site.install(
            "tether-broken",
            entry_points={"broken": "tether_broken:Plugin"},
            modules={"tether_broken": "raise ImportError('needs libfoo')\n"},
        )
        with pytest.raises(
            PluginError, match=r"'broken'.*tether_broken:Plugin.*needs libfoo"
        ) as caught:
            load_entry_point_plugins(["broken"])
        assert isinstance(caught.value.__cause__, ImportError)

    def test_an_entry_point_to_a_missing_attribute_is_a_plugin_error(self, site: FakeSite) -> None:
        site.install(
            "tether-notify",
            entry_points={"notify": "tether_notify:Missing"},
            modules={"tether_notify": self.PLUGIN_MODULE},
        )
        with pytest.raises(PluginError, match="failed to load"):
            load_entry_point_plugins(["notify"])

    def test_an_entry_point_to_something_else_is_refused_naming_its_class(
        self, site: FakeSite
    ) -> None:
        site.install(
            "tether-notify",
            entry_points={"odd": "tether_notify:NotAPlugin"},
            modules={"tether_notify": self.PLUGIN_MODULE},
        )
        with pytest.raises(PluginError, match="NotAPlugin is not a Tether plugin"):
            load_entry_point_plugins(["odd"])


def test_no_plugin_enabled_reads_no_entry_points(monkeypatch: pytest.MonkeyPatch) -> None:
    """Listing entry points reads every distribution's metadata: with none enabled, skip it."""

    def unreadable() -> list[object]:
        raise AssertionError("entry points were listed")

    monkeypatch.setattr(registry_module, "_group", unreadable)
    assert load_entry_point_plugins([]) == []
    assert load_entry_point_plugins(iter(())) == []
