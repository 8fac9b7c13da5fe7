"""Several approvals at once, as one Telegram message: each item, Approve all, Reject all.

The agent often makes parallel calls, and each may ask. Requests for one chat
that arrive within a short window go out as one message listing them, with a
row of answers per item and Approve all / Reject all; each answer still goes
to the engine per request (each is audited on its own). An item settled by
its button, the timeout or a cancel shows its outcome in the list, and its
row goes; the message keeps the rest until every item is settled.

A batched request's message id, as the coordinator knows it, is
`<message id>#<item number>`, so closing one item never closes the others.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from tether.connectors.approval_view import approval_view
from tether.connectors.base import ApprovalChoice
from tether.connectors.telegram_keyboard import encode_approval
from tether.connectors.telegram_preview import approval_html
from tether.core.types import ApprovalPreview

__all__ = [
    "APPROVE_ALL",
    "REJECT_ALL",
    "BatchItem",
    "OpenBatch",
    "item_message_id",
    "split_item_id",
]

APPROVE_ALL = "b:y"
REJECT_ALL = "b:n"

_ROOM = 3600


@dataclass
class BatchItem:
    """One request in a batch: its id, how it reads, and its outcome once settled."""

    approval_id: str
    tool_name: str
    description: str
    preview: ApprovalPreview | None
    outcome: str | None = None
    status: str | None = None
    """Shown while the item waits for a typed reason (its buttons are gone)."""


@dataclass
class OpenBatch:
    """A batch message and its items, in the order they arrived."""

    items: list[BatchItem] = field(default_factory=list)

    @property
    def open_ids(self) -> list[str]:
        """The requests still waiting for an answer."""
        return [
            item.approval_id for item in self.items if item.outcome is None and item.status is None
        ]

    def number_of(self, approval_id: str) -> int | None:
        """The item number (from 1) of `approval_id`, or None."""
        for number, item in enumerate(self.items, start=1):
            if item.approval_id == approval_id:
                return number
        return None

    def settle(self, approval_id: str, outcome: str) -> bool:
        """Mark `approval_id` settled with `outcome`; False if it was not open here."""
        for item in self.items:
            if item.approval_id == approval_id and item.outcome is None:
                item.outcome = outcome
                return True
        return False

    def render(self) -> tuple[str, str]:
        """The message as plain text and as HTML (each item's preview, shortened)."""
        count = len(self.items)
        share = max(_ROOM // count, 300)
        plain = [f"🔐 {count} requests wait for you"]
        html = [f"<b>🔐 {count} requests wait for you</b>"]
        for number, item in enumerate(self.items, start=1):
            if item.preview is not None:
                view = approval_view(item.preview)
                body_html = approval_html(view, limit=share + 300).html
                body_plain = view.plain()
            else:
                body_plain = item.description
                body_html = escape(item.description, quote=False)
            if len(body_plain) > share:
                body_plain = body_plain[: share - 1] + "…"
            plain.append(f"\n{number}. {body_plain}")
            html.append(f"\n<b>{number}.</b> {body_html}")
            shown = item.outcome or item.status
            if shown is not None:
                plain.append(f"→ {shown}")
                html.append(f"→ {escape(shown, quote=False)}")
        return "\n".join(plain), "\n".join(html)

    def keyboard(self) -> InlineKeyboardMarkup | None:
        """Approve all on top, a row per open item (approve left, reject right), Reject all
        at the bottom; None once every item is settled."""
        rows: list[tuple[InlineKeyboardButton, ...]] = []
        open_items = [
            (n, i)
            for n, i in enumerate(self.items, start=1)
            if i.outcome is None and i.status is None
        ]
        if not open_items:
            return None
        if len(open_items) > 1:
            rows.append((InlineKeyboardButton("✅ Approve all", callback_data=APPROVE_ALL),))
        for number, item in open_items:
            rows.append(
                (
                    _button(f"✅ {number}", item.approval_id, ApprovalChoice.APPROVE),
                    _button(f"💬 {number}", item.approval_id, ApprovalChoice.REJECT_WITH_REASON),
                    _button(f"❌ {number}", item.approval_id, ApprovalChoice.REJECT),
                )
            )
        if len(open_items) > 1:
            rows.append((InlineKeyboardButton("❌ Reject all", callback_data=REJECT_ALL),))
        return InlineKeyboardMarkup(tuple(rows))


def _button(label: str, approval_id: str, choice: ApprovalChoice) -> InlineKeyboardButton:
    return InlineKeyboardButton(label, callback_data=encode_approval(approval_id, choice))


def item_message_id(message_id: str, number: int) -> str:
    """The id the coordinator keeps for item `number` of the batch in `message_id`."""
    return f"{message_id}#{number}"


def split_item_id(message_id: str) -> tuple[str, int | None]:
    """The real message id and the item number (None for a request posted alone)."""
    real, _, number = message_id.partition("#")
    return real, (int(number) if number.isdigit() else None)
