"""What a message costs the engine: work nobody sees is skipped, what people and plugins see is not.

The engine builds `message.in` and `message.out` only when a handler listens,
binds its request logger only when a request goes wrong, and keeps one state
per chat; the events, the request ledger and the log lines stay as they were.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import structlog

from tether.app import build_engine
from tether.connectors.base import IncomingMessage
from tether.core.chat_requests import ChatRequests
from tether.core.config import TetherConfig
from tether.core.events import MESSAGE_IN, MESSAGE_OUT, TOOL_ALLOWED, Event, EventBus
from tether.core.interrupted import REQUEST_ENDED, REQUEST_STARTED
from tether.core.safety.audit import read_audit_log
from tether.exceptions import AgentError
from tether.testing import TEST_USER, Fail, Say, ScriptedAgent, UseTool, running_engine

_REQUEST_ID = re.compile(r"[0-9a-f]{16}")


class _EmitLog:
    """Every event name given to the bus's `emit`, whether or not a handler hears it."""

    def __init__(self, bus: EventBus, monkeypatch: pytest.MonkeyPatch) -> None:
        self.names: list[str] = []
        deliver = bus.emit

        async def emit(event: Event) -> None:
            self.names.append(event.name)
            await deliver(event)

        monkeypatch.setattr(bus, "emit", emit)


