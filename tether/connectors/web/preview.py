"""What an approval shows in the browser: the one adapter between the gate and the page.

The page renders an approval as blocks in order (a title, code or a diff,
notes, the reason and risk), the connector-neutral layout the terminal and
Telegram share; this module builds those blocks from what a request carries.
The gate's description gives the title and the reason; the call's content
(what a Write would write, an Edit's change, the command a Bash would run)
comes from the tool input last gated in the chat, and is shown only when it
is the call the description names: a preview of another call would be worse
than none.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from tether.connectors.approval_view import approval_view
from tether.core.types import ApprovalPreview

__all__ = ["MAX_DETAIL", "ApprovalView", "ViewBlock", "render_approval"]

MAX_DETAIL = 4000
"""Characters of content shown; the rest is cut with a note saying how much."""

BlockKind = Literal["title", "code", "diff", "note", "item", "why"]

_SUBJECT_FIELDS = ("command", "file_path", "notebook_path", "path", "url", "pattern")


class ViewBlock(BaseModel):
    """One block as shown: `kind` decides the look, `text` is shown verbatim (as text)."""

    model_config = ConfigDict(frozen=True)

    kind: BlockKind
    text: str


class ApprovalView(BaseModel):
    """An approval as the page renders it: the tool and its blocks, in order."""

    model_config = ConfigDict(frozen=True)

    tool_name: str
    blocks: tuple[ViewBlock, ...]


def render_approval(
    tool_name: str,
    description: str,
    tool_input: dict[str, Any] | None,
    preview: ApprovalPreview | None = None,
) -> ApprovalView:
    """The view of one approval request, from what the request carries.

    With the gate's structured `preview`, the shared layout
    (`tether.connectors.approval_view`) is used as it is, so the page shows what
    the terminal and Telegram show. Without one, the description and the call
    last gated in the chat make the blocks.
    """
    if preview is not None:
        shared = approval_view(preview)
        return ApprovalView(
            tool_name=shared.tool_name,
            blocks=tuple(ViewBlock(kind=block.kind, text=block.text) for block in shared.blocks),
        )
    lines = [line for line in description.splitlines() if line.strip()]
    blocks = [ViewBlock(kind="title", text=lines[0] if lines else f"🔐 {tool_name}")]
    body = _detail(tool_name, tool_input, description)
    if body is not None:
        blocks.append(body)
    blocks += [ViewBlock(kind="why", text=line) for line in lines[1:]]
    return ApprovalView(tool_name=tool_name, blocks=tuple(blocks))


def _detail(
    tool_name: str, tool_input: dict[str, Any] | None, description: str
) -> ViewBlock | None:
    if not tool_input or not _names_this_call(tool_input, description):
        return None
    if tool_name == "Write" and isinstance(tool_input.get("content"), str):
        return ViewBlock(kind="code", text=_bounded(tool_input["content"]))
    if tool_name == "Edit":
        old, new = tool_input.get("old_string"), tool_input.get("new_string")
        if isinstance(old, str) and isinstance(new, str):
            return ViewBlock(kind="diff", text=_bounded(_diff(old, new)))
    if tool_name == "MultiEdit" and isinstance(tool_input.get("edits"), list):
        parts = [
            _diff(str(edit.get("old_string", "")), str(edit.get("new_string", "")))
            for edit in tool_input["edits"][:20]
            if isinstance(edit, dict)
        ]
        return ViewBlock(kind="diff", text=_bounded("\n…\n".join(parts)))
    if tool_name == "Bash" and isinstance(tool_input.get("command"), str):
        return ViewBlock(kind="code", text=_bounded(tool_input["command"]))
    return None


def _names_this_call(tool_input: dict[str, Any], description: str) -> bool:
    """True when the description names the input's subject (its command or path)."""
    for name in _SUBJECT_FIELDS:
        value = tool_input.get(name)
        if isinstance(value, str) and value:
            # The description cuts long subjects with "…": compare the start.
            return value[:60] in description
    return False


def _diff(old: str, new: str) -> str:
    removed = "\n".join(f"- {line}" for line in old.splitlines() or [""])
    added = "\n".join(f"+ {line}" for line in new.splitlines() or [""])
    return f"{removed}\n{added}"


def _bounded(text: str) -> str:
    if len(text) <= MAX_DETAIL:
        return text
    return f"{text[:MAX_DETAIL]}\n… ({len(text) - MAX_DETAIL} more characters not shown)"
