"""The storage seam: where sessions and their message history live.

Two stores implement `SessionStore` and behave the same (one suite of tests
runs against both): `MemorySessionStore` (gone when Tether stops) and
`SqliteSessionStore` (a file; restarting Tether resumes the conversations).

The contract, beyond each method's docstring:

- A chat (user id, chat id) has at most one current session: one that is not
  archived. Saving a new current session archives the one it replaces, in
  the same step.
- Archiving is final: a session once archived stays archived, whatever copy
  of it is saved later (a request that finishes after `/clear` must not bring
  the old conversation back).
- A session's `user_id`, `chat_id` and `created_at` are fixed by its first
  save. Its totals (`total_cost`, `message_count`) are the store's: saving
  an existing session keeps the stored totals, and only `add_message`
  changes them, so saving a copy taken before a message was recorded cannot
  lose that message.
- Ids are compared as given: user 5 and user "5" are different users.
- Each store opens lazily on first use; `initialize()` opens it up front so
  a problem shows at start-up. After `close()` every call raises
  `StorageError`.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from tether.core.types import ChatId, MessageRecord, Session, UserId

__all__ = ["SessionStore"]


@runtime_checkable
class SessionStore(Protocol):
    """Keeps sessions and their message history. Every method may raise `StorageError`."""

    async def initialize(self) -> None:
        """Open the store (create, migrate); safe to call twice."""
        ...

    async def close(self) -> None:
        """Release the store; safe to call twice. Later calls raise `StorageError`."""
        ...

    async def get(self, user_id: UserId, chat_id: ChatId) -> Session | None:
        """The chat's current (not archived) session, or None."""
        ...

    async def get_by_id(self, session_id: str) -> Session | None:
        """The session with `session_id`, archived or not, or None."""
        ...

    async def save(self, session: Session) -> None:
        """Insert or update `session` by its `session_id`.

        If the saved session is current (not archived, and not archived in the
        store), any other current session of its chat is archived. For a
        session already in the store, the stored totals and `created_at` are
        kept.

        Raises:
            StorageError: the store failed, or `session_id` belongs to another chat.
        """
        ...

    async def archive(self, session_id: str) -> bool:
        """Archive the session; False if it is unknown or already archived."""
        ...

    async def delete(self, session_id: str) -> bool:
        """Remove the session and its history; False if it is unknown."""
        ...

    async def add_message(self, record: MessageRecord) -> Session:
        """Append `record` to its session's history and add it to the session's totals.

        In one step: `message_count` goes up by one, `total_cost` by
        `record.cost`, and `updated_at` becomes `record.timestamp`. Returns
        the updated session.

        Raises:
            StorageError: the store failed, or the session is not in the store.
        """
        ...

    async def messages(self, session_id: str, limit: int | None = 50) -> tuple[MessageRecord, ...]:
        """The session's last `limit` records (all with None), oldest first.

        Raises:
            StorageError: the store failed, or `limit` is below 1.
        """
        ...
