"""ScriptedAgent: an in-process BaseAgent that plays a script, for engine and connector tests.

A script is a sequence of steps run on every `execute`: `Say(text)` streams
text, `UseTool(name, input)` asks the gate (and records its decision),
`Parallel(tools)` asks for several at once, `Wait(seconds)`, `Fail(error)`.
Tool results are not executed: the decisions are what the tests look at.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from tether.agents.base import (
    AgentResponse,
    CanUseTool,
    OnText,
    OnToolActivity,
    ToolActivity,
)
from tether.core.safety.gatekeeper import GateDecision
from tether.core.session import Session


@dataclass(frozen=True)
class Say:
    text: str


@dataclass(frozen=True)
class UseTool:
    name: str
    input: dict[str, Any]


@dataclass(frozen=True)
class Wait:
    seconds: float


@dataclass(frozen=True)
class Fail:
    error: BaseException


@dataclass(frozen=True)
class Parallel:
    """Tool calls made at once, as the agent's parallel calls are."""

    tools: tuple[UseTool, ...]


Step = Say | UseTool | Wait | Fail | Parallel


@dataclass
class Call:
    prompt: str
    session: Session
    decisions: list[tuple[str, GateDecision]] = field(default_factory=list)


class ScriptedAgent:
    """Plays `script` (or `script_for(prompt)`) for each message; remembers every call."""

    def __init__(
        self,
        script: Sequence[Step] = (),
        *,
        script_for: Callable[[str], Sequence[Step]] | None = None,
        cost: float = 0.01,
    ) -> None:
        self._script = tuple(script)
        self._script_for = script_for
        self._cost = cost
        self.calls: list[Call] = []
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
        self.calls.append(call)
        script = self._script_for(prompt) if self._script_for else self._script
        task = asyncio.current_task()
        assert task is not None
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
                    decision = await can_use_tool(step.name, step.input)
                    call.decisions.append((step.name, decision))
                    outcome = "ran" if decision.allowed else f"was denied: {decision.reason}"
                    texts.append(f"[{step.name} {outcome}]")
                elif isinstance(step, Parallel):
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
        task = self._running.get(session_id)
        if task is None:
            return False
        self.cancelled.append(session_id)
        task.cancel()
        return True

    async def shutdown(self) -> None:
        self.shut_down = True
