"""The agent's questions and plans read from tool input; malformed input refused by field."""

from __future__ import annotations

from typing import Any

import pytest

from tether.core.safety.prompts import AgentPrompt, answers_input, parse_prompt

GOOD = {
    "questions": [
        {
            "question": "Which database?",
            "header": "DB",
            "options": [{"label": "Postgres", "description": "server"}, {"label": "SQLite"}],
            "multiSelect": False,
        }
    ]
}


def test_questions_are_read_with_their_options() -> None:
    prompt = parse_prompt("AskUserQuestion", GOOD)
    assert isinstance(prompt, AgentPrompt) and prompt.kind == "questions"
    (question,) = prompt.questions
    assert question.question == "Which database?"
    assert [o.label for o in question.options] == ["Postgres", "SQLite"]
    assert question.options[0].description == "server"


def test_a_plan_is_read() -> None:
    prompt = parse_prompt("ExitPlanMode", {"plan": "# Plan\n1. do it"})
    assert isinstance(prompt, AgentPrompt) and prompt.plan.startswith("# Plan")


def test_answers_go_back_as_the_sdk_documents_keyed_by_question_text() -> None:
    updated = answers_input(GOOD, {"Which database?": "SQLite"})
    assert updated["questions"] == GOOD["questions"]
    assert updated["answers"] == {"Which database?": "SQLite"}


def _with(**change: Any) -> dict[str, Any]:
    question = {**GOOD["questions"][0], **change}
    return {"questions": [question]}


@pytest.mark.parametrize(
    ("tool_input", "field"),
    [
        pytest.param("questions?", "is not an object", id="not-an-object"),
        pytest.param({}, "questions must be a non-empty list", id="missing"),
        pytest.param({"questions": "which?"}, "questions must be a non-empty list", id="text"),
        pytest.param({"questions": []}, "questions must be a non-empty list", id="empty"),
        pytest.param({"questions": [GOOD["questions"][0]] * 9}, "at most 8", id="too-many"),
        pytest.param({"questions": ["which?"]}, "questions[0] is not an object", id="str-item"),
        pytest.param(_with(question=""), "questions[0].question", id="empty-question"),
        pytest.param(_with(question=7), "questions[0].question", id="number-question"),
        pytest.param(_with(question="x" * 2000), "longer than", id="huge-question"),
        pytest.param(_with(header=["h"]), "questions[0].header", id="header-list"),
        pytest.param(_with(multiSelect="yes"), "multiSelect", id="multiselect-text"),
        pytest.param(_with(options=[]), "options must be a non-empty list", id="no-options"),
        pytest.param(_with(options="a,b"), "options must be a non-empty list", id="options-text"),
        pytest.param(_with(options=[{"label": ""}]), "options[0].label", id="empty-label"),
        pytest.param(_with(options=[{"name": "a"}]), "options[0].label", id="no-label"),
        pytest.param(_with(options=["a"]), "options[0].label", id="option-text"),
        pytest.param(_with(options=[{"label": "x" * 300}]), "options[0].label", id="huge-label"),
        pytest.param(
            _with(options=[{"label": "a", "description": 3}]), "description", id="desc-number"
        ),
        pytest.param(
            _with(options=[{"label": "a"}, {"label": "a"}]), "same label", id="duplicate-label"
        ),
        pytest.param(
            _with(options=[{"label": str(n)} for n in range(13)]), "at most 12", id="too-many-opts"
        ),
        pytest.param(
            {"questions": [GOOD["questions"][0], GOOD["questions"][0]]},
            "repeats",
            id="duplicate-question",
        ),
    ],
)
def test_malformed_questions_are_refused_naming_the_field(tool_input: Any, field: str) -> None:
    refusal = parse_prompt("AskUserQuestion", tool_input)
    assert isinstance(refusal, str)
    assert field in refusal
    assert "\n" not in refusal


@pytest.mark.parametrize(
    "tool_input",
    [
        pytest.param({}, id="missing"),
        pytest.param({"plan": ""}, id="empty"),
        pytest.param({"plan": "   "}, id="blank"),
        pytest.param({"plan": ["a"]}, id="list"),
        pytest.param({"plan": "x" * 200_000}, id="huge"),
    ],
)
def test_malformed_plans_are_refused(tool_input: Any) -> None:
    refusal = parse_prompt("ExitPlanMode", tool_input)
    assert isinstance(refusal, str) and "ExitPlanMode.plan" in refusal
