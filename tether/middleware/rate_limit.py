"""RateLimitMiddleware: a token bucket per user, so nobody can flood the agent.

Each user has a bucket of `burst` tokens that refills at `rpm / 60` tokens a
second. A message or command takes one token; with none left it is refused
with a short reply saying when to retry, and audited (`rate_limited`). The
reply is sent once per wait: the messages that follow before the announced
time are refused quietly (still audited), so a flood gets one answer, not one
per message.

What is never limited, and why:

- Approval answers. They answer a question Tether asked while the agent
  waits; refusing one would stall the request until the approval times out
  and is denied, punishing the person for work they already started. They
  start no agent work and cost nothing, and there are only as many genuine
  ones as tool calls of messages that already passed the limit (an answer
  to no pending approval is turned away by the approval coordinator).
- `/cancel` (and whatever `unlimited_commands` names): stopping a runaway
  request must work precisely when someone has been sending too much.
- The local terminal: the limit protects the machine from remote floods (a
  shared bot, a stuck client); the person at the keyboard could run the
  agent directly anyway.

Other commands are limited like messages: they are cheap, but each one is a
reply sent to the chat platform, which has rate limits of its own.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable

from tether.core.ids import user_key
from tether.core.safety.audit import AuditLogger
from tether.core.types import UserId
from tether.exceptions import ConfigError
from tether.log import get_logger
from tether.middleware.base import MessageContext, Refusal

__all__ = ["RATE_LIMITED", "RateLimitMiddleware"]

logger = get_logger(__name__)

RATE_LIMITED = "rate_limited"
"""The audit entry type, and the refusal reason, of a rate-limited message."""

# Refill arithmetic in floats can land a hair under a whole token at the
# moment we told the person to retry; that moment must pass.
_EPSILON = 1e-9
_PRUNE_AT = 1024


class _Bucket:
    __slots__ = ("stamp", "tokens", "told_until")

    def __init__(self, tokens: float, stamp: float) -> None:
        self.tokens = tokens
        self.stamp = stamp
        self.told_until = stamp


class RateLimitMiddleware:
    """Token bucket per user: `burst` messages at once, then `rpm` a minute.

    Args:
        rpm: tokens added per minute (`TETHER_RATE_LIMIT_RPM`), at least 1.
        burst: the bucket's size (`TETHER_RATE_LIMIT_BURST`), at least 1.
        audit_logger: where each refusal is recorded.
        clock: monotonic seconds (tests pass a fake clock).
        unlimited_commands: commands never limited; `cancel` by default.

    Raises:
        ConfigError: `rpm` or `burst` is below 1.
    """

    def __init__(
        self,
        rpm: int,
        burst: int,
        audit_logger: AuditLogger,
        clock: Callable[[], float] = time.monotonic,
        *,
        unlimited_commands: Iterable[str] = ("cancel",),
    ) -> None:
        if rpm < 1:
            raise ConfigError(f"TETHER_RATE_LIMIT_RPM={rpm!r} is invalid: it must be at least 1")
        if burst < 1:
            raise ConfigError(
                f"TETHER_RATE_LIMIT_BURST={burst!r} is invalid: it must be at least 1"
            )
        self._rpm = rpm
        self._capacity = float(burst)
        self._rate = rpm / 60.0
        self._audit = audit_logger
        self._clock = clock
        self._unlimited_commands = frozenset(name.lower() for name in unlimited_commands)
        self._buckets: dict[str, _Bucket] = {}  # by user_key: 5 and "5" share one
        self._prune_at = _PRUNE_AT

    def is_limited(self, context: MessageContext) -> bool:
        """Whether `context` draws from its user's bucket at all (see the module docs)."""
        if context.local or context.kind == "approval":
            return False
        return context.command not in self._unlimited_commands

    def retry_after(self, user_id: UserId) -> float:
        """Seconds until `user_id` may send again; 0 when a token is there now."""
        bucket = self._buckets.get(user_key(user_id))
        if bucket is None:
            return 0.0
        self._refill(bucket, self._clock())
        return self._wait(bucket)

    async def check(self, context: MessageContext) -> Refusal | None:
        """Take a token for `context`, or refuse, audit and (once per wait) answer it.

        Raises:
            AuditError: the refusal could not be recorded (it is still a refusal).
        """
        if not self.is_limited(context):
            return None
        now = self._clock()
        bucket = self._buckets.get(user_key(context.user_id))
        if bucket is None:
            bucket = self._new_bucket(user_key(context.user_id), now)
        self._refill(bucket, now)
        if bucket.tokens >= 1.0 - _EPSILON:
            bucket.tokens = max(0.0, bucket.tokens - 1.0)
            return None
        wait = self._wait(bucket)
        reply: str | None = None
        if now >= bucket.told_until:
            bucket.told_until = now + wait
            reply = (
                f"Slow down: this Tether takes {self._rpm} messages a minute. "
                f"Try again in {math.ceil(wait)} s."
            )
        logger.info(
            RATE_LIMITED,
            user_id=context.user_id,
            chat_id=context.chat_id,
            kind=context.kind,
            retry_after=round(wait, 3),
            replied=reply is not None,
        )
        await self._audit.log(
            RATE_LIMITED,
            user_id=context.user_id,
            chat_id=context.chat_id,
            kind=context.kind,
            retry_after_seconds=round(wait, 3),
            replied=reply is not None,
        )
        return Refusal(reason=RATE_LIMITED, reply=reply)

    def _refill(self, bucket: _Bucket, now: float) -> None:
        elapsed = max(0.0, now - bucket.stamp)
        bucket.tokens = min(self._capacity, bucket.tokens + elapsed * self._rate)
        bucket.stamp = now

    def _wait(self, bucket: _Bucket) -> float:
        missing = 1.0 - bucket.tokens
        return 0.0 if missing <= _EPSILON else missing / self._rate

    def _new_bucket(self, user: str, now: float) -> _Bucket:
        if len(self._buckets) >= self._prune_at:
            # A bucket that has refilled is the same as no bucket: drop those.
            for key in [key for key, bucket in self._buckets.items() if self._idle(bucket, now)]:
                del self._buckets[key]
            self._prune_at = max(_PRUNE_AT, 2 * len(self._buckets))
        bucket = _Bucket(self._capacity, now)
        self._buckets[user] = bucket
        return bucket

    def _idle(self, bucket: _Bucket, now: float) -> bool:
        refilled = bucket.tokens + max(0.0, now - bucket.stamp) * self._rate
        return refilled >= self._capacity and now >= bucket.told_until
