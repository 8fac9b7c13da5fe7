"""Long polling: updates handled concurrently, acknowledged at stop, polling that recovers."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest
from structlog.testing import capture_logs

from tether.connectors.base import IncomingMessage
from tether.connectors.telegram import TelegramConnector

from .conftest import Handlers
from .fake_bot_api import FakeBotApi

# These tests time things: a collector pause would be charged to them (`no_collector_pauses`).
pytestmark = pytest.mark.usefixtures("no_collector_pauses")

MakeConnector = Callable[..., TelegramConnector]


async def test_an_approval_is_answered_while_the_message_that_asked_for_it_waits(
    make_connector: MakeConnector, bot_api: FakeBotApi, handlers: Handlers
) -> None:
    """With one update at a time, the press would wait behind the message: a deadlock."""
    connector = make_connector()
    answered = asyncio.Event()

    def approve(answer: object) -> str:
        answered.set()
        return "✅ Approved by @ana"

    async def ask_and_wait(message: IncomingMessage) -> None:
        await connector.request_approval(message.chat_id, "k1", "`make clean`", "Bash")
        async with asyncio.timeout(3):
            await answered.wait()
        await connector.send_message(message.chat_id, "Cleaned.")

    handlers.outcome = approve
    handlers.on_message_hook = ask_and_wait
    await connector.start()
    try:
        bot_api.push_message("clean the build")
        await bot_api.wait_for(lambda: any(m.buttons for m in bot_api.chat()))
        (request,) = bot_api.chat()
        bot_api.press(request.message_id, "✅")
        await bot_api.wait_for(lambda: bot_api.chat()[-1].visible_text == "Cleaned.")
    finally:
        await connector.stop()


async def test_messages_from_many_chats_are_handled_at_the_same_time(
    connector: TelegramConnector, bot_api: FakeBotApi, handlers: Handlers
) -> None:
    finished: list[int | str] = []

    async def slow(message: IncomingMessage) -> None:
        await asyncio.sleep(0.3)
        finished.append(message.chat_id)

    handlers.on_message_hook = slow
    started = time.monotonic()
    for chat in range(1, 6):
        bot_api.push_message("hi", user_id=chat, chat_id=chat)
    await bot_api.wait_for(lambda: len(finished) == 5)
    assert time.monotonic() - started < 0.9


async def test_stop_acknowledges_handled_updates_so_they_are_not_delivered_again(
    make_connector: MakeConnector, bot_api: FakeBotApi, handlers: Handlers
) -> None:
    first = make_connector()
    await first.start()
    bot_api.push_message("only once")
    await bot_api.wait_for(lambda: len(handlers.messages) == 1)
    await first.stop()
    assert bot_api.confirmed_offset == 2

    second = make_connector()
    await second.start()
    bot_api.push_message("new")
    await bot_api.wait_for(lambda: len(handlers.messages) == 2)
    await second.stop()
    assert [m.text for m in handlers.messages] == ["only once", "new"]


async def test_polling_recovers_from_a_failed_poll(
    connector: TelegramConnector, bot_api: FakeBotApi, handlers: Handlers
) -> None:
    with capture_logs() as logs:
        bot_api.fail("getUpdates", status=502, description="Bad Gateway", times=2)
        await bot_api.wait_for(lambda: bot_api.scripted_failures("getUpdates") == 0)
        bot_api.push_message("still there?")
        await bot_api.wait_for(lambda: len(handlers.messages) == 1)
    assert [e["event"] for e in logs].count("telegram_polling_failed") == 2


async def test_polling_stops_when_the_token_is_revoked(
    connector: TelegramConnector, bot_api: FakeBotApi
) -> None:
    with capture_logs() as logs:
        bot_api.fail("getUpdates", status=401, description="Unauthorized")
        await bot_api.wait_for(lambda: any(e["event"] == "telegram_token_rejected" for e in logs))
    polls = len(bot_api.calls_to("getUpdates"))
    await asyncio.sleep(0.1)
    assert len(bot_api.calls_to("getUpdates")) == polls


async def test_stop_cancels_handlers_that_outlive_the_grace_period(
    make_connector: MakeConnector, bot_api: FakeBotApi, handlers: Handlers
) -> None:
    cancelled = asyncio.Event()

    async def endless(message: IncomingMessage) -> None:
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    handlers.on_message_hook = endless
    connector = make_connector(stop_timeout=0.1)
    await connector.start()
    bot_api.push_message("long job")
    await bot_api.wait_for(lambda: len(handlers.messages) == 1)
    started = time.monotonic()
    with capture_logs() as logs:
        await connector.stop()
    assert time.monotonic() - started < 1.0
    assert cancelled.is_set()
    assert {"event": "telegram_handlers_cancelled", "count": 1, "log_level": "warning"} in logs
