"""What an approval shows in the browser: the one adapter between the gate and the page.

The gate describes a request as text (`describe_for_approval`); the page also
shows the call's content (what a Write would write, the command a Bash would
run). That content comes from the tool input last gated in the chat, and is
shown only when it is the call the description names: a preview of another
call would be worse than none.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

__all__ = ["MAX_DETAIL", "ApprovalView", "render_approval"]

MAX_DETAIL = 4000
"""Characters of content shown; the rest is cut with a note saying how much."""

_SUBJECT_FIELDS = ("command", "file_path", "notebook_path", "path", "url", "pattern")


class ApprovalView(BaseModel):
    """An approval as the page renders it."""

    model_config = ConfigDict(frozen=True)

    tool_name: str
    summary: str
    """The gate's description: the call, why it asks, the risk."""
    detail: str | None = None
    """The call's content (file text, edit, command), bounded."""
    detail_kind: str | None = None
    """`content`, `diff` or `command`: how the page styles the detail."""


def render_approval(
    tool_name: str, description: str, tool_input: dict[str, Any] | None
) -> ApprovalView:
    """The view of one approval request (from what the request carries today)."""
    detail, kind = _detail(tool_name, tool_input, description)
    return ApprovalView(tool_name=tool_name, summary=description, detail=detail, detail_kind=kind)


def _detail(
    tool_name: str, tool_input: dict[str, Any] | None, description: str
) -> tuple[str | None, str | None]:
    if not tool_input or not _names_this_call(tool_input, description):
        return None, None
    if tool_name == "Write" and isinstance(tool_input.get("content"), str):
        return _bounded(tool_input["content"]), "content"
    if tool_name == "Edit":
        old, new = tool_input.get("old_string"), tool_input.get("new_string")
        if isinstance(old, str) and isinstance(new, str):
            return _bounded(_diff(old, new)), "diff"
    if tool_name == "MultiEdit" and isinstance(tool_input.get("edits"), list):
        parts = [
            _diff(str(edit.get("old_string", "")), str(edit.get("new_string", "")))
            for edit in tool_input["edits"][:20]
            if isinstance(edit, dict)
        ]
        return _bounded("\n…\n".join(parts)), "diff"
    if tool_name == "Bash" and isinstance(tool_input.get("command"), str):
        return _bounded(tool_input["command"]), "command"
    return None, None


def _names_this_call(tool_input: dict[str, Any], description: str) -> bool:
    """True when the description names the input's subject (its command or path)."""
    for name in _SUBJECT_FIELDS:
        value = tool_input.get(name)
        if isinstance(value, str) and value:
            # The description cuts long subjects with "…": compare the start.
            head = value[:60]
            return head in description
    return False


def _diff(old: str, new: str) -> str:
    removed = "\n".join(f"- {line}" for line in old.splitlines() or [""])
    added = "\n".join(f"+ {line}" for line in new.splitlines() or [""])
    return f"{removed}\n{added}"


def _bounded(text: str) -> str:
    if len(text) <= MAX_DETAIL:
        return text
    return f"{text[:MAX_DETAIL]}\n… ({len(text) - MAX_DETAIL} more characters not shown)"
