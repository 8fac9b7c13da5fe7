"""The plugin contract: what a plugin is, what it is told about, and what it receives.

A plugin is any object with a `meta: PluginMeta` and three async methods,
`initialize(context)`, `start()` and `stop()`. It can be a plain class (the
protocol is structural), or it can name `TetherPlugin` as its base and override
only what it needs: the base supplies no-op `start` and `stop`.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from tether.core.config import TetherConfig
from tether.core.events import EventBus
from tether.plugins.bus import PluginEventBus

__all__ = ["PluginContext", "PluginMeta", "TetherPlugin"]


class PluginMeta(BaseModel):
    """Who a plugin is: its unique `name`, its `version`, and one line of `description`."""

    model_config = ConfigDict(frozen=True)

    name: str
    version: str
    description: str = ""


class PluginContext(BaseModel):
    """What a plugin receives in `initialize`: its view of the event bus, its settings.

    The registry gives each plugin its own context, whose `event_bus` is a
    `PluginEventBus`: the engine's bus, seen by that plugin, so that a handler
    which misbehaves is known by its plugin. It subscribes to any event,
    unsubscribes, and emits only the plugin's own events (`plugin.<name>.…`).

    `settings` is the plugin's own settings object, validated at start-up from
    `TETHER_PLUGIN_<NAME>_*` (None when the plugin declares no `settings`
    hook): the stable way to configure a plugin. `config` is Tether's whole
    configuration, kept for compatibility; it is not a stable surface (its
    fields are renamed as Tether's settings evolve).
    """

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    event_bus: EventBus | PluginEventBus
    config: TetherConfig = Field(description="not a stable surface: prefer `settings`")
    settings: BaseModel | None = None


@runtime_checkable
class TetherPlugin(Protocol):
    """A Tether plugin.

    Lifecycle, driven by the engine: `initialize(context)` once at start-up
    (subscribe to events here), `start()` once every plugin is initialized,
    `stop()` at shutdown, in reverse registration order. A plugin that raises in
    `initialize` or `start` stops the engine's start-up with a `PluginError`; one
    that raises in `stop` is logged and the others still stop.

    Subclassing is optional: a class that names `TetherPlugin` as a base inherits
    no-op `start` and `stop` and must define `meta` and `initialize`.
    """

    meta: PluginMeta

    async def initialize(self, context: PluginContext) -> None:
        """Receive the engine's context; subscribe to events here."""
        ...

    async def start(self) -> None:
        """Begin work (background tasks, connections) once every plugin is initialized."""
        return None

    async def stop(self) -> None:
        """Release what `start` acquired; called at shutdown, last registered first."""
        return None
