"""Slash commands a plugin contributes: what it declares, what its handler receives.

A plugin's `commands` hook returns `SlashCommand(name, help, handler)` values;
each joins the engine's command registry beside the built-ins (a name taken by
a built-in or another plugin is refused). The handler receives a
`CommandCall` (who, where, the arguments), not the engine, and returns the
reply. It is contained like every hook: one that raises, hangs past the
handler timeout or returns something other than text gets a one-line reply
saying so, logged and counted against its plugin.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from tether.core.commands import CommandContext, CommandHandler
from tether.core.safe_text import safe_str
from tether.core.services import CommandServices
from tether.core.types import ChatId, UserId
from tether.plugins.calls import HookCounters, call_hook

__all__ = ["CommandCall", "SlashCommand", "contained_command"]

_MAX_REPLY = 4000


class CommandCall(BaseModel):
    """What a plugin's command handler receives: who sent it, in which chat, its arguments,
    and the `CommandServices` the built-in commands use (the chat's session, its running
    request, learned rules, plugins), never the engine."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    user_id: UserId
    chat_id: ChatId
    args: tuple[str, ...] = ()
    text: str = Field(description="the whole message, `/name` included")
    services: CommandServices


class SlashCommand(BaseModel):
    """A command a plugin adds: `/name`, one line of help, and `async handler(call) -> str`."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    name: str
    help: str = Field(min_length=1, max_length=200)
    handler: Callable[[CommandCall], Awaitable[str]]


def contained_command(
    plugin: str, command: SlashCommand, counters: HookCounters, timeout: float
) -> CommandHandler:
    """The registry's handler for `command`: the plugin's, called contained and bounded."""
    handler = command.handler
    name = command.name

    async def run(context: CommandContext) -> str:
        message = context.message
        call = CommandCall(
            user_id=message.user_id,
            chat_id=message.chat_id,
            args=context.args,
            text=message.text,
            services=context.services,
        )
        outcome = await call_hook(plugin, f"command /{name}", handler, counters, timeout, call)
        if outcome.error is not None:
            return f"⚠️ /{name} (plugin {plugin}) failed: {outcome.describe()}"
        reply: Any = outcome.value
        if type(reply) is not str:
            counters.errors += 1
            return f"⚠️ /{name} (plugin {plugin}) answered with {type(reply).__name__}, not text"
        return safe_str(reply)[:_MAX_REPLY]

    return run
