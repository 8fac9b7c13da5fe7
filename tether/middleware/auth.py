"""AuthMiddleware: only the people on the allow-list, and the local terminal, may use Tether.

Tether runs an agent that edits files and runs commands on its owner's
machine, so who may talk to it is the first question, and the answer fails
closed:

- The terminal on this machine, and a browser logged in to the web page with
  the access token (`context.local`, set only by the CLI and web
  connectors), are always open: they are the machine's owner, who could run
  the agent directly anyway.
- A remote user (Telegram) passes only if their user id is in
  `allowed_user_ids` (`TETHER_ALLOWED_USER_IDS`). An empty list lets no
  remote user in: a bot token alone never opens the machine to whoever
  finds the bot.

Every refusal is written to the audit log (`access_denied`). The person gets
one short reply saying how to be let in, then silence for `reply_interval`
seconds, so a stranger hammering the bot cannot make it spam back.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from tether.core.ids import user_key
from tether.core.safety.audit import AuditLogger
from tether.core.types import UserId
from tether.log import get_logger
from tether.middleware.base import MessageContext, Refusal

__all__ = ["ACCESS_DENIED", "AuthMiddleware"]

logger = get_logger(__name__)

ACCESS_DENIED = "access_denied"
"""The audit entry type, and the refusal reason, of a refused user."""

# Forgetting whom we answered costs one extra reply, so the record of replies
# is pruned once it grows past this many users.
_PRUNE_AT = 1024


class AuthMiddleware:
    """Lets through the local terminal and the users in `allowed_user_ids`; refuses the rest.

    Args:
        allowed_user_ids: the remote users let in, compared by `user_key`: 1003
            and "1003" are the same user; "+1003", "01003", " 1003" and True
            are no one on the list. Empty: no remote user.
        audit_logger: where each refusal is recorded.
        reply_interval: seconds after a reply to a refused user during which
            their further messages are refused without a reply.
        clock: monotonic seconds (tests pass a fake clock).
    """

    def __init__(
        self,
        allowed_user_ids: Iterable[UserId],
        audit_logger: AuditLogger,
        *,
        reply_interval: float = 600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._allowed = frozenset(allowed_user_ids)
        self._allowed_keys = frozenset(user_key(user) for user in self._allowed)
        self._audit = audit_logger
        self._reply_interval = reply_interval
        self._clock = clock
        self._replied_at: dict[str, float] = {}
        self._prune_at = _PRUNE_AT

    @property
    def allowed_user_ids(self) -> frozenset[UserId]:
        return self._allowed

    def is_allowed(self, context: MessageContext) -> bool:
        """True for the local terminal and for a user on the allow-list."""
        return context.local or user_key(context.user_id) in self._allowed_keys

    async def check(self, context: MessageContext) -> Refusal | None:
        """Let an allowed context through; refuse and audit the rest, answering once an interval.

        Raises:
            AuditError: the refusal could not be recorded (it is still a refusal).
        """
        if self.is_allowed(context):
            return None
        now = self._clock()
        last = self._replied_at.get(user_key(context.user_id))
        reply: str | None = None
        if last is None or now - last >= self._reply_interval:
            self._remember_reply(user_key(context.user_id), now)
            reply = (
                "This Tether is private. Ask its owner to add your user id "
                f"{context.user_id} to TETHER_ALLOWED_USER_IDS."
            )
        logger.info(
            ACCESS_DENIED,
            user_id=context.user_id,
            chat_id=context.chat_id,
            kind=context.kind,
            replied=reply is not None,
        )
        await self._audit.log(
            ACCESS_DENIED,
            user_id=context.user_id,
            chat_id=context.chat_id,
            kind=context.kind,
            username=context.username,
            replied=reply is not None,
        )
        return Refusal(reason=ACCESS_DENIED, reply=reply)

    def _remember_reply(self, user: str, now: float) -> None:
        if len(self._replied_at) >= self._prune_at:
            cutoff = now - self._reply_interval
            self._replied_at = {
                user: moment for user, moment in self._replied_at.items() if moment > cutoff
            }
            # Doubling keeps pruning cheap on average even when every entry is recent.
            self._prune_at = max(_PRUNE_AT, 2 * len(self._replied_at))
        self._replied_at[user] = now
