"""The web connector's state: each chat's recent conversation, the approvals, the open pages.

Pages come and go (a reload, a phone waking up); the conversation must not go
with them. The hub keeps the recent entries of every web chat and the open
approvals, sends a page a snapshot when it connects and every change after.
A page that cannot keep up (its queue is full) is dropped: it reconnects and
gets a fresh snapshot, and nobody else waits for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import Any

from tether.core.types import ChatId

__all__ = ["MAX_CHATS", "MAX_ENTRIES", "MAX_TEXT", "Client", "Hub"]

MAX_ENTRIES = 200
"""Entries kept per chat (older ones scroll away)."""
MAX_CHATS = 64
"""Web chats kept; the one idle longest is forgotten first."""
MAX_TEXT = 100_000
"""Characters of one entry kept for the page; a longer reply is cut with a note."""
_CUT_NOTE = "\n… (cut here: the reply is longer than the page keeps)"
_MAX_APPROVALS = 64
_QUEUE_SIZE = 512


@dataclass(eq=False)
class Client:
    """One open page: the chat it shows and the events waiting to be sent to it."""

    chat_id: ChatId
    queue: asyncio.Queue[str | None] = field(default_factory=lambda: asyncio.Queue(_QUEUE_SIZE))
    dropped: bool = False

    def push(self, event: str) -> None:
        """Queue an event, already encoded: entries change after they are sent."""
        if self.dropped:
            return
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            self.dropped = True
            # Room was made for this marker by taking one event out: the sender
            # closes the socket and the page reconnects for a snapshot.
            self.queue.get_nowait()
            self.queue.put_nowait(None)


@dataclass(eq=False)
class _Chat:
    entries: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=MAX_ENTRIES))
    busy: int = 0


class Hub:
    """Web chats, approvals and open pages; every method runs on the event loop."""

    def __init__(self) -> None:
        self._chats: OrderedDict[ChatId, _Chat] = OrderedDict()
        self._approvals: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._clients: set[Client] = set()
        self._ids = itertools.count(1)

    @property
    def clients(self) -> frozenset[Client]:
        return frozenset(self._clients)

    def next_id(self) -> str:
        return str(next(self._ids))

    # -- pages --------------------------------------------------------------

    def connect(self, chat_id: ChatId) -> Client:
        """A page opened on `chat_id`: it gets the snapshot first."""
        client = Client(chat_id)
        client.push(json.dumps(self.snapshot(chat_id)))
        self._clients.add(client)
        return client

    def disconnect(self, client: Client) -> None:
        self._clients.discard(client)

    def snapshot(self, chat_id: ChatId) -> dict[str, Any]:
        chat = self._chats.get(chat_id)
        return {
            "type": "snapshot",
            "entries": list(chat.entries) if chat else [],
            "busy": bool(chat and chat.busy),
            "approvals": list(self._approvals.values()),
        }

    def close_all(self) -> None:
        """Tell every page's sender to close its socket (the connector is stopping)."""
        for client in self._clients:
            client.dropped = True
            with contextlib.suppress(asyncio.QueueFull):
                client.queue.put_nowait(None)
        self._clients.clear()

    # -- conversation -------------------------------------------------------

    def add_entry(self, chat_id: ChatId, entry: dict[str, Any]) -> dict[str, Any]:
        """Append an entry (`kind` and its fields) to the chat; returns it with its id."""
        entry = {"id": self.next_id(), **entry}
        if isinstance(entry.get("text"), str):
            entry["text"] = _bounded(entry["text"])
        self._chat(chat_id).entries.append(entry)
        self._to_chat(chat_id, {"type": "entry", "entry": entry})
        return entry

    def update_entry(self, chat_id: ChatId, entry_id: str, **changes: Any) -> None:
        chat = self._chats.get(chat_id)
        if chat is None:
            return
        if isinstance(changes.get("text"), str):
            changes["text"] = _bounded(changes["text"])
        for entry in reversed(chat.entries):
            if entry["id"] == entry_id:
                entry.update(changes)
                self._to_chat(chat_id, {"type": "update", "id": entry_id, **changes})
                return

    def append_text(self, chat_id: ChatId, entry_id: str, delta: str) -> None:
        """Add `delta` to an entry's text; pages get only the new part."""
        chat = self._chats.get(chat_id)
        if chat is None:
            return
        for entry in reversed(chat.entries):
            if entry["id"] == entry_id:
                text = entry.get("text", "")
                if len(text) + len(delta) > MAX_TEXT:
                    if not text.endswith(_CUT_NOTE):
                        self.update_entry(chat_id, entry_id, text=text + delta)
                    return
                entry["text"] = text + delta
                self._to_chat(chat_id, {"type": "append", "id": entry_id, "text": delta})
                return

    def remove_entry(self, chat_id: ChatId, entry_id: str) -> None:
        chat = self._chats.get(chat_id)
        if chat is None:
            return
        for entry in list(chat.entries):
            if entry["id"] == entry_id:
                chat.entries.remove(entry)
                self._to_chat(chat_id, {"type": "remove", "id": entry_id})
                return

    def set_busy(self, chat_id: ChatId, delta: int) -> None:
        chat = self._chat(chat_id)
        chat.busy = max(0, chat.busy + delta)
        self._to_chat(chat_id, {"type": "busy", "value": chat.busy > 0})

    # -- approvals (every page sees them: each is the owner's) --------------

    def add_approval(self, approval: dict[str, Any]) -> None:
        self._approvals[approval["approval_id"]] = approval
        while len(self._approvals) > _MAX_APPROVALS:
            oldest = next(iter(self._approvals))
            self._approvals.pop(oldest)
        self._to_all({"type": "approval", "approval": approval})

    def approval(self, approval_id: str) -> dict[str, Any] | None:
        return self._approvals.get(approval_id)

    def settle_approval(self, approval_id: str, outcome: str) -> None:
        approval = self._approvals.get(approval_id)
        if approval is None or approval["state"] == "settled":
            return
        approval["state"] = "settled"
        approval["outcome"] = outcome
        self._to_all({"type": "settled", "approval_id": approval_id, "outcome": outcome})

    def progress(self, approval_id: str, text: str) -> None:
        """A step of an open request (an option picked): every page shows the text."""
        approval = self._approvals.get(approval_id)
        if approval is None:
            return
        approval["progress"] = text
        self._to_all({"type": "progress", "approval_id": approval_id, "text": text})

    def answered(self, approval_id: str, question: int, text: str) -> None:
        """Question `question` of an open request is answered; the others still wait."""
        approval = self._approvals.get(approval_id)
        if approval is None:
            return
        approval.setdefault("answered", {})[str(question)] = text
        approval["progress"] = text
        self._to_all(
            {"type": "answered", "approval_id": approval_id, "question": question, "text": text}
        )

    def offer_scopes(self, approval_id: str, labels: list[str]) -> bool:
        """Offer the scopes an "always" may learn on the request's card; False if it is gone."""
        approval = self._approvals.get(approval_id)
        if approval is None:
            return False
        approval["scopes"] = labels
        self._to_all({"type": "scopes", "approval_id": approval_id, "scopes": labels})
        return True

    def scopes_done(self, approval_id: str, outcome: str) -> None:
        """A scope was chosen (or refused): the offer goes, the outcome stays."""
        approval = self._approvals.get(approval_id)
        if approval is None:
            return
        approval["scopes"] = None
        approval["learned"] = outcome
        self._to_all({"type": "learned", "approval_id": approval_id, "outcome": outcome})

    # -- internals ----------------------------------------------------------

    def _chat(self, chat_id: ChatId) -> _Chat:
        chat = self._chats.pop(chat_id, None) or _Chat()
        self._chats[chat_id] = chat  # most recently used last
        while len(self._chats) > MAX_CHATS:
            oldest, state = next(iter(self._chats.items()))
            if state.busy:
                break  # a chat at work is never forgotten
            self._chats.pop(oldest)
        return chat

    def _to_chat(self, chat_id: ChatId, event: dict[str, Any]) -> None:
        encoded: str | None = None
        for client in self._clients:
            if client.chat_id == chat_id:
                encoded = encoded or json.dumps(event)
                client.push(encoded)

    def _to_all(self, event: dict[str, Any]) -> None:
        encoded = json.dumps(event)
        for client in self._clients:
            client.push(encoded)


def _bounded(text: str) -> str:
    if len(text) <= MAX_TEXT:
        return text
    return text[: MAX_TEXT - len(_CUT_NOTE)] + _CUT_NOTE
