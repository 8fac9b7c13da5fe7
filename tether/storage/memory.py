"""MemorySessionStore: sessions in a dict, gone when Tether stops.

The default store, and the stand-in the tests use for the storage seam. It
follows the `SessionStore` contract to the letter, errors included, so code
tested against it behaves the same on SQLite.
"""

from __future__ import annotations

from datetime import UTC, datetime
from types import TracebackType
from typing import Self

from tether.core.types import ChatId, MessageRecord, Session, UserId
from tether.exceptions import StorageError

__all__ = ["MemorySessionStore"]

_ChatKey = tuple[UserId, ChatId]


class MemorySessionStore:
    """A `SessionStore` in memory. Every method completes without suspending."""

    def __init__(self) -> None:
        self._sessions: dict[str, Session] = {}
        self._current: dict[_ChatKey, str] = {}
        self._messages: dict[str, list[MessageRecord]] = {}
        self._closed = False

    async def initialize(self) -> None:
        """Nothing to open; kept for the `SessionStore` contract."""
        self._check_open()

    async def close(self) -> None:
        """Drop every session; later calls raise `StorageError`."""
        self._closed = True
        self._sessions.clear()
        self._current.clear()
        self._messages.clear()

    async def get(self, user_id: UserId, chat_id: ChatId) -> Session | None:
        self._check_open()
        session_id = self._current.get((user_id, chat_id))
        return None if session_id is None else self._sessions[session_id]

    async def get_by_id(self, session_id: str) -> Session | None:
        self._check_open()
        return self._sessions.get(session_id)

    async def save(self, session: Session) -> None:
        self._check_open()
        session = session.model_copy(
            update={
                "created_at": _utc(session.created_at),
                "updated_at": _utc(session.updated_at),
                "archived_at": None if session.archived_at is None else _utc(session.archived_at),
            }
        )
        existing = self._sessions.get(session.session_id)
        if existing is not None:
            if (existing.user_id, existing.chat_id) != (session.user_id, session.chat_id):
                raise StorageError(
                    f"session {session.session_id} belongs to user {existing.user_id!r} in chat "
                    f"{existing.chat_id!r}; a session cannot move to another chat"
                )
            session = session.model_copy(
                update={
                    "created_at": existing.created_at,
                    "total_cost": existing.total_cost,
                    "message_count": existing.message_count,
                    "archived_at": existing.archived_at or session.archived_at,
                }
            )
        key = (session.user_id, session.chat_id)
        if session.archived_at is None:
            replaced = self._current.get(key)
            if replaced is not None and replaced != session.session_id:
                self._archive(replaced, datetime.now(UTC))
            self._current[key] = session.session_id
        elif self._current.get(key) == session.session_id:
            del self._current[key]
        self._sessions[session.session_id] = session

    async def archive(self, session_id: str) -> bool:
        self._check_open()
        session = self._sessions.get(session_id)
        if session is None or session.archived_at is not None:
            return False
        self._archive(session_id, datetime.now(UTC))
        return True

    async def delete(self, session_id: str) -> bool:
        self._check_open()
        session = self._sessions.pop(session_id, None)
        if session is None:
            return False
        key = (session.user_id, session.chat_id)
        if self._current.get(key) == session_id:
            del self._current[key]
        self._messages.pop(session_id, None)
        return True

    async def add_message(self, record: MessageRecord) -> Session:
        self._check_open()
        session = self._sessions.get(record.session_id)
        if session is None:
            raise StorageError(
                f"session {record.session_id} is not in the session store; "
                "save the session before adding messages to it"
            )
        stamp = _utc(record.timestamp)
        if stamp is not record.timestamp:
            # A UTC time is its own UTC time (astimezone hands back the same
            # object): the record is kept as given, without a copy per message.
            record = record.model_copy(update={"timestamp": stamp})
        updated = session.model_copy(
            update={
                "total_cost": session.total_cost + record.cost,
                "message_count": session.message_count + 1,
                "updated_at": record.timestamp,
            }
        )
        self._sessions[record.session_id] = updated
        self._messages.setdefault(record.session_id, []).append(record)
        return updated

    async def messages(self, session_id: str, limit: int | None = 50) -> tuple[MessageRecord, ...]:
        self._check_open()
        if limit is not None and limit < 1:
            raise StorageError(f"messages: limit must be at least 1 (or None for all), got {limit}")
        history = self._messages.get(session_id, [])
        return tuple(history if limit is None else history[-limit:])

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

    def _archive(self, session_id: str, when: datetime) -> None:
        session = self._sessions[session_id]
        self._sessions[session_id] = session.model_copy(update={"archived_at": when})
        key = (session.user_id, session.chat_id)
        if self._current.get(key) == session_id:
            del self._current[key]

    def _check_open(self) -> None:
        if self._closed:
            raise StorageError("the in-memory session store is closed; it cannot be used again")


def _utc(moment: datetime) -> datetime:
    # The SQLite store hands back UTC; so does this one, to behave the same.
    return moment.astimezone(UTC)
