"""ApprovalMessages: approval requests as Telegram messages, from the ask to the outcome.

A request is posted with its buttons and remembered until it is settled;
settling it (by a button, or by the coordinator on expiry or cancel) shows the
outcome under the request and removes the buttons, once.

The request is shown verbatim, never through Markdown: a person approves the
command as it will run, and `rm build/**/*.pyc` must not lose its `*` to
formatting.
"""

from __future__ import annotations

import structlog

from tether.connectors.telegram_api import TelegramApi
from tether.connectors.telegram_keyboard import approval_keyboard
from tether.core.types import ChatId
from tether.exceptions import ConnectorError

__all__ = ["ApprovalMessages"]

logger = structlog.get_logger(__name__)

_MAX_TEXT = 3500
# Requests never settled (the process answering them went away) are forgotten
# oldest first past this many.
_REMEMBERED = 1000


class ApprovalMessages:
    """The open approval requests of one bot, by (chat, message id)."""

    def __init__(self) -> None:
        self._open: dict[tuple[ChatId, str], str] = {}

    async def post(
        self,
        api: TelegramApi,
        chat_id: ChatId,
        approval_id: str,
        description: str,
        tool_name: str,
    ) -> str:
        """Send the request with Approve / Reject / Always buttons; the message id.

        Raises:
            ConnectorError: the id does not fit on a button, or sending failed.
        """
        keyboard = approval_keyboard(approval_id, tool_name)
        text = description if tool_name in description else f"🔐 {tool_name}\n{description}"
        if len(text) > _MAX_TEXT:
            text = text[: _MAX_TEXT - 1] + "…"
        message_id = await api.send(chat_id, text, keyboard, markdown=False)
        self._open[(chat_id, message_id)] = text
        while len(self._open) > _REMEMBERED:
            del self._open[next(iter(self._open))]
        return message_id

    async def settle(
        self,
        api: TelegramApi,
        chat_id: ChatId,
        message_id: str,
        outcome: str,
        *,
        shown: str | None = None,
    ) -> bool:
        """Show `outcome` under the request and remove its buttons; False if it was
        not open (already settled). `shown` is the request's text as the chat has
        it, for a request this process did not post (posted before a restart).

        Raises:
            ConnectorError: the message could not be edited.
        """
        text = self._open.pop((chat_id, message_id), None) or shown
        if text is None:
            logger.debug("telegram_approval_not_open", chat_id=chat_id, message_id=message_id)
            return False
        await api.edit(chat_id, message_id, f"{text}\n\n{outcome}", markdown=False)
        return True

    async def settle_quietly(
        self, api: TelegramApi, chat_id: ChatId, message_id: str, outcome: str, shown: str | None
    ) -> None:
        """`settle`, logging a failure instead of raising (a button press has no caller)."""
        try:
            await self.settle(api, chat_id, message_id, outcome, shown=shown)
        except ConnectorError as error:
            logger.warning("telegram_approval_not_updated", chat_id=chat_id, error=str(error))
