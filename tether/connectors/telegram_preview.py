"""An `ApprovalView` as Telegram HTML: escaped, code in `<pre>`, within one message.

Telegram refuses a message over 4096 characters, so a long diff or command
is cut at a line, with a line saying how much is left; the whole diff then
goes to the chat as a `.diff` file beside the request.
"""

from __future__ import annotations

from html import escape

from pydantic import BaseModel, ConfigDict

from tether.connectors.approval_view import ApprovalView, ViewBlock
from tether.connectors.streaming import text_units

__all__ = ["TelegramApprovalText", "approval_html"]

# Room kept for the outcome line added under the request when it is settled.
_OUTCOME_ROOM = 300
_ITEM_MAX = 300
# The tags around a cut body and the line saying how much was cut.
_BODY_FRAME = 160


class TelegramApprovalText(BaseModel):
    """What Telegram shows for one approval: the HTML, and the full diff if it was cut."""

    model_config = ConfigDict(frozen=True)

    html: str
    cut_lines: int = 0
    """How many lines of the diff or command are not shown."""
    attachment: str | None = None
    """The whole diff, to send as a file, when the message shows only part of it."""


def approval_html(
    view: ApprovalView, *, limit: int = 4096, footer: str = ""
) -> TelegramApprovalText:
    """Lay out `view` as Telegram HTML of at most `limit` units, the footer (plain) included."""
    budget = limit - _OUTCOME_ROOM - text_units(footer)
    pieces = [_html(block) for block in view.blocks if block.kind not in {"code", "diff"}]
    items = [b for b in view.blocks if b.kind == "item"]
    fixed = sum(text_units(p) + 1 for p in pieces)
    if fixed > budget // 2 and items:
        # Many commands: each is shortened so the body keeps room.
        view = view.model_copy(
            update={"blocks": tuple(_short(b) if b.kind == "item" else b for b in view.blocks)}
        )
        fixed = sum(text_units(_html(b)) + 1 for b in view.blocks if b.kind not in {"code", "diff"})
    room = max(budget - fixed - _BODY_FRAME, 200)
    out: list[str] = []
    cut_lines = 0
    attachment: str | None = None
    for block in view.blocks:
        if block.kind in {"code", "diff"}:
            shown, cut_lines = _fit(block.text, room)
            body = ViewBlock(kind=block.kind, text=shown)
            out.append(_html(body))
            if cut_lines:
                attachment = view.full_diff if block.kind == "diff" else None
                tail = (
                    "the full diff is attached as a file"
                    if attachment
                    else "not shown to keep the message readable"
                )
                out.append(
                    f"<i>✂️ {cut_lines} more line{'s' if cut_lines != 1 else ''} — {tail}</i>"
                )
        else:
            out.append(_html(block))
    if footer:
        out.append(escape(footer))
    return TelegramApprovalText(html="\n".join(out), cut_lines=cut_lines, attachment=attachment)


def _html(block: ViewBlock) -> str:
    text = escape(block.text, quote=False)
    if block.kind == "title":
        return f"<b>{text}</b>"
    if block.kind == "diff":
        return f'<pre><code class="language-diff">{text}</code></pre>'
    if block.kind == "code":
        return f"<pre>{text}</pre>"
    if block.kind == "item":
        return f"• {text}"
    return f"<i>{text}</i>"


def _short(block: ViewBlock) -> ViewBlock:
    text = block.text if len(block.text) <= _ITEM_MAX else block.text[: _ITEM_MAX - 1] + "…"
    return block.model_copy(update={"text": text})


def _fit(text: str, room: int) -> tuple[str, int]:
    """The longest run of whole lines of `text` whose HTML fits `room` units; lines left."""
    lines = text.splitlines()
    used = 0
    kept: list[str] = []
    for line in lines:
        cost = text_units(escape(line, quote=False)) + 1
        if used + cost > room:
            if not kept:
                # One enormous line: show its start.
                kept.append(line[: max(room // 6, 20)] + "…")
            break
        kept.append(line)
        used += cost
    return "\n".join(kept), len(lines) - len(kept)
