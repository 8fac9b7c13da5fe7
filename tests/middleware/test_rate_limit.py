"""RateLimitMiddleware: a token bucket per user, with approvals and /cancel never held back."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.middleware.fakes import FakeClock
from tether.core.safety.audit import AuditLogger, read_audit_log
from tether.core.types import UserId
from tether.exceptions import ConfigError
from tether.middleware.auth import AuthMiddleware
from tether.middleware.base import MessageContext, MessageKind, MiddlewareChain
from tether.middleware.rate_limit import RATE_LIMITED, RateLimitMiddleware


def _context(
    user_id: UserId = 1,
    *,
    text: str = "run the tests",
    kind: MessageKind = "message",
    local: bool = False,
) -> MessageContext:
    return MessageContext(user_id=user_id, chat_id=10, text=text, kind=kind, local=local)


def _limited(path: Path) -> list[dict[str, object]]:
    if not path.exists():
        return []
    return [entry for entry in read_audit_log(path) if entry["event_type"] == RATE_LIMITED]


@pytest.fixture
def limiter(audit: AuditLogger, clock: FakeClock) -> RateLimitMiddleware:
    """20 a minute (one token every 3 s), 3 at once."""
    return RateLimitMiddleware(20, 3, audit, clock)


async def _drain(limiter: RateLimitMiddleware, user_id: UserId = 1, count: int = 3) -> None:
    for _ in range(count):
        assert await limiter.check(_context(user_id)) is None


class TestBucket:
    async def test_a_burst_passes_then_the_next_is_refused_with_when_to_retry(
        self, limiter: RateLimitMiddleware, audit_path: Path
    ) -> None:
        await _drain(limiter)
        refusal = await limiter.check(_context())
        assert refusal is not None
        assert refusal.reason == RATE_LIMITED
        assert (
            refusal.reply == "Slow down: this Tether takes 20 messages a minute. Try again in 3 s."
        )
        [entry] = _limited(audit_path)
        assert (entry["user_id"], entry["chat_id"], entry["kind"]) == (1, 10, "message")
        assert entry["retry_after_seconds"] == 3.0
        assert entry["replied"] is True

    async def test_tokens_come_back_at_the_rate(
        self, limiter: RateLimitMiddleware, clock: FakeClock
    ) -> None:
        await _drain(limiter)
        clock.advance(2.9)
        assert await limiter.check(_context()) is not None
        clock.advance(0.1)
        assert await limiter.check(_context()) is None
        assert await limiter.check(_context()) is not None

    async def test_retrying_at_the_announced_time_passes(
        self, limiter: RateLimitMiddleware, clock: FakeClock
    ) -> None:
        await _drain(limiter)
        await limiter.check(_context())
        clock.advance(limiter.retry_after(1))
        assert await limiter.check(_context()) is None

    async def test_an_idle_bucket_fills_up_to_the_burst_only(
        self, limiter: RateLimitMiddleware, clock: FakeClock
    ) -> None:
        await _drain(limiter)
        clock.advance(3600)
        await _drain(limiter)
        assert await limiter.check(_context()) is not None

    async def test_users_have_separate_buckets(self, limiter: RateLimitMiddleware) -> None:
        await _drain(limiter, user_id=1)
        assert await limiter.check(_context(1)) is not None
        assert await limiter.check(_context(2)) is None

    async def test_retry_after_reports_the_wait(
        self, limiter: RateLimitMiddleware, clock: FakeClock
    ) -> None:
        assert limiter.retry_after(1) == 0.0
        await _drain(limiter)
        assert limiter.retry_after(1) == pytest.approx(3.0)
        clock.advance(1)
        assert limiter.retry_after(1) == pytest.approx(2.0)

    @pytest.mark.parametrize(
        ("rpm", "wait"),
        [
            pytest.param(60, "1 s", id="one-a-second"),
            pytest.param(7, "9 s", id="rounded-up"),
            pytest.param(1, "60 s", id="one-a-minute"),
        ],
    )
    async def test_the_reply_rounds_the_wait_up(
        self, audit: AuditLogger, clock: FakeClock, rpm: int, wait: str
    ) -> None:
        limiter = RateLimitMiddleware(rpm, 1, audit, clock)
        await _drain(limiter, count=1)
        refusal = await limiter.check(_context())
        assert refusal is not None
        assert refusal.reply is not None
        assert refusal.reply.endswith(f"Try again in {wait}.")

    @pytest.mark.parametrize(
        ("rpm", "burst", "variable"),
        [
            pytest.param(0, 5, "TETHER_RATE_LIMIT_RPM=0", id="no-rate"),
            pytest.param(20, 0, "TETHER_RATE_LIMIT_BURST=0", id="no-burst"),
        ],
    )
    def test_a_limit_below_one_is_a_config_error(
        self, audit: AuditLogger, rpm: int, burst: int, variable: str
    ) -> None:
        with pytest.raises(ConfigError, match=f"{variable} is invalid"):
            RateLimitMiddleware(rpm, burst, audit)


class TestNoSpam:
    async def test_a_flood_gets_one_reply_per_wait_and_every_refusal_is_audited(
        self, limiter: RateLimitMiddleware, clock: FakeClock, audit_path: Path
    ) -> None:
        await _drain(limiter)
        replies = []
        for _ in range(4):
            refusal = await limiter.check(_context())
            assert refusal is not None
            replies.append(refusal.reply)
            clock.advance(0.5)
        assert replies[0] is not None
        assert replies[1:] == [None, None, None]
        assert len(_limited(audit_path)) == 4

    async def test_after_the_wait_a_new_refusal_is_answered(
        self, limiter: RateLimitMiddleware, clock: FakeClock
    ) -> None:
        await _drain(limiter)
        await limiter.check(_context())
        clock.advance(3)
        assert await limiter.check(_context()) is None
        refusal = await limiter.check(_context())
        assert refusal is not None
        assert refusal.reply is not None


class TestNeverLimited:
    async def test_approvals_pass_an_empty_bucket_and_take_no_token(
        self, limiter: RateLimitMiddleware, clock: FakeClock, audit_path: Path
    ) -> None:
        await _drain(limiter, count=2)
        for _ in range(10):
            assert await limiter.check(_context(text="approve", kind="approval")) is None
        assert await limiter.check(_context()) is None
        assert await limiter.check(_context(kind="approval")) is None
        assert _limited(audit_path) == []

    @pytest.mark.parametrize(
        "text",
        [pytest.param("/cancel", id="cancel"), pytest.param("/CANCEL@tether_bot", id="bot-suffix")],
    )
    async def test_cancel_passes_an_empty_bucket(
        self, limiter: RateLimitMiddleware, text: str
    ) -> None:
        await _drain(limiter)
        assert await limiter.check(_context(text=text, kind="command")) is None

    async def test_other_commands_are_limited_like_messages(
        self, limiter: RateLimitMiddleware
    ) -> None:
        for _ in range(3):
            assert await limiter.check(_context(text="/status", kind="command")) is None
        assert await limiter.check(_context(text="/status", kind="command")) is not None
        assert await limiter.check(_context()) is not None

    async def test_the_unlimited_commands_can_be_chosen(
        self, audit: AuditLogger, clock: FakeClock
    ) -> None:
        limiter = RateLimitMiddleware(20, 1, audit, clock, unlimited_commands=("Status",))
        await _drain(limiter, count=1)
        assert await limiter.check(_context(text="/status", kind="command")) is None
        assert await limiter.check(_context(text="/cancel", kind="command")) is not None

    async def test_the_local_terminal_is_not_limited(self, limiter: RateLimitMiddleware) -> None:
        for _ in range(20):
            assert await limiter.check(_context("local", local=True)) is None


class TestWithAuth:
    async def test_a_stranger_refused_by_auth_spends_no_tokens(
        self, audit: AuditLogger, limiter: RateLimitMiddleware
    ) -> None:
        chain = MiddlewareChain([AuthMiddleware((1,), audit), limiter])
        for _ in range(10):
            refusal = await chain.check(_context(99))
            assert refusal is not None
            assert refusal.reason == "access_denied"
        assert limiter.retry_after(99) == 0.0
        await _drain(limiter, user_id=99)


class TestMemory:
    async def test_pruning_idle_buckets_keeps_a_limited_user_limited(
        self, limiter: RateLimitMiddleware, clock: FakeClock
    ) -> None:
        await _drain(limiter, user_id="busy")
        for n in range(1500):
            assert await limiter.check(_context(f"user-{n}")) is None
        clock.advance(1)
        assert await limiter.check(_context("busy")) is not None
        assert limiter.retry_after("user-0") == 0.0
