"""What an approval shows on the page: the shared layout, never a tool's raw input."""

from __future__ import annotations

from pathlib import Path

import pytest

from tether.connectors.approval_view import approval_view
from tether.connectors.web.preview import prompt_card, render_approval
from tether.core.safety.preview import MASK, ApprovalPreview, build_preview
from tether.core.safety.prompts import AgentPrompt, parse_prompt

DESCRIPTION = "🔐 Write: notes.txt\nWhy: Changing files needs your approval\nRisk: high"


def test_a_structured_preview_is_the_shared_layout_itself() -> None:
    """One source of what an approval shows: the page gets what the terminal and Telegram get."""
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
    assert render_approval("Write", "🔐 Write: elsewhere.txt", preview) == approval_view(preview)


@pytest.mark.parametrize(
    ("tool_name", "tool_input", "secret"),
    [
        pytest.param(
            "Write",
            {"file_path": "cfg.env", "content": "API_KEY='s3cr3t-value'\n"},
            "s3cr3t-value",
            id="write-content",
        ),
        pytest.param(
            "Bash",
            {"command": "mysql --password=pa55word db"},
            "pa55word",
            id="command-option",
        ),
        pytest.param(
            "Bash",
            {"command": "curl -H 'Authorization: Bearer abcdefghijkl123' x"},
            "abcdefghijkl123",
            id="bearer",
        ),
    ],
)
def test_credentials_never_reach_the_page(
    project_dir: Path, tool_name: str, tool_input: dict[str, str], secret: str
) -> None:
    preview = build_preview(tool_name, tool_input, None, project=project_dir)
    view = render_approval(tool_name, "🔐 call", preview)
    shown = view.model_dump_json()
    assert secret not in shown
    assert MASK in shown


@pytest.mark.parametrize(
    "description",
    [
        pytest.param(DESCRIPTION, id="three-lines"),
        pytest.param("", id="empty"),
        pytest.param("\n\n  \n", id="blank-lines"),
    ],
)
def test_without_a_preview_only_the_description_is_shown(description: str) -> None:
    view = render_approval("Write", description, None)
    assert view.blocks[0].kind == "title"
    assert {b.kind for b in view.blocks} <= {"title", "why"}
    if not description.strip():
        assert view.blocks[0].text == "🔐 Write"


def test_questions_keep_their_options_in_order_and_a_plan_its_text() -> None:
    prompt = parse_prompt(
        "AskUserQuestion",
        {
            "questions": [
                {
                    "question": "Which?",
                    "header": "Tool",
                    "multiSelect": True,
                    "options": [{"label": "uv", "description": "fast"}, {"label": "pip"}],
                }
            ]
        },
    )
    assert isinstance(prompt, AgentPrompt)
    card = prompt_card(prompt)
    assert card["kind"] == "questions"
    assert card["questions"][0]["multi_select"] is True
    assert [o["label"] for o in card["questions"][0]["options"]] == ["uv", "pip"]
    plan = parse_prompt("ExitPlanMode", {"plan": "# Plan\n1. do it"})
    assert isinstance(plan, AgentPrompt)
    assert prompt_card(plan)["plan"] == "# Plan\n1. do it"
