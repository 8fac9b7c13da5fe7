"""Approval buttons and their 64-byte callback data."""

from __future__ import annotations

import pytest

from tether.connectors.base import ApprovalChoice, Button
from tether.connectors.telegram_keyboard import (
    approval_keyboard,
    decode_answer,
    decode_approval,
    decode_scope,
    encode_approval,
    inline_keyboard,
    scope_keyboard,
)
from tether.exceptions import ConnectorError

_BUTTON_VALUES = {ApprovalChoice.OPTION: "11.7", ApprovalChoice.DONE: "3"}


@pytest.mark.parametrize(
    "choice", [c for c in ApprovalChoice if c is not ApprovalChoice.ANSWER], ids=str
)
def test_callback_data_round_trips(choice: ApprovalChoice) -> None:
    value = _BUTTON_VALUES.get(choice, "")
    data = encode_approval("k3x9", choice, value)
    assert len(data.encode()) <= 64
    assert decode_answer(data) == ("k3x9", choice, value or None)
    assert decode_approval(data) == ("k3x9", choice)


def test_a_typed_answer_cannot_go_on_a_button() -> None:
    with pytest.raises(ConnectorError, match="typed"):
        encode_approval("k3x9", ApprovalChoice.ANSWER, "0\nhi")


@pytest.mark.parametrize(
    ("approval_id", "message"),
    [
        pytest.param("x" * 70, "too long", id="too-long"),
        pytest.param("a:b", "without ':'", id="colon"),
        pytest.param("", "short id", id="empty"),
    ],
)
def test_ids_that_cannot_go_on_a_button_are_refused(approval_id: str, message: str) -> None:
    with pytest.raises(ConnectorError, match=message):
        encode_approval(approval_id, ApprovalChoice.APPROVE)


@pytest.mark.parametrize(
    "data",
    [
        pytest.param("", id="empty"),
        pytest.param("a:k3x9", id="no-choice"),
        pytest.param("a:k3x9:z", id="unknown-choice"),
        pytest.param("b:k3x9:y", id="other-prefix"),
        pytest.param("a::y", id="no-id"),
        pytest.param("a:k3:x9:y", id="colon-in-id"),
        pytest.param("a:k3x9:o1", id="option-without-its-index"),
        pytest.param("a:k3x9:o1.x", id="option-not-a-number"),
        pytest.param("a:k3x9:o１.2", id="full-width-digit"),
        pytest.param("a:k3x9:d", id="done-without-question"),
        pytest.param("a:k3x9:d-1", id="done-negative"),
    ],
)
def test_foreign_callback_data_is_not_an_approval(data: str) -> None:
    assert decode_approval(data) is None
    assert decode_answer(data) is None


def test_approve_sits_alone_far_from_the_rejections() -> None:
    """A hurried thumb aiming at Reject cannot land on Approve: they never share a row."""
    keyboard = approval_keyboard("k3x9", "Bash")
    rows = [
        [(button.text, button.callback_data) for button in row] for row in keyboard.inline_keyboard
    ]
    assert rows[0] == [("✅ Approve", "a:k3x9:y")]
    assert rows[-1] == [("❌ Reject", "a:k3x9:n"), ("💬 Reject with reason", "a:k3x9:r")]
    assert len(rows) >= 3, "at least one row keeps Approve and Reject apart"


def test_every_button_fits_telegrams_callback_limit_with_the_longest_id() -> None:
    keyboard = approval_keyboard("x" * 40, "mcp__some_server__a_very_long_tool_name_indeed")
    for row in keyboard.inline_keyboard:
        for button in row:
            assert len(str(button.callback_data).encode()) <= 64


def test_inline_keyboard_refuses_data_over_64_bytes() -> None:
    with pytest.raises(ConnectorError, match="Telegram allows 64"):
        inline_keyboard([[Button(label="big", data="é" * 33)]])


def test_inline_keyboard_keeps_rows() -> None:
    keyboard = inline_keyboard([[Button(label="A", data="1"), Button(label="B", data="2")]])
    assert [[b.text for b in row] for row in keyboard.inline_keyboard] == [["A", "B"]]


def test_scope_buttons_carry_number_and_lifetime() -> None:
    keyboard = scope_keyboard("k3x9", 2)
    data = [[button.callback_data for button in row] for row in keyboard.inline_keyboard]
    assert data == [["s:k3x9:1c", "s:k3x9:1r"], ["s:k3x9:2c", "s:k3x9:2r"]]
    assert decode_scope("s:k3x9:2r") == ("k3x9", 2, True)
    assert decode_scope("s:k3x9:1c") == ("k3x9", 1, False)


@pytest.mark.parametrize(
    "data",
    ["s:k3x9:0c", "s:k3x9:1x", "s::1c", "s:a:b:1c", "s:k3x9:12c", "a:k3x9:y", "s:k3x9:"],
)
def test_malformed_scope_buttons_are_refused(data: str) -> None:
    assert decode_scope(data) is None
