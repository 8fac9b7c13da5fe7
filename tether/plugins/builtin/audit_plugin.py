"""AuditPlugin: writes sandbox violations to the audit log as security violations."""

from __future__ import annotations

from tether.core.events import TOOL_DENIED, Event
from tether.core.safety.audit import AuditLogger
from tether.plugins.base import PluginContext, PluginMeta

__all__ = ["AuditPlugin"]


class AuditPlugin:
    """Always registered first. On `tool.denied` with `violation_type == "sandbox"` it
    records a high-risk security violation. Policy denials are not logged here: the
    gatekeeper already writes them as tool attempts.
    """

    meta = PluginMeta(
        name="audit",
        version="1.0.0",
        description="Records sandbox violations in the audit log",
    )

    def __init__(self, audit_logger: AuditLogger) -> None:
        self._audit = audit_logger
        self._context: PluginContext | None = None

    async def initialize(self, context: PluginContext) -> None:
        self._context = context
        context.event_bus.subscribe(TOOL_DENIED, self._on_tool_denied)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        if self._context is not None:
            self._context.event_bus.unsubscribe(TOOL_DENIED, self._on_tool_denied)

    async def _on_tool_denied(self, event: Event) -> None:
        if event.data.get("violation_type") != "sandbox":
            return
        await self._audit.log_security_violation(
            session_id=str(event.data.get("session_id", "")),
            tool_name=str(event.data.get("tool_name", "")),
            reason=str(event.data.get("reason", "")),
            risk_level="high",
        )
