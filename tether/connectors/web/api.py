"""The web connector's HTTP and WebSocket surface (a Starlette app).

Every request passes, in order: the Host check (DNS rebinding), then for
anything that changes state the Origin check, the session cookie and the CSRF
header; bodies are bounded and validated against strict models, so bad input
gets a one-line 4xx naming what was wrong and nothing runs. Security headers
(a strict Content-Security-Policy among them) go on every response.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import Awaitable, Callable
from importlib.resources import files
from pathlib import Path
from typing import Annotated, Any, Literal, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError
from starlette.applications import Starlette
from starlette.requests import HTTPConnection, Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect

from tether.connectors.web.hub import Client, Hub
from tether.connectors.web.lockout import LoginLimiter
from tether.connectors.web.security import (
    SECURITY_HEADERS,
    SESSION_SECONDS,
    HostPolicy,
    WebSession,
    WebSessions,
)
from tether.connectors.web.token import token_matches
from tether.log import get_logger

__all__ = [
    "CSRF_HEADER",
    "MAX_BODY_BYTES",
    "MAX_TEXT",
    "ApiBackend",
    "ApprovalBody",
    "CancelBody",
    "LoginBody",
    "MessageBody",
    "build_app",
    "cookie_name",
]

logger = get_logger(__name__)

MAX_BODY_BYTES = 64 * 1024
"""The largest request body accepted; larger ones are refused with 413 unread."""
MAX_TEXT = 16_000
"""The longest message a browser may send."""
CSRF_HEADER = "x-tether-csrf"

STATIC = Path(str(files("tether.connectors.web") / "static"))
_ROOT_FILES = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/app.js": ("app.js", "text/javascript; charset=utf-8"),
    "/app.css": ("app.css", "text/css; charset=utf-8"),
    "/sw.js": ("sw.js", "text/javascript; charset=utf-8"),
    "/manifest.webmanifest": ("manifest.webmanifest", "application/manifest+json"),
    "/icon.svg": ("icon.svg", "image/svg+xml"),
    "/icon-192.png": ("icon-192.png", "image/png"),
    "/icon-512.png": ("icon-512.png", "image/png"),
}

_SESSION_ID = re.compile(r"[A-Za-z0-9-]{1,64}")
ChatName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,32}$")]


class _Body(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


class LoginBody(_Body):
    token: Annotated[str, StringConstraints(min_length=1, max_length=256)]


class MessageBody(_Body):
    chat: ChatName
    text: Annotated[str, StringConstraints(min_length=1, max_length=MAX_TEXT)]


class ApprovalBody(_Body):
    """A page's answer to an approval, a question or a plan (see docs/connectors.md)."""

    approval_id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
    choice: Literal[
        "approve", "reject", "always", "approve_edit", "keep_planning", "option", "done", "answer"
    ]
    reason: Annotated[str, StringConstraints(max_length=500)] | None = None
    """With reject: the reason the agent gets; with keep_planning: the feedback."""
    question: Annotated[int, Field(ge=0, le=63)] | None = None
    option: Annotated[int, Field(ge=0, le=63)] | None = None
    text: Annotated[str, StringConstraints(max_length=1000)] | None = None
    """With answer: the person's own words."""
    scope: Annotated[int, Field(ge=1, le=64)] | None = None
    """With always, after the scopes are offered: the one to learn (1 = narrowest)."""
    remember: bool = False


class CancelBody(_Body):
    chat: ChatName


class ApiBackend(Protocol):
    """What the HTTP layer asks of the connector."""

    hub: Hub
    token: str
    commands: tuple[tuple[str, str], ...]

    async def submit(self, chat: str, text: str) -> None: ...

    async def answer(self, body: ApprovalBody) -> tuple[int, str]:
        """The HTTP status and outcome text of a browser's answer to an approval."""
        ...

    async def cancel(self, chat: str) -> None: ...

    async def session_view(self, chat: str, session_id: str | None = None) -> dict[str, Any]: ...

    async def audit_view(self, limit: int) -> list[dict[str, Any]]: ...

    async def record(self, event_type: str, **fields: Any) -> None:
        """Write an audit entry (a login, a refused request)."""
        ...


def cookie_name(secure: bool) -> str:
    # `__Host-` pins the cookie to this exact origin, but browsers accept it only with Secure.
    return "__Host-tether" if secure else "tether_session"


_Handler = Callable[[Request], Awaitable[Response]]
_Model = TypeVar("_Model", bound=_Body)


