"""ToolGate: the hook and the backstop answer with the gate's decision, and fail closed."""

from __future__ import annotations

from typing import Any

import pytest
from claude_agent_sdk import PermissionResultAllow, PermissionResultDeny, ToolPermissionContext

from tests.agents.support import RecordingGate
from tether.agents.claude_gate import DEFAULT_DENY_REASON, ToolGate
from tether.core.safety.gatekeeper import GateDecision


def _hook_input(tool_name: Any = "Bash", tool_input: Any = None, **extra: Any) -> Any:
    return {
        "hook_event_name": "PreToolUse",
        "session_id": "s",
        "transcript_path": "/tmp/t",
        "cwd": "/tmp",
        "tool_name": tool_name,
        "tool_input": {"command": "ls"} if tool_input is None else tool_input,
        "tool_use_id": "toolu_1",
        **extra,
    }


async def _ask_hook(gate: ToolGate, hook_input: Any) -> dict[str, Any]:
    output = await gate.pre_tool_use(hook_input, "toolu_1", {"signal": None})
    return dict(output.get("hookSpecificOutput") or {})


async def test_the_hook_allows_with_the_gates_updated_input() -> None:
    recording = RecordingGate(
        decide=lambda name, _: GateDecision(allowed=True, updated_input={"command": "ls -a"})
    )
    gate = ToolGate()
    gate.open(recording)

    output = await _ask_hook(gate, _hook_input())

    assert output == {
        "hookEventName": "PreToolUse",
        "permissionDecision": "allow",
        "updatedInput": {"command": "ls -a"},
    }
    assert recording.calls == [("Bash", {"command": "ls"})]
    assert gate.tools_used == ("Bash",)


async def test_the_hook_denies_with_the_gates_reason_or_a_default() -> None:
    gate = ToolGate()
    gate.open(RecordingGate(decide=lambda name, _: GateDecision(allowed=False)))

    output = await _ask_hook(gate, _hook_input())

    assert output["permissionDecision"] == "deny"
    assert output["permissionDecisionReason"] == DEFAULT_DENY_REASON
    assert gate.tools_used == ()


@pytest.mark.parametrize(
    ("hook_input", "why"),
    [
        pytest.param(_hook_input(tool_name=None), "not a name", id="no-tool-name"),
        pytest.param(_hook_input(tool_name=""), "not a name", id="empty-tool-name"),
        pytest.param(_hook_input(tool_input=["ls"]), "not an object", id="input-not-object"),
    ],
)
async def test_a_malformed_call_is_denied_without_asking_the_gate(
    hook_input: Any, why: str
) -> None:
    recording = RecordingGate()
    gate = ToolGate()
    gate.open(recording)

    output = await _ask_hook(gate, hook_input)

    assert output["permissionDecision"] == "deny"
    assert why in output["permissionDecisionReason"]
    assert recording.calls == []


async def test_a_call_while_no_request_runs_is_denied() -> None:
    recording = RecordingGate()
    gate = ToolGate()
    gate.open(recording)
    gate.close()

    output = await _ask_hook(gate, _hook_input())

    assert output["permissionDecision"] == "deny"
    assert "no Tether request is running" in output["permissionDecisionReason"]
    assert recording.calls == []


async def test_a_gate_that_answers_with_something_else_denies() -> None:
    async def sloppy(name: str, tool_input: dict[str, Any]) -> Any:
        return True

    gate = ToolGate()
    gate.open(sloppy)

    output = await _ask_hook(gate, _hook_input())

    assert output["permissionDecision"] == "deny"


async def test_other_hook_events_get_no_opinion() -> None:
    gate = ToolGate()
    gate.open(RecordingGate())

    output = await gate.pre_tool_use(
        {"hook_event_name": "PostToolUse", "session_id": "s", "transcript_path": "t", "cwd": "/"},
        None,
        {"signal": None},
    )

    assert output == {}


async def test_the_backstop_reuses_the_hooks_decision_without_asking_twice() -> None:
    recording = RecordingGate(decide=lambda name, _: GateDecision(allowed=False, reason="no"))
    gate = ToolGate()
    gate.open(recording)
    await _ask_hook(gate, _hook_input())

    answer = await gate.can_use_tool(
        "Bash", {"command": "ls"}, ToolPermissionContext(tool_use_id="toolu_1")
    )

    assert answer == PermissionResultDeny(message="no")
    assert len(recording.calls) == 1


async def test_the_backstop_asks_the_gate_for_a_call_the_hook_did_not_see() -> None:
    recording = RecordingGate()
    gate = ToolGate()
    gate.open(recording)

    answer = await gate.can_use_tool(
        "Write", {"file_path": "a"}, ToolPermissionContext(tool_use_id="toolu_9")
    )

    assert answer == PermissionResultAllow()
    assert recording.tool_names == ["Write"]


def test_the_hook_matches_every_tool_outlasts_approvals_and_blocks_on_failure() -> None:
    gate = ToolGate()

    (matcher,) = gate.hooks(timeout_seconds=360.0)["PreToolUse"]

    assert matcher.matcher is None
    assert matcher.timeout == 360.0
    assert matcher.on_failure == "block"
    assert matcher.hooks == [gate.pre_tool_use]
