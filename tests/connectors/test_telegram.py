"""TelegramConnector against a local Bot API: start-up, what people send, approvals, replies."""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from tether.connectors.base import ApprovalAnswer, ApprovalChoice, Button
from tether.connectors.telegram import DEFAULT_COMMANDS, TelegramConnector, parse_command
from tether.exceptions import ConnectorError

from .conftest import Handlers
from .fake_bot_api import BOT_USERNAME, FakeBotApi

MakeConnector = Callable[..., TelegramConnector]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


# -- start-up -----------------------------------------------------------------


async def test_start_checks_the_token_and_registers_the_command_menu(
    connector: TelegramConnector, bot_api: FakeBotApi
) -> None:
    assert [call.method for call in bot_api.calls[:2]] == ["getMe", "setMyCommands"]
    assert connector.bot_username == BOT_USERNAME
    assert [(c["command"], c["description"]) for c in bot_api.commands] == list(DEFAULT_COMMANDS)


async def test_a_rejected_token_fails_start_with_a_clear_message(
    make_connector: MakeConnector, bot_api: FakeBotApi
) -> None:
    connector = make_connector(token="999:not-the-right-token")
    with pytest.raises(ConnectorError) as raised:
        await connector.start()
    assert str(raised.value) == (
        "Telegram rejected the bot token (401 Unauthorized); "
        "check TETHER_TELEGRAM_BOT_TOKEN from @BotFather"
    )
    assert "not-the-right-token" not in str(raised.value)
    await connector.stop()


@pytest.mark.parametrize(
    "token",
    [
        pytest.param("", id="empty"),
        pytest.param("no-colon", id="no-colon"),
        pytest.param("12:has spaces", id="spaces"),
    ],
)
async def test_a_malformed_token_fails_start_before_any_request(
    make_connector: MakeConnector, bot_api: FakeBotApi, token: str
) -> None:
    with pytest.raises(ConnectorError, match="does not look like a bot token"):
        await make_connector(token=token).start()
    assert bot_api.calls == []


async def test_an_unreachable_bot_api_fails_start_after_retries(
    make_connector: MakeConnector,
) -> None:
    connector = make_connector(base_url=f"http://127.0.0.1:{_free_port()}")
    with pytest.raises(ConnectorError, match=r"could not be reached.*tried 3 times.*network"):
        await connector.start()
    await connector.stop()


async def test_start_needs_handlers(bot_api: FakeBotApi) -> None:
    with pytest.raises(ConnectorError, match="set_handlers"):
        await TelegramConnector("1:a", base_url=bot_api.url).start()


async def test_stop_is_safe_before_start_and_twice(make_connector: MakeConnector) -> None:
    connector = make_connector()
    await connector.stop()
    await connector.start()
    await connector.stop()
    await connector.stop()


async def test_calls_after_stop_say_the_connector_is_not_started(
    make_connector: MakeConnector,
) -> None:
    connector = make_connector()
    await connector.start()
    await connector.stop()
    with pytest.raises(ConnectorError, match="not started"):
        await connector.send_message(42, "hello")


# -- what people send -----------------------------------------------------------


async def test_a_text_message_reaches_the_message_handler(
    connector: TelegramConnector, bot_api: FakeBotApi, handlers: Handlers
) -> None:
    message_id = bot_api.push_message("What does app.py do?", user_id=7, chat_id=70)
    await bot_api.wait_for(lambda: len(handlers.messages) == 1)
    message = handlers.messages[0]
    assert (message.user_id, message.chat_id, message.text) == (7, 70, "What does app.py do?")
    assert (message.message_id, message.username, message.local) == (str(message_id), "ana", False)


@pytest.mark.parametrize(
    ("text", "name", "args"),
    [
        pytest.param("/status", "status", (), id="plain"),
        pytest.param("/start", "help", (), id="start-is-help"),
        pytest.param("/PLAN now please", "plan", ("now", "please"), id="args-and-case"),
        pytest.param(f"/cancel@{BOT_USERNAME}", "cancel", (), id="addressed-to-us"),
    ],
)
async def test_commands_reach_the_command_handler(
    connector: TelegramConnector,
    bot_api: FakeBotApi,
    handlers: Handlers,
    text: str,
    name: str,
    args: tuple[str, ...],
) -> None:
    bot_api.push_message(text)
    await bot_api.wait_for(lambda: len(handlers.commands) == 1)
    message, got_name, got_args = handlers.commands[0]
    assert (got_name, got_args, message.text) == (name, args, text)
    assert handlers.messages == []