class _RefusedError(Exception):
    """A request turned away: its HTTP status and the one-line reason."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def build_app(
    backend: ApiBackend,
    *,
    hosts: HostPolicy,
    sessions: WebSessions,
    limiter: LoginLimiter,
    max_body: int = MAX_BODY_BYTES,
) -> ASGIApp:
    """The ASGI app serving the page, the API and the event socket."""
    secure = hosts.scheme == "https"
    cookie = cookie_name(secure)

    def session_of(conn: HTTPConnection) -> WebSession | None:
        return sessions.get(conn.cookies.get(cookie))

    async def read_body(request: Request, model: type[_Model]) -> _Model:
        declared = request.headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > max_body):
            raise _RefusedError(413, f"request body larger than {max_body} bytes")
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != "application/json":
            raise _RefusedError(415, "send the body as application/json")
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > max_body:
                raise _RefusedError(413, f"request body larger than {max_body} bytes")
            chunks.append(chunk)
        try:
            data = json.loads(b"".join(chunks))
        except RecursionError:
            raise _RefusedError(400, "the body is nested too deeply") from None
        except ValueError:
            raise _RefusedError(400, "the body is not valid JSON") from None
        if not isinstance(data, dict):
            raise _RefusedError(422, "the body must be a JSON object")
        try:
            return model.model_validate(data)
        except ValidationError as error:
            problem = error.errors(include_url=False)[0]
            where = ".".join(str(part) for part in problem.get("loc", ())) or "body"
            raise _RefusedError(422, f"{where}: {problem.get('msg', 'invalid')}") from None

    def check_origin(request: HTTPConnection) -> None:
        if not hosts.origin_allowed(request.headers.get("origin"), request.headers.get("host")):
            raise _RefusedError(403, "cross-site request refused (the Origin is not this server)")

    def check_session(request: Request) -> WebSession:
        session = session_of(request)
        if session is None:
            raise _RefusedError(401, "log in with the access token first")
        return session

    def check_csrf(request: Request, session: WebSession) -> None:
        if not session.csrf_matches(request.headers.get(CSRF_HEADER)):
            raise _RefusedError(403, f"missing or wrong {CSRF_HEADER} header")

    def guarded(handler: _Handler, *, changes_state: bool) -> _Handler:
        async def endpoint(request: Request) -> Response:
            try:
                if changes_state:
                    check_origin(request)
                session = check_session(request)
                if changes_state:
                    check_csrf(request, session)
                return await handler(request)
            except _RefusedError as refused:
                # A page that opens logged out asks for its state first: reads refused
                # for want of a session reveal nothing and would only flood the log.
                if refused.status in (401, 403) and changes_state:
                    await backend.record(
                        "web_request_refused",
                        path=request.url.path,
                        status=refused.status,
                        reason=refused.message,
                        client=_address(request),
                    )
                return _error(refused.status, refused.message)

        return endpoint

    async def login(request: Request) -> Response:
        address = _address(request)
        try:
            check_origin(request)
            wait = limiter.retry_after(address)
            if wait > 0:
                await backend.record("web_login_locked", client=address, retry_after=round(wait))
                return _error(
                    429,
                    f"too many failed logins; try again in {wait:.0f} s",
                    {"retry-after": str(max(1, round(wait)))},
                )
            body = await read_body(request, LoginBody)
        except _RefusedError as refused:
            return _error(refused.status, refused.message)
        if not token_matches(backend.token, body.token):
            count, lock = limiter.failed(address)
            logger.warning("web_login_failed", client=address, failures=count)
            await backend.record(
                "web_login_failed", client=address, failures=count, locked_seconds=lock
            )
            return _error(401, "wrong access token")
        limiter.succeeded(address)
        session = sessions.create()
        await backend.record("web_login", client=address)
        response = JSONResponse({"csrf": session.csrf})
        response.set_cookie(
            cookie,
            session.session_id,
            httponly=True,
            samesite="strict",
            secure=secure,
            path="/",
            # As long as the server keeps the session: an installed app stays logged in.
            max_age=int(SESSION_SECONDS),
        )
        return response

    async def logout(request: Request) -> Response:
        session = check_session(request)
        sessions.end(session.session_id)
        response = JSONResponse({"ok": True})
        response.delete_cookie(cookie, path="/", secure=secure, httponly=True, samesite="strict")
        return response

    async def state(request: Request) -> Response:
        session = check_session(request)
        return JSONResponse(
            {
                "csrf": session.csrf,
                "commands": [{"name": n, "description": d} for n, d in backend.commands],
            }
        )

    async def message(request: Request) -> Response:
        body = await read_body(request, MessageBody)
        await backend.submit(body.chat, body.text)
        return JSONResponse({"accepted": True}, status_code=202)

    async def approval(request: Request) -> Response:
        body = await read_body(request, ApprovalBody)
        status, outcome = await backend.answer(body)
        return JSONResponse({"outcome": outcome}, status_code=status)

    async def cancel(request: Request) -> Response:
        body = await read_body(request, CancelBody)
        await backend.cancel(body.chat)
        return JSONResponse({"accepted": True}, status_code=202)

    async def session_info(request: Request) -> Response:
        chat = request.query_params.get("chat", "")
        if not _valid_chat(chat):
            raise _RefusedError(422, "chat: 1-32 letters, digits, '-' or '_'")
        session_id = request.query_params.get("session")
        if session_id is not None and not _SESSION_ID.fullmatch(session_id):
            raise _RefusedError(422, "session: a session id (letters, digits and '-')")
        view = await backend.session_view(chat, session_id)
        if "error" in view:
            return JSONResponse(view, status_code=404)
        return JSONResponse(view)

    async def audit(request: Request) -> Response:
        raw = request.query_params.get("limit", "50")
        if not raw.isdigit() or not 1 <= int(raw) <= 200:
            raise _RefusedError(422, "limit: a whole number from 1 to 200")
        return JSONResponse({"entries": await backend.audit_view(int(raw))})

    async def events(websocket: WebSocket) -> None:
        session = session_of(websocket)
        chat = websocket.query_params.get("chat", "")
        origin_ok = hosts.origin_allowed(
            websocket.headers.get("origin"), websocket.headers.get("host")
        )
        problem = (
            "cross-site (the Origin is not this server)"
            if not origin_ok
            else "no session"
            if session is None
            else "missing or wrong csrf"
            if not session.csrf_matches(websocket.query_params.get("csrf"))
            else "bad chat name"
            if not _valid_chat(chat)
            else None
        )
        if problem is not None:
            await backend.record(
                "web_request_refused",
                path="/api/events",
                status=403,
                reason=problem,
                client=_address(websocket),
            )
            await websocket.close(code=1008)
            return
        await websocket.accept()
        client = backend.hub.connect(f"web:{chat}")
        try:
            await _pump(websocket, client)
        finally:
            backend.hub.disconnect(client)

    async def static(request: Request) -> Response:
        name, media_type = _ROOT_FILES[request.url.path]
        headers = {"cache-control": "no-cache"}
        if name == "sw.js":
            headers["service-worker-allowed"] = "/"
        return FileResponse(STATIC / name, media_type=media_type, headers=headers)

    def caught(handler: _Handler) -> _Handler:
        async def endpoint(request: Request) -> Response:
            try:
                return await handler(request)
            except _RefusedError as refused:
                return _error(refused.status, refused.message)

        return endpoint

    routes = [
        *(Route(path, static, methods=["GET", "HEAD"]) for path in _ROOT_FILES),
        Route("/api/login", login, methods=["POST"]),
        Route("/api/logout", guarded(caught(logout), changes_state=True), methods=["POST"]),
        Route("/api/state", guarded(caught(state), changes_state=False), methods=["GET"]),
        Route("/api/message", guarded(caught(message), changes_state=True), methods=["POST"]),
        Route("/api/approval", guarded(caught(approval), changes_state=True), methods=["POST"]),
        Route("/api/cancel", guarded(caught(cancel), changes_state=True), methods=["POST"]),
        Route("/api/session", guarded(caught(session_info), changes_state=False), methods=["GET"]),
        Route("/api/audit", guarded(caught(audit), changes_state=False), methods=["GET"]),
        WebSocketRoute("/api/events", events),
    ]
    app = Starlette(routes=routes)
    return _Guard(app, hosts)


async def _pump(websocket: WebSocket, client: Client) -> None:
    """Send the client's events until it goes away; what the page sends is only a ping."""

    async def receive() -> None:
        with contextlib.suppress(WebSocketDisconnect):
            while True:
                await websocket.receive_text()

    reader = asyncio.create_task(receive())
    try:
        while True:
            getter = asyncio.ensure_future(client.queue.get())
            done, _ = await asyncio.wait({getter, reader}, return_when=asyncio.FIRST_COMPLETED)
            if reader in done:
                getter.cancel()
                return
            event = getter.result()
            if event is None:
                await websocket.close(code=1012)
                return
            await websocket.send_text(event)
    except (WebSocketDisconnect, RuntimeError, OSError):
        return
    finally:
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, RuntimeError):
            await reader


def _valid_chat(chat: str) -> bool:
    return 1 <= len(chat) <= 32 and all(c.isascii() and (c.isalnum() or c in "-_") for c in chat)


def _address(conn: HTTPConnection) -> str:
    return conn.client.host if conn.client is not None else "unknown"


class _Guard:
    """Outermost layer: refuse an unknown Host, add the security headers to every response."""

    def __init__(self, app: ASGIApp, hosts: HostPolicy) -> None:
        self._app = app
        self._hosts = hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self._app(scope, receive, send)
            return
        host = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"host"), None)
        if not self._hosts.host_allowed(host):
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008})
                return
            response = PlainTextResponse(
                "unknown Host: add it to TETHER_WEB_ALLOWED_HOSTS to reach Tether by this name",
                status_code=421,
            )
            await response(scope, receive, self._with_headers(send))
            return
        await self._app(scope, receive, self._with_headers(send))

    @staticmethod
    def _with_headers(send: Send) -> Send:
        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [(k.encode(), v.encode()) for k, v in SECURITY_HEADERS]
                if not any(k.lower() == b"cache-control" for k, _ in headers):
                    # API answers carry the conversation: never kept by a cache.
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        return sending
