"""The engine while another program holds the session store locked: nothing vanishes unseen."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.fakes.agent import Fail, Say, ScriptedAgent
from tether.app import build_engine
from tether.core.config import TetherConfig
from tether.core.engine import Engine
from tether.exceptions import AgentError
from tether.storage.sqlite import SqliteSessionStore

OWNER = 111
CHAT = 5000


@pytest.fixture
def holder(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    connection = sqlite3.connect(tmp_path / "tether.db", isolation_level=None, timeout=0)
    yield connection
    if connection.in_transaction:
        connection.rollback()
    connection.close()


async def _engine(
    config: TetherConfig, agent: ScriptedAgent, monkeypatch: pytest.MonkeyPatch
) -> Engine:
    engine = build_engine(
        config.model_copy(
            update={
                "allowed_user_ids": (OWNER,),
                "storage_backend": "sqlite",
                "rate_limit_burst": 50,
            }
        ),
        agent=agent,
    )
    assert isinstance(engine.store, SqliteSessionStore)
    # The real bound is about 20 s; the same mechanism, shortened for the test.
    monkeypatch.setattr(engine.store, "_busy_timeout", 0.05)
    monkeypatch.setattr(engine.store, "_retry_for", 0.4)
    await engine.startup()
    return engine


@pytest.fixture
async def engine(config: TetherConfig, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Engine]:
    built = await _engine(config, ScriptedAgent([Say("hello")]), monkeypatch)
    yield built
    await built.shutdown()


async def _history(engine: Engine) -> int:
    session = await engine.sessions.get_or_create(OWNER, CHAT)
    return len(await engine.sessions.history(session.session_id))


@pytest.mark.parametrize("lock", ["BEGIN IMMEDIATE", "BEGIN EXCLUSIVE"])
async def test_a_history_that_cannot_be_saved_is_told_with_the_reply(
    engine: Engine, holder: sqlite3.Connection, lock: str
) -> None:
    assert await engine.handle_message(OWNER, "first", CHAT) == "hello"
    holder.execute(lock)
    reply = await engine.handle_message(OWNER, "second", CHAT)
    assert reply.startswith("hello\n\n⚠️ This exchange was not saved to the session history:")
    assert "locked" in reply and "TETHER_STORAGE_PATH" in reply
    holder.rollback()
    assert await _history(engine) == 1  # "second" is not there, and the person knows it


async def test_a_lock_that_clears_is_waited_for_and_the_exchange_saved(
    engine: Engine, holder: sqlite3.Connection
) -> None:
    assert await engine.handle_message(OWNER, "first", CHAT) == "hello"
    holder.execute("BEGIN IMMEDIATE")
    asyncio.get_running_loop().call_later(0.15, holder.rollback)
    assert await engine.handle_message(OWNER, "second", CHAT) == "hello"
    assert await _history(engine) == 2


async def test_an_agent_error_that_cannot_be_saved_says_both(
    config: TetherConfig, monkeypatch: pytest.MonkeyPatch, holder: sqlite3.Connection
) -> None:
    engine = await _engine(
        config, ScriptedAgent([Fail(AgentError("Claude Code stopped."))]), monkeypatch
    )
    try:
        await engine.sessions.get_or_create(OWNER, CHAT)
        holder.execute("BEGIN IMMEDIATE")
        reply = await engine.handle_message(OWNER, "go", CHAT)
        assert reply.startswith("⚠️ Claude Code stopped.")
        assert "This exchange was not saved" in reply
    finally:
        holder.rollback()
        await engine.shutdown()


async def test_a_new_chat_under_a_lock_is_a_readable_reply(
    engine: Engine, holder: sqlite3.Connection
) -> None:
    holder.execute("BEGIN IMMEDIATE")
    reply = await engine.handle_message(OWNER, "hi", CHAT)
    assert reply.startswith("⚠️ session store")
    assert "still locked after" in reply
    holder.rollback()
    assert await engine.handle_message(OWNER, "hi", CHAT) == "hello"


@pytest.mark.parametrize("command", ["/clear", "/plan", "/edit"])
async def test_a_command_that_writes_under_a_lock_is_a_readable_reply(
    engine: Engine, holder: sqlite3.Connection, command: str
) -> None:
    assert await engine.handle_message(OWNER, "first", CHAT) == "hello"
    holder.execute("BEGIN IMMEDIATE")
    reply = await engine.handle_message(OWNER, command, CHAT)
    assert reply.startswith("⚠️")
    assert "locked" in reply
