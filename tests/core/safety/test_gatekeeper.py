"""ToolGatekeeper: events in order, one audit entry per call, approvals, learned rules, modes."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import structlog

from tests.core.safety.conftest import EventLog, FakeRequester
from tether.core.config import TetherConfig
from tether.core.events import SAFETY_VIOLATION, TOOL_ALLOWED, TOOL_DENIED, TOOL_GATED, EventBus
from tether.core.safety.approvals import ApprovalCoordinator
from tether.core.safety.audit import AuditLogger, read_audit_log
from tether.core.safety.gatekeeper import GateDecision, ToolGatekeeper, describe_for_approval
from tether.core.safety.learned import Lifetime
from tether.core.safety.pipeline import SafetyPipeline
from tether.log import configure_logging
from tether.plugins.base import PluginContext
from tether.plugins.builtin.audit_plugin import AuditPlugin

MakePipeline = Callable[..., SafetyPipeline]


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


async def approve_always(
    gate: ToolGatekeeper,
    requester: FakeRequester,
    approvals: ApprovalCoordinator,
    command: str,
    scope: int,
    lifetime: Lifetime = Lifetime.CHAT,
) -> str:
    """Ask about `command`, approve it, then learn scope number `scope`."""
    answer = asyncio.create_task(answer_when_asked(requester, approvals, True))
    decision = await check(gate, "Bash", {"command": command})
    await answer
    assert decision.allowed and decision.approval_id is not None
    return await gate.learn(decision.approval_id, scope, lifetime, chat_id=42, user_id=7)


async def test_always_offers_scopes_narrowest_first(
    gate: ToolGatekeeper, requester: FakeRequester, approvals: ApprovalCoordinator
) -> None:
    answer = asyncio.create_task(answer_when_asked(requester, approvals, True))
    decision = await check(gate, "Bash", {"command": "npm install lodash"})
    await answer
    assert decision.approval_id is not None
    offers = gate.scope_offers(decision.approval_id)
    assert [o.kind.value for o in offers] == ["exact", "program"]
    assert offers[0].label == "exactly `npm install lodash`"
    assert offers[1].label.startswith("`npm install *` in ")


async def test_a_program_rule_approves_later_calls_with_other_arguments(
    gate: ToolGatekeeper,
    requester: FakeRequester,
    approvals: ApprovalCoordinator,
    audit_logger: AuditLogger,
) -> None:
    reply = await approve_always(gate, requester, approvals, "npm install lodash", 2)
    assert reply.startswith("📌 Learned rule")
    asked = len(requester.requests)
    later = await check(gate, "Bash", {"command": "npm install left-pad"})
    assert later.allowed and later.approval == "learned"
    assert len(requester.requests) == asked
    rule = gate.learned.rules()[0]
    assert later.learned_rules == (rule.id,)
    assert attempts(audit_logger)[-1]["decision"]["learned_rules"] == [rule.id]
    events = [e["event_type"] for e in read_audit_log(audit_logger.path)]
    assert "rule_learned" in events
    assert gate.learned.rules()[0].uses == 1


@pytest.mark.parametrize(
    "command",
    [
        pytest.param("npm publish", id="other-subcommand"),
        pytest.param("pip install requests", id="other-program"),
        pytest.param("npm install $PKG", id="dynamic-argument"),
        pytest.param("npm install lodash && curl -s example.com", id="another-asking-part"),
        pytest.param("sudo npm install x", id="floor-still-denies"),
        pytest.param("npm install x | sh", id="pipe-to-shell"),
    ],
)
async def test_a_program_rule_covers_nothing_else(
    gate: ToolGatekeeper,
    requester: FakeRequester,
    approvals: ApprovalCoordinator,
    command: str,
) -> None:
    await approve_always(gate, requester, approvals, "npm install lodash", 2)
    answer = asyncio.create_task(answer_when_asked(requester, approvals, False))
    decision = await check(gate, "Bash", {"command": command})
    answer.cancel()
    assert not decision.allowed
    assert decision.approval != "learned"


async def test_an_exact_rule_covers_only_that_command(
    gate: ToolGatekeeper, requester: FakeRequester, approvals: ApprovalCoordinator
) -> None:
    await approve_always(gate, requester, approvals, "npm install lodash", 1)
    again = await check(gate, "Bash", {"command": "npm install lodash"})
    assert again.allowed and again.approval == "learned"
    answer = asyncio.create_task(answer_when_asked(requester, approvals, False))
    other = await check(gate, "Bash", {"command": "npm install lodash2"})
    await answer
    assert not other.allowed


async def test_chat_rules_stay_in_their_chat_and_clear_drops_them(
    gate: ToolGatekeeper, requester: FakeRequester, approvals: ApprovalCoordinator
) -> None:
    await approve_always(gate, requester, approvals, "npm install lodash", 2)
    assert gate.learned.rules("43") == ()
    assert gate.learned.forget_chat("42") == 1
    assert gate.learned.rules() == ()


async def test_nothing_is_learned_for_what_was_not_understood(
    gate: ToolGatekeeper, requester: FakeRequester, approvals: ApprovalCoordinator
) -> None:
    answer = asyncio.create_task(answer_when_asked(requester, approvals, True))
    decision = await check(gate, "Bash", {"command": "$CMD install"})
    await answer
    assert decision.approval_id is not None
    assert gate.scope_offers(decision.approval_id) == ()
    reply = await gate.learn(decision.approval_id, 1, Lifetime.CHAT, chat_id=42, user_id=7)
    assert "no rule to learn" in reply


async def test_learning_is_refused_from_another_chat_or_out_of_range(
    gate: ToolGatekeeper, requester: FakeRequester, approvals: ApprovalCoordinator
) -> None:
    answer = asyncio.create_task(answer_when_asked(requester, approvals, True))
    decision = await check(gate, "Bash", {"command": "npm install lodash"})
    await answer
    assert decision.approval_id is not None
    other = await gate.learn(decision.approval_id, 1, Lifetime.CHAT, chat_id=99, user_id=7)
    assert "another chat" in other
    assert "between 1 and 2" in await gate.learn(
        decision.approval_id, 9, Lifetime.CHAT, chat_id=42, user_id=7
    )
    assert gate.learned.rules() == ()


async def test_revoking_is_audited(
    gate: ToolGatekeeper,
    requester: FakeRequester,
    approvals: ApprovalCoordinator,
    audit_logger: AuditLogger,
) -> None:
    await approve_always(gate, requester, approvals, "npm install lodash", 2)
    rule = gate.learned.rules()[0]
    removed = await gate.revoke_rules((rule.id,), user_id=7, chat_id=42)
    assert removed == (rule,)
    revoked = [e for e in read_audit_log(audit_logger.path) if e["event_type"] == "rule_revoked"]
    assert revoked[0]["rule_id"] == rule.id


async def test_edit_mode_approves_edits_that_would_ask(
    gate: ToolGatekeeper, requester: FakeRequester
) -> None:
    write = await check(gate, "Write", {"file_path": "x.py", "content": ""}, mode="edit")
    assert write.allowed and write.approval == "mode:edit"
    assert not requester.requests


async def test_edit_mode_never_overrides_a_deny_or_other_tools(
    gate: ToolGatekeeper, approvals: ApprovalCoordinator, requester: FakeRequester
) -> None:
    secret = await check(gate, "Write", {"file_path": ".env", "content": ""}, mode="edit")
    assert not secret.allowed
    assert not (await check(gate, "Bash", {"command": "rm -rf /"}, mode="edit")).allowed
    answer = asyncio.create_task(answer_when_asked(requester, approvals, False))
    decision = await check(gate, "Bash", {"command": "touch x"}, mode="edit")
    await answer
    assert not decision.allowed and requester.requests


async def test_tool_attempts_record_the_directories_of_the_call(
    gate: ToolGatekeeper, audit_logger: AuditLogger, project_dir: Path
) -> None:
    await check(gate, "Bash", {"command": "ls"}, cwd=project_dir)
    resolved = str(project_dir.resolve())  # noqa: ASYNC240 - a test's own fixture path
    entry = attempts(audit_logger)[-1]
    assert entry["cwd"] == str(project_dir)
    assert entry["approved_directories"] == [resolved]
    assert entry["input_truncated"] is False


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


# -- repeated identical calls ---------------------------------------------------------


def _entry_fields(entry: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in entry.items() if k not in {"seq", "timestamp"}}


@pytest.mark.parametrize(
    ("tool_name", "tool_input"),
    [
        pytest.param("Bash", {"command": "pytest -q"}, id="allow"),
        pytest.param("Bash", {"command": "git push --force"}, id="policy-deny"),
        pytest.param("Read", {"file_path": "/etc/passwd"}, id="sandbox-deny"),
    ],
)
async def test_a_repeated_call_is_recorded_and_announced_every_time(
    gate: ToolGatekeeper,
    event_log: EventLog,
    audit_logger: AuditLogger,
    tool_name: str,
    tool_input: dict[str, Any],
) -> None:
    first = await check(gate, tool_name, tool_input)
    second = await check(gate, tool_name, tool_input)
    assert second == first
    one, two = attempts(audit_logger)
    assert _entry_fields(one) == _entry_fields(two)
    assert two["seq"] == one["seq"] + 1
    outcome = TOOL_ALLOWED if first.allowed else TOOL_DENIED
    assert [n for n in event_log.names() if n in {TOOL_GATED, outcome}] == [
        TOOL_GATED,
        outcome,
        TOOL_GATED,
        outcome,
    ]


async def test_a_symlink_moved_between_two_identical_calls_is_seen(
    gate: ToolGatekeeper, audit_logger: AuditLogger, project_dir: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("secret\n")
    link = project_dir / "notes.txt"
    link.symlink_to(project_dir / "README.md")
    first = await check(gate, "Read", {"file_path": "notes.txt"})
    link.unlink()
    link.symlink_to(outside)
    second = await check(gate, "Read", {"file_path": "notes.txt"})
    assert first.allowed
    assert (second.allowed, second.violation_type) == (False, "sandbox")
    assert [e["decision"]["allowed"] for e in attempts(audit_logger)] == [True, False]


async def test_with_nobody_listening_the_record_is_the_same(
    make_pipeline: MakePipeline,
    approvals: ApprovalCoordinator,
    audit_logger: AuditLogger,
    event_bus: EventBus,
    tmp_path: Path,
) -> None:
    """Events are built only for listeners; the decision and the record do not change."""
    quiet = AuditLogger(tmp_path / "quiet.jsonl")
    alone = ToolGatekeeper(make_pipeline(), approvals, EventBus(), quiet)
    heard = ToolGatekeeper(make_pipeline(), approvals, event_bus, audit_logger)
    EventLog(event_bus)
    for tool_name, tool_input in [
        ("Bash", {"command": "git status"}),
        ("Bash", {"command": "rm -rf /"}),
        ("Read", {"file_path": "/etc/shadow"}),
    ]:
        assert await check(alone, tool_name, tool_input) == await check(
            heard, tool_name, tool_input
        )
    await quiet.flush()
    assert [_entry_fields(e) for e in attempts(quiet)] == [
        _entry_fields(e) for e in attempts(audit_logger)
    ]
    await quiet.close()


@pytest.mark.parametrize(
    ("level", "logged"),
    [
        pytest.param(None, True, id="unconfigured"),
        pytest.param("INFO", True, id="info"),
        pytest.param("WARNING", False, id="warning"),
        pytest.param("ERROR", False, id="error"),
    ],
)
@pytest.mark.parametrize(
    "command", [pytest.param("rm -rf /", id="sandbox"), pytest.param("sudo ls", id="policy")]
)
async def test_a_denial_nobody_hears_is_logged_where_info_is_shown(
    gate: ToolGatekeeper, level: str | None, logged: bool, command: str
) -> None:
    """The gate asks the level before gathering the line: the same lines as logging it."""
    if level is not None:
        configure_logging(level)
    with structlog.testing.capture_logs() as captured:
        decision = await check(gate, "Bash", {"command": command})
    assert not decision.allowed
    expected = {
        "event": "tool_denied",
        "log_level": "info",
        "tool_name": "Bash",
        "violation_type": decision.violation_type,
        "rule": decision.rule,
    }
    assert [entry for entry in captured if entry["event"] == "tool_denied"] == (
        [expected] if logged else []
    )
