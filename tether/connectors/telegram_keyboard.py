"""Approval buttons for Telegram, and the short callback data they carry.

Telegram gives a button at most 64 bytes of callback data, so a button carries
the approval's short id and a one-letter choice (`a:<id>:y`), never the request
itself. Anything that does not decode is refused by the connector.
"""

from __future__ import annotations

from collections.abc import Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from tether.connectors.base import ApprovalChoice, Button
from tether.exceptions import ConnectorError

__all__ = [
    "MAX_CALLBACK_DATA_BYTES",
    "always_rows",
    "approval_keyboard",
    "approve_row",
    "decode_approval",
    "encode_approval",
    "inline_keyboard",
    "reject_row",
]

MAX_CALLBACK_DATA_BYTES = 64

_PREFIX = "a"
_CODES = {
    ApprovalChoice.APPROVE: "y",
    ApprovalChoice.REJECT: "n",
    ApprovalChoice.REJECT_WITH_REASON: "r",
    ApprovalChoice.ALWAYS: "a",
}
_CHOICES = {code: choice for choice, code in _CODES.items()}


def encode_approval(approval_id: str, choice: ApprovalChoice) -> str:
    """The callback data for one answer to approval `approval_id`.

    Raises:
        ConnectorError: the id is empty, contains ':', or makes the data longer
            than Telegram's 64 bytes.
    """
    if not approval_id or ":" in approval_id:
        raise ConnectorError(
            f"approval id {approval_id!r} cannot go on a Telegram button; "
            "use a short id without ':'"
        )
    data = f"{_PREFIX}:{approval_id}:{_CODES[choice]}"
    if len(data.encode()) > MAX_CALLBACK_DATA_BYTES:
        raise ConnectorError(
            f"approval id {approval_id!r} is too long for a Telegram button "
            f"({len(data.encode())} of {MAX_CALLBACK_DATA_BYTES} bytes); use a short id"
        )
    return data


def decode_approval(data: str) -> tuple[str, ApprovalChoice] | None:
    """The approval id and choice a button carried, or None if it is not an approval button."""
    prefix, _, rest = data.partition(":")
    approval_id, _, code = rest.rpartition(":")
    if prefix != _PREFIX or not approval_id or ":" in approval_id or code not in _CHOICES:
        return None
    return approval_id, _CHOICES[code]


def approval_keyboard(approval_id: str, tool_name: str) -> InlineKeyboardMarkup:
    """Approve alone on the top row, the standing approvals below it, the rejections last.

    People report approving by accident when Approve sits beside Reject, so
    the two never share a row, and the rows between them keep them apart.
    """
    return InlineKeyboardMarkup(
        (
            approve_row(approval_id),
            *always_rows(approval_id, tool_name),
            reject_row(approval_id),
        )
    )


def approve_row(approval_id: str) -> tuple[InlineKeyboardButton, ...]:
    """The Approve button, alone."""
    return (_button("✅ Approve", approval_id, ApprovalChoice.APPROVE),)


def always_rows(approval_id: str, tool_name: str) -> tuple[tuple[InlineKeyboardButton, ...], ...]:
    """The standing approvals offered for this call, one per row."""
    return ((_button(f"🔁 Always for {tool_name}", approval_id, ApprovalChoice.ALWAYS),),)


def reject_row(approval_id: str) -> tuple[InlineKeyboardButton, ...]:
    """Reject, and Reject with a reason (the next message is sent to the agent)."""
    return (
        _button("❌ Reject", approval_id, ApprovalChoice.REJECT),
        _button("💬 Reject with reason", approval_id, ApprovalChoice.REJECT_WITH_REASON),
    )


def _button(label: str, approval_id: str, choice: ApprovalChoice) -> InlineKeyboardButton:
    return InlineKeyboardButton(label, callback_data=encode_approval(approval_id, choice))


def inline_keyboard(rows: Sequence[Sequence[Button]]) -> InlineKeyboardMarkup:
    """Telegram's keyboard for rows of `Button`s.

    Raises:
        ConnectorError: a button's data is longer than 64 bytes.
    """
    for row in rows:
        for button in row:
            if len(button.data.encode()) > MAX_CALLBACK_DATA_BYTES:
                raise ConnectorError(
                    f"button {button.label!r} carries {len(button.data.encode())} bytes of "
                    f"data; Telegram allows {MAX_CALLBACK_DATA_BYTES}: carry a short id"
                )
    return InlineKeyboardMarkup(
        tuple(
            tuple(InlineKeyboardButton(button.label, callback_data=button.data) for button in row)
            for row in rows
        )
    )
