"""ToolGatekeeper: runs sandbox, policy and approval for every tool call.

`check` runs the `SafetyPipeline`, emits `tool.gated`, asks a person when the
policy asks, writes one `tool_attempt` audit entry, then emits
`tool.allowed` or `tool.denied` (and `safety.violation` for a sandbox denial),
and returns a `GateDecision`. The gate writes no `security_violation` entry
itself: the built-in AuditPlugin writes exactly one on a sandbox `tool.denied`. It never
raises into the agent: any failure is a deny with the reason. A decision that
cannot be written to the audit log is a deny too. Plugins cannot keep the
entry from being written: the bus contains whatever their handlers raise, the
verdict and the input to record are taken before tool.gated is delivered, and
a cancellation that arrives while it is delivered is recorded as a deny.

Above the policy files sit two more layers, applied only where the policy
would ask (never to a deny or the floor, never to what the analysis could not
see): learned rules (`learned.py`, from a person's "always"; each use is
recorded in the call's `tool_attempt` entry) and the chat's mode (edit mode
approves file edits inside the project; plan mode refuses what would ask). A
mode is stored once, in the session; the gate derives what it approves from it.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections import OrderedDict
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tether.core.events import (
    APPROVAL_RESOLVED,
    SAFETY_VIOLATION,
    TOOL_ALLOWED,
    TOOL_DENIED,
    TOOL_GATED,
    Event,
    EventBus,
)
from tether.core.safety.approvals import NOBODY_TO_ASK, ApprovalCoordinator
from tether.core.safety.audit import (
    MAX_STRING_LENGTH,
    AuditLogger,
    JSONText,
    attempt_body,
    fields_text,
    json_string,
)
from tether.core.safety.built import built
from tether.core.safety.classify import CallPart
from tether.core.safety.facts import FACTS, NEVER_AUTO_ALLOWED, RiskFact, RiskLevel
from tether.core.safety.gate_hooks import GateCall, GateReviewer
from tether.core.safety.learned import (
    LearnedRule,
    LearnedRules,
    Lifetime,
    ScopeOffer,
    offer_scopes,
)
from tether.core.safety.pipeline import Layer, SafetyPipeline, Verdict
from tether.core.safety.policy import Action
from tether.core.safety.preview import (
    FILE_FREE_PREVIEWS,
    ApprovalPreview,
    build_preview,
    note_preview,
)
from tether.core.safety.prompts import INTERACTIVE_TOOLS, AgentPrompt, answers_input, parse_prompt
from tether.core.safety.sandbox import CLAUDE_PLANS_DIRECTORY
from tether.core.safety.tools import TOOLS, ToolKind
from tether.core.types import ChatId, GateDecision, UserId
from tether.exceptions import AuditError, ConfigError
from tether.log import get_logger

__all__ = ["EDIT_MODE_TOOLS", "GateDecision", "ToolGatekeeper", "describe_for_approval"]

logger = get_logger(__name__)

_MAX_SHOWN = 300
# A preview reads the file an edit changes; a slow disk must not hold the ask back.
_PREVIEW_SECONDS = 3.0
_OFFERS_KEPT = 256
# How much of a tool input the audit entry keeps: items per object or list, characters per key.
_MAX_ITEMS = 50
_MAX_KEY = 100
_DERIVED_KEPT = 64

EDIT_MODE_TOOLS = frozenset({"Write", "Edit", "MultiEdit", "NotebookEdit"})
"""Tools edit mode approves without asking (inside the project; a deny still denies)."""

# The actions every call compares its verdict with, read once: an enum member
# read through its class (`Action.ALLOW`) costs ten times a global's read.
_ALLOW = Action.ALLOW
_DENY = Action.DENY
_ASK = Action.REQUIRE_APPROVAL
_INFO = logging.INFO


class ToolGatekeeper:
    """The gate every tool call passes.

    Args:
        pipeline: input check, sandbox and policy.
        approvals: asks a person when the policy says so.
        event_bus: receives tool.gated, tool.allowed, tool.denied.
        audit_logger: receives one tool_attempt entry per call.
        learned: the learned rules (None: a fresh set kept for the chats only).
        reviewer: runs the plugins' gate hooks, which may only tighten (None: none).
    """

    def __init__(
        self,
        pipeline: SafetyPipeline,
        approvals: ApprovalCoordinator,
        event_bus: EventBus,
        audit_logger: AuditLogger,
        learned: LearnedRules | None = None,
        reviewer: GateReviewer | None = None,
    ) -> None:
        self._pipeline = pipeline
        self._sandbox = pipeline.sandbox  # the pipeline's for good; read on every call
        self._reviewer = reviewer
        self._approvals = approvals
        self._bus = event_bus
        self._audit = audit_logger
        self._learned = learned if learned is not None else LearnedRules()
        self._offers: OrderedDict[str, tuple[ChatId, tuple[ScopeOffer, ...]]] = OrderedDict()
        self._by_verdict: dict[int, _Derived] = {}
        # One bound method for every verdict's weak reference, made once.
        self._forget = self._forget_derived
        # The fields every entry of a session ends with (its directory, the approved
        # directories, whether the input was cut), written as JSON once per directory:
        # for (cwd, approved directories), the text without and with the cut.
        self._tail_of: tuple[object, object] = (None, None)
        self._tails: tuple[JSONText | None, JSONText | None] = (None, None)
        # Which of the gate's events are heard, as of the bus's generation `_heard_at`.
        self._heard_at = -1
        self._gated_heard = self._allowed_heard = self._denied_heard = True
        self._violation_heard = self._resolved_heard = self._announced = True

    @property
    def pipeline(self) -> SafetyPipeline:
        return self._pipeline

    @property
    def approvals(self) -> ApprovalCoordinator:
        return self._approvals

    @property
    def learned(self) -> LearnedRules:
        return self._learned

    # -- learning from "always" -----------------------------------------------

    def scope_offers(self, approval_id: str) -> tuple[ScopeOffer, ...]:
        """The scopes "always" may grant for approval `approval_id` (narrowest first)."""
        entry = self._offers.get(approval_id)
        return entry[1] if entry is not None else ()

    async def learn(
        self,
        approval_id: str,
        choice: int,
        lifetime: Lifetime,
        *,
        chat_id: ChatId,
        user_id: UserId,
    ) -> str:
        """Grant scope number `choice` (1-based) of an approved call; returns what to show.

        Audited as `rule_learned`. A remembered rule that cannot be written is
        kept for the chat, and the reply says so.
        """
        entry = self._offers.get(approval_id)
        if entry is None or str(entry[0]) != str(chat_id):
            return "That approval has no rule to learn (it expired or was for another chat)."
        offers = entry[1]
        if not 1 <= choice <= len(offers):
            return f"Choose a scope between 1 and {len(offers)}."
        del self._offers[approval_id]
        try:
            rule, warning = self._learned.grant(
                offers[choice - 1],
                lifetime,
                chat_id=str(chat_id),
                granted_by=str(user_id),
                approval_id=approval_id,
            )
        except ConfigError as error:
            return f"⚠️ {error}"
        await self._audit.log(
            "rule_learned",
            rule_id=rule.id,
            scope=rule.kind.value,
            label=rule.label,
            lifetime=rule.lifetime.value,
            directory=rule.directory,
            chat_id=chat_id,
            user_id=user_id,
            approval_id=approval_id,
        )
        where = "for this chat" if rule.lifetime is Lifetime.CHAT else "remembered"
        text = f"📌 Learned rule {rule.id}: {rule.label} ({where}); /rules lists and revokes"
        if warning is not None:
            text += f". ⚠️ Kept for this chat only: {warning}"
        return text

    async def revoke_rules(
        self, rule_ids: tuple[str, ...], *, user_id: UserId | None, chat_id: ChatId | None
    ) -> tuple[LearnedRule, ...]:
        """Revoke learned rules; each revocation gets a `rule_revoked` audit entry."""
        removed = self._learned.revoke(rule_ids)
        for rule in removed:
            await self._audit.log(
                "rule_revoked", rule_id=rule.id, label=rule.label, user_id=user_id, chat_id=chat_id
            )
        return removed

    def _remember_offers(
        self, approval_id: str | None, chat_id: ChatId, offers: tuple[ScopeOffer, ...]
    ) -> None:
        if approval_id is None or not offers:
            return
        self._offers[approval_id] = (chat_id, offers)
        while len(self._offers) > _OFFERS_KEPT:
            self._offers.popitem(last=False)

    # -- the gate -------------------------------------------------------------

    async def check(
        self,
        tool_name: str,
        tool_input: dict[str, Any],
        session_id: str,
        chat_id: ChatId,
        *,
        user_id: UserId | None = None,
        cwd: Path | str | None = None,
        read_only: bool = False,
        mode: str | None = None,
    ) -> GateDecision:
        """Decide whether the agent may run `tool_name` with `tool_input`.

        `user_id` is the person whose message is being served (only they may
        approve); `cwd` is the session's working directory (default: the first
        approved directory); `mode` is the chat's mode: "plan" (or `read_only`)
        denies, without asking, whatever the policy does not allow outright,
        except writing Claude Code's own plan files; "edit" approves file edits
        the policy would ask about. Emits tool.gated, then tool.allowed or tool.denied.
        Never raises, except to propagate cancellation (recorded as a deny first).
        """
        name = tool_name if isinstance(tool_name, str) else repr(tool_name)
        try:
            # Decided, and copied for the record, before any plugin sees the call:
            # nothing a tool.gated handler does can change either. An input of the
            # shape agents send (`_flat`) is copied only where something is awaited
            # before it is recorded; else the record reads the input itself. Most
            # are written as JSON text here, in the pass that tells them flat.
            call = _flat_text(tool_input)
            bounded = None if call is not None or _flat(tool_input) else _bounded_input(tool_input)
            verdict = self._pipeline.decide(tool_name, tool_input, cwd=cwd)
            if self._bus.generation != self._heard_at:
                self._hear()
            action = verdict.decision
            reviewer = self._reviewer
            if (
                action is not _ASK
                and name not in INTERACTIVE_TOOLS
                and (action is _DENY or reviewer is None or not reviewer.active)
                and not self._gated_heard
            ):
                # An allow or a deny that nothing after the pipeline can touch: no
                # hook reviews it, no handler hears tool.gated, and neither a mode
                # nor a person answers anything but an ask. The decision is then
                # a function of the verdict alone (`_Derived`), the same one
                # `_gate` would settle on, and nothing is awaited before it is recorded.
                written = None
                if call is not None:
                    written = self._write_final(verdict, name, call, session_id, cwd)
                if written is not None:
                    decision = written
                else:
                    derived = self._derived(verdict)
                    final = derived.final
                    assert final is not None  # built for every verdict that does not ask
                    logged_input, truncated = bounded or (dict(tool_input), False)
                    decision = await self._record(
                        final,
                        derived.summary,
                        derived.fields(final),
                        name,
                        logged_input,
                        session_id,
                        cwd,
                        truncated,
                    )
            elif (
                action is _ASK
                and not self._approvals.can_ask
                and name not in INTERACTIVE_TOOLS
                and (reviewer is None or not reviewer.active)
                and not (read_only or mode == "plan")
                and (mode != "edit" or name not in EDIT_MODE_TOOLS)
                and not self._gated_heard
                and not self._learned.may_cover(name)
            ):
                # An ask nobody can answer: no hook reviews it, no handler hears
                # tool.gated, neither plan nor edit mode applies, no learned rule
                # exists for the tool, and no chat is connected. `_settle` would
                # refuse it unasked; it is refused here without what only an
                # answer reads (the directory, the asking parts, the scopes).
                logged_input, truncated = bounded or (dict(tool_input), False)
                decision = await self._refuse_unasked(
                    verdict, name, logged_input, truncated, session_id, chat_id, cwd
                )
            else:
                logged_input, truncated = bounded or (dict(tool_input), False)
                decision = await self._gate(
                    verdict,
                    name,
                    tool_input,
                    logged_input,
                    truncated,
                    session_id,
                    chat_id,
                    user_id,
                    cwd,
                    read_only=read_only,
                    mode=mode,
                )
        except Exception as error:
            logger.error("gate_failed", tool_name=name, error=repr(error), exc_info=error)
            decision = GateDecision(
                allowed=False,
                reason=f"Denied: the safety gate failed ({type(error).__name__}).",
                violation_type="error",
            )
            await self._record_failure(decision, name, tool_input, session_id)
        if self._bus.generation != self._heard_at:  # something was awaited since it was read
            self._hear()
        if self._announced and self._heard(decision):
            await self._announce(decision, name, tool_input, session_id, chat_id)
        elif not decision.allowed:
            # Nobody hears it: no event is built (an emit reaching no handler does
            # nothing). An allowed call has its audit entry and no log line: one per
            # call, at a level hardly anyone shows, was a cost on every call.
            _log_denied(decision, name)
        return decision

    def _hear(self) -> None:
        """Read which of the gate's events are heard, once per change of the bus's
        subscriptions (`EventBus.generation`): an event nobody hears is not built."""
        bus = self._bus
        listened = bus.listened
        self._gated_heard = listened(TOOL_GATED)
        self._allowed_heard = listened(TOOL_ALLOWED)
        self._denied_heard = listened(TOOL_DENIED)
        self._violation_heard = listened(SAFETY_VIOLATION)
        self._resolved_heard = listened(APPROVAL_RESOLVED)
        self._announced = self._allowed_heard or self._denied_heard or self._violation_heard
        self._heard_at = bus.generation

    def _write_final(
        self,
        verdict: Verdict,
        name: str,
        call: str,
        session_id: str,
        cwd: Path | str | None,
    ) -> GateDecision | None:
        """Record an allow or deny settled on the verdict alone (`check`) in one write,
        from the input's JSON text (`_flat_text`) and the text derived once per
        verdict (`_derived`) and per directory; None when the entry needs
        `_record`'s careful path (nothing is written then)."""
        derived = self._derived(verdict)
        final = derived.final
        body = derived.body
        approved = self._sandbox.approved_directories
        tail_of = self._tail_of
        if tail_of[0] is cwd and tail_of[1] is approved:  # `_tail`, spelled out
            tail = self._tails[0]
        else:
            tail = self._tail(cwd, approved, False)
        if final is None or body is None or tail is None:
            return None
        try:
            if self._audit.write_attempt(session_id, name, call, body, tail) is None:
                return None
        except Exception as error:  # noqa: BLE001 - an unrecorded decision must not allow
            return _unrecorded(final, name, error)
        return final

    async def _gate(
        self,
        verdict: Verdict,
        name: str,
        tool_input: Any,
        logged_input: Any,
        truncated: bool,
        session_id: str,
        chat_id: ChatId,
        user_id: UserId | None,
        cwd: Path | str | None,
        *,
        read_only: bool,
        mode: str | None,
    ) -> GateDecision:
        """The rest of `check` for a verdict something may still change: the plugins'
        gate hooks, tool.gated's handlers, the chat's mode, learned rules or a person."""
        # Learned rules, edit mode and scope offers are kept per approved
        # directory and answer only a policy's ask (`_asking_parts`); resolving
        # the directory costs a walk of the path, so only an ask pays for it.
        directory = (
            self._approved_directory(cwd) if verdict.decision is Action.REQUIRE_APPROVAL else None
        )
        try:
            reviewer = self._reviewer
            if (
                reviewer is not None
                and reviewer.active
                and verdict.decision is not Action.DENY
                and name not in INTERACTIVE_TOOLS  # a person answers those anyway
            ):
                verdict = await _reviewed(
                    reviewer, verdict, name, logged_input, session_id, chat_id, user_id
                )
            asks = verdict.decision is Action.REQUIRE_APPROVAL
            if (read_only or mode == "plan") and asks and not _writes_a_plan(name, tool_input):
                verdict = _plan_mode_denial(verdict)
            if self._bus.listened(TOOL_GATED):  # an event nobody hears is not built
                await self._bus.emit(
                    Event(
                        name=TOOL_GATED,
                        data={
                            "session_id": session_id,
                            "chat_id": chat_id,
                            "tool_name": name,
                            "tool_input": tool_input,
                        },
                    )
                )
            decision = await self._settle(
                verdict,
                name,
                session_id,
                chat_id,
                user_id,
                tool_input,
                cwd,
                mode=mode,
                directory=directory,
            )
        except asyncio.CancelledError:
            # The request was cancelled (while a person was being asked, or
            # while tool.gated was delivered): the call did not run, and the
            # record says so.
            await self._record_cancelled(
                verdict, self._derived(verdict), name, logged_input, session_id, cwd, truncated
            )
            raise
        derived = self._derived(verdict)
        return await self._record(
            decision,
            derived.summary,
            derived.fields(decision),
            name,
            logged_input,
            session_id,
            cwd,
            truncated,
        )

    async def _refuse_unasked(
        self,
        verdict: Verdict,
        name: str,
        logged_input: Any,
        truncated: bool,
        session_id: str,
        chat_id: ChatId,
        cwd: Path | str | None,
    ) -> GateDecision:
        """`_gate` for an ask nobody can answer (see `check`): the same records and
        decision, built from the verdict and the refusal's approval id alone."""
        derived = self._derived(verdict)
        approvals = self._approvals
        audit = self._audit
        if audit.writes_in_place and not self._resolved_heard:
            # Nothing is heard and nothing awaited between the refusal's `approval`
            # entry and the call's own: both go to the log in one write.
            approval_id, entry = approvals.refusal(
                session_id=session_id, chat_id=chat_id, tool_name=name
            )
            decision, fields = derived.refused(approval_id)
            tail = self._tail(cwd, self._pipeline.sandbox.approved_directories, truncated)
            written = None
            try:
                if tail is not None:
                    written = audit.write_tool_attempt(
                        session_id,
                        name,
                        logged_input,
                        derived.summary,
                        fields,
                        tail,
                        first=("approval", entry),
                    )
            except AuditError as error:  # neither entry is written; the call is denied
                await approvals.refused(
                    approval_id,
                    session_id=session_id,
                    chat_id=chat_id,
                    tool_name=name,
                    error=error,
                )
                logger.error("tool_attempt_not_logged", tool_name=name, error=repr(error))
                return decision
            if written is None:
                # A value needs the log's careful path: the entries one by one (in
                # place, so nothing is awaited and no cancellation can come between).
                failed: AuditError | None = None
                try:
                    await audit.log_now("approval", entry)
                except AuditError as failure:
                    failed = failure
                await approvals.refused(
                    approval_id,
                    session_id=session_id,
                    chat_id=chat_id,
                    tool_name=name,
                    error=failed,
                )
                return await self._record(
                    decision,
                    derived.summary,
                    fields,
                    name,
                    logged_input,
                    session_id,
                    cwd,
                    truncated,
                )
            await approvals.refused(
                approval_id, session_id=session_id, chat_id=chat_id, tool_name=name
            )
            return decision
        try:
            approval_id = await approvals.refuse_unasked(
                session_id=session_id, chat_id=chat_id, tool_name=name
            )
        except asyncio.CancelledError:
            await self._record_cancelled(
                verdict, derived, name, logged_input, session_id, cwd, truncated
            )
            raise
        decision, fields = derived.refused(approval_id)
        return await self._record(
            decision, derived.summary, fields, name, logged_input, session_id, cwd, truncated
        )

    async def _settle(
        self,
        verdict: Verdict,
        tool_name: str,
        session_id: str,
        chat_id: ChatId,
        user_id: UserId | None,
        tool_input: Any = None,
        cwd: Path | str | None = None,
        *,
        mode: str | None = None,
        directory: str | None = None,
    ) -> GateDecision:
        """Turn the verdict into a final decision: learned rules, the mode, or a person."""
        if verdict.decision is not Action.REQUIRE_APPROVAL and (
            verdict.decision is Action.DENY or tool_name not in INTERACTIVE_TOOLS
        ):
            # An allow or deny no person answers: a function of the verdict alone.
            final = self._derived(verdict).final
            assert final is not None  # built for every verdict that does not ask
            return final
        base = _decision_fields(verdict)
        if verdict.decision is Action.ALLOW:  # the agent asks a person something
            return await self._ask_person(
                verdict, tool_name, tool_input, session_id, chat_id, user_id, base
            )
        asking = _asking_parts(verdict)
        vouched = asking is not None and not verdict.problems
        if vouched and asking is not None and verdict.classification is not None:
            rules = self._learned.covering(
                verdict.classification, asking, chat_id=str(chat_id), directory=directory
            )
            if rules:
                self._learned.record_use(rules)
                ids = tuple(rule.id for rule in rules)
                return GateDecision(
                    allowed=True,
                    reason=f"Approved by learned rule {', '.join(ids)} ({verdict.reason})",
                    approval="learned",
                    learned_rules=ids,
                    **{**base, "layer": "learned"},
                )
        if vouched and mode == "edit" and tool_name in EDIT_MODE_TOOLS:
            return GateDecision(
                allowed=True,
                reason=f"Approved by edit mode ({verdict.reason})",
                approval="mode:edit",
                **{**base, "layer": "mode"},
            )
        # A request nobody can be asked is refused unasked: its description and
        # preview are never shown, and nobody can answer "always" to it, so none
        # of them (nor the scopes "always" would offer) is built. Nothing is
        # awaited between this test and the request's own, so a chat that
        # connects meanwhile is not missed.
        offers: tuple[ScopeOffer, ...] = ()
        description = ""
        preview = None
        if self._approvals.can_ask:
            if vouched and asking and verdict.classification is not None and directory is not None:
                offers = offer_scopes(verdict.classification, [p for _, p in asking], directory)
            description = describe_for_approval(tool_name, verdict)
            preview = await self._preview(tool_name, tool_input, verdict, cwd)
        result = await self._approvals.request(
            session_id=session_id,
            chat_id=chat_id,
            tool_name=tool_name,
            description=description,
            owner=user_id,
            preview=preview,
        )
        self._remember_offers(result.approval_id, chat_id, offers)
        if result.approved:
            return GateDecision(
                allowed=True,
                reason=f"Approved by the user ({verdict.reason})",
                approval=result.outcome.value,
                approval_id=result.approval_id,
                **base,
            )
        return GateDecision(
            allowed=False,
            reason=f"Denied: {verdict.reason} — {result.reason}.",
            violation_type="approval",
            approval=result.outcome.value,
            approval_id=result.approval_id,
            **base,
        )

    def _approved_directory(self, cwd: Path | str | None) -> str | None:
        """The approved directory the call works in (learned rules are kept per directory)."""
        approved = self._pipeline.sandbox.approved_directories
        if cwd is None:
            return approved[0] if approved else None
        try:
            resolved = str(Path(cwd).expanduser().resolve())
        except (OSError, RuntimeError, ValueError):
            return None
        inside = [d for d in approved if resolved == d or resolved.startswith(d.rstrip("/") + "/")]
        return max(inside, key=len) if inside else None

    async def _ask_person(
        self,
        verdict: Verdict,
        tool_name: str,
        tool_input: Any,
        session_id: str,
        chat_id: ChatId,
        user_id: UserId | None,
        base: dict[str, Any],
    ) -> GateDecision:
        """The agent's questions or plan, put to the person; their answer is the decision."""
        prompt = parse_prompt(tool_name, tool_input)
        if not isinstance(prompt, AgentPrompt):
            return GateDecision(
                allowed=False,
                reason=f"Denied: {prompt}.",
                violation_type="invalid_input",
                **base,
            )
        result = await self._approvals.request(
            session_id=session_id,
            chat_id=chat_id,
            tool_name=tool_name,
            description=_prompt_text(prompt),
            owner=user_id,
            prompt=prompt,
        )
        common = {**base, "approval": result.outcome.value, "approval_id": result.approval_id}
        if not result.approved:
            return GateDecision(
                allowed=False,
                reason=f"Denied: {result.reason}.",
                violation_type="approval",
                **common,
            )
        if prompt.kind == "plan":
            mode = result.next_mode or "default"
            return GateDecision(
                allowed=True,
                reason=f"The user approved the plan; work on in {mode} mode.",
                next_mode=mode,
                **common,
            )
        return GateDecision(
            allowed=True,
            reason="The user answered.",
            updated_input=answers_input(tool_input, result.answers or {}),
            **common,
        )

    async def _preview(
        self, tool_name: str, tool_input: Any, verdict: Verdict, cwd: Path | str | None
    ) -> ApprovalPreview:
        """What the person is shown; built only when asking.

        A preview that reads a file (the file an edit changes) is built in a
        thread, bounded in time: a slow disk must not hold the ask back. One
        built from the call alone (a command, a URL) cannot block and is built
        here, sparing the thread hop, which costs more than building it.
        """
        if not isinstance(tool_input, Mapping):
            return note_preview(tool_name, "the input is not an object", verdict)
        approved = self._pipeline.sandbox.approved_directories
        project = cwd if cwd is not None else (approved[0] if approved else None)
        if tool_name in FILE_FREE_PREVIEWS:
            return build_preview(tool_name, tool_input, verdict, project=project)
        work = asyncio.to_thread(build_preview, tool_name, tool_input, verdict, project=project)
        try:
            async with asyncio.timeout(_PREVIEW_SECONDS):
                return await work
        except TimeoutError:
            return note_preview(tool_name, "no preview: reading the file took too long", verdict)

    async def _record_cancelled(
        self,
        verdict: Verdict,
        derived: _Derived,
        tool_name: str,
        tool_input: Any,
        session_id: str,
        cwd: Path | str | None,
        truncated: bool,
    ) -> None:
        """Record a call whose request was cancelled before it was settled: it did not run."""
        cancelled = GateDecision(
            allowed=False,
            reason=f"Denied: {verdict.reason} — the request was cancelled.",
            violation_type="approval",
            approval="cancelled",
        )
        await self._record(
            cancelled,
            derived.summary,
            derived.fields(cancelled),
            tool_name,
            tool_input,
            session_id,
            cwd,
            truncated,
        )

    async def _record(
        self,
        decision: GateDecision,
        summary: JSONText,
        fields: JSONText | dict[str, Any],
        tool_name: str,
        tool_input: Any,
        session_id: str,
        cwd: Path | str | None,
        truncated: bool,
    ) -> GateDecision:
        """One tool_attempt entry per call; an unrecorded allow becomes a deny.

        `summary` and `fields` are the entry's `classification` and `decision`
        (`_Derived`); `tool_input` is the copy made for the log; `truncated` says
        whether making it cut anything (replay skips those entries).
        """
        try:
            approved = self._pipeline.sandbox.approved_directories
            tail = self._tail(cwd, approved, truncated)
            # Written in place, in one pass, when it can be (`write_tool_attempt`);
            # else as `log_tool_attempt` writes any entry (`log_now` says why
            # writing without a turn of the event loop is safe).
            if (
                tail is None
                or self._audit.write_tool_attempt(
                    session_id, tool_name, tool_input, summary, fields, tail
                )
                is None
            ):
                await self._audit.log_tool_attempt(
                    session_id=session_id,
                    tool_name=tool_name,
                    tool_input=tool_input,
                    classification=summary,
                    decision=fields,
                    in_place=True,
                    **_tail_fields(cwd, approved, truncated),
                )
        except Exception as error:  # noqa: BLE001 - an unrecorded decision must not allow
            return _unrecorded(decision, tool_name, error)
        return decision

    def _tail(
        self, cwd: Path | str | None, approved: tuple[str, ...], truncated: bool
    ) -> JSONText | None:
        """The fields the call's entry ends with, as JSON (`_tails`), kept per directory."""
        tail_of = self._tail_of
        if tail_of[0] is not cwd or tail_of[1] is not approved:
            self._tails = _tails(cwd, approved)
            self._tail_of = (cwd, approved)
        return self._tails[truncated]

    def _derived(self, verdict: Verdict) -> _Derived:
        """What the gate derives from a verdict alone, kept while the verdict is reused.

        The pipeline hands back the same verdict object for a repeated identical
        call (see `decision_cache`); its summary and its allow or deny are then the
        same too, and are built once. Kept only while the verdict lives: the gate
        holds it weakly (`_Derived` is the weak reference), so a verdict the
        pipeline lets go of is freed then, with what was derived from it, not on
        some later call that evicts it here.
        """
        by_verdict = self._by_verdict
        kept = by_verdict.get(id(verdict))
        if kept is not None and kept() is verdict:
            return kept
        derived = _Derived(verdict, self._forget)
        by_verdict[derived.key] = derived
        if len(by_verdict) > _DERIVED_KEPT:
            del by_verdict[next(iter(by_verdict))]  # the oldest (dicts keep their order)
        return derived

    def _forget_derived(self, derived: _Derived) -> None:
        # Called as the verdict is freed, before its id can be reused.
        by_verdict = self._by_verdict
        if by_verdict.get(derived.key) is derived:
            del by_verdict[derived.key]

    async def _record_failure(
        self, decision: GateDecision, tool_name: str, tool_input: Any, session_id: str
    ) -> None:
        try:
            await self._audit.log_tool_attempt(
                session_id=session_id,
                tool_name=tool_name,
                tool_input=_bounded(tool_input),
                classification=None,
                decision={"allowed": False, "reason": decision.reason, "layer": "error"},
            )
        except Exception as error:  # noqa: BLE001 - already denying; the log line is what's left
            logger.error("tool_attempt_not_logged", tool_name=tool_name, error=repr(error))

    def _heard(self, decision: GateDecision) -> bool:
        """Whether an event `_announce` would emit for `decision` reaches any handler."""
        if decision.allowed:
            return self._allowed_heard
        return self._denied_heard or (
            self._violation_heard and decision.violation_type == "sandbox"
        )

    async def _announce(
        self,
        decision: GateDecision,
        tool_name: str,
        tool_input: Any,
        session_id: str,
        chat_id: ChatId,
    ) -> None:
        """Emit tool.allowed or tool.denied (and safety.violation for a sandbox denial);
        called only when one of them is heard (`_heard`)."""
        data: dict[str, Any] = {
            "session_id": session_id,
            "chat_id": chat_id,
            "tool_name": tool_name,
            "rule": decision.rule,
            "layer": decision.layer,
            "risk_level": decision.risk_level,
        }
        if decision.allowed:
            data["tool_input"] = tool_input
            data["approval"] = decision.approval
            await self._bus.emit(_event(TOOL_ALLOWED, data))
            return
        violation_type = decision.violation_type or "policy"
        data["reason"] = decision.reason
        data["violation_type"] = violation_type
        # Each event gets a dict of its own, copied before a handler could change the first.
        violation = dict(data) if violation_type == "sandbox" else None
        if self._bus.listened(TOOL_DENIED):
            await self._bus.emit(_event(TOOL_DENIED, data))
        if violation is not None and self._bus.listened(SAFETY_VIOLATION):
            await self._bus.emit(_event(SAFETY_VIOLATION, violation))
        _log_denied(decision, tool_name)


