"""What an approval or an agent's prompt shows in the browser: the page's one adapter.

An approval is the shared, connector-neutral layout of the gate's preview
(`tether.connectors.approval_view`), the same blocks the terminal and Telegram
format: the page only chooses how each block looks. Nothing here reads a
tool's input: the gate built the preview (paths relative to the project,
credentials masked), and a request without one shows its description only.
The agent's questions and plans are sent as the `AgentPrompt` the gate parsed,
so the page offers the same options, in the same order, as the other connectors.
"""

from __future__ import annotations

from typing import Any

from tether.connectors.approval_view import ApprovalView, ViewBlock, approval_view
from tether.core.safety.prompts import AgentPrompt
from tether.core.types import ApprovalPreview

__all__ = ["prompt_card", "render_approval"]


def render_approval(
    tool_name: str, description: str, preview: ApprovalPreview | None = None
) -> ApprovalView:
    """The view of one approval request: the shared layout of `preview`, or the description."""
    if preview is not None:
        return approval_view(preview)
    lines = [line for line in description.splitlines() if line.strip()]
    blocks = [ViewBlock(kind="title", text=lines[0] if lines else f"🔐 {tool_name}")]
    blocks += [ViewBlock(kind="why", text=line) for line in lines[1:]]
    return ApprovalView(tool_name=tool_name, blocks=tuple(blocks))


def prompt_card(prompt: AgentPrompt) -> dict[str, Any]:
    """What the page needs to show the agent's questions (options in order) or plan."""
    title = "🗺 The agent's plan" if prompt.kind == "plan" else "❓ The agent asks"
    return {
        "kind": prompt.kind,
        "tool_name": prompt.tool_name,
        "blocks": [{"kind": "title", "text": title}],
        "plan": prompt.plan,
        "questions": [
            {
                "question": question.question,
                "header": question.header,
                "multi_select": question.multi_select,
                "options": [
                    {"label": option.label, "description": option.description}
                    for option in question.options
                ],
            }
            for question in prompt.questions
        ],
    }
