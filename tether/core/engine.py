"""Engine: the lifecycle of one Tether instance, and where messages are routed.

The engine routes; it decides nothing about safety (the gatekeeper does) and
carries nothing (connectors do). It receives every collaborator ready-made from
`build_engine()`.
"""

from __future__ import annotations

from types import TracebackType
from typing import Self

import structlog

from tether.core.config import TetherConfig
from tether.core.events import ENGINE_STARTED, ENGINE_STOPPED, Event, EventBus
from tether.core.safety.audit import AuditLogger
from tether.plugins.base import PluginContext
from tether.plugins.registry import PluginRegistry

__all__ = ["Engine"]

logger = structlog.get_logger(__name__)


class Engine:
    """One running Tether: plugins, event bus, safety pipeline, agent and connector.

    `startup()` initializes and starts the plugins and emits `engine.started`;
    `shutdown()` emits `engine.stopped`, stops the plugins (last first) and
    releases everything else. Both are idempotent, shutdown is safe after a
    failed startup, and `async with engine:` does both.
    """

    def __init__(
        self,
        *,
        config: TetherConfig,
        event_bus: EventBus,
        plugins: PluginRegistry,
        audit_logger: AuditLogger,
    ) -> None:
        self.config = config
        self.event_bus = event_bus
        self.plugins = plugins
        self.audit_logger = audit_logger
        self._started = False
        self._stopped = False

    @property
    def is_running(self) -> bool:
        return self._started and not self._stopped

    async def startup(self) -> None:
        """Initialize and start every plugin, then emit `engine.started`.

        Raises:
            PluginError: a plugin failed; the plugins already started are stopped.
        """
        if self._started:
            return
        self._started = True
        self._stopped = False
        await self.plugins.init_all(PluginContext(event_bus=self.event_bus, config=self.config))
        await self.plugins.start_all()
        await self.event_bus.emit(Event(name=ENGINE_STARTED))
        logger.info("engine_started", plugins=[p.meta.name for p in self.plugins.plugins])

    async def shutdown(self) -> None:
        """Emit `engine.stopped`, stop the plugins, flush the audit log. Never raises twice."""
        if not self._started or self._stopped:
            return
        self._stopped = True
        await self.event_bus.emit(Event(name=ENGINE_STOPPED))
        await self.plugins.stop_all()
        await self.audit_logger.close()
        logger.info("engine_stopped")

    async def __aenter__(self) -> Self:
        await self.startup()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.shutdown()
