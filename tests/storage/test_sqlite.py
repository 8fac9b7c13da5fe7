"""SqliteSessionStore: the file, restart and resume, schema migration, and failures."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sqlite3
import stat
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tether.core.session import MessageRecord, Session
from tether.exceptions import StorageError
from tether.storage.sqlite import SCHEMA_VERSION, SqliteSessionStore

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)

# The schema as version 1 released it, written out here rather than taken from
# the module: a migration must bring exactly this shape forward.
V1_SCHEMA = """
CREATE TABLE sessions (
    session_id TEXT PRIMARY KEY,
    user_id NOT NULL,
    chat_id NOT NULL,
    working_directory TEXT NOT NULL,
    claude_session_id TEXT,
    mode TEXT NOT NULL DEFAULT 'default',
    total_cost REAL NOT NULL DEFAULT 0,
    message_count INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX sessions_by_chat ON sessions (user_id, chat_id, updated_at);
CREATE TABLE messages (
    id INTEGER PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions (session_id) ON DELETE CASCADE,
    prompt TEXT NOT NULL,
    reply TEXT NOT NULL,
    cost REAL NOT NULL DEFAULT 0,
    duration_ms INTEGER NOT NULL DEFAULT 0,
    tools_used TEXT NOT NULL DEFAULT '[]',
    is_error INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);
CREATE INDEX messages_by_session ON messages (session_id, id);
PRAGMA user_version = 1;
"""


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds")


def _session(user_id: int | str = 1, chat_id: int | str = 10, **fields: object) -> Session:
    values: dict[str, object] = {
        "user_id": user_id,
        "chat_id": chat_id,
        "working_directory": Path("/srv/project"),
    }
    values.update(fields)
    return Session.model_validate(values)


def _record(session: Session, n: int) -> MessageRecord:
    return MessageRecord(
        session_id=session.session_id,
        prompt=f"prompt {n}",
        reply=f"reply {n}",
        cost=0.1,
        duration_ms=n,
        tools_used=("Bash",),
    )


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "state" / "nested" / "tether.db"


@pytest.fixture
def raw() -> Iterator[list[sqlite3.Connection]]:
    """Plain sqlite3 connections a test opens on the file; closed at the end."""
    connections: list[sqlite3.Connection] = []
    yield connections
    for connection in connections:
        connection.close()


def _connect(path: Path, opened: list[sqlite3.Connection]) -> sqlite3.Connection:
    connection = sqlite3.connect(path, isolation_level=None)
    opened.append(connection)
    return connection


class TestTheFile:
    async def test_file_and_directory_are_created_private(self, db_path: Path) -> None:
        async with SqliteSessionStore(db_path) as store:
            await store.save(_session())
            assert _mode(db_path) == 0o600
            assert _mode(db_path.parent) == 0o700
            for suffix in ("-wal", "-shm"):
                assert _mode(Path(f"{db_path}{suffix}")) == 0o600, suffix

    async def test_an_existing_file_is_made_private(self, tmp_path: Path) -> None:
        path = tmp_path / "loose.db"
        path.touch(mode=0o644)
        path.chmod(0o644)
        async with SqliteSessionStore(path):
            pass
        assert _mode(path) == 0o600

    async def test_the_file_is_in_wal_mode_at_the_current_schema(
        self, db_path: Path, raw: list[sqlite3.Connection]
    ) -> None:
        async with SqliteSessionStore(db_path):
            pass
        connection = _connect(db_path, raw)
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert connection.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION

    async def test_deleting_a_session_cascades_to_its_messages(
        self, db_path: Path, raw: list[sqlite3.Connection]
    ) -> None:
        """Foreign keys are on: no orphaned history rows are left in the file."""
        async with SqliteSessionStore(db_path) as store:
            session = _session()
            await store.save(session)
            await store.add_message(_record(session, 1))
            await store.delete(session.session_id)
        connection = _connect(db_path, raw)
        assert connection.execute("SELECT count(*) FROM messages").fetchone()[0] == 0

    async def test_a_home_relative_path_is_expanded(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("HOME", str(tmp_path))
        store = SqliteSessionStore("~/tether/sessions.db")
        assert store.path == tmp_path / "tether" / "sessions.db"
        async with store:
            pass
        assert store.path.is_file()


class TestRestart:
    async def test_a_reopened_store_resumes_the_conversation(self, db_path: Path) -> None:
        first = SqliteSessionStore(db_path)
        session = _session(claude_session_id="claude-123")
        await first.save(session)
        updated = await first.add_message(_record(session, 1))
        await first.close()

        async with SqliteSessionStore(db_path) as second:
            found = await second.get(1, 10)
            assert found == updated
            assert found is not None
            assert found.claude_session_id == "claude-123"
            assert [r.prompt for r in await second.messages(session.session_id)] == ["prompt 1"]

    async def test_two_stores_on_one_file_see_each_others_writes(self, db_path: Path) -> None:
        """A second Tether process (or `tether` subcommand) on the same file stays consistent."""
        async with SqliteSessionStore(db_path) as one, SqliteSessionStore(db_path) as two:
            session = _session()
            await one.save(session)
            await two.add_message(_record(session, 1))
            found = await one.get_by_id(session.session_id)
            assert found is not None
            assert found.message_count == 1


class TestMigration:
    def _write_v1(self, path: Path) -> None:
        connection = sqlite3.connect(path)
        try:
            connection.executescript(V1_SCHEMA)
            rows = [
                # chat (1, 10) had two sessions in v1: the newer one was current.
                ("old", 1, 10, "claude-old", 0.5, 1, T0, T0),
                ("new", 1, 10, "claude-new", 0.25, 1, T0, T0 + timedelta(hours=1)),
                ("other", "alice", "terminal", None, 0.0, 0, T0, T0),
            ]
            for session_id, user, chat, claude, cost, count, created, updated in rows:
                connection.execute(
                    "INSERT INTO sessions (session_id, user_id, chat_id, working_directory, "
                    "claude_session_id, total_cost, message_count, created_at, updated_at) "
                    "VALUES (?, ?, ?, '/srv/project', ?, ?, ?, ?, ?)",
                    (session_id, user, chat, claude, cost, count, _iso(created), _iso(updated)),
                )
            for session_id in ("old", "new"):
                connection.execute(
                    "INSERT INTO messages (session_id, prompt, reply, cost, duration_ms, "
                    "tools_used, is_error, created_at) VALUES (?, 'hi', 'hello', 0.1, 7, ?, 0, ?)",
                    (session_id, json.dumps(["Read"]), _iso(T0)),
                )
            connection.commit()
        finally:
            connection.close()

    async def test_a_v1_file_is_migrated_without_losing_rows(
        self, db_path: Path, raw: list[sqlite3.Connection]
    ) -> None:
        db_path.parent.mkdir(parents=True)
        self._write_v1(db_path)

        async with SqliteSessionStore(db_path) as store:
            current = await store.get(1, 10)
            assert current is not None
            assert current.session_id == "new"
            assert current.claude_session_id == "claude-new"
            old = await store.get_by_id("old")
            assert old is not None
            assert old.archived
            assert (old.total_cost, old.message_count) == (0.5, 1)
            other = await store.get("alice", "terminal")
            assert other is not None
            assert not other.archived
            history = await store.messages("old")
            assert [(r.prompt, r.reply, r.tools_used, r.duration_ms) for r in history] == [
                ("hi", "hello", ("Read",), 7)
            ]
            assert len(await store.messages("new")) == 1
            # The migrated file takes new writes under the new rules.
            fresh = _session(1, 10)
            await store.save(fresh)
            newly_archived = await store.get_by_id("new")
            assert newly_archived is not None
            assert newly_archived.archived

        connection = _connect(db_path, raw)
        assert connection.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert connection.execute("SELECT count(*) FROM sessions").fetchone()[0] == 4
        assert connection.execute("SELECT count(*) FROM messages").fetchone()[0] == 2

    async def test_opening_an_up_to_date_file_changes_nothing(
        self, db_path: Path, raw: list[sqlite3.Connection]
    ) -> None:
        async with SqliteSessionStore(db_path) as store:
            await store.save(_session())
        async with SqliteSessionStore(db_path) as store:
            assert await store.get(1, 10) is not None
        connection = _connect(db_path, raw)
        assert connection.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION

    async def test_a_file_from_a_newer_tether_is_refused(
        self, db_path: Path, raw: list[sqlite3.Connection]
    ) -> None:
        async with SqliteSessionStore(db_path):
            pass
        _connect(db_path, raw).execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
        store = SqliteSessionStore(db_path)
        with pytest.raises(StorageError, match="newer Tether") as caught:
            await store.initialize()
        assert str(db_path) in str(caught.value)
        await store.close()

    async def test_another_programs_database_is_left_alone(
        self, tmp_path: Path, raw: list[sqlite3.Connection]
    ) -> None:
        path = tmp_path / "foreign.db"
        _connect(path, raw).execute("CREATE TABLE notes (body TEXT)")
        store = SqliteSessionStore(path)
        with pytest.raises(StorageError, match="another program") as caught:
            await store.initialize()
        assert str(path) in str(caught.value)
        await store.close()
        tables = _connect(path, raw).execute("SELECT name FROM sqlite_master").fetchall()
        assert tables == [("notes",)]


class TestFailures:
    async def test_a_corrupt_file_names_the_path_and_the_fix(self, tmp_path: Path) -> None:
        path = tmp_path / "tether.db"
        path.write_bytes(b"this is not a database, just some text " * 200)
        store = SqliteSessionStore(path)
        with pytest.raises(StorageError) as caught:
            await store.get(1, 10)
        message = str(caught.value)
        assert str(path) in message
        assert "file is not a database" in message
        assert "move it aside" in message
        assert "TETHER_STORAGE_PATH" in message
        await store.close()

    async def test_a_parent_that_is_a_file_names_the_path(self, tmp_path: Path) -> None:
        blocker = tmp_path / "blocker"
        blocker.write_text("a file where a directory should be")
        store = SqliteSessionStore(blocker / "tether.db")
        with pytest.raises(StorageError, match="cannot create the file") as caught:
            await store.initialize()
        assert str(blocker / "tether.db") in str(caught.value)
        assert "a file stands where a directory" in str(caught.value)
        assert "TETHER_STORAGE_PATH" in str(caught.value)
        await store.close()

    async def test_a_path_that_is_a_directory_is_refused(self, tmp_path: Path) -> None:
        store = SqliteSessionStore(tmp_path)
        with pytest.raises(StorageError, match="it is a directory") as caught:
            await store.initialize()
        assert str(tmp_path / "tether.db") in str(caught.value)
        await store.close()

    @pytest.mark.skipif(
        hasattr(os, "geteuid") and os.geteuid() == 0,
        reason="file permissions do not bind the root user",
    )
    async def test_an_unwritable_directory_names_the_path(self, tmp_path: Path) -> None:
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        try:
            store = SqliteSessionStore(locked / "tether.db")
            with pytest.raises(StorageError, match="cannot create the file") as caught:
                await store.initialize()
            assert str(locked / "tether.db") in str(caught.value)
            await store.close()
        finally:
            locked.chmod(0o700)

    async def test_a_database_held_by_another_program_times_out_with_a_fix(
        self, db_path: Path, raw: list[sqlite3.Connection]
    ) -> None:
        async with SqliteSessionStore(db_path):
            pass
        holder = _connect(db_path, raw)
        holder.execute("BEGIN EXCLUSIVE")
        store = SqliteSessionStore(db_path, busy_timeout=0.05)
        try:
            with pytest.raises(StorageError, match="locked"):
                await store.save(_session())
        finally:
            holder.execute("ROLLBACK")
        # Once the other program lets go, the same store works.
        await store.save(_session())
        assert await store.get(1, 10) is not None
        await store.close()

    async def test_a_failed_write_leaves_no_transaction_behind(
        self, db_path: Path, raw: list[sqlite3.Connection]
    ) -> None:
        async with SqliteSessionStore(db_path) as store:
            session = _session()
            await store.save(session)
            with pytest.raises(StorageError):
                await store.add_message(_record(_session(), 1))
            await store.add_message(_record(session, 1))
            assert len(await store.messages(session.session_id)) == 1

    @pytest.mark.parametrize("steps", range(12))
    async def test_a_cancelled_write_leaves_the_store_usable(
        self, db_path: Path, steps: int
    ) -> None:
        """Wherever a caller is cancelled inside a transaction, the next caller is unaffected."""
        async with SqliteSessionStore(db_path) as store:
            session = _session()
            await store.save(session)
            task = asyncio.create_task(store.add_message(_record(session, 1)))
            for _ in range(steps):
                await asyncio.sleep(0)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            updated = await store.add_message(_record(session, 2))
            history = await store.messages(session.session_id)
            assert updated.message_count == len(history)
            assert history[-1].prompt == "prompt 2"

    async def test_an_id_beyond_64_bits_is_a_storage_error(self, db_path: Path) -> None:
        async with SqliteSessionStore(db_path) as store:
            with pytest.raises(StorageError, match="saving a session failed"):
                await store.save(_session(user_id=2**64))
            assert await store.get(1, 10) is None

    async def test_a_damaged_row_names_the_session(
        self, db_path: Path, raw: list[sqlite3.Connection]
    ) -> None:
        async with SqliteSessionStore(db_path) as store:
            await store.save(_session(session_id="s1"))
        _connect(db_path, raw).execute("UPDATE sessions SET mode = 'bogus'")
        async with SqliteSessionStore(db_path) as store:
            with pytest.raises(StorageError, match="session 's1' is damaged"):
                await store.get(1, 10)
