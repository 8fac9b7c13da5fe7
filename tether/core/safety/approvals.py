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
import base64
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict

from tether.core.events import APPROVAL_REQUESTED, APPROVAL_RESOLVED, Event, EventBus
from tether.core.ids import user_key
from tether.core.safety.audit import AuditLogger
from tether.core.safety.prompts import AgentPrompt
from tether.core.types import ApprovalPreview, ChatId, UserId
from tether.exceptions import ApprovalTimeoutError, AuditError
from tether.log import get_logger

__all__ = [
    "NOBODY_TO_ASK",
    "ApprovalCoordinator",
    "ApprovalOutcome",
    "ApprovalRequester",
    "ApprovalResult",
    "PendingApproval",
    "PromptRequester",
    "ResolveResult",
]

logger = get_logger(__name__)

_REMEMBERED = 512

NOBODY_TO_ASK = "nobody can be asked to approve it (no chat is connected)"
"""Why a request is refused when no connector can ask (`ApprovalResult.reason`)."""
_CLOSE_TIMEOUT = 5.0


@runtime_checkable
class ApprovalRequester(Protocol):
    """What the coordinator needs from a connector (BaseConnector has both methods)."""

    async def request_approval(
        self,
        chat_id: ChatId,
        approval_id: str,
        description: str,
        tool_name: str,
        *,
        preview: ApprovalPreview | None = None,
    ) -> str:
        """Show the request (with its answers); returns the message id.

        `preview` is what the call would change, for the connector to format;
        `description` is the same in a few plain lines.
        """
        ...

    async def close_approval(self, chat_id: ChatId, message_id: str, outcome: str) -> None:
        """Show that the request is settled without an answer (expired, cancelled)."""
        ...


@runtime_checkable
class PromptRequester(Protocol):
    """A connector that can also show the agent's questions and plans."""

    async def request_prompt(self, chat_id: ChatId, approval_id: str, prompt: AgentPrompt) -> str:
        """Show the questions (options as choices) or the plan; returns the message id."""
        ...


class ApprovalOutcome(StrEnum):
    APPROVED = "approved"
    REJECTED = "rejected"
    TIMEOUT = "timeout"
    CANCELLED = "cancelled"
    UNAVAILABLE = "unavailable"
    """Nobody could be asked (no connector, or asking failed)."""


# The outcome a refusal records, as the entry and the event spell it (read once).
_UNAVAILABLE = ApprovalOutcome.UNAVAILABLE.value


class ApprovalResult(BaseModel):
    """How an approval request ended."""

    model_config = ConfigDict(frozen=True)

    approval_id: str
    outcome: ApprovalOutcome
    user_id: UserId | None = None
    reason: str
    answers: dict[str, str] | None = None
    """For the agent's questions: each question's text and its answer."""
    next_mode: str | None = None
    """For an approved plan: the mode the person chose to work in (default, edit)."""

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
    awaiting_reason: bool = False
    note: str | None = None
    """What the person said when rejecting (the agent is told)."""
    prompt: AgentPrompt | None = None
    answers: dict[int, str] = field(default_factory=dict)
    selected: dict[int, list[int]] = field(default_factory=dict)
    next_mode: str | None = None
    stopped: bool = False
    closing_text: str | None = None
    """The outcome to show on the request when a typed message settled it."""


def _option(entry: _Pending, question: int, option: int) -> tuple[Any, str] | None:
    prompt = entry.prompt
    if prompt is None or prompt.kind != "questions":
        return None
    if not 0 <= question < len(prompt.questions):
        return None
    asked = prompt.questions[question]
    if not 0 <= option < len(asked.options):
        return None
    return asked, asked.options[option].label


def _extras(entry: _Pending, approved: bool) -> dict[str, Any]:
    """What an audit entry adds for a reason, answers or a plan's mode."""
    extras: dict[str, Any] = {}
    if entry.stopped:
        extras["stopped"] = True
    if entry.note:
        extras["note"] = entry.note
    if entry.prompt is not None:
        extras["kind"] = entry.prompt.kind
        if approved and entry.answers:
            extras["answers"] = [entry.answers[i] for i in sorted(entry.answers)]
        if approved and entry.next_mode:
            extras["next_mode"] = entry.next_mode
    return extras


