"""The connector seam: how a chat platform or terminal carries text and buttons.

Connectors only carry: they deliver what people send to the handlers the
engine sets, and show what the engine sends. Authentication, rate limits,
sessions and safety all live behind the handlers, so every way in (message,
command, button) passes the same checks.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from enum import StrEnum
from pathlib import Path
from typing import Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict

from tether.core.types import ChatId, UserId

__all__ = [
    "ApprovalAnswer",
    "ApprovalChoice",
    "ApprovalHandler",
    "BaseConnector",
    "Button",
    "CommandHandler",
    "IncomingMessage",
    "MessageHandler",
    "ReplyStream",
]


class IncomingMessage(BaseModel):
    """Something a person sent: plain text, or a `/command` with its arguments."""

    model_config = ConfigDict(frozen=True)

    user_id: UserId
    chat_id: ChatId
    text: str
    message_id: str | None = None
    username: str | None = None
    local: bool = False
    """True only for the terminal on this machine (the REPL)."""


class ApprovalChoice(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    ALWAYS = "always"
    """Approve, and auto-approve this tool for the rest of the chat."""


class ApprovalAnswer(BaseModel):
    """A person's answer to an approval request (a pressed button, a typed y/n/a)."""

    model_config = ConfigDict(frozen=True)

    approval_id: str
    choice: ApprovalChoice
    user_id: UserId
    chat_id: ChatId
    message_id: str | None = None
    username: str | None = None
    local: bool = False


class Button(BaseModel):
    """An inline button: its label and the short data it sends back (≤ 64 bytes)."""

    model_config = ConfigDict(frozen=True)

    label: str
    data: str


MessageHandler = Callable[[IncomingMessage], Awaitable[None]]
CommandHandler = Callable[[IncomingMessage, str, tuple[str, ...]], Awaitable[None]]
"""Called with the message, the command name without '/', and its arguments."""
ApprovalHandler = Callable[[ApprovalAnswer], Awaitable[str]]
"""Returns the text to show for the outcome ("Approved by @ana", or why it was refused)."""


@runtime_checkable
class ReplyStream(Protocol):
    """One reply being written while the agent works (a message edited as text arrives)."""

    async def update(self, text: str) -> None:
        """The whole reply text so far."""
        ...

    async def activity(self, line: str | None) -> None:
        """The live tool activity line (`🔧 Bash: pytest`), or None to clear it."""
        ...

    async def finish(self, text: str) -> None:
        """The final reply text; the stream is closed after this."""
        ...


@runtime_checkable
class BaseConnector(Protocol):
    """A chat platform or terminal. See docs/connectors.md."""

    name: str

    def set_handlers(
        self,
        *,
        on_message: MessageHandler,
        on_command: CommandHandler,
        on_approval: ApprovalHandler,
    ) -> None:
        """Where to deliver what people send. Called by the engine before `start`."""
        ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def send_message(
        self, chat_id: ChatId, text: str, buttons: Sequence[Sequence[Button]] | None = None
    ) -> str:
        """Send `text` (with optional rows of buttons); returns the message id."""
        ...

    async def send_message_with_id(self, chat_id: ChatId, text: str) -> str: ...

    async def edit_message(self, chat_id: ChatId, message_id: str, text: str) -> None: ...

    async def delete_message(self, chat_id: ChatId, message_id: str) -> None: ...

    async def send_typing_indicator(self, chat_id: ChatId) -> None: ...

    async def request_approval(
        self, chat_id: ChatId, approval_id: str, description: str, tool_name: str
    ) -> str:
        """Ask the chat to approve a tool call (buttons, or a prompt); returns the message id."""
        ...

    async def close_approval(self, chat_id: ChatId, message_id: str, outcome: str) -> None:
        """Show that an approval is settled (answered elsewhere, expired, cancelled)."""
        ...

    async def send_file(self, chat_id: ChatId, path: Path, caption: str | None = None) -> None: ...

    def open_reply(self, chat_id: ChatId) -> ReplyStream:
        """A stream for the reply to the message being handled in `chat_id`."""
        ...
