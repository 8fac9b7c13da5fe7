"""Sessions: one conversation between a user and the agent, in one chat.

`Session` and `MessageRecord` are values; `SessionManager` is the service the
engine asks for "the session of this chat", backed by a `SessionStore`
(`tether.storage`). Each chat has at most one current session; `/clear`
archives it and starts another, so the old conversation stays in the store
with its message history.

Concurrency: the manager serialises the changes of one chat with a lock of its
own, so two requests of the same chat never create two sessions or lose a
message, while calls for different chats run side by side. Reading a chat's
current session takes no lock (every message does it; the store's reads are
atomic).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from pydantic import ValidationError

from tether.core.types import AgentResponse, ChatId, MessageRecord, Session, SessionMode, UserId
from tether.exceptions import SessionError
from tether.log import get_logger
from tether.storage.base import SessionStore

__all__ = ["MessageRecord", "Session", "SessionManager", "SessionMode"]

logger = get_logger(__name__)


def _now() -> datetime:
    return datetime.now(UTC)


_ChatKey = tuple[UserId, ChatId]


class SessionManager:
    """The sessions of every chat, one current session per (user, chat).

    Args:
        store: where sessions and their history live (memory or SQLite).
        default_directory: the working directory of new sessions, unless
            `get_or_create` is given another; must be absolute.
        clock: the time source for `updated_at` (tests pass a fixed clock).

    Every method may raise `StorageError` when the store fails.
    """

    def __init__(
        self,
        store: SessionStore,
        *,
        default_directory: Path | str,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self._store = store
        self._default_directory = _absolute(default_directory)
        self._clock = clock
        # One lock per chat, dropped once nobody holds or waits for it, so a
        # long-running Tether does not keep a lock for every chat it ever saw.
        self._locks: dict[_ChatKey, _ChatLock] = {}

    @property
    def store(self) -> SessionStore:
        return self._store

    @property
    def default_directory(self) -> Path:
        return self._default_directory

    async def get(self, user_id: UserId, chat_id: ChatId) -> Session | None:
        """The current session of the chat, or None if it has none yet."""
        return await self._store.get(user_id, chat_id)

    async def get_by_id(self, session_id: str) -> Session | None:
        """The session with `session_id`, archived or not; None if unknown."""
        return await self._store.get_by_id(session_id)

    async def get_or_create(
        self,
        user_id: UserId,
        chat_id: ChatId,
        working_directory: Path | str | None = None,
    ) -> Session:
        """The current session of the chat, created (and saved) if it has none.

        `working_directory` applies only to a session created by this call; an
        existing session keeps its own.

        Raises:
            SessionError: `working_directory` is not an absolute path.
        """
        directory = None if working_directory is None else _absolute(working_directory)
        # Most calls find the session there: a read needs no lock (the store's
        # reads and writes are each atomic, so it sees the session before or
        # after any change, as a locked read would). Only creating one takes
        # the lock, and looks again under it, so two calls never create two.
        current = await self._store.get(user_id, chat_id)
        if current is not None:
            return current
        async with self._lock(user_id, chat_id):
            return await self._current_or_new(user_id, chat_id, directory)

    async def update(self, session: Session) -> Session:
        """Save the caller's changes to `session` (Claude session id, mode, directory).

        The totals (`total_cost`, `message_count`) and `created_at` are the
        store's: they change only through `record_message`, so a copy taken
        before a message was recorded cannot undo it. Returns the saved session.

        Raises:
            SessionError: the session is not in the store.
        """
        async with self._lock(session.user_id, session.chat_id):
            stored = await self._stored(session.session_id)
            merged = session.model_copy(
                update={
                    "user_id": stored.user_id,
                    "chat_id": stored.chat_id,
                    "total_cost": stored.total_cost,
                    "message_count": stored.message_count,
                    "created_at": stored.created_at,
                    "archived_at": stored.archived_at,
                    "updated_at": self._clock(),
                }
            )
            await self._store.save(merged)
            return merged

    async def reset(self, user_id: UserId, chat_id: ChatId) -> Session:
        """Start a new conversation in the chat (`/clear`) and return its session.

        The current session is archived with its history; the new one keeps
        its working directory but starts in the default mode, with no Claude
        session id (nothing of the old conversation is resumed) and zero totals.
        """
        async with self._lock(user_id, chat_id):
            old = await self._store.get(user_id, chat_id)
            directory = old.working_directory if old is not None else self._default_directory
            now = self._clock()
            fresh = Session(
                user_id=user_id,
                chat_id=chat_id,
                working_directory=directory,
                created_at=now,
                updated_at=now,
            )
            # Saving a new current session archives the old one in the same
            # transaction: the chat is never left with two, or with none.
            await self._store.save(fresh)
        logger.info(
            "session_reset",
            user_id=user_id,
            chat_id=chat_id,
            session_id=fresh.session_id,
            archived_session_id=old.session_id if old is not None else None,
        )
        return fresh

    async def set_mode(self, session: Session, mode: SessionMode | str) -> Session:
        """Switch `session` to `mode` (`/plan`, `/edit`) and return the saved session.

        Only the mode changes: the rest comes from the store, so a copy of
        `session` taken before the last message cannot roll it back.

        Raises:
            SessionError: `mode` is not a `SessionMode` value, or the session is
                not in the store.
        """
        try:
            wanted = SessionMode(mode)
        except ValueError as err:
            choices = ", ".join(member.value for member in SessionMode)
            raise SessionError(f"unknown session mode {mode!r}; use one of {choices}") from err
        async with self._lock(session.user_id, session.chat_id):
            stored = await self._stored(session.session_id)
            if stored.mode == wanted:
                return stored
            changed = stored.model_copy(update={"mode": wanted, "updated_at": self._clock()})
            await self._store.save(changed)
        logger.info("session_mode_set", session_id=changed.session_id, mode=wanted.value)
        return changed

    async def record_message(
        self,
        session: Session,
        prompt: str,
        *,
        response: AgentResponse | None = None,
        error: str | None = None,
        duration_ms: int | None = None,
    ) -> Session:
        """Add one exchange to the session's history and totals; returns the updated session.

        Give the agent's `response`, or the `error` text the person was shown
        when the agent failed. A response's cost, duration and tools count
        towards the totals, and its Claude session id becomes the one the next
        message resumes. `duration_ms` overrides the response's (or gives an
        error's). The exchange counts towards the session it was asked in,
        even if the chat was `/clear`ed meanwhile.

        Raises:
            SessionError: neither or both of `response` and `error` were given, a
                value is invalid (a negative cost), or the session is not in the store.
        """
        if (response is None) == (error is None):
            raise SessionError(
                f"session {session.session_id}: record_message needs the agent's response "
                "or the error text, not both or neither"
            )
        claude_session_id = response.session_id if response is not None else None
        try:
            if response is not None:
                record = MessageRecord(
                    session_id=session.session_id,
                    prompt=prompt,
                    reply=response.content,
                    cost=response.cost,
                    duration_ms=response.duration_ms if duration_ms is None else duration_ms,
                    tools_used=response.tools_used,
                    is_error=response.is_error,
                    timestamp=self._clock(),
                )
            else:
                record = MessageRecord(
                    session_id=session.session_id,
                    prompt=prompt,
                    reply=error or "",
                    duration_ms=duration_ms or 0,
                    is_error=True,
                    timestamp=self._clock(),
                )
        except ValidationError as err:
            raise SessionError(
                f"session {session.session_id}: cannot record the message: {_first_problem(err)}"
            ) from err
        async with self._lock(session.user_id, session.chat_id):
            # Read first, so a session missing from the store is a SessionError
            # here rather than a StorageError from add_message.
            stored = await self._stored(session.session_id)
            if claude_session_id is not None and stored.claude_session_id != claude_session_id:
                await self._store.save(
                    stored.model_copy(update={"claude_session_id": claude_session_id})
                )
            return await self._store.add_message(record)

    async def history(self, session_id: str, limit: int | None = 50) -> tuple[MessageRecord, ...]:
        """The last `limit` exchanges of the session (all with None), oldest first."""
        return await self._store.messages(session_id, limit)

    def _lock(self, user_id: UserId, chat_id: ChatId) -> _ChatLock:
        """The chat's lock, to enter at once (`async with self._lock(...)`)."""
        key = (user_id, chat_id)
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = _ChatLock(self._locks, key)
        # Counted from here, not from entering: nothing can drop the lock from
        # the table between handing it out and the caller waiting for it.
        lock.users += 1
        return lock

    async def _stored(self, session_id: str) -> Session:
        stored = await self._store.get_by_id(session_id)
        if stored is None:
            raise SessionError(
                f"session {session_id} is not in the session store; "
                "get it with SessionManager.get_or_create before changing it"
            )
        return stored

    async def _current_or_new(
        self, user_id: UserId, chat_id: ChatId, directory: Path | None
    ) -> Session:
        current = await self._store.get(user_id, chat_id)
        if current is not None:
            return current
        now = self._clock()
        created = Session(
            user_id=user_id,
            chat_id=chat_id,
            working_directory=directory or self._default_directory,
            created_at=now,
            updated_at=now,
        )
        await self._store.save(created)
        logger.info(
            "session_created",
            user_id=user_id,
            chat_id=chat_id,
            session_id=created.session_id,
            working_directory=str(created.working_directory),
        )
        return created


