"""Slash commands: /status, /clear, /plan, /edit, /cancel, /plugins, /help.

Each command is a small async function of a `CommandContext`, returning the
reply. Commands never wait behind the chat's running request: `/cancel` has to
reach it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict

from tether.core.session import SessionMode
from tether.middleware.base import MessageContext

if TYPE_CHECKING:
    from tether.core.engine import Engine

__all__ = ["EDIT_MODE_TOOLS", "CommandContext", "CommandSpec", "SlashCommands", "apply_mode"]

EDIT_MODE_TOOLS = ("Write", "Edit", "MultiEdit", "NotebookEdit")
"""Tools `/edit` mode auto-approves for the chat (a deny still denies)."""


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


CommandHandler = Callable[[CommandContext], Awaitable[str]]


async def _status(ctx: CommandContext) -> str:
    engine: Engine = ctx.engine
    message = ctx.message
    session = await engine.sessions.get_or_create(message.user_id, message.chat_id)
    auto = engine.gatekeeper.auto_approve_state(message.chat_id)
    if auto.blanket:
        auto_text = "everything that would ask"
    elif auto.tools:
        auto_text = ", ".join(sorted(auto.tools))
    else:
        auto_text = "off"
    running = "yes" if engine.is_busy(message.chat_id) else "no"
    return "\n".join(
        (
            "📊 Status",
            f"Mode: {session.mode.value}",
            f"Directory: {session.working_directory}",
            f"Messages: {session.message_count}",
            f"Cost: ${session.total_cost:.4f}",
            f"Auto-approve: {auto_text}",
            f"Working now: {running}",
        )
    )


async def _clear(ctx: CommandContext) -> str:
    engine: Engine = ctx.engine
    message = ctx.message
    if engine.is_busy(message.chat_id):
        await engine.cancel(message.chat_id)
    await engine.sessions.reset(message.user_id, message.chat_id)
    engine.gatekeeper.clear_auto_approve(message.chat_id)
    return "🧹 Started a new conversation. Auto-approvals for this chat are cleared."


async def _switch_mode(ctx: CommandContext, mode: SessionMode) -> str:
    engine: Engine = ctx.engine
    message = ctx.message
    session = await engine.sessions.get_or_create(message.user_id, message.chat_id)
    new_mode = SessionMode.DEFAULT if session.mode is mode else mode
    return await apply_mode(engine, message, new_mode)


async def apply_mode(engine: Engine, message: MessageContext, new_mode: SessionMode) -> str:
    """Put the chat's session in `new_mode` (with edit mode's auto-approvals); the notice.

    `/plan`, `/edit` and an approved plan (leaving plan mode) all switch here.
    """
    session = await engine.sessions.get_or_create(message.user_id, message.chat_id)
    await engine.sessions.set_mode(session, new_mode)
    if session.mode is SessionMode.EDIT and new_mode is not SessionMode.EDIT:
        for tool in EDIT_MODE_TOOLS:
            engine.gatekeeper.revoke_auto_approve(message.chat_id, tool)
    if new_mode is SessionMode.EDIT:
        for tool in EDIT_MODE_TOOLS:
            engine.gatekeeper.auto_approve(message.chat_id, tool)
        await engine.audit_logger.log(
            "auto_approve_granted",
            chat_id=message.chat_id,
            tool_name=",".join(EDIT_MODE_TOOLS),
            user_id=message.user_id,
            reason="/edit",
        )
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


async def _cancel(ctx: CommandContext) -> str:
    engine: Engine = ctx.engine
    if await engine.cancel(ctx.message.chat_id):
        return "🛑 Cancelled the running request."
    return "Nothing is running."


async def _plugins(ctx: CommandContext) -> str:
    engine: Engine = ctx.engine
    lines = ["🧩 Plugins"]
    for info in engine.plugins.describe():
        line = f"• {info.name} {info.version} ({info.source.value}, {info.state.value})"
        if info.error:
            line += f" — {info.error}"
        lines.append(line)
    return "\n".join(lines)


class SlashCommands:
    """The commands the engine answers, with their descriptions."""

    def __init__(self) -> None:
        self._commands: dict[str, tuple[CommandSpec, CommandHandler]] = {}
        for name, description, handler in (
            ("status", "Mode, messages, cost and auto-approvals", _status),
            ("clear", "Start a new conversation", _clear),
            ("plan", "Toggle plan mode (no file changes)", _plan),
            ("edit", "Toggle edit mode (file edits auto-approved)", _edit),
            ("cancel", "Stop the running request", _cancel),
            ("plugins", "List plugins and their state", _plugins),
            ("help", "What Tether can do", self._help),
        ):
            self._commands[name] = (CommandSpec(name=name, description=description), handler)

    @property
    def specs(self) -> list[CommandSpec]:
        """Every command, for /help and a chat platform's command menu."""
        return [spec for spec, _ in self._commands.values()]

    async def run(self, name: str, context: CommandContext) -> str:
        """Run command `name`; an unknown one gets a short hint."""
        name = "help" if name == "start" else name.lower()
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
        lines += [f"/{spec.name} — {spec.description}" for spec in self.specs]
        return "\n".join(lines)
