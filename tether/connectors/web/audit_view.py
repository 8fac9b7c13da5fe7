"""The recent decisions in the audit log, read from its tail for the page."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

__all__ = ["DECISION_TYPES", "recent_decisions"]

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


def recent_decisions(path: Path, limit: int) -> list[dict[str, Any]]:
    """The last `limit` decision entries, newest first; reads at most the file's tail.

    Blocking: call it in a thread. A missing log has no decisions.
    """
    try:
        with open(path, "rb") as file:
            size = file.seek(0, os.SEEK_END)
            start = max(0, size - _TAIL_BYTES)
            file.seek(start)
            tail = file.read()
    except FileNotFoundError:
        return []
    lines = tail.split(b"\n")
    if start > 0:
        lines = lines[1:]  # the first line is cut in the middle
    found: list[dict[str, Any]] = []
    for raw in reversed(lines):
        if len(found) >= limit:
            break
        try:
            record = json.loads(raw)
        except ValueError:
            continue
        if not isinstance(record, dict) or record.get("event_type") not in DECISION_TYPES:
            continue
        found.append(_shown(record))
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
