"""A bad Telegram token is reported before anything starts: no plugin runs on bad configuration."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.connectors.fake_bot_api import TOKEN, FakeBotApi
from tests.fakes.agent import ScriptedAgent
from tether.app import build_engine
from tether.commands.run import _serve
from tether.connectors.telegram import TelegramConnector
from tether.core.config import TetherConfig, load_config
from tether.exceptions import ConfigError, ConnectorError
from tether.plugins.base import PluginContext, PluginMeta


class RecordingPlugin:
    """Notes each lifecycle call: a bad token must leave it untouched."""

    meta = PluginMeta(name="recording", version="1.0")

    def __init__(self) -> None:
        self.calls: list[str] = []

    async def initialize(self, context: PluginContext) -> None:
        self.calls.append("initialize")

    async def start(self) -> None:
        self.calls.append("start")

    async def stop(self) -> None:
        self.calls.append("stop")


@pytest.mark.parametrize(
    "token",
    [
        pytest.param("999:not-the-right-token", id="rejected-by-telegram"),
        pytest.param(TOKEN + "x", id="one-character-off"),
    ],
)
async def test_a_rejected_token_stops_start_up_before_any_plugin(
    make_connector: Callable[..., TelegramConnector],
    bot_api: FakeBotApi,
    config: TetherConfig,
    token: str,
) -> None:
    connector = make_connector(token=token)
    plugin = RecordingPlugin()
    engine = build_engine(config, plugins=[plugin], agent=ScriptedAgent(), connector=connector)
    with pytest.raises(ConnectorError, match=r"^Telegram rejected the bot token \(401"):
        await _serve(engine, connector)
    assert plugin.calls == []
    assert not engine.is_running
    assert "getUpdates" not in [call.method for call in bot_api.calls]
    # Nothing ran, so nothing was written to the audit log either.
    assert not config.audit_log_path.exists() or "plugin" not in config.audit_log_path.read_text()


async def test_an_unreachable_bot_api_stops_start_up_before_any_plugin(
    make_connector: Callable[..., TelegramConnector], config: TetherConfig, tmp_path: Path
) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    connector = make_connector(base_url=f"http://127.0.0.1:{port}")
    plugin = RecordingPlugin()
    engine = build_engine(config, plugins=[plugin], agent=ScriptedAgent(), connector=connector)
    with pytest.raises(ConnectorError, match="could not be reached"):
        await _serve(engine, connector)
    assert plugin.calls == []


async def test_verify_leaves_nothing_open_and_start_still_works(
    make_connector: Callable[..., TelegramConnector], bot_api: FakeBotApi
) -> None:
    connector = make_connector()
    await connector.verify()
    assert connector.bot_username is None  # verified, not started
    await connector.start()
    assert [call.method for call in bot_api.calls[:3]] == ["getMe", "getMe", "setMyCommands"]
    await connector.stop()


@pytest.mark.parametrize(
    "token",
    [
        pytest.param("no-colon", id="no-colon"),
        pytest.param("12:has spaces", id="spaces"),
        pytest.param("abc:def", id="letters-for-id"),
        pytest.param("123:", id="no-key"),
        pytest.param(":abc", id="no-id"),
        pytest.param("123:abc\nTETHER_X=1", id="newline"),
        pytest.param("123:abc/../x", id="path"),
        pytest.param("123:ab€", id="non-ascii"),
        pytest.param("1" * 30 + ":abc", id="id-too-long"),
    ],
)
def test_a_malformed_token_is_a_config_error_that_hides_it(
    monkeypatch: pytest.MonkeyPatch, token: str
) -> None:
    monkeypatch.setenv("TETHER_TELEGRAM_BOT_TOKEN", token)
    with pytest.raises(ConfigError) as caught:
        load_config()
    message = str(caught.value)
    assert message.startswith("TETHER_TELEGRAM_BOT_TOKEN='<hidden>' is invalid")
    assert "does not look like a bot token" in message
    assert token not in message
    assert "\n" not in message


def test_a_token_with_surrounding_spaces_is_trimmed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TETHER_TELEGRAM_BOT_TOKEN", f"  {TOKEN}  ")
    token: Any = load_config().telegram_bot_token
    assert token.get_secret_value() == TOKEN


def test_a_malformed_token_from_the_command_line_starts_nothing(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("TETHER_")}
    env["TETHER_TELEGRAM_BOT_TOKEN"] = "not-a-token"
    done = subprocess.run(
        [sys.executable, "-m", "tether"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("tether: TETHER_TELEGRAM_BOT_TOKEN='<hidden>' is invalid")
    assert "plugin" not in done.stdout + done.stderr
    assert "not-a-token" not in done.stdout + done.stderr