def _unrecorded(decision: GateDecision, tool_name: str, error: Exception) -> GateDecision:
    """`decision` once its entry could not be written: an allow becomes a deny."""
    logger.error("tool_attempt_not_logged", tool_name=tool_name, error=repr(error))
    if decision.allowed:
        return decision.model_copy(
            update={
                "allowed": False,
                "reason": "Denied: the decision could not be written to the audit log.",
                "violation_type": "error",
            }
        )
    return decision


def _log_denied(decision: GateDecision, tool_name: str) -> None:
    # Asked first: where INFO is not shown (the REPL, the bench, `tether check`),
    # the line's values are not gathered and the call not made.
    if not logger.is_enabled_for(_INFO):
        return
    logger.info(
        "tool_denied",
        tool_name=tool_name,
        violation_type=decision.violation_type or "policy",
        rule=decision.rule,
    )


class _Derived(weakref.ref):  # type: ignore[type-arg]
    """What the gate derives from a verdict alone: its audit summary and, for a
    verdict that does not ask, the final decision and its `decision` audit field.

    Built at once, in one go: every call records the summary, and a verdict that
    does not ask is settled on `final` (or, for the agent's questions to a
    person, is not, which is rare enough to pay for an unused decision). The
    audit fields are written as JSON text from literal keys (`JSONText`): the
    same text the log would write for the objects, without building them.

    It is itself the weak reference to its verdict (called, it returns the
    verdict, or None once freed): one object per verdict, where a reference, a
    closure for its callback and a holder were three. `callback` receives it as
    the verdict is freed (the gate then forgets it, by its `key`).
    """

    __slots__ = ("_judged", "_summary", "body", "final", "key")
    key: int
    _summary: str | None
    """The summary as JSON text; for a verdict that does not ask, None until it is
    asked for (`summary`): most calls write only `body`, which holds it."""
    final: GateDecision | None
    """The decision settled on the verdict alone (None for an ask)."""
    _judged: str | None
    """`, "classification": SUMMARY, "decision": FIELDS` (None for an ask): the two
    fields as the entry writes them, split at `_DECISION_JOINT` (`_split`)."""
    body: str | None

    def __init__(
        self, verdict: Verdict, callback: Callable[[_Derived], None] | None = None
    ) -> None:
        # (`weakref.ref.__new__` took the verdict and the callback; its `__init__`
        # only checks them again, and is not called.)
        self.key = id(verdict)
        # Every field read at once from the model's own dict: a pydantic model's
        # attribute goes through its `__getattr__` hook, a dict item does not.
        values = verdict.__dict__
        action = values["decision"]
        classification = values["classification"]
        risk_facts = values["risk_facts"]
        risk_level = values["risk_level"]
        problems = values["problems"]
        # The summary's fields, each as JSON, after its first (the risk level): the
        # summary alone for an ask, and inside the two judged fields otherwise.
        facts = _strings(risk_facts) if risk_facts else "[]"
        rest = f', "problems": {_strings([p.message for p in problems[:5]])}}}' if problems else "}"
        if classification is None:
            listed = ""
        else:
            parts = classification.parts
            if len(parts) == 1:  # most calls: one command, one path
                part = parts[0]
                kinds = _kinds(part.facts) if part.facts else "[]"
                listed = (
                    f', "kind": {_ENCODED[classification.kind]}, '
                    f'"parts": [{{"command": {json_string(part.text)}, "facts": {kinds}}}]'
                )
            else:
                listed = f', "kind": {_ENCODED[classification.kind]}, "parts": [{_parts(parts)}]'
        if action is _ASK:
            self._summary = (
                f'{{"risk_level": {_ENCODED[risk_level]}, "risk_facts": {facts}{listed}{rest}'
            )
            self.final = self._judged = self.body = None
            return
        self._summary = None
        layer = values["layer"]
        rule = values["rule"]
        allowed = action is _ALLOW
        # The model as validation builds it (`_built`): every field, in the
        # model's order, from a copy of the template of an allow or a deny
        # (`_ALLOWED`, `_DENIED`) where only what comes from the verdict is set:
        # copying the template and setting seven keys costs less than a literal
        # of all fourteen (~1.6k instructions). `_value_` is the member's plain
        # string (what `.value` returns), read without the enum's descriptor call.
        if allowed:
            reason = values["reason"]
            fields_of_final = _ALLOWED.copy()
        else:
            reason = f"Denied: {values['reason']}"
            fields_of_final = _DENIED.copy()
            fields_of_final["violation_type"] = values["violation_type"] or "policy"
        fields_of_final["reason"] = reason
        fields_of_final["classification"] = classification
        fields_of_final["decision"] = action._value_
        fields_of_final["layer"] = layer._value_
        fields_of_final["rule"] = rule
        fields_of_final["risk_level"] = risk_level._value_
        fields_of_final["risk_facts"] = risk_facts
        self.final = _built(fields_of_final, _ALLOW_FIELDS if allowed else _DENY_FIELDS)
        # The two fields as the entry writes them (`attempt_body`), the summary
        # written inside them (not first on its own and then copied in): the part
        # of the line the verdict decides, written once per verdict and shared by
        # every reuse of it (the log encodes it and keeps nothing).
        judged = self._judged = (
            f', "classification": {{"risk_level": {_ENCODED[risk_level]}, '
            f'"risk_facts": {facts}{listed}{rest}{_DECISION_JOINT}'
            f"{'true' if allowed else 'false'}, "
            f'"decision": {_ENCODED[action]}, "layer": {_ENCODED[layer]}, '
            f'"rule": {json_string(rule) if rule is not None else "null"}, '
            f'"reason": {json_string(reason)}, '
            '"approval": null, "approval_id": null, "learned_rules": []}'
        )
        # Fields this short hold no string longer than the log keeps, which is all
        # `attempt_body` looks for; it writes the same text for longer ones or None.
        # (Most are shorter than the limit together: one length then tells; else
        # each field's own length does.)
        if len(judged) <= MAX_STRING_LENGTH:
            self.body = judged
            return
        summary, fields = self._split()
        if len(summary) <= MAX_STRING_LENGTH and len(fields) <= MAX_STRING_LENGTH:
            self.body = judged
        else:
            self.body = attempt_body(JSONText(summary), JSONText(fields))

    def _split(self) -> tuple[str, str]:
        """The summary and the `decision` field, as written in `_judged` (not None).

        The summary ends where the first `_DECISION_JOINT` starts. No JSON string
        holds the joint: each quote inside one is escaped (`\\"`). Outside strings,
        the summary has no `decision` key, and the `decision` field's own
        `"decision"` holds a string, not an object (a test writes commands that
        spell the joint).
        """
        judged = self._judged
        assert judged is not None  # the caller asks only of a verdict that does not ask
        joint = judged.index(_DECISION_JOINT)
        return (
            judged[_SUMMARY_START:joint],
            judged[joint + _FIELDS_START :],
        )

    @property
    def summary(self) -> JSONText:
        """The entry's `classification` field, as JSON text."""
        summary = self._summary
        if summary is None:
            summary = self._summary = self._split()[0]
        return JSONText(summary)

    @property
    def final_fields(self) -> JSONText | None:
        """The entry's `decision` field for `final`, as JSON text (None for an ask)."""
        if self._judged is None:
            return None
        return JSONText(self._split()[1])

    def refused(self, approval_id: str) -> tuple[GateDecision, JSONText | dict[str, Any]]:
        """The decision refusing an ask nobody can answer, and its `decision` audit field.

        What `_settle` builds for it (through `GateDecision(...)` and `fields`),
        built from values already of their types (`_built`); a test
        holds the two equal.
        """
        verdict = self()
        assert verdict is not None  # the caller holds it
        given = verdict.__dict__  # each field read once, without the model's hook
        action = given["decision"]
        layer = given["layer"]
        rule = given["rule"]
        reason = f"Denied: {given['reason']} — {NOBODY_TO_ASK}."
        values = _REFUSED.copy()  # the model's fields in its order; the verdict's set here
        values["reason"] = reason
        values["classification"] = given["classification"]
        values["decision"] = action._value_
        values["layer"] = layer._value_
        values["rule"] = rule
        values["risk_level"] = given["risk_level"]._value_
        values["risk_facts"] = given["risk_facts"]
        values["approval_id"] = approval_id
        decision = _built(values, _REFUSED_FIELDS)
        if type(approval_id) is not str:  # an id factory's odd id: encoded by the log
            return decision, self.fields(decision)
        return decision, JSONText(
            f'{{"allowed": false, "decision": {_ENCODED[action]}, '
            f'"layer": {_ENCODED[layer]}, '
            f'"rule": {json_string(rule) if rule is not None else "null"}, '
            f'"reason": {json_string(reason)}, "approval": "unavailable", '
            f'"approval_id": {json_string(approval_id)}, "learned_rules": []}}'
        )

    def fields(self, decision: GateDecision) -> JSONText | dict[str, Any]:
        """The `decision` field of the call's `tool_attempt` entry for `decision`."""
        if decision is self.final and self._judged is not None:
            return JSONText(self._split()[1])
        verdict = self()
        assert verdict is not None  # the caller holds it
        return {
            "allowed": decision.allowed,
            "decision": verdict.decision._value_,
            "layer": verdict.layer._value_,
            "rule": verdict.rule,
            "reason": decision.reason,
            "approval": decision.approval,
            "approval_id": decision.approval_id,
            "learned_rules": list(decision.learned_rules),
        }