_IDS_PER_DRAW = 256


class _RandomIds:
    """Approval ids as `secrets.token_urlsafe(6)` makes them, drawn 256 at a time.

    Six random bytes are eight URL-safe base64 characters without padding, so
    the encoding of 6 x 256 bytes, cut every eight characters, is the ids that
    encoding each six would give: one `os.urandom` per 256 requests, not one each.
    A forked child draws afresh (`os.register_at_fork`): it never repeats its parent's.
    """

    __slots__ = ("_next", "_text")

    def __init__(self) -> None:
        self._text = ""
        self._next = 0

    def __call__(self) -> str:
        start = self._next
        if start >= len(self._text):
            self._text = base64.urlsafe_b64encode(os.urandom(6 * _IDS_PER_DRAW)).decode("ascii")
            start = 0
        self._next = start + 8
        return self._text[start : start + 8]

    def discard(self) -> None:
        """Forget the ids drawn and not handed out."""
        self._text = ""
        self._next = 0


_new_id = _RandomIds()
os.register_at_fork(after_in_child=_new_id.discard)


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
        self._settled: dict[str, str] = {}  # oldest first
        # Per chat, the requests whose rejection waits for the person's reason.
        self._reasons: dict[ChatId, list[str]] = {}
        self._stopping = False
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def timeout_seconds(self) -> float:
        return self._timeout

    @property
    def can_ask(self) -> bool:
        """Whether a request would be put to a chat now (without a connector it is refused)."""
        return self._requester is not None

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
        preview: ApprovalPreview | None = None,
        prompt: AgentPrompt | None = None,
    ) -> ApprovalResult:
        """Ask the chat to approve a call and wait for the answer, the timeout or a cancel.

        `owner` is the user whose message is being served; only they may answer
        (None: anyone the connector lets through). `preview` is shown by
        connectors that can format it. With `prompt` (the agent's questions
        or plan) the person answers instead of approving: the result carries
        the answers or the chosen mode. Never raises for a missing
        or failing connector (that is a deny); re-raises cancellation after
        recording it.

        Emits `approval.requested` when asking and `approval.resolved` at the end.
        """
        self._in_flight += 1
        self._idle.clear()
        try:
            return await self._request(
                session_id=session_id,
                chat_id=chat_id,
                tool_name=tool_name,
                description=description,
                owner=owner,
                preview=preview,
                prompt=prompt,
            )
        finally:
            self._in_flight -= 1
            if not self._in_flight:
                self._idle.set()

    async def _request(
        self,
        *,
        session_id: str,
        chat_id: ChatId,
        tool_name: str,
        description: str,
        owner: UserId | None = None,
        preview: ApprovalPreview | None = None,
        prompt: AgentPrompt | None = None,
    ) -> ApprovalResult:
        requester = self._requester
        if requester is None:
            return ApprovalResult(
                approval_id=await self._refuse_unasked(session_id, chat_id, tool_name),
                outcome=ApprovalOutcome.UNAVAILABLE,
                user_id=None,
                reason=NOBODY_TO_ASK,
                answers=None,
                next_mode=None,
            )
        approval_id = self._unique_id()
        loop = asyncio.get_running_loop()
        entry = _Pending(
            approval_id=approval_id,
            chat_id=chat_id,
            session_id=session_id,
            tool_name=tool_name,
            description=description,
            owner=owner,
            future=loop.create_future(),
            prompt=prompt,
        )
        self._pending[approval_id] = entry
        if prompt is not None and prompt.kind == "questions":
            # A message typed while questions wait is an answer in the person's words.
            entry.awaiting_reason = True
            self._reasons.setdefault(chat_id, []).append(approval_id)
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
                    entry.message_id = await self._show(
                        requester, entry, description, preview, prompt
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
            self._forget_reason(entry)
        rejected = "rejected by the user"
        if entry.note:
            rejected = f"rejected by the user, who says: {entry.note}"
        if entry.note and prompt is not None and prompt.kind == "plan":
            rejected = f"the user wants you to keep planning and says: {entry.note}"
        reasons = {
            ApprovalOutcome.APPROVED: "approved",
            ApprovalOutcome.REJECTED: rejected,
            ApprovalOutcome.TIMEOUT: f"nobody answered within {self._timeout:g} s",
            ApprovalOutcome.CANCELLED: (
                "Tether stopped before anyone answered"
                if self._stopping
                else "the request was cancelled"
            ),
        }
        return await self._finish(entry, outcome, user_id, reasons.get(outcome, outcome.value))

    @staticmethod
    async def _show(
        requester: ApprovalRequester,
        entry: _Pending,
        description: str,
        preview: ApprovalPreview | None,
        prompt: AgentPrompt | None,
    ) -> str:
        if prompt is None:
            return await requester.request_approval(
                entry.chat_id, entry.approval_id, description, entry.tool_name, preview=preview
            )
        if not isinstance(requester, PromptRequester):
            raise TypeError("this chat cannot show the agent's questions")
        return await requester.request_prompt(entry.chat_id, entry.approval_id, prompt)

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

    async def resolve(
        self, approval_id: str, approved: bool, user_id: UserId, *, next_mode: str | None = None
    ) -> ResolveResult:
        """Answer request `approval_id`: accepted once, from the chat's owner only.

        A second answer, an unknown or expired id, or another user is refused
        (logged, and written to the audit log), with a message saying why.
        """
        entry, refusal = await self._answerable(approval_id, user_id)
        if entry is None:
            assert refusal is not None
            return refusal
        if approved and entry.prompt is not None and entry.prompt.kind == "questions":
            return await self._refuse(
                approval_id, user_id, "Answer the questions (or reject them).", entry
            )
        outcome = ApprovalOutcome.APPROVED if approved else ApprovalOutcome.REJECTED
        entry.next_mode = next_mode if approved else None
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

    async def await_reason(self, approval_id: str, user_id: UserId) -> ResolveResult:
        """Reject request `approval_id` once its owner says why (their next message).

        The request stays open until `take_reason` gives the reason, so the
        timeout still denies. Refused like `resolve` for an unknown, settled or
        foreign request.
        """
        entry, refusal = await self._answerable(approval_id, user_id)
        if entry is None:
            assert refusal is not None
            return refusal
        if not entry.awaiting_reason:
            entry.awaiting_reason = True
            self._reasons.setdefault(entry.chat_id, []).append(approval_id)
        logger.info("approval_awaits_reason", approval_id=approval_id, user_id=user_id)
        return ResolveResult(
            accepted=True,
            message="Waiting for the reason.",
            approval_id=approval_id,
            tool_name=entry.tool_name,
            approved=False,
        )

    def awaits_reason(self, chat_id: ChatId) -> bool:
        """True when a rejection in `chat_id` waits for the person's reason."""
        return bool(self._reasons.get(chat_id))

    async def take_reason(
        self, chat_id: ChatId, user_id: UserId, text: str, *, approval_id: str | None = None
    ) -> ResolveResult | None:
        """Reject the oldest request in `chat_id` waiting for a reason, with `text` as it.

        With `approval_id` (a reason that came with the answer to one request,
        as the web page sends it), only that request takes it, whichever is
        oldest. None when no such request waits for one from `user_id` (the
        text is then an ordinary message).
        """
        waiting = self._reasons.get(chat_id, ())
        if approval_id is not None:
            waiting = [approval_id] if approval_id in waiting else []
        for approval_id in list(waiting):
            entry = self._pending.get(approval_id)
            if entry is None or entry.future.done():
                continue
            if entry.owner is not None and user_key(entry.owner) != user_key(user_id):
                continue
            if entry.prompt is not None and entry.prompt.kind == "questions":
                question = next(
                    i for i in range(len(entry.prompt.questions)) if i not in entry.answers
                )
                answered = self._record_answer(entry, user_id, question, text.strip()[:1000])
                if answered.accepted:
                    entry.closing_text = f"✅ Answered: {answered.message}"
                    return answered.model_copy(update={"message": entry.closing_text})
                return answered.model_copy(update={"message": f"📝 {answered.message}"})
            note = " ".join(text.split())
            entry.note = note if len(note) <= 1000 else note[:999] + "…"
            entry.future.set_result((ApprovalOutcome.REJECTED, user_id))
            self._forget_reason(entry)
            logger.info("approval_rejected_with_reason", approval_id=approval_id, user_id=user_id)
            planning = entry.prompt is not None and entry.prompt.kind == "plan"
            head = "📝 Back to planning" if planning else "❌ Rejected"
            entry.closing_text = f"{head}; the agent is told: “{entry.note}”"
            return ResolveResult(
                accepted=True,
                message=entry.closing_text,
                approval_id=approval_id,
                tool_name=entry.tool_name,
                approved=False,
            )
        return None

    async def choose(
        self, approval_id: str, user_id: UserId, question: int, option: int
    ) -> ResolveResult:
        """Pick option `option` of question `question` (toggled for a multi-select one)."""
        entry, refusal = await self._answerable(approval_id, user_id)
        if entry is None:
            assert refusal is not None
            return refusal
        found = _option(entry, question, option)
        if found is None:
            return await self._refuse(approval_id, user_id, "That choice is not offered.", entry)
        asked, label = found
        if not asked.multi_select:
            return self._record_answer(entry, user_id, question, label)
        chosen = entry.selected.setdefault(question, [])
        if option in chosen:
            chosen.remove(option)
        else:
            chosen.append(option)
        labels = ", ".join(asked.options[i].label for i in sorted(chosen)) or "nothing"
        return ResolveResult(
            accepted=False,
            message=f"Selected: {labels}. Press Done when finished.",
            approval_id=approval_id,
            tool_name=entry.tool_name,
        )

    async def finish_selection(
        self, approval_id: str, user_id: UserId, question: int
    ) -> ResolveResult:
        """Answer multi-select question `question` with the options picked so far."""
        entry, refusal = await self._answerable(approval_id, user_id)
        if entry is None:
            assert refusal is not None
            return refusal
        if entry.prompt is None or not 0 <= question < len(entry.prompt.questions):
            return await self._refuse(approval_id, user_id, "That choice is not offered.", entry)
        options = entry.prompt.questions[question].options
        chosen = sorted(entry.selected.get(question, []))
        if not chosen:
            return ResolveResult(
                accepted=False,
                message="Pick at least one option first (or send your own answer).",
                approval_id=approval_id,
            )
        return self._record_answer(
            entry, user_id, question, ", ".join(options[i].label for i in chosen)
        )

    async def answer(
        self, approval_id: str, user_id: UserId, question: int, text: str
    ) -> ResolveResult:
        """Answer question `question` with `text` (an option's label, or the person's words)."""
        entry, refusal = await self._answerable(approval_id, user_id)
        if entry is None:
            assert refusal is not None
            return refusal
        if entry.prompt is None or not 0 <= question < len(entry.prompt.questions):
            return await self._refuse(approval_id, user_id, "That question was not asked.", entry)
        if not text.strip():
            return ResolveResult(
                accepted=False, message="An empty answer is no answer.", approval_id=approval_id
            )
        return self._record_answer(entry, user_id, question, text.strip()[:1000])

    def _record_answer(
        self, entry: _Pending, user_id: UserId, question: int, text: str
    ) -> ResolveResult:
        assert entry.prompt is not None
        entry.answers[question] = text
        total = len(entry.prompt.questions)
        if len(entry.answers) < total:
            return ResolveResult(
                accepted=False,
                message=f"Noted ({len(entry.answers)} of {total} answered): {text}",
                approval_id=entry.approval_id,
                tool_name=entry.tool_name,
            )
        entry.future.set_result((ApprovalOutcome.APPROVED, user_id))
        self._forget_reason(entry)
        logger.info("questions_answered", approval_id=entry.approval_id, user_id=user_id)
        return ResolveResult(
            accepted=True,
            message="; ".join(entry.answers[i] for i in range(total)),
            approval_id=entry.approval_id,
            tool_name=entry.tool_name,
            approved=True,
        )

    def _forget_reason(self, entry: _Pending) -> None:
        waiting = self._reasons.get(entry.chat_id)
        if waiting and entry.approval_id in waiting:
            waiting.remove(entry.approval_id)
            if not waiting:
                del self._reasons[entry.chat_id]

    async def _answerable(
        self, approval_id: str, user_id: UserId
    ) -> tuple[_Pending | None, ResolveResult | None]:
        """The open request `user_id` may answer, or the refusal saying why not."""
        entry = self._pending.get(approval_id)
        if entry is None:
            settled = self._settled.get(approval_id)
            message = (
                f"This request is already settled ({settled})."
                if settled
                else "This approval request is unknown or has expired."
            )
            return None, await self._refuse(approval_id, user_id, message, None)
        if entry.owner is not None and user_key(entry.owner) != user_key(user_id):
            return None, await self._refuse(
                approval_id,
                user_id,
                "Only the person who sent the request can answer it.",
                entry,
            )
        if entry.future.done():
            return None, await self._refuse(
                approval_id, user_id, "This request was already answered.", entry
            )
        return entry, None

    async def stop(self) -> int:
        """Refuse every open request because Tether is stopping; how many there were.

        Each is recorded (with its chat) as cancelled with `stopped: true`, so the
        next start can tell the chat what was cut short.
        """
        self._stopping = True
        count = 0
        for chat_id in {entry.chat_id for entry in self._pending.values()}:
            count += await self.cancel_pending(chat_id)
        # Each waiting request records its own outcome; give them the time to.
        try:
            async with asyncio.timeout(_CLOSE_TIMEOUT):
                await self._idle.wait()
        except TimeoutError:
            logger.warning("approvals_not_settled_at_stop", count=self._in_flight)
        return count

    async def cancel_pending(self, chat_id: ChatId) -> int:
        """Deny every request still open in `chat_id`; returns how many there were."""
        count = 0
        for entry in list(self._pending.values()):
            if entry.chat_id == chat_id and not entry.future.done():
                entry.stopped = self._stopping
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

    async def refuse_unasked(self, *, session_id: str, chat_id: ChatId, tool_name: str) -> str:
        """Refuse a request while no chat is connected; returns its approval id.

        What `request` does for it (the same `approval` entry, `approval.resolved`
        event and log line; outcome UNAVAILABLE, reason `NOBODY_TO_ASK`), without
        what waiting for an answer needs: nothing is kept pending, and no future,
        timer or result model is made. The caller has checked `can_ask` with
        nothing awaited since; a chat connected meanwhile is a caller's error,
        raised, never a request silently refused.
        """
        if self._requester is not None:
            raise RuntimeError("refuse_unasked called while a chat can be asked")
        self._in_flight += 1
        self._idle.clear()
        try:
            return await self._refuse_unasked(session_id, chat_id, tool_name)
        finally:
            self._in_flight -= 1
            if not self._in_flight:
                self._idle.set()

    async def _refuse_unasked(self, session_id: str, chat_id: ChatId, tool_name: str) -> str:
        """Record a request refused because nobody can be asked; returns its id.

        `_finish` for that outcome, spelled out: it has no person, prompt,
        message to close or note.
        """
        approval_id, fields = self._refusal(session_id, chat_id, tool_name)
        error = None
        try:
            await self._audit.log_now("approval", fields)
        except AuditError as failure:
            error = failure
        await self.refused(
            approval_id, session_id=session_id, chat_id=chat_id, tool_name=tool_name, error=error
        )
        return approval_id

    def refusal(
        self, *, session_id: str, chat_id: ChatId, tool_name: str
    ) -> tuple[str, dict[str, Any]]:
        """`refuse_unasked` for a caller that writes the `approval` entry itself, with
        its own entry after it in one write: the approval id (drawn, and remembered
        as settled) and the entry's fields.

        The caller writes them, then calls `refused` with nothing awaited between
        (as `refuse_unasked`, raises when a chat can be asked).
        """
        if self._requester is not None:
            raise RuntimeError("refusal called while a chat can be asked")
        return self._refusal(session_id, chat_id, tool_name)

    def _refusal(
        self, session_id: str, chat_id: ChatId, tool_name: str
    ) -> tuple[str, dict[str, Any]]:
        approval_id = self._unique_id()
        self._remember(approval_id, ApprovalOutcome.UNAVAILABLE)
        return approval_id, {
            "session_id": session_id,
            "tool_name": tool_name,
            "approved": False,
            "user_id": None,
            "approval_id": approval_id,
            "chat_id": chat_id,
            "outcome": _UNAVAILABLE,
        }

    async def refused(
        self,
        approval_id: str,
        *,
        session_id: str,
        chat_id: ChatId,
        tool_name: str,
        error: AuditError | None = None,
    ) -> None:
        """The rest of a refusal once its entry is written (`error`: it could not be):
        the `approval.resolved` event, when heard, and the log line."""
        if error is not None:
            logger.error("approval_not_logged", approval_id=approval_id, error=str(error))
        if self._bus.listened(APPROVAL_RESOLVED):  # an event nobody hears is not built
            await self._bus.emit(
                Event(
                    name=APPROVAL_RESOLVED,
                    data={
                        "approval_id": approval_id,
                        "session_id": session_id,
                        "chat_id": chat_id,
                        "tool_name": tool_name,
                        "approved": False,
                        "outcome": _UNAVAILABLE,
                        "user_id": None,
                        "reason": NOBODY_TO_ASK,
                    },
                )
            )
        logger.info(
            "approval_settled", approval_id=approval_id, tool_name=tool_name, outcome=_UNAVAILABLE
        )

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
            # Written without a turn of the event loop (`AuditLogger.log_now`): the
            # gate's call that asked goes on at once to write its own entry.
            await self._audit.log_now(
                "approval",
                {
                    "session_id": entry.session_id,
                    "tool_name": entry.tool_name,
                    "approved": approved,
                    "user_id": user_id,
                    "approval_id": entry.approval_id,
                    "chat_id": entry.chat_id,
                    "outcome": outcome.value,
                    **_extras(entry, approved),
                },
            )
        except AuditError as error:
            logger.error("approval_not_logged", approval_id=entry.approval_id, error=str(error))
            if approved:
                # An approval that is not on record does not count.
                outcome, reason = ApprovalOutcome.UNAVAILABLE, "the approval could not be recorded"
                approved = False
        if self._bus.listened(APPROVAL_RESOLVED):  # an event nobody hears is not built
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
        elif entry.closing_text is not None:
            # Settled by a typed message, not a button: the request still shows
            # its buttons (or "send the reason"), so it is closed here.
            await self._close(entry, outcome, entry.closing_text)
        logger.info(
            "approval_settled",
            approval_id=entry.approval_id,
            tool_name=entry.tool_name,
            outcome=outcome.value,
        )
        answers = None
        if approved and entry.prompt is not None and entry.prompt.kind == "questions":
            answers = {q.question: entry.answers[i] for i, q in enumerate(entry.prompt.questions)}
        return ApprovalResult(
            approval_id=entry.approval_id,
            outcome=outcome,
            user_id=user_id,
            reason=reason,
            answers=answers,
            next_mode=entry.next_mode if approved else None,
        )

    async def _close(
        self, entry: _Pending, outcome: ApprovalOutcome, text: str | None = None
    ) -> None:
        requester = self._requester
        if requester is None or entry.message_id is None:
            return
        if text is None:
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
        settled = self._settled
        settled[approval_id] = outcome.value
        if len(settled) > _REMEMBERED:
            del settled[next(iter(settled))]  # the oldest (dicts keep their order)

    def _unique_id(self) -> str:
        for _ in range(16):
            approval_id = self._new_id()
            if approval_id not in self._pending and approval_id not in self._settled:
                return approval_id
        raise RuntimeError("could not make a unique approval id")
