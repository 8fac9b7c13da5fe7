"""TelegramConnector: drive the agent from a phone, with approval buttons and live replies.

Long polling brings messages, /commands and button presses; each is handled
in a task of its own and delivered to the engine's handlers, which do all the
checking (who may talk to the agent, how often). Replies are edited as the
agent writes them (`StreamingReply`), approvals are inline keyboards, and the
Bot API calls themselves live in `TelegramApi`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from pathlib import Path

from telegram import Bot
from telegram.constants import MessageLimit
from telegram.error import InvalidToken, TelegramError
from telegram.request import HTTPXRequest

from tether.connectors.base import (
    ApprovalHandler,
    Button,
    CommandHandler,
    MessageHandler,
)
from tether.connectors.streaming import StreamingReply, split_message
from tether.connectors.telegram_api import TelegramApi
from tether.connectors.telegram_approvals import ApprovalMessages
from tether.connectors.telegram_keyboard import inline_keyboard, scope_keyboard
from tether.connectors.telegram_polling import UpdatePoller
from tether.connectors.telegram_retry import FloodControl, RetryPolicy, call_with_retry
from tether.connectors.telegram_updates import UpdateRouter
from tether.core.config import TELEGRAM_TOKEN_SHAPE
from tether.core.safety.prompts import AgentPrompt
from tether.core.types import ApprovalPreview, ChatId
from tether.exceptions import ConnectorError
from tether.log import get_logger

__all__ = ["DEFAULT_COMMANDS", "MAX_MESSAGE_LENGTH", "TelegramConnector"]

logger = get_logger(__name__)

MAX_MESSAGE_LENGTH: int = MessageLimit.MAX_TEXT_LENGTH
"""Telegram's limit for one message, in UTF-16 code units (4096)."""

DEFAULT_COMMANDS: tuple[tuple[str, str], ...] = (
    ("status", "Mode, messages, cost, learned rules and files"),
    ("clear", "Start a new conversation"),
    ("plan", "Toggle plan mode (no file changes)"),
    ("edit", "Toggle edit mode (file edits auto-approved)"),
    ("rules", "List or revoke rules learned from Always"),
    ("cancel", "Stop the running request"),
    ("plugins", "List plugins and their state"),
    ("help", "What Tether can do"),
)
"""The bot's command menu, (name, description), registered with setMyCommands at start.

The engine's slash commands, as `SlashCommands.specs` describes them.
"""

_API_ROOT = "https://api.telegram.org"

_TOKEN_REJECTIONS = {"unauthorized": "401 Unauthorized", "not found": "404 Not Found"}
_MAX_UPLOAD_BYTES = 50 * 1024 * 1024
# Every Bot API URL carries the token, and these libraries log URLs at INFO/DEBUG.
_CHATTY_LOGGERS = ("httpx", "httpcore", "telegram")


_MENU_MAX_COMMANDS = 100
_MENU_MAX_DESCRIPTION = 256


