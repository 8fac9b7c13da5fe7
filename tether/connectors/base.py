"""The connector seam: how a chat platform or terminal carries text and buttons.

Connectors only carry: they deliver what people send to the handlers the
engine sets, and show what the engine sends. Authentication, rate limits,
sessions and safety all live behind the handlers, so every way in (message,
command, button) passes the same checks. A connector never decides who may
talk to the agent and never answers an approval by itself.

The engine drives a connector like this:

1. `set_handlers(on_message=…, on_command=…, on_approval=…)`, then `await start()`.
2. For each message it is given, the engine opens `open_reply(chat_id)`, calls
   `update(text_so_far)` and `activity(line)` while the agent works, and
   `finish(final_text)` at the end.
3. When a tool call needs a person's approval, the approval coordinator calls
   `request_approval(...)` and, if nobody answered in time or the request was
   cancelled, `close_approval(...)`. A pressed button reaches `on_approval`;
   the text it returns is the outcome to show (see `is_settled_outcome`).
4. `await stop()` at shutdown; it must be safe after a failed or partial start.

docs/connectors.md walks through writing a connector.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from enum import StrEnum
from pathlib import Path
from typing import Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict

from tether.core.types import ApprovalPreview, ChatId, UserId

__all__ = [
    "APPROVED_MARK",
    "LEARNED_MARK",
    "REASON_MARK",
    "REJECTED_MARK",
    "ApprovalAnswer",
    "ApprovalChoice",
    "ApprovalHandler",
    "BaseConnector",
    "Button",
    "CommandHandler",
    "CommandMenu",
    "IncomingMessage",
    "MessageHandler",
    "ReplyStream",
    "awaits_reason",
    "is_settled_outcome",
]

APPROVED_MARK = "✅"
"""How an outcome text that approved a request starts ("✅ Approved by @ana")."""

REJECTED_MARK = "❌"

LEARNED_MARK = "📌"
"""How the outcome of choosing a scope after "always" begins when a rule was learned."""
"""How an outcome text that rejected a request starts ("❌ Rejected by @ana")."""

REASON_MARK = "💬"
"""How the answer to "Reject with reason" starts: the request waits for the reason.

The connector shows it on the request (buttons removed) and tells the person
that their next message is the reason; the request stays open until then or
its timeout, so `close_approval` may still come for it.
"""


def awaits_reason(outcome: str) -> bool:
    """True when the text `on_approval` returned asks for the reason of a rejection."""
    return outcome.startswith(REASON_MARK)


def is_settled_outcome(outcome: str) -> bool:
    """True when the text `on_approval` returned settled the request.

    An answer that was accepted comes back as "✅ …" or "❌ …": the connector
    shows it on the approval message and removes the buttons. Any other text is
    a refusal ("Only the person who started this request can answer."): the
    connector shows it to the person who pressed, and the buttons stay for the
    person who may answer.
    """
    return outcome.startswith((APPROVED_MARK, REJECTED_MARK))


class IncomingMessage(BaseModel):
    """Something a person sent: plain text, or a `/command` with its arguments."""

    model_config = ConfigDict(frozen=True)

    user_id: UserId
    chat_id: ChatId
    text: str
    message_id: str | None = None
    username: str | None = None
    local: bool = False
    """True only for the local owner: the terminal (the REPL) or a logged-in browser."""


class ApprovalChoice(StrEnum):
    """The answers to an approval request."""

    APPROVE = "approve"
    REJECT = "reject"
    REJECT_WITH_REASON = "reason"
    """Reject, and tell the agent why: the person's next message is the reason."""
    ALWAYS = "always"
    """Approve, then choose a scope to allow from now on (a learned rule)."""
    APPROVE_EDIT = "approve_edit"
    """Approve a plan and work on in edit mode (plain APPROVE: default mode)."""
    KEEP_PLANNING = "keep_planning"
    """Refuse a plan: the person's next message is the feedback the agent gets."""
    OPTION = "option"
    """Pick an option of a question: `value` is "<question>.<option>" (indexes)."""
    DONE = "done"
    """Finish a multi-select question with the options picked: `value` is "<question>"."""
    ANSWER = "answer"
    """Answer a question in words: `value` is "<question>\n<text>"."""


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
    scope: int | None = None
    """After "always": the number (1-based) of the scope to learn."""
    remember: bool = False
    """With `scope`: keep the rule beyond this chat (for this project)."""
    value: str | None = None
    """What a question's answer carries (see `ApprovalChoice`)."""


