"""What the page reads from the audit log's tail: recent decisions, a chat's past sessions."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

__all__ = ["DECISION_TYPES", "chat_sessions", "recent_decisions"]

DECISION_TYPES = frozenset(
    {
        "tool_attempt",
        "approval",
        "approval_refused",
        "auto_approve_granted",
        "security_violation",
        "access_denied",
        "web_login_failed",
        "web_login_locked",
        "web_request_refused",
    }
)
_TAIL_BYTES = 256 * 1024
_SHOWN_FIELDS = (
    "timestamp",
    "event_type",
    "tool_name",
    "approved",
    "outcome",
    "reason",
    "chat_id",
    "client",
)
_MAX_FIELD = 300


def _tail(path: Path) -> list[bytes]:
    """The log's last lines (at most its last 256 KiB), oldest first; none when it is missing."""
    try:
        with open(path, "rb") as file:
            size = file.seek(0, os.SEEK_END)
            start = max(0, size - _TAIL_BYTES)
            file.seek(start)
            tail = file.read()
    except FileNotFoundError:
        return []
    lines = tail.split(b"\n")
    return lines[1:] if start > 0 else lines  # the first line is cut in the middle


def _records(lines: list[bytes]) -> Any:
    """The entries of `lines`, newest first; lines that are not JSON objects are skipped."""
    for raw in reversed(lines):
        try:
            record = json.loads(raw)
        except ValueError:
            continue
        if isinstance(record, dict):
            yield record


def recent_decisions(path: Path, limit: int) -> list[dict[str, Any]]:
    """The last `limit` decision entries, newest first; reads at most the file's tail.

    Blocking: call it in a thread. A missing log has no decisions.
    """
    found: list[dict[str, Any]] = []
    for record in _records(_tail(path)):
        if len(found) >= limit:
            break
        if record.get("event_type") in DECISION_TYPES:
            found.append(_shown(record))
    return found


def chat_sessions(path: Path, chat_id: str, limit: int) -> list[str]:
    """The ids of the sessions that served requests in `chat_id`, newest first.

    The audit log outlives a restart and the in-memory session store, so the
    page lists a chat's earlier sessions from it. Blocking: call it in a thread.
    """
    found: list[str] = []
    for record in _records(_tail(path)):
        if len(found) >= limit:
            break
        if record.get("event_type") != "request_started" or record.get("chat_id") != chat_id:
            continue
        session_id = record.get("session_id")
        if isinstance(session_id, str) and session_id not in found:
            found.append(session_id)
    return found


def _shown(record: dict[str, Any]) -> dict[str, Any]:
    shown: dict[str, Any] = {}
    for name in _SHOWN_FIELDS:
        if name in record:
            shown[name] = _short(record[name])
    decision = record.get("decision")
    if isinstance(decision, dict):
        shown["allowed"] = decision.get("allowed")
        shown["reason"] = _short(decision.get("reason"))
    tool_input = record.get("tool_input")
    if isinstance(tool_input, dict):
        subject = next(
            (tool_input[k] for k in ("command", "file_path", "path", "pattern") if k in tool_input),
            None,
        )
        if isinstance(subject, str):
            shown["subject"] = _short(subject)
    return shown


def _short(value: Any) -> Any:
    if isinstance(value, str) and len(value) > _MAX_FIELD:
        return value[: _MAX_FIELD - 1] + "…"
    return value if isinstance(value, (str, int, float, bool)) or value is None else str(value)
