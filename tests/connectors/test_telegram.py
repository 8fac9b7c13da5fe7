"""TelegramConnector against a local Bot API: start-up and stop, replies, messages, files."""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from tether.connectors.base import Button
from tether.connectors.telegram import DEFAULT_COMMANDS, TelegramConnector
from tether.exceptions import ConnectorError

from .fake_bot_api import BOT_USERNAME, TOKEN, FakeBotApi

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
    from tether.core.commands import BUILTIN_COMMANDS

    assert [(spec.name, spec.description) for spec in BUILTIN_COMMANDS] == list(DEFAULT_COMMANDS)


def test_a_negative_throttle_is_refused() -> None:
    with pytest.raises(ValueError, match="throttle_seconds"):
        TelegramConnector("1:a", throttle_seconds=-1)


def test_the_menu_is_cut_to_what_telegram_accepts() -> None:
    """Telegram refuses the whole menu for one bad entry: at most 100, each 1-256 characters."""
    commands = [("long", "y" * 400), ("blank", "  \n "), ("lines", "a\n  b")] + [
        (f"c{n}", "more") for n in range(120)
    ]
    connector = TelegramConnector(TOKEN)
    connector.set_command_menu(commands)
    menu = connector._commands
    assert len(menu) == 100
    assert menu[0] == ("long", "y" * 255 + "…")
    assert menu[1] == ("blank", "/blank")
    assert menu[2] == ("lines", "a b")
