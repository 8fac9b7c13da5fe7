"""Approval requests on Telegram: verbatim requests, pressed buttons, refusals, outcomes."""

from __future__ import annotations

import asyncio

import pytest

from tether.connectors.base import ApprovalAnswer, ApprovalChoice, Button
from tether.connectors.telegram import TelegramConnector
from tether.exceptions import ConnectorError

from .conftest import Handlers
from .fake_bot_api import FakeBotApi

DESCRIPTION = (
    "🔐 Bash: rm -f build/**/*.pyc\nWhy: deleting files asks (rule ask-delete)\nRisk: medium"
)


async def _ask(connector: TelegramConnector, bot_api: FakeBotApi) -> int:
    return int(await connector.request_approval(42, "k3x9", DESCRIPTION, "Bash"))


async def test_an_approval_request_shows_the_call_verbatim_with_approve_apart_from_reject(
    connector: TelegramConnector, bot_api: FakeBotApi
) -> None:
    """The command is shown exactly as it will run: `**` is not taken for bold."""
    message_id = await _ask(connector, bot_api)
    shown = bot_api.messages[(42, message_id)]
    assert (shown.text, shown.parse_mode) == (DESCRIPTION, None)
    labels = [[button["text"] for button in row] for row in shown.buttons]
    assert labels == [
        ["✅ Approve"],
        ["🔁 Always… (choose what)"],
        ["❌ Reject", "💬 Reject with reason"],
    ]


@pytest.mark.parametrize(
    ("label", "choice", "outcome"),
    [
        pytest.param("✅", ApprovalChoice.APPROVE, "✅ Approved by @ana", id="approve"),
        pytest.param("❌", ApprovalChoice.REJECT, "❌ Rejected by @ana", id="reject"),
        pytest.param(
            "🔁",
            ApprovalChoice.ALWAYS,
            "✅ Approved by @ana; choose what to allow from now on (or nothing)",
            id="always",
        ),
    ],
)
async def test_a_pressed_button_is_answered_and_the_request_shows_the_outcome(
    connector: TelegramConnector,
    bot_api: FakeBotApi,
    handlers: Handlers,
    label: str,
    choice: ApprovalChoice,
    outcome: str,
) -> None:
    handlers.outcome = lambda answer: outcome
    message_id = await _ask(connector, bot_api)
    query_id = bot_api.press(message_id, label)
    await bot_api.wait_for(lambda: bot_api.messages[(42, message_id)].edits == 1)
    assert handlers.answers == [
        ApprovalAnswer(
            approval_id="k3x9",
            choice=choice,
            user_id=42,
            chat_id=42,
            message_id=str(message_id),
            username="ana",
        )
    ]
    assert "text" not in bot_api.callback_answers[query_id]
    shown = bot_api.messages[(42, message_id)]
    assert shown.visible_text == f"{DESCRIPTION}\n\n{outcome}"
    assert shown.buttons == []


async def test_a_refused_press_is_told_to_the_presser_and_the_buttons_stay(
    connector: TelegramConnector, bot_api: FakeBotApi, handlers: Handlers
) -> None:
    refusal = "Only the person who started this request can answer."
    handlers.outcome = lambda answer: refusal
    message_id = await _ask(connector, bot_api)
    query_id = bot_api.press(message_id, "✅", user_id=99, username="mallory")
    await bot_api.wait_for(lambda: query_id in bot_api.callback_answers)
    assert bot_api.callback_answers[query_id]["text"] == refusal
    assert handlers.answers[0].user_id == 99
    shown = bot_api.messages[(42, message_id)]
    assert shown.edits == 0 and len(shown.buttons) == 3


async def test_a_second_press_is_refused_once_the_first_settled(
    connector: TelegramConnector, bot_api: FakeBotApi, handlers: Handlers
) -> None:
    handlers.outcome = lambda answer: (
        "✅ Approved by @ana"
        if len(handlers.answers) == 1
        else "This request was already answered."
    )
    message_id = await _ask(connector, bot_api)
    first = bot_api.press(message_id, "✅")
    second = bot_api.push_callback(message_id, "a:k3x9:n")
    await bot_api.wait_for(lambda: {first, second} <= set(bot_api.callback_answers))
    assert bot_api.callback_answers[second]["text"] == "This request was already answered."
    assert bot_api.messages[(42, message_id)].visible_text.endswith("✅ Approved by @ana")


async def test_a_button_that_is_not_an_approval_is_refused(
    connector: TelegramConnector, bot_api: FakeBotApi, handlers: Handlers
) -> None:
    message_id = await connector.send_message(42, "Pick", [[Button(label="Old", data="menu:7")]])
    query_id = bot_api.push_callback(int(message_id), "menu:7")
    await bot_api.wait_for(lambda: query_id in bot_api.callback_answers)
    assert bot_api.callback_answers[query_id]["text"] == "This button no longer works."
    assert handlers.answers == []


async def test_an_approval_handler_that_fails_is_reported_to_the_presser(
    connector: TelegramConnector, bot_api: FakeBotApi, handlers: Handlers
) -> None:
    def fail(answer: ApprovalAnswer) -> str:
        raise RuntimeError("coordinator crashed")

    handlers.outcome = fail
    message_id = await _ask(connector, bot_api)
    query_id = bot_api.press(message_id, "✅")
    await bot_api.wait_for(lambda: query_id in bot_api.callback_answers)
    assert bot_api.callback_answers[query_id]["text"].startswith("Something went wrong")
    assert len(bot_api.messages[(42, message_id)].buttons) == 3


