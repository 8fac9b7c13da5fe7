"""Engine throughput and latency: middleware → engine → gatekeeper → audit, per message.

The scripted agent of `tether.testing` makes 3 tool calls per message (Read, Grep, Bash
`pytest -q`: all allowed by the default policy, so nothing waits for a
person). Tether's own cost per message is `handle_message` time minus the same
agent run with a gate that allows everything at no cost, both measured in this
run. Prints messages/s for 1 chat and for 100 concurrent chats, p50/p99 of the
added latency, whether 100 chats that each wait 50 ms run in parallel, and the
peak memory with 100 sessions.

    PYTHONPATH=. python bench/engine.py
    PYTHONPATH=. python bench/engine.py --repo OLD --repo .   # side by side

Side by side, each checkout measures its own overhead per message (rounds
interleaved) and the ratio to the first is printed; a checkout older than the
testing kit runs the kit's ScriptedAgent from this checkout. Target (issue 11):
at most 0.4x of the commit before the issue.
"""

from __future__ import annotations

import asyncio
import gc
import importlib.util
import json
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

from _sides import parse_sides

from tether.app import build_engine
from tether.core.config import TetherConfig
from tether.core.safety.gatekeeper import GateDecision
from tether.core.session import Session
from tether.log import configure_logging

try:
    from tether.testing import ScriptedAgent, Step, UseTool, Wait
except ImportError:  # a checkout from before the kit: the kit's agent module from this one
    _KIT = Path(__file__).resolve().parents[1] / "tether" / "testing" / "agent.py"
    _spec = importlib.util.spec_from_file_location("bench_kit_agent", _KIT)
    assert _spec is not None and _spec.loader is not None
    _kit = importlib.util.module_from_spec(_spec)
    sys.modules[_spec.name] = _kit
    _spec.loader.exec_module(_kit)
    ScriptedAgent, Step, UseTool, Wait = _kit.ScriptedAgent, _kit.Step, _kit.UseTool, _kit.Wait

ROUNDS = 5
MESSAGES = 400
CHATS = 100


ALL_RAN = "[Read ran][Grep ran][Bash ran]"


def three_tool_agent(project: Path, wait: float = 0.0) -> ScriptedAgent:
    """Asks the gate about three everyday tool calls, then answers (after `wait` seconds)."""
    steps: list[Step] = [
        UseTool("Read", {"file_path": str(project / "src" / "app.py")}),
        UseTool("Grep", {"pattern": "def ", "path": str(project)}),
        UseTool("Bash", {"command": "pytest -q"}),
    ]
    if wait:
        steps.append(Wait(wait))
    # Calls are not kept: the memory figure is Tether's, not the fake's.
    return ScriptedAgent(steps, cost=0.0, keep_calls=False)


async def _allow_all(tool_name: str, tool_input: dict[str, Any]) -> GateDecision:
    return GateDecision(allowed=True)


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def _setup(workdir: Path, name: str) -> tuple[Path, TetherConfig]:
    """A project and settings that let every bench user in, unlimited."""
    project = workdir / name
    (project / "src").mkdir(parents=True, exist_ok=True)
    (project / "src" / "app.py").write_text("def main():\n    pass\n")
    config = TetherConfig(
        approved_directories=(project,),
        audit_log_path=workdir / f"{name}.jsonl",
        rate_limit_rpm=10_000,
        rate_limit_burst=10_000,
        allowed_user_ids=tuple(range(CHATS)),
    )
    return project, config


async def _measure(workdir: Path) -> dict[str, float]:
    project, config = _setup(workdir, "project")
    agent = three_tool_agent(project)
    engine = build_engine(config, agent=agent)
    session = Session(user_id=0, chat_id=0, working_directory=project)
    async with engine:
        for _ in range(50):  # warm caches and the audit file
            reply = await engine.handle_message(0, "warm up", 0)
            if reply != ALL_RAN:
                raise RuntimeError(f"bench expects every call to be allowed: {reply}")

        baseline: list[float] = []
        for _ in range(MESSAGES):
            started = time.perf_counter()
            await agent.execute("x", session, can_use_tool=_allow_all)
            baseline.append(time.perf_counter() - started)

        one_chat: list[float] = []
        started_all = time.perf_counter()
        for _ in range(MESSAGES):
            started = time.perf_counter()
            await engine.handle_message(0, "run the tests", 0)
            one_chat.append(time.perf_counter() - started)
        one_chat_rate = MESSAGES / (time.perf_counter() - started_all)

        async def chat(chat_id: int, count: int) -> None:
            for _ in range(count):
                await engine.handle_message(chat_id, "run the tests", chat_id)

        per_chat = MESSAGES // 10
        started_all = time.perf_counter()
        await asyncio.gather(*(chat(c, per_chat) for c in range(CHATS)))
        many_rate = CHATS * per_chat / (time.perf_counter() - started_all)

    base = statistics.median(baseline)
    added = [value - base for value in one_chat]
    return {
        "one_chat_rate": one_chat_rate,
        "many_chat_rate": many_rate,
        "added_p50_us": _percentile(added, 0.50) * 1e6,
        "added_p99_us": _percentile(added, 0.99) * 1e6,
        "agent_alone_us": base * 1e6,
    }


