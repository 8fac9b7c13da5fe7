"""PluginEventBus: the view of the engine's EventBus that one plugin receives.

Every subscription made through it is owned by the plugin, so the bus knows
whose handler misbehaved: a handler that tries to end the process disables
every subscription of its plugin, and the plugin cannot subscribe again.
For now it emits like the bus itself.
"""

from __future__ import annotations

from tether.core.events import Event, EventBus, EventHandler, HandlerStats
from tether.exceptions import PluginError

__all__ = ["PluginEventBus"]


class PluginEventBus:
    """The engine's `EventBus`, seen by the plugin `owner`: same methods, same events."""

    __slots__ = ("_bus", "_owner")

    def __init__(self, bus: EventBus, owner: str) -> None:
        self._bus = bus
        self._owner = owner

    @property
    def owner(self) -> str:
        """The name of the plugin this view belongs to."""
        return self._owner

    @property
    def handler_timeout(self) -> float:
        return self._bus.handler_timeout

    @property
    def disabled_reason(self) -> str | None:
        """Why the plugin was disabled (a handler tried to end the process), or None."""
        return self._bus.disabled_reason(self._owner)

    def subscribe(self, pattern: str, handler: EventHandler) -> None:
        """Call `handler` for every event whose name matches `pattern` (see `EventBus`).

        Raises:
            TypeError: `handler` is not an async callable, or `pattern` is not a string.
            PluginError: the plugin was disabled.
        """
        try:
            self._bus.subscribe_for(self._owner, pattern, handler)
        except ValueError as error:
            raise PluginError(f"plugin {self._owner!r} cannot subscribe: {error}") from error

    def unsubscribe(self, pattern: str, handler: EventHandler) -> bool:
        """Remove one of this plugin's subscriptions; False when there was none."""
        return self._bus.unsubscribe_for(self._owner, pattern, handler)

    async def emit(self, event: Event) -> None:
        """Deliver `event` like `EventBus.emit`; a disabled plugin's events are dropped."""
        if self.disabled_reason is None:
            await self._bus.emit(event)

    def handlers_for(self, name: str) -> tuple[EventHandler, ...]:
        """The handlers an event called `name` would reach, in subscription order."""
        return self._bus.handlers_for(name)

    def stats(self) -> list[HandlerStats]:
        """Counters for every subscription on the bus."""
        return self._bus.stats()
