"""PluginRegistry against hostile plugins: BaseExceptions, hangs, and broken packages."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable
from typing import Any

import pytest
import structlog

from tests.plugins.dist_info import FakeSite
from tether.core.config import TetherConfig
from tether.core.events import Event, EventBus
from tether.exceptions import PluginError
from tether.plugins.base import PluginContext, PluginMeta
from tether.plugins.bus import PluginEventBus
from tether.plugins.registry import PluginRegistry, PluginState, load_entry_point_plugins


class HomeMadeExit(BaseException):
    """A plugin's own BaseException, outside the Exception tree."""


def _sys_exit() -> BaseException:
    try:
        sys.exit(4)
    except SystemExit as exit_:
        return exit_


class _HostileTextError(Exception):
    """Its text is a way out: repr and str raise exits."""

    def __repr__(self) -> str:
        raise SystemExit(12)

    def __str__(self) -> str:
        raise KeyboardInterrupt


_BASE_EXCEPTIONS: list[Any] = [
    pytest.param(_HostileTextError, "_HostileTextError: <", id="exception-whose-text-exits"),
    pytest.param(
        lambda: SystemExit(_HostileTextError()), "SystemExit(<", id="exit-code-whose-text-exits"
    ),
    pytest.param(KeyboardInterrupt, "KeyboardInterrupt", id="KeyboardInterrupt"),
    pytest.param(lambda: SystemExit(0), "SystemExit(0)", id="SystemExit(0)"),
    pytest.param(lambda: SystemExit("x"), "SystemExit('x')", id="SystemExit('x')"),
    pytest.param(_sys_exit, "SystemExit(4)", id="sys.exit(4)"),
    pytest.param(GeneratorExit, "GeneratorExit", id="GeneratorExit"),
    pytest.param(lambda: HomeMadeExit("mine"), "HomeMadeExit: mine", id="custom-BaseException"),
    pytest.param(lambda: asyncio.CancelledError(), "CancelledError", id="own-CancelledError"),
]


class Hostile:
    """A plugin that misbehaves in one phase: raises, hangs, or ignores its cancellation."""

    def __init__(
        self,
        name: str,
        journal: list[str],
        *,
        phase: str | None = None,
        raises: Callable[[], BaseException] | None = None,
        after_await: bool = False,
        hangs: bool = False,
        stubborn: bool = False,
    ) -> None:
        self.meta = PluginMeta(name=name, version="1.0")
        self._journal = journal
        self._phase = phase
        self._raises = raises
        self._after_await = after_await
        self._hangs = hangs
        self._stubborn = stubborn

    async def _act(self, phase: str) -> None:
        self._journal.append(f"{phase}:{self.meta.name}")
        if phase != self._phase:
            return
        if self._after_await:
            await asyncio.sleep(0)
        if self._raises is not None:
            raise self._raises()
        while self._hangs:
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                if not self._stubborn:
                    raise

    async def initialize(self, context: PluginContext) -> None:
        await self._act("initialize")

    async def start(self) -> None:
        await self._act("start")

    async def stop(self) -> None:
        await self._act("stop")


@pytest.fixture
def fast_config(config: TetherConfig) -> TetherConfig:
    return config.model_copy(update={"plugin_lifecycle_timeout_seconds": 0.2})


def _registry(*plugins: Any) -> PluginRegistry:
    registry = PluginRegistry()
    for plugin in plugins:
        registry.register(plugin)
    return registry


async def _start(registry: PluginRegistry, config: TetherConfig) -> None:
    await registry.init_all(PluginContext(event_bus=EventBus(), config=config))
    await registry.start_all()


