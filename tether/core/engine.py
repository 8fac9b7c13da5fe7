"""Engine: the lifecycle of one Tether instance, and where messages are routed.

The engine routes; it decides nothing about safety (the gatekeeper does) and
carries nothing (connectors do). It receives every collaborator ready-made from
`build_engine()`.

Every way in (a message, a /command, an approval answer) passes the same
middleware (auth, rate limit) before anything else happens. Messages for one
chat run one at a time, in arrival order; different chats run in parallel.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any, Self

from tether.agents.base import AgentResponse, BaseAgent, OnText, OnToolActivity, ToolActivity
from tether.connectors.base import (
    REASON_MARK,
    ApprovalAnswer,
    ApprovalChoice,
    BaseConnector,
    IncomingMessage,
    ReplyStream,
)
from tether.core.chat_requests import ChatRequests, ChatState
from tether.core.commands import CommandContext, SlashCommands, apply_mode
from tether.core.config import TetherConfig
from tether.core.events import (
    ENGINE_STARTED,
    ENGINE_STOPPED,
    MESSAGE_IN,
    MESSAGE_OUT,
    Event,
    EventBus,
)
from tether.core.interrupted import (
    NOTICES_SENT,
    REQUEST_ENDED,
    REQUEST_STARTED,
    find_cut_short,
)
from tether.core.plugin_tasks import contain_plugin_tasks
from tether.core.request_summary import RequestTally, denial_line
from tether.core.safety.approvals import ApprovalCoordinator
from tether.core.safety.audit import AuditLogger
from tether.core.safety.gatekeeper import GateDecision, ToolGatekeeper
from tether.core.safety.learned import Lifetime
from tether.core.services import CommandServices
from tether.core.session import Session, SessionManager, SessionMode
from tether.core.types import ChatId, UserId
from tether.exceptions import AgentError, SessionError, StorageError, TetherError
from tether.log import get_logger
from tether.middleware.base import MessageContext, MiddlewareChain
from tether.plugins.base import PluginContext
from tether.plugins.registry import PluginRegistry
from tether.storage.base import SessionStore

__all__ = ["Engine"]

logger = get_logger(__name__)

_OFFER_WAIT_STEPS = 200

# A slash command as chat platforms define one: `/name` or `/name@bot`, then a
# space or the end. `/etc/hosts has a typo` is a message, not a command.
OnToolDenied = Callable[[str, str], Awaitable[None]]
"""Told (tool_name, reason) when the gate refuses a call."""

OnToolDecision = Callable[[str, dict[str, Any], GateDecision], Awaitable[None]]
"""Told (tool_name, tool_input, decision) of every gate decision in a request."""

_COMMAND = re.compile(r"^/(?P<name>[A-Za-z0-9_]{1,32})(?:@\w+)?(?=\s|$)")

# How long a cancelled event handler may take at shutdown before it is abandoned.
_HANDLER_GRACE_SECONDS = 1.0

_STOP_GRACE_SECONDS = 5.0

_QUESTION_CHOICES = frozenset({ApprovalChoice.OPTION, ApprovalChoice.DONE, ApprovalChoice.ANSWER})

_QUEUED_NOTICE = "⏳ Queued — I'll start on this when the current request finishes."


class Engine:
    """One running Tether: plugins, event bus, safety pipeline, agent and connector.

    `startup()` initializes and starts the plugins, emits `engine.started` and
    starts the connector; `shutdown()` stops them in reverse. Both are
    idempotent, shutdown is safe after a failed startup, and `async with
    engine:` does both.
    """

    def __init__(
        self,
        *,
        config: TetherConfig,
        event_bus: EventBus,
        plugins: PluginRegistry,
        audit_logger: AuditLogger,
        gatekeeper: ToolGatekeeper,
        approvals: ApprovalCoordinator,
        store: SessionStore,
        sessions: SessionManager,
        middleware: MiddlewareChain,
        commands: SlashCommands,
        services: CommandServices,
        requests: ChatRequests,
        agent: BaseAgent | None = None,
        connector: BaseConnector | None = None,
    ) -> None:
        self.config = config
        self.event_bus = event_bus
        self.plugins = plugins
        self.audit_logger = audit_logger
        self.gatekeeper = gatekeeper
        self.approvals = approvals
        self.store = store
        self.sessions = sessions
        self.middleware = middleware
        self.agent = agent
        self.connector = connector
        self.commands = commands
        # What a command sees of Tether (never the engine itself).
        self.services = services
        self.requests = requests
        self._started = False
        self._stopped = False
        self._store_open = False
        self._connector_started = False

    @property
    def is_running(self) -> bool:
        return self._started and not self._stopped

    # -- lifecycle ---------------------------------------------------------

    async def startup(self) -> None:
        """Open storage, initialize and start every plugin, emit `engine.started`,
        then start the connector.

        Raises:
            PluginError: a plugin failed; the plugins already started are stopped.
            StorageError: the session store could not be opened.
            AuditError: the audit log cannot be written (nothing may run unrecorded).
        """
        if self._started:
            return
        self._started = True
        self._stopped = False
        # Before any plugin runs: a task a plugin starts must not end the process.
        contain_plugin_tasks(asyncio.get_running_loop())
        await self.audit_logger.open()
        await self.store.initialize()
        self._store_open = True
        await self.plugins.init_all(PluginContext(event_bus=self.event_bus, config=self.config))
        await self.plugins.start_all()
        await self.event_bus.emit(Event(name=ENGINE_STARTED))
        if self.connector is not None:
            self.connector.set_handlers(
                on_message=self._on_connector_message,
                on_command=self._on_connector_command,
                on_approval=self.handle_approval,
            )
            await self.connector.start()
            self._connector_started = True
            await self._tell_cut_short()
        logger.info("engine_started", plugins=[info.name for info in self.plugins.describe()])

    async def shutdown(self) -> None:
        """Stop the connector and running requests, emit `engine.stopped`, stop the
        plugins (last first), cancel the event handlers still running (abandoning,
        after a second, those that ignore it), close storage and the agent, flush
        the audit log.

        Safe after a failed or partial startup; keeps going when one part fails.
        """
        if not self._started or self._stopped:
            return
        self._stopped = True
        steps: list[tuple[str, Callable[[], Awaitable[None]]]] = []
        if self._connector_started and self.connector is not None:
            steps.append(("connector", self.connector.stop))
        steps.append(("approvals", self._refuse_open_approvals))
        steps.append(("requests", self._cancel_all_requests))
        steps.append(("events", lambda: self.event_bus.emit(Event(name=ENGINE_STOPPED))))
        steps.append(("plugins", self.plugins.stop_all))
        # Last of the plugins' work: handler tasks still running are cancelled,
        # and those that swallow it abandoned, so the process can exit.
        steps.append(("handlers", lambda: self.event_bus.close(_HANDLER_GRACE_SECONDS)))
        if self.agent is not None:
            steps.append(("agent", self.agent.shutdown))
        if self._store_open:
            steps.append(("storage", self.store.close))
        steps.append(("audit", self.audit_logger.close))
        for name, step in steps:
            try:
                await step()
            except Exception as error:  # noqa: BLE001 - shutdown goes on whatever one part does
                logger.error("shutdown_step_failed", step=name, error=repr(error))
        logger.info("engine_stopped")

    async def __aenter__(self) -> Self:
        await self.startup()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.shutdown()

    # -- messages ----------------------------------------------------------

    async def handle_message(
        self,
        user_id: UserId,
        text: str,
        chat_id: ChatId,
        *,
        on_text: OnText | None = None,
        on_tool_activity: OnToolActivity | None = None,
        on_tool_denied: OnToolDenied | None = None,
        on_tool_decision: OnToolDecision | None = None,
        local: bool = False,
        username: str | None = None,
    ) -> str:
        """Handle one message from a person and return the reply text.

        Emits `message.in` first, runs the middleware (a refusal is the reply),
        then the chat's session on the agent with every tool call gated, and
        emits `message.out` with the reply. A `/command` is run as a command.
        Messages for a chat that is busy wait their turn, in order.
        `on_tool_denied(tool_name, reason)` hears of every call the gate refused
        except those the person rejected themselves (they know already), an
        expired approval included; `on_tool_decision` hears of every decision.
        """
        bus = self.event_bus
        # Built only when a handler would receive it: an emit nobody hears does nothing.
        if bus.listened(MESSAGE_IN):
            await bus.emit(
                Event(name=MESSAGE_IN, data={"user_id": user_id, "chat_id": chat_id, "text": text})
            )
        command = _COMMAND.match(text)
        is_command = command is not None
        context = MessageContext(
            user_id=user_id,
            chat_id=chat_id,
            text=text,
            kind="command" if is_command else "message",
            local=local,
            username=username,
        )
        refusal = await self.middleware.check(context)
        reason = None
        # What the agent reported the request cost; None when no request ran.
        cost: float | None = None
        if refusal is None and command is None and self.approvals.awaits_reason(chat_id):
            reason = await self.approvals.take_reason(chat_id, user_id, text)
        if refusal is not None:
            # A quiet refusal (the person was told moments ago) has no reply: "".
            reply = refusal.reply or ""
        elif reason is not None:
            reply = reason.message
        elif command is not None:
            args = tuple(text[command.end() :].split())
            reply = await self._run_command(context, command.group("name"), args)
        else:
            reply, cost = await self._run_in_chat(
                context, on_text, on_tool_activity, on_tool_denied, on_tool_decision
            )
        if bus.listened(MESSAGE_OUT):
            await bus.emit(
                Event(
                    name=MESSAGE_OUT,
                    data={"user_id": user_id, "chat_id": chat_id, "text": reply, "cost": cost},
                )
            )
        return reply

    async def handle_approval(self, answer: ApprovalAnswer) -> str:
        """Apply a person's answer to an approval request; returns the outcome to show.

        The answer passes the same middleware as a message. A refused, repeated,
        expired or foreign answer changes nothing and says why.
        """
        context = MessageContext(
            user_id=answer.user_id,
            chat_id=answer.chat_id,
            text=f"approval {answer.approval_id} {answer.choice.value}",
            kind="approval",
            local=answer.local,
            username=answer.username,
        )
        refusal = await self.middleware.check(context)
        if refusal is not None:
            return refusal.reply or "Not allowed."
        if answer.scope is not None:
            # The second step of "always": the scope (and lifetime) the person chose.
            lifetime = Lifetime.REMEMBERED if answer.remember else Lifetime.CHAT
            return await self.gatekeeper.learn(
                answer.approval_id,
                answer.scope,
                lifetime,
                chat_id=answer.chat_id,
                user_id=answer.user_id,
            )
        who = f"@{answer.username}" if answer.username else "you"
        if answer.choice in _QUESTION_CHOICES:
            return await self._answer_question(answer, who)
        if answer.choice in {ApprovalChoice.REJECT_WITH_REASON, ApprovalChoice.KEEP_PLANNING}:
            waiting = await self.approvals.await_reason(answer.approval_id, answer.user_id)
            if not waiting.accepted:
                return waiting.message
            if answer.value:
                # The reason or feedback came with the answer (the web page's field):
                # no second message.
                taken = await self.approvals.take_reason(
                    answer.chat_id, answer.user_id, answer.value, approval_id=answer.approval_id
                )
                if taken is not None and answer.choice is ApprovalChoice.KEEP_PLANNING:
                    return f"❌ Kept planning ({who}); the agent is told: “{answer.value}”"
                if taken is not None:
                    return f"❌ Rejected by {who}; the agent is told: “{taken.message}”"
            if answer.choice is ApprovalChoice.KEEP_PLANNING:
                return (
                    f"{REASON_MARK} Keep planning: send your feedback as your next message; "
                    "the agent gets it. Without one, the plan is refused at its timeout."
                )
            return (
                f"{REASON_MARK} Rejecting: send the reason as your next message, and the agent "
                "gets it as the answer. Without one, the request is denied at its timeout."
            )
        approved = answer.choice is not ApprovalChoice.REJECT
        edit = answer.choice is ApprovalChoice.APPROVE_EDIT
        result = await self.approvals.resolve(
            answer.approval_id, approved, answer.user_id, next_mode="edit" if edit else "default"
        )
        if not result.accepted:
            return result.message
        if edit:
            return f"✅ Approved by {who}; working on in edit mode"
        if answer.choice is ApprovalChoice.ALWAYS:
            return await self._offer_scopes(answer, who)
        return f"✅ Approved by {who}" if approved else f"❌ Rejected by {who}"

    async def _offer_scopes(self, answer: ApprovalAnswer, who: str) -> str:
        """Approved; "always" then offers the scopes to learn, narrowest first."""
        # The gate keeps the offers once the request has settled (its audit entry
        # written): give it a bounded moment to get there.
        offers = self.gatekeeper.scope_offers(answer.approval_id)
        for _ in range(_OFFER_WAIT_STEPS):
            if offers:
                break
            await asyncio.sleep(0.01)
            offers = self.gatekeeper.scope_offers(answer.approval_id)
        if not offers:
            return (
                f"✅ Approved by {who} (this once: Tether cannot learn a rule for a call it "
                "could not fully analyse)"
            )
        offer = getattr(self.connector, "offer_scopes", None)
        labels = tuple(o.label for o in offers)
        if offer is not None:
            try:
                await offer(answer.chat_id, answer.approval_id, labels)
                return f"✅ Approved by {who}; choose what to allow from now on (or nothing)"
            except Exception as error:  # noqa: BLE001 - the call is approved either way
                logger.warning("scope_offer_failed", error=repr(error))
        return f"✅ Approved by {who}; choose what to allow from now on: " + "; ".join(
            f"{index}. {label}" for index, label in enumerate(labels, start=1)
        )

    async def _answer_question(self, answer: ApprovalAnswer, who: str) -> str:
        """A pick, a finished multi-select, or a typed answer to the agent's question."""
        value = answer.value or ""
        head, _, rest = value.partition("\n" if answer.choice is ApprovalChoice.ANSWER else ".")
        try:
            question = int(head)
            option = int(rest) if answer.choice is ApprovalChoice.OPTION else 0
        except ValueError:
            return "That answer could not be read; nothing changed."
        if answer.choice is ApprovalChoice.OPTION:
            result = await self.approvals.choose(
                answer.approval_id, answer.user_id, question, option
            )
        elif answer.choice is ApprovalChoice.DONE:
            result = await self.approvals.finish_selection(
                answer.approval_id, answer.user_id, question
            )
        else:
            result = await self.approvals.answer(answer.approval_id, answer.user_id, question, rest)
        if result.accepted:
            return f"✅ Answered by {who}: {result.message}"
        return result.message

    async def cancel(self, chat_id: ChatId) -> bool:
        """Stop the request running in `chat_id` and deny its pending approvals."""
        return await self.requests.cancel(chat_id)

    def is_busy(self, chat_id: ChatId) -> bool:
        """True while a request of `chat_id` runs."""
        return self.requests.is_busy(chat_id)

    async def _run_in_chat(
        self,
        context: MessageContext,
        on_text: OnText | None,
        on_tool_activity: OnToolActivity | None,
        on_tool_denied: OnToolDenied | None,
        on_tool_decision: OnToolDecision | None = None,
    ) -> tuple[str, float | None]:
        state = self.requests.state(context.chat_id)
        if state.lock.locked():
            await self._notify(context.chat_id, _QUEUED_NOTICE)
        async with state.lock:
            state.running = asyncio.current_task()
            try:
                return await self._run_agent(
                    context, state, on_text, on_tool_activity, on_tool_denied, on_tool_decision
                )
            except (SessionError, StorageError) as error:
                logger.error("session_unavailable", chat_id=context.chat_id, error=str(error))
                return f"⚠️ {error}", None
            finally:
                state.running = None
                state.session_id = None

    async def _run_agent(
        self,
        context: MessageContext,
        state: ChatState,
        on_text: OnText | None,
        on_tool_activity: OnToolActivity | None,
        on_tool_denied: OnToolDenied | None,
        on_tool_decision: OnToolDecision | None = None,
    ) -> tuple[str, float | None]:
        if self.agent is None:
            return "No agent is configured for this Tether.", None
        session = await self.sessions.get_or_create(context.user_id, context.chat_id)
        state.session_id = session.session_id

        # The mode the gate derives its approvals from; an approved plan changes it.
        current_mode = [session.mode.value]

        async def can_use_tool(tool_name: str, tool_input: dict[str, Any]) -> GateDecision:
            decision = await self.gatekeeper.check(
                tool_name,
                tool_input,
                session.session_id,
                context.chat_id,
                user_id=context.user_id,
                cwd=session.working_directory,
                mode=current_mode[0],
            )
            if decision.allowed and decision.next_mode is not None:
                # The person approved the plan: the rest of this request, and the
                # next ones, work in the mode they chose.
                await self._leave_plan_mode(context, decision.next_mode)
                current_mode[0] = decision.next_mode
            if on_tool_decision is not None:
                await on_tool_decision(tool_name, tool_input, decision)
            # A person who rejected the call knows; every other refusal (the
            # sandbox, the policy, an approval nobody answered) is told.
            told = not decision.allowed and decision.approval != "rejected"
            if told and on_tool_denied is not None:
                await on_tool_denied(tool_name, decision.reason or "denied")
            return decision

        request_id = _request_id()
        await self._audit_quietly(
            REQUEST_STARTED,
            request_id=request_id,
            chat_id=context.chat_id,
            session_id=session.session_id,
            text=context.text[:80],
        )
        outcome = "error"
        try:
            reply = await self._execute(context, session, can_use_tool, on_text, on_tool_activity)
            outcome = "done"
            return reply
        except asyncio.CancelledError:
            outcome = "cancelled"
            raise
        finally:
            # Ended while Tether stops: the reply may never reach the chat.
            outcome = "stopped" if self._stopped else outcome
            await self._audit_quietly(REQUEST_ENDED, request_id=request_id, outcome=outcome)

    async def _execute(
        self,
        context: MessageContext,
        session: Session,
        can_use_tool: Any,
        on_text: OnText | None,
        on_tool_activity: OnToolActivity | None,
    ) -> tuple[str, float | None]:
        """The reply, and the request's cost as the agent reported it (None without a response)."""
        assert self.agent is not None
        try:
            async with asyncio.timeout(self.config.agent_timeout_seconds):
                response = await self.agent.execute(
                    context.text,
                    session,
                    can_use_tool=can_use_tool,
                    on_text=on_text,
                    on_tool_activity=on_tool_activity,
                )
        except TimeoutError:
            await self.approvals.cancel_pending(context.chat_id)
            await self.agent.cancel(session.session_id)
            limit = self.config.agent_timeout_seconds
            _request_log(session, context).warning("agent_timeout", timeout_seconds=limit)
            unsaved = await self._record(session, context.text, error="timeout")
            return _with_notice(
                f"⏱ The request ran longer than {limit:.0f} s and was stopped "
                "(TETHER_AGENT_TIMEOUT_SECONDS).",
                unsaved,
            ), None
        except asyncio.CancelledError:
            await self.approvals.cancel_pending(context.chat_id)
            raise
        except AgentError as error:
            await self.approvals.cancel_pending(context.chat_id)
            _request_log(session, context).warning("agent_failed", error=str(error))
            unsaved = await self._record(session, context.text, error=str(error))
            return _with_notice(f"⚠️ {error}", unsaved), None
        except Exception as error:
            await self.approvals.cancel_pending(context.chat_id)
            log = _request_log(session, context)
            log.error("agent_crashed", error=repr(error), exc_info=error)
            unsaved = await self._record(session, context.text, error=repr(error))
            return _with_notice(
                f"⚠️ The agent stopped with an unexpected error ({type(error).__name__}). "
                "Details are in Tether's log; send your message again to retry.",
                unsaved,
            ), None
        unsaved = await self._record(session, context.text, response=response)
        return _with_notice(_reply_text(response), unsaved), response.cost

    async def _refuse_open_approvals(self) -> None:
        refused = await self.approvals.stop()
        if refused:
            logger.info("approvals_refused_at_stop", count=refused)

    async def _audit_quietly(self, event_type: str, **fields: Any) -> None:
        # The request ledger helps a later start explain itself; failing to write
        # it must not fail the request (the gate's own entries still fail closed).
        # Written in place, without a turn of the loop after it: what follows a
        # ledger entry is the agent's own I/O (a start) or the reply going out
        # through the connector (an end), and either gives the loop its turn.
        try:
            await self.audit_logger.log_now(event_type, fields)
        except Exception as error:  # noqa: BLE001 - see above
            logger.warning("request_ledger_not_written", event_type=event_type, error=repr(error))

    async def _tell_cut_short(self) -> None:
        """Tell each chat whose request a stop or crash cut short which one it was."""
        try:
            found = await asyncio.to_thread(find_cut_short, self.audit_logger.path)
        except Exception as error:  # noqa: BLE001 - a notice must not stop the start
            logger.warning("cut_short_not_read", error=repr(error))
            return
        for chat in found:
            quoted = "; ".join(f"“{text}”" for text in chat.requests)
            await self._notify(
                chat.chat_id,
                f"⚠️ Tether stopped before finishing your request {quoted}. Nothing more "
                "happened for it; send it again to continue.",
            )
        if found:
            await self._audit_quietly(NOTICES_SENT, chats=[chat.chat_id for chat in found])

    async def _leave_plan_mode(self, context: MessageContext, mode: str) -> None:
        wanted = SessionMode.EDIT if mode == SessionMode.EDIT.value else SessionMode.DEFAULT
        try:
            notice = await apply_mode(self.services, context, wanted)
        except (SessionError, StorageError) as error:
            logger.error("mode_not_changed", chat_id=context.chat_id, error=str(error))
            return
        await self._notify(context.chat_id, notice)

    async def _record(
        self,
        session: Session,
        prompt: str,
        *,
        response: AgentResponse | None = None,
        error: str | None = None,
    ) -> str | None:
        """Add the exchange to the session's history; None, or the notice that it was not.

        The agent has answered, so a history that cannot be written (after the
        store's own retries) never costs the person the reply; but nothing they
        said or were told may vanish without them knowing, so the reply carries
        the notice.
        """
        try:
            if response is not None:
                await self.sessions.record_message(session, prompt, response=response)
            else:
                await self.sessions.record_message(session, prompt, error=error or "")
        except (SessionError, StorageError) as failure:
            logger.error(
                "history_not_recorded",
                session_id=session.session_id,
                error=str(failure),
                prompt_chars=len(prompt),
            )
            return f"⚠️ This exchange was not saved to the session history: {failure}"
        return None

    # -- commands ----------------------------------------------------------

    async def _run_command(self, context: MessageContext, name: str, args: tuple[str, ...]) -> str:
        try:
            return await self.commands.run(
                name, CommandContext(services=self.services, message=context, args=args)
            )
        except TetherError as error:
            return f"⚠️ {error}"

    # -- connector handlers ------------------------------------------------

    async def _on_connector_message(self, message: IncomingMessage) -> None:
        connector = self.connector
        assert connector is not None
        # Opened on first use: a refused stranger must not see "typing…" first.
        opened: list[ReplyStream] = []

        def reply() -> ReplyStream:
            if not opened:
                opened.append(connector.open_reply(message.chat_id))
            return opened[0]

        async def on_text(text: str) -> None:
            await reply().update(text)

        async def on_tool_activity(activity: ToolActivity) -> None:
            await reply().activity(f"🔧 {activity.summary}")

        tally = RequestTally()

        async def on_tool_denied(tool_name: str, reason: str) -> None:
            line = denial_line(tool_name, reason)
            tally.denials.append(line)
            await reply().activity(line)

        async def on_tool_decision(
            tool_name: str, tool_input: dict[str, Any], decision: GateDecision
        ) -> None:
            tally.count(tool_name, tool_input, decision)

        text = await self.handle_message(
            message.user_id,
            message.text,
            message.chat_id,
            on_text=_accumulate(on_text),
            on_tool_activity=on_tool_activity,
            on_tool_denied=on_tool_denied,
            on_tool_decision=on_tool_decision,
            local=message.local,
            username=message.username,
        )
        if text:
            # The denials stay in the reply (the live activity line that showed
            # them is replaced), and the summary closes it.
            await reply().finish(tally.close(text))

    async def _on_connector_command(
        self, message: IncomingMessage, name: str, args: tuple[str, ...]
    ) -> None:
        connector = self.connector
        assert connector is not None
        text = "/" + " ".join((name, *args))
        reply = await self.handle_message(
            message.user_id,
            text,
            message.chat_id,
            local=message.local,
            username=message.username,
        )
        if reply:
            await connector.send_message(message.chat_id, reply)

    async def _notify(self, chat_id: ChatId, text: str) -> None:
        if self.connector is None:
            logger.info("chat_notice", chat_id=chat_id, text=text)
            return
        try:
            await self.connector.send_message(chat_id, text)
        except Exception as error:  # noqa: BLE001 - a notice that fails must not fail the request
            logger.warning("notice_failed", chat_id=chat_id, error=repr(error))

    async def _cancel_all_requests(self) -> None:
        await self.requests.cancel_all(_STOP_GRACE_SECONDS)


def _accumulate(on_text: OnText) -> OnText:
    """Agents report text piece by piece; reply streams want the whole text so far."""
    so_far = ""

    async def collect(piece: str) -> None:
        # One copy of the text per piece, not a join of every piece so far
        # (which walked the whole list again for each one).
        nonlocal so_far
        so_far += piece
        await on_text(so_far)

    return collect


def _request_log(session: Session, context: MessageContext) -> Any:
    # Bound when a request goes wrong, not for every message: a bound logger
    # built per message was used by none of them on the happy path, which logs nothing.
    return logger.bind(session_id=session.session_id, chat_id=context.chat_id)


def _request_id() -> str:
    # 16 random hex digits, as the ledger has always had them; the bytes alone,
    # without a UUID object built around them, cost a quarter as much.
    return os.urandom(8).hex()


def _with_notice(reply: str, notice: str | None) -> str:
    return reply if notice is None else f"{reply}\n\n{notice}"


def _reply_text(response: AgentResponse) -> str:
    # An error or cancelled response already carries its explanation (the
    # adapter writes it); marking it again would repeat it.
    text = response.content.strip() or "(The agent finished without a reply.)"
    if response.notice:
        text = f"ℹ️ {response.notice}\n\n{text}"
    return text
