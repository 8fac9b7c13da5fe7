"""AuditPlugin: sandbox denials become high-risk security violations; nothing else is written."""

# Checking that a file in tmp_path was not created is the assertion, not a hazard.
# ruff: noqa: ASYNC240

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import structlog

from tether.core.config import TetherConfig
from tether.core.events import TOOL_ALLOWED, TOOL_DENIED, TOOL_GATED, Event, EventBus
from tether.core.safety.audit import AuditLogger, read_audit_log
from tether.plugins.base import PluginContext, TetherPlugin
from tether.plugins.builtin.audit_plugin import AuditPlugin
from tether.plugins.registry import PluginRegistry


@pytest.fixture
def log_path(tmp_path: Path) -> Path:
    return tmp_path / "audit.jsonl"


@pytest.fixture
async def bus(log_path: Path, config: TetherConfig) -> AsyncIterator[EventBus]:
    """A bus with a started AuditPlugin writing to `log_path`."""
    bus = EventBus(handler_timeout=1)
    audit = AuditLogger(log_path)
    registry = PluginRegistry()
    registry.register(AuditPlugin(audit))
    await registry.init_all(PluginContext(event_bus=bus, config=config))
    await registry.start_all()
    yield bus
    await registry.stop_all()
    await audit.close()


def _denied(violation_type: str, **data: object) -> Event:
    payload = {
        "session_id": "session-1",
        "chat_id": 42,
        "tool_name": "Read",
        "reason": "/etc/shadow is outside the approved directories",
        "violation_type": violation_type,
    }
    payload.update(data)
    return Event(name=TOOL_DENIED, data=payload)


def test_meta(log_path: Path) -> None:
    plugin = AuditPlugin(AuditLogger(log_path))
    assert plugin.meta.name == "audit"
    assert plugin.meta.version
    assert plugin.meta.description
    assert isinstance(plugin, TetherPlugin)


async def test_a_sandbox_denial_is_one_high_risk_security_violation(
    bus: EventBus, log_path: Path
) -> None:
    await bus.emit(_denied("sandbox"))

    (entry,) = read_audit_log(log_path)
    assert entry["event_type"] == "security_violation"
    assert entry["risk_level"] == "high"
    assert entry["session_id"] == "session-1"
    assert entry["tool_name"] == "Read"
    assert entry["reason"] == "/etc/shadow is outside the approved directories"


async def test_each_sandbox_denial_is_written(bus: EventBus, log_path: Path) -> None:
    for tool in ("Read", "Write", "Bash"):
        await bus.emit(_denied("sandbox", tool_name=tool))
    assert [entry["tool_name"] for entry in read_audit_log(log_path)] == ["Read", "Write", "Bash"]


@pytest.mark.parametrize(
    "violation_type",
    [
        pytest.param("policy", id="policy"),
        pytest.param("approval", id="approval"),
        pytest.param("analysis", id="other-kind"),
        pytest.param("", id="empty"),
        pytest.param("Sandbox", id="case-differs"),
    ],
)
async def test_other_denials_are_not_written_by_the_plugin(
    bus: EventBus, log_path: Path, violation_type: str
) -> None:
    await bus.emit(_denied(violation_type))
    assert not log_path.exists()


async def test_a_denial_without_a_violation_type_is_not_written(
    bus: EventBus, log_path: Path
) -> None:
    await bus.emit(Event(name=TOOL_DENIED, data={"session_id": "s", "tool_name": "Read"}))
    assert not log_path.exists()


@pytest.mark.parametrize(
    "name", [pytest.param(TOOL_GATED, id="gated"), pytest.param(TOOL_ALLOWED, id="allowed")]
)
async def test_other_events_are_ignored(bus: EventBus, log_path: Path, name: str) -> None:
    await bus.emit(Event(name=name, data={"violation_type": "sandbox", "tool_name": "Read"}))
    assert not log_path.exists()


async def test_long_reasons_are_truncated(bus: EventBus, log_path: Path) -> None:
    await bus.emit(_denied("sandbox", reason="r" * 2000))
    (entry,) = read_audit_log(log_path)
    assert entry["reason"].startswith("r" * 500 + "…[truncated")


async def test_after_stop_nothing_more_is_written(log_path: Path, config: TetherConfig) -> None:
    bus = EventBus()
    audit = AuditLogger(log_path)
    plugin = AuditPlugin(audit)
    await plugin.initialize(PluginContext(event_bus=bus, config=config))
    await plugin.start()
    await bus.emit(_denied("sandbox"))
    await plugin.stop()
    await bus.emit(_denied("sandbox"))
    await audit.close()
    assert len(read_audit_log(log_path)) == 1
    assert bus.handlers_for(TOOL_DENIED) == ()


async def test_stop_before_initialize_is_harmless(log_path: Path) -> None:
    await AuditPlugin(AuditLogger(log_path)).stop()


async def test_a_failing_audit_write_is_contained_and_logged(
    tmp_path: Path, config: TetherConfig
) -> None:
    """The bus contains it: the gatekeeper's own record of the denial is what must not fail."""
    (tmp_path / "blocked").mkdir()
    bus = EventBus()
    plugin = AuditPlugin(AuditLogger(tmp_path / "blocked"))
    await plugin.initialize(PluginContext(event_bus=bus, config=config))
    with structlog.testing.capture_logs() as logs:
        await bus.emit(_denied("sandbox"))
    (failure,) = [entry for entry in logs if entry["event"] == "event_handler_failed"]
    assert "AuditPlugin" in failure["handler"]
    assert "AuditError" in failure["error"]
