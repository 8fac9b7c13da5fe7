"""PluginRegistry: holds the plugins, checks their shape, and drives their lifecycle.

Start-up is all or nothing: a plugin that raises in `initialize` or `start`
(anything, `SystemExit` included) or takes longer than the lifecycle timeout
becomes a `PluginError` naming the plugin and the phase, and every plugin
already started is stopped first, last started first, so nothing is left
running. `stop_all` never raises: a failing or hanging stop is logged and the
rest still stop.

Each plugin receives its own context, whose `event_bus` is a `PluginEventBus`:
a plugin whose handler tries to end the process is disabled (it stops
receiving events) and shows as such in `describe()`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from enum import StrEnum
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from pydantic import BaseModel, ConfigDict

from tether.core.events import EventBus, HandlerStats
from tether.exceptions import ConfigError, PluginError
from tether.log import get_logger
from tether.plugins.base import PluginContext, PluginMeta, TetherPlugin
from tether.plugins.bus import PluginEventBus
from tether.plugins.calls import HookCounters
from tether.plugins.guard import LifecycleTimeout, call_plugin, describe_failure
from tether.plugins.hooks import verify_hooks

__all__ = [
    "DEFAULT_LIFECYCLE_TIMEOUT_SECONDS",
    "ENTRY_POINT_GROUP",
    "PluginInfo",
    "PluginRegistry",
    "PluginSource",
    "PluginState",
    "installed_plugin_names",
    "load_entry_point_plugins",
]

logger = get_logger(__name__)

ENTRY_POINT_GROUP = "tether.plugins"

_LIFECYCLE_METHODS = ("initialize", "start", "stop")

DEFAULT_LIFECYCLE_TIMEOUT_SECONDS = 10.0


class PluginState(StrEnum):
    """Where a plugin is in its lifecycle."""

    REGISTERED = "registered"
    INITIALIZED = "initialized"
    STARTED = "started"
    STOPPED = "stopped"
    FAILED = "failed"
    DISABLED = "disabled"
    """A handler of the plugin tried to end the process: it receives no more events."""


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
    hooks: tuple[str, ...] = ()
    """The contribution hooks it implements (`programs`, `gate`, `commands`, `settings`)."""
    commands: tuple[str, ...] = ()
    """The slash commands it added."""
    settings_source: str | None = None
    """Where its settings came from (`environment`, `.env`, `defaults`); None: it has none."""
    calls: int = 0
    """Calls into its hooks and event handlers."""
    errors: int = 0
    timeouts: int = 0


def _check_shape(plugin: object) -> PluginMeta:
    # Looking at a plugin runs its code (a `meta` property, `__getattr__`, an
    # attribute of what those return): whatever that raises, an exit included,
    # is a PluginError. `meta` is read once, here; Tether keeps what it got.
    try:
        return _shape(plugin)
    except PluginError:
        raise
    except BaseException as error:
        raise PluginError(
            f"{type(plugin).__qualname__} is not a usable Tether plugin: looking at it "
            f"failed: {describe_failure(error)}"
        ) from error


def _shape(plugin: object) -> PluginMeta:
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
    __slots__ = (
        "_state",
        "bus",
        "commands",
        "counters",
        "error",
        "hooks",
        "meta",
        "plugin",
        "settings",
        "settings_source",
        "source",
    )

    def __init__(
        self,
        plugin: TetherPlugin,
        meta: PluginMeta,
        source: PluginSource,
        hooks: dict[str, Callable[..., Any]],
    ) -> None:
        self.plugin = plugin
        self.meta = meta
        self.source = source
        self.hooks = hooks
        self._state = PluginState.REGISTERED
        self.error: str | None = None
        self.bus: PluginEventBus | None = None
        self.counters = HookCounters()
        self.commands: tuple[str, ...] = ()
        self.settings: BaseModel | None = None
        self.settings_source: str | None = None

    @property
    def state(self) -> PluginState:
        disabled = self.bus.disabled_reason if self.bus is not None else None
        if disabled is not None and self._state in (PluginState.STARTED, PluginState.STOPPED):
            return PluginState.DISABLED  # it says more than "stopped" does
        return self._state

    @state.setter
    def state(self, state: PluginState) -> None:
        self._state = state

    @property
    def running(self) -> bool:
        """Started, and not yet stopped (a disabled plugin still has its stop called)."""
        return self._state is PluginState.STARTED

    def reported_error(self) -> str | None:
        if self.error is None and self.bus is not None:
            return self.bus.disabled_reason
        return self.error


class PluginRegistry:
    """The plugins of one engine, in registration order."""

    def __init__(self, *, lifecycle_timeout: float = DEFAULT_LIFECYCLE_TIMEOUT_SECONDS) -> None:
        self._entries: dict[str, _Entry] = {}
        # Replaced by the configured value (TETHER_PLUGIN_LIFECYCLE_TIMEOUT_SECONDS)
        # when init_all receives the configuration.
        self._timeout = lifecycle_timeout

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
        try:
            hooks = verify_hooks(plugin, meta.name)
        except PluginError:
            raise
        except BaseException as error:  # looking at its class runs its code (descriptors)
            raise PluginError(
                f"plugin {meta.name!r}: its hooks cannot be read: {describe_failure(error)}"
            ) from error
        self._entries[meta.name] = _Entry(plugin, meta, source, hooks)
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

    def hooks(self, name: str) -> dict[str, Callable[..., Any]]:
        """The verified hooks of plugin `name`, by hook name (empty when none or not registered)."""
        entry = self._entries.get(name)
        return dict(entry.hooks) if entry else {}

    def counters(self, name: str) -> HookCounters:
        """The hook counters of plugin `name` (its hooks' callers count into them).

        Raises:
            KeyError: no plugin `name` is registered.
        """
        return self._entries[name].counters

    def contributed(
        self,
        name: str,
        *,
        commands: tuple[str, ...] | None = None,
        settings: BaseModel | None = None,
        settings_source: str | None = None,
        error: str | None = None,
    ) -> None:
        """Record what plugin `name` contributed (or how a hook of it failed)."""
        entry = self._entries[name]
        if commands is not None:
            entry.commands = commands
        if settings_source is not None:
            entry.settings, entry.settings_source = settings, settings_source
        if error is not None and entry.error is None:
            entry.error = error

    def describe(self, stats: Iterable[HandlerStats] = ()) -> list[PluginInfo]:
        """Name, version, description, source, state, hooks and counters of every plugin.

        `stats` (the bus's `stats()`) adds each plugin's event handlers to its counters.
        """
        handled: dict[str, list[int]] = {}
        for stat in stats:
            if stat.owner is not None:
                total = handled.setdefault(stat.owner, [0, 0, 0])
                total[0] += stat.calls
                total[1] += stat.errors
                total[2] += stat.timeouts
        infos = []
        for entry in self._entries.values():
            calls, errors, timeouts = handled.get(entry.meta.name, (0, 0, 0))
            counters = entry.counters
            infos.append(
                PluginInfo(
                    name=entry.meta.name,
                    version=entry.meta.version,
                    description=entry.meta.description,
                    source=entry.source,
                    state=entry.state,
                    error=entry.reported_error(),
                    hooks=tuple(entry.hooks),
                    commands=entry.commands,
                    settings_source=entry.settings_source,
                    calls=counters.calls + calls,
                    errors=counters.errors + errors,
                    timeouts=counters.timeouts + timeouts,
                )
            )
        return infos

    async def init_all(self, context: PluginContext) -> None:
        """Initialize every registered plugin, in registration order.

        Each plugin receives `context` with its own view of the event bus (a
        `PluginEventBus` owned by the plugin), when `context.event_bus` is the bus.

        Raises:
            PluginError: a plugin raised or timed out; it names the plugin and
                chains the cause. Plugins already started are stopped before
                this is raised.
        """
        self._timeout = context.config.plugin_lifecycle_timeout_seconds
        for entry in self._entries.values():
            if entry.state is not PluginState.REGISTERED:
                continue
            await self._run_phase(entry, "initialize", self._context_for(entry, context))
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
        """Stop every started plugin, last registered first. Never raises.

        A stop that raises or outlasts the lifecycle timeout is logged and the
        plugin marked failed; the others still stop.
        """
        for entry in reversed(list(self._entries.values())):
            if not entry.running:
                continue
            error = await call_plugin(entry.plugin.stop, self._timeout)
            if error is not None:
                entry.state = PluginState.FAILED
                entry.error = f"stop: {describe_failure(error)}"
                logger.error(
                    "plugin_stop_failed",
                    name=entry.meta.name,
                    error=describe_failure(error),
                    timed_out=isinstance(error, LifecycleTimeout),
                )
                continue
            entry.state = PluginState.STOPPED
            logger.info("plugin_stopped", name=entry.meta.name)

    def _context_for(self, entry: _Entry, context: PluginContext) -> PluginContext:
        if not isinstance(context.event_bus, EventBus):
            # A view already: the caller chose it.
            return context.model_copy(update={"settings": entry.settings})
        entry.bus = PluginEventBus(context.event_bus, entry.meta.name)
        return PluginContext(event_bus=entry.bus, config=context.config, settings=entry.settings)

    async def _run_phase(self, entry: _Entry, phase: str, context: PluginContext | None) -> None:
        method = getattr(entry.plugin, phase)
        if context is None:
            error = await call_plugin(method, self._timeout)
        else:
            bound = context
            error = await call_plugin(lambda: method(bound), self._timeout)
        if error is None:
            return
        # A plugin's failure, whatever it raised, becomes a PluginError.
        entry.state = PluginState.FAILED
        reason = describe_failure(error)
        entry.error = f"{phase}: {reason}"
        logger.error(
            "plugin_failed",
            name=entry.meta.name,
            phase=phase,
            error=reason,
            timed_out=isinstance(error, LifecycleTimeout),
        )
        await self.stop_all()
        hint = (
            " (TETHER_PLUGIN_LIFECYCLE_TIMEOUT_SECONDS)"
            if isinstance(error, LifecycleTimeout)
            else ""
        )
        raise PluginError(
            f"plugin {entry.meta.name!r} failed in {phase}: {reason}{hint}"
        ) from error


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
    wanted = tuple(names)
    if not wanted:
        # Listing entry points reads every installed distribution's metadata:
        # a start with no plugins enabled (the usual one) skips it.
        return []
    available = {entry_point.name: entry_point for entry_point in _group()}
    plugins: list[TetherPlugin] = []
    for name in wanted:
        entry_point = available.get(name)
        if entry_point is None:
            installed = ", ".join(sorted(available)) or "none"
            raise ConfigError(
                f"TETHER_PLUGINS names {name!r}, which is not installed; installed "
                f"plugins (entry-point group '{ENTRY_POINT_GROUP}'): {installed}"
            )
        plugins.append(_load(entry_point))
    return plugins


def _origin(entry_point: EntryPoint) -> str:
    dist = entry_point.dist
    where = f"distribution {dist.name} {dist.version}" if dist is not None else "no distribution"
    return f"entry point '{entry_point.name} = {entry_point.value}' of {where}"


def _load(entry_point: EntryPoint) -> TetherPlugin:
    # Loading runs the package's own code (its import, its factory): whatever
    # it raises, sys.exit included, is reported naming where it came from.
    try:
        target = entry_point.load()
        plugin: TetherPlugin = target() if callable(target) else target
    except BaseException as error:  # untrusted code: reported, never obeyed
        raise PluginError(
            f"installed plugin {entry_point.name!r} ({_origin(entry_point)}) failed to load: "
            f"{describe_failure(error)}"
        ) from error
    try:
        _check_shape(plugin)
    except PluginError as error:
        raise PluginError(
            f"installed plugin {entry_point.name!r} ({_origin(entry_point)}): {error}"
        ) from error
    return plugin
