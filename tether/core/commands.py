"""Slash commands: /status, /clear, /plan, /edit, /rules, /cancel, /plugins, /help,
and those plugins contribute.

Each command is a small async function of a `CommandContext`, returning the
reply. Commands never wait behind the chat's running request: `/cancel` has to
reach it. Plugins' commands join the same registry (`add`), after the
built-ins, and may take no name already taken.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict

from tether.core.session import SessionMode
from tether.exceptions import PluginError
from tether.middleware.base import MessageContext

if TYPE_CHECKING:
    from tether.core.engine import Engine

__all__ = ["CommandContext", "CommandSpec", "SlashCommands", "apply_mode"]


class CommandContext(BaseModel):
    """What a command runs with: the engine, the message that invoked it, its arguments."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    engine: Any
    message: MessageContext
    args: tuple[str, ...] = ()


class CommandSpec(BaseModel):
    """A command's name and the one-line description shown in /help and the bot's menu."""

    model_config = ConfigDict(frozen=True)

    name: str
    description: str
    plugin: str | None = None
    """The plugin that contributed the command (None: built in)."""


CommandHandler = Callable[[CommandContext], Awaitable[str]]


async def _status(ctx: CommandContext) -> str:
    engine: Engine = ctx.engine
    message = ctx.message
    session = await engine.sessions.get_or_create(message.user_id, message.chat_id)
    learned = engine.gatekeeper.learned
    rules = learned.rules(str(message.chat_id))
    store = learned.store
    running = "yes" if engine.is_busy(message.chat_id) else "no"
    return "\n".join(
        (
            "📊 Status",
            f"Mode: {session.mode.value}",
            f"Directory: {session.working_directory}",
            f"Messages: {session.message_count}",
            f"Cost: ${session.total_cost:.4f}",
            f"Learned rules: {len(rules)} (/rules)",
            f"Learned-rules file: {store.path if store is not None else 'none (chat only)'}",
            f"Audit log: {engine.config.audit_log_path}",
            f"Working now: {running}",
        )
    )


async def _clear(ctx: CommandContext) -> str:
    engine: Engine = ctx.engine
    message = ctx.message
    if engine.is_busy(message.chat_id):
        await engine.cancel(message.chat_id)
    await engine.sessions.reset(message.user_id, message.chat_id)
    dropped = engine.gatekeeper.learned.forget_chat(str(message.chat_id))
    suffix = f" {dropped} rule(s) learned for this chat are dropped." if dropped else ""
    return "🧹 Started a new conversation." + suffix


async def _switch_mode(ctx: CommandContext, mode: SessionMode) -> str:
    engine: Engine = ctx.engine
    message = ctx.message
    session = await engine.sessions.get_or_create(message.user_id, message.chat_id)
    new_mode = SessionMode.DEFAULT if session.mode is mode else mode
    return await apply_mode(engine, message, new_mode)


async def apply_mode(engine: Engine, message: MessageContext, new_mode: SessionMode) -> str:
    """Put the chat's session in `new_mode` (the gate derives its approvals from it); the notice.

    `/plan`, `/edit` and an approved plan (leaving plan mode) all switch here.
    """
    session = await engine.sessions.get_or_create(message.user_id, message.chat_id)
    await engine.sessions.set_mode(session, new_mode)
    # The mode is stored once, in the session; the gate derives what it approves from it.
    await engine.audit_logger.log(
        "mode_changed", chat_id=message.chat_id, user_id=message.user_id, mode=new_mode.value
    )
    if new_mode is SessionMode.EDIT:
        return (
            "✏️ Edit mode: file edits (Write, Edit) inside the project are approved "
            "without asking. Send /edit again to leave."
        )
    if new_mode is SessionMode.PLAN:
        return (
            "🗺 Plan mode: the agent plans and explains; anything that would change "
            "something is refused without asking. Send /plan again to leave."
        )
    return "↩️ Back to default mode: edits ask for approval again."


async def _plan(ctx: CommandContext) -> str:
    return await _switch_mode(ctx, SessionMode.PLAN)


async def _edit(ctx: CommandContext) -> str:
    return await _switch_mode(ctx, SessionMode.EDIT)


