"""Plugins' slash commands join the command registry: listed, contained, never colliding."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tether.core.types import SessionMode
from tether.plugins import (
    CommandCall,
    PluginContext,
    PluginError,
    PluginMeta,
    SlashCommand,
    TetherPlugin,
    hook,
)
from tether.testing import running_engine

pytestmark = pytest.mark.asyncio


class _Commands(TetherPlugin):
    def __init__(self, *commands: SlashCommand, name: str = "cmds") -> None:
        self.meta = PluginMeta(name=name, version="1")
        self._commands = commands

    async def initialize(self, context: PluginContext) -> None:
        return None

    @hook
    def commands(self) -> tuple[SlashCommand, ...]:
        return self._commands


async def _echo(call: CommandCall) -> str:
    return f"echo {call.user_id} {call.chat_id} {' '.join(call.args)}"


async def test_a_plugin_command_runs_with_its_arguments_and_is_listed_by_help() -> None:
    plugin = _Commands(SlashCommand(name="echo", help="Say it back", handler=_echo))
    async with running_engine([plugin]) as running:
        assert await running.send("/echo a b") == "echo 1 1 a b"
        assert await running.send("/ECHO x") == "echo 1 1 x"
        assert "/echo — Say it back (plugin cmds)" in await running.send("/help")
        plugins = await running.send("/plugins")
        assert "cmds 1" in plugins and "hooks: commands" in plugins


async def test_a_plugin_command_uses_the_same_services_as_the_built_ins() -> None:
    """It reads and switches the chat's session through `call.services`, never the engine."""

    async def mode(call: CommandCall) -> str:
        services = call.services
        if call.args == ("plan",):
            await services.set_mode(call.user_id, call.chat_id, SessionMode.PLAN)
        session = await services.session(call.user_id, call.chat_id)
        busy = services.is_busy(call.chat_id)
        return f"{session.mode.value} busy={busy} rules={len(services.learned_rules(call.chat_id))}"

    plugin = _Commands(SlashCommand(name="mode", help="Show the mode", handler=mode))
    async with running_engine([plugin]) as running:
        assert await running.send("/mode") == "default busy=False rules=0"
        assert await running.send("/mode plan") == "plan busy=False rules=0"
        assert "Mode: plan" in await running.send("/status")
        (changed,) = running.audit_entries("mode_changed")
        assert changed["mode"] == "plan"


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("status", id="built-in"),
        pytest.param("help", id="help"),
        pytest.param("start", id="start-alias"),
        pytest.param("plugins", id="plugins"),
    ],
)
async def test_a_command_named_like_a_built_in_is_refused(name: str) -> None:
    plugin = _Commands(SlashCommand(name=name, help="mine", handler=_echo))
    with pytest.raises(PluginError, match=f"plugin 'cmds': command /{name} is already taken"):
        async with running_engine([plugin]):
            pass


async def test_a_command_another_plugin_has_is_refused_naming_both() -> None:
    first = _Commands(SlashCommand(name="echo", help="one", handler=_echo), name="first")
    second = _Commands(SlashCommand(name="echo", help="two", handler=_echo), name="second")
    with pytest.raises(PluginError, match=r"plugin 'second'.*taken by plugin 'first'"):
        async with running_engine([first, second]):
            pass


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("", id="empty"),
        pytest.param("Echo", id="upper-case"),
        pytest.param("e cho", id="space"),
        pytest.param("e/cho", id="slash"),
        pytest.param("x" * 33, id="too-long"),
        pytest.param("échо", id="non-ascii"),
    ],
)
async def test_an_invalid_command_name_is_refused(name: str) -> None:
    plugin = _Commands(SlashCommand(name=name, help="mine", handler=_echo))
    with pytest.raises(PluginError, match=r"plugin 'cmds': command .* is not a valid name"):
        async with running_engine([plugin]):
            pass


async def test_a_command_hook_returning_something_else_is_refused() -> None:
    class Wrong(_Commands):
        @hook
        def commands(self) -> Any:
            return ["echo"]

    with pytest.raises(PluginError, match="hook 'commands' returned str, not a SlashCommand"):
        async with running_engine([Wrong()]):
            pass


async def test_a_command_whose_handler_is_not_async_is_refused() -> None:
    def sync_handler(call: CommandCall) -> str:
        return "x"

    plugin = _Commands(SlashCommand(name="sync", help="not async", handler=sync_handler))  # type: ignore[arg-type]
    with pytest.raises(PluginError, match="command /sync: its handler must be `async def"):
        async with running_engine([plugin]):
            pass


async def test_a_commands_hook_that_raises_contributes_nothing_and_is_counted() -> None:
    class Broken(_Commands):
        @hook
        def commands(self) -> Any:
            raise SystemExit(2)

    async with running_engine([Broken()]) as running:
        assert "Unknown command /echo" in await running.send("/echo")
        info = next(i for i in running.engine.plugins.describe() if i.name == "cmds")
        assert info.errors == 1 and "commands: tried to exit" in (info.error or "")


async def _raises(call: CommandCall) -> str:
    raise RuntimeError("kaputt")


async def _exits(call: CommandCall) -> str:
    raise SystemExit(1)


async def _hangs(call: CommandCall) -> str:
    await asyncio.sleep(3600)
    return "never"


async def _not_text(call: CommandCall) -> Any:
    return 42


@pytest.mark.parametrize(
    ("handler", "expected"),
    [
        pytest.param(_raises, "failed: RuntimeError: kaputt", id="raises"),
        pytest.param(_exits, "failed: tried to exit", id="exits"),
        pytest.param(_hangs, "failed: did not finish", id="hangs"),
        pytest.param(_not_text, "answered with int, not text", id="not-text"),
    ],
)
async def test_a_failing_command_gets_a_one_line_reply_and_the_engine_goes_on(
    handler: Any, expected: str
) -> None:
    plugin = _Commands(SlashCommand(name="bad", help="fails", handler=handler))
    async with running_engine([plugin], event_handler_timeout_seconds=0.1) as running:
        reply = await running.send("/bad")
        assert reply.startswith("⚠️ /bad (plugin cmds)") and expected in reply
        assert await running.send("hello") == "ok"
        info = next(i for i in running.engine.plugins.describe() if i.name == "cmds")
        # Gathering the commands was one call into the plugin, running /bad the other.
        assert info.calls == 2 and info.errors + info.timeouts == 1
