"""Requests cut short by a stop or a crash, found in the audit log at the next start.

The engine writes `request_started` when it hands a message to the agent and
`request_ended` (with how it ended) when the agent is done. A request that
ended because Tether stopped, or that never ended (a crash, a kill), was cut
short: at the next start its chat is told which request it was, once. The
audit log is the memory here, so this works with the in-memory session store
too; `restart_notices_sent` marks how far the log has been read.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from tether.core.types import ChatId

__all__ = ["NOTICES_SENT", "REQUEST_ENDED", "REQUEST_STARTED", "CutShort", "find_cut_short"]

REQUEST_STARTED = "request_started"
REQUEST_ENDED = "request_ended"
NOTICES_SENT = "restart_notices_sent"

# Only the end of a long log is read: what matters happened since the last start.
_TAIL_BYTES = 8 * 1024 * 1024
_MAX_PER_CHAT = 5


class CutShort(BaseModel):
    """One chat's requests that did not finish, oldest first (their first words)."""

    model_config = ConfigDict(frozen=True)

    chat_id: ChatId
    requests: tuple[str, ...]


def find_cut_short(path: Path | str) -> tuple[CutShort, ...]:
    """The chats whose requests were cut short since notices were last sent.

    Reads the end of the audit log at `path` (blocking: run it in a thread); a
    missing or unreadable log, and lines that are not JSON, count as nothing.
    """
    started: dict[str, tuple[ChatId, str]] = {}
    for entry in _tail_entries(Path(path)):
        kind = entry.get("event_type")
        if kind == NOTICES_SENT:
            started.clear()
        elif kind == REQUEST_STARTED and isinstance(entry.get("request_id"), str):
            chat_id = entry.get("chat_id")
            if isinstance(chat_id, (int, str)):
                started[entry["request_id"]] = (chat_id, str(entry.get("text", "")))
        elif kind == REQUEST_ENDED and entry.get("outcome") != "stopped":
            started.pop(str(entry.get("request_id")), None)
    by_chat: dict[ChatId, list[str]] = {}
    for chat_id, text in started.values():
        by_chat.setdefault(chat_id, []).append(text)
    return tuple(
        CutShort(chat_id=chat_id, requests=tuple(texts[-_MAX_PER_CHAT:]))
        for chat_id, texts in by_chat.items()
    )


def _tail_entries(path: Path) -> list[dict[str, Any]]:
    try:
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            handle.seek(max(0, size - _TAIL_BYTES))
            data = handle.read()
    except OSError:
        return []
    lines = data.split(b"\n")
    if len(data) == _TAIL_BYTES and size > _TAIL_BYTES:
        lines = lines[1:]  # the first line may be cut in half
    entries = []
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict):
            entries.append(entry)
    return entries