async def test_commands_for_another_bot_and_photos_are_ignored(
    connector: TelegramConnector, bot_api: FakeBotApi, handlers: Handlers
) -> None:
    bot_api.push_message("/status@SomeOtherBot")
    bot_api.push_photo()
    bot_api.push_message("after")
    await bot_api.wait_for(lambda: len(handlers.messages) == 1)
    assert handlers.commands == []
    assert [m.text for m in handlers.messages] == ["after"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("hello", None, id="not-a-command"),
        pytest.param("/", None, id="lone-slash"),
        pytest.param("/edit", ("edit", ()), id="command"),
        pytest.param("/help@Other_Bot", ("", ()), id="other-bot"),
    ],
)
def test_parse_command(text: str, expected: tuple[str, tuple[str, ...]] | None) -> None:
    assert parse_command(text, BOT_USERNAME) == expected


async def test_a_failing_handler_gets_a_short_notice_and_the_bot_keeps_going(
    connector: TelegramConnector, bot_api: FakeBotApi, handlers: Handlers
) -> None:
    def explode(message: object) -> None:
        raise RuntimeError("database is locked")

    handlers.on_message_hook = explode
    with capture_logs() as logs:
        bot_api.push_message("first")
        await bot_api.wait_for(lambda: len(bot_api.chat()) == 1)
    notice = bot_api.chat()[0].visible_text
    assert notice.startswith("⚠️ Something went wrong")
    assert "Traceback" not in notice and "database is locked" not in notice
    assert any(entry["event"] == "telegram_handler_failed" for entry in logs)
    handlers.on_message_hook = None
    bot_api.push_message("second")
    await bot_api.wait_for(lambda: len(handlers.messages) == 2)


# -- approvals ------------------------------------------------------------------


async def _ask(connector: TelegramConnector, bot_api: FakeBotApi) -> int:
    message_id = await connector.request_approval(
        42, "k3x9", "`rm -rf build`\nRule: destructive commands ask · risk: high", "Bash"
    )
    return int(message_id)


async def test_an_approval_request_shows_the_call_and_three_buttons(
    connector: TelegramConnector, bot_api: FakeBotApi
) -> None:
    message_id = await _ask(connector, bot_api)
    shown = bot_api.messages[(42, message_id)]
    assert shown.visible_text == (
        "🔐 Bash needs your approval\n\nrm -rf build\nRule: destructive commands ask · risk: high"
    )
    labels = [[button["text"] for button in row] for row in shown.buttons]
    assert labels == [["✅ Approve", "❌ Reject"], ["🔁 Always for Bash"]]


