"""AuthMiddleware: the allow-list and the local terminal pass; everyone else is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.middleware.fakes import FakeClock
from tether.core.safety.audit import AuditLogger, read_audit_log
from tether.core.types import UserId
from tether.exceptions import AuditError
from tether.middleware.auth import ACCESS_DENIED, AuthMiddleware
from tether.middleware.base import MessageContext, MessageKind, MiddlewareChain, Refusal

STRANGER = 12345


def _context(
    user_id: UserId = STRANGER,
    *,
    kind: MessageKind = "message",
    local: bool = False,
    chat_id: int = 777,
) -> MessageContext:
    return MessageContext(
        user_id=user_id, chat_id=chat_id, text="hi", kind=kind, local=local, username="eve"
    )


def _denials(path: Path) -> list[dict[str, object]]:
    if not path.exists():
        return []
    return [entry for entry in read_audit_log(path) if entry["event_type"] == ACCESS_DENIED]


@pytest.fixture
def auth(audit: AuditLogger, clock: FakeClock) -> AuthMiddleware:
    return AuthMiddleware((111, 222), audit, reply_interval=600, clock=clock)


class TestWhoPasses:
    async def test_an_allowed_user_passes_without_an_audit_entry(
        self, auth: AuthMiddleware, audit_path: Path
    ) -> None:
        assert await auth.check(_context(111)) is None
        assert await auth.check(_context(222, kind="approval")) is None
        assert _denials(audit_path) == []

    async def test_the_local_terminal_passes_even_when_not_listed(
        self, auth: AuthMiddleware
    ) -> None:
        assert await auth.check(_context("local", local=True)) is None

    @pytest.mark.parametrize(
        "kind",
        [
            pytest.param("message", id="message"),
            pytest.param("command", id="command"),
            pytest.param("approval", id="approval"),
        ],
    )
    async def test_an_empty_list_refuses_every_remote_user(
        self, audit: AuditLogger, audit_path: Path, kind: MessageKind
    ) -> None:
        auth = AuthMiddleware((), audit)
        refusal = await auth.check(_context(kind=kind))
        assert refusal == Refusal(
            reason=ACCESS_DENIED,
            reply="This Tether is private. Ask its owner to add your user id 12345 "
            "to TETHER_ALLOWED_USER_IDS.",
        )
        [entry] = _denials(audit_path)
        assert (entry["user_id"], entry["chat_id"], entry["kind"]) == (STRANGER, 777, kind)

    async def test_an_empty_list_still_opens_the_local_terminal(self, audit: AuditLogger) -> None:
        assert await AuthMiddleware((), audit).check(_context("local", local=True)) is None

    async def test_a_stranger_is_refused_and_audited(
        self, auth: AuthMiddleware, audit_path: Path
    ) -> None:
        refusal = await auth.check(_context())
        assert refusal is not None
        assert refusal.reply is not None
        assert "12345" in refusal.reply
        [entry] = _denials(audit_path)
        assert entry["username"] == "eve"
        assert entry["replied"] is True


class TestNoSpam:
    async def test_repeat_refusals_are_quiet_but_each_is_audited(
        self, auth: AuthMiddleware, clock: FakeClock, audit_path: Path
    ) -> None:
        replies = []
        for _ in range(3):
            refusal = await auth.check(_context())
            assert refusal is not None
            replies.append(refusal.reply)
            clock.advance(60)
        assert replies[0] is not None
        assert replies[1:] == [None, None]
        assert [entry["replied"] for entry in _denials(audit_path)] == [True, False, False]

    async def test_after_the_interval_the_stranger_is_told_again(
        self, auth: AuthMiddleware, clock: FakeClock
    ) -> None:
        await auth.check(_context())
        clock.advance(599)
        quiet = await auth.check(_context())
        assert quiet is not None
        assert quiet.reply is None
        clock.advance(1)
        again = await auth.check(_context())
        assert again is not None
        assert again.reply is not None

    async def test_each_stranger_gets_their_own_reply(self, auth: AuthMiddleware) -> None:
        first = await auth.check(_context(1))
        second = await auth.check(_context(2))
        assert first is not None
        assert second is not None
        assert first.reply is not None
        assert second.reply is not None

    async def test_forgetting_old_replies_keeps_recent_ones(
        self, auth: AuthMiddleware, clock: FakeClock
    ) -> None:
        """Past a thousand strangers the record is pruned; whoever was just told stays told."""
        await auth.check(_context("early"))
        clock.advance(700)
        await auth.check(_context("recent"))
        for n in range(1500):
            await auth.check(_context(f"flood-{n}"))
        recent = await auth.check(_context("recent"))
        early = await auth.check(_context("early"))
        assert recent is not None
        assert recent.reply is None
        assert early is not None
        assert early.reply is not None


class TestFailClosed:
    async def test_a_refusal_that_cannot_be_audited_raises(self, tmp_path: Path) -> None:
        audit = AuditLogger(tmp_path / "audit.jsonl")
        await audit.close()
        auth = AuthMiddleware((111,), audit)
        with pytest.raises(AuditError):
            await auth.check(_context())
        assert await auth.check(_context(111)) is None

    async def test_nothing_reaches_the_handler_for_a_stranger(self, auth: AuthMiddleware) -> None:
        handled: list[MessageContext] = []

        async def handler(context: MessageContext) -> str:
            handled.append(context)
            return "agent reply"

        reply = await MiddlewareChain([auth]).run(_context(), handler)
        assert reply is not None
        assert reply.startswith("This Tether is private.")
        assert handled == []


class TestIdsMatchHoweverTyped:
    """The allow-list compares `user_key`s: see tether.core.ids for the rule."""

    @pytest.mark.parametrize(
        "user_id",
        [pytest.param(111, id="int"), pytest.param("111", id="text")],
    )
    async def test_the_listed_user_passes_as_int_or_text(
        self, audit: AuditLogger, clock: FakeClock, user_id: UserId
    ) -> None:
        for listed in ((111,), ("111",)):
            auth = AuthMiddleware(listed, audit, clock=clock)
            assert await auth.check(_context(user_id)) is None

    @pytest.mark.parametrize(
        "user_id",
        [
            pytest.param("+111", id="plus"),
            pytest.param("0111", id="leading-zero"),
            pytest.param("111.0", id="float-text"),
            pytest.param(" 111", id="space"),
            pytest.param("１１１", id="full-width"),
            pytest.param(True, id="bool"),
        ],
    )
    async def test_other_spellings_are_refused_and_audited_as_given(
        self, audit: AuditLogger, clock: FakeClock, audit_path: Path, user_id: UserId
    ) -> None:
        auth = AuthMiddleware((111, 1), audit, clock=clock)
        refusal = await auth.check(_context(user_id))
        assert refusal is not None
        assert _denials(audit_path)[-1]["user_id"] == user_id

    async def test_one_reply_interval_per_user_however_typed(self, auth: AuthMiddleware) -> None:
        first = await auth.check(_context(555))
        second = await auth.check(_context("555"))
        assert first is not None and first.reply is not None
        assert second is not None and second.reply is None
