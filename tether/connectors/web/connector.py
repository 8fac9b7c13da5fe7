"""WebConnector: Tether in a browser, served by Tether itself on this machine.

A browser that logged in with the access token is the local owner, as the
terminal is: its messages carry `local=True`, which only this connector and
the terminal set. Each browser chat is `web:<name>`, so it never collides with
another connector's chat ids. Approvals are shown on every open page; the first
answer wins and every page then shows the request settled.
"""

from __future__ import annotations

import asyncio
import socket
from collections import OrderedDict
from collections.abc import Awaitable, Sequence
from pathlib import Path
from typing import Any

import uvicorn

from tether.connectors.base import (
    ApprovalAnswer,
    ApprovalChoice,
    ApprovalHandler,
    Button,
    CommandHandler,
    IncomingMessage,
    MessageHandler,
    ReplyStream,
    awaits_reason,
    is_settled_outcome,
)
from tether.connectors.cli import LOCAL_USER_ID
from tether.connectors.web.api import ApprovalBody, build_app
from tether.connectors.web.audit_view import chat_sessions, recent_decisions
from tether.connectors.web.hub import Hub
from tether.connectors.web.lockout import LoginLimiter
from tether.connectors.web.preview import prompt_card, render_approval
from tether.connectors.web.security import HostPolicy, WebSessions
from tether.connectors.web.settings import WebSettings
from tether.connectors.web.token import AccessToken, load_or_create_token
from tether.core.events import MESSAGE_OUT, Event, EventBus
from tether.core.safety.audit import AuditLogger
from tether.core.safety.prompts import AgentPrompt
from tether.core.session import Session, SessionManager
from tether.core.types import ApprovalPreview, ChatId
from tether.exceptions import AuditError, ConnectorError
from tether.log import get_logger

__all__ = ["CHAT_PREFIX", "WebConnector"]

logger = get_logger(__name__)

CHAT_PREFIX = "web:"
"""Every web chat id starts with this, so it never collides with another connector's."""

_START_TIMEOUT = 10.0
_MAX_CONNECTIONS = 200
_STOP_TIMEOUT = 5.0
_MAX_TOOL_LINES = 50
_REMEMBERED_CALLS = 256
_HISTORY = 20
_HISTORY_TEXT = 500
_SESSIONS_SHOWN = 20


class _QuietServer(uvicorn.Server):
    # Tether owns the process's signals (Ctrl-C cancels a request in the REPL):
    # uvicorn must not take them over.
    def install_signal_handlers(self) -> None:
        return None

    def capture_signals(self) -> Any:
        import contextlib

        return contextlib.nullcontext()


class _WebReply:
    """One reply in a web chat: text appended as it grows, tool lines, the final text."""

    def __init__(self, hub: Hub, chat_id: ChatId) -> None:
        self._hub = hub
        self._chat_id = chat_id
        self._entry_id: str | None = None
        self._text = ""
        self._tools: list[str] = []

    def _entry(self) -> str:
        if self._entry_id is None:
            entry = self._hub.add_entry(
                self._chat_id, {"kind": "reply", "text": "", "tools": [], "done": False}
            )
            self._entry_id = entry["id"]
        return self._entry_id

    async def update(self, text: str) -> None:
        entry_id = self._entry()
        if text.startswith(self._text):
            delta = text[len(self._text) :]
            self._text = text
            if delta:
                self._hub.append_text(self._chat_id, entry_id, delta)
        else:
            self._text = text
            self._hub.update_entry(self._chat_id, entry_id, text=text)

    async def activity(self, line: str | None) -> None:
        if line is None or len(self._tools) >= _MAX_TOOL_LINES:
            return
        self._tools.append(line)
        self._hub.update_entry(self._chat_id, self._entry(), tools=list(self._tools))

    async def finish(self, text: str) -> None:
        final = text if text.strip() else self._text
        self._text = final
        self._hub.update_entry(self._chat_id, self._entry(), text=final, done=True)