# Between the summary and the `decision` field in `_Derived._judged`, up to the
# field's first value; where the summary starts in it, and the field past the joint.
_DECISION_JOINT = ', "decision": {"allowed": '
_SUMMARY_START = len(', "classification": ')
_FIELDS_START = len(', "decision": ')

# Every value the gate's audit summary takes from an enum, as a JSON string, built once.
_ENCODED: dict[str, str] = {
    member: json_string(member.value)
    for kind in (Action, Layer, RiskLevel, ToolKind)
    for member in kind
}


def _strings(values: tuple[str, ...] | list[str]) -> str:
    """A list of strings as JSON."""
    if len(values) == 1:  # most often a risk fact's kind, already written (`_ONE_KIND`)
        return _ONE_KIND.get(values[0]) or f"[{json_string(values[0])}]"
    return f"[{', '.join(map(json_string, values))}]"


def _parts(parts: tuple[CallPart, ...]) -> str:
    """The summary's `parts` (up to 20) as JSON, without the brackets (`_Derived` writes
    a single part itself).

    A loop of one piece per part: most lines have two or three parts, and a join of
    the texts of parts without facts (with a test of every part for facts first)
    cost more up to seven.
    """
    texts = []
    for part in parts[:20]:
        facts = part.facts
        texts.append(
            f'{{"command": {json_string(part.text)}, "facts": {_kinds(facts) if facts else "[]"}}}'
        )
    return ", ".join(texts)