class TestBaseExceptionsInLifecycle:
    @pytest.mark.parametrize("after_await", [False, True], ids=["at-once", "after-await"])
    @pytest.mark.parametrize(("raises", "shown"), _BASE_EXCEPTIONS)
    @pytest.mark.parametrize("phase", ["initialize", "start"])
    async def test_start_up_fails_naming_plugin_and_phase_and_rolls_back(
        self,
        config: TetherConfig,
        phase: str,
        raises: Callable[[], BaseException],
        shown: str,
        after_await: bool,
    ) -> None:
        journal: list[str] = []
        registry = _registry(
            Hostile("a", journal),
            Hostile("b", journal, phase=phase, raises=raises, after_await=after_await),
        )
        with pytest.raises(PluginError, match=f"plugin 'b' failed in {phase}: ") as caught:
            await _start(registry, config)
        assert shown in str(caught.value)
        assert registry.state("b") is PluginState.FAILED
        # Nothing is left running.
        assert registry.state("a") in {PluginState.INITIALIZED, PluginState.STOPPED}
        if phase == "start":
            assert journal[-1] == "stop:a"

    @pytest.mark.parametrize("after_await", [False, True], ids=["at-once", "after-await"])
    @pytest.mark.parametrize(("raises", "shown"), _BASE_EXCEPTIONS)
    async def test_a_stop_raising_is_logged_and_the_others_still_stop(
        self,
        config: TetherConfig,
        raises: Callable[[], BaseException],
        shown: str,
        after_await: bool,
    ) -> None:
        journal: list[str] = []
        registry = _registry(
            Hostile("a", journal),
            Hostile("b", journal, phase="stop", raises=raises, after_await=after_await),
            Hostile("c", journal),
        )
        await _start(registry, config)
        with structlog.testing.capture_logs() as logs:
            await registry.stop_all()
        assert [e for e in journal if e.startswith("stop")] == ["stop:c", "stop:b", "stop:a"]
        assert registry.state("b") is PluginState.FAILED
        assert registry.state("a") is registry.state("c") is PluginState.STOPPED
        (failed,) = [entry for entry in logs if entry["event"] == "plugin_stop_failed"]
        assert failed["name"] == "b" and shown in failed["error"]

    async def test_an_exit_is_reported_as_not_obeyed(self, config: TetherConfig) -> None:
        registry = _registry(Hostile("a", [], phase="start", raises=lambda: SystemExit(9)))
        with pytest.raises(PluginError) as caught:
            await _start(registry, config)
        assert str(caught.value) == (
            "plugin 'a' failed in start: tried to exit the process (SystemExit(9)); not obeyed"
        )


class TestLifecycleTimeout:
    @pytest.mark.parametrize("stubborn", [False, True], ids=["hangs", "ignores-cancellation"])
    @pytest.mark.parametrize("phase", ["initialize", "start"])
    async def test_a_hang_at_start_up_fails_it_in_bounded_time(
        self, fast_config: TetherConfig, phase: str, stubborn: bool
    ) -> None:
        journal: list[str] = []
        registry = _registry(
            Hostile("a", journal), Hostile("b", journal, phase=phase, hangs=True, stubborn=stubborn)
        )
        started = time.monotonic()
        with pytest.raises(PluginError) as caught:
            await _start(registry, fast_config)
        assert time.monotonic() - started < 2.5
        message = str(caught.value)
        assert message.startswith(f"plugin 'b' failed in {phase}: did not finish within 0.2 s")
        assert message.endswith("(TETHER_PLUGIN_LIFECYCLE_TIMEOUT_SECONDS)")
        assert ("abandoned" in message) is stubborn
        assert registry.state("b") is PluginState.FAILED

    @pytest.mark.parametrize("stubborn", [False, True], ids=["hangs", "ignores-cancellation"])
    async def test_a_hang_in_stop_is_logged_and_the_others_still_stop(
        self, fast_config: TetherConfig, stubborn: bool
    ) -> None:
        journal: list[str] = []
        registry = _registry(
            Hostile("a", journal),
            Hostile("b", journal, phase="stop", hangs=True, stubborn=stubborn),
            Hostile("c", journal),
        )
        await _start(registry, fast_config)
        started = time.monotonic()
        with structlog.testing.capture_logs() as logs:
            await registry.stop_all()
        assert time.monotonic() - started < 2.5
        assert registry.state("a") is registry.state("c") is PluginState.STOPPED
        assert registry.state("b") is PluginState.FAILED
        (failed,) = [entry for entry in logs if entry["event"] == "plugin_stop_failed"]
        assert failed["timed_out"] is True
        others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        assert others == []

    def test_the_setting_defaults_to_ten_seconds(self, config: TetherConfig) -> None:
        assert config.plugin_lifecycle_timeout_seconds == 10.0

    @pytest.mark.parametrize(
        "value", ["0", "-1", "301", "inf", "nan", "soon"], ids=lambda value: value
    )
    def test_the_setting_is_finite_and_bounded(
        self, monkeypatch: pytest.MonkeyPatch, value: str
    ) -> None:
        from tether.core.config import load_config
        from tether.exceptions import ConfigError

        monkeypatch.setenv("TETHER_PLUGIN_LIFECYCLE_TIMEOUT_SECONDS", value)
        with pytest.raises(ConfigError, match="TETHER_PLUGIN_LIFECYCLE_TIMEOUT_SECONDS"):
            load_config()


