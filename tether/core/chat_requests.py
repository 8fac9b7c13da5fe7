"""ChatRequests: which request each chat is running, one at a time, and stopping it.

The engine runs a chat's messages one after another behind the chat's lock;
a command (`/cancel`, `/clear`) must reach the request that holds it, so the
running request is tracked here, where both the engine and the commands'
services see it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from tether.agents.base import BaseAgent
from tether.core.safety.approvals import ApprovalCoordinator
from tether.core.types import ChatId

__all__ = ["ChatRequests", "ChatState"]


@dataclass(eq=False)
class ChatState:
    """One chat's queue (its lock) and its running request."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    running: asyncio.Task[Any] | None = None
    session_id: str | None = None


class ChatRequests:
    """The running request of every chat.

    Args:
        approvals: whose pending approvals of a chat are denied on cancel.
        agent: interrupted on cancel (None: nothing to interrupt).
    """

    def __init__(self, approvals: ApprovalCoordinator, agent: BaseAgent | None) -> None:
        self._approvals = approvals
        self._agent = agent
        self._chats: dict[ChatId, ChatState] = {}

    def state(self, chat_id: ChatId) -> ChatState:
        """The chat's state, created on first use."""
        state = self._chats.get(chat_id)
        if state is None:
            # Made only for a new chat: a state (and its lock) per message is waste.
            state = self._chats[chat_id] = ChatState()
        return state

    def is_busy(self, chat_id: ChatId) -> bool:
        state = self._chats.get(chat_id)
        return state is not None and state.running is not None

    async def cancel(self, chat_id: ChatId) -> bool:
        """Stop the request running in `chat_id` and deny its pending approvals."""
        state = self._chats.get(chat_id)
        await self._approvals.cancel_pending(chat_id)
        if state is None or state.running is None:
            return False
        if self._agent is not None and state.session_id is not None:
            await self._agent.cancel(state.session_id)
        return True

    async def cancel_all(self, grace_seconds: float) -> None:
        """Cancel every chat's request and wait up to `grace_seconds` for them to end."""
        running: list[asyncio.Task[Any]] = []
        for chat_id, state in list(self._chats.items()):
            if state.running is not None:
                if state.running is not asyncio.current_task():
                    running.append(state.running)
                await self.cancel(chat_id)
            else:
                await self._approvals.cancel_pending(chat_id)
        if running:
            # Let them write how they ended before the audit log closes.
            await asyncio.wait(running, timeout=grace_seconds)
