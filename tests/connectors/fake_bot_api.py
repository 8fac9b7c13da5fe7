"""FakeBotApi: a Telegram Bot API server on 127.0.0.1, for testing the real client against.

It speaks HTTP/1.1 over a real socket (stdlib asyncio only) and keeps the
state Telegram would: messages per chat, pending updates confirmed by the
offset of the next poll, callback queries waiting for an answer. It checks
what Telegram checks (the token, HTML that parses, 4096 characters, 64-byte
callback data, unchanged edits) and answers with Telegram's own error texts.
Tests push user messages and button presses in, script failures (a 429 with
retry_after, a 5xx), and read every call that was made.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from email.message import Message as EmailMessage
from email.parser import BytesParser
from email.policy import HTTP
from html import unescape
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qsl

__all__ = ["ApiCall", "FakeBotApi", "StoredMessage"]

TOKEN = "123456:TEST-token_for-the-fake-api"
BOT_ID = 123456
BOT_USERNAME = "tether_test_bot"

_JSON_FIELDS = {"reply_markup", "commands", "allowed_updates"}
_INT_FIELDS = {"chat_id", "message_id", "offset", "limit", "timeout", "user_id"}
_ALLOWED_TAGS = {
    "a",
    "b",
    "blockquote",
    "code",
    "del",
    "em",
    "i",
    "ins",
    "pre",
    "s",
    "span",
    "strike",
    "strong",
    "tg-spoiler",
    "u",
}
_REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found", 429: "Too Many"}


@dataclass
class ApiCall:
    """One Bot API request: the method, its decoded parameters, and when it arrived."""

    method: str
    params: dict[str, Any]
    at: float


@dataclass
class StoredMessage:
    """A message the bot sent, as the chat would show it now."""

    chat_id: int
    message_id: int
    text: str
    parse_mode: str | None = None
    reply_markup: dict[str, Any] | None = None
    deleted: bool = False
    edits: int = 0
    document: dict[str, Any] | None = None

    @property
    def visible_text(self) -> str:
        return _visible(self.text) if self.parse_mode == "HTML" else self.text

    @property
    def buttons(self) -> list[list[dict[str, Any]]]:
        markup = self.reply_markup or {}
        rows: list[list[dict[str, Any]]] = markup.get("inline_keyboard", [])
        return rows


@dataclass
class _Failure:
    status: int
    description: str
    retry_after: float | None
    times: int


class _ApiError(Exception):
    def __init__(self, status: int, description: str, retry_after: float | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after


class _HtmlCheck(HTMLParser):
    """Parses Telegram's HTML subset the way Telegram refuses it."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.stack: list[str] = []
        self.text: list[str] = []
        self.error: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _ALLOWED_TAGS:
            self._fail(f'Unsupported start tag "{tag}"')
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self._fail(f'Unmatched end tag "{tag}"')
        else:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        if "<" in data:
            self._fail("Unexpected '<'")
        self.text.append(data)

    def handle_entityref(self, name: str) -> None:
        if name not in {"lt", "gt", "amp", "quot"}:
            self._fail(f'Unsupported HTML entity "&{name};"')
        self.text.append(unescape(f"&{name};"))

    def handle_charref(self, name: str) -> None:
        self.text.append(unescape(f"&#{name};"))

    def _fail(self, message: str) -> None:
        self.error = self.error or message


def _visible(html: str) -> str:
    check = _HtmlCheck()
    check.feed(html)
    check.close()
    return "".join(check.text)


def _check_html(html: str) -> None:
    check = _HtmlCheck()
    check.feed(html)
    check.close()
    if check.error is None and check.stack:
        check.error = f'Can\'t find end tag corresponding to start tag "{check.stack[-1]}"'
    if check.error is not None:
        raise _ApiError(400, f"Bad Request: can't parse entities: {check.error}")


def _units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _decode(name: str, value: str) -> Any:
    if name in _JSON_FIELDS:
        return json.loads(value)
    if name in _INT_FIELDS:
        return int(float(value))
    return value


