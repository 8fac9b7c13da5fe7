"""ApprovalCoordinator: ask a person about a tool call and wait, with timeout = deny.

The connector is asked through `ApprovalRequester` (buttons on Telegram, a
y/n prompt in the terminal). Each request has a short id that fits Telegram's
callback data. The answer comes back through `resolve`, which accepts it once,
from the chat's owner only; everything else (a second answer, an unknown or
expired id, another user) is refused, logged, and explained. Whatever happens
(approved, rejected, timed out, cancelled, nobody to ask) is written to the
audit log and announced as `approval.resolved`; only "approved" lets the call run.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol, runtime_checkable

import structlog
from pydantic import BaseModel, ConfigDict

from tether.core.events import APPROVAL_REQUESTED, APPROVAL_RESOLVED, Event, EventBus
from tether.core.ids import user_key
from tether.core.safety.audit import AuditLogger
from tether.core.types import ChatId, UserId
from tether.exceptions import ApprovalTimeoutError, AuditError

__all__ = [
    "ApprovalCoordinator",
    "ApprovalOutcome",
    "ApprovalRequester",
    "ApprovalResult",
    "PendingApproval",
    "ResolveResult",
]

logger = structlog.get_logger(__name__)

_REMEMBERED = 512
_CLOSE_TIMEOUT = 5.0


@runtime_checkable
class ApprovalRequester(Protocol):
    """What the coordinator needs from a connector (BaseConnector has both methods)."""

    async def request_approval(
        self, chat_id: ChatId, approval_id: str, description: str, tool_name: str
    ) -> str:
        """Show the request (with approve/reject); returns the message id."""
        ...

    async def close_approval(self, chat_id: ChatId, message_id: str, outcome: str) -> None:
        """Show that the request is settled without an answer (expired, cancelled)."""
        ...


class ApprovalOutcome(StrEnum):
    APPROVED = "approved"
    REJECTED = "rejected"
    TIMEOUT = "timeout"
    CANCELLED = "cancelled"
    UNAVAILABLE = "unavailable"
    """Nobody could be asked (no connector, or asking failed)."""


class ApprovalResult(BaseModel):
    """How an approval request ended."""

    model_config = ConfigDict(frozen=True)

    approval_id: str
    outcome: ApprovalOutcome
    user_id: UserId | None = None
    reason: str

    @property
    def approved(self) -> bool:
        return self.outcome is ApprovalOutcome.APPROVED


class ResolveResult(BaseModel):
    """The answer to `resolve`: accepted or refused, and text the connector can show."""

    model_config = ConfigDict(frozen=True)

    accepted: bool
    message: str
    approval_id: str
    tool_name: str | None = None
    approved: bool | None = None


class PendingApproval(BaseModel):
    """An approval request waiting for an answer (for status displays and tests)."""

    model_config = ConfigDict(frozen=True)

    approval_id: str
    chat_id: ChatId
    session_id: str
    tool_name: str
    description: str
    owner: UserId | None
    age_seconds: float


@dataclass(eq=False)
class _Pending:
    approval_id: str
    chat_id: ChatId
    session_id: str
    tool_name: str
    description: str
    owner: UserId | None
    future: asyncio.Future[tuple[ApprovalOutcome, UserId | None]]
    created: float = field(default_factory=time.monotonic)
    message_id: str | None = None


def _new_id() -> str:
    return secrets.token_urlsafe(6)


class ApprovalCoordinator:
    """Pending approvals, keyed by short ids; timeout and no connector mean deny.

    Args:
        event_bus: receives `approval.requested` and `approval.resolved`.
        audit_logger: records every outcome as an `approval` entry.
        requester: the connector that asks; None until `connect` is called
            (requests meanwhile are denied: nobody can answer them).
        timeout_seconds: how long to wait for an answer.
        id_factory: makes approval ids (tests pass a deterministic one).
    """

    def __init__(
        self,
        *,
        event_bus: EventBus,
        audit_logger: AuditLogger,
        requester: ApprovalRequester | None = None,
        timeout_seconds: float = 300.0,
        id_factory: Callable[[], str] = _new_id,
    ) -> None:
        if timeout_seconds <= 0:
            raise ValueError(f"timeout_seconds must be positive, got {timeout_seconds!r}")
        self._bus = event_bus
        self._audit = audit_logger
        self._requester = requester
        self._timeout = timeout_seconds
        self._new_id = id_factory
        self._pending: dict[str, _Pending] = {}
        self._settled: OrderedDict[str, str] = OrderedDict()

    @property
    def timeout_seconds(self) -> float:
        return self._timeout

    def connect(self, requester: ApprovalRequester | None) -> None:
        """Ask through `requester` from now on (None: deny every request)."""
        self._requester = requester

    def pending(self, chat_id: ChatId | None = None) -> tuple[PendingApproval, ...]:
        """The requests waiting for an answer (in one chat, or all)."""
        now = time.monotonic()
        return tuple(
            PendingApproval(
                approval_id=p.approval_id,
                chat_id=p.chat_id,
                session_id=p.session_id,
                tool_name=p.tool_name,
                description=p.description,
                owner=p.owner,
                age_seconds=now - p.created,
            )
            for p in self._pending.values()
            if chat_id is None or p.chat_id == chat_id
        )

    async def request(
        self,
        *,
        session_id: str,
        chat_id: ChatId,
        tool_name: str,
        description: str,
        owner: UserId | None = None,
    ) -> ApprovalResult:
        """Ask the chat to approve a call and wait for the answer, the timeout or a cancel.

        `owner` is the user whose message is being served; only they may answer
        (None: anyone the connector lets through). Never raises for a missing
        or failing connector (that is a deny); re-raises cancellation after
        recording it.

        Emits `approval.requested` when asking and `approval.resolved` at the end.
        """
        approval_id = self._unique_id()
        requester = self._requester
        if requester is None:
            return await self._finish_unasked(
                approval_id,
                session_id,
                chat_id,
                tool_name,
                "nobody can be asked to approve it (no chat is connected)",
            )
        loop = asyncio.get_running_loop()
        entry = _Pending(
            approval_id=approval_id,
            chat_id=chat_id,
            session_id=session_id,
            tool_name=tool_name,
            description=description,
            owner=owner,
            future=loop.create_future(),
        )
        self._pending[approval_id] = entry
        deadline = loop.time() + self._timeout
        try:
            await self._bus.emit(
                Event(
                    name=APPROVAL_REQUESTED,
                    data={
                        "approval_id": approval_id,
                        "session_id": session_id,
                        "chat_id": chat_id,
                        "tool_name": tool_name,
                        "description": description,
                    },
                )
            )
            try:
                async with asyncio.timeout_at(deadline):
                    entry.message_id = await requester.request_approval(
                        chat_id, approval_id, description, tool_name
                    )
            except TimeoutError:
                raise ApprovalTimeoutError(f"asking chat {chat_id} took too long") from None
            except Exception as error:  # noqa: BLE001 - a connector failure is a deny, not a crash
                logger.warning(
                    "approval_request_failed", approval_id=approval_id, error=repr(error)
                )
                self._pending.pop(approval_id, None)
                return await self._finish(
                    entry,
                    ApprovalOutcome.UNAVAILABLE,
                    None,
                    f"asking for approval failed ({type(error).__name__})",
                )
            outcome, user_id = await self._wait(entry, deadline)
        except ApprovalTimeoutError:
            outcome, user_id = ApprovalOutcome.TIMEOUT, None
        except asyncio.CancelledError:
            self._pending.pop(approval_id, None)
            await asyncio.shield(
                self._finish(entry, ApprovalOutcome.CANCELLED, None, "the request was cancelled")
            )
            raise
        finally:
            self._pending.pop(approval_id, None)
        reasons = {
            ApprovalOutcome.APPROVED: "approved",
            ApprovalOutcome.REJECTED: "rejected by the user",
            ApprovalOutcome.TIMEOUT: f"nobody answered within {self._timeout:g} s",
            ApprovalOutcome.CANCELLED: "the request was cancelled",
        }
        return await self._finish(entry, outcome, user_id, reasons.get(outcome, outcome.value))

    async def _wait(
        self, entry: _Pending, deadline: float
    ) -> tuple[ApprovalOutcome, UserId | None]:
        try:
            async with asyncio.timeout_at(deadline):
                return await asyncio.shield(entry.future)
        except TimeoutError:
            if entry.future.done() and not entry.future.cancelled():
                return entry.future.result()  # answered in the same instant as the timeout
            raise ApprovalTimeoutError(f"approval {entry.approval_id} timed out") from None

    async def resolve(self, approval_id: str, approved: bool, user_id: UserId) -> ResolveResult:
        """Answer request `approval_id`: accepted once, from the chat's owner only.

        A second answer, an unknown or expired id, or another user is refused
        (logged, and written to the audit log), with a message saying why.
        """
        entry = self._pending.get(approval_id)
        if entry is None:
            settled = self._settled.get(approval_id)
            message = (
                f"This request is already settled ({settled})."
                if settled
                else "This approval request is unknown or has expired."
            )
            return await self._refuse(approval_id, user_id, message, None)
        if entry.owner is not None and user_key(entry.owner) != user_key(user_id):
            return await self._refuse(
                approval_id,
                user_id,
                "Only the person who sent the request can answer it.",
                entry,
            )
        if entry.future.done():
            return await self._refuse(
                approval_id, user_id, "This request was already answered.", entry
            )
        outcome = ApprovalOutcome.APPROVED if approved else ApprovalOutcome.REJECTED
        entry.future.set_result((outcome, user_id))
        logger.info(
            "approval_answered", approval_id=approval_id, outcome=outcome.value, user_id=user_id
        )
        return ResolveResult(
            accepted=True,
            message="Approved." if approved else "Rejected.",
            approval_id=approval_id,
            tool_name=entry.tool_name,
            approved=approved,
        )

    async def cancel_pending(self, chat_id: ChatId) -> int:
        """Deny every request still open in `chat_id`; returns how many there were."""
        count = 0
        for entry in list(self._pending.values()):
            if entry.chat_id == chat_id and not entry.future.done():
                entry.future.set_result((ApprovalOutcome.CANCELLED, None))
                count += 1
        if count:
            logger.info("approvals_cancelled", chat_id=chat_id, count=count)
            # Let the waiting requests record their outcome before the caller goes on.
            await asyncio.sleep(0)
        return count

    async def _refuse(
        self, approval_id: str, user_id: UserId, message: str, entry: _Pending | None
    ) -> ResolveResult:
        logger.warning(
            "approval_answer_refused", approval_id=approval_id, user_id=user_id, reason=message
        )
        try:
            await self._audit.log(
                "approval_refused",
                approval_id=approval_id,
                user_id=user_id,
                reason=message,
                session_id=entry.session_id if entry else None,
                tool_name=entry.tool_name if entry else None,
            )
        except AuditError as error:
            logger.error("approval_refusal_not_logged", approval_id=approval_id, error=str(error))
        return ResolveResult(
            accepted=False,
            message=message,
            approval_id=approval_id,
            tool_name=entry.tool_name if entry else None,
        )

    async def _finish_unasked(
        self, approval_id: str, session_id: str, chat_id: ChatId, tool_name: str, reason: str
    ) -> ApprovalResult:
        loop = asyncio.get_running_loop()
        entry = _Pending(
            approval_id=approval_id,
            chat_id=chat_id,
            session_id=session_id,
            tool_name=tool_name,
            description="",
            owner=None,
            future=loop.create_future(),
        )
        return await self._finish(entry, ApprovalOutcome.UNAVAILABLE, None, reason)

    async def _finish(
        self,
        entry: _Pending,
        outcome: ApprovalOutcome,
        user_id: UserId | None,
        reason: str,
    ) -> ApprovalResult:
        """Record the outcome (audit, event, the chat's message) and return it."""
        self._remember(entry.approval_id, outcome)
        approved = outcome is ApprovalOutcome.APPROVED
        try:
            await self._audit.log(
                "approval",
                session_id=entry.session_id,
                tool_name=entry.tool_name,
                approved=approved,
                user_id=user_id,
                approval_id=entry.approval_id,
                chat_id=entry.chat_id,
                outcome=outcome.value,
            )
        except AuditError as error:
            logger.error("approval_not_logged", approval_id=entry.approval_id, error=str(error))
            if approved:
                # An approval that is not on record does not count.
                outcome, reason = ApprovalOutcome.UNAVAILABLE, "the approval could not be recorded"
                approved = False
        await self._bus.emit(
            Event(
                name=APPROVAL_RESOLVED,
                data={
                    "approval_id": entry.approval_id,
                    "session_id": entry.session_id,
                    "chat_id": entry.chat_id,
                    "tool_name": entry.tool_name,
                    "approved": approved,
                    "outcome": outcome.value,
                    "user_id": user_id,
                    "reason": reason,
                },
            )
        )
        if outcome in {ApprovalOutcome.TIMEOUT, ApprovalOutcome.CANCELLED}:
            await self._close(entry, outcome)
        logger.info(
            "approval_settled",
            approval_id=entry.approval_id,
            tool_name=entry.tool_name,
            outcome=outcome.value,
        )
        return ApprovalResult(
            approval_id=entry.approval_id, outcome=outcome, user_id=user_id, reason=reason
        )

    async def _close(self, entry: _Pending, outcome: ApprovalOutcome) -> None:
        requester = self._requester
        if requester is None or entry.message_id is None:
            return
        text = (
            "⌛ Expired — not approved in time, so it was denied."
            if outcome is ApprovalOutcome.TIMEOUT
            else "🛑 Cancelled — denied."
        )
        try:
            async with asyncio.timeout(_CLOSE_TIMEOUT):
                await requester.close_approval(entry.chat_id, entry.message_id, text)
        except Exception as error:  # noqa: BLE001 - showing the outcome is best effort
            logger.warning(
                "approval_close_failed", approval_id=entry.approval_id, error=repr(error)
            )

    def _remember(self, approval_id: str, outcome: ApprovalOutcome) -> None:
        self._settled[approval_id] = outcome.value
        while len(self._settled) > _REMEMBERED:
            self._settled.popitem(last=False)

    def _unique_id(self) -> str:
        for _ in range(16):
            approval_id = self._new_id()
            if approval_id not in self._pending and approval_id not in self._settled:
                return approval_id
        raise RuntimeError("could not make a unique approval id")