def _menu(commands: Sequence[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    """The menu as Telegram takes it: at most 100 commands, each described in 1-256 characters.

    A plugin's long or empty description must not cost the whole menu (Telegram
    refuses all of it for one bad entry); the command itself works either way.
    """
    menu = []
    for name, description in commands[:_MENU_MAX_COMMANDS]:
        line = " ".join(description.split())
        if len(line) > _MENU_MAX_DESCRIPTION:
            line = line[: _MENU_MAX_DESCRIPTION - 1] + "…"
        menu.append((name, line or f"/{name}"))
    return tuple(menu)


def _quiet_chatty_loggers() -> None:
    for name in _CHATTY_LOGGERS:
        library_logger = logging.getLogger(name)
        if library_logger.getEffectiveLevel() < logging.WARNING:
            library_logger.setLevel(logging.WARNING)


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _read_upload(path: Path) -> bytes:
    if not path.exists():
        raise ConnectorError(f"{path} does not exist; nothing was sent")
    if not path.is_file():
        raise ConnectorError(f"{path} is not a file; nothing was sent")
    size = path.stat().st_size
    if size > _MAX_UPLOAD_BYTES:
        raise ConnectorError(
            f"{path.name} is {size / 1024 / 1024:.1f} MB; Telegram bots can send at most 50 MB"
        )
    return path.read_bytes()


class TelegramConnector:
    """Tether on Telegram, with long polling. See docs/connectors.md for the set-up.

    Args:
        token: the bot token from @BotFather (`TETHER_TELEGRAM_BOT_TOKEN`).
        base_url: the Bot API server root; Telegram's own when None (a local Bot
            API server or a test double otherwise).
        throttle_seconds: the least time between two edits of a streamed reply
            (`TETHER_STREAMING_THROTTLE_SECONDS`).
        poll_timeout: seconds each long poll may wait for updates.
        retry: how Bot API calls are retried; 5 tries, backing off from 0.5 s.
        commands: the command menu registered at start, as (name, description).
        stop_timeout: seconds `stop` gives running handlers before cancelling them.
        request_timeout: seconds for connecting, sending and reading a Bot API call.
        typing_interval: seconds between typing indicators while a reply is open.
        approval_batch_seconds: approvals for one chat arriving within this window
            are offered as one batch (Approve all / Reject all).
    """

    name = "telegram"

    def __init__(
        self,
        token: str,
        *,
        base_url: str | None = None,
        throttle_seconds: float = 1.5,
        poll_timeout: int = 30,
        retry: RetryPolicy | None = None,
        commands: Sequence[tuple[str, str]] = DEFAULT_COMMANDS,
        stop_timeout: float = 5.0,
        request_timeout: float = 10.0,
        typing_interval: float | None = 4.0,
        approval_batch_seconds: float = 0.25,
    ) -> None:
        if throttle_seconds < 0:
            raise ValueError(f"throttle_seconds must be 0 or more, got {throttle_seconds!r}")
        self._token = token.strip()
        self._api_root = (base_url or _API_ROOT).rstrip("/")
        self._throttle = throttle_seconds
        self._poll_timeout = poll_timeout
        self._retry = retry or RetryPolicy()
        self._commands = _menu(commands)
        self._stop_timeout = stop_timeout
        self._request_timeout = request_timeout
        self._typing_interval = typing_interval
        self._flood = FloodControl()
        self._on_message: MessageHandler | None = None
        self._on_command: CommandHandler | None = None
        self._on_approval: ApprovalHandler | None = None
        self._bot: Bot | None = None
        self._api: TelegramApi | None = None
        self._poller: UpdatePoller | None = None
        self._streams: set[StreamingReply] = set()
        self._approvals = ApprovalMessages(batch_seconds=approval_batch_seconds)

    @property
    def bot_username(self) -> str | None:
        """The bot's @username, once started."""
        return self._bot.username if self._api is not None and self._bot is not None else None

    @property
    def flood_control(self) -> FloodControl:
        """The pauses Telegram imposed, per chat."""
        return self._flood

    # -- lifecycle ---------------------------------------------------------

    def set_handlers(
        self,
        *,
        on_message: MessageHandler,
        on_command: CommandHandler,
        on_approval: ApprovalHandler,
    ) -> None:
        """Where to deliver messages, /commands and approval button presses."""
        self._on_message = on_message
        self._on_command = on_command
        self._on_approval = on_approval

    async def verify(self) -> None:
        """Check the token's shape and ask Telegram whether it is valid (getMe), then let go.

        Run before anything else starts, so a bad token is reported before any
        plugin runs; `start` checks again (the bot it keeps is its own).

        Raises:
            ConnectorError: the token is malformed or rejected, or Telegram
                cannot be reached.
        """
        self._check_shape()
        _quiet_chatty_loggers()
        bot = self._new_bot()
        try:
            await self._check_token(bot)
        finally:
            try:
                await bot.shutdown()
            except Exception as error:  # noqa: BLE001 - the answer is what matters
                logger.warning("telegram_shutdown_failed", error=repr(error))

    def _check_shape(self) -> None:
        if not TELEGRAM_TOKEN_SHAPE.fullmatch(self._token):
            raise ConnectorError(
                "TETHER_TELEGRAM_BOT_TOKEN does not look like a bot token (digits, ':' and "
                "a key, e.g. 123456:ABC-def); copy it again from @BotFather"
            )

    def _new_bot(self) -> Bot:
        return Bot(
            self._token,
            base_url=f"{self._api_root}/bot",
            base_file_url=f"{self._api_root}/file/bot",
            request=self._http(connections=64),
            get_updates_request=self._http(connections=1),
        )

    def set_command_menu(self, commands: Sequence[tuple[str, str]]) -> None:
        """The menu registered at start: every command, the plugins' included."""
        self._commands = _menu(commands)

    async def start(self) -> None:
        """Check the token (getMe), register the command menu, and start polling.

        Raises:
            ConnectorError: no handlers were set, the token is malformed or
                rejected, or Telegram cannot be reached.
        """
        if self._bot is not None:
            return
        if self._on_message is None or self._on_command is None or self._on_approval is None:
            raise ConnectorError("TelegramConnector.start() needs set_handlers() first")
        self._check_shape()
        _quiet_chatty_loggers()
        self._bot = self._new_bot()
        try:
            await self._check_token(self._bot)
            self._api = TelegramApi(self._bot, retry=self._retry, flood=self._flood)
            await self._api.set_commands(self._commands)
        except BaseException:
            await self._close_bot()
            raise
        router = UpdateRouter(
            self._api,
            self._approvals,
            bot_username=self._bot.username,
            on_message=self._on_message,
            on_command=self._on_command,
            on_approval=self._on_approval,
        )
        self._poller = UpdatePoller(
            self._bot, router, poll_timeout=self._poll_timeout, policy=self._retry
        )
        self._poller.start()
        logger.info("telegram_started", bot_username=self._bot.username)

    async def stop(self) -> None:
        """Stop polling, let running handlers finish briefly, close open replies."""
        if self._poller is not None:
            await self._poller.stop(grace=self._stop_timeout)
            self._poller = None
        for stream in list(self._streams):
            await stream.close()
        self._streams.clear()
        await self._close_bot()

    def _http(self, *, connections: int) -> HTTPXRequest:
        timeout = self._request_timeout
        return HTTPXRequest(
            connection_pool_size=connections,
            connect_timeout=timeout,
            read_timeout=timeout,
            write_timeout=timeout,
            pool_timeout=timeout,
        )

    async def _check_token(self, bot: Bot) -> None:
        try:
            await call_with_retry(
                bot.initialize, method="getMe", chat_id=None, policy=self._retry, flood=self._flood
            )
        except InvalidToken as error:
            # initialize() re-raises with the token in its message: keep the
            # server's own answer, and never the token.
            cause = error.__cause__ if isinstance(error.__cause__, InvalidToken) else error
            reason = _TOKEN_REJECTIONS.get(cause.message.lower(), cause.message)
            raise ConnectorError(
                f"Telegram rejected the bot token ({reason}); "
                "check TETHER_TELEGRAM_BOT_TOKEN from @BotFather"
            ) from cause
        except ConnectorError as error:
            raise ConnectorError(
                f"{error}. Check the network connection (Bot API at {self._api_root})"
            ) from error
        except TelegramError as error:
            raise ConnectorError(f"Telegram refused the bot at start-up: {error}") from error

    async def _close_bot(self) -> None:
        bot, self._bot, self._api = self._bot, None, None
        if bot is None:
            return
        try:
            await bot.shutdown()
        except Exception as error:  # noqa: BLE001 - stopping goes on whatever the client does
            logger.warning("telegram_shutdown_failed", error=repr(error))

    def _require_api(self) -> TelegramApi:
        if self._api is None:
            raise ConnectorError("the Telegram connector is not started")
        return self._api

    # -- sending -----------------------------------------------------------

    async def send_message(
        self, chat_id: ChatId, text: str, buttons: Sequence[Sequence[Button]] | None = None
    ) -> str:
        """Send `text`, split at 4096 characters; the buttons go with the last part,
        whose id is returned.

        Raises:
            ConnectorError: the text is empty, a button's data is too long, or
                Telegram refused or could not be reached.
        """
        api = self._require_api()
        markup = inline_keyboard(buttons) if buttons else None
        parts = self._parts(text)
        message_id = ""
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            message_id = await api.send(chat_id, part, markup if last else None)
        return message_id

    async def send_message_with_id(self, chat_id: ChatId, text: str) -> str:
        """Send one message of at most 4096 characters; its id.

        Raises:
            ConnectorError: the text is empty or too long, or Telegram refused.
        """
        if len(self._parts(text)) > 1:
            raise ConnectorError(
                f"a message of {len(text)} characters is over Telegram's {MAX_MESSAGE_LENGTH}; "
                "send_message splits long text"
            )
        # Only streamed replies use this: progress that edits itself must not
        # buzz the phone at every new part.
        return await self._require_api().send(chat_id, text, silent=True)

    @staticmethod
    def _parts(text: str) -> list[str]:
        if not text.strip():
            raise ConnectorError("Telegram cannot send an empty message")
        return split_message(text, MAX_MESSAGE_LENGTH)

    async def edit_message(self, chat_id: ChatId, message_id: str, text: str) -> None:
        """Replace a message's text (its buttons are removed). An unchanged text is a no-op.

        Raises:
            ConnectorError: the message is gone, the text empty or too long, or
                Telegram refused or could not be reached.
        """
        if not text.strip():
            raise ConnectorError("Telegram cannot show an empty message")
        await self._require_api().edit(chat_id, message_id, text)

    async def delete_message(self, chat_id: ChatId, message_id: str) -> None:
        """Delete a message; one already gone (or too old to delete) is left alone.

        Raises:
            ConnectorError: Telegram refused for another reason or could not be reached.
        """
        await self._require_api().delete(chat_id, message_id)

    async def send_typing_indicator(self, chat_id: ChatId) -> None:
        """Show "typing…" in the chat for a few seconds. Failures are logged, not raised."""
        if self._api is not None:
            await self._api.typing(chat_id)

    async def send_file(self, chat_id: ChatId, path: Path, caption: str | None = None) -> None:
        """Send a file as a document (bots may send up to 50 MB).

        Raises:
            ConnectorError: the file is missing, not a file, too large, or
                Telegram refused or could not be reached.
        """
        api = self._require_api()
        data = await asyncio.to_thread(_read_upload, path)
        shown = _truncate(caption, MessageLimit.CAPTION_LENGTH) if caption else None
        await api.send_document(chat_id, data, path.name, shown)

    def open_reply(self, chat_id: ChatId) -> StreamingReply:
        """A reply streamed into `chat_id`, showing "typing…" until it is finished."""
        self._streams = {stream for stream in self._streams if not stream.closed}
        stream = StreamingReply(
            self,
            chat_id,
            throttle_seconds=self._throttle,
            max_length=MAX_MESSAGE_LENGTH,
            typing_interval=self._typing_interval,
        )
        self._streams.add(stream)
        stream.start_typing()
        return stream

    # -- approvals ---------------------------------------------------------

    async def request_approval(
        self,
        chat_id: ChatId,
        approval_id: str,
        description: str,
        tool_name: str,
        *,
        preview: ApprovalPreview | None = None,
    ) -> str:
        """Post the request (its preview as HTML, or the description verbatim) with
        its answer buttons; the message id.

        The reply streamed so far is shown first, so the request reads below it.

        Raises:
            ConnectorError: the approval id does not fit on a button, or the
                message could not be sent (the caller then denies the tool call).
        """
        api = self._require_api()
        await self._flush_replies(chat_id)
        return await self._approvals.post(
            api, chat_id, approval_id, description, tool_name, preview
        )

    async def request_prompt(self, chat_id: ChatId, approval_id: str, prompt: AgentPrompt) -> str:
        """Post the agent's questions (options as buttons) or its plan; the message id.

        Raises:
            ConnectorError: the message could not be sent (the caller refuses the prompt).
        """
        api = self._require_api()
        await self._flush_replies(chat_id)
        return await self._approvals.post_prompt(api, chat_id, approval_id, prompt)

    async def _flush_replies(self, chat_id: ChatId) -> None:
        for stream in [s for s in self._streams if s.chat_id == chat_id and not s.closed]:
            try:
                await stream.flush()
            except ConnectorError as error:
                logger.warning("telegram_reply_not_flushed", chat_id=chat_id, error=str(error))

    async def offer_scopes(self, chat_id: ChatId, approval_id: str, labels: Sequence[str]) -> None:
        """After "always": what to allow from now on, one row of buttons per scope.

        Raises:
            ConnectorError: the message could not be sent.
        """
        api = self._require_api()
        lines = [f"{number}. {label}" for number, label in enumerate(labels, start=1)]
        text = "Allow from now on (this chat, or remembered for this project):\n" + "\n".join(lines)
        await api.send(chat_id, text, scope_keyboard(approval_id, len(labels)), markdown=False)

    async def close_approval(self, chat_id: ChatId, message_id: str, outcome: str) -> None:
        """Show the outcome (expired, cancelled, answered elsewhere) and remove the buttons.

        A request already settled by a button keeps the outcome it shows.

        Raises:
            ConnectorError: the message could not be edited.
        """
        await self._approvals.settle(self._require_api(), chat_id, message_id, outcome)
