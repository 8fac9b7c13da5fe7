"""What an approval shows: the call's content, only when it is the call the description names."""

from __future__ import annotations

import pytest

from tether.connectors.web.preview import MAX_DETAIL, render_approval

DESCRIPTION = "🔐 Write: /p/notes.txt\nWhy: Changing files needs your approval\nRisk: high"


def test_a_write_shows_its_content() -> None:
    view = render_approval("Write", DESCRIPTION, {"file_path": "/p/notes.txt", "content": "milk"})
    assert (view.detail, view.detail_kind) == ("milk", "content")
    assert view.summary == DESCRIPTION


@pytest.mark.parametrize(
    "tool_input",
    [
        pytest.param({"file_path": "/p/other.txt", "content": "rm -rf"}, id="another-file"),
        pytest.param({"content": "milk"}, id="no-path"),
        pytest.param({"file_path": 5, "content": "milk"}, id="path-not-text"),
        pytest.param(None, id="nothing-gated"),
        pytest.param({}, id="empty"),
    ],
)
def test_content_of_another_call_is_never_shown(tool_input: dict[str, object] | None) -> None:
    view = render_approval("Write", DESCRIPTION, tool_input)
    assert view.detail is None


def test_an_edit_shows_what_changes() -> None:
    description = "🔐 Edit: /p/a.py\nWhy: x"
    view = render_approval(
        "Edit", description, {"file_path": "/p/a.py", "old_string": "a = 1", "new_string": "a = 2"}
    )
    assert view.detail == "- a = 1\n+ a = 2"
    assert view.detail_kind == "diff"


def test_a_command_is_shown_whole_and_long_content_is_cut() -> None:
    command = "make deploy " + "x" * 10_000
    view = render_approval("Bash", f"🔐 Bash: {command[:200]}…", {"command": command})
    assert view.detail is not None
    assert view.detail.startswith("make deploy")
    assert len(view.detail) < MAX_DETAIL + 100
    assert "more characters not shown" in view.detail
