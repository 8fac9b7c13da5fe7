"""UpdateRouter: what people send on Telegram, delivered to the engine's handlers.

Text goes to `on_message`, a `/command` to `on_command`, an approval button to
`on_approval`, whose answer is shown: a refusal only to the person who
pressed, an accepted answer on the request itself. The router decides nothing
about who may do what: the handlers run the same checks for every way in.
A handler that fails is logged, and the chat gets one short line.
"""

from __future__ import annotations

import re

from telegram import CallbackQuery, Message, Update

from tether.connectors.base import (
    LEARNED_MARK,
    ApprovalAnswer,
    ApprovalChoice,
    ApprovalHandler,
    CommandHandler,
    IncomingMessage,
    MessageHandler,
    awaits_reason,
    is_settled_outcome,
)
from tether.connectors.telegram_api import TelegramApi
from tether.connectors.telegram_approvals import ApprovalMessages
from tether.connectors.telegram_batch import APPROVE_ALL, REJECT_ALL
from tether.connectors.telegram_keyboard import decode_answer, decode_scope
from tether.core.types import ChatId
from tether.exceptions import ConnectorError
from tether.log import get_logger

__all__ = ["UpdateRouter", "parse_command"]

logger = get_logger(__name__)

_COMMAND_NAME = re.compile(r"^[A-Za-z0-9_]{1,32}$")
_HANDLER_FAILED = "⚠️ Something went wrong while handling that. The details are in Tether's log."
_APPROVAL_FAILED = "Something went wrong; the request was not answered. Try again."
_DEAD_BUTTON = "This button no longer works."
_SETTLED_BATCH = "These requests are already settled."


def parse_command(text: str, bot_username: str | None) -> tuple[str, tuple[str, ...]] | None:
    """The command name (without '/', lower case) and arguments of a `/command`.

    None when `text` is not a command (Telegram's rule: 1-32 letters, digits or
    underscores after the slash). `/start` (what Telegram sends when a
    chat with the bot begins) is `help`. A command addressed to another bot
    (`/status@OtherBot`) comes back with the name "", to be ignored.
    """
    if not text.startswith("/"):
        return None
    head, *args = text.split()
    name, _, target = head[1:].partition("@")
    if not _COMMAND_NAME.match(name):
        return None  # "/", or a path such as /etc/hosts: a message, not a command
    if target and (bot_username is None or target.lower() != bot_username.lower()):
        return "", ()
    name = name.lower()
    return ("help" if name == "start" else name), tuple(args)