# A part's facts of one known kind (most of them), as JSON, from the fact table.
_ONE_KIND = {kind: f"[{json_string(kind)}]" for kind in FACTS}


def _kinds(facts: tuple[RiskFact, ...]) -> str:
    """A part's fact kinds as the summary lists them: sorted, each once, as JSON."""
    if not facts:
        return "[]"
    if len(facts) == 1:
        kind = facts[0].kind
        return _ONE_KIND.get(kind) or f"[{json_string(kind)}]"
    return _strings(sorted({fact.kind for fact in facts}))


def _tail_fields(
    cwd: Path | str | None, approved: tuple[str, ...], truncated: bool
) -> dict[str, Any]:
    """The fields every tool_attempt entry ends with, in their order."""
    return {
        "cwd": str(cwd) if cwd is not None else (approved[0] if approved else None),
        "approved_directories": JSONText(_strings(approved) if approved else "[]"),
        "input_truncated": truncated,
    }


def _tails(
    cwd: Path | str | None, approved: tuple[str, ...]
) -> tuple[JSONText | None, JSONText | None]:
    """The entry's last fields as JSON text (`fields_text`), for an input kept whole and
    for one cut; None where a value needs the log's careful path."""
    return (
        fields_text(_tail_fields(cwd, approved, False)),
        fields_text(_tail_fields(cwd, approved, True)),
    )


