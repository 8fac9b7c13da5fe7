"""ClaudeCodeAgent end to end: the real claude-agent-sdk drives the fake `claude` CLI."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from claude_agent_sdk import (
    ClaudeAgentOptions,
    ClaudeSDKClient,
    PermissionResultAllow,
    ResultMessage,
)

from tests.agents.support import Collected, FakeLog, RecordingGate
from tether.agents.base import BaseAgent
from tether.agents.claude_code import ClaudeCodeAgent
from tether.core.config import TetherConfig
from tether.core.safety.gatekeeper import GateDecision
from tether.core.session import Session, SessionMode
from tether.exceptions import AgentError, ConfigError

MakeAgent = Callable[..., ClaudeCodeAgent]
CTRL_C_DRIVER = Path(__file__).with_name("ctrl_c_driver.py")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _deny_bash(name: str, tool_input: dict[str, Any]) -> GateDecision:
    if name == "Bash":
        return GateDecision(allowed=False, reason="Bash is blocked by policy rule no-shell")
    return GateDecision(allowed=True)


def test_claude_code_agent_is_a_base_agent(agent: ClaudeCodeAgent) -> None:
    assert isinstance(agent, BaseAgent)


class TestReply:
    async def test_text_streams_as_it_arrives_and_the_result_carries_cost_and_session_id(
        self,
        agent: ClaudeCodeAgent,
        session: Session,
        gate: RecordingGate,
        collected: Collected,
    ) -> None:
        response = await agent.execute(
            "text", session, can_use_tool=gate, on_text=collected.on_text
        )

        expected = "Hello from the fake. This is message 1 of this conversation."
        assert response.content == expected
        assert len(collected.texts) > 1, "partial messages arrive in pieces"
        assert "".join(collected.texts) == expected
        assert response.cost == pytest.approx(0.0123)
        assert response.session_id is not None
        assert response.num_turns == 2
        assert response.duration_ms > 0
        assert not response.is_error
        assert response.notice is None

    async def test_text_of_several_messages_is_separated_by_a_blank_line(
        self,
        agent: ClaudeCodeAgent,
        session: Session,
        gate: RecordingGate,
        collected: Collected,
    ) -> None:
        response = await agent.execute(
            "bash", session, can_use_tool=gate, on_text=collected.on_text
        )

        assert response.content == "Running the tests.\n\npytest ran"
        assert "".join(collected.texts) == response.content

    async def test_cli_is_started_with_nothing_that_could_approve_a_call_before_the_gate(
        self,
        make_agent: MakeAgent,
        agent_config: TetherConfig,
        session: Session,
        gate: RecordingGate,
        fake_log: FakeLog,
        project_dir: Path,
    ) -> None:
        config = agent_config.model_copy(
            update={
                "claude_allowed_tools": ("Read", "Bash"),
                "claude_disallowed_tools": ("WebFetch",),
                "claude_max_turns": 7,
                "approval_timeout_seconds": 300.0,
            }
        )
        agent = make_agent(config)

        await agent.execute("text", session, can_use_tool=gate)

        (start,) = fake_log.starts()
        argv = start["argv"]
        assert "--allowedTools" not in argv, "allowed tools would approve calls before the gate"
        assert argv["--tools"] == "Read,Bash"
        assert argv["--disallowedTools"] == "WebFetch"
        assert argv["--permission-mode"] == "default"
        assert argv["--setting-sources"] == "", "settings files may carry allow rules and hooks"
        assert argv["--strict-mcp-config"] is True
        assert argv["--permission-prompt-tool"] == "stdio"
        assert argv["--max-turns"] == "7"
        assert argv["--model"] == "claude-test-model"
        assert argv["--append-system-prompt"] == "Answer briefly."
        assert "--system-prompt" not in argv, "Claude Code keeps its own system prompt"
        assert "--resume" not in argv
        assert start["cwd"] == str(project_dir)
        (initialize,) = fake_log.control_requests("initialize")
        (matcher,) = initialize["hooks"]["PreToolUse"]
        assert matcher["matcher"] is None, "the hook must match every tool"
        assert matcher["timeout"] > 300.0, "the hook must outlast an approval"
        assert matcher["onFailure"] == "block"

    async def test_allowed_tools_that_are_permission_rules_are_refused(
        self, agent_config: TetherConfig
    ) -> None:
        config = agent_config.model_copy(update={"claude_allowed_tools": ("Read", "Bash(git:*)")})

        with pytest.raises(ConfigError, match=r"TETHER_CLAUDE_ALLOWED_TOOLS.*'Bash\(git:\*\)'"):
            ClaudeCodeAgent(config)


class TestGate:
    async def test_allowed_call_runs_and_is_reported_as_activity(
        self,
        agent: ClaudeCodeAgent,
        session: Session,
        gate: RecordingGate,
        collected: Collected,
        fake_log: FakeLog,
    ) -> None:
        response = await agent.execute(
            "bash", session, can_use_tool=gate, on_tool_activity=collected.on_tool_activity
        )

        assert gate.calls == [("Bash", {"command": "pytest -q"})]
        assert [a.summary for a in collected.activities] == ["Bash: pytest -q"]
        assert collected.activities[0].tool_use_id is not None
        assert response.tools_used == ("Bash",)
        (ran,) = fake_log.entries("tool_ran")
        assert ran["input"] == {"command": "pytest -q"}

    async def test_denied_call_does_not_run_and_the_reason_reaches_the_model(
        self,
        agent: ClaudeCodeAgent,
        session: Session,
        fake_log: FakeLog,
    ) -> None:
        gate = RecordingGate(decide=_deny_bash)

        response = await agent.execute("bash", session, can_use_tool=gate)

        (permission,) = fake_log.permissions()
        assert permission["via"] == "hook"
        assert permission["allowed"] is False
        assert permission["reason"] == "Bash is blocked by policy rule no-shell"
        assert fake_log.entries("tool_ran") == []
        assert response.content.endswith(
            "pytest was refused: Bash is blocked by policy rule no-shell"
        )
        assert response.tools_used == ()

    async def test_updated_input_from_the_gate_replaces_the_tool_input(
        self, agent: ClaudeCodeAgent, session: Session, fake_log: FakeLog
    ) -> None:
        safer = {"command": "pytest -q --maxfail=1"}
        gate = RecordingGate(decide=lambda name, _: GateDecision(allowed=True, updated_input=safer))

        await agent.execute("bash", session, can_use_tool=gate)

        (ran,) = fake_log.entries("tool_ran")
        assert ran["input"] == safer

    async def test_every_tool_call_reaches_the_gate_read_only_and_sub_agent_calls_included(
        self,
        agent: ClaudeCodeAgent,
        session: Session,
        gate: RecordingGate,
        fake_log: FakeLog,
    ) -> None:
        await agent.execute("everything", session, can_use_tool=gate)

        decided = fake_log.permissions()
        assert [p["tool"] for p in decided] == ["Read", "Bash", "Edit", "Agent", "Glob", "Bash"]
        assert {p["via"] for p in decided} == {"hook"}, "nothing approved a call before the gate"
        assert gate.tool_names == [p["tool"] for p in decided]
        assert [p["agent_id"] is not None for p in decided] == [False] * 4 + [True] * 2

    async def test_without_the_hook_claude_code_approves_read_only_calls_by_itself(
        self, fake_cli: Path, project_dir: Path, fake_log: FakeLog
    ) -> None:
        """The control experiment: `can_use_tool` alone never sees Read, Glob or Agent."""
        asked: list[str] = []

        async def can_use_tool(name: str, tool_input: dict[str, Any], context: Any) -> Any:
            asked.append(name)
            return PermissionResultAllow()

        options = ClaudeAgentOptions(cli_path=fake_cli, cwd=project_dir, can_use_tool=can_use_tool)
        async with ClaudeSDKClient(options) as client:
            await client.query("everything")
            messages = [m async for m in client.receive_response()]

        assert isinstance(messages[-1], ResultMessage)
        assert asked == ["Bash", "Edit", "Bash"]
        skipped = [p["tool"] for p in fake_log.permissions() if p["via"] == "read_only"]
        assert skipped == ["Read", "Agent", "Glob"]

    @pytest.mark.parametrize(
        "sub_agent_tool",
        [pytest.param("Agent", id="agent-newer"), pytest.param("Task", id="task-older")],
    )
    async def test_sub_agent_calls_are_gated_and_reported_under_their_parent(
        self,
        agent: ClaudeCodeAgent,
        session: Session,
        gate: RecordingGate,
        collected: Collected,
        sub_agent_tool: str,
    ) -> None:
        response = await agent.execute(
            f"subagent {sub_agent_tool}",
            session,
            can_use_tool=gate,
            on_tool_activity=collected.on_tool_activity,
        )

        assert gate.tool_names == [sub_agent_tool, "Glob", "Bash"]
        spawn, *inner = collected.activities
        assert spawn.summary == f"{sub_agent_tool}: Survey the project"
        assert spawn.parent_tool_use_id is None
        assert [a.summary for a in inner] == ["Glob: **/*.py", "Bash: ls -la"]
        assert {a.parent_tool_use_id for a in inner} == {spawn.tool_use_id}
        assert response.content == "The sub-agent finished."

    async def test_a_gate_that_raises_denies_the_call(
        self, agent: ClaudeCodeAgent, session: Session, fake_log: FakeLog
    ) -> None:
        async def broken_gate(name: str, tool_input: dict[str, Any]) -> GateDecision:
            raise RuntimeError("policy file vanished")

        await agent.execute("bash", session, can_use_tool=broken_gate)

        (permission,) = fake_log.permissions()
        assert permission["allowed"] is False
        assert "safety gate failed" in permission["reason"]
        assert fake_log.entries("tool_ran") == []


class TestConversation:
    async def test_next_message_reuses_the_process_and_the_conversation(
        self,
        agent: ClaudeCodeAgent,
        session: Session,
        gate: RecordingGate,
        fake_log: FakeLog,
    ) -> None:
        first = await agent.execute("text", session, can_use_tool=gate)
        stored = session.model_copy(update={"claude_session_id": first.session_id})

        second = await agent.execute("text", stored, can_use_tool=gate)

        assert len(fake_log.starts()) == 1
        assert second.session_id == first.session_id
        assert second.content.endswith("message 2 of this conversation.")

    async def test_a_restarted_tether_resumes_the_stored_conversation(
        self,
        make_agent: MakeAgent,
        session: Session,
        gate: RecordingGate,
        fake_log: FakeLog,
    ) -> None:
        before = make_agent()
        first = await before.execute("text", session, can_use_tool=gate)
        await before.shutdown()
        stored = session.model_copy(update={"claude_session_id": first.session_id})

        after = make_agent()
        second = await after.execute("text", stored, can_use_tool=gate)

        first_start, second_start = fake_log.starts()
        assert second_start["argv"]["--resume"] == first.session_id
        assert second_start["pid"] != first_start["pid"]
        assert second.content.endswith("message 2 of this conversation.")
        assert second.notice is None

    @pytest.mark.parametrize(
        "fails_at",
        [
            pytest.param("startup", id="refused-at-startup"),
            pytest.param("initialized", id="refused-after-initialize"),
            pytest.param("query", id="refused-at-query"),
        ],
    )
    async def test_an_unknown_conversation_starts_afresh_and_says_so(
        self,
        agent: ClaudeCodeAgent,
        session: Session,
        gate: RecordingGate,
        fake_log: FakeLog,
        monkeypatch: pytest.MonkeyPatch,
        fails_at: str,
    ) -> None:
        monkeypatch.setenv("FAKE_CLAUDE_STALE_AT", fails_at)
        stale = session.model_copy(update={"claude_session_id": "gone-since-last-week"})

        response = await agent.execute("text", stale, can_use_tool=gate)

        stale_start, fresh_start = fake_log.starts()
        assert stale_start["argv"]["--resume"] == "gone-since-last-week"
        assert "--resume" not in fresh_start["argv"]
        assert response.notice is not None and "fresh" in response.notice
        assert response.session_id not in (None, "gone-since-last-week")
        assert response.content.endswith("message 1 of this conversation.")
        assert not response.is_error

    async def test_plan_mode_starts_claude_code_in_plan_mode_and_resumes_on_a_mode_change(
        self,
        agent: ClaudeCodeAgent,
        session: Session,
        gate: RecordingGate,
        fake_log: FakeLog,
    ) -> None:
        planning = session.model_copy(update={"mode": SessionMode.PLAN})
        first = await agent.execute("text", planning, can_use_tool=gate)
        editing = session.model_copy(
            update={"mode": SessionMode.EDIT, "claude_session_id": first.session_id}
        )

        second = await agent.execute("text", editing, can_use_tool=gate)

        plan_start, edit_start = fake_log.starts()
        assert plan_start["argv"]["--permission-mode"] == "plan"
        assert edit_start["argv"]["--permission-mode"] == "default", "edits are the gate's call"
        assert edit_start["argv"]["--resume"] == first.session_id
        assert second.content.endswith("message 2 of this conversation.")

    async def test_idle_processes_beyond_the_limit_are_stopped(
        self,
        make_agent: MakeAgent,
        session: Session,
        gate: RecordingGate,
        fake_log: FakeLog,
    ) -> None:
        agent = make_agent(max_idle_clients=1)
        other = session.model_copy(update={"session_id": "other-chat", "chat_id": 2})

        await agent.execute("text", session, can_use_tool=gate)
        await agent.execute("text", other, can_use_tool=gate)

        first, second = (start["pid"] for start in fake_log.starts())
        assert not _alive(first)
        assert _alive(second)


class TestCancel:
    async def test_cancel_interrupts_the_request_and_keeps_the_text_so_far(
        self,
        agent: ClaudeCodeAgent,
        session: Session,
        gate: RecordingGate,
        collected: Collected,
        fake_log: FakeLog,
    ) -> None:
        running = asyncio.create_task(
            agent.execute("slow", session, can_use_tool=gate, on_text=collected.on_text)
        )
        await asyncio.wait_for(collected.text_reaches("Working on it."), 10)

        assert await agent.cancel(session.session_id) is True
        response = await asyncio.wait_for(running, 5)

        assert response.cancelled and response.is_error
        assert response.content == "Working on it.\n\n(Request cancelled.)"
        assert len(fake_log.control_requests("interrupt")) == 1
        assert len(fake_log.entries("interrupted")) == 1
        assert len(fake_log.starts()) == 1

    async def test_cancel_while_an_approval_is_pending_stops_the_gate(
        self, agent: ClaudeCodeAgent, session: Session, fake_log: FakeLog
    ) -> None:
        asked = asyncio.Event()
        stopped: list[str] = []

        async def waiting_gate(name: str, tool_input: dict[str, Any]) -> GateDecision:
            asked.set()
            try:
                await asyncio.Event().wait()  # nobody answers the approval
            except asyncio.CancelledError:
                stopped.append(name)
                raise
            raise AssertionError("unreachable")

        running = asyncio.create_task(
            agent.execute("slow-tool", session, can_use_tool=waiting_gate)
        )
        await asyncio.wait_for(asked.wait(), 10)
        await agent.cancel(session.session_id)
        response = await asyncio.wait_for(running, 5)

        assert response.cancelled
        assert stopped == ["Bash"]
        assert fake_log.entries("tool_ran") == []

    async def test_a_cli_that_ignores_the_interrupt_is_stopped_after_the_grace_period(
        self,
        make_agent: MakeAgent,
        session: Session,
        gate: RecordingGate,
        collected: Collected,
        fake_log: FakeLog,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        monkeypatch.setenv("FAKE_CLAUDE_IGNORE_INTERRUPT", "1")
        agent = make_agent(interrupt_grace_seconds=0.3)
        running = asyncio.create_task(
            agent.execute("slow", session, can_use_tool=gate, on_text=collected.on_text)
        )
        await asyncio.wait_for(collected.text_reaches("Working on it."), 10)

        await agent.cancel(session.session_id)
        response = await asyncio.wait_for(running, 5)

        assert response.cancelled
        (start,) = fake_log.starts()
        assert not _alive(start["pid"])

    async def test_cancel_without_a_running_request_returns_false(
        self, agent: ClaudeCodeAgent, session: Session
    ) -> None:
        assert await agent.cancel(session.session_id) is False

    async def test_a_caller_that_gives_up_ends_the_process_and_the_next_message_resumes(
        self,
        agent: ClaudeCodeAgent,
        session: Session,
        gate: RecordingGate,
        fake_log: FakeLog,
    ) -> None:
        first = await agent.execute("text", session, can_use_tool=gate)
        stored = session.model_copy(update={"claude_session_id": first.session_id})
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.5):
                await agent.execute("slow", stored, can_use_tool=gate)

        response = await agent.execute("text", stored, can_use_tool=gate)

        first_start, second_start = fake_log.starts()
        assert not _alive(first_start["pid"])
        assert second_start["argv"]["--resume"] == first.session_id
        assert response.content.endswith("message 3 of this conversation.")


class TestFailures:
    async def test_a_crash_mid_stream_is_retried(
        self,
        agent: ClaudeCodeAgent,
        session: Session,
        gate: RecordingGate,
        collected: Collected,
        fake_log: FakeLog,
    ) -> None:
        response = await agent.execute(
            "crash-once", session, can_use_tool=gate, on_text=collected.on_text
        )

        assert response.content == "Recovered after a crash."
        assert len(fake_log.starts()) == 2
        streamed = "".join(collected.texts)
        assert streamed.startswith("Starting\n\n(Claude Code stopped unexpectedly; trying again.)")

    async def test_repeated_crashes_give_up_with_a_readable_error(
        self,
        agent: ClaudeCodeAgent,
        session: Session,
        gate: RecordingGate,
        fake_log: FakeLog,
    ) -> None:
        with pytest.raises(AgentError, match=r"failed 3 times in a row.*exit code"):
            await agent.execute("crash-always", session, can_use_tool=gate)

        assert len(fake_log.starts()) == 3

    async def test_a_rate_limit_is_retried(
        self,
        agent: ClaudeCodeAgent,
        session: Session,
        gate: RecordingGate,
        fake_log: FakeLog,
    ) -> None:
        response = await agent.execute("rate-limit-once", session, can_use_tool=gate)

        assert response.content == "Answered after the rate limit."
        assert len(fake_log.starts()) == 2

    async def test_the_turn_limit_is_an_error_reply_not_an_exception(
        self, agent: ClaudeCodeAgent, session: Session, gate: RecordingGate
    ) -> None:
        response = await agent.execute("max-turns", session, can_use_tool=gate)

        assert response.is_error
        assert response.content.startswith("Still going.\n\nClaude Code stopped after 25 turns")
        assert "TETHER_CLAUDE_MAX_TURNS" in response.content

    async def test_missing_credentials_give_one_message_saying_how_to_log_in(
        self,
        agent: ClaudeCodeAgent,
        session: Session,
        gate: RecordingGate,
        fake_log: FakeLog,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        monkeypatch.setenv("FAKE_CLAUDE_AUTH", "missing")

        with pytest.raises(AgentError) as raised:
            await agent.execute("text", session, can_use_tool=gate)

        message = str(raised.value)
        assert "ANTHROPIC_API_KEY" in message
        assert "claude login" in message
        assert "Not logged in" in message
        assert len(fake_log.starts()) == 1, "a missing login is not retried"

    @pytest.mark.parametrize(
        "make_path",
        [
            pytest.param(lambda tmp: tmp / "nowhere" / "claude", id="missing"),
            pytest.param(lambda tmp: _plain_file(tmp / "claude.txt"), id="not-executable"),
            pytest.param(lambda tmp: tmp, id="a-directory"),
        ],
    )
    async def test_a_bad_cli_path_gives_one_message_naming_the_setting(
        self,
        make_agent: MakeAgent,
        agent_config: TetherConfig,
        session: Session,
        gate: RecordingGate,
        tmp_path: Path,
        make_path: Callable[[Path], Path],
    ) -> None:
        bad = make_path(tmp_path)
        agent = make_agent(agent_config.model_copy(update={"claude_cli_path": bad}))

        with pytest.raises(AgentError) as raised:
            await agent.execute("text", session, can_use_tool=gate)

        message = str(raised.value)
        assert "TETHER_CLAUDE_CLI_PATH" in message
        assert str(bad) in message
        assert "failed 3 times" not in message, "a bad path is not retried"

    async def test_a_cli_too_old_to_block_on_a_failed_hook_is_refused(
        self,
        agent: ClaudeCodeAgent,
        session: Session,
        gate: RecordingGate,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        monkeypatch.setenv("FAKE_CLAUDE_OLD", "1")

        with pytest.raises(AgentError, match=r"too old for Tether.*claude update"):
            await agent.execute("text", session, can_use_tool=gate)


class TestProcess:
    async def test_the_cli_runs_in_its_own_session_out_of_reach_of_the_terminals_ctrl_c(
        self,
        agent: ClaudeCodeAgent,
        session: Session,
        gate: RecordingGate,
        fake_log: FakeLog,
    ) -> None:
        await agent.execute("text", session, can_use_tool=gate)

        (start,) = fake_log.starts()
        assert start["sid"] == start["pid"], "the CLI leads a session of its own"
        assert start["pgid"] == start["pid"]
        assert start["pgid"] != os.getpgrp(), "the terminal's SIGINT goes to Tether's group only"

    @pytest.mark.parametrize(
        ("mode", "survives"),
        [
            pytest.param("tether", True, id="through-tether"),
            pytest.param("sdk", False, id="plain-sdk-for-contrast"),
        ],
    )
    def test_ctrl_c_in_the_terminal_does_not_reach_the_cli(
        self, fake_cli: Path, project_dir: Path, mode: str, survives: bool
    ) -> None:
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])}
        done = subprocess.run(
            [sys.executable, str(CTRL_C_DRIVER), mode, str(fake_cli), str(project_dir)],
            start_new_session=True,
            capture_output=True,
            text=True,
            timeout=30,
            env=env,
            check=False,
        )

        assert done.returncode == 0, done.stderr
        report = json.loads(done.stdout.splitlines()[-1])
        assert report["alive"] is survives
        if survives:
            assert report["cancelled"] is True
            assert report["content"] == "Working on it.\n\n(Request cancelled.)"

    async def test_shutdown_ends_every_cli_process(
        self,
        agent: ClaudeCodeAgent,
        session: Session,
        gate: RecordingGate,
        fake_log: FakeLog,
    ) -> None:
        other = session.model_copy(update={"session_id": "other-chat", "chat_id": 2})
        await agent.execute("text", session, can_use_tool=gate)
        await agent.execute("text", other, can_use_tool=gate)
        pids = [start["pid"] for start in fake_log.starts()]
        assert all(_alive(pid) for pid in pids)

        await agent.shutdown()

        assert not any(_alive(pid) for pid in pids)

    async def test_shutdown_cancels_a_running_request(
        self,
        agent: ClaudeCodeAgent,
        session: Session,
        gate: RecordingGate,
        collected: Collected,
        fake_log: FakeLog,
    ) -> None:
        running = asyncio.create_task(
            agent.execute("slow", session, can_use_tool=gate, on_text=collected.on_text)
        )
        await asyncio.wait_for(collected.text_reaches("Working on it."), 10)

        await agent.shutdown()
        response = await asyncio.wait_for(running, 5)

        assert response.cancelled
        (start,) = fake_log.starts()
        assert not _alive(start["pid"])

    async def test_execute_after_shutdown_is_refused(
        self, agent: ClaudeCodeAgent, session: Session, gate: RecordingGate
    ) -> None:
        await agent.shutdown()

        with pytest.raises(AgentError, match="shut down"):
            await agent.execute("text", session, can_use_tool=gate)


def _plain_file(path: Path) -> Path:
    path.write_text("not a program\n")
    return path
