"""capture_events: record every event emitted on a bus while a `with` block runs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from tether.core.events import WILDCARD, Event, EventBus
from tether.plugins.bus import PluginEventBus

__all__ = ["CapturedEvents", "capture_events"]


class CapturedEvents:
    """The events delivered while the capture was open, in the order they were emitted."""

    __slots__ = ("events",)

    def __init__(self) -> None:
        self.events: list[Event] = []

    async def __call__(self, event: Event) -> None:
        self.events.append(event)

    def names(self) -> list[str]:
        """Every captured event's name, in order."""
        return [event.name for event in self.events]

    def named(self, name: str) -> list[Event]:
        """The captured events called `name`, in order."""
        return [event for event in self.events if event.name == name]

    def __len__(self) -> int:
        return len(self.events)

    def __iter__(self) -> Iterator[Event]:
        return iter(self.events)


@contextmanager
def capture_events(bus: EventBus | PluginEventBus) -> Iterator[CapturedEvents]:
    """Record every event emitted on `bus` until the block ends.

    An event is recorded when the bus delivers it, so what a test sees is what a
    plugin subscribed to `*` would see (a nested emit the bus drops is not
    recorded). `engine.event_bus` captures the engine's events.
    """
    captured = CapturedEvents()
    bus.subscribe(WILDCARD, captured)
    try:
        yield captured
    finally:
        bus.unsubscribe(WILDCARD, captured)
