"""ApprovalMessages: approval requests as Telegram messages, from the ask to the outcome.

A request is posted with its buttons and remembered until it is settled;
settling it (by a button, or by the coordinator on expiry or cancel) shows the
outcome under the request and removes the buttons, once.

The request is shown verbatim, never through Markdown: a person approves the
command as it will run, and `rm build/**/*.pyc` must not lose its `*` to
formatting. With a preview it is the shared approval view as escaped HTML
(`telegram_preview.py`); a diff too long for one message is cut, and sent in
full as a `.diff` file under the request.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from html import escape
from pathlib import PurePosixPath

from tether.connectors.approval_view import approval_view
from tether.connectors.streaming import split_message
from tether.connectors.telegram_api import TelegramApi
from tether.connectors.telegram_batch import BatchItem, OpenBatch, item_message_id, split_item_id
from tether.connectors.telegram_format import to_telegram_html
from tether.connectors.telegram_keyboard import approval_keyboard, plan_keyboard, question_keyboard
from tether.connectors.telegram_preview import approval_html
from tether.core.safety.prompts import AgentPrompt
from tether.core.types import ApprovalPreview, ChatId
from tether.exceptions import ConnectorError
from tether.log import get_logger

__all__ = ["ApprovalMessages"]

logger = get_logger(__name__)

_MAX_TEXT = 3500
# A long plan is sent in pages of this many characters; the buttons go with the last.
_PLAN_PAGE = 3000
# Requests never settled (the process answering them went away) are forgotten
# oldest first past this many.
_REMEMBERED = 1000


def _fits(html: str) -> str | None:
    """`html` if it fits one message; None sends the plain text instead."""
    return html if len(html) <= _MAX_TEXT + 500 else None


def _questions_text(prompt: AgentPrompt) -> tuple[str, str | None]:
    """The questions as plain text and as HTML: numbered, options with their descriptions."""
    plain = ["❓ The agent asks"]
    html = ["<b>❓ The agent asks</b>"]
    several = len(prompt.questions) > 1
    for index, question in enumerate(prompt.questions, start=1):
        number = f"{index}. " if several else ""
        header = f"[{question.header}] " if question.header else ""
        how = " (pick any, then Done)" if question.multi_select else ""
        plain.append(f"\n{number}{header}{question.question}{how}")
        html.append(
            f"\n<b>{escape(number + header, quote=False)}</b>"
            f"{escape(question.question, quote=False)}<i>{escape(how, quote=False)}</i>"
        )
        for option in question.options:
            extra = f" — {option.description}" if option.description else ""
            plain.append(f"• {option.label}{extra}")
            html.append(f"• {escape(option.label, quote=False)}<i>{escape(extra, quote=False)}</i>")
    tail = "\nOr send your own answer as a message" + (
        " (answers go in order)." if several else "."
    )
    plain.append(tail)
    html.append(f"<i>{escape(tail, quote=False)}</i>")
    shown = "\n".join(html)
    # HTML cannot be cut safely: one too long goes as its plain text, cut.
    return "\n".join(plain)[:_MAX_TEXT], (shown if len(shown) <= _MAX_TEXT else None)


@dataclass
class _Collecting:
    """Requests for one chat gathered during the batch window, and where they went."""

    items: list[BatchItem]
    posted: asyncio.Future[str] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class ApprovalMessages:
    """The open approval requests of one bot, by (chat, message id).

    Args:
        batch_seconds: requests for one chat arriving within this window go out
            as one message (0: each on its own, at once).
    """

    def __init__(self, *, batch_seconds: float = 0.25) -> None:
        # (plain text, HTML or None) of each open request, to add the outcome to.
        self._open: dict[tuple[ChatId, str], tuple[str, str | None]] = {}
        self._batch_seconds = batch_seconds
        self._collecting: dict[ChatId, _Collecting] = {}
        self._batches: dict[tuple[ChatId, str], OpenBatch] = {}

    async def post(
        self,
        api: TelegramApi,
        chat_id: ChatId,
        approval_id: str,
        description: str,
        tool_name: str,
        preview: ApprovalPreview | None = None,
    ) -> str:
        """Send the request with its answer buttons (it notifies); the message id.

        Requests for the same chat within the batch window share one message;
        each gets the id `<message id>#<item>`.

        Raises:
            ConnectorError: the id does not fit on a button, or sending failed.
        """
        item = BatchItem(approval_id, tool_name, description, preview)
        if self._batch_seconds <= 0:
            return await self._post_one(api, chat_id, item)
        collecting = self._collecting.get(chat_id)
        if collecting is not None:
            collecting.items.append(item)
            number = len(collecting.items)
            return item_message_id(await asyncio.shield(collecting.posted), number)
        collecting = _Collecting(items=[item])
        self._collecting[chat_id] = collecting
        try:
            await asyncio.sleep(self._batch_seconds)
        except asyncio.CancelledError:
            # The request that opened the batch was cancelled: the others must
            # not wait for a message that will never be sent.
            if len(collecting.items) > 1:
                collecting.posted.set_exception(ConnectorError("the requests were cancelled"))
            raise
        finally:
            del self._collecting[chat_id]
        items = collecting.items
        try:
            if len(items) == 1:
                return await self._post_one(api, chat_id, item)
            message_id = await self._post_batch(api, chat_id, items)
        except BaseException as error:
            collecting.posted.set_exception(
                ConnectorError(f"the requests could not be posted ({type(error).__name__})")
            )
            raise
        collecting.posted.set_result(message_id)
        return item_message_id(message_id, 1)

    async def _post_batch(self, api: TelegramApi, chat_id: ChatId, items: list[BatchItem]) -> str:
        batch = OpenBatch(items=list(items))
        text, html = batch.render()
        message_id = await api.send(
            chat_id, text[:_MAX_TEXT], batch.keyboard(), markdown=False, html=_fits(html)
        )
        self._batches[(chat_id, message_id)] = batch
        while len(self._batches) > _REMEMBERED:
            del self._batches[next(iter(self._batches))]
        return message_id

    def batch_open_ids(self, chat_id: ChatId, message_id: str) -> list[str]:
        """The requests still open in the batch message `message_id` (empty if none)."""
        batch = self._batches.get((chat_id, message_id))
        return batch.open_ids if batch is not None else []

    async def _settle_item(
        self, api: TelegramApi, chat_id: ChatId, message_id: str, batch: OpenBatch, number: int
    ) -> None:
        text, html = batch.render()
        keyboard = batch.keyboard()
        if keyboard is None:
            del self._batches[(chat_id, message_id)]
        await api.edit(
            chat_id, message_id, text[:_MAX_TEXT], keyboard, markdown=False, html=_fits(html)
        )

    async def _post_one(self, api: TelegramApi, chat_id: ChatId, item: BatchItem) -> str:
        approval_id, tool_name = item.approval_id, item.tool_name
        description, preview = item.description, item.preview
        keyboard = approval_keyboard(approval_id, tool_name)
        html: str | None = None
        attachment: str | None = None
        if preview is not None:
            view = approval_view(preview)
            shown = approval_html(view)
            text, html, attachment = view.plain(), shown.html, shown.attachment
        else:
            text = description if tool_name in description else f"🔐 {tool_name}\n{description}"
        if len(text) > _MAX_TEXT:
            text = text[: _MAX_TEXT - 1] + "…"
        message_id = await api.send(chat_id, text, keyboard, markdown=False, html=html)
        self._open[(chat_id, message_id)] = (text, html)
        while len(self._open) > _REMEMBERED:
            del self._open[next(iter(self._open))]
        if attachment is not None and preview is not None:
            await self._attach(api, chat_id, attachment, preview.subject or tool_name)
        return message_id

    async def post_prompt(
        self, api: TelegramApi, chat_id: ChatId, approval_id: str, prompt: AgentPrompt
    ) -> str:
        """Send the agent's questions (options as buttons) or its plan (paged, as HTML,
        with Approve / Approve in edit mode / Keep planning); the id of the message
        with the buttons.

        Raises:
            ConnectorError: sending failed.
        """
        html: str | None
        if prompt.kind == "plan":
            pages = split_message(prompt.plan, _PLAN_PAGE)
            for number, page in enumerate(pages[:-1], start=1):
                head = f"🗺 The agent's plan ({number}/{len(pages)})\n\n"
                await api.send(chat_id, head + page, silent=number > 1)
            count = f" ({len(pages)}/{len(pages)})" if len(pages) > 1 else ""
            text = f"🗺 The agent's plan{count}\n\n{pages[-1]}"
            html = f"<b>🗺 The agent's plan{count}</b>\n\n{to_telegram_html(pages[-1])}"
            keyboard = plan_keyboard(approval_id)
        else:
            text, html = _questions_text(prompt)
            keyboard = question_keyboard(approval_id, prompt)
        message_id = await api.send(chat_id, text, keyboard, markdown=False, html=html)
        self._open[(chat_id, message_id)] = (text, html)
        return message_id

    @staticmethod
    async def _attach(api: TelegramApi, chat_id: ChatId, diff: str, subject: str) -> None:
        """The whole diff as a file under the request; best effort (the request stands)."""
        name = PurePosixPath(subject.split(",")[0]).name or "change"
        try:
            await api.send_document(
                chat_id,
                diff.encode("utf-8", "backslashreplace"),
                f"{name}.diff",
                f"The whole diff of {subject}",
                silent=True,
            )
        except ConnectorError as error:
            logger.warning("telegram_diff_not_sent", chat_id=chat_id, error=str(error))

    async def settle(
        self,
        api: TelegramApi,
        chat_id: ChatId,
        message_id: str,
        outcome: str,
        *,
        shown: str | None = None,
        approval_id: str | None = None,
    ) -> bool:
        """Show `outcome` under the request and remove its buttons; False if it was
        not open (already settled). `shown` is the request's text as the chat has
        it, for a request this process did not post (posted before a restart).

        Raises:
            ConnectorError: the message could not be edited.
        """
        real, number = split_item_id(message_id)
        batch = self._batches.get((chat_id, real))
        if batch is not None:
            if number is None and approval_id is not None:
                number = batch.number_of(approval_id)
            if number is None or not 1 <= number <= len(batch.items):
                return False
            if not batch.settle(batch.items[number - 1].approval_id, outcome):
                return False
            await self._settle_item(api, chat_id, real, batch, number)
            return True
        opened = self._open.pop((chat_id, message_id), None)
        if opened is None and shown is None:
            logger.debug("telegram_approval_not_open", chat_id=chat_id, message_id=message_id)
            return False
        text, html = opened if opened is not None else (shown or "", None)
        body = f"{html}\n\n{escape(outcome, quote=False)}" if html is not None else None
        await api.edit(chat_id, message_id, f"{text}\n\n{outcome}", markdown=False, html=body)
        return True

    async def hold(
        self,
        api: TelegramApi,
        chat_id: ChatId,
        message_id: str,
        status: str,
        approval_id: str | None = None,
    ) -> None:
        """Show `status` under the request and remove its buttons, keeping it open
        (waiting for a reason: the timeout or the reason settles it)."""
        batch = self._batches.get((chat_id, message_id))
        number = batch.number_of(approval_id) if batch and approval_id else None
        if batch is not None and number is not None:
            batch.items[number - 1].status = status
            try:
                await self._settle_item(api, chat_id, message_id, batch, number)
            except ConnectorError as error:
                logger.warning("telegram_approval_not_updated", chat_id=chat_id, error=str(error))
            return
        opened = self._open.get((chat_id, message_id))
        if opened is None:
            return
        text, html = opened
        body = f"{html}\n\n{escape(status, quote=False)}" if html is not None else None
        try:
            await api.edit(chat_id, message_id, f"{text}\n\n{status}", markdown=False, html=body)
        except ConnectorError as error:
            logger.warning("telegram_approval_not_updated", chat_id=chat_id, error=str(error))

    async def settle_quietly(
        self,
        api: TelegramApi,
        chat_id: ChatId,
        message_id: str,
        outcome: str,
        shown: str | None,
        approval_id: str | None = None,
    ) -> None:
        """`settle`, logging a failure instead of raising (a button press has no caller)."""
        try:
            await self.settle(
                api, chat_id, message_id, outcome, shown=shown, approval_id=approval_id
            )
        except ConnectorError as error:
            logger.warning("telegram_approval_not_updated", chat_id=chat_id, error=str(error))