async def test_close_approval_shows_why_and_removes_the_buttons(
    connector: TelegramConnector, bot_api: FakeBotApi
) -> None:
    message_id = await _ask(connector, bot_api)
    await connector.close_approval(42, str(message_id), "⌛ Expired after 300 s: denied")
    shown = bot_api.messages[(42, message_id)]
    assert shown.visible_text == f"{DESCRIPTION}\n\n⌛ Expired after 300 s: denied"
    assert shown.buttons == []


async def test_a_description_without_the_tool_name_gets_it_on_top(
    connector: TelegramConnector, bot_api: FakeBotApi
) -> None:
    message_id = await connector.request_approval(42, "k1", "Why: writes a file", "Write")
    assert bot_api.messages[(42, int(message_id))].text == "🔐 Write\nWhy: writes a file"


async def test_an_approval_id_too_long_for_a_button_is_refused_before_sending(
    connector: TelegramConnector, bot_api: FakeBotApi
) -> None:
    with pytest.raises(ConnectorError, match="too long for a Telegram button"):
        await connector.request_approval(42, "x" * 80, "Bash: ls", "Bash")
    assert bot_api.calls_to("sendMessage") == []


async def test_close_approval_leaves_a_request_settled_by_a_button_as_it_is(
    connector: TelegramConnector, bot_api: FakeBotApi
) -> None:
    message_id = await _ask(connector, bot_api)
    bot_api.press(message_id, "✅")
    await bot_api.wait_for(lambda: bot_api.messages[(42, message_id)].edits == 1)
    await connector.close_approval(42, str(message_id), "⌛ Expired after 300 s: denied")
    shown = bot_api.messages[(42, message_id)]
    assert shown.edits == 1 and shown.visible_text.endswith("✅ Approved by @ana")


async def test_always_offers_scope_buttons_and_a_press_learns_one(
    connector: TelegramConnector, bot_api: FakeBotApi, handlers: Handlers
) -> None:
    labels = ("exactly `npm install lodash`", "`npm install *` in /p")
    await connector.offer_scopes(42, "k3x9", labels)
    message_id = max(key[1] for key in bot_api.messages if key[0] == 42)
    shown = bot_api.messages[(42, message_id)]
    assert "1. exactly `npm install lodash`" in shown.text and shown.parse_mode is None
    assert [[b["text"] for b in row] for row in shown.buttons] == [
        ["1 · this chat", "1 · remember"],
        ["2 · this chat", "2 · remember"],
    ]
    handlers.outcome = lambda answer: "📌 Learned rule ab12: `npm install *` in /p (remembered)"
    bot_api.press(message_id, "2 · remember")
    await bot_api.wait_for(lambda: bot_api.messages[(42, message_id)].edits == 1)
    answer = handlers.answers[-1]
    assert (answer.approval_id, answer.choice, answer.scope, answer.remember) == (
        "k3x9",
        ApprovalChoice.ALWAYS,
        2,
        True,
    )
    assert bot_api.messages[(42, message_id)].buttons == []


async def test_requests_at_once_share_a_message_and_close_one_by_one(
    connector: TelegramConnector, bot_api: FakeBotApi
) -> None:
    ids = await asyncio.gather(
        *(connector.request_approval(42, f"id{n}", f"Bash: step {n}", "Bash") for n in (1, 2))
    )
    assert [i.split("#")[1] for i in ids] == ["1", "2"]
    message_id = int(ids[0].split("#")[0])
    assert {i.split("#")[0] for i in ids} == {str(message_id)}
    await connector.close_approval(42, ids[0], "⌛ Expired after 300 s: denied")
    shown = bot_api.messages[(42, message_id)]
    assert "→ ⌛ Expired after 300 s: denied" in shown.visible_text
    labels = [[b["text"] for b in row] for row in shown.buttons]
    assert labels == [["✅ 2", "💬 2", "❌ 2"]], "one left: no 'all' buttons"
    await connector.close_approval(42, ids[1], "🛑 Cancelled — denied.")
    assert shown.buttons == []
    # Closing again, or an item that does not exist, changes nothing.
    edits = shown.edits
    await connector.close_approval(42, ids[1], "again")
    await connector.close_approval(42, f"{message_id}#9", "nine")
    assert shown.edits == edits


async def test_all_buttons_on_a_settled_batch_change_nothing(
    connector: TelegramConnector, bot_api: FakeBotApi, handlers: Handlers
) -> None:
    message_id = await connector.send_message(42, "Old", [[Button(label="all", data="b:y")]])
    query_id = bot_api.push_callback(int(message_id), "b:y")
    await bot_api.wait_for(lambda: query_id in bot_api.callback_answers)
    assert bot_api.callback_answers[query_id]["text"] == "These requests are already settled."
    assert handlers.answers == []


async def test_a_batch_whose_first_request_is_cancelled_refuses_the_others(
    connector: TelegramConnector, bot_api: FakeBotApi
) -> None:
    first = asyncio.create_task(connector.request_approval(42, "id1", "Bash: a", "Bash"))
    await asyncio.sleep(0.05)
    second = asyncio.create_task(connector.request_approval(42, "id2", "Bash: b", "Bash"))
    await asyncio.sleep(0.05)
    first.cancel()
    with pytest.raises(ConnectorError, match="cancelled"):
        await asyncio.wait_for(second, 2)
    assert bot_api.calls_to("sendMessage") == []
