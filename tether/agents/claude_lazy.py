"""The Claude Code agent, loaded when the first request needs it.

Importing claude-agent-sdk costs about a second and tens of megabytes, and
nothing before the first prompt uses it. `LazyClaudeCodeAgent` checks at
start-up what can be checked without it (the SDK is installed, found with
`importlib.util.find_spec` without importing it; the settings are valid) and
imports `ClaudeCodeAgent` on the first `execute`.
"""

from __future__ import annotations

import importlib.util
import re
from typing import TYPE_CHECKING

from tether.core.config import TetherConfig
from tether.core.session import Session
from tether.exceptions import AgentError, ConfigError

if TYPE_CHECKING:
    from tether.agents.base import AgentResponse, CanUseTool, OnText, OnToolActivity
    from tether.agents.claude_code import ClaudeCodeAgent

__all__ = ["SDK_MODULE", "LazyClaudeCodeAgent", "check_allowed_tools", "check_sdk_installed"]

SDK_MODULE = "claude_agent_sdk"

# A tool name as `--tools` takes it: `Bash`, `mcp__server__tool`. A rule with a
# pattern (`Bash(git:*)`) is a permission, which belongs in a policy file.
_TOOL_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")


def check_allowed_tools(config: TetherConfig) -> None:
    """Refuse a `claude_allowed_tools` entry that is not a plain tool name.

    Raises:
        ConfigError: names the variable, the entry and what is expected.
    """
    for name in config.claude_allowed_tools:
        if not _TOOL_NAME.match(name):
            raise ConfigError(
                f"TETHER_CLAUDE_ALLOWED_TOOLS={','.join(config.claude_allowed_tools)!r} "
                f"is invalid: {name!r} is not a tool name; the list only says which "
                "tools exist (e.g. Read,Edit,Bash), and rules such as Bash(git:*) "
                "belong in a policy file"
            )


def check_sdk_installed(module: str = SDK_MODULE) -> None:
    """Raise AgentError, in one line that says how to fix it, when the SDK is missing.

    Looks the package up without importing it.
    """
    try:
        found = importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        found = False
    if not found:
        raise AgentError(
            "claude-agent-sdk is not installed (it drives Claude Code); "
            "install it with: pip install claude-agent-sdk"
        )


class LazyClaudeCodeAgent:
    """`ClaudeCodeAgent`, imported and built on the first request.

    Raises (at construction):
        AgentError: claude-agent-sdk is not installed.
        ConfigError: `claude_allowed_tools` holds something that is not a tool name.
    """

    def __init__(self, config: TetherConfig, *, sdk_module: str = SDK_MODULE) -> None:
        check_sdk_installed(sdk_module)
        check_allowed_tools(config)
        self._config = config
        self._agent: ClaudeCodeAgent | None = None
        self._closed = False

    @property
    def loaded(self) -> bool:
        """Whether the SDK has been imported (a request has been made)."""
        return self._agent is not None

    def _loaded(self) -> ClaudeCodeAgent:
        if self._agent is None:
            from tether.agents.claude_code import ClaudeCodeAgent

            self._agent = ClaudeCodeAgent(self._config)
        return self._agent

    async def execute(
        self,
        prompt: str,
        session: Session,
        *,
        can_use_tool: CanUseTool,
        on_text: OnText | None = None,
        on_tool_activity: OnToolActivity | None = None,
    ) -> AgentResponse:
        """Load the agent if needed, then run `prompt` (see `BaseAgent.execute`)."""
        agent = self._loaded()
        if self._closed:
            # Shut down before it was ever loaded: the loaded agent says so its own way.
            await agent.shutdown()
        return await agent.execute(
            prompt,
            session,
            can_use_tool=can_use_tool,
            on_text=on_text,
            on_tool_activity=on_tool_activity,
        )

    async def cancel(self, session_id: str) -> bool:
        """Interrupt a running request; nothing runs before the agent is loaded."""
        if self._agent is None:
            return False
        return await self._agent.cancel(session_id)

    async def shutdown(self) -> None:
        """Stop the agent's processes (none before it is loaded)."""
        self._closed = True
        if self._agent is not None:
            await self._agent.shutdown()
