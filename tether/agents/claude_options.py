"""Tether's settings as claude-agent-sdk options, with nothing that could approve a call first.

Claude Code lets a tool call through without asking anyone when `allowed_tools`
or a settings file's allow rule names it, or the permission mode accepts it.
Tether's gate answers in a PreToolUse hook, which comes before all of those,
but these options also keep every one of them empty, so no later layer holds
a standing approval the gate did not give:

- `TETHER_CLAUDE_ALLOWED_TOOLS` becomes `tools`, the set of tools that exist,
  never `allowed_tools`;
- no settings files are read (`setting_sources=[]`): their allow rules and
  their shell-command hooks are not Tether's;
- no MCP servers are started from the project (`strict_mcp_config`): each is a
  process outside the gate;
- the permission mode is `default`, or `plan` in a session's plan mode, which
  only narrows what Claude Code does.
"""

from __future__ import annotations

from collections.abc import Callable

from claude_agent_sdk import ClaudeAgentOptions
from claude_agent_sdk.types import PermissionMode, SystemPromptPreset

from tether.agents.claude_gate import ToolGate
from tether.agents.claude_lazy import check_allowed_tools
from tether.core.config import TetherConfig
from tether.core.types import Session, SessionMode

__all__ = ["build_options", "check_allowed_tools", "permission_mode"]


def permission_mode(session: Session) -> PermissionMode:
    """Claude Code's permission mode for the session: `plan` in plan mode, else `default`.

    Edit mode stays `default`: approving edits is the gate's decision, and
    `acceptEdits` would approve them before it.
    """
    return "plan" if session.mode is SessionMode.PLAN else "default"


def build_options(
    config: TetherConfig,
    session: Session,
    *,
    gate: ToolGate,
    resume: str | None,
    hook_timeout_seconds: float,
    stderr: Callable[[str], None],
) -> ClaudeAgentOptions:
    """The options for one Claude Code process serving `session`."""
    system_prompt: SystemPromptPreset = {"type": "preset", "preset": "claude_code"}
    if config.claude_system_prompt:
        system_prompt["append"] = config.claude_system_prompt
    cli_path = config.claude_cli_path.expanduser() if config.claude_cli_path else None
    return ClaudeAgentOptions(
        cwd=session.working_directory,
        cli_path=cli_path,
        model=config.claude_model,
        max_turns=config.claude_max_turns,
        system_prompt=system_prompt,
        tools=list(config.claude_allowed_tools) or None,
        disallowed_tools=list(config.claude_disallowed_tools),
        permission_mode=permission_mode(session),
        resume=resume,
        setting_sources=[],
        strict_mcp_config=True,
        include_partial_messages=True,
        hooks=gate.hooks(hook_timeout_seconds),
        can_use_tool=gate.can_use_tool,
        stderr=stderr,
    )
