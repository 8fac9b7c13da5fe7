"""Approvals as Telegram HTML: escaped, in <pre>, cut to fit with the rest sent as a file."""

from __future__ import annotations

from tether.connectors.approval_view import approval_view
from tether.connectors.streaming import text_units
from tether.connectors.telegram_preview import approval_html
from tether.core.safety.preview import ApprovalPreview, PreviewPart


def _diff(lines: int, line: str = "+x = '<b>&amp;</b>'") -> ApprovalPreview:
    body = "--- a/x.py\n+++ b/x.py\n@@ -1 +1 @@\n" + "\n".join([line] * lines)
    return ApprovalPreview(tool_name="Edit", kind="diff", subject="x.py", body=body)


def test_a_short_diff_is_shown_whole_and_escaped() -> None:
    shown = approval_html(approval_view(_diff(3)))
    assert shown.cut_lines == 0 and shown.attachment is None
    assert '<pre><code class="language-diff">' in shown.html
    assert "&lt;b&gt;&amp;amp;&lt;/b&gt;" in shown.html
    assert "<b>🔐 Edit x.py</b>" in shown.html


def test_a_long_diff_is_cut_says_how_much_is_left_and_is_attached_whole() -> None:
    view = approval_view(_diff(2000))
    shown = approval_html(view)
    assert text_units(shown.html) <= 4096 - 300
    assert shown.cut_lines > 0
    assert f"✂️ {shown.cut_lines} more lines" in shown.html
    assert "attached as a file" in shown.html
    assert shown.attachment == view.full_diff


def test_one_enormous_line_is_cut_too() -> None:
    shown = approval_html(approval_view(_diff(1, "+" + "é" * 50_000)))
    assert text_units(shown.html) <= 4096


def test_a_long_command_is_cut_without_an_attachment() -> None:
    command = "\n".join(f"echo {n}" for n in range(3000))
    preview = ApprovalPreview(tool_name="Bash", kind="command", body=command)
    shown = approval_html(approval_view(preview))
    assert text_units(shown.html) <= 4096
    assert shown.cut_lines > 0 and shown.attachment is None


def test_many_long_commands_still_fit() -> None:
    parts = tuple(PreviewPart(text="x" * 500, facts=("y" * 200,)) for _ in range(12))
    preview = ApprovalPreview(tool_name="Bash", kind="command", body="x" * 6000, parts=parts)
    assert text_units(approval_html(approval_view(preview)).html) <= 4096