class TestDisabledPlugins:
    async def test_a_plugin_whose_handler_exits_shows_as_disabled(
        self, config: TetherConfig
    ) -> None:
        bus = EventBus()

        class Exiting:
            meta = PluginMeta(name="exiting", version="1.0")

            async def initialize(self, context: PluginContext) -> None:
                self.bus = context.event_bus
                context.event_bus.subscribe("x", self.on_x)

            async def start(self) -> None:
                return None

            async def stop(self) -> None:
                stopped.append(True)

            async def on_x(self, event: Event) -> None:
                sys.exit(0)

        stopped: list[bool] = []
        plugin = Exiting()
        registry = _registry(plugin)
        await registry.init_all(PluginContext(event_bus=bus, config=config))
        await registry.start_all()
        await bus.emit(Event(name="x"))
        assert registry.state("exiting") is PluginState.DISABLED
        (info,) = registry.describe()
        assert info.state is PluginState.DISABLED
        assert info.error is not None and "SystemExit(0)" in info.error
        assert bus.handlers_for("x") == ()
        view = plugin.bus
        assert isinstance(view, PluginEventBus)
        with pytest.raises(PluginError, match="plugin 'exiting' cannot subscribe"):
            view.subscribe("x", plugin.on_x)
        # Its own events go nowhere now.
        heard: list[Event] = []

        async def listener(event: Event) -> None:
            heard.append(event)

        bus.subscribe("y", listener)
        await view.emit(Event(name="y"))
        assert heard == []
        # It is still asked to release what it holds.
        await registry.stop_all()
        assert stopped == [True]
        assert registry.state("exiting") is PluginState.DISABLED


_MODULE = """
from tether.plugins.base import PluginContext, PluginMeta, TetherPlugin
import sys

class Fine(TetherPlugin):
    meta = PluginMeta(name="fine", version="1.0")

    async def initialize(self, context: PluginContext) -> None:
        return None

class HomeMade(BaseException):
    pass

def exits():
    sys.exit(9)

def exits_zero():
    sys.exit(0)

def interrupts():
    raise KeyboardInterrupt

def home_made():
    raise HomeMade("no")

def generator_exit():
    raise GeneratorExit

def returns_a_string():
    return "not a plugin"

NOT_A_PLUGIN = 42
"""


