"""ApprovalView: one connector-neutral layout of an approval, for every connector to format.

The gate builds an `ApprovalPreview` (what the call would change, and why it
asks); this module lays it out as a short sequence of blocks (a title, code or
diff, notes, the commands with their facts, the reason) that every connector
shows in the same order. The terminal (`render_terminal`) and Telegram
(`telegram_preview.py`) only choose how a block looks; a web connector can
serialise the view as it is.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict

from tether.core.types import ApprovalPreview

__all__ = [
    "ApprovalView",
    "ViewBlock",
    "approval_view",
    "render_terminal",
    "terminal_wants_colour",
]

BlockKind = Literal["title", "code", "diff", "note", "item", "why"]

_TITLES = {
    "Edit": "Edit",
    "MultiEdit": "Edit",
    "Write": "Write",
    "NotebookEdit": "Edit notebook",
    "Bash": "Run",
    "WebFetch": "Fetch",
}


class ViewBlock(BaseModel):
    """One block of an approval as shown: its kind decides the look, `text` is verbatim."""

    model_config = ConfigDict(frozen=True)

    kind: BlockKind
    text: str


class ApprovalView(BaseModel):
    """An approval laid out for people: blocks in the order to show them.

    `full_diff` is the whole diff when there is one, for a connector that
    cuts the diff to fit and sends it in full as a file.
    """

    model_config = ConfigDict(frozen=True)

    tool_name: str
    blocks: tuple[ViewBlock, ...]
    full_diff: str | None = None

    def plain(self) -> str:
        """The view as plain text (no colour, no markup)."""
        return render_terminal(self, colour=False)


def approval_view(preview: ApprovalPreview) -> ApprovalView:
    """Lay out `preview`: title, body, notes, the commands and why it asks."""
    blocks: list[ViewBlock] = []
    verb = _TITLES.get(preview.tool_name, preview.tool_name)
    subject = preview.subject if preview.kind != "command" else ""
    title = f"🔐 {verb}" + (f" {subject}" if subject else "")
    if verb != preview.tool_name:
        title += f"  ({preview.tool_name})"
    blocks.append(ViewBlock(kind="title", text=title))
    if preview.kind == "url" and preview.note:
        blocks.append(ViewBlock(kind="note", text=preview.note))
        preview = preview.model_copy(update={"note": ""})
    if preview.note and preview.kind in {"diff", "note", "new_file"}:
        blocks.append(ViewBlock(kind="note", text=preview.note))
    if preview.body:
        kind: BlockKind = "diff" if preview.kind == "diff" else "code"
        blocks.append(ViewBlock(kind=kind, text=preview.body))
    if preview.note and preview.kind not in {"diff", "note", "new_file"}:
        blocks.append(ViewBlock(kind="note", text=preview.note))
    if preview.kind == "command" and _worth_listing(preview):
        for part in preview.parts:
            facts = "; ".join(part.facts) if part.facts else "nothing risky on its own"
            blocks.append(ViewBlock(kind="item", text=f"{part.text} — {facts}"))
    why = _why_line(preview)
    if why:
        blocks.append(ViewBlock(kind="why", text=why))
    full = preview.body if preview.kind == "diff" and preview.body else None
    return ApprovalView(tool_name=preview.tool_name, blocks=tuple(blocks), full_diff=full)


def _worth_listing(preview: ApprovalPreview) -> bool:
    """The commands are listed when there are several, or when one has facts to tell."""
    return len(preview.parts) > 1 or any(part.facts for part in preview.parts)


def _why_line(preview: ApprovalPreview) -> str:
    bits = []
    if preview.reason:
        bits.append(f"Why: {preview.reason}" + (f" (rule {preview.rule})" if preview.rule else ""))
    if preview.risk_level and preview.risk_level != "none":
        bits.append(f"Risk: {preview.risk_level}")
    return " · ".join(bits)


# -- the terminal -----------------------------------------------------------------------

_RESET = "\033[0m"
_STYLES = {
    "title": "\033[1m",
    "note": "\033[2m",
    "why": "\033[2m",
    "item": "",
    "code": "\033[36m",
}
_DIFF_STYLES = (
    ("+++", "\033[1m"),
    ("---", "\033[1m"),
    ("+", "\033[32m"),
    ("-", "\033[31m"),
    ("@@", "\033[36m"),
)


def terminal_wants_colour(is_tty: bool, environ: Mapping[str, str] | None = None) -> bool:
    """Colour only on a terminal, never with NO_COLOR set (https://no-color.org) or TERM=dumb."""
    env = os.environ if environ is None else environ
    if env.get("NO_COLOR"):
        return False
    return is_tty and env.get("TERM", "") != "dumb"


def render_terminal(view: ApprovalView, *, colour: bool) -> str:
    """The view as terminal text: a coloured diff with `colour`, plain otherwise."""
    lines: list[str] = []
    for block in view.blocks:
        if block.kind == "diff":
            lines.extend(_diff_line(line, colour) for line in block.text.splitlines())
        elif block.kind == "code":
            lines.extend(_styled("    " + line, "code", colour) for line in block.text.splitlines())
        elif block.kind == "item":
            lines.append(_styled(f"  • {block.text}", "item", colour))
        else:
            lines.append(_styled(block.text, block.kind, colour))
    return "\n".join(lines)


def _styled(text: str, kind: str, colour: bool) -> str:
    style = _STYLES.get(kind, "")
    return f"{style}{text}{_RESET}" if colour and style else text


def _diff_line(line: str, colour: bool) -> str:
    if not colour:
        return line
    for prefix, style in _DIFF_STYLES:
        if line.startswith(prefix):
            return f"{style}{line}{_RESET}"
    return line
