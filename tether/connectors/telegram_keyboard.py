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
    "approval_keyboard",
    "decode_approval",
    "decode_scope",
    "encode_approval",
    "inline_keyboard",
    "scope_keyboard",
]

MAX_CALLBACK_DATA_BYTES = 64

_PREFIX = "a"
_CODES = {
    ApprovalChoice.APPROVE: "y",
    ApprovalChoice.REJECT: "n",
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


_SCOPE_PREFIX = "s"
_MAX_SCOPES = 9


def scope_keyboard(approval_id: str, count: int) -> InlineKeyboardMarkup:
    """After "always": one row per scope, "N · this chat" and "N · remember" (`s:<id>:2r`)."""
    if not approval_id or ":" in approval_id:
        raise ConnectorError(f"approval id {approval_id!r} cannot go on a Telegram button")
    rows = []
    for number in range(1, min(count, _MAX_SCOPES) + 1):
        rows.append(
            (
                InlineKeyboardButton(
                    f"{number} · this chat",
                    callback_data=f"{_SCOPE_PREFIX}:{approval_id}:{number}c",
                ),
                InlineKeyboardButton(
                    f"{number} · remember", callback_data=f"{_SCOPE_PREFIX}:{approval_id}:{number}r"
                ),
            )
        )
    return InlineKeyboardMarkup(tuple(rows))


def decode_scope(data: str) -> tuple[str, int, bool] | None:
    """The approval id, scope number and whether to remember, from a scope button; or None."""
    prefix, _, rest = data.partition(":")
    approval_id, _, code = rest.rpartition(":")
    if prefix != _SCOPE_PREFIX or not approval_id or ":" in approval_id or len(code) != 2:
        return None
    number, lifetime = code[0], code[1]
    if not number.isdigit() or number == "0" or lifetime not in "cr":
        return None
    return approval_id, int(number), lifetime == "r"


def approval_keyboard(approval_id: str, tool_name: str) -> InlineKeyboardMarkup:
    """Approve / Reject on one row, "Always…" below (it then offers what to allow)."""
    return InlineKeyboardMarkup(
        (
            (
                InlineKeyboardButton(
                    "✅ Approve", callback_data=encode_approval(approval_id, ApprovalChoice.APPROVE)
                ),
                InlineKeyboardButton(
                    "❌ Reject", callback_data=encode_approval(approval_id, ApprovalChoice.REJECT)
                ),
            ),
            (
                InlineKeyboardButton(
                    "🔁 Always… (choose what)",
                    callback_data=encode_approval(approval_id, ApprovalChoice.ALWAYS),
                ),
            ),
        )
    )


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
