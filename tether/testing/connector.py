"""RecordingConnector: an in-memory BaseConnector that remembers what it was asked to show.

Wired to an engine like any connector (`build_engine(connector=...)`), it
records messages, streamed replies and approval requests; a test answers an
approval with `engine.handle_approval(...)` after `await next_approval()`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tether.connectors.base import (
    ApprovalHandler,
    Button,
    CommandHandler,
    MessageHandler,
    ReplyStream,
)
from tether.core.types import ApprovalPreview, ChatId

__all__ = ["ApprovalRequest", "RecordedReply", "RecordingConnector"]


@dataclass
class ApprovalRequest:
    """One approval the connector was asked to show; `closed_with` is how it was closed."""

    chat_id: ChatId
    approval_id: str
    description: str
    tool_name: str
    closed_with: str | None = None
    preview: ApprovalPreview | None = None


@dataclass
class RecordedReply:
    """One streamed reply: its updates, activity lines and final text."""

    chat_id: ChatId
    updates: list[str] = field(default_factory=list)
    activities: list[str | None] = field(default_factory=list)
    final: str | None = None

    async def update(self, text: str) -> None:
        self.updates.append(text)

    async def activity(self, line: str | None) -> None:
        self.activities.append(line)

    async def finish(self, text: str) -> None:
        self.final = text


class RecordingConnector:
    """Records messages, replies and approval requests; `approval_requested` is set on each."""

    name = "recording"

    def __init__(self) -> None:
        self.sent: list[tuple[ChatId, str]] = []
        self.replies: list[RecordedReply] = []
        self.approvals: list[ApprovalRequest] = []
        self.scope_offers: list[tuple[ChatId, str, tuple[str, ...]]] = []
        self.approval_requested = asyncio.Event()
        self.started = False
        self.stopped = False
        self.on_message: MessageHandler | None = None
        self.on_command: CommandHandler | None = None
        self.on_approval: ApprovalHandler | None = None

    def set_handlers(
        self,
        *,
        on_message: MessageHandler,
        on_command: CommandHandler,
        on_approval: ApprovalHandler,
    ) -> None:
        self.on_message = on_message
        self.on_command = on_command
        self.on_approval = on_approval

    async def start(self) -> None:
        self.started = True

    async def stop(self) -> None:
        self.stopped = True

    async def send_message(
        self, chat_id: ChatId, text: str, buttons: Sequence[Sequence[Button]] | None = None
    ) -> str:
        self.sent.append((chat_id, text))
        return str(len(self.sent))

    async def send_message_with_id(self, chat_id: ChatId, text: str) -> str:
        return await self.send_message(chat_id, text)

    async def edit_message(self, chat_id: ChatId, message_id: str, text: str) -> None:
        return None

    async def delete_message(self, chat_id: ChatId, message_id: str) -> None:
        return None

    async def send_typing_indicator(self, chat_id: ChatId) -> None:
        return None

    async def request_approval(
        self,
        chat_id: ChatId,
        approval_id: str,
        description: str,
        tool_name: str,
        *,
        preview: ApprovalPreview | None = None,
    ) -> str:
        self.approvals.append(
            ApprovalRequest(chat_id, approval_id, description, tool_name, preview=preview)
        )
        self.approval_requested.set()
        return approval_id

    async def offer_scopes(
        self, chat_id: ChatId, approval_id: str, labels: tuple[str, ...]
    ) -> None:
        """Record the scopes "always" offered (a real connector shows them as choices)."""
        self.scope_offers.append((chat_id, approval_id, labels))

    async def close_approval(self, chat_id: ChatId, message_id: str, outcome: str) -> None:
        for request in self.approvals:
            if request.approval_id == message_id:
                request.closed_with = outcome

    async def send_file(self, chat_id: ChatId, path: Path, caption: str | None = None) -> None:
        self.sent.append((chat_id, f"file {path}"))

    def open_reply(self, chat_id: ChatId) -> ReplyStream:
        reply = RecordedReply(chat_id)
        self.replies.append(reply)
        return reply

    async def next_approval(self, wait_seconds: float = 5.0) -> ApprovalRequest:
        """Wait for the next approval request."""
        await asyncio.wait_for(self.approval_requested.wait(), wait_seconds)
        self.approval_requested.clear()
        return self.approvals[-1]
