"""The agent seam: what the engine needs from a coding agent.

An agent runs one prompt in a session and reports back. Every tool call the
agent wants to make is first put to `can_use_tool`, which the engine binds to
the gatekeeper; the agent must not run a tool the gate did not allow.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict

from tether.core.safety.gatekeeper import GateDecision
from tether.core.session import Session

__all__ = [
    "AgentResponse",
    "BaseAgent",
    "CanUseTool",
    "OnText",
    "OnToolActivity",
    "ToolActivity",
]


class ToolActivity(BaseModel):
    """A tool the agent is using, for a live activity line (`🔧 Bash: pytest -q`)."""

    model_config = ConfigDict(frozen=True)

    tool_name: str
    summary: str
    tool_use_id: str | None = None
    parent_tool_use_id: str | None = None
    """Set when a sub-agent makes the call: the id of the tool call that started it."""


CanUseTool = Callable[[str, dict[str, Any]], Awaitable[GateDecision]]
"""Awaited for every tool call with (tool_name, tool_input); returns the gate's decision."""

OnText = Callable[[str], Awaitable[None]]
"""Called with each new piece of the agent's text, as it arrives."""

OnToolActivity = Callable[[ToolActivity], Awaitable[None]]
"""Called when the agent starts using a tool."""


class AgentResponse(BaseModel):
    """What one `execute` produced."""

    model_config = ConfigDict(frozen=True)

    content: str
    session_id: str | None = None
    """The agent's own conversation id (Claude's session id), kept for resume."""
    cost: float = 0.0
    duration_ms: int = 0
    num_turns: int = 0
    tools_used: tuple[str, ...] = ()
    """Tools the gate allowed during this request, in the order first used."""
    is_error: bool = False
    cancelled: bool = False
    """True when `cancel` stopped the request; `content` holds what came before."""
    notice: str | None = None
    """Something the person should know besides the reply ("started a fresh conversation")."""


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