async def test_an_unheard_message_builds_no_message_events(
    config: TetherConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Not `running_engine`: it listens to every event itself.
    settings = config.model_copy(update={"allowed_user_ids": (TEST_USER,)})
    async with build_engine(settings, agent=ScriptedAgent([Say("ok")])) as engine:
        emitted = _EmitLog(engine.event_bus, monkeypatch)
        assert await engine.handle_message(TEST_USER, "hello", TEST_USER) == "ok"
    assert MESSAGE_IN not in emitted.names
    assert MESSAGE_OUT not in emitted.names


@pytest.mark.parametrize(
    ("pattern", "names"),
    [
        pytest.param(MESSAGE_IN, [MESSAGE_IN], id="message.in"),
        pytest.param(MESSAGE_OUT, [MESSAGE_OUT], id="message.out"),
        pytest.param("message.*", [MESSAGE_IN, MESSAGE_OUT], id="pattern"),
        pytest.param("*", [MESSAGE_IN, MESSAGE_OUT], id="wildcard"),
    ],
)
async def test_a_heard_message_event_carries_its_whole_payload(
    tmp_path: Path, pattern: str, names: list[str]
) -> None:
    seen: list[Event] = []

    async def record(event: Event) -> None:
        if event.name.startswith("message."):
            seen.append(event)

    agent = ScriptedAgent([Say("done")], cost=0.5)
    async with running_engine(agent=agent, workdir=tmp_path) as run:
        run.engine.event_bus.subscribe(pattern, record)
        assert await run.send("hello") == "done"
    assert [event.name for event in seen] == names
    expected = {
        MESSAGE_IN: {"user_id": TEST_USER, "chat_id": TEST_USER, "text": "hello"},
        MESSAGE_OUT: {"user_id": TEST_USER, "chat_id": TEST_USER, "text": "done", "cost": 0.5},
    }
    assert [event.data for event in seen] == [expected[name] for name in names]


async def test_a_handler_subscribed_mid_request_hears_message_out(tmp_path: Path) -> None:
    """Whether an event is built is asked when it is emitted, not when the message arrived."""
    seen: list[Event] = []

    async def record(event: Event) -> None:
        seen.append(event)

    async def subscribe_late(event: Event) -> None:
        bus.subscribe(MESSAGE_OUT, record)

    agent = ScriptedAgent([UseTool("Read", {"file_path": str(tmp_path / "project" / "a.py")})])
    async with running_engine(agent=agent, workdir=tmp_path) as run:
        bus = run.engine.event_bus
        bus.subscribe(TOOL_ALLOWED, subscribe_late)
        await run.send("hello")
    assert [event.data["text"] for event in seen] == ["[Read ran]"]


async def test_each_request_has_its_own_ledger_id(tmp_path: Path) -> None:
    async with running_engine(workdir=tmp_path) as run:
        for text in ("one", "two", "three"):
            await run.send(text)
        started = run.audit_entries(REQUEST_STARTED)
        ended = run.audit_entries(REQUEST_ENDED)
    ids = [entry["request_id"] for entry in started]
    assert [entry["text"] for entry in started] == ["one", "two", "three"]
    assert all(_REQUEST_ID.fullmatch(request_id) for request_id in ids)
    assert len(set(ids)) == 3
    assert [entry["request_id"] for entry in ended] == ids
    assert [entry["outcome"] for entry in ended] == ["done"] * 3


@pytest.mark.parametrize(
    ("error", "event", "level"),
    [
        pytest.param(AgentError("not logged in"), "agent_failed", "warning", id="agent-error"),
        pytest.param(RuntimeError("boom"), "agent_crashed", "error", id="crash"),
    ],
)
async def test_a_failed_request_logs_its_session_and_chat(
    tmp_path: Path, error: BaseException, event: str, level: str
) -> None:
    async with running_engine(agent=ScriptedAgent([Fail(error)]), workdir=tmp_path) as run:
        session = await run.engine.sessions.get_or_create(TEST_USER, TEST_USER)
        with structlog.testing.capture_logs() as logs:
            await run.send("hello")
    found = [entry for entry in logs if entry["event"] == event]
    assert len(found) == 1
    assert found[0]["log_level"] == level
    assert found[0]["session_id"] == session.session_id
    assert found[0]["chat_id"] == TEST_USER


async def test_a_quiet_request_logs_nothing(tmp_path: Path) -> None:
    """The happy path of a message writes no log line at any level."""
    agent = ScriptedAgent([UseTool("Read", {"file_path": str(tmp_path / "project" / "a.py")})])
    async with running_engine(agent=agent, workdir=tmp_path) as run:
        await run.send("warm up")  # the session is created (and says so) here
        with structlog.testing.capture_logs() as logs:
            assert await run.send("hello") == "[Read ran]"
    engine_lines = [entry for entry in logs if not entry["event"].startswith("tool_")]
    assert engine_lines == []


@pytest.mark.parametrize(
    "chats",
    [
        pytest.param((1, 1, 1), id="same-int"),
        pytest.param(("a", "a"), id="same-text"),
        pytest.param((1, "1"), id="int-and-text-differ"),
    ],
)
def test_a_chat_keeps_one_state(chats: tuple[int | str, ...]) -> None:
    requests = ChatRequests(approvals=None, agent=None)  # type: ignore[arg-type]
    states = [requests.state(chat) for chat in chats]
    for chat, state in zip(chats, states, strict=True):
        assert requests.state(chat) is state
    distinct = {(type(chat), chat) for chat in chats}
    assert len({id(state) for state in states}) == len(distinct)


@pytest.mark.parametrize(
    "pieces",
    [
        pytest.param(("one",), id="one-piece"),
        pytest.param(("Hel", "lo ", "wor", "ld"), id="words"),
        pytest.param(tuple(f"{n}," for n in range(300)), id="many-pieces"),
        pytest.param(("ünï", "", "cødé ✓\n"), id="unicode-and-empty"),
    ],
)
async def test_a_streamed_reply_shows_the_whole_text_so_far_each_time(
    tmp_path: Path, pieces: tuple[str, ...]
) -> None:
    agent = ScriptedAgent([Say(piece) for piece in pieces])
    async with running_engine(agent=agent, workdir=tmp_path) as run:
        assert run.connector.on_message is not None
        await run.connector.on_message(
            IncomingMessage(user_id=TEST_USER, chat_id=TEST_USER, text="go")
        )
    (reply,) = run.connector.replies
    assert reply.updates == ["".join(pieces[: n + 1]) for n in range(len(pieces))]


async def test_a_request_is_in_the_ledger_before_the_agent_starts(tmp_path: Path) -> None:
    """Written in place: a crash the moment the agent starts still leaves the start."""
    seen_at_start: list[list[str]] = []

    def script(prompt: str) -> list[Say]:
        entries = read_audit_log(tmp_path / "audit.jsonl")
        seen_at_start.append([entry["event_type"] for entry in entries])
        return [Say("ok")]

    async with running_engine(agent=ScriptedAgent(script_for=script), workdir=tmp_path) as run:
        await run.send("one")
        await run.send("two")
        ended = run.audit_entries(REQUEST_ENDED)
    assert seen_at_start == [
        [REQUEST_STARTED],
        [REQUEST_STARTED, REQUEST_ENDED, REQUEST_STARTED],
    ]
    assert [entry["outcome"] for entry in ended] == ["done", "done"]