class TestBrokenPackages:
    @pytest.mark.parametrize(
        ("target", "shown"),
        [
            pytest.param("exits", "tried to exit the process (SystemExit(9))", id="sys.exit(9)"),
            pytest.param("exits_zero", "(SystemExit(0))", id="sys.exit(0)"),
            pytest.param("interrupts", "KeyboardInterrupt", id="KeyboardInterrupt"),
            pytest.param("home_made", "HomeMade: no", id="custom-BaseException"),
            pytest.param("generator_exit", "GeneratorExit", id="GeneratorExit"),
        ],
    )
    def test_a_factory_that_exits_is_one_error_naming_distribution_and_entry_point(
        self, site: FakeSite, target: str, shown: str
    ) -> None:
        site.install(
            "tether-rogue",
            entry_points={"rogue": f"tether_rogue:{target}"},
            modules={"tether_rogue": _MODULE},
        )
        with pytest.raises(PluginError) as caught:
            load_entry_point_plugins(["rogue"])
        message = str(caught.value)
        assert "\n" not in message
        assert f"entry point 'rogue = tether_rogue:{target}'" in message
        assert "distribution tether-rogue 1.0.0" in message
        assert shown in message

    def test_a_module_that_exits_on_import_is_reported(self, site: FakeSite) -> None:
        site.install(
            "tether-rogue",
            entry_points={"rogue": "tether_exit_on_import:Plugin"},
            modules={"tether_exit_on_import": "import sys\nsys.exit(9)\n"},
        )
        with pytest.raises(PluginError, match=r"distribution tether-rogue 1\.0\.0.*SystemExit"):
            load_entry_point_plugins(["rogue"])

    @pytest.mark.parametrize(
        ("target", "shown"),
        [
            pytest.param("NOT_A_PLUGIN", "int is not a Tether plugin", id="an-int"),
            pytest.param("returns_a_string", "str is not a Tether plugin", id="factory-result"),
            pytest.param("Fine", "", id="a-plugin-passes"),
        ],
    )
    def test_an_object_that_is_not_a_plugin_names_distribution_and_entry_point(
        self, site: FakeSite, target: str, shown: str
    ) -> None:
        site.install(
            "tether-odd",
            entry_points={"odd": f"tether_rogue:{target}"},
            modules={"tether_rogue": _MODULE},
        )
        if not shown:
            (plugin,) = load_entry_point_plugins(["odd"])
            assert plugin.meta.name == "fine"
            return
        with pytest.raises(PluginError) as caught:
            load_entry_point_plugins(["odd"])
        message = str(caught.value)
        assert message.startswith(
            f"installed plugin 'odd' (entry point 'odd = tether_rogue:{target}' "
            "of distribution tether-odd 1.0.0): "
        )
        assert shown in message


class _Looks:
    """A plugin whose `meta` (or a lifecycle method) raises when read: on the `nth` read."""

    def __init__(self, attribute: str, make: Callable[[], BaseException], nth: int = 1) -> None:
        self._attribute = attribute
        self._make = make
        self._nth = nth
        self._reads = 0

    def __getattribute__(self, name: str) -> Any:
        if name == object.__getattribute__(self, "_attribute"):
            reads = object.__getattribute__(self, "_reads") + 1
            object.__setattr__(self, "_reads", reads)
            if reads >= object.__getattribute__(self, "_nth"):
                raise object.__getattribute__(self, "_make")()
        if name == "meta":
            return PluginMeta(name="looks", version="1.0")
        return object.__getattribute__(self, name)

    async def initialize(self, context: PluginContext) -> None:
        return None

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None


class TestLookingAtAPlugin:
    @pytest.mark.parametrize("attribute", ["meta", "start"])
    @pytest.mark.parametrize(("raises", "shown"), _BASE_EXCEPTIONS)
    def test_reading_it_is_a_plugin_error_whatever_it_raises(
        self, attribute: str, raises: Callable[[], BaseException], shown: str
    ) -> None:
        with pytest.raises(PluginError, match="is not a usable Tether plugin") as caught:
            PluginRegistry().register(_Looks(attribute, raises))
        assert shown in str(caught.value)

    async def test_meta_is_read_once_so_a_later_failure_cannot_stop_it(
        self, config: TetherConfig
    ) -> None:
        plugin = _Looks("meta", lambda: SystemExit(5), nth=2)
        registry = _registry(plugin)
        await _start(registry, config)
        await registry.stop_all()
        assert [info.name for info in registry.describe()] == ["looks"]
        assert registry.state("looks") is PluginState.STOPPED
