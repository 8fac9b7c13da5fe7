"""The agent seam: what the engine needs from a coding agent.

An agent runs one prompt in a session and reports back. Every tool call the
agent wants to make is first put to `can_use_tool`, which the engine binds to
the gatekeeper; the agent must not run a tool the gate did not allow.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol, runtime_checkable

from tether.core.types import AgentResponse, GateDecision, Session, ToolActivity

__all__ = [
    "AgentResponse",
    "BaseAgent",
    "CanUseTool",
    "OnText",
    "OnToolActivity",
    "ToolActivity",
]


CanUseTool = Callable[[str, dict[str, Any]], Awaitable[GateDecision]]
"""Awaited for every tool call with (tool_name, tool_input); returns the gate's decision."""

OnText = Callable[[str], Awaitable[None]]
"""Called with each new piece of the agent's text, as it arrives."""

OnToolActivity = Callable[[ToolActivity], Awaitable[None]]
"""Called when the agent starts using a tool."""


@runtime_checkable
class BaseAgent(Protocol):
    """A coding agent Tether can drive. See docs/agents.md."""

    async def execute(
        self,
        prompt: str,
        session: Session,
        *,
        can_use_tool: CanUseTool,
        on_text: OnText | None = None,
        on_tool_activity: OnToolActivity | None = None,
    ) -> AgentResponse:
        """Run `prompt` in `session` (its working directory, its conversation).

        Every tool call is put to `can_use_tool` first, and runs only if the
        decision allows it, with `updated_input` when the gate set one; a
        denied call is reported to the model with the decision's reason.
        `on_text` gets the reply's text in pieces as it is written (for
        display: the final reply is `content`, which may add a closing note),
        `on_tool_activity` each tool call as it starts. The returned
        `session_id` is what the next `execute` of this session finds in
        `session.claude_session_id` to resume.

        Raises:
            AgentError: the agent could not run; the message says how to fix it.
        """
        ...

    async def cancel(self, session_id: str) -> bool:
        """Interrupt the request running for Tether session `session_id`; False if none.

        Returns without waiting; the `execute` in progress then returns
        promptly with `cancelled=True` and `is_error=True`.
        """
        ...

    async def shutdown(self) -> None:
        """Stop every agent process this agent started; running requests return cancelled."""
        ...