_ALLOW_FIELDS = frozenset(
    {"allowed", "reason", "classification", "decision", "layer", "rule", "risk_level"}
    | {"risk_facts"}
)
_DENY_FIELDS = _ALLOW_FIELDS | {"violation_type"}
_REFUSED_FIELDS = _DENY_FIELDS | {"approval", "approval_id"}
# The fields of a decision settled on the verdict alone, in the model's order:
# copied, with what comes from the verdict set in the copy (`_Derived`).
_ALLOWED: dict[str, Any] = {
    "allowed": True,
    "reason": "",
    "updated_input": None,
    "classification": None,
    "decision": "",
    "layer": "",
    "rule": None,
    "risk_level": "",
    "risk_facts": (),
    "violation_type": None,
    "approval": None,
    "approval_id": None,
    "next_mode": None,
    "learned_rules": (),
}
_DENIED = {**_ALLOWED, "allowed": False}
_REFUSED = {**_DENIED, "violation_type": "approval", "approval": "unavailable"}


def _built(values: dict[str, Any], fields_set: frozenset[str]) -> GateDecision:
    """A GateDecision holding `values` (every field, in the model's order), as if
    validated with the fields `fields_set` given.

    Not validated again, and not `model_construct` (which resolves each default
    in Python and costs more than validating): every value is already of its
    field's type, taken from a validated Verdict (str, str | None, tuple of str)
    or a literal. It is made as the pipeline makes its models (`built`); a test
    checks that the result equals the validated model.
    """
    return built(GateDecision, values, fields_set)


