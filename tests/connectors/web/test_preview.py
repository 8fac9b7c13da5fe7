"""What an approval shows: the call's content, only when it is the call the description names."""

from __future__ import annotations

import pytest

from tether.connectors.approval_view import approval_view
from tether.connectors.web.preview import MAX_DETAIL, ApprovalView, render_approval
from tether.core.safety.preview import ApprovalPreview

DESCRIPTION = "🔐 Write: /p/notes.txt\nWhy: Changing files needs your approval\nRisk: high"


def _body(view: ApprovalView) -> tuple[str, str] | None:
    found = [(b.kind, b.text) for b in view.blocks if b.kind in ("code", "diff")]
    return found[0] if found else None


def test_a_write_shows_its_content_between_the_title_and_the_reason() -> None:
    view = render_approval("Write", DESCRIPTION, {"file_path": "/p/notes.txt", "content": "milk"})
    assert [b.kind for b in view.blocks] == ["title", "code", "why", "why"]
    assert view.blocks[0].text == "🔐 Write: /p/notes.txt"
    assert _body(view) == ("code", "milk")


@pytest.mark.parametrize(
    "tool_input",
    [
        pytest.param({"file_path": "/p/other.txt", "content": "rm -rf"}, id="another-file"),
        pytest.param({"content": "milk"}, id="no-path"),
        pytest.param({"file_path": 5, "content": "milk"}, id="path-not-text"),
        pytest.param({"file_path": "/p/notes.txt", "content": 5}, id="content-not-text"),
        pytest.param(None, id="nothing-gated"),
        pytest.param({}, id="empty"),
    ],
)
def test_content_of_another_call_is_never_shown(tool_input: dict[str, object] | None) -> None:
    view = render_approval("Write", DESCRIPTION, tool_input)
    assert _body(view) is None
    assert view.blocks[0].kind == "title"


def test_an_edit_shows_what_changes() -> None:
    view = render_approval(
        "Edit",
        "🔐 Edit: /p/a.py\nWhy: x",
        {"file_path": "/p/a.py", "old_string": "a = 1", "new_string": "a = 2"},
    )
    assert _body(view) == ("diff", "- a = 1\n+ a = 2")


def test_a_command_is_shown_whole_and_long_content_is_cut() -> None:
    command = "make deploy " + "x" * 10_000
    view = render_approval("Bash", f"🔐 Bash: {command[:200]}…", {"command": command})
    body = _body(view)
    assert body is not None and body[1].startswith("make deploy")
    assert len(body[1]) < MAX_DETAIL + 100
    assert "more characters not shown" in body[1]


def test_an_empty_description_still_has_a_title() -> None:
    assert render_approval("Bash", "", None).blocks[0].text == "🔐 Bash"


def test_a_structured_preview_is_shown_in_the_shared_layout() -> None:
    """The gate's preview wins over the description: the page shows what the terminal shows."""
    preview = ApprovalPreview(
        tool_name="Write",
        kind="new_file",
        subject="notes.txt",
        body="milk\neggs",
        note="new file, 2 lines",
        reason="Changing files needs your approval",
        rule="writes",
        risk_level="high",
    )
    view = render_approval("Write", "🔐 Write: elsewhere.txt", None, preview)
    shared = approval_view(preview)
    assert [(b.kind, b.text) for b in view.blocks] == [(b.kind, b.text) for b in shared.blocks]
    assert any(b.text == "milk\neggs" for b in view.blocks)
