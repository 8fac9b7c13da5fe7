"""Slash commands: /status, /clear, /plan, /edit, /rules, /cancel, /plugins, /help,
and those plugins contribute.

Each command is a small async function of a `CommandContext`, returning the
reply. A command sees Tether through `context.services`, the narrow
`CommandServices` that `build_engine()` injects (the chat's session, its
running request, learned rules, plugins), never through the engine. Commands
never wait behind the chat's running request: `/cancel` has to reach it.
Plugins' commands join the same registry (`add`), after the built-ins, and may
take no name already taken.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

from pydantic import BaseModel, ConfigDict

from tether.core.services import CommandServices
from tether.core.types import SessionMode
from tether.exceptions import PluginError
from tether.middleware.base import MessageContext

__all__ = [
    "BUILTIN_COMMANDS",
    "CommandContext",
    "CommandHandler",
    "CommandSpec",
    "SlashCommands",
    "apply_mode",
    "mode_notice",
]


class CommandContext(BaseModel):
    """What a command runs with: the services, the message that invoked it, its arguments."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    services: CommandServices
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
"""A command: given its context, returns the reply."""


async def _status(ctx: CommandContext) -> str:
    services = ctx.services
    message = ctx.message
    session = await services.session(message.user_id, message.chat_id)
    rules = services.learned_rules(message.chat_id)
    rules_file = services.learned_rules_path
    running = "yes" if services.is_busy(message.chat_id) else "no"
    return "\n".join(
        (
            "📊 Status",
            f"Mode: {session.mode.value}",
            f"Directory: {session.working_directory}",
            f"Messages: {session.message_count}",
            f"Cost: ${session.total_cost:.4f}",
            f"Learned rules: {len(rules)} (/rules)",
            f"Learned-rules file: {rules_file if rules_file is not None else 'none (chat only)'}",
            f"Audit log: {services.audit_log_path}",
            f"Working now: {running}",
        )
    )


async def _clear(ctx: CommandContext) -> str:
    services = ctx.services
    message = ctx.message
    if services.is_busy(message.chat_id):
        await services.cancel(message.chat_id)
    await services.reset_session(message.user_id, message.chat_id)
    dropped = services.forget_chat_rules(message.chat_id)
    suffix = f" {dropped} rule(s) learned for this chat are dropped." if dropped else ""
    return "🧹 Started a new conversation." + suffix


async def _switch_mode(ctx: CommandContext, mode: SessionMode) -> str:
    services = ctx.services
    message = ctx.message
    session = await services.session(message.user_id, message.chat_id)
    new_mode = SessionMode.DEFAULT if session.mode is mode else mode
    return await apply_mode(services, message, new_mode)


async def apply_mode(
    services: CommandServices, message: MessageContext, new_mode: SessionMode
) -> str:
    """Put the chat's session in `new_mode` (the gate derives its approvals from it); the notice.

    `/plan`, `/edit` and an approved plan (leaving plan mode) all switch here.
    """
    await services.set_mode(message.user_id, message.chat_id, new_mode)
    return mode_notice(new_mode)


def mode_notice(new_mode: SessionMode) -> str:
    """What the person is told when their chat enters `new_mode`."""
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
    services = ctx.services
    message = ctx.message
    rules = services.learned_rules(message.chat_id)
    if ctx.args and ctx.args[0].lower() in {"revoke", "rm", "delete"}:
        chosen = _chosen(ctx.args[1:], len(rules))
        if chosen is None:
            return "Usage: /rules revoke N [M ...] or /rules revoke all (numbers from /rules)."
        ids = tuple(rules[index].id for index in chosen)
        removed = await services.revoke_rules(ids, user_id=message.user_id, chat_id=message.chat_id)
        return f"🗑 Revoked {len(removed)} learned rule(s)."
    if not rules:
        return "No learned rules. Answer an approval with Always to make one."
    lines = ["📌 Learned rules (/rules revoke N, or all)"]
    for number, rule in enumerate(rules, start=1):
        lines.append(
            f"{number}. {rule.label} — {rule.lifetime}, used {rule.uses}×, "
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
    if await ctx.services.cancel(ctx.message.chat_id):
        return "🛑 Cancelled the running request."
    return "Nothing is running."


async def _plugins(ctx: CommandContext) -> str:
    lines = ["🧩 Plugins"]
    for info in ctx.services.plugins():
        line = f"• {info.name} {info.version} ({info.source}, {info.state})"
        if info.hooks:
            line += f" hooks: {', '.join(info.hooks)};"
        line += f" calls {info.calls}, errors {info.errors}, timeouts {info.timeouts}"
        if info.error:
            line += f" — {info.error}"
        lines.append(line)
    return "\n".join(lines)


BUILTIN_COMMANDS: tuple[CommandSpec, ...] = tuple(
    CommandSpec(name=name, description=description)
    for name, description in (
        ("status", "Mode, messages, cost, learned rules and files"),
        ("clear", "Start a new conversation"),
        ("plan", "Toggle plan mode (no file changes)"),
        ("edit", "Toggle edit mode (file edits auto-approved)"),
        ("rules", "List or revoke rules learned from Always"),
        ("cancel", "Stop the running request"),
        ("plugins", "List plugins and their state"),
        ("help", "What Tether can do"),
    )
)
"""The built-in commands, in the order /help lists them (and a chat platform's menu shows)."""


class SlashCommands:
    """The commands the engine answers, with their descriptions.

    The engine runs a command with a `CommandContext` whose `services` are the
    `CommandServices` that `build_engine()` gave it.
    """

    def __init__(self) -> None:
        handlers: dict[str, CommandHandler] = {
            "status": _status,
            "clear": _clear,
            "plan": _plan,
            "edit": _edit,
            "rules": _rules,
            "cancel": _cancel,
            "plugins": _plugins,
            "help": self._help,
        }
        self._commands: dict[str, tuple[CommandSpec, CommandHandler]] = {
            spec.name: (spec, handlers[spec.name]) for spec in BUILTIN_COMMANDS
        }

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
