"""ClaudeCodeAgent's own cost, measured against the fake `claude` CLI of the tests.

The fake answers at once, so what is measured is Tether's adapter, the SDK and
the control protocol, with a Python stand-in for the CLI: an upper bound on
what Tether adds around a real Claude Code, whose model turns take seconds.

1. Cold request: a new process (spawn, initialize, first turn), per request.
2. Warm request: a turn on the process kept from the last message.
3. One gated tool call: the PreToolUse hook's round trip through the SDK to
   the gate and back (an allow-all gate), from a request of 50 calls against a
   request of none.

Each figure is the median of several rounds.

    python bench/claude_agent.py
"""

from __future__ import annotations

import asyncio
import logging
import os
import stat
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import structlog

from tether.agents.claude_code import ClaudeCodeAgent
from tether.core.config import TetherConfig
from tether.core.safety.gatekeeper import GateDecision
from tether.core.session import Session

FAKE_CLAUDE = Path(__file__).resolve().parents[1] / "tests" / "agents" / "fake_claude.py"
ROUNDS = 7
COLD_PER_ROUND = 5
WARM_PER_ROUND = 20
TOOL_CALLS = 50


async def _allow(tool_name: str, tool_input: dict[str, Any]) -> GateDecision:
    return GateDecision(allowed=True)


async def _timed(agent: ClaudeCodeAgent, session: Session, prompt: str) -> float:
    started = time.perf_counter()
    await agent.execute(prompt, session, can_use_tool=_allow)
    return time.perf_counter() - started


async def _round(config: TetherConfig, project: Path, index: int) -> dict[str, float]:
    cold: list[float] = []
    for attempt in range(COLD_PER_ROUND):
        agent = ClaudeCodeAgent(config)
        session = Session(user_id=1, chat_id=f"cold-{index}-{attempt}", working_directory=project)
        cold.append(await _timed(agent, session, "text"))
        await agent.shutdown()

    agent = ClaudeCodeAgent(config)
    session = Session(user_id=1, chat_id=f"warm-{index}", working_directory=project)
    await agent.execute("text", session, can_use_tool=_allow)
    warm = [await _timed(agent, session, "text") for _ in range(WARM_PER_ROUND)]
    no_tools = statistics.median([await _timed(agent, session, "tools 0") for _ in range(5)])
    many = statistics.median(
        [await _timed(agent, session, f"tools {TOOL_CALLS}") for _ in range(5)]
    )
    await agent.shutdown()
    return {
        "cold_ms": statistics.median(cold) * 1000,
        "warm_ms": statistics.median(warm) * 1000,
        "per_tool_ms": (many - no_tools) / TOOL_CALLS * 1000,
    }


async def main() -> None:
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        project = root / "project"
        (project / "src").mkdir(parents=True)
        (project / "src" / "app.py").write_text("print('hello')\n")
        os.environ["FAKE_CLAUDE_DIR"] = str(root / "fake")
        launcher = root / "claude"
        launcher.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{FAKE_CLAUDE}" "$@"\n')
        launcher.chmod(launcher.stat().st_mode | stat.S_IXUSR)
        config = TetherConfig(
            approved_directories=(project,),
            audit_log_path=root / "audit.jsonl",
            claude_cli_path=launcher,
        )
        rounds = [await _round(config, project, index) for index in range(ROUNDS)]

    def median(key: str) -> float:
        return statistics.median(r[key] for r in rounds)

    print(f"ClaudeCodeAgent on the fake CLI, median of {ROUNDS} rounds:")
    print(f"  cold request (spawn + initialize + turn): {median('cold_ms'):7.1f} ms")
    print(f"  warm request (live process):              {median('warm_ms'):7.1f} ms")
    print(f"  one gated tool call (hook round trip):    {median('per_tool_ms'):7.2f} ms")


if __name__ == "__main__":
    asyncio.run(main())
