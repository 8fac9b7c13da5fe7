"""AgentPrompt: the agent's questions (AskUserQuestion) and plans (ExitPlanMode), for a person.

Claude Code asks a person through two tools: AskUserQuestion (one to a few
questions, each with options, some multi-select) and ExitPlanMode (a plan in
Markdown, to approve before it leaves plan mode). Tether reads their input
into an `AgentPrompt` that connectors show as buttons or numbered choices,
and turns the answers into the tool's updated input, the way the SDK
documents it: the questions as given, plus `answers`, a map from each
question's text to the chosen label (labels joined with ", " for several, or
the person's own words).

Input that is not of that shape is refused with a reason naming the field;
it never reaches a person and never raises.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

__all__ = [
    "INTERACTIVE_TOOLS",
    "AgentPrompt",
    "PromptOption",
    "PromptQuestion",
    "answers_input",
    "parse_prompt",
]

INTERACTIVE_TOOLS = frozenset({"AskUserQuestion", "ExitPlanMode"})
"""The tools through which the agent asks a person something."""

_MAX_QUESTIONS = 8
_MAX_OPTIONS = 12
_MAX_TEXT = 1000
_MAX_PLAN = 100_000


class PromptOption(BaseModel):
    """One option of a question: its label (what is answered) and a description."""

    model_config = ConfigDict(frozen=True)

    label: str
    description: str = ""


class PromptQuestion(BaseModel):
    """One question the agent asks, with its options."""

    model_config = ConfigDict(frozen=True)

    question: str
    header: str = ""
    options: tuple[PromptOption, ...] = ()
    multi_select: bool = False


class AgentPrompt(BaseModel):
    """What the agent asks: questions to answer, or a plan to approve."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["questions", "plan"]
    tool_name: str
    questions: tuple[PromptQuestion, ...] = ()
    plan: str = ""


def parse_prompt(tool_name: str, tool_input: Any) -> AgentPrompt | str:
    """The prompt in `tool_input`, or a one-line reason why it is malformed."""
    if not isinstance(tool_input, Mapping):
        return f"the input of {tool_name} is not an object"
    if tool_name == "ExitPlanMode":
        plan = tool_input.get("plan")
        if not isinstance(plan, str) or not plan.strip():
            return "ExitPlanMode.plan must be the plan as non-empty text"
        if len(plan) > _MAX_PLAN:
            return f"ExitPlanMode.plan is {len(plan)} characters; at most {_MAX_PLAN} are shown"
        return AgentPrompt(kind="plan", tool_name=tool_name, plan=plan)
    raw = tool_input.get("questions")
    if not isinstance(raw, list) or not raw:
        return "AskUserQuestion.questions must be a non-empty list of questions"
    if len(raw) > _MAX_QUESTIONS:
        return f"AskUserQuestion.questions has {len(raw)} questions; at most {_MAX_QUESTIONS}"
    questions: list[PromptQuestion] = []
    seen: set[str] = set()
    for index, item in enumerate(raw):
        parsed = _question(index, item)
        if isinstance(parsed, str):
            return parsed
        if parsed.question in seen:
            return f"AskUserQuestion.questions[{index}].question repeats an earlier question"
        seen.add(parsed.question)
        questions.append(parsed)
    return AgentPrompt(kind="questions", tool_name=tool_name, questions=tuple(questions))


def _question(index: int, item: Any) -> PromptQuestion | str:
    where = f"AskUserQuestion.questions[{index}]"
    if not isinstance(item, Mapping):
        return f"{where} is not an object"
    text = item.get("question")
    if not isinstance(text, str) or not text.strip():
        return f"{where}.question must be non-empty text"
    if len(text) > _MAX_TEXT:
        return f"{where}.question is longer than {_MAX_TEXT} characters"
    header = item.get("header", "")
    if not isinstance(header, str):
        return f"{where}.header must be text"
    multi = item.get("multiSelect", False)
    if not isinstance(multi, bool):
        return f"{where}.multiSelect must be true or false"
    raw = item.get("options")
    if not isinstance(raw, list) or not raw:
        return f"{where}.options must be a non-empty list"
    if len(raw) > _MAX_OPTIONS:
        return f"{where}.options has {len(raw)} options; at most {_MAX_OPTIONS}"
    options: list[PromptOption] = []
    for number, option in enumerate(raw):
        label = option.get("label") if isinstance(option, Mapping) else None
        if not isinstance(label, str) or not label.strip() or len(label) > 200:
            return f"{where}.options[{number}].label must be text of 1 to 200 characters"
        description = option.get("description", "") if isinstance(option, Mapping) else ""
        if not isinstance(description, str):
            return f"{where}.options[{number}].description must be text"
        options.append(PromptOption(label=label.strip(), description=description[:_MAX_TEXT]))
    if len({o.label for o in options}) != len(options):
        return f"{where}.options has two options with the same label"
    return PromptQuestion(
        question=text, header=header[:100], options=tuple(options), multi_select=multi
    )


def answers_input(tool_input: Mapping[str, Any], answers: Mapping[str, str]) -> dict[str, Any]:
    """AskUserQuestion's updated input: the questions as given, and the answers by question."""
    return {**dict(tool_input), "answers": dict(answers)}
