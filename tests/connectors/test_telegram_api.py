"""Bot API calls through the connector: flood control, retries, Markdown fallback, refusals."""

from __future__ import annotations

import asyncio
import time

import pytest

from tether.connectors.telegram import TelegramConnector
from tether.exceptions import ConnectorError

from .fake_bot_api import FakeBotApi

PARSE_ERROR = "Bad Request: can't parse entities: Can't find end of the entity starting at byte 4"


async def test_a_429_pauses_every_call_for_that_chat_for_the_time_asked(
    connector: TelegramConnector, bot_api: FakeBotApi
) -> None:
    first = await connector.send_message(42, "first")
    bot_api.fail(
        "editMessageText", status=429, description="Too Many Requests: retry after 1", retry_after=1
    )
    started = time.monotonic()
    edit = asyncio.create_task(connector.edit_message(42, first, "first, edited"))
    await bot_api.wait_for(lambda: connector.flood_control.remaining(42) > 0.5)
    other_chat = await connector.send_message(7, "other chat is not paused")
    other_chat_took = time.monotonic() - started
    same_chat = await connector.send_message(42, "second")
    same_chat_took = time.monotonic() - started
    await edit
    assert other_chat_took < 0.5
    assert same_chat_took >= 0.95
    assert [m.visible_text for m in bot_api.chat(42)] == ["first, edited", "second"]
    assert other_chat and same_chat


async def test_network_errors_are_retried(
    connector: TelegramConnector, bot_api: FakeBotApi
) -> None:
    bot_api.fail("sendMessage", status=502, description="Bad Gateway", times=2)
    await connector.send_message(42, "made it")
    assert len(bot_api.calls_to("sendMessage")) == 3
    assert [m.visible_text for m in bot_api.chat()] == ["made it"]


async def test_a_chat_that_stays_unreachable_fails_with_a_short_message(
    connector: TelegramConnector, bot_api: FakeBotApi
) -> None:
    bot_api.fail("sendMessage", status=502, description="Bad Gateway", times=3)
    with pytest.raises(ConnectorError) as raised:
        await connector.send_message(42, "lost")
    assert str(raised.value) == (
        "Telegram could not be reached (sendMessage: Bad Gateway); tried 3 times"
    )


async def test_markdown_telegram_cannot_parse_is_sent_as_plain_text(
    connector: TelegramConnector, bot_api: FakeBotApi
) -> None:
    bot_api.fail("sendMessage", status=400, description=PARSE_ERROR)
    await connector.send_message(42, "**done**")
    first, second = bot_api.calls_to("sendMessage")
    assert (first.params["parse_mode"], first.params["text"]) == ("HTML", "<b>done</b>")
    assert "parse_mode" not in second.params and second.params["text"] == "**done**"
    assert [m.visible_text for m in bot_api.chat()] == ["**done**"]


async def test_an_edit_telegram_cannot_parse_is_made_as_plain_text(
    connector: TelegramConnector, bot_api: FakeBotApi
) -> None:
    message_id = await connector.send_message(42, "draft")
    bot_api.fail("editMessageText", status=400, description=PARSE_ERROR)
    await connector.edit_message(42, message_id, "**final**")
    assert [m.text for m in bot_api.chat()] == ["**final**"]


async def test_an_edit_to_the_same_text_is_not_an_error(
    connector: TelegramConnector, bot_api: FakeBotApi
) -> None:
    message_id = await connector.send_message(42, "same")
    await connector.edit_message(42, message_id, "same")
    assert bot_api.chat()[0].edits == 0


async def test_editing_a_deleted_message_says_it_no_longer_exists(
    connector: TelegramConnector, bot_api: FakeBotApi
) -> None:
    message_id = await connector.send_message(42, "soon gone")
    await connector.delete_message(42, message_id)
    with pytest.raises(ConnectorError, match=f"message {message_id} in chat 42 no longer exists"):
        await connector.edit_message(42, message_id, "too late")


async def test_deleting_a_message_twice_is_fine(
    connector: TelegramConnector, bot_api: FakeBotApi
) -> None:
    message_id = await connector.send_message(42, "bye")
    await connector.delete_message(42, message_id)
    await connector.delete_message(42, message_id)
    assert bot_api.chat() == []


async def test_a_blocked_bot_is_reported_plainly(
    connector: TelegramConnector, bot_api: FakeBotApi
) -> None:
    bot_api.fail("sendMessage", status=403, description="Forbidden: bot was blocked by the user")
    with pytest.raises(ConnectorError, match="blocked or removed"):
        await connector.send_message(42, "hello?")


@pytest.mark.parametrize(
    "text",
    [pytest.param("", id="empty"), pytest.param("  \n ", id="blank")],
)
async def test_empty_text_is_refused_before_sending(
    connector: TelegramConnector, bot_api: FakeBotApi, text: str
) -> None:
    with pytest.raises(ConnectorError, match="empty message"):
        await connector.send_message(42, text)
    assert bot_api.calls_to("sendMessage") == []


async def test_send_message_with_id_refuses_text_over_the_limit(
    connector: TelegramConnector, bot_api: FakeBotApi
) -> None:
    with pytest.raises(ConnectorError, match="over Telegram's 4096"):
        await connector.send_message_with_id(42, "x" * 5000)


async def test_a_refused_typing_indicator_is_not_an_error(
    connector: TelegramConnector, bot_api: FakeBotApi
) -> None:
    bot_api.fail("sendChatAction", status=403, description="Forbidden: bot was kicked")
    await connector.send_typing_indicator(42)


async def test_a_failed_command_menu_does_not_stop_start(
    make_connector: object, bot_api: FakeBotApi
) -> None:
    assert callable(make_connector)
    bot_api.fail("setMyCommands", status=400, description="Bad Request: BOT_COMMAND_INVALID")
    connector: TelegramConnector = make_connector()
    await connector.start()
    await connector.stop()