class Button(BaseModel):
    """An inline button: its label and the short data it sends back.

    Chat platforms limit what a button may carry (Telegram: 64 bytes), so
    `data` holds a short id, never a payload.
    """

    model_config = ConfigDict(frozen=True)

    label: str
    data: str


MessageHandler = Callable[[IncomingMessage], Awaitable[None]]
"""Called with each plain message; it replies through the connector itself."""

CommandHandler = Callable[[IncomingMessage, str, tuple[str, ...]], Awaitable[None]]
"""Called with the message, the command name without '/', and its arguments."""

ApprovalHandler = Callable[[ApprovalAnswer], Awaitable[str]]
"""Returns the text to show for the outcome ("✅ Approved by @ana", or why it was refused).

`is_settled_outcome` tells the two apart.
"""


@runtime_checkable
class ReplyStream(Protocol):
    """One reply being written while the agent works (a message edited as text arrives).

    `update` and `activity` never wait for the chat platform: they record the
    latest state and the stream shows it when it may (throttled). `finish`
    shows the final text and waits until it is shown.
    """

    async def update(self, text: str) -> None:
        """The whole reply text so far (not just the new part)."""
        ...

    async def activity(self, line: str | None) -> None:
        """The live tool activity line (`🔧 Bash: pytest`), or None to clear it."""
        ...

    async def finish(self, text: str) -> None:
        """The final reply text; the stream is closed after this.

        Raises:
            ConnectorError: the final text could not be shown.
        """
        ...


@runtime_checkable
class CommandMenu(Protocol):
    """A connector that offers the slash commands in a menu (Telegram's, the web page's).

    `build_engine` hands it every command the engine answers, the plugins'
    included, before the engine starts it.
    """

    def set_command_menu(self, commands: Sequence[tuple[str, str]]) -> None:
        """The menu, as (name, description), built-ins first."""
        ...


@runtime_checkable
class BaseConnector(Protocol):
    """A chat platform or terminal. See docs/connectors.md.

    Message ids are strings whatever the platform uses. Every method that talks
    to the platform raises `ConnectorError` (with a short message a person can
    read) when the platform refuses or cannot be reached after retries.
    """

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

    async def start(self) -> None:
        """Connect and begin delivering to the handlers.

        Raises:
            ConnectorError: the platform refused (a bad token) or cannot be reached.
        """
        ...

    async def stop(self) -> None:
        """Stop delivering and release everything; safe after a failed or partial start."""
        ...

    async def send_message(
        self, chat_id: ChatId, text: str, buttons: Sequence[Sequence[Button]] | None = None
    ) -> str:
        """Send `text` (with optional rows of buttons); returns the message id.

        Text longer than the platform allows goes out as several messages; the
        buttons go with the last one, whose id is returned.
        """
        ...

    async def send_message_with_id(self, chat_id: ChatId, text: str) -> str:
        """Send one message (within the platform's length limit) to edit later; its id."""
        ...

    async def edit_message(self, chat_id: ChatId, message_id: str, text: str) -> None:
        """Replace a message's text (and remove its buttons)."""
        ...

    async def delete_message(self, chat_id: ChatId, message_id: str) -> None:
        """Delete a message; one that is already gone is not an error."""
        ...

    async def send_typing_indicator(self, chat_id: ChatId) -> None:
        """Show that the agent is working. Cosmetic: failures are logged, never raised."""
        ...

    async def request_approval(
        self,
        chat_id: ChatId,
        approval_id: str,
        description: str,
        tool_name: str,
        *,
        preview: ApprovalPreview | None = None,
    ) -> str:
        """Ask the chat to approve a tool call (buttons, or a prompt); returns the message id.

        `description` says what would run (tool, command or path, rule, risk);
        `preview`, when given, says it in full (a diff, the commands and their
        facts): lay it out with `approval_view.approval_view` and format that.
        The answer arrives at the `on_approval` handler as an `ApprovalAnswer`
        carrying `approval_id`.
        """
        ...

    async def close_approval(self, chat_id: ChatId, message_id: str, outcome: str) -> None:
        """Show that an approval is settled (answered elsewhere, expired, cancelled)."""
        ...

    async def send_file(self, chat_id: ChatId, path: Path, caption: str | None = None) -> None:
        """Send a file from this machine to the chat.

        Raises:
            ConnectorError: the file is missing, too large for the platform, or
                could not be sent.
        """
        ...

    def open_reply(self, chat_id: ChatId) -> ReplyStream:
        """A stream for the reply to the message being handled in `chat_id`."""
        ...
