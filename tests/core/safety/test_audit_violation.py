"""`log_security_violation`: the line `log` writes for it, written in place without a turn
of the event loop, so the AuditPlugin's handler finishes a sandbox denial in one step."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import pytest

from tether.core.config import TetherConfig
from tether.core.events import EventBus
from tether.core.safety.approvals import ApprovalCoordinator
from tether.core.safety.audit import MAX_STRING_LENGTH, AuditLogger, read_audit_log
from tether.core.safety.gatekeeper import ToolGatekeeper
from tether.plugins.base import PluginContext
from tether.plugins.builtin.audit_plugin import AuditPlugin
from tether.plugins.registry import PluginRegistry

from .conftest import MakePipeline

_TIMESTAMP = re.compile(r'"timestamp": "[^"]*", ')


def _lines(path: Path) -> list[str]:
    return [_TIMESTAMP.sub("", line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.mark.parametrize(
    ("session_id", "tool_name", "reason", "risk_level"),
    [
        pytest.param("s1", "Read", "'/etc/passwd' is outside", "high", id="plain"),
        pytest.param("s1", "Bash", "r" * MAX_STRING_LENGTH, "high", id="reason-at-the-limit"),
        pytest.param("s1", "Bash", "r" * (MAX_STRING_LENGTH + 1), "high", id="reason-cut"),
        pytest.param("s" * (MAX_STRING_LENGTH + 1), "Bash", "why", "high", id="session-cut"),
        pytest.param("s1", "Bash", "é ü — 名前", "high", id="non-ascii"),
        pytest.param("s1", "Bash", 'a "quoted" \\ back\nslash\t\x00\x1f', "high", id="escapes"),
        pytest.param("s1", "Bash", "lone \ud800 surrogate", "high", id="lone-surrogate"),
        pytest.param(7, None, "why", "high", id="not-text"),
        pytest.param("s1", "Bash", "why", "\n" * MAX_STRING_LENGTH, id="escapes-at-the-limit"),
    ],
)
async def test_the_entry_is_the_line_log_writes(
    tmp_path: Path, session_id: Any, tool_name: Any, reason: Any, risk_level: Any
) -> None:
    direct = AuditLogger(tmp_path / "direct.jsonl")
    general = AuditLogger(tmp_path / "general.jsonl")
    for log in (direct, general):
        await log.log("open")  # the file is open: the entry below is written in place
    assert await direct.log_security_violation(session_id, tool_name, reason, risk_level) == 2
    assert (
        await general.log(
            "security_violation",
            session_id=session_id,
            tool_name=tool_name,
            reason=reason,
            risk_level=risk_level,
        )
        == 2
    )
    await direct.close()
    await general.close()
    assert _lines(direct.path) == _lines(general.path)


async def test_it_is_written_when_it_returns_and_the_loop_did_not_turn(tmp_path: Path) -> None:
    audit = AuditLogger(tmp_path / "audit.jsonl")
    await audit.log("open")
    turned = asyncio.Event()
    asyncio.get_running_loop().call_soon(turned.set)
    for n in range(3):
        assert await audit.log_security_violation("s", "Read", "outside", "high") == n + 2
        assert len(read_audit_log(audit.path)) == n + 2
    assert not turned.is_set()
    await audit.close()


async def test_before_the_log_is_open_and_with_fsync_it_is_written_too(tmp_path: Path) -> None:
    audit = AuditLogger(tmp_path / "audit.jsonl", fsync=True)
    assert await audit.log_security_violation("s", "Read", "outside", "high") == 1
    assert await audit.log_security_violation("s", "Read", "outside", "high") == 2
    await audit.close()
    entries = read_audit_log(audit.path)
    assert [entry["event_type"] for entry in entries] == ["security_violation"] * 2


async def test_a_sandbox_denial_is_recorded_without_a_turn_of_the_loop(
    make_pipeline: MakePipeline, tmp_path: Path, config: TetherConfig
) -> None:
    """The gate's entry and the AuditPlugin's, each written once, in the call itself."""
    bus = EventBus()
    audit = AuditLogger(tmp_path / "audit.jsonl")
    registry = PluginRegistry()
    registry.register(AuditPlugin(audit))
    await registry.init_all(PluginContext(event_bus=bus, config=config))
    await registry.start_all()
    gate = ToolGatekeeper(
        make_pipeline(), ApprovalCoordinator(event_bus=bus, audit_logger=audit), bus, audit
    )
    await audit.open()
    for command in ("rm -rf /", "cat /etc/passwd"):
        turned = asyncio.Event()
        asyncio.get_running_loop().call_soon(turned.set)
        decision = await gate.check("Bash", {"command": command}, "s1", 42, user_id=7)
        assert decision.violation_type == "sandbox"
        assert not turned.is_set()
    await registry.stop_all()
    await audit.close()
    entries = read_audit_log(audit.path)
    assert [entry["event_type"] for entry in entries] == [
        "tool_attempt",
        "security_violation",
    ] * 2
    assert [entry["seq"] for entry in entries] == [1, 2, 3, 4]
    assert entries[1]["reason"] == entries[0]["decision"]["reason"]
