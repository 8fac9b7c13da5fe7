"""SqliteSessionStore while another program holds the file locked: wait, retry, then say so.

The other program is a real second SQLite connection (and, once, a second
process) holding `BEGIN IMMEDIATE`, `BEGIN EXCLUSIVE` or an exclusive locking
mode; the store must ride out a lock that clears and fail, within its bound,
with a readable error when it does not.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tether.core.session import MessageRecord, Session, SessionMode
from tether.exceptions import StorageError
from tether.storage.sqlite import SqliteSessionStore

Step = Callable[[SqliteSessionStore, Session], Awaitable[Any]]


def _session(user_id: int = 1, chat_id: int = 10) -> Session:
    return Session.model_validate(
        {"user_id": user_id, "chat_id": chat_id, "working_directory": Path("/srv/project")}
    )


def _record(session: Session) -> MessageRecord:
    return MessageRecord(session_id=session.session_id, prompt="p", reply="r", cost=0.1)


async def _save_new(store: SqliteSessionStore, session: Session) -> Any:
    return await store.save(_session(chat_id=11))


async def _update(store: SqliteSessionStore, session: Session) -> Any:
    return await store.save(session.model_copy(update={"claude_session_id": "c1"}))


async def _mode(store: SqliteSessionStore, session: Session) -> Any:
    return await store.save(session.model_copy(update={"mode": SessionMode.PLAN}))


async def _add(store: SqliteSessionStore, session: Session) -> Any:
    return await store.add_message(_record(session))


async def _archive(store: SqliteSessionStore, session: Session) -> Any:
    return await store.archive(session.session_id)


async def _delete(store: SqliteSessionStore, session: Session) -> Any:
    return await store.delete(session.session_id)


WRITES = [
    pytest.param(_save_new, id="session-create"),
    pytest.param(_update, id="session-update"),
    pytest.param(_mode, id="mode-change"),
    pytest.param(_add, id="history-append"),
    pytest.param(_archive, id="clear-archive"),
    pytest.param(_delete, id="delete"),
]


async def _get(store: SqliteSessionStore, session: Session) -> Any:
    return await store.get(session.user_id, session.chat_id)


async def _get_by_id(store: SqliteSessionStore, session: Session) -> Any:
    return await store.get_by_id(session.session_id)


async def _messages(store: SqliteSessionStore, session: Session) -> Any:
    return await store.messages(session.session_id)


READS = [
    pytest.param(_get, id="current-session"),
    pytest.param(_get_by_id, id="session-by-id"),
    pytest.param(_messages, id="history"),
]

LOCKS = [
    pytest.param("BEGIN IMMEDIATE", id="immediate"),
    pytest.param("BEGIN EXCLUSIVE", id="exclusive"),
]


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "sessions.db"


@pytest.fixture
def holders() -> Iterator[list[sqlite3.Connection]]:
    opened: list[sqlite3.Connection] = []
    yield opened
    for connection in opened:
        with contextlib.suppress(sqlite3.ProgrammingError):  # closed by the test already
            if connection.in_transaction:
                connection.rollback()
        connection.close()


async def _prepared(path: Path) -> Session:
    session = _session()
    async with SqliteSessionStore(path) as store:
        await store.save(session)
        await store.add_message(_record(session))
    return session


def _hold(
    path: Path, holders: list[sqlite3.Connection], statement: str, *, exclusive_mode: bool = False
) -> sqlite3.Connection:
    holder = sqlite3.connect(path, isolation_level=None, timeout=0)
    holders.append(holder)
    if exclusive_mode:
        # Readers are shut out too: WAL lets reads past an ordinary write lock.
        holder.execute("PRAGMA locking_mode = EXCLUSIVE")
    holder.execute(statement)
    if exclusive_mode:
        holder.execute("UPDATE sessions SET mode = mode")
    return holder


@pytest.mark.parametrize("lock", LOCKS)
@pytest.mark.parametrize("step", WRITES)
async def test_a_write_waits_for_a_lock_that_clears(
    db_path: Path, holders: list[sqlite3.Connection], step: Step, lock: str
) -> None:
    session = await _prepared(db_path)
    holder = _hold(db_path, holders, lock)
    store = SqliteSessionStore(db_path, busy_timeout=0.05, retry_for=10)
    # Let go once the store has failed at least one attempt.
    asyncio.get_running_loop().call_later(0.15, holder.rollback)
    try:
        await step(store, session)
    finally:
        await store.close()


@pytest.mark.parametrize("lock", LOCKS)
@pytest.mark.parametrize("step", WRITES)
async def test_a_write_under_a_lock_that_stays_fails_within_the_bound(
    db_path: Path, holders: list[sqlite3.Connection], step: Step, lock: str
) -> None:
    session = await _prepared(db_path)
    store = SqliteSessionStore(db_path, busy_timeout=0.05, retry_for=0.3)
    await store.initialize()
    _hold(db_path, holders, lock)
    started = time.monotonic()
    with pytest.raises(StorageError) as caught:
        await step(store, session)
    elapsed = time.monotonic() - started
    message = str(caught.value)
    assert "still locked after" in message
    assert "another program holds the database locked" in message
    assert str(db_path) in message
    assert "\n" not in message
    assert 0.15 <= elapsed < 3  # retried, and gave up near retry_for + busy_timeout
    holders[0].rollback()
    # Nothing half-written, nothing left open: the store works once the lock is gone.
    await step(store, session)
    await store.close()


@pytest.mark.parametrize("step", READS)
async def test_a_read_waits_for_an_exclusive_lock_that_clears(
    db_path: Path, holders: list[sqlite3.Connection], step: Step
) -> None:
    session = await _prepared(db_path)
    holder = _hold(db_path, holders, "BEGIN EXCLUSIVE", exclusive_mode=True)
    store = SqliteSessionStore(db_path, busy_timeout=0.05, retry_for=10)

    # An exclusive locking mode lasts as long as the connection.
    asyncio.get_running_loop().call_later(0.15, holder.close)
    try:
        assert await step(store, session)
    finally:
        await store.close()


@pytest.mark.parametrize("step", READS)
async def test_a_read_under_an_exclusive_lock_that_stays_fails_readably(
    db_path: Path, holders: list[sqlite3.Connection], step: Step
) -> None:
    session = await _prepared(db_path)
    _hold(db_path, holders, "BEGIN EXCLUSIVE", exclusive_mode=True)
    store = SqliteSessionStore(db_path, busy_timeout=0.05, retry_for=0.3)
    with pytest.raises(StorageError, match=r"still locked after \d+ attempts"):
        await step(store, session)
    await store.close()


@pytest.mark.parametrize("lock", LOCKS)
async def test_a_database_busy_at_start_up_is_waited_for(
    db_path: Path, holders: list[sqlite3.Connection], lock: str
) -> None:
    await _prepared(db_path)
    holder = _hold(db_path, holders, lock)
    store = SqliteSessionStore(db_path, busy_timeout=0.05, retry_for=10)
    asyncio.get_running_loop().call_later(0.15, holder.rollback)
    await store.initialize()
    await store.close()


async def test_a_new_database_busy_at_start_up_fails_readably(
    db_path: Path, holders: list[sqlite3.Connection]
) -> None:
    # An empty file another program has locked: the schema cannot be written.
    _hold(db_path, holders, "BEGIN EXCLUSIVE")
    store = SqliteSessionStore(db_path, busy_timeout=0.05, retry_for=0.3)
    with pytest.raises(StorageError) as caught:
        await store.initialize()
    assert "still locked after" in str(caught.value)
    assert "\n" not in str(caught.value)
    await store.close()


async def test_attempts_are_bounded_in_number_too(
    db_path: Path, holders: list[sqlite3.Connection]
) -> None:
    session = await _prepared(db_path)
    _hold(db_path, holders, "BEGIN IMMEDIATE")
    store = SqliteSessionStore(db_path, busy_timeout=0.01, retry_for=60)
    started = time.monotonic()
    with pytest.raises(StorageError, match="after 5 attempts"):
        await _add(store, session)
    assert time.monotonic() - started < 10
    await store.close()


_HOLDER = """
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
db.execute("ROLLBACK")
"""


async def test_a_second_process_holding_the_lock_is_waited_for(db_path: Path) -> None:
    session = await _prepared(db_path)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _HOLDER, str(db_path), "0.8", stdout=asyncio.subprocess.PIPE
    )
    try:
        assert process.stdout is not None
        assert (await process.stdout.readline()).strip() == b"locked"
        async with SqliteSessionStore(db_path, busy_timeout=0.2, retry_for=10) as store:
            updated = await store.add_message(_record(session))
        assert updated.message_count == 2
    finally:
        await asyncio.wait_for(process.wait(), timeout=30)