class FakeBotApi:
    """A Bot API server for one bot, on a free loopback port. `async with` starts it."""

    def __init__(self, *, token: str = TOKEN, max_poll_seconds: float = 1.0) -> None:
        self.token = token
        self.max_poll_seconds = max_poll_seconds
        self.calls: list[ApiCall] = []
        self.messages: dict[tuple[int, int], StoredMessage] = {}
        self.commands: list[dict[str, Any]] = []
        self.callback_answers: dict[str, dict[str, Any]] = {}
        self.confirmed_offset = 0
        self._updates: list[dict[str, Any]] = []
        self._next_update = 1
        self._next_message = 1000
        self._next_callback = 1
        self._failures: dict[str, list[_Failure]] = {}
        self.documents: list[dict[str, Any]] = []
        # Replaced on every change: waiting on the current one means "until something happens".
        self._tick = asyncio.Event()
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[Any]] = set()
        self._methods: dict[str, Callable[[dict[str, Any]], Awaitable[Any]]] = {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "deleteMessage": self._delete_message,
            "answerCallbackQuery": self._answer_callback_query,
            "setMyCommands": self._set_my_commands,
            "sendChatAction": self._send_chat_action,
            "sendDocument": self._send_document,
        }

    @property
    def url(self) -> str:
        assert self._server is not None, "the fake Bot API is not started"
        host, port = self._server.sockets[0].getsockname()[:2]
        return f"http://{host}:{port}"

    async def __aenter__(self) -> FakeBotApi:
        self._server = await asyncio.start_server(self._serve, host="127.0.0.1", port=0)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._connections):
            task.cancel()
        if self._connections:
            await asyncio.wait(list(self._connections))
        await self._server.wait_closed()

    # -- scripting ---------------------------------------------------------

    def fail(
        self,
        method: str,
        *,
        status: int,
        description: str,
        retry_after: float | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next `times` calls of `method` with this error instead."""
        failure = _Failure(status, description, retry_after, times)
        self._failures.setdefault(method, []).append(failure)

    def push_message(
        self, text: str, *, user_id: int = 42, chat_id: int = 42, username: str | None = "ana"
    ) -> int:
        """A person sends `text`; returns the message's id."""
        self._next_message += 1
        message = {
            "message_id": self._next_message,
            "date": int(time.time()),
            "chat": self._chat(chat_id),
            "from": self._user(user_id, username),
            "text": text,
        }
        self._push({"message": message})
        return self._next_message

    def push_photo(self, *, user_id: int = 42, chat_id: int = 42) -> None:
        """A person sends a photo (no text)."""
        self._next_message += 1
        photo = [{"file_id": "p1", "file_unique_id": "u1", "width": 1, "height": 1}]
        message = {
            "message_id": self._next_message,
            "date": int(time.time()),
            "chat": self._chat(chat_id),
            "from": self._user(user_id, "ana"),
            "photo": photo,
        }
        self._push({"message": message})

    def push_callback(
        self,
        message_id: int,
        data: str,
        *,
        user_id: int = 42,
        chat_id: int = 42,
        username: str | None = "ana",
    ) -> str:
        """A person presses a button with `data` under the bot's message; the query id."""
        stored = self.messages[(chat_id, message_id)]
        query_id = f"cb{self._next_callback}"
        self._next_callback += 1
        query = {
            "id": query_id,
            "from": self._user(user_id, username),
            "chat_instance": f"ci{chat_id}",
            "data": data,
            "message": self._message_json(stored),
        }
        self._push({"callback_query": query})
        return query_id

    def press(self, message_id: int, label_start: str, **who: Any) -> str:
        """Press the button whose label starts with `label_start`; the query id."""
        stored = self.messages[(who.get("chat_id", 42), message_id)]
        for row in stored.buttons:
            for button in row:
                if button["text"].startswith(label_start):
                    return self.push_callback(message_id, button["callback_data"], **who)
        raise AssertionError(f"no button starting {label_start!r} on message {message_id}")

    # -- observing ---------------------------------------------------------

    def scripted_failures(self, method: str) -> int:
        """How many scripted failures of `method` are still to come."""
        return sum(failure.times for failure in self._failures.get(method, []))

    def calls_to(self, method: str) -> list[ApiCall]:
        return [call for call in self.calls if call.method == method]

    def chat(self, chat_id: int = 42) -> list[StoredMessage]:
        """The bot's messages still in the chat, oldest first."""
        return [
            message
            for (chat, _), message in sorted(self.messages.items())
            if chat == chat_id and not message.deleted
        ]

    async def wait_for(self, condition: Callable[[], bool], within: float = 5.0) -> None:
        """Wait until `condition()` holds (checked after every call and push, and every 5 ms)."""
        async with asyncio.timeout(within):
            await self._until(condition)

    # -- HTTP --------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                request_line, *lines = head.decode("latin-1").split("\r\n")
                _, target, _ = request_line.split(" ", 2)
                headers = {}
                for line in lines:
                    if line:
                        key, _, value = line.partition(":")
                        headers[key.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                status, payload = await self._handle(target, headers, body)
                data = json.dumps(payload).encode()
                reason = _REASONS.get(status, "Error")
                writer.write(
                    f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(data)}\r\n\r\n".encode()
                    + data
                )
                await writer.drain()
        except asyncio.CancelledError:
            # Stopped by __aexit__: end quietly, as a server closing its connections would
            # (a cancelled connection task makes asyncio log an error).
            return
        finally:
            self._connections.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _handle(
        self, target: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, Any]]:
        token, _, method = target.removeprefix("/bot").partition("/")
        if token != self.token:
            return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
        params = self._params(headers.get("content-type", ""), body)
        self.calls.append(ApiCall(method, params, time.monotonic()))
        try:
            failure = self._take_failure(method)
            if failure is not None:
                raise _ApiError(failure.status, failure.description, failure.retry_after)
            handler = self._methods.get(method)
            if handler is None:
                raise _ApiError(404, "Not Found")
            result = await handler(params)
        except _ApiError as error:
            payload: dict[str, Any] = {
                "ok": False,
                "error_code": error.status,
                "description": error.description,
            }
            if error.retry_after is not None:
                payload["parameters"] = {"retry_after": error.retry_after}
            self._notify()
            return error.status, payload
        self._notify()
        return 200, {"ok": True, "result": result}

    @staticmethod
    def _params(content_type: str, body: bytes) -> dict[str, Any]:
        if not body:
            return {}
        if content_type.startswith("application/json"):
            loaded: dict[str, Any] = json.loads(body)
            return loaded
        if content_type.startswith("multipart/form-data"):
            parsed = BytesParser(policy=HTTP).parsebytes(
                f"Content-Type: {content_type}\r\n\r\n".encode() + body
            )
            params: dict[str, Any] = {}
            for part in parsed.iter_parts():
                assert isinstance(part, EmailMessage)
                name = part.get_param("name", header="content-disposition")
                data = part.get_payload(decode=True)
                assert isinstance(name, str) and isinstance(data, bytes)
                filename = part.get_filename()
                if filename is not None:
                    params[name] = {"filename": filename, "data": data}
                else:
                    params[name] = _decode(name, data.decode())
            return params
        pairs = parse_qsl(body.decode(), keep_blank_values=True)
        return {name: _decode(name, value) for name, value in pairs}

    def _take_failure(self, method: str) -> _Failure | None:
        queue = self._failures.get(method)
        if not queue:
            return None
        failure = queue[0]
        failure.times -= 1
        if failure.times <= 0:
            queue.pop(0)
        return failure

    def _notify(self) -> None:
        self._tick.set()
        self._tick = asyncio.Event()

    async def _until(self, condition: Callable[[], bool]) -> None:
        # Woken by every call and push; also re-checked every few milliseconds, for
        # conditions on the test's side (a handler that ran).
        while True:
            tick = self._tick
            if condition():
                return
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(0.005):
                    await tick.wait()

    def _push(self, update: dict[str, Any]) -> None:
        update["update_id"] = self._next_update
        self._next_update += 1
        self._updates.append(update)
        self._notify()

    # -- JSON shapes -------------------------------------------------------

    @staticmethod
    def _chat(chat_id: int) -> dict[str, Any]:
        return {"id": chat_id, "type": "private" if chat_id > 0 else "group"}

    @staticmethod
    def _user(user_id: int, username: str | None) -> dict[str, Any]:
        user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": "Ana"}
        if username is not None:
            user["username"] = username
        return user

    def _bot_user(self) -> dict[str, Any]:
        return {
            "id": BOT_ID,
            "is_bot": True,
            "first_name": "Tether Test",
            "username": BOT_USERNAME,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    def _message_json(self, stored: StoredMessage) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": stored.message_id,
            "date": int(time.time()),
            "chat": self._chat(stored.chat_id),
            "from": self._bot_user(),
        }
        if stored.document is not None:
            message["document"] = stored.document
        else:
            message["text"] = stored.visible_text
        if stored.reply_markup:
            message["reply_markup"] = stored.reply_markup
        return message

    # -- methods -----------------------------------------------------------

    def _find(self, params: dict[str, Any], missing: str) -> StoredMessage:
        stored = self.messages.get((params["chat_id"], params["message_id"]))
        if stored is None or stored.deleted:
            raise _ApiError(400, f"Bad Request: {missing}")
        return stored

    @staticmethod
    def _check_text(text: str, parse_mode: str | None, markup: dict[str, Any] | None) -> None:
        if not text.strip():
            raise _ApiError(400, "Bad Request: message text is empty")
        if parse_mode == "HTML":
            _check_html(text)
            text = _visible(text)
        if _units(text) > 4096:
            raise _ApiError(400, "Bad Request: message is too long")
        for row in (markup or {}).get("inline_keyboard", []):
            for button in row:
                if len(button.get("callback_data", "").encode()) > 64:
                    raise _ApiError(400, "Bad Request: BUTTON_DATA_INVALID")

    async def _get_me(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._bot_user()

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = params.get("offset")
        if offset is not None:
            self.confirmed_offset = max(self.confirmed_offset, offset)
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        allowed = params.get("allowed_updates")
        wait = min(float(params.get("timeout", 0)), self.max_poll_seconds)

        def ready() -> list[dict[str, Any]]:
            return [u for u in self._updates if not allowed or any(kind in u for kind in allowed)]

        if not ready() and wait > 0:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait):
                    await self._until(lambda: bool(ready()))
        return ready()[: params.get("limit", 100)]

    async def _send_message(self, params: dict[str, Any]) -> dict[str, Any]:
        text, parse_mode = params["text"], params.get("parse_mode")
        markup = params.get("reply_markup")
        self._check_text(text, parse_mode, markup)
        self._next_message += 1
        stored = StoredMessage(params["chat_id"], self._next_message, text, parse_mode, markup)
        self.messages[(stored.chat_id, stored.message_id)] = stored
        return self._message_json(stored)

    async def _edit_message_text(self, params: dict[str, Any]) -> dict[str, Any]:
        stored = self._find(params, "message to edit not found")
        text, parse_mode = params["text"], params.get("parse_mode")
        markup = params.get("reply_markup")
        self._check_text(text, parse_mode, markup)
        if (text, parse_mode, markup) == (stored.text, stored.parse_mode, stored.reply_markup):
            raise _ApiError(
                400,
                "Bad Request: message is not modified: specified new message content and "
                "reply markup are exactly the same as a current content and reply markup "
                "of the message",
            )
        stored.text, stored.parse_mode, stored.reply_markup = text, parse_mode, markup
        stored.edits += 1
        return self._message_json(stored)

    async def _delete_message(self, params: dict[str, Any]) -> bool:
        self._find(params, "message to delete not found").deleted = True
        return True

    async def _answer_callback_query(self, params: dict[str, Any]) -> bool:
        query_id = params["callback_query_id"]
        if query_id in self.callback_answers:
            raise _ApiError(
                400,
                "Bad Request: query is too old and response timeout expired or query ID is invalid",
            )
        self.callback_answers[query_id] = params
        return True

    async def _set_my_commands(self, params: dict[str, Any]) -> bool:
        self.commands = params["commands"]
        return True

    async def _send_chat_action(self, params: dict[str, Any]) -> bool:
        return True

    async def _send_document(self, params: dict[str, Any]) -> dict[str, Any]:
        upload = params["document"]
        self._next_message += 1
        stored = StoredMessage(
            params["chat_id"],
            self._next_message,
            params.get("caption", ""),
            document={
                "file_id": f"doc{self._next_message}",
                "file_unique_id": f"u{self._next_message}",
                "file_name": upload["filename"],
                "file_size": len(upload["data"]),
            },
        )
        self.messages[(stored.chat_id, stored.message_id)] = stored
        self.documents.append(upload)
        return self._message_json(stored)