class WebConnector:
    """The browser as a chat surface. See docs/connectors.md.

    Args:
        settings: where to listen, TLS, where the token lives.
        commands: (name, description) of the slash commands, for the page's menu.
    """

    name = "web"

    def __init__(self, settings: WebSettings, *, commands: Sequence[tuple[str, str]] = ()) -> None:
        self.settings = settings
        self.commands = tuple(commands)
        self.hub = Hub()
        self.token = ""
        self.access: AccessToken | None = None
        self._sessions = WebSessions()
        self._limiter = LoginLimiter()
        self._audit: AuditLogger | None = None
        self._chat_sessions: SessionManager | None = None
        # Each web chat's sessions seen in this run (the store keeps only the current
        # one per chat findable), newest last.
        self._chat_session_ids: OrderedDict[ChatId, list[str]] = OrderedDict()
        self._on_message: MessageHandler | None = None
        self._on_command: CommandHandler | None = None
        self._on_approval: ApprovalHandler | None = None
        self._server: _QuietServer | None = None
        self._serving: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._port: int | None = None

    # -- wiring --------------------------------------------------------------

    def set_command_menu(self, commands: Sequence[tuple[str, str]]) -> None:
        """The page's command menu: every command, the plugins' included."""
        self.commands = tuple(commands)

    def attach_services(
        self, *, audit_logger: AuditLogger, sessions: SessionManager, event_bus: EventBus
    ) -> None:
        """What the page shows besides the chat: audit entries and session history."""
        self._audit = audit_logger
        self._chat_sessions = sessions
        event_bus.subscribe(MESSAGE_OUT, self._remember_session)

    def set_handlers(
        self,
        *,
        on_message: MessageHandler,
        on_command: CommandHandler,
        on_approval: ApprovalHandler,
    ) -> None:
        self._on_message = on_message
        self._on_command = on_command
        self._on_approval = on_approval

    # -- lifecycle -----------------------------------------------------------

    @property
    def port(self) -> int:
        """The port listened on (known after `start`; useful with port 0)."""
        if self._port is None:
            raise ConnectorError("the web connector has not started")
        return self._port

    @property
    def base_url(self) -> str:
        scheme = "https" if self.settings.tls else "http"
        host = self.settings.host
        shown = "127.0.0.1" if host in {"0.0.0.0", ""} else host
        shown = f"[{shown}]" if ":" in shown else shown
        return f"{scheme}://{shown}:{self.port}/"

    @property
    def login_link(self) -> str:
        """The page with the token in the fragment (never sent to the server by the browser)."""
        return f"{self.base_url}#token={self.token}"

    async def start(self) -> None:
        """Load or make the token, bind, and serve.

        Raises:
            ConnectorError: the address cannot be bound or the server did not start.
            ConfigError: the token cannot be kept.
        """
        self.access = await asyncio.to_thread(load_or_create_token, self.settings.state_dir)
        self.token = self.access.value
        sock = self._bind()
        self._port = sock.getsockname()[1]
        if self.settings.exposed_without_tls:
            logger.warning("web_exposed_without_tls", host=self.settings.host, port=self._port)
        hosts = HostPolicy(
            self.settings.host,
            self.settings.allowed_hosts,
            "https" if self.settings.tls else "http",
        )
        app = build_app(
            self,
            hosts=hosts,
            sessions=self._sessions,
            limiter=self._limiter,
            max_body=self.settings.max_body,
        )
        config = uvicorn.Config(
            app,
            http="h11",
            ws="wsproto",
            lifespan="off",
            log_config=None,
            access_log=False,
            server_header=False,
            date_header=False,
            proxy_headers=False,
            ws_max_size=self.settings.max_body,
            # Compression would cost each page a zlib state (~260 KiB) for messages
            # of a few hundred bytes, and mixes the page's secrets with text an
            # agent may steer (the BREACH class of leaks).
            ws_per_message_deflate=False,
            ws_ping_interval=20.0,
            ws_ping_timeout=20.0,
            timeout_graceful_shutdown=2,
            # A bound on open connections: a flood of sockets is turned away with
            # 503 instead of growing without end (each page holds one WebSocket).
            limit_concurrency=_MAX_CONNECTIONS,
            ssl_certfile=self.settings.tls_cert,
            ssl_keyfile=self.settings.tls_key,
        )
        self._server = _QuietServer(config)
        self._serving = asyncio.create_task(self._server.serve(sockets=[sock]))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + _START_TIMEOUT
        while not self._server.started:
            if self._serving.done() or loop.time() > deadline:
                error = None if not self._serving.done() else self._serving.exception()
                sock.close()
                raise ConnectorError(f"the web server did not start: {error or 'timed out'}")
            await asyncio.sleep(0.01)
        logger.info("web_started", url=self.base_url)

    def _bind(self) -> socket.socket:
        host = self.settings.host
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host, self.settings.port))
            sock.set_inheritable(False)
        except OSError as error:
            sock.close()
            raise ConnectorError(
                f"cannot listen on {host}:{self.settings.port}: {error.strerror or error}; "
                "choose another TETHER_WEB_PORT"
            ) from error
        return sock

    async def stop(self) -> None:
        self.hub.close_all()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=_STOP_TIMEOUT)
        if self._server is not None and self._serving is not None:
            self._server.should_exit = True
            try:
                await asyncio.wait_for(self._serving, _STOP_TIMEOUT)
            except TimeoutError:
                logger.warning("web_stop_timeout")
            except Exception as error:  # noqa: BLE001 - stopping goes on whatever the server did
                logger.warning("web_stop_failed", error=repr(error))
        self._server = None
        self._serving = None

    # -- BaseConnector: what the engine shows --------------------------------

    async def send_message(
        self, chat_id: ChatId, text: str, buttons: Sequence[Sequence[Button]] | None = None
    ) -> str:
        entry = self.hub.add_entry(chat_id, {"kind": "notice", "text": text})
        return str(entry["id"])

    async def send_message_with_id(self, chat_id: ChatId, text: str) -> str:
        return await self.send_message(chat_id, text)

    async def edit_message(self, chat_id: ChatId, message_id: str, text: str) -> None:
        self.hub.update_entry(chat_id, message_id, text=text)

    async def delete_message(self, chat_id: ChatId, message_id: str) -> None:
        self.hub.remove_entry(chat_id, message_id)

    async def send_typing_indicator(self, chat_id: ChatId) -> None:
        return None

    async def request_approval(
        self,
        chat_id: ChatId,
        approval_id: str,
        description: str,
        tool_name: str,
        *,
        preview: ApprovalPreview | None = None,
    ) -> str:
        view = render_approval(tool_name, description, preview)
        self.hub.add_approval(
            {
                "approval_id": approval_id,
                "chat": chat_id,
                "kind": "approval",
                **view.model_dump(mode="json", exclude={"full_diff"}),
                "summary": description,
                "state": "pending",
                "outcome": None,
            }
        )
        return approval_id

    async def request_prompt(self, chat_id: ChatId, approval_id: str, prompt: AgentPrompt) -> str:
        """Show the agent's questions (options as buttons, or words) or its plan."""
        summary = prompt.plan[:180] if prompt.kind == "plan" else prompt.questions[0].question
        self.hub.add_approval(
            {
                "approval_id": approval_id,
                "chat": chat_id,
                **prompt_card(prompt),
                "summary": summary,
                "state": "pending",
                "outcome": None,
                "answered": {},
            }
        )
        return approval_id

    async def offer_scopes(self, chat_id: ChatId, approval_id: str, labels: Sequence[str]) -> None:
        """After "always": the scopes to allow from now on, narrowest first, on the card."""
        if not self.hub.offer_scopes(approval_id, list(labels)):
            raise ConnectorError("the approval to learn from is no longer on the page")

    async def close_approval(self, chat_id: ChatId, message_id: str, outcome: str) -> None:
        self.hub.settle_approval(message_id, outcome)

    async def send_file(self, chat_id: ChatId, path: Path, caption: str | None = None) -> None:
        # Files are named, not served: the page never becomes a way to read the disk.
        label = f"{caption}: " if caption else ""
        self.hub.add_entry(chat_id, {"kind": "notice", "text": f"📎 {label}{path}"})

    def open_reply(self, chat_id: ChatId) -> ReplyStream:
        return _WebReply(self.hub, chat_id)

    # -- what the page asks (api.ApiBackend) ---------------------------------

    async def submit(self, chat: str, text: str) -> None:
        chat_id = CHAT_PREFIX + chat
        handler = self._on_message
        if handler is None:
            raise ConnectorError("the web connector is not connected to an engine")
        self.hub.add_entry(chat_id, {"kind": "user", "text": text})
        message = IncomingMessage(
            user_id=LOCAL_USER_ID, chat_id=chat_id, text=text.strip(), local=True
        )
        self._spawn(chat_id, handler(message))

    async def cancel(self, chat: str) -> None:
        chat_id = CHAT_PREFIX + chat
        handler = self._on_command
        if handler is None:
            raise ConnectorError("the web connector is not connected to an engine")
        message = IncomingMessage(
            user_id=LOCAL_USER_ID, chat_id=chat_id, text="/cancel", local=True
        )
        await handler(message, "cancel", ())

    async def answer(self, body: ApprovalBody) -> tuple[int, str]:
        """The HTTP status and outcome of a page's answer: 200 settled it, 202 took a step
        (one question of several answered, an option picked), 4xx changed nothing."""
        approval_id = body.approval_id
        approval = self.hub.approval(approval_id)
        if approval is None:
            return 404, "This approval request is unknown or has expired."
        handler = self._on_approval
        if handler is None:
            return 503, "Tether is not ready to take answers."
        if body.scope is not None:
            return await self._learn(approval, body)
        if approval["state"] == "settled":
            return 409, f"Already settled: {approval['outcome']}"
        refusal = _fits(approval, body)
        if refusal is not None:
            return 422, refusal
        choice, value = _choice(body)
        outcome = await handler(
            ApprovalAnswer(
                approval_id=approval_id,
                choice=choice,
                user_id=LOCAL_USER_ID,
                chat_id=approval["chat"],
                local=True,
                value=value,
            )
        )
        if is_settled_outcome(outcome):
            self.hub.settle_approval(approval_id, outcome)
            return 200, outcome
        if awaits_reason(outcome):
            # Keep planning without feedback: the chat's next message is the feedback.
            self.hub.progress(approval_id, outcome)
            return 202, outcome
        if outcome.startswith(_STEP_MARKS):
            if outcome.startswith("Noted") and body.question is not None:
                self.hub.answered(approval_id, body.question, outcome)
            else:
                self.hub.progress(approval_id, outcome)
            return 202, outcome
        return 409, outcome

    async def _learn(self, approval: dict[str, Any], body: ApprovalBody) -> tuple[int, str]:
        scopes = approval.get("scopes") or []
        if body.choice != "always" or not scopes:
            return 409, "No scopes are offered for this request (answer Always first)."
        if body.scope is None or not 1 <= body.scope <= len(scopes):
            return 422, f"scope: a number from 1 to {len(scopes)}"
        assert self._on_approval is not None
        outcome = await self._on_approval(
            ApprovalAnswer(
                approval_id=body.approval_id,
                choice=ApprovalChoice.ALWAYS,
                user_id=LOCAL_USER_ID,
                chat_id=approval["chat"],
                local=True,
                scope=body.scope,
                remember=body.remember,
            )
        )
        self.hub.scopes_done(body.approval_id, outcome)
        return 200, outcome

    async def session_view(self, chat: str, session_id: str | None = None) -> dict[str, Any]:
        """This chat's current session, its earlier ones, and the exchanges of one of them.

        `session_id` picks an earlier session of this chat to read (never another
        chat's); None reads the current one.
        """
        sessions = self._chat_sessions
        empty: dict[str, Any] = {"session": None, "history": [], "sessions": []}
        if sessions is None:
            return empty
        chat_id = CHAT_PREFIX + chat
        current = await sessions.get(LOCAL_USER_ID, chat_id)
        ids = list(reversed(self._chat_session_ids.get(chat_id, [])))
        if self._audit is not None:
            logged = await asyncio.to_thread(
                chat_sessions, self._audit.path, chat_id, _SESSIONS_SHOWN
            )
            ids += [i for i in logged if i not in ids]
        known = [] if current is None else [current]
        for earlier_id in ids[:_SESSIONS_SHOWN]:
            if current is None or earlier_id != current.session_id:
                earlier = await sessions.get_by_id(earlier_id)
                if earlier is not None and earlier.chat_id == chat_id:
                    known.append(earlier)
        rows = [_session_row(s) for s in known]
        shown = current
        if session_id is not None:
            shown = next((s for s in known if s.session_id == session_id), None)
            if shown is None:
                return {**empty, "sessions": rows, "error": "no such session in this chat"}
        if shown is None:
            return {**empty, "sessions": rows}
        history = await sessions.history(shown.session_id, limit=_HISTORY)
        return {
            "session": _session_row(shown),
            "sessions": rows,
            "history": [
                {
                    "prompt": record.prompt[:_HISTORY_TEXT],
                    "reply": record.reply[:_HISTORY_TEXT],
                    "tools": list(record.tools_used[:20]),
                    "error": record.is_error,
                    "at": record.timestamp.isoformat(timespec="seconds"),
                }
                for record in history
            ],
        }

    async def audit_view(self, limit: int) -> list[dict[str, Any]]:
        if self._audit is None:
            return []
        return await asyncio.to_thread(recent_decisions, self._audit.path, limit)

    async def record(self, event_type: str, **fields: Any) -> None:
        if self._audit is None:
            logger.warning(event_type, **fields)
            return
        try:
            await self._audit.log(event_type, **fields)
        except AuditError as error:
            logger.error("web_audit_failed", event_type=event_type, error=str(error))

    # -- internals -----------------------------------------------------------

    async def _remember_session(self, event: Event) -> None:
        chat_id = event.data.get("chat_id")
        sessions = self._chat_sessions
        if sessions is None or not isinstance(chat_id, str) or not chat_id.startswith(CHAT_PREFIX):
            return
        session = await sessions.get(LOCAL_USER_ID, chat_id)
        if session is None:
            return
        seen = self._chat_session_ids.pop(chat_id, [])
        if session.session_id not in seen:
            seen = [*seen, session.session_id][-_SESSIONS_SHOWN:]
        self._chat_session_ids[chat_id] = seen
        while len(self._chat_session_ids) > _REMEMBERED_CALLS:
            self._chat_session_ids.popitem(last=False)

    def _spawn(self, chat_id: ChatId, work: Awaitable[None]) -> None:
        async def run() -> None:
            self.hub.set_busy(chat_id, +1)
            try:
                await work
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - one request's failure is told, not raised
                logger.error("web_request_failed", chat_id=chat_id, error=repr(error))
                self.hub.add_entry(
                    chat_id, {"kind": "notice", "text": f"⚠️ {type(error).__name__}: {error}"}
                )
            finally:
                self.hub.set_busy(chat_id, -1)

        task = asyncio.create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