class _ChatLock:
    """A chat's lock, kept in its table exactly while calls hold it or wait for it.

    Counting its users replaces a weak-value table, which built a weak reference
    on every call and kept a lock for as long as anything (a cancelled call's
    traceback) still pointed at it.
    """

    __slots__ = ("_key", "_lock", "_table", "users")

    def __init__(self, table: dict[_ChatKey, _ChatLock], key: _ChatKey) -> None:
        self._table = table
        self._key = key
        self._lock = asyncio.Lock()
        self.users = 0

    async def __aenter__(self) -> None:
        try:
            await self._lock.acquire()
        except BaseException:
            # Cancelled while waiting: this call never held it.
            self._leave()
            raise

    async def __aexit__(self, *exc_info: object) -> None:
        self._lock.release()
        self._leave()

    def _leave(self) -> None:
        self.users -= 1
        if not self.users:
            del self._table[self._key]


def _absolute(directory: Path | str) -> Path:
    path = Path(directory).expanduser()
    if not path.is_absolute():
        raise SessionError(
            f"working directory {str(directory)!r} is not an absolute path; "
            "give the full path of an approved directory"
        )
    return path


def _first_problem(error: ValidationError) -> str:
    problem = error.errors(include_url=False)[0]
    field = ".".join(str(part) for part in problem.get("loc", ())) or "value"
    return f"{field}={problem.get('input')!r}: {problem.get('msg', 'invalid')}"
