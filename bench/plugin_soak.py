"""Soak: mixed gated calls through the engine with one plugin of each bad kind installed.

Installed: a plugin whose handlers raise, one that calls sys.exit (it is
disabled at once), one that raises KeyboardInterrupt after an await, one that
hangs past the handler timeout now and then, one that swallows its
cancellation, and one that emits two events per event it handles. Gated calls
(allowed, denied, and asked: no one answers, so denied) run from 8 concurrent
chats for the given time. Prints calls made against tool_attempt entries
written, RSS at the start and the end, and the tasks left after shutdown.
Loopback only: nothing leaves the process.

    python bench/plugin_soak.py [SECONDS]     (default 600)
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

from tether.app import build_engine
from tether.core.config import TetherConfig
from tether.core.events import Event
from tether.core.safety.audit import read_audit_log
from tether.log import configure_logging
from tether.plugins.base import PluginContext, PluginMeta

CHATS = 8


def _rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


class _Bad:
    """One bad kind: `kind` says what its handler does."""

    def __init__(self, kind: str) -> None:
        self.meta = PluginMeta(name=kind, version="1.0")
        self._kind = kind
        self._seen = 0

    async def initialize(self, context: PluginContext) -> None:
        self._bus = context.event_bus
        context.event_bus.subscribe("tool.*", self.on_event)
        context.event_bus.subscribe("soak.*", self.on_event)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def on_event(self, event: Event) -> None:
        self._seen += 1
        kind = self._kind
        if kind == "raises":
            raise RuntimeError("broken plugin")
        if kind == "exits":
            sys.exit(3)
        if kind == "interrupts":
            await asyncio.sleep(0)
            raise KeyboardInterrupt
        if kind == "hangs" and self._seen % 50 == 0:
            await asyncio.sleep(3600)
        if kind == "swallows" and self._seen % 50 == 0:
            for _ in range(3):
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.sleep(3600)
        if kind == "fans-out":
            await self._bus.emit(Event(name="soak.fan"))
            await self._bus.emit(Event(name="soak.fan"))


async def _chat(engine: object, chat: int, project: Path, deadline: float) -> int:
    from tether.core.engine import Engine

    assert isinstance(engine, Engine)
    calls = [
        ("Read", {"file_path": str(project / "a.txt")}),
        ("Bash", {"command": "git status"}),
        ("Bash", {"command": "rm -rf /"}),
        ("Write", {"file_path": str(project / "b.txt"), "content": "x"}),  # asks: denied
    ]
    made = 0
    while time.monotonic() < deadline:
        name, tool_input = calls[made % len(calls)]
        await engine.gatekeeper.check(name, tool_input, f"session-{chat}", chat, user_id=chat)
        made += 1
    return made


async def main(seconds: float) -> None:
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        project = root / "project"
        project.mkdir()
        (project / "a.txt").write_text("x\n")
        config = TetherConfig(
            approved_directories=(project,),
            audit_log_path=root / "audit.jsonl",
            event_handler_timeout_seconds=0.2,
            approval_timeout_seconds=0.05,
        )
        kinds = ("raises", "exits", "interrupts", "hangs", "swallows", "fans-out")
        engine = build_engine(config, plugins=[_Bad(kind) for kind in kinds])
        await engine.startup()
        # Warm up before the first reading: imports and caches are not a leak.
        await _chat(engine, 0, project, time.monotonic() + min(5.0, seconds / 10))
        rss_start = _rss_mb()
        started = time.monotonic()
        deadline = started + seconds
        counts = await asyncio.gather(
            *(_chat(engine, chat, project, deadline) for chat in range(1, CHATS + 1))
        )
        elapsed = time.monotonic() - started
        rss_end = _rss_mb()
        await engine.shutdown()
        left = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        attempts = [
            entry
            for entry in read_audit_log(config.audit_log_path)
            if entry["event_type"] == "tool_attempt" and entry["session_id"] != "session-0"
        ]
        states = {info.name: info.state.value for info in engine.plugins.describe()}
    print(f"{sum(counts)} gated calls from {CHATS} chats in {elapsed:.0f} s")
    print(f"tool_attempt entries: {len(attempts)} (equal: {len(attempts) == sum(counts)})")
    print(f"RSS: {rss_start:.1f} MB at the start, {rss_end:.1f} MB at the end")
    print(f"tasks left after shutdown: {len(left)}")
    print(f"events dropped past the nesting bounds: {engine.event_bus.dropped_events}")
    print(f"disabled: {', '.join(sorted(engine.event_bus.disabled_owners())) or 'none'}")
    print("plugin states: " + ", ".join(f"{name}={state}" for name, state in states.items()))
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.1f} MB")


if __name__ == "__main__":
    with open(os.devnull, "w") as null, contextlib.redirect_stderr(null):
        configure_logging("CRITICAL")
        asyncio.run(main(float(sys.argv[1]) if len(sys.argv) > 1 else 600.0))
