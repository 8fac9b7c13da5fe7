"""TelegramApi: the Bot API calls Tether makes, with retries, formatting and clear errors.

Every call goes through `call_with_retry` (network errors back off, flood
control pauses the chat). Text goes out as HTML converted from the agent's
Markdown and, if Telegram cannot parse that, again as plain text. Refusals
become `ConnectorError`s with a message a person can read.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from typing import Any, TypeVar

from telegram import Bot, BotCommand, InlineKeyboardMarkup, Message
from telegram.constants import ChatAction, ParseMode
from telegram.error import BadRequest, Forbidden, TelegramError

from tether.connectors.telegram_format import to_telegram_html
from tether.connectors.telegram_retry import FloodControl, RetryPolicy, call_with_retry
from tether.core.types import ChatId
from tether.exceptions import ConnectorError
from tether.log import get_logger

__all__ = ["TelegramApi"]

logger = get_logger(__name__)

_T = TypeVar("_T")

_MAX_CALLBACK_ANSWER = 200


def _is_parse_error(error: BadRequest) -> bool:
    return "can't parse entities" in error.message.lower()


def _is_not_modified(error: BadRequest) -> bool:
    return "message is not modified" in error.message.lower()


def _is_gone(error: BadRequest) -> bool:
    text = error.message.lower()
    return "not found" in text or "can't be deleted" in text


class TelegramApi:
    """The Bot API calls a connector needs, on an initialized `telegram.Bot`.

    Args:
        bot: the client, already initialized (its token checked).
        retry: how calls are retried.
        flood: the per-chat pauses Telegram imposed; shared by every call.
    """

    def __init__(self, bot: Bot, *, retry: RetryPolicy, flood: FloodControl) -> None:
        self._bot = bot
        self._retry = retry
        self._flood = flood

    async def call(
        self, method: str, chat_id: ChatId | None, call: Callable[[], Awaitable[_T]]
    ) -> _T:
        """`call()` with retries. A `BadRequest` is passed on for the caller to read;
        any other refusal becomes a `ConnectorError`."""
        try:
            return await call_with_retry(
                call, method=method, chat_id=chat_id, policy=self._retry, flood=self._flood
            )
        except BadRequest:
            raise
        except Forbidden as error:
            raise ConnectorError(
                f"Telegram refused {method} for chat {chat_id}: {error.message} "
                "(the bot may have been blocked or removed from the chat)"
            ) from error
        except TelegramError as error:
            raise ConnectorError(f"Telegram refused {method}: {error.message}") from error

    async def send(
        self,
        chat_id: ChatId,
        text: str,
        markup: InlineKeyboardMarkup | None = None,
        *,
        markdown: bool = True,
        html: str | None = None,
        silent: bool = False,
    ) -> str:
        """Send one message; its id. With `markdown`, the text is shown formatted (as
        HTML, or as plain text if Telegram rejects that); without, exactly as given.
        `html`, when given, is sent instead, ready-made, with `text` as its plain
        fallback. `silent` sends without a notification (progress, not news).

        Raises:
            ConnectorError: Telegram refused it or could not be reached.
        """

        def send(body: str, parse_mode: ParseMode | None) -> Callable[[], Awaitable[Message]]:
            return partial(
                self._bot.send_message,
                chat_id,
                body,
                parse_mode=parse_mode,
                reply_markup=markup,
                disable_notification=silent,
            )

        try:
            sent = await self._formatted("sendMessage", chat_id, text, send, markdown, html)
        except BadRequest as error:
            raise ConnectorError(f"Telegram refused the message: {error.message}") from error
        return str(sent.message_id)

    async def edit(
        self,
        chat_id: ChatId,
        message_id: str,
        text: str,
        markup: InlineKeyboardMarkup | None = None,
        *,
        markdown: bool = True,
        html: str | None = None,
    ) -> None:
        """Replace a message's text; without `markup` its buttons go. Unchanged is fine.
        `markdown` and `html` as for `send`.

        Raises:
            ConnectorError: the message is gone, or Telegram refused or could not be reached.
        """

        def edit(body: str, parse_mode: ParseMode | None) -> Callable[[], Awaitable[Any]]:
            return partial(
                self._bot.edit_message_text,
                body,
                chat_id=chat_id,
                message_id=int(message_id),
                parse_mode=parse_mode,
                reply_markup=markup,
            )

        try:
            await self._formatted("editMessageText", chat_id, text, edit, markdown, html)
        except BadRequest as error:
            if _is_not_modified(error):
                return
            if _is_gone(error):
                raise ConnectorError(
                    f"message {message_id} in chat {chat_id} no longer exists"
                ) from error
            raise ConnectorError(f"Telegram refused the edit: {error.message}") from error

    async def delete(self, chat_id: ChatId, message_id: str) -> None:
        """Delete a message; one already gone (or too old to delete) is left alone.

        Raises:
            ConnectorError: Telegram refused for another reason or could not be reached.
        """
        delete = partial(self._bot.delete_message, chat_id=chat_id, message_id=int(message_id))
        try:
            await self.call("deleteMessage", chat_id, delete)
        except BadRequest as error:
            if not _is_gone(error):
                raise ConnectorError(f"Telegram refused the delete: {error.message}") from error
            logger.info("telegram_delete_skipped", chat_id=chat_id, error=error.message)

    async def typing(self, chat_id: ChatId) -> None:
        """Show "typing…" for a few seconds. Failures are logged, not raised."""
        action = partial(self._bot.send_chat_action, chat_id=chat_id, action=ChatAction.TYPING)
        try:
            await self.call("sendChatAction", chat_id, action)
        except (ConnectorError, BadRequest) as error:
            logger.debug("telegram_typing_failed", chat_id=chat_id, error=str(error))

    async def send_document(
        self,
        chat_id: ChatId,
        data: bytes,
        filename: str,
        caption: str | None,
        *,
        silent: bool = False,
    ) -> None:
        """Send `data` as a file called `filename`.

        Raises:
            ConnectorError: Telegram refused it or could not be reached.
        """
        send = partial(
            self._bot.send_document,
            chat_id=chat_id,
            document=data,
            filename=filename,
            caption=caption,
            disable_notification=silent,
        )
        try:
            await self.call("sendDocument", chat_id, send)
        except BadRequest as error:
            raise ConnectorError(
                f"Telegram refused the file {filename}: {error.message}"
            ) from error

    async def answer_callback(self, query_id: str, text: str | None) -> None:
        """Answer a button press (a short notice, or none). Failures are logged, not raised."""
        if text and len(text) > _MAX_CALLBACK_ANSWER:
            text = text[: _MAX_CALLBACK_ANSWER - 1] + "…"
        answer = partial(self._bot.answer_callback_query, query_id, text=text)
        try:
            await self.call("answerCallbackQuery", None, answer)
        except (ConnectorError, BadRequest) as error:
            # Telegram forgets a query after about 15 s; the press itself still counted.
            logger.info("telegram_callback_not_answered", error=str(error))

    async def set_commands(self, commands: Sequence[tuple[str, str]]) -> None:
        """Register the command menu. Failures are logged: typed commands work without it."""
        menu = [BotCommand(name, description) for name, description in commands]
        try:
            await self.call("setMyCommands", None, partial(self._bot.set_my_commands, menu))
        except (ConnectorError, BadRequest) as error:
            logger.warning("telegram_commands_not_registered", error=str(error))

    async def _formatted(
        self,
        method: str,
        chat_id: ChatId,
        text: str,
        request: Callable[[str, ParseMode | None], Callable[[], Awaitable[_T]]],
        markdown: bool,
        html: str | None = None,
    ) -> _T:
        """`request` with the text as HTML; again as plain text if Telegram cannot parse it."""
        if html is None and not markdown:
            return await self.call(method, chat_id, request(text, None))
        body = html if html is not None else to_telegram_html(text)
        try:
            return await self.call(method, chat_id, request(body, ParseMode.HTML))
        except BadRequest as error:
            if not _is_parse_error(error):
                raise
            logger.info("telegram_markup_rejected", chat_id=chat_id, error=error.message)
        return await self.call(method, chat_id, request(text, None))
