"""What people send on Telegram, delivered to the handlers: messages, commands, failures."""

from __future__ import annotations

import pytest
from structlog.testing import capture_logs

from tether.connectors.telegram import TelegramConnector
from tether.connectors.telegram_updates import parse_command

from .conftest import Handlers
from .fake_bot_api import BOT_USERNAME, FakeBotApi


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
        pytest.param("/etc/hosts has a typo", None, id="a-path"),
        pytest.param("/clear_all", ("clear_all", ()), id="underscore"),
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
