"""ToolGatekeeper: events in order, one audit entry per call, approvals, auto-approval."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.core.safety.conftest import EventLog, FakeRequester
from tether.core.config import TetherConfig
from tether.core.events import SAFETY_VIOLATION, TOOL_ALLOWED, TOOL_DENIED, TOOL_GATED, EventBus
from tether.core.safety.approvals import ApprovalCoordinator
from tether.core.safety.audit import AuditLogger, read_audit_log
from tether.core.safety.gatekeeper import GateDecision, ToolGatekeeper, describe_for_approval
from tether.core.safety.pipeline import SafetyPipeline
from tether.plugins.base import PluginContext
from tether.plugins.builtin.audit_plugin import AuditPlugin

MakePipeline = Callable[..., SafetyPipeline]


@pytest.fixture
def approvals(
    event_bus: EventBus, audit_logger: AuditLogger, requester: FakeRequester
) -> ApprovalCoordinator:
    return ApprovalCoordinator(
        event_bus=event_bus, audit_logger=audit_logger, requester=requester, timeout_seconds=2
    )


@pytest.fixture
def gate(
    make_pipeline: MakePipeline,
    approvals: ApprovalCoordinator,
    event_bus: EventBus,
    audit_logger: AuditLogger,
) -> ToolGatekeeper:
    return ToolGatekeeper(make_pipeline(), approvals, event_bus, audit_logger)


async def check(
    gate: ToolGatekeeper, tool_name: Any, tool_input: Any, **kwargs: Any
) -> GateDecision:
    return await gate.check(tool_name, tool_input, "s1", 42, user_id=7, **kwargs)


def attempts(audit_logger: AuditLogger) -> list[dict[str, Any]]:
    return [e for e in read_audit_log(audit_logger.path) if e["event_type"] == "tool_attempt"]


async def answer_when_asked(
    requester: FakeRequester, approvals: ApprovalCoordinator, approved: bool, user: int = 7
) -> None:
    await requester.asked.wait()
    await approvals.resolve(requester.last_id, approved, user)


async def test_allowed_call(
    gate: ToolGatekeeper, event_log: EventLog, audit_logger: AuditLogger
) -> None:
    decision = await check(gate, "Bash", {"command": "git status"})
    assert decision.allowed
    assert (decision.decision, decision.layer, decision.rule) == ("allow", "policy", "git-read")
    assert event_log.names() == [TOOL_GATED, TOOL_ALLOWED]
    gated = event_log.events[0].data
    assert gated == {
        "session_id": "s1",
        "chat_id": 42,
        "tool_name": "Bash",
        "tool_input": {"command": "git status"},
    }
    (entry,) = attempts(audit_logger)
    assert entry["decision"]["allowed"] is True
    assert entry["session_id"] == "s1"


async def test_policy_denial(
    gate: ToolGatekeeper, event_log: EventLog, audit_logger: AuditLogger
) -> None:
    decision = await check(gate, "Bash", {"command": "git push --force"})
    assert not decision.allowed
    assert decision.reason and decision.reason.startswith("Denied:")
    assert decision.violation_type == "policy"
    denied = event_log.named(TOOL_DENIED)[0].data
    assert denied["violation_type"] == "policy"
    assert denied["reason"] == decision.reason
    assert {"session_id", "chat_id", "tool_name", "reason", "violation_type"} <= denied.keys()
    assert attempts(audit_logger)[0]["decision"]["allowed"] is False


async def test_sandbox_denial_is_recorded_once_as_a_violation(
    gate: ToolGatekeeper,
    event_bus: EventBus,
    audit_logger: AuditLogger,
    config: TetherConfig,
) -> None:
    plugin = AuditPlugin(audit_logger)
    await plugin.initialize(PluginContext(event_bus=event_bus, config=config))
    log = EventLog(event_bus)
    decision = await check(gate, "Read", {"file_path": "/etc/passwd"})
    assert decision.violation_type == "sandbox"
    types = [e["event_type"] for e in read_audit_log(audit_logger.path)]
    assert types == ["tool_attempt", "security_violation"]
    assert log.names() == [TOOL_GATED, TOOL_DENIED, SAFETY_VIOLATION]
    assert log.named(SAFETY_VIOLATION)[0].data["reason"] == decision.reason


async def test_invalid_input(
    gate: ToolGatekeeper, event_log: EventLog, audit_logger: AuditLogger
) -> None:
    decision = await check(gate, "Bash", None)
    assert not decision.allowed
    assert decision.violation_type == "invalid_input"
    assert event_log.named(TOOL_DENIED)[0].data["violation_type"] == "invalid_input"
    assert attempts(audit_logger)[0]["tool_input"] is None


async def test_approved_by_a_person(
    gate: ToolGatekeeper,
    approvals: ApprovalCoordinator,
    requester: FakeRequester,
    audit_logger: AuditLogger,
) -> None:
    answer = asyncio.create_task(answer_when_asked(requester, approvals, True))
    decision = await check(gate, "Bash", {"command": "rm -rf build"})
    await answer
    assert decision.allowed
    assert (decision.decision, decision.approval) == ("require_approval", "approved")
    assert decision.approval_id == requester.last_id
    assert "rm -rf build" in requester.requests[0][2]
    types = [e["event_type"] for e in read_audit_log(audit_logger.path)]
    assert types == ["approval", "tool_attempt"]


async def test_rejected_by_a_person(
    gate: ToolGatekeeper,
    approvals: ApprovalCoordinator,
    requester: FakeRequester,
    event_log: EventLog,
) -> None:
    answer = asyncio.create_task(answer_when_asked(requester, approvals, False))
    decision = await check(gate, "Bash", {"command": "rm -rf build"})
    await answer
    assert not decision.allowed
    assert (decision.violation_type, decision.approval) == ("approval", "rejected")
    assert event_log.named(TOOL_DENIED)[0].data["violation_type"] == "approval"


async def test_only_the_owner_may_approve(
    gate: ToolGatekeeper, approvals: ApprovalCoordinator, requester: FakeRequester
) -> None:
    async def stranger_then_owner() -> None:
        await requester.asked.wait()
        assert not (await approvals.resolve(requester.last_id, True, 99)).accepted
        await approvals.resolve(requester.last_id, False, 7)

    answer = asyncio.create_task(stranger_then_owner())
    decision = await check(gate, "Bash", {"command": "rm -rf build"})
    await answer
    assert not decision.allowed


async def test_without_a_connector_asking_means_denying(
    make_pipeline: MakePipeline, event_bus: EventBus, audit_logger: AuditLogger
) -> None:
    approvals = ApprovalCoordinator(event_bus=event_bus, audit_logger=audit_logger)
    gate = ToolGatekeeper(make_pipeline(), approvals, event_bus, audit_logger)
    decision = await check(gate, "Bash", {"command": "rm -rf build"})
    assert not decision.allowed
    assert decision.approval == "unavailable"


async def test_auto_approve_a_tool(gate: ToolGatekeeper, requester: FakeRequester) -> None:
    gate.auto_approve(42, "Write")
    write = await check(gate, "Write", {"file_path": "x.py", "content": ""})
    assert write.allowed and write.approval == "auto"
    assert not requester.requests
    assert gate.auto_approve_state(42).tools == frozenset({"Write"})
    assert gate.auto_approve_state(43).tools == frozenset()


async def test_auto_approve_never_overrides_a_deny(gate: ToolGatekeeper) -> None:
    gate.auto_approve(42)
    assert not (await check(gate, "Bash", {"command": "rm -rf /"})).allowed
    assert not (await check(gate, "Write", {"file_path": ".env", "content": ""})).allowed


async def test_auto_approve_still_asks_for_what_was_not_understood(
    gate: ToolGatekeeper, approvals: ApprovalCoordinator, requester: FakeRequester
) -> None:
    gate.auto_approve(42)
    answer = asyncio.create_task(answer_when_asked(requester, approvals, False))
    decision = await check(gate, "Bash", {"command": "$CMD"})
    await answer
    assert not decision.allowed
    assert requester.requests


async def test_revoke_and_clear(gate: ToolGatekeeper) -> None:
    gate.auto_approve(42, "Write")
    gate.auto_approve(42, "Edit")
    gate.auto_approve(42)
    gate.revoke_auto_approve(42, "Write")
    state = gate.auto_approve_state(42)
    assert state.blanket and state.tools == frozenset({"Edit"})
    gate.revoke_auto_approve(42)
    assert not gate.auto_approve_state(42).blanket
    gate.clear_auto_approve(42)
    assert gate.auto_approve_state(42).tools == frozenset()


async def test_a_failing_pipeline_is_a_deny(
    gate: ToolGatekeeper, monkeypatch: pytest.MonkeyPatch, audit_logger: AuditLogger
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(gate.pipeline, "decide", broken)
    decision = await check(gate, "Bash", {"command": "ls"})
    assert not decision.allowed
    assert decision.violation_type == "error"
    assert attempts(audit_logger)[0]["decision"]["allowed"] is False


async def test_an_unrecordable_allow_becomes_a_deny(
    gate: ToolGatekeeper, audit_logger: AuditLogger, event_log: EventLog
) -> None:
    await audit_logger.close()
    decision = await check(gate, "Bash", {"command": "ls"})
    assert not decision.allowed
    assert "audit log" in (decision.reason or "")
    assert event_log.names()[-1] == TOOL_DENIED


async def test_cancellation_propagates(gate: ToolGatekeeper, requester: FakeRequester) -> None:
    task = asyncio.create_task(check(gate, "Bash", {"command": "rm -rf build"}))
    await requester.asked.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_working_directory_is_the_sessions(gate: ToolGatekeeper, project_dir: Path) -> None:
    inside = await check(gate, "Bash", {"command": "cat ../README.md"}, cwd=project_dir / "src")
    assert inside.allowed


async def test_huge_odd_input_is_logged_bounded(
    gate: ToolGatekeeper, audit_logger: AuditLogger
) -> None:
    value: Any = "x" * 10_000
    for _ in range(40):
        value = [value]
    decision = await check(gate, "TodoWrite", {"todos": value})
    assert not decision.allowed
    assert attempts(audit_logger)


def test_approval_description_is_short_and_names_the_rule(
    make_pipeline: MakePipeline,
) -> None:
    verdict = make_pipeline().decide("Bash", {"command": "rm -rf build && " + "x" * 1000})
    text = describe_for_approval("Bash", verdict)
    assert text.startswith("🔐 Bash: rm -rf build")
    assert "rule deletes" in text
    assert "Risk: high" in text
    assert len(text) < 700


class TestApprovalPreview:
    """The gate builds a preview only when it asks, with the diff against the file as it is."""

    async def test_an_asked_edit_carries_a_diff_with_a_relative_path(
        self,
        gate: ToolGatekeeper,
        requester: FakeRequester,
        approvals: ApprovalCoordinator,
        project_dir: Path,
    ) -> None:
        target = project_dir / "src" / "app.py"
        answer = asyncio.create_task(answer_when_asked(requester, approvals, True))
        decision = await check(
            gate,
            "Edit",
            {"file_path": str(target), "old_string": "hello", "new_string": "bye"},
            cwd=project_dir,
        )
        await answer
        assert decision.allowed
        (preview,) = requester.previews
        assert preview is not None and preview.kind == "diff"
        assert preview.subject == "src/app.py"
        assert "-print('hello')" in preview.body and "+print('bye')" in preview.body
        assert preview.reason and preview.rule

    async def test_an_allowed_call_builds_no_preview(
        self, gate: ToolGatekeeper, requester: FakeRequester
    ) -> None:
        await check(gate, "Bash", {"command": "git status"})
        assert requester.previews == []

    async def test_the_person_s_reason_reaches_the_agent(
        self, gate: ToolGatekeeper, requester: FakeRequester, approvals: ApprovalCoordinator
    ) -> None:
        async def reject_with_reason() -> None:
            await requester.asked.wait()
            await approvals.await_reason(requester.last_id, 7)
            await approvals.take_reason(42, 7, "use uv instead of pip")

        answer = asyncio.create_task(reject_with_reason())
        decision = await check(gate, "Bash", {"command": "pip install requests"})
        await answer
        assert not decision.allowed
        assert decision.reason is not None
        assert decision.reason.endswith("rejected by the user, who says: use uv instead of pip.")
