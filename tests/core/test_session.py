"""Session values and SessionManager: one current session per chat, history, resume."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tether.agents.base import AgentResponse
from tether.core.session import MessageRecord, Session, SessionManager, SessionMode
from tether.core.types import ChatId, UserId
from tether.exceptions import SessionError, StorageError
from tether.storage.base import SessionStore
from tether.storage.memory import MemorySessionStore
from tether.storage.sqlite import SqliteSessionStore

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


class _Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> _Clock:
    return _Clock()


@pytest.fixture(params=["memory", "sqlite"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SessionStore]:
    backend: SessionStore = (
        MemorySessionStore()
        if request.param == "memory"
        else SqliteSessionStore(tmp_path / "sessions.db")
    )
    await backend.initialize()
    yield backend
    await backend.close()


@pytest.fixture
def manager(store: SessionStore, project_dir: Path, clock: _Clock) -> SessionManager:
    return SessionManager(store, default_directory=project_dir, clock=clock)


def _response(**fields: object) -> AgentResponse:
    values: dict[str, object] = {
        "content": "done",
        "session_id": "claude-1",
        "cost": 0.02,
        "duration_ms": 1500,
        "num_turns": 2,
        "tools_used": ("Read", "Bash"),
    }
    values.update(fields)
    return AgentResponse.model_validate(values)


class TestValues:
    def test_new_sessions_get_unique_ids_and_utc_times(self, project_dir: Path) -> None:
        first = Session(user_id=1, chat_id=1, working_directory=project_dir)
        second = Session(user_id=1, chat_id=1, working_directory=project_dir)
        assert first.session_id != second.session_id
        assert first.created_at.tzinfo is UTC
        assert first.mode is SessionMode.DEFAULT
        assert not first.archived

    def test_sessions_are_frozen(self, project_dir: Path) -> None:
        session = Session(user_id=1, chat_id=1, working_directory=project_dir)
        with pytest.raises(ValueError, match="frozen"):
            session.mode = SessionMode.EDIT  # type: ignore[misc]

    @pytest.mark.parametrize(
        ("field", "value"),
        [
            pytest.param("cost", -0.01, id="negative-cost"),
            pytest.param("duration_ms", -1, id="negative-duration"),
        ],
    )
    def test_message_records_refuse_negative_amounts(self, field: str, value: float) -> None:
        with pytest.raises(ValueError, match=field):
            MessageRecord.model_validate(
                {"session_id": "s", "prompt": "p", "reply": "r", field: value}
            )


class TestConstruction:
    def test_a_relative_default_directory_is_refused(self, store: SessionStore) -> None:
        with pytest.raises(SessionError, match="'project' is not an absolute path"):
            SessionManager(store, default_directory="project")

    def test_a_home_relative_default_directory_is_expanded(
        self, store: SessionStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("HOME", str(tmp_path))
        manager = SessionManager(store, default_directory="~/work")
        assert manager.default_directory == tmp_path / "work"


class TestGetOrCreate:
    async def test_creates_once_then_returns_the_same_session(
        self, manager: SessionManager, project_dir: Path
    ) -> None:
        assert await manager.get(1, 10) is None
        created = await manager.get_or_create(1, 10)
        assert created.working_directory == project_dir
        assert created.created_at == T0
        assert await manager.get_or_create(1, 10) == created
        assert await manager.get(1, 10) == created

    async def test_sessions_are_keyed_by_user_and_chat(self, manager: SessionManager) -> None:
        keys: list[tuple[UserId, ChatId]] = [(1, 10), (1, 11), (2, 10), ("1", 10)]
        sessions = [await manager.get_or_create(user, chat) for user, chat in keys]
        assert len({session.session_id for session in sessions}) == len(keys)

    async def test_a_working_directory_applies_to_a_new_session_only(
        self, manager: SessionManager, tmp_path: Path, project_dir: Path
    ) -> None:
        other = tmp_path / "other"
        created = await manager.get_or_create(1, 10, working_directory=other)
        assert created.working_directory == other
        kept = await manager.get_or_create(1, 10, working_directory=project_dir)
        assert kept.working_directory == other

    async def test_a_relative_working_directory_is_refused(self, manager: SessionManager) -> None:
        with pytest.raises(SessionError, match="not an absolute path"):
            await manager.get_or_create(1, 10, working_directory="src")
        assert await manager.get(1, 10) is None

    async def test_concurrent_first_messages_create_one_session(
        self, manager: SessionManager
    ) -> None:
        sessions = await asyncio.gather(*(manager.get_or_create(1, 10) for _ in range(20)))
        assert len({session.session_id for session in sessions}) == 1


class TestRecordMessage:
    async def test_a_response_adds_to_the_totals_and_history(
        self, manager: SessionManager, clock: _Clock
    ) -> None:
        session = await manager.get_or_create(1, 10)
        clock.now = T0 + timedelta(minutes=5)
        updated = await manager.record_message(session, "fix the tests", response=_response())
        assert updated.message_count == 1
        assert updated.total_cost == pytest.approx(0.02)
        assert updated.updated_at == clock.now
        assert updated.claude_session_id == "claude-1"
        [record] = await manager.history(session.session_id)
        assert record == MessageRecord(
            session_id=session.session_id,
            prompt="fix the tests",
            reply="done",
            cost=0.02,
            duration_ms=1500,
            tools_used=("Read", "Bash"),
            is_error=False,
            timestamp=clock.now,
        )

    async def test_totals_accumulate_over_messages(self, manager: SessionManager) -> None:
        session = await manager.get_or_create(1, 10)
        for cost in (0.01, 0.02, 0.03):
            session = await manager.record_message(session, "p", response=_response(cost=cost))
        assert session.message_count == 3
        assert session.total_cost == pytest.approx(0.06)

    async def test_an_error_is_recorded_as_a_failed_exchange(self, manager: SessionManager) -> None:
        session = await manager.get_or_create(1, 10)
        updated = await manager.record_message(
            session, "run it", error="the agent could not start", duration_ms=40
        )
        assert updated.message_count == 1
        assert updated.total_cost == 0.0
        assert updated.claude_session_id is None
        [record] = await manager.history(session.session_id)
        assert (record.reply, record.is_error, record.duration_ms) == (
            "the agent could not start",
            True,
            40,
        )

    async def test_a_later_response_moves_the_resume_point(self, manager: SessionManager) -> None:
        session = await manager.get_or_create(1, 10)
        await manager.record_message(session, "a", response=_response(session_id="claude-1"))
        updated = await manager.record_message(
            session, "b", response=_response(session_id="claude-2")
        )
        assert updated.claude_session_id == "claude-2"

    async def test_a_response_without_an_id_keeps_the_resume_point(
        self, manager: SessionManager
    ) -> None:
        session = await manager.get_or_create(1, 10)
        await manager.record_message(session, "a", response=_response(session_id="claude-1"))
        updated = await manager.record_message(session, "b", response=_response(session_id=None))
        assert updated.claude_session_id == "claude-1"

    @pytest.mark.parametrize(
        "kwargs",
        [
            pytest.param({}, id="neither"),
            pytest.param({"response": _response(), "error": "boom"}, id="both"),
        ],
    )
    async def test_needs_exactly_one_of_response_and_error(
        self, manager: SessionManager, kwargs: dict[str, object]
    ) -> None:
        session = await manager.get_or_create(1, 10)
        with pytest.raises(SessionError, match="response or the error"):
            await manager.record_message(session, "p", **kwargs)  # type: ignore[arg-type]

    async def test_a_negative_cost_is_refused(self, manager: SessionManager) -> None:
        session = await manager.get_or_create(1, 10)
        with pytest.raises(SessionError, match=r"cost=-1\.0"):
            await manager.record_message(session, "p", response=_response(cost=-1.0))
        assert await manager.history(session.session_id) == ()

    async def test_an_unknown_session_is_refused(
        self, manager: SessionManager, project_dir: Path
    ) -> None:
        ghost = Session(user_id=1, chat_id=10, working_directory=project_dir)
        with pytest.raises(SessionError, match="not in the session store"):
            await manager.record_message(ghost, "p", response=_response())

    async def test_concurrent_messages_are_all_counted(self, manager: SessionManager) -> None:
        session = await manager.get_or_create(1, 10)
        await asyncio.gather(
            *(manager.record_message(session, f"p{n}", response=_response()) for n in range(30))
        )
        found = await manager.get(1, 10)
        assert found is not None
        assert found.message_count == 30
        assert len(await manager.history(session.session_id, limit=None)) == 30


class TestReset:
    async def test_reset_starts_a_fresh_conversation(
        self, manager: SessionManager, tmp_path: Path
    ) -> None:
        old = await manager.get_or_create(1, 10, working_directory=tmp_path)
        old = await manager.set_mode(old, SessionMode.EDIT)
        old = await manager.record_message(old, "p", response=_response())
        fresh = await manager.reset(1, 10)
        assert fresh.session_id != old.session_id
        assert fresh.claude_session_id is None
        assert fresh.mode is SessionMode.DEFAULT
        assert (fresh.message_count, fresh.total_cost) == (0, 0.0)
        assert fresh.working_directory == tmp_path
        assert await manager.get(1, 10) == fresh

    async def test_the_old_session_is_archived_with_its_history(
        self, manager: SessionManager
    ) -> None:
        old = await manager.get_or_create(1, 10)
        await manager.record_message(old, "p", response=_response())
        await manager.reset(1, 10)
        archived = await manager.get_by_id(old.session_id)
        assert archived is not None
        assert archived.archived
        assert archived.claude_session_id == "claude-1"
        assert len(await manager.history(old.session_id)) == 1

    async def test_reset_without_a_session_creates_one(
        self, manager: SessionManager, project_dir: Path
    ) -> None:
        fresh = await manager.reset(1, 10)
        assert fresh.working_directory == project_dir
        assert await manager.get(1, 10) == fresh

    async def test_a_request_finishing_after_reset_counts_where_it_was_asked(
        self, manager: SessionManager
    ) -> None:
        old = await manager.get_or_create(1, 10)
        fresh = await manager.reset(1, 10)
        await manager.record_message(old, "slow", response=_response(session_id="claude-old"))
        current = await manager.get(1, 10)
        assert current == fresh
        assert current is not None
        assert current.claude_session_id is None
        archived = await manager.get_by_id(old.session_id)
        assert archived is not None
        assert archived.message_count == 1
        assert archived.archived


class TestChanges:
    async def test_set_mode_changes_only_the_mode(
        self, manager: SessionManager, clock: _Clock
    ) -> None:
        stale = await manager.get_or_create(1, 10)
        await manager.record_message(stale, "p", response=_response())
        clock.now = T0 + timedelta(hours=1)
        changed = await manager.set_mode(stale, SessionMode.PLAN)
        assert changed.mode is SessionMode.PLAN
        assert changed.updated_at == clock.now
        assert changed.claude_session_id == "claude-1"
        assert changed.message_count == 1
        assert await manager.get(1, 10) == changed

    async def test_set_mode_accepts_the_mode_name(self, manager: SessionManager) -> None:
        session = await manager.get_or_create(1, 10)
        assert (await manager.set_mode(session, "edit")).mode is SessionMode.EDIT

    async def test_an_unknown_mode_is_refused(self, manager: SessionManager) -> None:
        session = await manager.get_or_create(1, 10)
        with pytest.raises(SessionError, match="unknown session mode 'yolo'; use one of default"):
            await manager.set_mode(session, "yolo")

    async def test_update_saves_changes_but_not_totals(
        self, manager: SessionManager, tmp_path: Path
    ) -> None:
        stale = await manager.get_or_create(1, 10)
        await manager.record_message(stale, "p", response=_response(cost=0.5))
        saved = await manager.update(
            stale.model_copy(update={"working_directory": tmp_path, "message_count": 0})
        )
        assert saved.working_directory == tmp_path
        assert (saved.message_count, saved.total_cost) == (1, 0.5)
        assert await manager.get(1, 10) == saved

    async def test_update_of_an_unknown_session_is_refused(
        self, manager: SessionManager, project_dir: Path
    ) -> None:
        ghost = Session(user_id=1, chat_id=10, working_directory=project_dir)
        with pytest.raises(SessionError, match="get_or_create"):
            await manager.update(ghost)


class _GatedStore(MemorySessionStore):
    """A memory store whose `get` waits until `expected` chats are inside it at once."""

    def __init__(self, expected: int) -> None:
        super().__init__()
        self.inside: list[tuple[UserId, ChatId]] = []
        self._expected = expected
        self.all_in = asyncio.Event()

    async def get(self, user_id: UserId, chat_id: ChatId) -> Session | None:
        self.inside.append((user_id, chat_id))
        if len(self.inside) >= self._expected:
            self.all_in.set()
        await self.all_in.wait()
        return await super().get(user_id, chat_id)


class _CountingStore(MemorySessionStore):
    """Reads through `inner` (so its gate applies) and counts the saves."""

    def __init__(self, inner: MemorySessionStore) -> None:
        super().__init__()
        self._inner = inner
        self.saved = 0

    async def get(self, user_id: UserId, chat_id: ChatId) -> Session | None:
        await self._inner.get(user_id, chat_id)
        return await super().get(user_id, chat_id)

    async def save(self, session: Session) -> None:
        self.saved += 1
        await super().save(session)


class TestConcurrency:
    async def test_different_chats_do_not_wait_for_each_other(self, project_dir: Path) -> None:
        """Two chats reach the store together: if one waited for the other, this would hang."""
        store = _GatedStore(expected=2)
        manager = SessionManager(store, default_directory=project_dir)
        async with asyncio.timeout(5):
            first, second = await asyncio.gather(
                manager.get_or_create(1, 10), manager.get_or_create(2, 20)
            )
        assert {first.chat_id, second.chat_id} == {10, 20}

    async def test_one_chat_asked_twice_at_once_gets_one_session(self, project_dir: Path) -> None:
        """Both calls find no session (they read side by side); the lock lets one create it."""
        store = _CountingStore(_GatedStore(expected=2))
        manager = SessionManager(store, default_directory=project_dir)
        async with asyncio.timeout(5):
            first, second = await asyncio.gather(
                manager.get_or_create(1, 10), manager.get_or_create(1, 10)
            )
        assert first == second
        assert store.saved == 1

    async def test_an_existing_session_is_read_without_waiting_for_the_chat(
        self, project_dir: Path
    ) -> None:
        """A chat busy recording a message still hands out its current session at once."""
        manager = SessionManager(MemorySessionStore(), default_directory=project_dir)
        session = await manager.get_or_create(1, 10)
        async with manager._lock(1, 10):  # another call of the chat is running
            async with asyncio.timeout(5):
                assert await manager.get_or_create(1, 10) == session

    async def test_one_chat_records_one_message_at_a_time(self, project_dir: Path) -> None:
        store = _SlowMessages()
        manager = SessionManager(store, default_directory=project_dir)
        session = await manager.get_or_create(1, 10)
        other = await manager.get_or_create(2, 20)
        async with asyncio.timeout(5):
            await asyncio.gather(
                *(manager.record_message(session, f"m{n}", response=_response()) for n in range(4)),
                *(manager.record_message(other, f"o{n}", response=_response()) for n in range(4)),
            )
        assert store.most_inside == {(1, 10): 1, (2, 20): 1}
        assert store.most_inside_at_once == 2  # the two chats ran side by side
        assert (await manager.get(1, 10)).message_count == 4  # type: ignore[union-attr]
        assert len(manager._locks) == 0

    @pytest.mark.parametrize(
        "outcome",
        [
            pytest.param("recorded", id="recorded"),
            pytest.param("unknown-session", id="refused"),
            pytest.param("cancelled-while-waiting", id="cancelled-while-waiting"),
            pytest.param("cancelled-while-holding", id="cancelled-while-holding"),
        ],
    )
    async def test_no_lock_is_kept_once_every_call_of_the_chat_ended(
        self, project_dir: Path, outcome: str
    ) -> None:
        store = _SlowMessages()
        manager = SessionManager(store, default_directory=project_dir)
        session = await manager.get_or_create(1, 10)
        if outcome == "unknown-session":
            stranger = session.model_copy(update={"session_id": "not-stored"})
            with pytest.raises(SessionError):
                await manager.record_message(stranger, "hi", response=_response())
        elif outcome == "recorded":
            await manager.record_message(session, "hi", response=_response())
        else:
            first = asyncio.create_task(manager.record_message(session, "a", response=_response()))
            second = asyncio.create_task(manager.record_message(session, "b", response=_response()))
            await store.entered.wait()  # the first holds the lock, the second waits for it
            victim = second if outcome == "cancelled-while-waiting" else first
            victim.cancel()
            results = await asyncio.gather(first, second, return_exceptions=True)
            assert sum(isinstance(r, asyncio.CancelledError) for r in results) == 1
        assert len(manager._locks) == 0
        # The chat's lock still works afterwards.
        async with asyncio.timeout(5):
            await manager.record_message(session, "after", response=_response())
        assert len(manager._locks) == 0


class _SlowMessages(MemorySessionStore):
    """A memory store whose add_message waits a moment, counting the calls inside per chat."""

    def __init__(self) -> None:
        super().__init__()
        self.inside: dict[tuple[UserId, ChatId], int] = {}
        self.most_inside: dict[tuple[UserId, ChatId], int] = {}
        self.most_inside_at_once = 0
        self.entered = asyncio.Event()

    async def add_message(self, record: MessageRecord) -> Session:
        session = await self.get_by_id(record.session_id)
        key = (session.user_id, session.chat_id) if session else ("?", "?")
        self.inside[key] = self.inside.get(key, 0) + 1
        self.most_inside[key] = max(self.most_inside.get(key, 0), self.inside[key])
        self.most_inside_at_once = max(self.most_inside_at_once, sum(self.inside.values()))
        self.entered.set()
        try:
            await asyncio.sleep(0.01)
            return await super().add_message(record)
        finally:
            self.inside[key] -= 1


class TestRestart:
    async def test_restarting_on_sqlite_resumes_the_conversation(
        self, tmp_path: Path, project_dir: Path
    ) -> None:
        path = tmp_path / "tether.db"
        store = SqliteSessionStore(path)
        manager = SessionManager(store, default_directory=project_dir)
        session = await manager.get_or_create(42, 42)
        await manager.record_message(session, "hello", response=_response(session_id="claude-9"))
        await store.close()

        async with SqliteSessionStore(path) as reopened:
            manager = SessionManager(reopened, default_directory=project_dir)
            resumed = await manager.get_or_create(42, 42)
            assert resumed.session_id == session.session_id
            assert resumed.claude_session_id == "claude-9"
            assert resumed.message_count == 1
            assert [r.prompt for r in await manager.history(resumed.session_id)] == ["hello"]

    async def test_a_store_failure_reaches_the_caller(self, project_dir: Path) -> None:
        store = MemorySessionStore()
        manager = SessionManager(store, default_directory=project_dir)
        await store.close()
        with pytest.raises(StorageError, match="closed"):
            await manager.get_or_create(1, 10)