@pytest.mark.parametrize(
    ("label", "choice", "outcome"),
    [
        pytest.param("✅", ApprovalChoice.APPROVE, "✅ Approved by @ana", id="approve"),
        pytest.param("❌", ApprovalChoice.REJECT, "❌ Rejected by @ana", id="reject"),
        pytest.param(
            "🔁",
            ApprovalChoice.ALWAYS,
            "✅ Approved by @ana; Bash is auto-approved in this chat",
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
    assert shown.visible_text.startswith("🔐 Bash needs your approval")
    assert shown.visible_text.endswith(f"risk: high\n\n{outcome}")
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
    assert shown.edits == 0 and len(shown.buttons) == 2


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
    assert len(bot_api.messages[(42, message_id)].buttons) == 2


async def test_close_approval_shows_why_and_removes_the_buttons(
    connector: TelegramConnector, bot_api: FakeBotApi
) -> None:
    message_id = await _ask(connector, bot_api)
    await connector.close_approval(42, str(message_id), "⌛ Expired after 300 s: denied")
    shown = bot_api.messages[(42, message_id)]
    assert shown.visible_text.endswith("risk: high\n\n⌛ Expired after 300 s: denied")
    assert shown.buttons == []


async def test_an_approval_id_too_long_for_a_button_is_refused_before_sending(
    connector: TelegramConnector, bot_api: FakeBotApi
) -> None:
    with pytest.raises(ConnectorError, match="too long for a Telegram button"):
        await connector.request_approval(42, "x" * 80, "Bash: ls", "Bash")
    assert bot_api.calls_to("sendMessage") == []


# -- replies --------------------------------------------------------------------


async def test_a_reply_is_streamed_by_editing_one_message(
    make_connector: MakeConnector, bot_api: FakeBotApi
) -> None:
    connector = make_connector(throttle_seconds=0.0, typing_interval=0.05)
    await connector.start()
    try:
        reply = connector.open_reply(42)
        await reply.update("Looking at **app.py**")
        await reply.activity("🔧 Read: src/app.py")
        await bot_api.wait_for(
            lambda: (
                [m.visible_text for m in bot_api.chat()]
                == ["Looking at app.py\n\n🔧 Read: src/app.py"]
            )
        )
        await reply.update("Looking at **app.py**: it prints hello.")
        await reply.finish("`app.py` prints `hello`.")
    finally:
        await connector.stop()
    (message,) = bot_api.chat()
    assert message.visible_text == "app.py prints hello."
    assert message.text == "<code>app.py</code> prints <code>hello</code>."
    assert message.edits >= 1
    assert bot_api.calls_to("sendChatAction")[0].params["action"] == "typing"


async def test_a_long_reply_is_split_at_4096_characters(
    connector: TelegramConnector, bot_api: FakeBotApi
) -> None:
    paragraph = "All tests pass on this branch. " * 20
    reply = connector.open_reply(42)
    await reply.finish("\n\n".join([paragraph] * 10))
    texts = [message.visible_text for message in bot_api.chat()]
    assert len(texts) == 2
    assert all(len(text) <= 4096 for text in texts)


async def test_send_message_splits_long_text_and_puts_the_buttons_on_the_last_part(
    connector: TelegramConnector, bot_api: FakeBotApi
) -> None:
    message_id = await connector.send_message(
        42, "word " * 1000, [[Button(label="More", data="more")]]
    )
    first, last = bot_api.chat()
    assert str(last.message_id) == message_id
    assert first.buttons == [] and last.buttons == [[{"text": "More", "callback_data": "more"}]]


async def test_typing_indicator_is_sent(connector: TelegramConnector, bot_api: FakeBotApi) -> None:
    await connector.send_typing_indicator(42)
    assert [call.params for call in bot_api.calls_to("sendChatAction")] == [
        {"chat_id": 42, "action": "typing"}
    ]


async def test_send_file_uploads_a_document_with_its_name_and_caption(
    connector: TelegramConnector, bot_api: FakeBotApi, tmp_path: Path
) -> None:
    report = tmp_path / "report.txt"
    report.write_text("12 passed\n")
    await connector.send_file(42, report, caption="Test report")
    (upload,) = bot_api.documents
    assert (upload["filename"], upload["data"]) == ("report.txt", b"12 passed\n")
    assert bot_api.calls_to("sendDocument")[0].params["caption"] == "Test report"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        pytest.param("missing.txt", "does not exist", id="missing"),
        pytest.param(".", "not a file", id="directory"),
    ],
)
async def test_send_file_refuses_what_it_cannot_send(
    connector: TelegramConnector, bot_api: FakeBotApi, tmp_path: Path, name: str, message: str
) -> None:
    with pytest.raises(ConnectorError, match=message):
        await connector.send_file(42, tmp_path / name)
    assert bot_api.calls_to("sendDocument") == []


def test_the_default_command_menu_is_the_engine_slash_commands() -> None:
    from tether.core.commands import SlashCommands

    assert [(spec.name, spec.description) for spec in SlashCommands().specs] == list(
        DEFAULT_COMMANDS
    )


async def test_close_approval_leaves_a_request_settled_by_a_button_as_it_is(
    connector: TelegramConnector, bot_api: FakeBotApi
) -> None:
    message_id = await _ask(connector, bot_api)
    bot_api.press(message_id, "✅")
    await bot_api.wait_for(lambda: bot_api.messages[(42, message_id)].edits == 1)
    await connector.close_approval(42, str(message_id), "⌛ Expired after 300 s: denied")
    shown = bot_api.messages[(42, message_id)]
    assert shown.edits == 1 and shown.visible_text.endswith("✅ Approved by @ana")
