"""PluginRegistry: holds the plugins, checks their shape, and drives their lifecycle.

Start-up is all or nothing: a plugin that raises in `initialize` or `start`
becomes a `PluginError` naming the plugin and the phase, and every plugin
already started is stopped first, last started first, so nothing is left
running. `stop_all` never raises: a failing stop is logged and the rest still
stop.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable
from enum import StrEnum
from importlib.metadata import EntryPoint, entry_points

import structlog
from pydantic import BaseModel, ConfigDict

from tether.exceptions import ConfigError, PluginError
from tether.plugins.base import PluginContext, PluginMeta, TetherPlugin

__all__ = [
    "ENTRY_POINT_GROUP",
    "PluginInfo",
    "PluginRegistry",
    "PluginSource",
    "PluginState",
    "installed_plugin_names",
    "load_entry_point_plugins",
]

logger = structlog.get_logger(__name__)

ENTRY_POINT_GROUP = "tether.plugins"

_LIFECYCLE_METHODS = ("initialize", "start", "stop")


class PluginState(StrEnum):
    """Where a plugin is in its lifecycle."""

    REGISTERED = "registered"
    INITIALIZED = "initialized"
    STARTED = "started"
    STOPPED = "stopped"
    FAILED = "failed"


class PluginSource(StrEnum):
    """How a plugin came to be registered."""

    BUILTIN = "built-in"
    CODE = "code"
    ENTRY_POINT = "entry point"


class PluginInfo(BaseModel):
    """What `tether plugins` and `/plugins` show about one plugin."""

    model_config = ConfigDict(frozen=True)

    name: str
    version: str
    description: str
    source: PluginSource
    state: PluginState
    error: str | None = None


def _check_shape(plugin: object) -> PluginMeta:
    if isinstance(plugin, type):
        # A class has the same meta and methods as its instances, so it would pass
        # the checks below and fail later, in initialize, with a confusing TypeError.
        raise PluginError(
            f"{plugin.__qualname__} is a plugin class, not a plugin; "
            f"register an instance: {plugin.__qualname__}()"
        )
    kind = type(plugin).__qualname__
    meta = getattr(plugin, "meta", None)
    if not isinstance(meta, PluginMeta):
        raise PluginError(
            f"{kind} is not a Tether plugin: it needs a 'meta' attribute holding a "
            f"PluginMeta(name=..., version=...), found {type(meta).__name__}"
        )
    for method in _LIFECYCLE_METHODS:
        member = getattr(plugin, method, None)
        if member is None:
            raise PluginError(
                f"{kind} (plugin {meta.name!r}) is not a Tether plugin: it has no '{method}' method"
            )
        if not inspect.iscoroutinefunction(member):
            raise PluginError(
                f"{kind} (plugin {meta.name!r}) is not a Tether plugin: "
                f"'{method}' must be 'async def {method}(...)'"
            )
    return meta


class _Entry:
    __slots__ = ("error", "meta", "plugin", "source", "state")

    def __init__(self, plugin: TetherPlugin, meta: PluginMeta, source: PluginSource) -> None:
        self.plugin = plugin
        self.meta = meta
        self.source = source
        self.state = PluginState.REGISTERED
        self.error: str | None = None


class PluginRegistry:
    """The plugins of one engine, in registration order."""

    def __init__(self) -> None:
        self._entries: dict[str, _Entry] = {}

    def register(self, plugin: TetherPlugin, *, source: PluginSource = PluginSource.CODE) -> None:
        """Add `plugin`; it will be initialized and started after those before it.

        Raises:
            PluginError: the object is not a plugin (no `meta`, a missing or
                non-async lifecycle method), or its name is already registered.
        """
        meta = _check_shape(plugin)
        if meta.name in self._entries:
            raise PluginError(
                f"plugin {meta.name!r} is already registered; plugin names must be unique"
            )
        self._entries[meta.name] = _Entry(plugin, meta, source)
        logger.debug("plugin_registered", name=meta.name, source=source.value)

    def get(self, name: str) -> TetherPlugin | None:
        """The plugin registered as `name`, or None."""
        entry = self._entries.get(name)
        return entry.plugin if entry else None

    @property
    def plugins(self) -> list[TetherPlugin]:
        """Every registered plugin, in registration order."""
        return [entry.plugin for entry in self._entries.values()]

    def state(self, name: str) -> PluginState | None:
        """The lifecycle state of plugin `name`, or None when it is not registered."""
        entry = self._entries.get(name)
        return entry.state if entry else None

    def describe(self) -> list[PluginInfo]:
        """Name, version, description, source and state of every plugin."""
        return [
            PluginInfo(
                name=entry.meta.name,
                version=entry.meta.version,
                description=entry.meta.description,
                source=entry.source,
                state=entry.state,
                error=entry.error,
            )
            for entry in self._entries.values()
        ]

    async def init_all(self, context: PluginContext) -> None:
        """Initialize every registered plugin, in registration order.

        Raises:
            PluginError: a plugin raised; it names the plugin and chains the cause.
                Plugins already started are stopped before this is raised.
        """
        for entry in self._entries.values():
            if entry.state is not PluginState.REGISTERED:
                continue
            await self._run_phase(entry, "initialize", context)
            entry.state = PluginState.INITIALIZED
            logger.debug("plugin_initialized", name=entry.meta.name)

    async def start_all(self) -> None:
        """Start every initialized plugin, in registration order.

        Raises:
            PluginError: a plugin raised; every plugin already started is stopped,
                last started first, before this is raised.
        """
        for entry in self._entries.values():
            if entry.state is not PluginState.INITIALIZED:
                continue
            await self._run_phase(entry, "start", None)
            entry.state = PluginState.STARTED
            logger.info("plugin_started", name=entry.meta.name, version=entry.meta.version)

    async def stop_all(self) -> None:
        """Stop every started plugin, last registered first. Never raises."""
        for entry in reversed(list(self._entries.values())):
            if entry.state is not PluginState.STARTED:
                continue
            try:
                await entry.plugin.stop()
            except Exception as error:  # noqa: BLE001 - one plugin's failure must not stop the rest
                entry.state = PluginState.FAILED
                entry.error = f"stop: {error!r}"
                logger.error("plugin_stop_failed", name=entry.meta.name, error=repr(error))
                continue
            entry.state = PluginState.STOPPED
            logger.info("plugin_stopped", name=entry.meta.name)

    async def _run_phase(self, entry: _Entry, phase: str, context: PluginContext | None) -> None:
        try:
            if context is None:
                await getattr(entry.plugin, phase)()
            else:
                await getattr(entry.plugin, phase)(context)
        except Exception as error:  # a plugin's failure becomes a PluginError
            entry.state = PluginState.FAILED
            entry.error = f"{phase}: {error!r}"
            logger.error("plugin_failed", name=entry.meta.name, phase=phase, error=repr(error))
            await self.stop_all()
            raise PluginError(f"plugin {entry.meta.name!r} failed in {phase}: {error}") from error


def _group() -> Iterable[EntryPoint]:
    return entry_points(group=ENTRY_POINT_GROUP)


def installed_plugin_names() -> list[str]:
    """Names of the plugins installed as packages (entry-point group `tether.plugins`)."""
    return sorted({entry_point.name for entry_point in _group()})


def load_entry_point_plugins(names: Iterable[str]) -> list[TetherPlugin]:
    """Load and instantiate the installed plugins enabled by name (`TETHER_PLUGINS`).

    An entry point names either a plugin class (instantiated without arguments),
    a factory returning a plugin, or a plugin instance.

    Raises:
        ConfigError: a name is not installed; the message lists what is.
        PluginError: an installed plugin failed to load or is not a plugin.
    """
    available = {entry_point.name: entry_point for entry_point in _group()}
    plugins: list[TetherPlugin] = []
    for name in names:
        entry_point = available.get(name)
        if entry_point is None:
            installed = ", ".join(sorted(available)) or "none"
            raise ConfigError(
                f"TETHER_PLUGINS names {name!r}, which is not installed; installed "
                f"plugins (entry-point group '{ENTRY_POINT_GROUP}'): {installed}"
            )
        try:
            target = entry_point.load()
            plugin = target() if callable(target) else target
        except Exception as error:  # a broken package is reported, not raised raw
            raise PluginError(
                f"installed plugin {name!r} ({entry_point.value}) failed to load: {error}"
            ) from error
        _check_shape(plugin)
        plugins.append(plugin)
    return plugins