_EVENT_FIELDS = frozenset({"name", "data"})


def _event(name: str, data: dict[str, Any]) -> Event:
    """The Event `Event(name=name, data=data)` builds, stamped now, for a dict of the
    gate's own making (str keys) that nothing else holds; `_built` says why it is
    not validated again (validating copies the dict and costs ~1.8 µs per event).
    A test holds the two equal."""
    return built(Event, {"name": name, "data": data, "timestamp": datetime.now(UTC)}, _EVENT_FIELDS)


def _decision_fields(verdict: Verdict) -> dict[str, Any]:
    """What every `GateDecision` carries over from the verdict it settles."""
    return {
        "classification": verdict.classification,
        "decision": verdict.decision._value_,
        "layer": verdict.layer._value_,
        "rule": verdict.rule,
        "risk_level": verdict.risk_level._value_,
        "risk_facts": verdict.risk_facts,
    }


async def _reviewed(
    reviewer: GateReviewer,
    verdict: Verdict,
    tool_name: str,
    logged_input: Any,
    session_id: str,
    chat_id: ChatId,
    user_id: UserId | None,
) -> Verdict:
    """The verdict after the plugins' gate hooks: the same, or tightened (never loosened)."""
    allows = verdict.decision is Action.ALLOW
    review = await reviewer.review(
        GateCall(
            tool_name=tool_name,
            # A copy of its own: a hook that changes it changes neither the call nor the record.
            tool_input=_bounded(logged_input),
            session_id=session_id,
            chat_id=chat_id,
            user_id=user_id,
            decision="allow" if allows else "ask",
            reason=verdict.reason,
            risk_facts=verdict.risk_facts,
            request_cost=None,
        )
    )
    if review is None:
        return verdict
    reason = f"{review.reason} (plugin {review.plugin})"
    if not allows and review.action == "ask":
        reason = f"{verdict.reason}; {reason}"
    if review.action == "deny":
        return verdict.model_copy(
            update={
                "decision": Action.DENY,
                "layer": Layer.PLUGIN,
                "rule": f"plugin:{review.plugin}",
                "reason": reason,
                "violation_type": "plugin",
            }
        )
    # An ask from a plugin (even on a call the policy asks about) goes to a person:
    # its layer keeps learned rules and edit mode from answering it.
    return verdict.model_copy(
        update={
            "decision": Action.REQUIRE_APPROVAL,
            "layer": Layer.PLUGIN,
            "rule": f"plugin:{review.plugin}",
            "reason": reason,
        }
    )


