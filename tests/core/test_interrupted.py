"""Restart and loss: what a stop cuts short is refused, recorded, and told at the next start."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from tests.fakes.agent import Say, ScriptedAgent, UseTool
from tests.fakes.connector import RecordingConnector
from tether.app import build_engine
from tether.connectors.base import IncomingMessage
from tether.core.config import TetherConfig
from tether.core.interrupted import find_cut_short
from tether.core.safety.audit import read_audit_log

OWNER = 111
CHAT = 5000


@pytest.fixture
def engine_config(config: TetherConfig) -> TetherConfig:
    return config.model_copy(
        update={"allowed_user_ids": (OWNER,), "approval_timeout_seconds": 30.0}
    )


async def test_an_approval_pending_at_stop_is_refused_recorded_and_told_at_the_next_start(
    engine_config: TetherConfig, project_dir: Path
) -> None:
    write = UseTool("Write", {"file_path": str(project_dir / "x.md"), "content": "x"})
    first = RecordingConnector()
    engine = build_engine(
        engine_config, agent=ScriptedAgent([write, Say("never")]), connector=first
    )
    await engine.startup()
    assert first.on_message is not None
    running = asyncio.create_task(
        first.on_message(IncomingMessage(user_id=OWNER, chat_id=CHAT, text="write the notes"))
    )
    await asyncio.wait_for(first.approval_requested.wait(), 5)
    await engine.shutdown()
    await asyncio.wait_for(asyncio.gather(running, return_exceptions=True), 5)

    entries = read_audit_log(engine_config.audit_log_path)
    (refused,) = [e for e in entries if e["event_type"] == "approval"]
    assert (refused["chat_id"], refused["outcome"], refused["stopped"]) == (
        CHAT,
        "cancelled",
        True,
    )
    (ended,) = [e for e in entries if e["event_type"] == "request_ended"]
    assert ended["outcome"] == "stopped"

    # The session store is in memory: only the audit log remembers.
    second = RecordingConnector()
    again = build_engine(engine_config, agent=ScriptedAgent([]), connector=second)
    await again.startup()
    await again.shutdown()
    ((chat_id, notice),) = second.sent
    assert chat_id == CHAT
    assert "“write the notes”" in notice and "send it again" in notice

    # Told once: a third start says nothing.
    third = RecordingConnector()
    once_more = build_engine(engine_config, agent=ScriptedAgent([]), connector=third)
    await once_more.startup()
    await once_more.shutdown()
    assert third.sent == []


async def test_a_finished_request_is_not_reported(
    engine_config: TetherConfig,
) -> None:
    first = RecordingConnector()
    engine = build_engine(engine_config, agent=ScriptedAgent([Say("hi")]), connector=first)
    await engine.startup()
    assert first.on_message is not None
    await first.on_message(IncomingMessage(user_id=OWNER, chat_id=CHAT, text="hello"))
    await engine.shutdown()
    assert find_cut_short(engine_config.audit_log_path) == ()


def _write_log(path: Path, entries: list[object]) -> None:
    path.write_text("\n".join(json.dumps(e) for e in entries) + "\n")


def test_a_crash_mid_request_counts_as_cut_short(tmp_path: Path) -> None:
    log = tmp_path / "audit.jsonl"
    _write_log(
        log,
        [
            {"event_type": "request_started", "request_id": "a", "chat_id": 1, "text": "one"},
            {"event_type": "request_ended", "request_id": "a", "outcome": "done"},
            {"event_type": "request_started", "request_id": "b", "chat_id": 2, "text": "two"},
        ],
    )
    ((chat,),) = [find_cut_short(log)]
    assert (chat.chat_id, chat.requests) == (2, ("two",))


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b'not json\n{"event_type": 3}\n[1,2]\n', id="garbage"),
        pytest.param(b"\xff\xfe\x00", id="binary"),
        pytest.param(
            b'{"event_type": "request_started", "request_id": "a", "chat_id": [1]}\n',
            id="chat-id-not-an-id",
        ),
    ],
)
def test_an_odd_log_is_nothing_cut_short(tmp_path: Path, content: bytes) -> None:
    log = tmp_path / "audit.jsonl"
    log.write_bytes(content)
    assert find_cut_short(log) == ()


def test_a_missing_log_is_nothing_cut_short(tmp_path: Path) -> None:
    assert find_cut_short(tmp_path / "absent.jsonl") == ()
