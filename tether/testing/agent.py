"""ScriptedAgent: an in-process BaseAgent that plays a script, for tests and benchmarks.

A script is a sequence of steps run on every `execute`: `Say(text)` streams
text, `UseTool(name, input)` asks the gate (and records its decision),
`Parallel(tools)` asks for several at once, `Wait(seconds)`, `Fail(error)`.
Tool results are not executed: the decisions are what the tests look at. The
reply is the text said plus one `[Tool ran]` or `[Tool was denied: reason]`
per call, so a test can read what the gate decided from the reply alone.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tether.agents.base import (
    AgentResponse,
    CanUseTool,
    OnText,
    OnToolActivity,
    ToolActivity,
)

if TYPE_CHECKING:
    # Names for annotations only: the engine bench loads this module into
    # checkouts older than tether.core.types.
    from tether.core.types import GateDecision, Session

__all__ = ["Call", "Fail", "Parallel", "Say", "ScriptedAgent", "Step", "UseTool", "Wait"]


@dataclass(frozen=True)
class Say:
    """Stream `text` to the person (through `on_text`) and add it to the reply."""

    text: str


@dataclass(frozen=True)
class UseTool:
    """Ask the gate whether tool `name` may run with `input`, as the agent would."""

    name: str
    input: dict[str, Any]


@dataclass(frozen=True)
class Wait:
    """Work for `seconds` (a sleep: the request can be cancelled meanwhile)."""

    seconds: float


@dataclass(frozen=True)
class Fail:
    """Raise `error`, as an agent that failed mid-request does."""

    error: BaseException


@dataclass(frozen=True)
class Parallel:
    """Tool calls made at once, as the agent's parallel calls are."""

    tools: tuple[UseTool, ...]


Step = Say | UseTool | Wait | Fail | Parallel


@dataclass
class Call:
    """One `execute`: the prompt, the session, and each tool call's decision."""

    prompt: str
    session: Session
    decisions: list[tuple[str, GateDecision]] = field(default_factory=list)


class ScriptedAgent:
    """Plays `script` (or `script_for(prompt)`) for each message; remembers every call.

    `cost` is the cost each request reports. `keep_calls=False` forgets the
    calls (a benchmark's memory stays flat); `tool_calls` counts the gate's
    questions either way.
    """

    def __init__(
        self,
        script: Sequence[Step] = (),
        *,
        script_for: Callable[[str], Sequence[Step]] | None = None,
        cost: float = 0.01,
        keep_calls: bool = True,
    ) -> None:
        self._script = tuple(script)
        self._script_for = script_for
        self._cost = cost
        self._keep_calls = keep_calls
        self.calls: list[Call] = []
        self.tool_calls = 0
        self.cancelled: list[str] = []
        self.shut_down = False
        self._running: dict[str, asyncio.Task[Any]] = {}

    async def execute(
        self,
        prompt: str,
        session: Session,
        *,
        can_use_tool: CanUseTool,
        on_text: OnText | None = None,
        on_tool_activity: OnToolActivity | None = None,
    ) -> AgentResponse:
        call = Call(prompt, session)
        if self._keep_calls:
            self.calls.append(call)
        script = self._script_for(prompt) if self._script_for else self._script
        task = asyncio.current_task()
        if task is not None:  # None only outside a task, where nothing can cancel it
            self._running[session.session_id] = task
        texts: list[str] = []
        tools: list[str] = []
        try:
            for step in script:
                if isinstance(step, Say):
                    texts.append(step.text)
                    if on_text is not None:
                        await on_text(step.text)
                elif isinstance(step, UseTool):
                    tools.append(step.name)
                    if on_tool_activity is not None:
                        summary = f"{step.name}: {next(iter(step.input.values()), '')}"
                        await on_tool_activity(ToolActivity(tool_name=step.name, summary=summary))
                    self.tool_calls += 1
                    decision = await can_use_tool(step.name, step.input)
                    call.decisions.append((step.name, decision))
                    outcome = "ran" if decision.allowed else f"was denied: {decision.reason}"
                    texts.append(f"[{step.name} {outcome}]")
                elif isinstance(step, Parallel):
                    self.tool_calls += len(step.tools)
                    decisions = await asyncio.gather(
                        *(can_use_tool(tool.name, tool.input) for tool in step.tools)
                    )
                    for tool, decision in zip(step.tools, decisions, strict=True):
                        call.decisions.append((tool.name, decision))
                        tools.append(tool.name)
                elif isinstance(step, Wait):
                    await asyncio.sleep(step.seconds)
                else:
                    raise step.error
        except asyncio.CancelledError:
            return AgentResponse(
                content="Cancelled.", session_id=f"claude-{session.session_id}", is_error=True
            )
        finally:
            self._running.pop(session.session_id, None)
        return AgentResponse(
            content="".join(texts),
            session_id=f"claude-{session.session_id}",
            cost=self._cost,
            duration_ms=1,
            num_turns=1,
            tools_used=tuple(tools),
        )

    async def cancel(self, session_id: str) -> bool:
        """Cancel the request running for `session_id`; False when none is."""
        task = self._running.get(session_id)
        if task is None:
            return False
        self.cancelled.append(session_id)
        task.cancel()
        return True

    async def shutdown(self) -> None:
        """Remember that the engine shut the agent down."""
        self.shut_down = True
