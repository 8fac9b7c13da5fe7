"""Put every tool call Claude Code wants to make to Tether's gate.

Claude Code decides a tool call's permission in this order: PreToolUse hooks,
deny rules, ask rules, the permission mode, allow rules (`allowed_tools`,
settings files), its own approval of read-only calls (Read, Glob, Grep, `ls`,
`git status`, Task/Agent, TodoWrite ...), and only then the SDK's
`can_use_tool` callback. A gate wired to `can_use_tool` alone would never see
the calls something earlier already allowed, and they would escape the audit
log. So the gate answers in a PreToolUse hook that matches every tool, sub-agent
calls included; a person's approval happens while the hook waits. The same
gate also backs `can_use_tool`, in case a call ever reaches it without passing
the hook; a call the hook already decided is not asked twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any, cast

from claude_agent_sdk import (
    HookContext,
    HookInput,
    HookJSONOutput,
    HookMatcher,
    PermissionResult,
    PermissionResultAllow,
    PermissionResultDeny,
    PreToolUseHookSpecificOutput,
    ToolPermissionContext,
)
from claude_agent_sdk.types import HookEvent

from tether.agents.base import CanUseTool
from tether.core.types import GateDecision
from tether.log import get_logger

__all__ = ["DEFAULT_DENY_REASON", "ToolGate"]

logger = get_logger(__name__)

DEFAULT_DENY_REASON = "Tether's safety gate denied this tool call."


class ToolGate:
    """Answers Claude Code's permission questions with the running request's `can_use_tool`.

    One gate serves one Claude Code process for its whole life; `open` binds it
    to a request and `close` unbinds it. A call that arrives while no request
    is open, with a malformed name or input, or whose gate raises, is denied:
    the gate fails closed.
    """

    def __init__(self) -> None:
        self._can_use_tool: CanUseTool | None = None
        self._decisions: dict[str, GateDecision] = {}
        self._allowed: dict[str, None] = {}

    def open(self, can_use_tool: CanUseTool) -> None:
        """Route the tool calls from now on to `can_use_tool`."""
        self._can_use_tool = can_use_tool
        self._decisions.clear()
        self._allowed.clear()

    def close(self) -> None:
        """Deny every tool call until the next `open`."""
        self._can_use_tool = None
        self._decisions.clear()

    @property
    def tools_used(self) -> tuple[str, ...]:
        """The tools allowed since `open`, in the order first allowed."""
        return tuple(self._allowed)

    def hooks(self, timeout_seconds: float) -> dict[HookEvent, list[HookMatcher]]:
        """The SDK `hooks` option: one PreToolUse hook for every tool.

        `timeout_seconds` must outlast a person's approval: the CLI treats a
        hook that runs past it as failed. `on_failure="block"` makes the CLI
        refuse the call when the hook fails, rather than carry on without it.
        """
        return {
            "PreToolUse": [
                HookMatcher(
                    # No matcher: the CLI runs the hook for every tool, as for "*".
                    matcher=None,
                    hooks=[self.pre_tool_use],
                    timeout=timeout_seconds,
                    on_failure="block",
                )
            ]
        }

    async def pre_tool_use(
        self, hook_input: HookInput, tool_use_id: str | None, context: HookContext
    ) -> HookJSONOutput:
        """The PreToolUse hook: allow or deny the call with the gate's decision."""
        fields = cast(Mapping[str, Any], hook_input)
        if fields.get("hook_event_name") != "PreToolUse":
            return {}
        call_id = tool_use_id or fields.get("tool_use_id")
        decision = await self._decide(fields.get("tool_name"), fields.get("tool_input"), call_id)
        output: PreToolUseHookSpecificOutput = {
            "hookEventName": "PreToolUse",
            "permissionDecision": "allow" if decision.allowed else "deny",
        }
        if decision.allowed:
            if decision.reason:
                output["permissionDecisionReason"] = decision.reason
            if decision.updated_input is not None:
                output["updatedInput"] = decision.updated_input
        else:
            output["permissionDecisionReason"] = decision.reason or DEFAULT_DENY_REASON
        return {"hookSpecificOutput": output}

    async def can_use_tool(
        self, tool_name: str, tool_input: dict[str, Any], context: ToolPermissionContext
    ) -> PermissionResult:
        """The SDK's `can_use_tool` callback, backing up the hook."""
        decision = self._decisions.get(context.tool_use_id or "")
        if decision is None:
            decision = await self._decide(tool_name, tool_input, context.tool_use_id)
        if decision.allowed:
            return PermissionResultAllow(updated_input=decision.updated_input)
        return PermissionResultDeny(message=decision.reason or DEFAULT_DENY_REASON)

    async def _decide(self, tool_name: Any, tool_input: Any, tool_use_id: Any) -> GateDecision:
        can_use_tool = self._can_use_tool
        if can_use_tool is None:
            return _denied(tool_name, "no Tether request is running, so no tool may run")
        if not isinstance(tool_name, str) or not tool_name:
            return _denied(tool_name, f"the tool name {tool_name!r} is not a name")
        if not isinstance(tool_input, dict):
            return _denied(tool_name, f"the input of {tool_name} is not an object")
        try:
            decision = await can_use_tool(tool_name, dict(tool_input))
        except asyncio.CancelledError:
            raise
        except Exception as error:  # any failure of the gate is a deny
            logger.exception("tool_gate_failed", tool_name=tool_name)
            return _denied(tool_name, f"the safety gate failed ({type(error).__name__})")
        if not isinstance(decision, GateDecision):
            return _denied(tool_name, "the safety gate gave no decision")
        if isinstance(tool_use_id, str) and tool_use_id:
            self._decisions[tool_use_id] = decision
        if decision.allowed:
            self._allowed.setdefault(tool_name)
        return decision


def _denied(tool_name: Any, why: str) -> GateDecision:
    logger.warning("tool_call_refused", tool_name=tool_name, reason=why)
    return GateDecision(allowed=False, reason=f"Denied: {why}.")
