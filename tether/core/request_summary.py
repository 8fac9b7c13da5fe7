"""What one request did, counted from the gate's decisions, for the line that ends its reply.

Every denial is one short line (`⛔ Bash denied: …`) kept in the final reply,
since a streamed reply replaces the live activity line that showed it first;
the summary says how many commands ran, which files changed, how many calls
asked a person and how many were blocked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from tether.core.types import GateDecision

__all__ = ["RequestTally", "denial_line"]

_FILE_TOOLS = {"Write": "file_path", "Edit": "file_path", "MultiEdit": "file_path"}
_NOTEBOOK = {"NotebookEdit": "notebook_path"}
_MAX_REASON = 160
_MAX_DENIALS_KEPT = 20
_DETAIL = re.compile(r" \[[^\]\n]{1,80}\]:.*?(?= — |$)")


def denial_line(tool_name: str, reason: str) -> str:
    """One short line for a refused call: `⛔ Bash denied: <why>`."""
    why = " ".join(reason.removeprefix("Denied: ").split())
    # The policy's "[rule]: what it matched" detail is for the log; the line stays short.
    why = _DETAIL.sub("", why)
    if len(why) > _MAX_REASON:
        why = why[: _MAX_REASON - 1] + "…"
    return f"⛔ {tool_name} denied: {why}"


@dataclass
class RequestTally:
    """The gate's decisions in one request, counted as they come."""

    commands: int = 0
    files: set[str] = field(default_factory=set)
    asked: int = 0
    blocked: int = 0
    calls: int = 0
    denials: list[str] = field(default_factory=list)

    def count(self, tool_name: str, tool_input: dict[str, Any], decision: GateDecision) -> None:
        """Count one decision."""
        self.calls += 1
        if decision.approval is not None and decision.approval != "auto":
            self.asked += 1
        if not decision.allowed:
            self.blocked += 1
            return
        if tool_name == "Bash":
            self.commands += 1
        key = _FILE_TOOLS.get(tool_name) or _NOTEBOOK.get(tool_name)
        if key is not None:
            target = tool_input.get(key)
            if isinstance(target, str) and target:
                self.files.add(target)

    def summary(self) -> str:
        """`📋 5 tool calls: 2 commands run · 1 file changed · 1 asked · 1 blocked`.

        Empty when the agent called no tool (a plain answer needs no summary).
        """
        if not self.calls:
            return ""
        bits = [
            _plural(self.commands, "command") + " run",
            _plural(len(self.files), "file") + " changed",
            f"{self.asked} asked",
            f"{self.blocked} blocked",
        ]
        return f"📋 {_plural(self.calls, 'tool call')}: " + " · ".join(bits)

    def close(self, reply: str) -> str:
        """`reply` with the denials this request met and the summary after it."""
        denials = [line for line in dict.fromkeys(self.denials) if line not in reply]
        if len(denials) > _MAX_DENIALS_KEPT:
            more = len(denials) - _MAX_DENIALS_KEPT
            denials = [*denials[:_MAX_DENIALS_KEPT], f"⛔ … and {more} more denied"]
        footer = [*denials, self.summary()]
        lines = [line for line in footer if line]
        return reply if not lines else reply.rstrip() + "\n\n" + "\n".join(lines)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")