class UpdateRouter:
    """Hands each Telegram update to the right handler; one call per update.

    Args:
        api: the Bot API calls (answers to presses, edits, notices).
        approvals: the open approval requests, to show an accepted answer on.
        bot_username: the bot's @username, to tell its commands from other bots'.
    """

    def __init__(
        self,
        api: TelegramApi,
        approvals: ApprovalMessages,
        *,
        bot_username: str | None,
        on_message: MessageHandler,
        on_command: CommandHandler,
        on_approval: ApprovalHandler,
    ) -> None:
        self._api = api
        self._approvals = approvals
        self._bot_username = bot_username
        self._on_message = on_message
        self._on_command = on_command
        self._on_approval = on_approval

    async def __call__(self, update: Update) -> None:
        """Deliver one update; kinds other than messages and button presses are ignored."""
        if update.callback_query is not None:
            await self._on_callback(update.callback_query)
        elif update.message is not None:
            await self._on_incoming(update.message)

    async def _on_incoming(self, message: Message) -> None:
        user, text = message.from_user, message.text
        if user is None or text is None:
            # Photos, stickers, service messages: nothing the agent can read.
            logger.debug("telegram_message_ignored", chat_id=message.chat.id)
            return
        incoming = IncomingMessage(
            user_id=user.id,
            chat_id=message.chat.id,
            text=text,
            message_id=str(message.message_id),
            username=user.username,
        )
        command = parse_command(text, self._bot_username)
        try:
            if command is None:
                await self._on_message(incoming)
            elif command[0]:
                await self._on_command(incoming, *command)
        except Exception as error:
            # One failed message must not stop the bot, nor reach the chat as a traceback.
            logger.error(
                "telegram_handler_failed",
                chat_id=incoming.chat_id,
                error=repr(error),
                exc_info=error,
            )
            await self._tell(incoming.chat_id, _HANDLER_FAILED)

    async def _on_callback(self, query: CallbackQuery) -> None:
        api = self._api
        scope = decode_scope(query.data or "")
        if scope is not None:
            await self._on_scope(query, *scope)
            return
        if query.data in {APPROVE_ALL, REJECT_ALL} and query.message is not None:
            await self._answer_all(query, approve=query.data == APPROVE_ALL)
            return
        decoded = decode_answer(query.data or "")
        message = query.message
        if decoded is None or message is None:
            await api.answer_callback(query.id, _DEAD_BUTTON)
            return
        approval_id, choice, value = decoded
        chat_id, message_id = message.chat.id, str(message.message_id)
        answer = ApprovalAnswer(
            approval_id=approval_id,
            choice=choice,
            user_id=query.from_user.id,
            chat_id=chat_id,
            message_id=message_id,
            username=query.from_user.username,
            value=value,
        )
        try:
            outcome = await self._on_approval(answer)
        except Exception as error:
            # The press is answered either way, so the phone stops its spinner.
            logger.error(
                "telegram_approval_failed",
                chat_id=chat_id,
                approval_id=approval_id,
                error=repr(error),
                exc_info=error,
            )
            await api.answer_callback(query.id, _APPROVAL_FAILED)
            return
        if awaits_reason(outcome):
            await api.answer_callback(query.id, "Send it as your next message.")
            await self._approvals.hold(api, chat_id, message_id, outcome, approval_id)
            return
        if not is_settled_outcome(outcome):
            await api.answer_callback(query.id, outcome)
            return
        await api.answer_callback(query.id, None)
        shown = message.text if isinstance(message, Message) else None
        await self._approvals.settle_quietly(api, chat_id, message_id, outcome, shown, approval_id)

    async def _answer_all(self, query: CallbackQuery, *, approve: bool) -> None:
        """Approve all / Reject all: each open request of the batch answered on its own."""
        message = query.message
        assert message is not None
        chat_id, message_id = message.chat.id, str(message.message_id)
        choice = ApprovalChoice.APPROVE if approve else ApprovalChoice.REJECT
        refusal: str | None = None
        open_ids = self._approvals.batch_open_ids(chat_id, message_id)
        if not open_ids:
            await self._api.answer_callback(query.id, _SETTLED_BATCH)
            return
        for approval_id in open_ids:
            answer = ApprovalAnswer(
                approval_id=approval_id,
                choice=choice,
                user_id=query.from_user.id,
                chat_id=chat_id,
                message_id=message_id,
                username=query.from_user.username,
            )
            try:
                outcome = await self._on_approval(answer)
            except Exception as error:
                logger.error(
                    "telegram_approval_failed",
                    chat_id=chat_id,
                    approval_id=approval_id,
                    error=repr(error),
                    exc_info=error,
                )
                refusal = refusal or _APPROVAL_FAILED
                continue
            if is_settled_outcome(outcome):
                await self._approvals.settle_quietly(
                    self._api, chat_id, message_id, outcome, None, approval_id
                )
            else:
                refusal = refusal or outcome
        await self._api.answer_callback(query.id, refusal)

    async def _on_scope(
        self, query: CallbackQuery, approval_id: str, number: int, remember: bool
    ) -> None:
        """A scope button pressed after "always": learn it, and show the outcome once."""
        api = self._api
        message = query.message
        if message is None:
            await api.answer_callback(query.id, _DEAD_BUTTON)
            return
        answer = ApprovalAnswer(
            approval_id=approval_id,
            choice=ApprovalChoice.ALWAYS,
            user_id=query.from_user.id,
            chat_id=message.chat.id,
            message_id=str(message.message_id),
            username=query.from_user.username,
            scope=number,
            remember=remember,
        )
        try:
            outcome = await self._on_approval(answer)
        except Exception as error:  # noqa: BLE001 - the press is answered either way
            logger.error("telegram_scope_failed", approval_id=approval_id, error=repr(error))
            await api.answer_callback(query.id, _APPROVAL_FAILED)
            return
        if not outcome.startswith(LEARNED_MARK):
            await api.answer_callback(query.id, outcome)
            return
        await api.answer_callback(query.id, None)
        shown = message.text if isinstance(message, Message) else None
        await self._approvals.settle_quietly(
            api, message.chat.id, str(message.message_id), outcome, shown
        )

    async def _tell(self, chat_id: ChatId, text: str) -> None:
        try:
            await self._api.send(chat_id, text)
        except ConnectorError as error:
            logger.warning("telegram_notice_failed", chat_id=chat_id, error=str(error))
