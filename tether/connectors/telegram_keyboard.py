"""Approval buttons for Telegram, and the short callback data they carry.

Telegram gives a button at most 64 bytes of callback data, so a button carries
the approval's short id and a one-letter choice (`a:<id>:y`), never the request
itself. Anything that does not decode is refused by the connector.
"""

from __future__ import annotations

from collections.abc import Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from tether.connectors.base import ApprovalChoice, Button
from tether.core.safety.prompts import AgentPrompt
from tether.exceptions import ConnectorError

__all__ = [
    "MAX_CALLBACK_DATA_BYTES",
    "always_rows",
    "approval_keyboard",
    "approve_row",
    "decode_answer",
    "decode_approval",
    "decode_scope",
    "encode_approval",
    "inline_keyboard",
    "plan_keyboard",
    "question_keyboard",
    "reject_row",
    "scope_keyboard",
]

MAX_CALLBACK_DATA_BYTES = 64

_PREFIX = "a"
_CODES = {
    ApprovalChoice.APPROVE: "y",
    ApprovalChoice.REJECT: "n",
    ApprovalChoice.REJECT_WITH_REASON: "r",
    ApprovalChoice.APPROVE_EDIT: "e",
    ApprovalChoice.KEEP_PLANNING: "k",
    ApprovalChoice.ALWAYS: "a",
}
_CHOICES = {code: choice for choice, code in _CODES.items()}
# Answers that carry indexes: an option ("o1.2") and a finished multi-select ("d1").
_VALUED = {ApprovalChoice.OPTION: "o", ApprovalChoice.DONE: "d"}
_VALUED_CODES = {code: choice for choice, code in _VALUED.items()}


def encode_approval(approval_id: str, choice: ApprovalChoice, value: str = "") -> str:
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
    if choice not in _VALUED and choice not in _CODES:
        raise ConnectorError(f"a {choice.value} is typed, not pressed: it has no button")
    code = _VALUED[choice] + value if choice in _VALUED else _CODES[choice]
    data = f"{_PREFIX}:{approval_id}:{code}"
    if len(data.encode()) > MAX_CALLBACK_DATA_BYTES:
        raise ConnectorError(
            f"approval id {approval_id!r} is too long for a Telegram button "
            f"({len(data.encode())} of {MAX_CALLBACK_DATA_BYTES} bytes); use a short id"
        )
    return data


def decode_approval(data: str) -> tuple[str, ApprovalChoice] | None:
    """The approval id and choice a button carried, or None if it is not an approval button."""
    decoded = decode_answer(data)
    return None if decoded is None else (decoded[0], decoded[1])


def decode_answer(data: str) -> tuple[str, ApprovalChoice, str | None] | None:
    """The id, choice and value (a question's indexes) a button carried, or None."""
    prefix, _, rest = data.partition(":")
    approval_id, _, code = rest.rpartition(":")
    if prefix != _PREFIX or not approval_id or ":" in approval_id:
        return None
    if code in _CHOICES:
        return approval_id, _CHOICES[code], None
    choice = _VALUED_CODES.get(code[:1])
    value = code[1:]
    valid = (
        value.isdigit() if choice is ApprovalChoice.DONE else _is_pair(value)
    ) and value.isascii()
    if choice is None or not valid:
        return None
    return approval_id, choice, value


def _is_pair(value: str) -> bool:
    first, dot, second = value.partition(".")
    return bool(dot) and first.isdigit() and second.isdigit()


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
    return ((_button("🔁 Always… (choose what)", approval_id, ApprovalChoice.ALWAYS),),)


def reject_row(approval_id: str) -> tuple[InlineKeyboardButton, ...]:
    """Reject, and Reject with a reason (the next message is sent to the agent)."""
    return (
        _button("❌ Reject", approval_id, ApprovalChoice.REJECT),
        _button("💬 Reject with reason", approval_id, ApprovalChoice.REJECT_WITH_REASON),
    )


def _button(label: str, approval_id: str, choice: ApprovalChoice) -> InlineKeyboardButton:
    return InlineKeyboardButton(label, callback_data=encode_approval(approval_id, choice))


def question_keyboard(approval_id: str, prompt: AgentPrompt) -> InlineKeyboardMarkup:
    """One button per option (numbered by question when there are several), Done under
    each multi-select question, and "Don't answer" apart at the bottom."""
    rows: list[tuple[InlineKeyboardButton, ...]] = []
    several = len(prompt.questions) > 1
    for q, question in enumerate(prompt.questions):
        for o, option in enumerate(question.options):
            label = f"{q + 1}. {option.label}" if several else option.label
            rows.append(
                (
                    InlineKeyboardButton(
                        label[:64],
                        callback_data=encode_approval(
                            approval_id, ApprovalChoice.OPTION, f"{q}.{o}"
                        ),
                    ),
                )
            )
        if question.multi_select:
            done = f"☑️ Done with {q + 1}" if several else "☑️ Done"
            rows.append(
                (
                    InlineKeyboardButton(
                        done,
                        callback_data=encode_approval(approval_id, ApprovalChoice.DONE, str(q)),
                    ),
                )
            )
    rows.append((_button("❌ Don't answer", approval_id, ApprovalChoice.REJECT),))
    return InlineKeyboardMarkup(tuple(rows))


def plan_keyboard(approval_id: str) -> InlineKeyboardMarkup:
    """Approve (default mode) alone on top, Approve in edit mode, Keep planning last."""
    return InlineKeyboardMarkup(
        (
            (_button("✅ Approve plan", approval_id, ApprovalChoice.APPROVE),),
            (_button("✏️ Approve, edit mode", approval_id, ApprovalChoice.APPROVE_EDIT),),
            (_button("📝 Keep planning", approval_id, ApprovalChoice.KEEP_PLANNING),),
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
