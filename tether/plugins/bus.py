"""PluginEventBus: the view of the engine's EventBus that one plugin receives.

Every subscription made through it is owned by the plugin, so the bus knows
whose handler misbehaved: a handler that tries to end the process disables
every subscription of its plugin, and the plugin cannot subscribe again.

A plugin hears every event but speaks only in its own namespace,
`plugin.<name>.…`: the core's events (`tool.denied`, `safety.violation`, …)
are facts the core alone states, and the AuditPlugin writes a security
violation from `tool.denied`, so a plugin that could emit one could forge an
audit entry. A view is an interface, not a sandbox: plugin code runs in the
process, and this only keeps the contract from handing it the means to lie.
"""

from __future__ import annotations

from tether.core.events import Event, EventBus, EventHandler, HandlerStats
from tether.exceptions import PluginError

__all__ = ["PLUGIN_EVENT_PREFIX", "PluginEventBus", "plugin_namespace"]

PLUGIN_EVENT_PREFIX = "plugin."
"""Every event a plugin emits starts with this, then the plugin's name and a dot."""

# Characters that would make a name ambiguous as a namespace: with a dot, the
# plugin "a.b" would speak inside the namespace of the plugin "a"; a wildcard
# is a subscription pattern, not a name.
_NOT_IN_A_NAMESPACE = frozenset(".*")


def plugin_namespace(name: str) -> str | None:
    """The prefix of the events the plugin `name` may emit, or None when it may emit none."""
    if not name or any(char in _NOT_IN_A_NAMESPACE or char.isspace() for char in name):
        return None
    return f"{PLUGIN_EVENT_PREFIX}{name}."


class PluginEventBus:
    """The engine's `EventBus`, seen by the plugin `owner`.

    It subscribes to any event and unsubscribes like the bus; it emits only
    events named `plugin.<owner>.<something>`; `handlers_for` shows only the
    plugin's own handlers; `stats` is a read-only snapshot of every
    subscription's counters.
    """

    __slots__ = ("_bus", "_namespace", "_owner")

    def __init__(self, bus: EventBus, owner: str) -> None:
        self._bus = bus
        self._owner = owner
        self._namespace = plugin_namespace(owner)

    @property
    def owner(self) -> str:
        """The name of the plugin this view belongs to."""
        return self._owner

    @property
    def namespace(self) -> str | None:
        """The prefix every event this plugin emits must start with (None: it may emit none)."""
        return self._namespace

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
        """Deliver `event` like `EventBus.emit`, if it is in the plugin's namespace.

        A disabled plugin's events are dropped.

        Raises:
            PluginError: the event is not an `Event` named `plugin.<owner>.<something>`
                (a core event, another plugin's, or any other name).
        """
        self._check(event)
        if self._bus.disabled_reason(self._owner) is None:
            await self._bus.emit(event)

    def _check(self, event: object) -> None:
        # Exact types: a subclass could answer `name` differently each time it is
        # read, and a str subclass could hash like "tool.denied" while reading
        # "plugin.…", so only a plain Event with a plain str name is judged.
        if type(event) is not Event:
            raise PluginError(
                f"plugin {self._owner!r} may emit only Event objects, not {type(event).__name__}"
            )
        name: object = event.name
        namespace = self._namespace
        if type(name) is not str:
            raise PluginError(
                f"plugin {self._owner!r} may emit only events named by a str, "
                f"not {type(name).__name__}"
            )
        if namespace is None or not name.startswith(namespace) or len(name) == len(namespace):
            allowed = (
                f"events named {namespace}<event>"
                if namespace
                else "no events (its name has a '.', a '*' or a space)"
            )
            raise PluginError(
                f"plugin {self._owner!r} may not emit {name!r}: a plugin emits only {allowed}"
            )

    def handlers_for(self, name: str) -> tuple[EventHandler, ...]:
        """This plugin's handlers that an event called `name` would reach, in order."""
        return self._bus.handlers_for(name, owner=self._owner)

    def stats(self) -> list[HandlerStats]:
        """Counters for every subscription on the bus (a snapshot: changing it changes nothing)."""
        return self._bus.stats()
