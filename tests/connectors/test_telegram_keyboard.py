"""Approval buttons and their 64-byte callback data."""

from __future__ import annotations

import pytest

from tether.connectors.base import ApprovalChoice, Button
from tether.connectors.telegram_keyboard import (
    approval_keyboard,
    decode_approval,
    decode_scope,
    encode_approval,
    inline_keyboard,
    scope_keyboard,
)
from tether.exceptions import ConnectorError


@pytest.mark.parametrize("choice", list(ApprovalChoice), ids=str)
def test_callback_data_round_trips(choice: ApprovalChoice) -> None:
    data = encode_approval("k3x9", choice)
    assert len(data.encode()) <= 64
    assert decode_approval(data) == ("k3x9", choice)


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
    ],
)
def test_foreign_callback_data_is_not_an_approval(data: str) -> None:
    assert decode_approval(data) is None


def test_approval_keyboard_has_approve_reject_and_always_for_the_tool() -> None:
    keyboard = approval_keyboard("k3x9", "Bash")
    rows = [
        [(button.text, button.callback_data) for button in row] for row in keyboard.inline_keyboard
    ]
    assert rows == [
        [("✅ Approve", "a:k3x9:y"), ("❌ Reject", "a:k3x9:n")],
        [("🔁 Always… (choose what)", "a:k3x9:a")],
    ]


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