async def _rules(ctx: CommandContext) -> str:
    """`/rules` lists; `/rules revoke N [M...]` or `/rules revoke all` revokes."""
    engine: Engine = ctx.engine
    message = ctx.message
    learned = engine.gatekeeper.learned
    rules = learned.rules(str(message.chat_id))
    if ctx.args and ctx.args[0].lower() in {"revoke", "rm", "delete"}:
        chosen = _chosen(ctx.args[1:], len(rules))
        if chosen is None:
            return "Usage: /rules revoke N [M ...] or /rules revoke all (numbers from /rules)."
        ids = tuple(rules[index].id for index in chosen)
        removed = await engine.gatekeeper.revoke_rules(
            ids, user_id=message.user_id, chat_id=message.chat_id
        )
        return f"🗑 Revoked {len(removed)} learned rule(s)."
    if not rules:
        return "No learned rules. Answer an approval with Always to make one."
    lines = ["📌 Learned rules (/rules revoke N, or all)"]
    for number, rule in enumerate(rules, start=1):
        lines.append(
            f"{number}. {rule.label} — {rule.lifetime.value}, used {rule.uses}×, "
            f"by {rule.granted_by} {rule.granted_at} [{rule.id}]"
        )
    return "\n".join(lines)


def _chosen(args: tuple[str, ...], count: int) -> list[int] | None:
    if [a.lower() for a in args] == ["all"]:
        return list(range(count))
    if not args or not all(a.isdigit() and 1 <= int(a) <= count for a in args):
        return None
    return sorted({int(a) - 1 for a in args})


async def _cancel(ctx: CommandContext) -> str:
    engine: Engine = ctx.engine
    if await engine.cancel(ctx.message.chat_id):
        return "🛑 Cancelled the running request."
    return "Nothing is running."


async def _plugins(ctx: CommandContext) -> str:
    engine: Engine = ctx.engine
    lines = ["🧩 Plugins"]
    for info in engine.plugins.describe(engine.event_bus.stats()):
        line = f"• {info.name} {info.version} ({info.source.value}, {info.state.value})"
        if info.hooks:
            line += f" hooks: {', '.join(info.hooks)};"
        line += f" calls {info.calls}, errors {info.errors}, timeouts {info.timeouts}"
        if info.error:
            line += f" — {info.error}"
        lines.append(line)
    return "\n".join(lines)


class SlashCommands:
    """The commands the engine answers, with their descriptions."""

    def __init__(self) -> None:
        self._commands: dict[str, tuple[CommandSpec, CommandHandler]] = {}
        for name, description, handler in (
            ("status", "Mode, messages, cost, learned rules and files", _status),
            ("clear", "Start a new conversation", _clear),
            ("plan", "Toggle plan mode (no file changes)", _plan),
            ("edit", "Toggle edit mode (file edits auto-approved)", _edit),
            ("rules", "List or revoke rules learned from Always", _rules),
            ("cancel", "Stop the running request", _cancel),
            ("plugins", "List plugins and their state", _plugins),
            ("help", "What Tether can do", self._help),
        ):
            self._commands[name] = (CommandSpec(name=name, description=description), handler)

    @property
    def specs(self) -> list[CommandSpec]:
        """Every command, built-ins first, for /help and a chat platform's command menu."""
        return [spec for spec, _ in self._commands.values()]

    def add(self, spec: CommandSpec, handler: CommandHandler) -> None:
        """Add a plugin's command (`spec.plugin` names the plugin).

        Raises:
            PluginError: the name is not a valid command name, or is taken by a
                built-in or by another plugin's command.
        """
        owner = spec.plugin or "?"
        name = spec.name
        if not _COMMAND_NAME.fullmatch(name):
            raise PluginError(
                f"plugin {owner!r}: command {name!r} is not a valid name; use 1-32 "
                "lower-case letters, digits or underscores"
            )
        taken = self._commands.get(name)
        if taken is not None or name in _ALIASES:
            by = taken[0].plugin if taken is not None else None
            whose = f"plugin {by!r}" if by else "a built-in command"
            raise PluginError(
                f"plugin {owner!r}: command /{name} is already taken by {whose}; "
                "choose another name"
            )
        self._commands[name] = (spec, handler)

    async def run(self, name: str, context: CommandContext) -> str:
        """Run command `name`; an unknown one gets a short hint."""
        name = _ALIASES.get(name.lower(), name.lower())
        entry = self._commands.get(name)
        if entry is None:
            return f"Unknown command /{name}. Send /help for the list."
        return await entry[1](context)

    async def _help(self, _: CommandContext) -> str:
        lines = [
            "🤖 Tether drives a coding agent on your machine. Send a request in plain words;",
            "risky actions ask for your approval first.",
            "",
        ]
        lines += [
            f"/{spec.name} — {spec.description}"
            + (f" (plugin {spec.plugin})" if spec.plugin else "")
            for spec in self.specs
        ]
        return "\n".join(lines)


_COMMAND_NAME = re.compile(r"[a-z0-9_]{1,32}")
"""What a command's name may be: what chat platforms accept, lower-case (names are
matched lower-cased)."""

_ALIASES = {"start": "help"}
"""Names that run another command (Telegram sends /start first)."""
