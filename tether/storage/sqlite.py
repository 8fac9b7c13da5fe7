"""SqliteSessionStore: sessions and their history in one SQLite file.

Restarting Tether on the same file finds every chat's session and its Claude
session id, so the conversation resumes where it stopped.

The file is created with mode 0600 (its directory 0700 when missing) and runs
in WAL mode with foreign keys on. `synchronous=NORMAL`: a commit survives a
crash of Tether; a power cut may lose the last few.

Schema versions: the file's `PRAGMA user_version` is the number of the last
migration applied. `_MIGRATIONS` is the ordered list of every schema change
ever released; opening a file applies the ones it lacks, all in one
transaction, so a file is never left half-migrated. A released migration is
never edited: a change to the schema is a new migration at the end. A file
written by a newer Tether (a higher version) is refused rather than guessed at.

All statements run through aiosqlite's worker thread, one at a time, behind
an asyncio lock that also keeps each multi-statement transaction whole.

Another program holding the file locked: every step (a read, a write, the
opening and migration at start-up) is tried again, whole, until the lock
clears, for at most about 20 s (`DEFAULT_RETRY_FOR` plus one
`DEFAULT_BUSY_TIMEOUT`, 5 attempts at most); then it fails with a
`StorageError` saying so.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sqlite3
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, NamedTuple, Self, TypeVar

import aiosqlite
from pydantic import ValidationError

from tether.core.types import ChatId, MessageRecord, Session, UserId
from tether.exceptions import StorageError
from tether.log import get_logger

__all__ = ["DEFAULT_BUSY_TIMEOUT", "DEFAULT_RETRY_FOR", "SCHEMA_VERSION", "SqliteSessionStore"]

logger = get_logger(__name__)

_T = TypeVar("_T")

# While another program holds the file locked (a second Tether writing, a
# backup, an `sqlite3` shell with a transaction open), every step waits for
# it. A lock that clears within seconds is ridden out; one held longer is
# someone's open transaction, which will not end while a person waits for a
# reply (the engine records an exchange before it answers), so after about
# 20 s the step fails and the person is told.
DEFAULT_BUSY_TIMEOUT = 5.0
DEFAULT_RETRY_FOR = 15.0
_MAX_ATTEMPTS = 5
_FIRST_PAUSE = 0.1
_MAX_PAUSE = 2.0


class _Migration(NamedTuple):
    version: int
    description: str
    statements: tuple[str, ...]


_MIGRATIONS: tuple[_Migration, ...] = (
    _Migration(
        1,
        "sessions and their message history",
        (
            # user_id and chat_id have no declared type on purpose: without a
            # type affinity SQLite keeps an integer id an integer and a text id
            # text, so ids come back as they were given (5 and "5" differ).
            """
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
            )
            """,
            "CREATE INDEX sessions_by_chat ON sessions (user_id, chat_id, updated_at)",
            """
            CREATE TABLE messages (
                id INTEGER PRIMARY KEY,
                session_id TEXT NOT NULL
                    REFERENCES sessions (session_id) ON DELETE CASCADE,
                prompt TEXT NOT NULL,
                reply TEXT NOT NULL,
                cost REAL NOT NULL DEFAULT 0,
                duration_ms INTEGER NOT NULL DEFAULT 0,
                tools_used TEXT NOT NULL DEFAULT '[]',
                is_error INTEGER NOT NULL DEFAULT 0,
                created_at TEXT NOT NULL
            )
            """,
            "CREATE INDEX messages_by_session ON messages (session_id, id)",
        ),
    ),
    _Migration(
        2,
        "archived sessions: at most one current session per chat",
        (
            "ALTER TABLE sessions ADD COLUMN archived_at TEXT",
            # Before archiving existed, a chat's current session was its most
            # recently updated one: keep that one current, archive the others.
            """
            UPDATE sessions SET archived_at = updated_at
            WHERE EXISTS (
                SELECT 1 FROM sessions AS newer
                WHERE newer.user_id = sessions.user_id
                  AND newer.chat_id = sessions.chat_id
                  AND (newer.updated_at > sessions.updated_at
                       OR (newer.updated_at = sessions.updated_at
                           AND newer.session_id > sessions.session_id))
            )
            """,
            """
            CREATE UNIQUE INDEX one_current_session_per_chat
            ON sessions (user_id, chat_id) WHERE archived_at IS NULL
            """,
        ),
    ),
)

SCHEMA_VERSION = _MIGRATIONS[-1].version
"""The schema version this Tether writes; files at a lower version are migrated on open."""

_SESSION_COLUMNS = (
    "session_id",
    "user_id",
    "chat_id",
    "working_directory",
    "claude_session_id",
    "mode",
    "total_cost",
    "message_count",
    "created_at",
    "updated_at",
    "archived_at",
)
_SELECT_SESSION = f"SELECT {', '.join(_SESSION_COLUMNS)} FROM sessions"
_MESSAGE_COLUMNS = (
    "session_id",
    "prompt",
    "reply",
    "cost",
    "duration_ms",
    "tools_used",
    "is_error",
    "created_at",
)

# The fix to suggest for an SQLite error, by its primary result code.
_FIXES: dict[str, str] = {
    "SQLITE_NOTADB": "if the file is not Tether's, set TETHER_STORAGE_PATH to another file; "
    "if it is, it is damaged: move it aside and Tether starts a new one",
    "SQLITE_CORRUPT": "the file is damaged; move it aside (Tether then creates a new one) "
    "or set TETHER_STORAGE_PATH to another file",
    "SQLITE_BUSY": "another program holds the database locked; stop it or set "
    "TETHER_STORAGE_PATH to another file",
    "SQLITE_LOCKED": "another program holds the database locked; stop it or set "
    "TETHER_STORAGE_PATH to another file",
    "SQLITE_READONLY": "the file or its directory is not writable; fix the permissions or set "
    "TETHER_STORAGE_PATH to a writable place",
    "SQLITE_CANTOPEN": "the file cannot be opened; check that its directory exists and is "
    "writable, or set TETHER_STORAGE_PATH to a writable place",
    "SQLITE_PERM": "access was denied; fix the permissions or set TETHER_STORAGE_PATH to a "
    "writable place",
    "SQLITE_FULL": "the disk is full; free some space",
    "SQLITE_IOERR": "the disk reported an error; check the disk and the free space",
}
_DEFAULT_FIX = "set TETHER_STORAGE_PATH to another file if the problem persists"


def _iso(moment: datetime) -> str:
    # One fixed UTC format, so timestamps compare correctly as text (migration 2 relies on it).
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _fix_for(error: sqlite3.Error | OverflowError) -> str:
    name = getattr(error, "sqlite_errorname", "") or ""
    primary = "_".join(name.split("_")[:2])
    return _FIXES.get(primary, _DEFAULT_FIX)


class SqliteSessionStore:
    """A `SessionStore` in the SQLite file at `path`.

    Args:
        path: the database file; it and its directory are created if missing.
        busy_timeout: seconds SQLite waits, within one attempt, for another
            program holding the file locked.
        retry_for: seconds after which no new attempt starts; a step is
            tried at most `_MAX_ATTEMPTS` times. The longest wait for a lock
            is therefore about `retry_for + busy_timeout` (20 s by default).

    Every method raises `StorageError` naming the file and the way out when
    the file cannot be created, opened, migrated, read or written.
    """

    def __init__(
        self,
        path: Path | str,
        *,
        busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
        retry_for: float = DEFAULT_RETRY_FOR,
    ) -> None:
        self._path = Path(path).expanduser().absolute()
        self._busy_timeout = busy_timeout
        self._retry_for = retry_for
        self._connection: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()
        self._closed = False

    @property
    def path(self) -> Path:
        return self._path

    async def initialize(self) -> None:
        """Create or open the file, switch it to WAL and bring its schema up to date.

        Raises:
            StorageError: the file cannot be created or opened, is not a Tether
                session store, or was written by a newer Tether.
        """
        await self._run("opening the file", _nothing)

    async def close(self) -> None:
        """Close the file; later calls raise `StorageError`. Safe to call twice."""
        async with self._lock:
            self._closed = True
            connection, self._connection = self._connection, None
            if connection is not None:
                try:
                    await connection.close()
                except sqlite3.Error as error:
                    logger.warning("storage_close_failed", path=str(self._path), error=str(error))

    async def get(self, user_id: UserId, chat_id: ChatId) -> Session | None:
        async def read(db: aiosqlite.Connection) -> Iterable[Sequence[Any]]:
            return await db.execute_fetchall(
                f"{_SELECT_SESSION} WHERE user_id = ? AND chat_id = ? AND archived_at IS NULL",
                (user_id, chat_id),
            )

        return self._first_session(await self._run("reading the current session", read))

    async def get_by_id(self, session_id: str) -> Session | None:
        async def read(db: aiosqlite.Connection) -> Iterable[Sequence[Any]]:
            return await db.execute_fetchall(
                f"{_SELECT_SESSION} WHERE session_id = ?", (session_id,)
            )

        return self._first_session(await self._run("reading a session", read))

    async def save(self, session: Session) -> None:
        await self._run("saving a session", lambda db: self._save(db, session), write=True)

    async def _save(self, db: aiosqlite.Connection, session: Session) -> None:
        rows = list(
            await db.execute_fetchall(
                "SELECT user_id, chat_id, archived_at FROM sessions WHERE session_id = ?",
                (session.session_id,),
            )
        )
        archived_in_store = False
        if rows:
            stored_user, stored_chat, stored_archived = rows[0]
            if (stored_user, stored_chat) != (session.user_id, session.chat_id):
                raise StorageError(
                    f"session {session.session_id} belongs to user {stored_user!r} in chat "
                    f"{stored_chat!r}; a session cannot move to another chat"
                )
            archived_in_store = stored_archived is not None
        if session.archived_at is None and not archived_in_store:
            await db.execute(
                "UPDATE sessions SET archived_at = ? WHERE user_id = ? AND chat_id = ? "
                "AND archived_at IS NULL AND session_id != ?",
                (_iso(datetime.now(UTC)), session.user_id, session.chat_id, session.session_id),
            )
        await db.execute(
            f"INSERT INTO sessions ({', '.join(_SESSION_COLUMNS)}) "
            f"VALUES ({', '.join('?' for _ in _SESSION_COLUMNS)}) "
            "ON CONFLICT (session_id) DO UPDATE SET "
            "working_directory = excluded.working_directory, "
            "claude_session_id = excluded.claude_session_id, "
            "mode = excluded.mode, "
            "updated_at = excluded.updated_at, "
            # Archiving is final: a stale copy saved later cannot undo it.
            "archived_at = COALESCE(sessions.archived_at, excluded.archived_at)",
            (
                session.session_id,
                session.user_id,
                session.chat_id,
                str(session.working_directory),
                session.claude_session_id,
                session.mode.value,
                session.total_cost,
                session.message_count,
                _iso(session.created_at),
                _iso(session.updated_at),
                None if session.archived_at is None else _iso(session.archived_at),
            ),
        )

    async def archive(self, session_id: str) -> bool:
        async def write(db: aiosqlite.Connection) -> bool:
            cursor = await db.execute(
                "UPDATE sessions SET archived_at = ? WHERE session_id = ? AND archived_at IS NULL",
                (_iso(datetime.now(UTC)), session_id),
            )
            return cursor.rowcount > 0

        return await self._run("archiving a session", write, write=True)

    async def delete(self, session_id: str) -> bool:
        async def write(db: aiosqlite.Connection) -> bool:
            cursor = await db.execute("DELETE FROM sessions WHERE session_id = ?", (session_id,))
            return cursor.rowcount > 0

        return await self._run("deleting a session", write, write=True)

    async def add_message(self, record: MessageRecord) -> Session:
        rows = await self._run(
            "recording a message", lambda db: self._add_message(db, record), write=True
        )
        updated = self._first_session(rows)
        assert updated is not None  # the UPDATE above found it, in the same transaction
        return updated

    async def _add_message(
        self, db: aiosqlite.Connection, record: MessageRecord
    ) -> Iterable[Sequence[Any]]:
        cursor = await db.execute(
            "UPDATE sessions SET total_cost = total_cost + ?, "
            "message_count = message_count + 1, updated_at = ? WHERE session_id = ?",
            (record.cost, _iso(record.timestamp), record.session_id),
        )
        if cursor.rowcount == 0:
            raise StorageError(
                f"session {record.session_id} is not in the session store {self._path}; "
                "save the session before adding messages to it"
            )
        await db.execute(
            f"INSERT INTO messages ({', '.join(_MESSAGE_COLUMNS)}) "
            f"VALUES ({', '.join('?' for _ in _MESSAGE_COLUMNS)})",
            (
                record.session_id,
                record.prompt,
                record.reply,
                record.cost,
                record.duration_ms,
                json.dumps(list(record.tools_used)),
                int(record.is_error),
                _iso(record.timestamp),
            ),
        )
        return await db.execute_fetchall(
            f"{_SELECT_SESSION} WHERE session_id = ?", (record.session_id,)
        )

    async def messages(self, session_id: str, limit: int | None = 50) -> tuple[MessageRecord, ...]:
        if limit is not None and limit < 1:
            raise StorageError(f"messages: limit must be at least 1 (or None for all), got {limit}")
        columns = ", ".join(_MESSAGE_COLUMNS)

        async def read(db: aiosqlite.Connection) -> Iterable[Sequence[Any]]:
            return await db.execute_fetchall(
                f"SELECT {columns} FROM ("
                f"SELECT id, {columns} FROM messages WHERE session_id = ? "
                "ORDER BY id DESC LIMIT ?"
                ") ORDER BY id",
                (session_id, -1 if limit is None else limit),
            )

        rows = await self._run("reading the message history", read)
        return tuple(self._message(row) for row in rows)

    async def __aenter__(self) -> Self:
        await self.initialize()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def _run(
        self,
        action: str,
        work: Callable[[aiosqlite.Connection], Awaitable[_T]],
        *,
        write: bool = False,
    ) -> _T:
        """`work` on the open connection, alone; with `write`, in one transaction.

        While another program holds the file locked, the whole step is tried
        again (rolled back first) until the lock clears, within the bounds of
        `retry_for` and `_MAX_ATTEMPTS`; then the last error is raised.
        """
        started = time.monotonic()
        pause = _FIRST_PAUSE
        attempt = 1
        while True:
            try:
                async with self._lock:
                    return await self._attempt(action, work, write=write)
            except _BusyError as busy:
                waited = time.monotonic() - started
                if attempt >= _MAX_ATTEMPTS or waited + pause >= self._retry_for:
                    raise self._error(
                        action,
                        busy.error,
                        detail=f"still locked after {attempt} attempts over {waited:.1f} s",
                    ) from busy.error
                logger.warning(
                    "storage_busy_retrying",
                    path=str(self._path),
                    action=action,
                    attempt=attempt,
                    waited_seconds=round(waited, 3),
                )
            await asyncio.sleep(pause)
            pause = min(pause * 2, _MAX_PAUSE)
            attempt += 1

    async def _attempt(
        self,
        action: str,
        work: Callable[[aiosqlite.Connection], Awaitable[_T]],
        *,
        write: bool,
    ) -> _T:
        try:
            db = await self._open()
            try:
                if write:
                    # IMMEDIATE takes the write lock up front, so a second
                    # Tether on the same file waits (busy_timeout) instead
                    # of failing halfway through a transaction.
                    await db.execute("BEGIN IMMEDIATE")
                result = await work(db)
                if write:
                    await db.execute("COMMIT")
                return result
            except BaseException:
                if write:
                    # Shielded: a caller cancelled mid-transaction must
                    # still leave none open for the next caller. The
                    # worker runs statements in order, so the ROLLBACK
                    # lands before anything queued after it.
                    await asyncio.shield(_rollback(db))
                raise
        # OverflowError: an integer id beyond SQLite's 64 bits cannot be stored.
        except (sqlite3.Error, OverflowError) as error:
            if isinstance(error, sqlite3.Error) and _is_busy(error):
                raise _BusyError(error) from error
            raise self._error(action, error) from error

    async def _open(self) -> aiosqlite.Connection:
        if self._closed:
            raise StorageError(f"session store {self._path} is closed; it cannot be used again")
        if self._connection is not None:
            return self._connection
        try:
            await asyncio.to_thread(self._prepare_file)
        except OSError as error:
            raise self._file_error(error) from error
        try:
            db = await aiosqlite.connect(
                self._path, timeout=self._busy_timeout, isolation_level=None
            )
        except sqlite3.Error as error:
            if _is_busy(error):
                raise
            raise self._error("opening the file", error) from error
        try:
            await self._configure(db)
            await self._migrate(db)
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                await asyncio.shield(db.close())
            raise
        self._connection = db
        logger.debug("storage_opened", path=str(self._path), schema_version=SCHEMA_VERSION)
        return db

    def _prepare_file(self) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            os.fchmod(fd, 0o600)
        finally:
            os.close(fd)
        # SQLite gives its -wal and -shm files the database file's mode when
        # it creates them; tighten any left behind by an older run as well.
        for suffix in ("-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                Path(f"{self._path}{suffix}").chmod(0o600)

    async def _configure(self, db: aiosqlite.Connection) -> None:
        try:
            rows = await db.execute_fetchall("PRAGMA journal_mode = WAL")
            journal_mode = str(next(iter(rows))[0]).lower()
            if journal_mode != "wal":
                # Some file systems (network mounts) cannot share memory for
                # WAL; SQLite then keeps its rollback journal, which still works.
                logger.warning("storage_wal_unavailable", path=str(self._path), mode=journal_mode)
            await db.execute("PRAGMA foreign_keys = ON")
            await db.execute("PRAGMA synchronous = NORMAL")
        except sqlite3.Error as error:
            if _is_busy(error):
                raise
            raise self._error("opening the file", error) from error

    async def _migrate(self, db: aiosqlite.Connection) -> None:
        try:
            try:
                await db.execute("BEGIN IMMEDIATE")
                version = await self._check_version(db)
                pending = [migration for migration in _MIGRATIONS if migration.version > version]
                for migration in pending:
                    for statement in migration.statements:
                        await db.execute(statement)
                if pending:
                    # PRAGMA takes no parameters; SCHEMA_VERSION is our own int.
                    await db.execute(f"PRAGMA user_version = {SCHEMA_VERSION:d}")
                await db.execute("COMMIT")
            except BaseException:
                await asyncio.shield(_rollback(db))
                raise
        except sqlite3.Error as error:
            if _is_busy(error):
                raise
            raise self._error("updating the schema", error) from error
        if pending:
            logger.info(
                "storage_migrated",
                path=str(self._path),
                from_version=version,
                to_version=SCHEMA_VERSION,
                applied=[migration.description for migration in pending],
            )

    async def _check_version(self, db: aiosqlite.Connection) -> int:
        version = int(next(iter(await db.execute_fetchall("PRAGMA user_version")))[0])
        if version > SCHEMA_VERSION:
            raise StorageError(
                f"session store {self._path} has schema version {version}, written by a newer "
                f"Tether; this one knows versions up to {SCHEMA_VERSION}. Upgrade Tether, or set "
                "TETHER_STORAGE_PATH to another file"
            )
        if version == 0:
            tables = next(iter(await db.execute_fetchall("SELECT count(*) FROM sqlite_master")))[0]
            if tables:
                raise StorageError(
                    f"{self._path} is a SQLite database of another program (it has tables but "
                    "no Tether schema version); set TETHER_STORAGE_PATH to another file"
                )
        return version

    def _file_error(self, error: OSError) -> StorageError:
        if isinstance(error, IsADirectoryError):
            fix = (
                "it is a directory; set TETHER_STORAGE_PATH to a file in it, "
                f"such as {self._path / 'tether.db'}"
            )
        elif isinstance(error, (FileExistsError, NotADirectoryError)):
            fix = (
                "a file stands where a directory of the path should be; "
                "set TETHER_STORAGE_PATH to another place"
            )
        else:
            fix = (
                f"check that {self._path.parent} is a writable directory, "
                "or set TETHER_STORAGE_PATH to a writable place"
            )
        return StorageError(
            f"session store {self._path}: cannot create the file: {error.strerror or error}; {fix}"
        )

    def _error(
        self, action: str, error: sqlite3.Error | OverflowError, *, detail: str = ""
    ) -> StorageError:
        logger.error(
            "storage_failed", path=str(self._path), action=action, error=str(error), detail=detail
        )
        what = f"{error} ({detail})" if detail else str(error)
        return StorageError(
            f"session store {self._path}: {action} failed: {what}; {_fix_for(error)}"
        )

    def _first_session(self, rows: Iterable[Sequence[Any]]) -> Session | None:
        for row in rows:
            try:
                return Session.model_validate(dict(zip(_SESSION_COLUMNS, row, strict=True)))
            except ValidationError as error:
                raise StorageError(
                    f"session store {self._path}: session {row[0]!r} is damaged ({error}); "
                    "delete that row or move the file aside"
                ) from error
        return None

    def _message(self, row: Sequence[Any]) -> MessageRecord:
        values = dict(zip(_MESSAGE_COLUMNS, row, strict=True))
        try:
            values["tools_used"] = tuple(json.loads(values["tools_used"]))
            values["timestamp"] = values.pop("created_at")
            return MessageRecord.model_validate(values)
        except (ValueError, TypeError) as error:
            raise StorageError(
                f"session store {self._path}: a message of session {values['session_id']!r} is "
                f"damaged ({error}); delete that row or move the file aside"
            ) from error


class _BusyError(Exception):
    """Another program holds the file locked: the step may be tried again."""

    def __init__(self, error: sqlite3.Error) -> None:
        super().__init__(str(error))
        self.error = error


def _is_busy(error: BaseException) -> bool:
    name = getattr(error, "sqlite_errorname", "") or ""
    return "_".join(name.split("_")[:2]) in ("SQLITE_BUSY", "SQLITE_LOCKED")


async def _nothing(db: aiosqlite.Connection) -> None:
    """The work of `initialize`: opening the file (in `_attempt`) is all of it."""


async def _rollback(db: aiosqlite.Connection) -> None:
    # The failed statement may already have ended the transaction; nothing to undo then.
    with contextlib.suppress(sqlite3.Error):
        await db.execute("ROLLBACK")