def _writes_a_plan(tool_name: str, tool_input: Any) -> bool:
    """A file tool writing inside Claude Code's plan directory (what plan mode is for)."""
    if tool_name not in {"Write", "Edit", "MultiEdit"} or not isinstance(tool_input, dict):
        return False
    target = tool_input.get("file_path")
    if not isinstance(target, str) or not target:
        return False
    plans = Path(CLAUDE_PLANS_DIRECTORY).expanduser().resolve()
    try:
        return Path(target).expanduser().resolve().is_relative_to(plans)
    except (OSError, ValueError):
        return False


def _plan_mode_denial(verdict: Verdict) -> Verdict:
    return verdict.model_copy(
        update={
            "decision": Action.DENY,
            "reason": f"plan mode: the agent plans without changing anything ({verdict.reason}); "
            "send /plan to leave plan mode",
            "violation_type": "plan_mode",
        }
    )


def describe_for_approval(tool_name: str, verdict: Verdict) -> str:
    """A short request a person can read on a phone: the call, the rule and the risk."""
    classification = verdict.classification
    subject = ""
    if classification is not None:
        if classification.command is not None:
            subject = classification.command
        elif classification.parts and classification.parts[0].text:
            subject = classification.parts[0].text
    if len(subject) > _MAX_SHOWN:
        subject = subject[: _MAX_SHOWN - 1] + "…"
    lines = [f"🔐 {tool_name}" + (f": {subject}" if subject else "")]
    why = verdict.reason.split(" [", 1)[0] if " [" in verdict.reason else verdict.reason
    if len(why) > 200:
        why = why[:199] + "…"
    lines.append(f"Why: {why}" + (f" (rule {verdict.rule})" if verdict.rule else ""))
    facts = ", ".join(verdict.risk_facts[:4])
    lines.append(f"Risk: {verdict.risk_level.value}" + (f" — {facts}" if facts else ""))
    return "\n".join(lines)


