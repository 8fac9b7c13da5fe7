"""The shared approval view, and how the terminal shows it (colour, plain, NO_COLOR)."""

from __future__ import annotations

import pytest

from tether.connectors.approval_view import (
    approval_view,
    render_terminal,
    terminal_wants_colour,
)
from tether.core.safety.preview import ApprovalPreview, PreviewPart

DIFF = "--- a/x.py\n+++ b/x.py\n@@ -1,2 +1,2 @@\n a = 1\n-b = 2\n+b = 3"


def _diff_preview() -> ApprovalPreview:
    return ApprovalPreview(
        tool_name="Edit",
        kind="diff",
        subject="x.py",
        body=DIFF,
        reason="Changing files needs your approval",
        rule="writes",
        risk_level="medium",
    )


def test_a_diff_is_laid_out_title_body_then_why() -> None:
    view = approval_view(_diff_preview())
    assert [block.kind for block in view.blocks] == ["title", "diff", "why"]
    assert view.blocks[0].text == "🔐 Edit x.py"
    assert view.blocks[-1].text == (
        "Why: Changing files needs your approval (rule writes) · Risk: medium"
    )
    assert view.full_diff == DIFF


def test_a_command_lists_its_parts_with_their_facts() -> None:
    preview = ApprovalPreview(
        tool_name="Bash",
        kind="command",
        subject="pip install x && ls",
        body="pip install x && ls",
        parts=(
            PreviewPart(text="pip install x", facts=("installs packages",)),
            PreviewPart(text="ls"),
        ),
    )
    view = approval_view(preview)
    assert view.blocks[0].text == "🔐 Run  (Bash)"
    items = [block.text for block in view.blocks if block.kind == "item"]
    assert items == ["pip install x — installs packages", "ls — nothing risky on its own"]
    assert view.full_diff is None


def test_a_note_only_preview_still_reads() -> None:
    preview = ApprovalPreview(tool_name="Edit", kind="note", subject="a.bin", note="binary file")
    assert "binary file" in approval_view(preview).plain()


def test_the_terminal_colours_added_and_removed_lines() -> None:
    text = render_terminal(approval_view(_diff_preview()), colour=True)
    assert "\033[32m+b = 3\033[0m" in text
    assert "\033[31m-b = 2\033[0m" in text


def test_plain_terminal_text_has_no_escape_codes() -> None:
    text = render_terminal(approval_view(_diff_preview()), colour=False)
    assert "\033" not in text
    assert "+b = 3" in text and "-b = 2" in text


@pytest.mark.parametrize(
    ("is_tty", "environ", "expected"),
    [
        pytest.param(True, {}, True, id="tty"),
        pytest.param(False, {}, False, id="pipe"),
        pytest.param(True, {"NO_COLOR": "1"}, False, id="no-color"),
        pytest.param(True, {"NO_COLOR": ""}, True, id="no-color-empty-means-unset"),
        pytest.param(True, {"TERM": "dumb"}, False, id="dumb-terminal"),
    ],
)
def test_colour_only_on_a_capable_terminal_without_no_color(
    is_tty: bool, environ: dict[str, str], expected: bool
) -> None:
    assert terminal_wants_colour(is_tty, environ) is expected