async def _parallel_chats(workdir: Path) -> tuple[float, float]:
    """100 chats whose agent waits 50 ms: wall time, against 50 ms if nothing serialises."""
    project, config = _setup(workdir, "parallel")
    engine = build_engine(config, agent=three_tool_agent(project, wait=0.05))
    async with engine:
        started = time.perf_counter()
        await asyncio.gather(*(engine.handle_message(c, "go", c) for c in range(CHATS)))
        wall = time.perf_counter() - started
    return wall, 0.05


async def _memory(workdir: Path) -> tuple[float, float]:
    """Peak traced memory and process max RSS after 100 sessions each sent a message."""
    project, config = _setup(workdir, "memory")
    gc.collect()
    tracemalloc.start()
    engine = build_engine(config, agent=three_tool_agent(project))
    async with engine:
        await asyncio.gather(*(engine.handle_message(c, "go", c) for c in range(CHATS)))
        _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20, rss_kib / 1024


async def main() -> None:
    configure_logging("WARNING")
    rounds: list[dict[str, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for index in range(ROUNDS):
            rounds.append(await _measure(Path(tmp) / f"round{index}"))
        walls = [(await _parallel_chats(Path(tmp) / f"par{i}"))[0] for i in range(3)]
        traced_mib, rss_mib = await _memory(Path(tmp))

    def median(key: str) -> float:
        return statistics.median(r[key] for r in rounds)

    print(f"engine bench: {ROUNDS} rounds, {MESSAGES} messages each, 3 gated tool calls/message")
    print(f"python {sys.version.split()[0]}; medians over rounds")
    print(f"  1 chat:           {median('one_chat_rate'):8.0f} messages/s")
    print(f"  {CHATS} chats at once: {median('many_chat_rate'):8.0f} messages/s")
    print(f"  agent alone:      {median('agent_alone_us'):8.1f} µs/message (baseline, same run)")
    p50, p99 = median("added_p50_us"), median("added_p99_us")
    print(f"  added by Tether:  p50 {p50:8.1f} µs   p99 {p99:8.1f} µs")
    wall = statistics.median(walls)
    print(
        f"  {CHATS} chats whose agent waits 50 ms: {wall * 1000:.0f} ms wall "
        f"(serialised would be {CHATS * 50} ms; ratio to one wait {wall / 0.05:.2f}x)"
    )
    print(
        f"  memory with {CHATS} sessions: traced peak {traced_mib:.1f} MiB, "
        f"max RSS {rss_mib:.0f} MiB"
    )


async def _child() -> None:
    configure_logging("WARNING")
    with tempfile.TemporaryDirectory() as tmp:
        print(json.dumps(await _measure(Path(tmp) / "round")))


def _entry() -> None:
    sides, _ = parse_sides(__file__, __doc__ or "", ROUNDS)
    if sides.child:
        asyncio.run(_child())
        return
    if not sides.repos:
        asyncio.run(main())
        return
    results = sides.run()
    print(f"Tether's cost per message, 3 gated calls (µs; medians of {sides.rounds} rounds)")
    first = None
    for label, rounds in results.items():
        p50 = statistics.median(r["added_p50_us"] for r in rounds)
        p99 = statistics.median(r["added_p99_us"] for r in rounds)
        rate = statistics.median(r["one_chat_rate"] for r in rounds)
        ratio = "" if first is None else f"   ({p50 / first:.2f}x the first, p50)"
        first = first if first is not None else p50
        print(f"  {label:32} p50 {p50:8.1f}   p99 {p99:8.1f}   {rate:7.0f} msg/s{ratio}")


if __name__ == "__main__":
    _entry()