_STEP_MARKS = ("Noted", "Selected:")
"""How the engine's answer to one step of several begins (a question answered, an option picked)."""

_CHOICES = {
    "approve": ApprovalChoice.APPROVE,
    "approve_edit": ApprovalChoice.APPROVE_EDIT,
    "reject": ApprovalChoice.REJECT,
    "always": ApprovalChoice.ALWAYS,
    "keep_planning": ApprovalChoice.KEEP_PLANNING,
    "option": ApprovalChoice.OPTION,
    "done": ApprovalChoice.DONE,
    "answer": ApprovalChoice.ANSWER,
}
_FOR_KIND = {
    "approval": frozenset({"approve", "reject", "always"}),
    "plan": frozenset({"approve", "approve_edit", "keep_planning"}),
    "questions": frozenset({"option", "done", "answer", "reject"}),
}


def _fits(approval: dict[str, Any], body: ApprovalBody) -> str | None:
    """Why `body` does not answer this kind of request, or None when it does."""
    kind = approval.get("kind", "approval")
    if body.choice not in _FOR_KIND.get(kind, frozenset()):
        allowed = ", ".join(sorted(_FOR_KIND.get(kind, ())))
        return f"choice: {body.choice!r} does not answer a {kind} request (use {allowed})"
    if kind != "questions":
        return None
    questions = approval.get("questions") or []
    if body.choice == "reject":
        return None
    if body.question is None or not 0 <= body.question < len(questions):
        return f"question: a number from 0 to {len(questions) - 1}"
    if body.choice == "option":
        options = questions[body.question]["options"]
        if body.option is None or not 0 <= body.option < len(options):
            return f"option: a number from 0 to {len(options) - 1}"
    if body.choice == "answer" and not (body.text and body.text.strip()):
        return "text: the answer in words, not empty"
    return None


def _choice(body: ApprovalBody) -> tuple[ApprovalChoice, str | None]:
    """The engine's choice and value for a page's answer."""
    reason = body.reason.strip() if body.reason else ""
    if body.choice == "reject" and reason:
        return ApprovalChoice.REJECT_WITH_REASON, reason
    if body.choice == "keep_planning":
        return ApprovalChoice.KEEP_PLANNING, reason or None
    if body.choice == "option":
        return ApprovalChoice.OPTION, f"{body.question}.{body.option}"
    if body.choice == "done":
        return ApprovalChoice.DONE, str(body.question)
    if body.choice == "answer":
        return ApprovalChoice.ANSWER, f"{body.question}\n{(body.text or '').strip()}"
    return _CHOICES[body.choice], None


def _session_row(session: Session) -> dict[str, Any]:
    return {
        "session_id": session.session_id,
        "mode": session.mode.value,
        "directory": str(session.working_directory),
        "messages": session.message_count,
        "cost": round(session.total_cost, 4),
        "created_at": session.created_at.isoformat(timespec="seconds"),
        "updated_at": session.updated_at.isoformat(timespec="seconds"),
        "current": not session.archived,
    }
