"""Engine message handling: middleware first, one request per chat, gated tools, commands."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.agent import Fail, Say, ScriptedAgent, UseTool, Wait
from tests.fakes.connector import RecordingConnector
from tether.app import build_engine
from tether.connectors.base import ApprovalAnswer, ApprovalChoice, IncomingMessage
from tether.core.config import TetherConfig
from tether.core.engine import Engine
from tether.core.events import MESSAGE_IN, MESSAGE_OUT, TOOL_ALLOWED, TOOL_DENIED, Event
from tether.core.safety.audit import read_audit_log
from tether.core.session import SessionMode
from tether.exceptions import AgentError, StorageError

OWNER = 111
STRANGER = 999
CHAT = 5000


@pytest.fixture
def engine_config(config: TetherConfig) -> TetherConfig:
    return config.model_copy(
        update={
            "allowed_user_ids": (OWNER, 222),
            "approval_timeout_seconds": 5.0,
            "rate_limit_burst": 50,
        }
    )


@pytest.fixture
async def make_engine(
    engine_config: TetherConfig,
) -> AsyncIterator[Callable[..., Any]]:
    engines: list[Engine] = []

    async def make(
        agent: ScriptedAgent,
        *,
        connector: RecordingConnector | None = None,
        config: TetherConfig | None = None,
        plugins: Any = None,
    ) -> Engine:
        engine = build_engine(
            config or engine_config, agent=agent, connector=connector, plugins=plugins
        )
        await engine.startup()
        engines.append(engine)
        return engine

    yield make
    for engine in engines:
        await engine.shutdown()


async def _answer(
    engine: Engine,
    approval_id: str,
    choice: ApprovalChoice,
    user_id: int,
    username: str | None = None,
) -> str:
    return await engine.handle_approval(
        ApprovalAnswer(
            approval_id=approval_id,
            choice=choice,
            user_id=user_id,
            chat_id=CHAT,
            username=username,
        )
    )


def _read(project_dir: Path) -> UseTool:
    return UseTool("Read", {"file_path": str(project_dir / "src" / "app.py")})


def _write(project_dir: Path) -> UseTool:
    return UseTool("Write", {"file_path": str(project_dir / "new.py"), "content": "x = 1\n"})


async def test_a_message_runs_the_agent_and_emits_in_then_out(
    make_engine: Callable[..., Any], project_dir: Path
) -> None:
    agent = ScriptedAgent([Say("Reading. "), _read(project_dir), Say("Done.")])
    engine = await make_engine(agent)
    seen: list[Event] = []

    async def record(event: Event) -> None:
        seen.append(event)

    engine.event_bus.subscribe("*", record)
    reply = await engine.handle_message(OWNER, "look at app.py", CHAT)

    assert reply == "Reading. [Read ran]Done."
    names = [event.name for event in seen]
    assert names[0] == MESSAGE_IN
    assert names[-1] == MESSAGE_OUT
    assert TOOL_ALLOWED in names
    assert seen[0].data == {"user_id": OWNER, "chat_id": CHAT, "text": "look at app.py"}
    assert seen[-1].data["text"] == reply
    assert agent.calls[0].decisions[0][1].allowed


@pytest.mark.parametrize(
    ("text", "cost"),
    [
        pytest.param("look at app.py", 0.25, id="request-reports-its-cost"),
        pytest.param("/status", None, id="command-runs-no-request"),
    ],
)
async def test_message_out_carries_the_cost_the_agent_reported(
    make_engine: Callable[..., Any], text: str, cost: float | None
) -> None:
    engine = await make_engine(ScriptedAgent([Say("Done.")], cost=0.25))
    seen: list[Event] = []

    async def record(event: Event) -> None:
        seen.append(event)

    engine.event_bus.subscribe(MESSAGE_OUT, record)
    await engine.handle_message(OWNER, text, CHAT)
    assert [event.data["cost"] for event in seen] == [cost]


async def test_an_agent_that_fails_reports_no_cost(make_engine: Callable[..., Any]) -> None:
    engine = await make_engine(ScriptedAgent([Fail(AgentError("no credentials"))], cost=0.25))
    seen: list[Event] = []

    async def record(event: Event) -> None:
        seen.append(event)

    engine.event_bus.subscribe(MESSAGE_OUT, record)
    await engine.handle_message(OWNER, "hello", CHAT)
    assert [event.data["cost"] for event in seen] == [None]


async def test_every_tool_call_is_audited_before_the_reply(
    make_engine: Callable[..., Any], project_dir: Path, engine_config: TetherConfig
) -> None:
    agent = ScriptedAgent([_read(project_dir), UseTool("Bash", {"command": "rm -rf /"})])
    engine = await make_engine(agent)
    reply = await engine.handle_message(OWNER, "go", CHAT)
    assert "[Bash was denied" in reply
    attempts = [
        entry
        for entry in read_audit_log(engine_config.audit_log_path)
        if entry["event_type"] == "tool_attempt"
    ]
    assert [entry["tool_name"] for entry in attempts] == ["Read", "Bash"]


async def test_a_user_not_on_the_allow_list_is_refused_and_nothing_runs(
    make_engine: Callable[..., Any], engine_config: TetherConfig
) -> None:
    agent = ScriptedAgent([Say("should not run")])
    engine = await make_engine(agent)
    reply = await engine.handle_message(STRANGER, "hello", CHAT)
    assert "TETHER_ALLOWED_USER_IDS" in reply
    assert agent.calls == []
    denied = [
        entry
        for entry in read_audit_log(engine_config.audit_log_path)
        if entry["event_type"] == "access_denied"
    ]
    assert len(denied) == 1


async def test_commands_pass_the_same_auth_as_messages(
    make_engine: Callable[..., Any],
) -> None:
    engine = await make_engine(ScriptedAgent())
    reply = await engine.handle_message(STRANGER, "/status", CHAT)
    assert "Mode:" not in reply


async def test_rate_limit_refuses_a_burst(
    make_engine: Callable[..., Any], engine_config: TetherConfig
) -> None:
    config = engine_config.model_copy(update={"rate_limit_burst": 2, "rate_limit_rpm": 1})
    agent = ScriptedAgent([Say("ok")])
    engine = await make_engine(agent, config=config)
    replies = [await engine.handle_message(OWNER, f"m{i}", CHAT) for i in range(3)]
    assert replies[:2] == ["ok", "ok"]
    assert replies[2] != "ok"
    assert len(agent.calls) == 2


async def test_messages_in_one_chat_run_one_at_a_time_in_order(
    make_engine: Callable[..., Any],
) -> None:
    running = 0
    most = 0
    order: list[str] = []

    def script(prompt: str) -> list[Any]:
        return [Say(prompt), Wait(0.05)]

    agent = ScriptedAgent(script_for=script)
    original = agent.execute

    async def tracking(prompt: str, *args: Any, **kwargs: Any) -> Any:
        nonlocal running, most
        running += 1
        most = max(most, running)
        order.append(prompt)
        try:
            return await original(prompt, *args, **kwargs)
        finally:
            running -= 1

    agent.execute = tracking  # type: ignore[method-assign]
    connector = RecordingConnector()
    engine = await make_engine(agent, connector=connector)
    replies = await asyncio.gather(*(engine.handle_message(OWNER, f"m{i}", CHAT) for i in range(4)))
    assert replies == ["m0", "m1", "m2", "m3"]
    assert order == ["m0", "m1", "m2", "m3"]
    assert most == 1
    queued = [text for _, text in connector.sent if "Queued" in text]
    assert len(queued) == 3


@pytest.mark.usefixtures("no_collector_pauses")
async def test_different_chats_run_in_parallel(make_engine: Callable[..., Any]) -> None:
    agent = ScriptedAgent([Wait(0.3), Say("done")])
    engine = await make_engine(agent)
    started = time.perf_counter()
    await asyncio.gather(*(engine.handle_message(OWNER, "go", chat) for chat in range(1, 6)))
    assert time.perf_counter() - started < 1.0


async def test_cancel_stops_the_running_request(make_engine: Callable[..., Any]) -> None:
    agent = ScriptedAgent([Say("working"), Wait(30), Say("never")])
    engine = await make_engine(agent)
    running = asyncio.create_task(engine.handle_message(OWNER, "long job", CHAT))
    await asyncio.sleep(0.05)
    assert engine.is_busy(CHAT)
    assert "Cancelled" in await engine.handle_message(OWNER, "/cancel", CHAT)
    reply = await asyncio.wait_for(running, 5)
    assert "never" not in reply
    assert not engine.is_busy(CHAT)
    assert await engine.handle_message(OWNER, "/cancel", CHAT) == "Nothing is running."


async def test_an_agent_that_raises_gives_a_readable_error_and_the_chat_goes_on(
    make_engine: Callable[..., Any],
) -> None:
    calls = 0

    def script(prompt: str) -> list[Any]:
        nonlocal calls
        calls += 1
        if calls == 1:
            return [Fail(RuntimeError("boom"))]
        if calls == 2:
            return [Fail(AgentError("Claude Code is not logged in; run `claude login`"))]
        return [Say("fine")]

    engine = await make_engine(ScriptedAgent(script_for=script))
    first = await engine.handle_message(OWNER, "a", CHAT)
    assert "unexpected error (RuntimeError)" in first
    assert "Traceback" not in first
    second = await engine.handle_message(OWNER, "b", CHAT)
    assert second == "⚠️ Claude Code is not logged in; run `claude login`"
    assert await engine.handle_message(OWNER, "c", CHAT) == "fine"


async def test_an_agent_error_denies_the_chats_pending_approvals(
    make_engine: Callable[..., Any], project_dir: Path
) -> None:
    connector = RecordingConnector()
    agent = ScriptedAgent([_write(project_dir)])
    engine = await make_engine(agent, connector=connector)
    running = asyncio.create_task(engine.handle_message(OWNER, "write", CHAT))
    request = await connector.next_approval()
    await engine.cancel(CHAT)
    await asyncio.wait_for(running, 5)
    assert request.closed_with is not None


async def test_approval_by_the_owner_allows_the_tool(
    make_engine: Callable[..., Any], project_dir: Path
) -> None:
    connector = RecordingConnector()
    agent = ScriptedAgent([_write(project_dir)])
    engine = await make_engine(agent, connector=connector)
    running = asyncio.create_task(engine.handle_message(OWNER, "write", CHAT))
    request = await connector.next_approval()
    assert "Write" in request.description

    stranger = await _answer(engine, request.approval_id, ApprovalChoice.APPROVE, 222)
    assert not stranger.startswith("✅")
    outcome = await _answer(
        engine, request.approval_id, ApprovalChoice.APPROVE, OWNER, username="ana"
    )
    assert outcome == "✅ Approved by @ana"
    again = await _answer(engine, request.approval_id, ApprovalChoice.REJECT, OWNER)
    assert not again.startswith(("✅", "❌"))
    assert await asyncio.wait_for(running, 5) == "[Write ran]"


async def test_always_approves_then_learns_the_chosen_scope(
    make_engine: Callable[..., Any], project_dir: Path
) -> None:
    connector = RecordingConnector()
    (project_dir / "src" / "pkg").mkdir()
    steps = {
        "write": [
            UseTool("Write", {"file_path": str(project_dir / "src/pkg/a.py"), "content": ""})
        ],
        "write again": [
            UseTool("Write", {"file_path": str(project_dir / "src/pkg/b.py"), "content": ""})
        ],
        "write outside": [_write(project_dir)],
    }
    agent = ScriptedAgent(script_for=lambda prompt: steps[prompt])
    engine = await make_engine(agent, connector=connector)
    running = asyncio.create_task(engine.handle_message(OWNER, "write", CHAT))
    request = await connector.next_approval()
    outcome = await _answer(engine, request.approval_id, ApprovalChoice.ALWAYS, OWNER)
    assert outcome.startswith("✅")
    _, approval_id, labels = connector.scope_offers[-1]
    assert approval_id == request.approval_id
    assert labels[0].startswith("Write on ") and labels[1].startswith("Write on src/pkg/** in ")
    await asyncio.wait_for(running, 5)
    learned = await engine.handle_approval(
        ApprovalAnswer(
            approval_id=request.approval_id,
            choice=ApprovalChoice.ALWAYS,
            user_id=OWNER,
            chat_id=CHAT,
            scope=2,
        )
    )
    assert learned.startswith("📌 Learned rule")
    assert await engine.handle_message(OWNER, "write again", CHAT) == "[Write ran]"
    assert len(connector.approvals) == 1
    elsewhere = asyncio.create_task(engine.handle_message(OWNER, "write outside", CHAT))
    other = await connector.next_approval()
    await _answer(engine, other.approval_id, ApprovalChoice.REJECT, OWNER)
    assert (await asyncio.wait_for(elsewhere, 5)).startswith("[Write was denied")
    granted = [
        entry
        for entry in read_audit_log(engine.config.audit_log_path)
        if entry["event_type"] == "rule_learned"
    ]
    assert [(e["scope"], e["user_id"]) for e in granted] == [("path", OWNER)]
    assert "Learned rules: 1" in await engine.handle_message(OWNER, "/status", CHAT)
    listing = await engine.handle_message(OWNER, "/rules", CHAT)
    assert "1. Write on src/pkg/**" in listing
    assert "Revoked 1" in await engine.handle_message(OWNER, "/rules revoke all", CHAT)
    assert "No learned rules" in await engine.handle_message(OWNER, "/rules", CHAT)


async def test_without_a_connector_an_approval_fails_closed(
    make_engine: Callable[..., Any], project_dir: Path
) -> None:
    engine = await make_engine(ScriptedAgent([_write(project_dir)]))
    reply = await engine.handle_message(OWNER, "write", CHAT)
    assert reply.startswith("[Write was denied")


async def test_clear_starts_a_new_session(make_engine: Callable[..., Any]) -> None:
    agent = ScriptedAgent([Say("ok")])
    engine = await make_engine(agent)
    await engine.handle_message(OWNER, "one", CHAT)
    await engine.handle_message(OWNER, "/clear", CHAT)
    await engine.handle_message(OWNER, "two", CHAT)
    first, second = agent.calls
    assert first.session.session_id != second.session.session_id
    assert second.session.claude_session_id is None


async def test_edit_mode_auto_approves_edits_and_plan_mode_leaves_it(
    make_engine: Callable[..., Any], project_dir: Path
) -> None:
    connector = RecordingConnector()
    agent = ScriptedAgent([_write(project_dir)])
    engine = await make_engine(agent, connector=connector)
    assert "Edit mode" in await engine.handle_message(OWNER, "/edit", CHAT)
    assert await engine.handle_message(OWNER, "write", CHAT) == "[Write ran]"
    assert agent.calls[-1].session.mode is SessionMode.EDIT
    assert "Plan mode" in await engine.handle_message(OWNER, "/plan", CHAT)
    reply = await engine.handle_message(OWNER, "write", CHAT)
    assert reply.startswith("[Write was denied: Denied: plan mode")
    assert len(connector.approvals) == 0
    assert "Back to default mode" in await engine.handle_message(OWNER, "/plan", CHAT)
    running = asyncio.create_task(engine.handle_message(OWNER, "write", CHAT))
    request = await connector.next_approval()
    await _answer(engine, request.approval_id, ApprovalChoice.REJECT, OWNER)
    assert (await asyncio.wait_for(running, 5)).startswith("[Write was denied")


async def test_plan_mode_still_runs_what_the_policy_allows(
    make_engine: Callable[..., Any], project_dir: Path
) -> None:
    agent = ScriptedAgent([_read(project_dir)])
    engine = await make_engine(agent)
    await engine.handle_message(OWNER, "/plan", CHAT)
    assert await engine.handle_message(OWNER, "read", CHAT) == "[Read ran]"


async def test_cancelling_while_an_approval_waits_records_the_denied_attempt(
    make_engine: Callable[..., Any], project_dir: Path, engine_config: TetherConfig
) -> None:
    connector = RecordingConnector()
    engine = await make_engine(ScriptedAgent([_write(project_dir)]), connector=connector)
    running = asyncio.create_task(engine.handle_message(OWNER, "write", CHAT))
    await connector.next_approval()
    running.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await running
    attempts = [
        entry
        for entry in read_audit_log(engine_config.audit_log_path)
        if entry["event_type"] == "tool_attempt"
    ]
    assert [(e["tool_name"], e["decision"]["allowed"]) for e in attempts] == [("Write", False)]


async def test_status_plugins_help_and_unknown_commands(
    make_engine: Callable[..., Any],
) -> None:
    engine = await make_engine(ScriptedAgent([Say("ok")]))
    await engine.handle_message(OWNER, "hi", CHAT)
    status = await engine.handle_message(OWNER, "/status", CHAT)
    assert "Mode: default" in status
    assert "Messages: 1" in status
    assert "Learned rules: 0" in status
    assert "audit" in await engine.handle_message(OWNER, "/plugins", CHAT)
    assert "/cancel" in await engine.handle_message(OWNER, "/help", CHAT)
    assert "/cancel" in await engine.handle_message(OWNER, "/start", CHAT)
    assert "Unknown command /nope" in await engine.handle_message(OWNER, "/nope", CHAT)


async def test_restart_with_sqlite_resumes_the_conversation(
    engine_config: TetherConfig, tmp_path: Path
) -> None:
    config = engine_config.model_copy(
        update={"storage_backend": "sqlite", "storage_path": tmp_path / "sessions.db"}
    )
    first_agent = ScriptedAgent([Say("one")])
    async with build_engine(config, agent=first_agent) as engine:
        await engine.handle_message(OWNER, "remember this", CHAT)
    session_id = first_agent.calls[0].session.session_id

    second_agent = ScriptedAgent([Say("two")])
    async with build_engine(config, agent=second_agent) as engine:
        await engine.handle_message(OWNER, "what did I say?", CHAT)
    resumed = second_agent.calls[0].session
    assert resumed.session_id == session_id
    assert resumed.claude_session_id == f"claude-{session_id}"
    assert resumed.message_count == 1


async def test_connector_messages_stream_into_a_reply(
    make_engine: Callable[..., Any], project_dir: Path
) -> None:
    connector = RecordingConnector()
    await make_engine(
        ScriptedAgent([Say("Hello "), _read(project_dir), Say("world")]), connector=connector
    )
    assert connector.started
    assert connector.on_message is not None
    await connector.on_message(IncomingMessage(user_id=OWNER, chat_id=CHAT, text="hi"))
    reply = connector.replies[-1]
    assert reply.updates[0] == "Hello "
    assert reply.final == (
        "Hello [Read ran]world\n\n"
        "📋 1 tool call: 0 commands run · 0 files changed · 0 asked · 0 blocked"
    )
    assert any(line and "Read" in line for line in reply.activities)


async def test_connector_commands_get_a_message(make_engine: Callable[..., Any]) -> None:
    connector = RecordingConnector()
    engine = await make_engine(ScriptedAgent(), connector=connector)
    assert engine.connector is connector
    assert connector.on_command is not None
    await connector.on_command(
        IncomingMessage(user_id=OWNER, chat_id=CHAT, text="/help"), "help", ()
    )
    assert "/status" in connector.sent[-1][1]


async def test_shutdown_stops_the_connector_and_the_agent(
    engine_config: TetherConfig,
) -> None:
    connector = RecordingConnector()
    agent = ScriptedAgent()
    engine = build_engine(engine_config, agent=agent, connector=connector)
    async with engine:
        pass
    assert connector.stopped
    assert agent.shut_down


async def test_the_seed_metrics_plugin_counts_messages_per_user(
    make_engine: Callable[..., Any],
) -> None:
    from tether.plugins.base import PluginContext, PluginMeta, TetherPlugin

    class MetricsPlugin(TetherPlugin):
        meta = PluginMeta(name="metrics", version="1.0.0")

        def __init__(self) -> None:
            self.counts: dict[Any, int] = {}

        async def initialize(self, context: PluginContext) -> None:
            context.event_bus.subscribe(MESSAGE_IN, self.on_message)

        async def on_message(self, event: Event) -> None:
            user = event.data["user_id"]
            self.counts[user] = self.counts.get(user, 0) + 1

    plugin = MetricsPlugin()
    engine = await make_engine(ScriptedAgent([Say("ok")]), plugins=[plugin])
    await engine.handle_message(OWNER, "a", CHAT)
    await engine.handle_message(OWNER, "b", CHAT)
    assert plugin.counts == {OWNER: 2}


async def test_a_sandbox_violation_is_one_security_entry(
    make_engine: Callable[..., Any], engine_config: TetherConfig
) -> None:
    denied: list[Event] = []
    agent = ScriptedAgent([UseTool("Read", {"file_path": "/etc/passwd"})])
    engine = await make_engine(agent)

    async def record(event: Event) -> None:
        denied.append(event)

    engine.event_bus.subscribe(TOOL_DENIED, record)
    await engine.handle_message(OWNER, "read passwd", CHAT)
    assert denied[0].data["violation_type"] == "sandbox"
    entries = read_audit_log(engine_config.audit_log_path)
    assert sum(e["event_type"] == "security_violation" for e in entries) == 1


async def test_a_history_that_cannot_be_written_still_delivers_the_reply(
    make_engine: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = await make_engine(ScriptedAgent([Say("the answer")]))

    async def broken(*args: Any, **kwargs: Any) -> None:
        raise StorageError("tether.db: disk I/O error; check the disk")

    monkeypatch.setattr(engine.sessions, "record_message", broken)
    assert await engine.handle_message(OWNER, "q", CHAT) == (
        "the answer\n\n⚠️ This exchange was not saved to the session history: "
        "tether.db: disk I/O error; check the disk"
    )


async def test_a_store_that_fails_gives_a_readable_reply(
    make_engine: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    agent = ScriptedAgent([Say("never")])
    engine = await make_engine(agent)

    async def broken(*args: Any, **kwargs: Any) -> None:
        raise StorageError("tether.db: database is locked; close the other Tether")

    monkeypatch.setattr(engine.sessions, "get_or_create", broken)
    reply = await engine.handle_message(OWNER, "q", CHAT)
    assert reply == "⚠️ tether.db: database is locked; close the other Tether"
    assert agent.calls == []
    assert not engine.is_busy(CHAT)
