"""Helpers shared by the agent tests: the fake CLI's log, a recording gate, callback sinks."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tether.agents.base import ToolActivity
from tether.core.safety.gatekeeper import GateDecision


@dataclass
class FakeLog:
    """What the fake CLI saw and did, read from its JSON lines."""

    path: Path

    def entries(self, event: str | None = None) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        lines = [json.loads(line) for line in self.path.read_text().splitlines() if line]
        return [line for line in lines if event is None or line["event"] == event]

    def starts(self) -> list[dict[str, Any]]:
        return self.entries("start")

    def permissions(self) -> list[dict[str, Any]]:
        return self.entries("permission")

    def received(self, kind: str) -> list[dict[str, Any]]:
        return [e["message"] for e in self.entries("received") if e["message"].get("type") == kind]

    def control_requests(self, subtype: str) -> list[dict[str, Any]]:
        return [
            m["request"]
            for m in self.received("control_request")
            if m["request"]["subtype"] == subtype
        ]


@dataclass
class RecordingGate:
    """A `can_use_tool` that records every call and answers with `decide`."""

    decide: Callable[[str, dict[str, Any]], GateDecision] = field(
        default=lambda name, tool_input: GateDecision(allowed=True)
    )
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    async def __call__(self, tool_name: str, tool_input: dict[str, Any]) -> GateDecision:
        self.calls.append((tool_name, tool_input))
        return self.decide(tool_name, tool_input)

    @property
    def tool_names(self) -> list[str]:
        return [name for name, _ in self.calls]


@dataclass
class Collected:
    """What the callbacks received."""

    texts: list[str] = field(default_factory=list)
    activities: list[ToolActivity] = field(default_factory=list)
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def on_text(self, text: str) -> None:
        self.texts.append(text)
        self._arrived.set()

    async def text_reaches(self, text: str) -> None:
        """Wait until the text streamed so far is `text`."""
        while "".join(self.texts) != text:
            self._arrived.clear()
            await self._arrived.wait()

    async def on_tool_activity(self, activity: ToolActivity) -> None:
        self.activities.append(activity)
