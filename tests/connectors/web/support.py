"""A Tether with the web connector, served from a thread of its own, for sync test clients.

The browser (Selenium) and httpx talk to it over loopback as they would to a
real Tether; the agent is the in-process ScriptedAgent, so scenarios are quick
and nothing reaches the internet.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Sequence
from pathlib import Path
from typing import Any, TypeVar

from tests.fakes.agent import Parallel, Say, ScriptedAgent, Step, UseTool, Wait
from tether.app import build_connector, build_engine
from tether.connectors.web import WebConnector
from tether.core.config import TetherConfig
from tether.core.engine import Engine

T = TypeVar("T")

STREAM_PIECES = ("Hello ", "from ", "the ", "streaming ", "agent.")
QUESTIONS = [
    {
        "question": "Which package manager should I use?",
        "header": "Tool",
        "multiSelect": False,
        "options": [
            {"label": "uv", "description": "Fast, with a lock file"},
            {"label": "pip", "description": "Always there"},
        ],
    },
    {
        "question": "Which checks should run in CI?",
        "header": "CI",
        "multiSelect": True,
        "options": [{"label": "tests"}, {"label": "types"}, {"label": "lint"}],
    },
]
PLAN = (
    "# Plan\n\n1. Add `greet(name)` to **src/app.py**.\n2. Test it.\n\n"
    "```python\n<script>alert(1)</script>\n```"
)


def scenarios(project: Path) -> ScriptedAgent:
    """The agent's scripts, chosen by the prompt's first word."""

    def script_for(prompt: str) -> Sequence[Step]:
        word = prompt.split()[0] if prompt.split() else ""
        if word == "stream":
            steps: list[Step] = []
            for piece in STREAM_PIECES:
                steps += [Say(piece), Wait(0.08)]
            return steps
        if word == "write":
            content = "shopping list: milk, eggs, tea"
            return [
                Say("Writing the notes. "),
                UseTool("Write", {"file_path": str(project / "notes.txt"), "content": content}),
            ]
        if word == "deploy":
            return [Say("Deploying. "), UseTool("Bash", {"command": "make deploy"})]
        if word == "three":
            writes = tuple(
                UseTool("Write", {"file_path": str(project / f"{name}.md"), "content": name})
                for name in ("a", "b", "c")
            )
            return [Parallel(writes), Say("Three notes.")]
        if word == "ask":
            return [Say("A question first. "), UseTool("AskUserQuestion", {"questions": QUESTIONS})]
        if word == "plan":
            return [Say("Here is the plan. "), UseTool("ExitPlanMode", {"plan": PLAN})]
        if word == "slow":
            return [Say("Working on it. "), Wait(30), Say("Finished.")]
        return [Say(f"You said: {prompt}")]

    return ScriptedAgent(script_for=script_for)


class ServedTether:
    """An engine with the web connector (and optionally more), on a loop in a thread."""

    def __init__(self, config: TetherConfig, agent: ScriptedAgent | None) -> None:
        """`agent` None: Claude Code itself (the config's `claude_cli_path`, the fake CLI)."""
        self.config = config
        self.agent = agent
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.engine: Engine | None = None
        self.web: WebConnector | None = None

    def __enter__(self) -> ServedTether:
        self._thread.start()
        self.call(self._start())
        return self

    def __exit__(self, *_: object) -> None:
        self.call(self._stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()

    async def _start(self) -> None:
        connector = build_connector(self.config, terminal=False)
        self.engine = build_engine(self.config, agent=self.agent, connector=connector)
        await self.engine.startup()
        members = getattr(connector, "members", (connector,))
        self.web = next(m for m in members if isinstance(m, WebConnector))

    async def _stop(self) -> None:
        if self.engine is not None:
            await self.engine.shutdown()

    def call(self, work: Coroutine[Any, Any, T], timeout: float = 20) -> T:
        return asyncio.run_coroutine_threadsafe(work, self.loop).result(timeout)

    @property
    def url(self) -> str:
        assert self.web is not None
        return f"http://127.0.0.1:{self.web.port}"

    @property
    def token(self) -> str:
        assert self.web is not None
        return self.web.token
