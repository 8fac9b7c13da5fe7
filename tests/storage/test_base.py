"""The SessionStore contract, checked against the memory and the SQLite store alike."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from tether.core.session import MessageRecord, Session, SessionMode
from tether.exceptions import StorageError
from tether.storage.base import SessionStore
from tether.storage.memory import MemorySessionStore
from tether.storage.sqlite import SqliteSessionStore

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def _session(user_id: int | str = 1, chat_id: int | str = 10, **fields: object) -> Session:
    values: dict[str, object] = {
        "user_id": user_id,
        "chat_id": chat_id,
        "working_directory": Path("/srv/project"),
        "created_at": T0,
        "updated_at": T0,
    }
    values.update(fields)
    return Session.model_validate(values)


def _record(session: Session, n: int, **fields: object) -> MessageRecord:
    values: dict[str, object] = {
        "session_id": session.session_id,
        "prompt": f"prompt {n}",
        "reply": f"reply {n}",
        "cost": 0.25,
        "duration_ms": 100 + n,
        "tools_used": ("Read", "Bash"),
        "timestamp": T0 + timedelta(minutes=n),
    }
    values.update(fields)
    return MessageRecord.model_validate(values)


def test_both_stores_satisfy_the_protocol(tmp_path: Path) -> None:
    assert isinstance(MemorySessionStore(), SessionStore)
    assert isinstance(SqliteSessionStore(tmp_path / "s.db"), SessionStore)


class TestReadAndSave:
    async def test_empty_store_has_no_sessions(self, store: SessionStore) -> None:
        assert await store.get(1, 10) is None
        assert await store.get_by_id("nope") is None

    async def test_saved_session_comes_back_equal(self, store: SessionStore) -> None:
        session = _session(
            claude_session_id="claude-abc",
            mode=SessionMode.EDIT,
            total_cost=1.5,
            message_count=3,
        )
        await store.save(session)
        assert await store.get(1, 10) == session
        assert await store.get_by_id(session.session_id) == session

    @pytest.mark.parametrize(
        ("user_id", "chat_id"),
        [
            pytest.param(123456789, -1001234567890, id="telegram-ints"),
            pytest.param("local", "terminal", id="strings"),
            pytest.param(2**62, 0, id="large-int"),
        ],
    )
    async def test_ids_come_back_with_their_type(
        self, store: SessionStore, user_id: int | str, chat_id: int | str
    ) -> None:
        await store.save(_session(user_id, chat_id))
        found = await store.get(user_id, chat_id)
        assert found is not None
        assert (found.user_id, found.chat_id) == (user_id, chat_id)
        assert type(found.user_id) is type(user_id)

    async def test_ids_are_compared_as_given(self, store: SessionStore) -> None:
        """User 5 and user "5" are different users."""
        await store.save(_session(5, 10))
        assert await store.get("5", 10) is None
        assert await store.get(5, "10") is None
        assert await store.get(5, 10) is not None

    async def test_each_chat_has_its_own_session(self, store: SessionStore) -> None:
        first, second, other_user = _session(1, 10), _session(1, 11), _session(2, 10)
        for session in (first, second, other_user):
            await store.save(session)
        assert await store.get(1, 10) == first
        assert await store.get(1, 11) == second
        assert await store.get(2, 10) == other_user

    async def test_timestamps_come_back_in_utc(self, store: SessionStore) -> None:
        paris = datetime(2026, 5, 1, 14, 0, tzinfo=timezone(timedelta(hours=2)))
        await store.save(_session(created_at=paris, updated_at=paris))
        found = await store.get(1, 10)
        assert found is not None
        assert found.created_at == T0
        assert found.created_at.utcoffset() == timedelta(0)
        assert found.updated_at.utcoffset() == timedelta(0)

    async def test_saving_again_updates_the_changeable_fields(self, store: SessionStore) -> None:
        session = _session()
        await store.save(session)
        changed = session.model_copy(
            update={
                "claude_session_id": "claude-2",
                "mode": SessionMode.PLAN,
                "working_directory": Path("/srv/other"),
                "updated_at": T0 + timedelta(hours=1),
            }
        )
        await store.save(changed)
        assert await store.get_by_id(session.session_id) == changed

    async def test_saving_keeps_the_stored_totals_and_creation_time(
        self, store: SessionStore
    ) -> None:
        """A copy taken before a message was recorded cannot undo the message."""
        session = _session()
        await store.save(session)
        await store.add_message(_record(session, 1, cost=0.5))
        stale = session.model_copy(
            update={"claude_session_id": "claude-2", "created_at": T0 + timedelta(days=1)}
        )
        await store.save(stale)
        found = await store.get_by_id(session.session_id)
        assert found is not None
        assert (found.message_count, found.total_cost) == (1, 0.5)
        assert found.created_at == T0
        assert found.claude_session_id == "claude-2"

    async def test_a_session_cannot_move_to_another_chat(self, store: SessionStore) -> None:
        session = _session(1, 10)
        await store.save(session)
        with pytest.raises(StorageError, match="cannot move to another chat"):
            await store.save(session.model_copy(update={"chat_id": 11}))
        assert await store.get(1, 10) == session
        assert await store.get(1, 11) is None


class TestOneCurrentSessionPerChat:
    async def test_a_new_current_session_archives_the_old_one(self, store: SessionStore) -> None:
        old, new = _session(), _session()
        await store.save(old)
        await store.save(new)
        assert await store.get(1, 10) == new
        archived = await store.get_by_id(old.session_id)
        assert archived is not None
        assert archived.archived
        assert archived.session_id == old.session_id

    async def test_archiving_is_final(self, store: SessionStore) -> None:
        """A stale copy of an archived session, saved later, stays archived."""
        old, new = _session(), _session()
        await store.save(old)
        await store.save(new)
        await store.save(old.model_copy(update={"claude_session_id": "late"}))
        assert await store.get(1, 10) == new
        late = await store.get_by_id(old.session_id)
        assert late is not None
        assert late.archived
        assert late.claude_session_id == "late"

    async def test_a_session_saved_archived_is_not_current(self, store: SessionStore) -> None:
        current = _session()
        await store.save(current)
        await store.save(_session(archived_at=T0))
        assert await store.get(1, 10) == current

    async def test_saving_an_archived_copy_archives_the_current_one(
        self, store: SessionStore
    ) -> None:
        session = _session()
        await store.save(session)
        await store.save(session.model_copy(update={"archived_at": T0}))
        assert await store.get(1, 10) is None

    async def test_archive_reports_whether_it_archived(self, store: SessionStore) -> None:
        session = _session()
        await store.save(session)
        assert await store.archive(session.session_id) is True
        assert await store.archive(session.session_id) is False
        assert await store.archive("unknown") is False
        assert await store.get(1, 10) is None
        archived = await store.get_by_id(session.session_id)
        assert archived is not None
        assert archived.archived_at is not None


class TestDelete:
    async def test_delete_removes_the_session_and_its_history(self, store: SessionStore) -> None:
        session = _session()
        await store.save(session)
        await store.add_message(_record(session, 1))
        assert await store.delete(session.session_id) is True
        assert await store.get(1, 10) is None
        assert await store.get_by_id(session.session_id) is None
        assert await store.messages(session.session_id) == ()

    async def test_delete_of_an_unknown_session_is_false(self, store: SessionStore) -> None:
        assert await store.delete("unknown") is False

    async def test_after_delete_the_chat_can_start_again(self, store: SessionStore) -> None:
        session = _session()
        await store.save(session)
        await store.delete(session.session_id)
        fresh = _session()
        await store.save(fresh)
        assert await store.get(1, 10) == fresh


class TestMessages:
    async def test_add_message_adds_to_the_totals(self, store: SessionStore) -> None:
        session = _session(total_cost=1.0, message_count=2)
        await store.save(session)
        updated = await store.add_message(_record(session, 1, cost=0.25))
        assert updated.message_count == 3
        assert updated.total_cost == pytest.approx(1.25)
        assert updated.updated_at == T0 + timedelta(minutes=1)
        assert await store.get_by_id(session.session_id) == updated

    @pytest.mark.parametrize(
        "zone",
        [
            pytest.param(UTC, id="utc"),
            pytest.param(timezone(timedelta(0)), id="zero-offset-zone"),
            pytest.param(timezone(timedelta(hours=2)), id="paris-summer"),
            pytest.param(timezone(timedelta(hours=-9, minutes=-30)), id="marquesas"),
        ],
    )
    async def test_a_record_comes_back_at_its_moment_in_utc(
        self, store: SessionStore, zone: timezone
    ) -> None:
        session = _session()
        await store.save(session)
        moment = (T0 + timedelta(minutes=5)).astimezone(zone)
        updated = await store.add_message(_record(session, 1, timestamp=moment))
        (found,) = await store.messages(session.session_id)
        assert found.timestamp == moment
        assert found.timestamp.utcoffset() == timedelta(0)
        assert updated.updated_at == moment
        assert updated.updated_at.utcoffset() == timedelta(0)

    async def test_records_come_back_equal_oldest_first(self, store: SessionStore) -> None:
        session = _session()
        await store.save(session)
        records = [
            _record(session, 1),
            _record(session, 2, is_error=True, tools_used=(), cost=0.0),
            _record(session, 3, prompt="ünïcode ✓\nsecond line", reply=""),
        ]
        for record in records:
            await store.add_message(record)
        assert await store.messages(session.session_id) == tuple(records)

    async def test_limit_keeps_the_most_recent(self, store: SessionStore) -> None:
        session = _session()
        await store.save(session)
        for n in range(5):
            await store.add_message(_record(session, n))
        last_two = await store.messages(session.session_id, limit=2)
        assert [record.prompt for record in last_two] == ["prompt 3", "prompt 4"]
        assert len(await store.messages(session.session_id, limit=None)) == 5

    @pytest.mark.parametrize("limit", [pytest.param(0, id="zero"), pytest.param(-3, id="negative")])
    async def test_a_limit_below_one_is_refused(self, store: SessionStore, limit: int) -> None:
        with pytest.raises(StorageError, match="limit must be at least 1"):
            await store.messages("any", limit=limit)

    async def test_history_is_kept_per_session(self, store: SessionStore) -> None:
        first, second = _session(1, 10), _session(1, 11)
        await store.save(first)
        await store.save(second)
        await store.add_message(_record(first, 1))
        await store.add_message(_record(second, 2))
        assert [r.prompt for r in await store.messages(first.session_id)] == ["prompt 1"]
        assert [r.prompt for r in await store.messages(second.session_id)] == ["prompt 2"]

    async def test_an_archived_session_still_takes_messages(self, store: SessionStore) -> None:
        """A request that finishes after /clear is recorded where it was asked."""
        old = _session()
        await store.save(old)
        await store.save(_session())
        updated = await store.add_message(_record(old, 1))
        assert updated.archived
        assert updated.message_count == 1

    async def test_a_message_for_an_unknown_session_is_refused(self, store: SessionStore) -> None:
        ghost = _session()
        with pytest.raises(StorageError, match="not in the session store"):
            await store.add_message(_record(ghost, 1))
        assert await store.messages(ghost.session_id) == ()

    async def test_unknown_session_has_no_history(self, store: SessionStore) -> None:
        assert await store.messages("unknown") == ()

    async def test_concurrent_messages_are_all_counted(self, store: SessionStore) -> None:
        session = _session()
        await store.save(session)
        await asyncio.gather(*(store.add_message(_record(session, n)) for n in range(40)))
        found = await store.get_by_id(session.session_id)
        assert found is not None
        assert found.message_count == 40
        assert found.total_cost == pytest.approx(10.0)
        assert len(await store.messages(session.session_id, limit=None)) == 40


class TestLifecycle:
    async def test_initialize_twice_is_harmless(self, store: SessionStore) -> None:
        await store.save(_session())
        await store.initialize()
        assert await store.get(1, 10) is not None

    async def test_a_closed_store_refuses_every_call(self, store: SessionStore) -> None:
        session = _session()
        await store.close()
        await store.close()
        calls = [
            store.initialize(),
            store.get(1, 10),
            store.get_by_id("x"),
            store.save(session),
            store.archive("x"),
            store.delete("x"),
            store.add_message(_record(session, 1)),
            store.messages("x"),
        ]
        for call in calls:
            with pytest.raises(StorageError, match="closed"):
                await call