def _asking_parts(verdict: Verdict) -> list[tuple[int, CallPart]] | None:
    """The parts the policy asks about, or None when one of them may never be learned."""
    decision = verdict.policy_decision
    classification = verdict.classification
    if decision is None or classification is None or verdict.layer is not Layer.POLICY:
        return None
    if NEVER_AUTO_ALLOWED & set(verdict.risk_facts) or classification.facts:
        return None
    parts = classification.parts
    asking = [
        (index, parts[index])
        for index, part in enumerate(decision.parts)
        if part.action is Action.REQUIRE_APPROVAL and index < len(parts)
    ]
    if any(p.action is Action.DENY for p in decision.parts) or len(decision.parts) > len(parts):
        return None
    return asking


_LOGGED_AS_IS = (bool, int, float, type(None))


def _flat(tool_input: Any) -> bool:
    """Whether the input is what agents send: a flat object of at most `_MAX_ITEMS`
    short keys and ASCII text or scalars. `_bounded` keeps every key and value of
    one as it is (the same objects), so its copy for the log is a shallow one, and
    nothing is cut."""
    if type(tool_input) is not dict or len(tool_input) > _MAX_ITEMS:
        return False
    for key, value in tool_input.items():
        if type(key) is not str or len(key) > _MAX_KEY:
            return False
        if type(value) is str:
            if not value.isascii():
                return False
        elif type(value) not in _LOGGED_AS_IS:
            return False
    return True


# The fields of the tools Tether knows, each as `_flat_text` writes its key: `"name": `.
_KEY_TEXTS = {field: f"{json_string(field)}: " for spec in TOOLS.values() for field in spec.fields}
# Integers written by `_flat_text`; a longer one (its digits are costly, and past
# Python's limit on them not written at all) takes the log's careful path.
_SHORT_INT = 10**18


def _flat_text(tool_input: Any) -> str | None:
    """A flat input (`_flat`) as JSON text, as its audit entry writes it, made in the
    pass that tells it flat; None for any other input, and for a flat one holding
    a value whose text the log writes itself (a float, a very long integer, a
    string longer than it keeps).

    The entry writes its `tool_input` as `json.dumps(..., ensure_ascii=False)`
    does, every string cut at `MAX_STRING_LENGTH`: with no string that long (and
    keys, at most `_MAX_KEY` characters, are never cut) that is this text: each
    key and value as the JSON encoder writes it, `": "` and `", "` between
    (a test holds the two equal).
    """
    if type(tool_input) is not dict or len(tool_input) > _MAX_ITEMS:
        return None
    text = ""
    for key, value in tool_input.items():
        if type(key) is not str:
            return None
        name = _KEY_TEXTS.get(key)
        if name is None:
            if len(key) > _MAX_KEY:
                return None
            name = f"{json_string(key)}: "
        kind = type(value)
        if kind is str:
            if len(value) > MAX_STRING_LENGTH or not value.isascii():
                return None
            value_text = json_string(value)
        elif kind is bool:
            value_text = "true" if value else "false"
        elif value is None:
            value_text = "null"
        elif kind is int and -_SHORT_INT < value < _SHORT_INT:
            value_text = int.__repr__(value)
        else:
            return None
        # Each item added as it is written (most inputs have one), not kept in a list to join.
        text = f"{text}, {name}{value_text}" if text else f"{{{name}{value_text}"
    return f"{text}}}" if text else "{}"


def _bounded_input(tool_input: Any) -> tuple[Any, bool]:
    """The input as logged, and whether logging cut anything (replay skips those)."""
    if _flat(tool_input):
        return dict(tool_input), False
    logged = _bounded(tool_input)
    try:
        same = logged == tool_input
    except Exception:  # noqa: BLE001 - an input that cannot even be compared was cut
        same = False
    return logged, not same


def _prompt_text(prompt: AgentPrompt) -> str:
    """The prompt in a few plain lines (for connectors that only show text)."""
    if prompt.kind == "plan":
        return "🗺 The agent's plan:\n" + prompt.plan[: _MAX_SHOWN * 10]
    lines = ["❓ The agent asks:"]
    for question in prompt.questions:
        lines.append(question.question)
        lines.extend(f"  • {option.label}" for option in question.options)
    return "\n".join(lines)


def _bounded(value: Any, depth: int = 0) -> Any:
    """A copy of a tool input safe to log: bounded depth and size, JSON types only."""
    if depth > 8:
        return "…"
    if isinstance(value, str):
        if type(value) is str and value.isascii():
            return value  # nothing to replace (a flag on the string: no scan)
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, Mapping):
        items = list(value.items())[:_MAX_ITEMS]
        return {str(k)[:_MAX_KEY]: _bounded(v, depth + 1) for k, v in items}
    if isinstance(value, (list, tuple)):
        return [_bounded(item, depth + 1) for item in list(value)[:_MAX_ITEMS]]
    return repr(value)[:200]
