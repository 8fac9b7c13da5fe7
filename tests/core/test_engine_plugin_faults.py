"""The engine with hostile plugins installed: every decision recorded, and the process ends."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import structlog

import tether
from tether.app import build_engine
from tether.core.config import TetherConfig
from tether.core.events import MESSAGE_IN, TOOL_ALLOWED, TOOL_DENIED, TOOL_GATED, Event
from tether.core.safety.audit import read_audit_log
from tether.plugins.base import PluginContext, PluginMeta
from tether.plugins.registry import PluginState

_SOURCE_ROOT = Path(tether.__file__).resolve().parent.parent


class HomeMadeExit(BaseException):
    """A plugin's own BaseException, outside the Exception tree."""


class Exiting:
    """Raises `make()` from its handler on the `nth` event of `names` it hears."""

    def __init__(
        self, name: str, names: tuple[str, ...], nth: int, make: Callable[[], BaseException]
    ) -> None:
        self.meta = PluginMeta(name=name, version="1.0")
        self._names = names
        self._nth = nth
        self._make = make
        self._seen = 0

    async def initialize(self, context: PluginContext) -> None:
        context.event_bus.subscribe("*", self.on_event)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def on_event(self, event: Event) -> None:
        if event.name not in self._names:
            return
        self._seen += 1
        if self._seen == self._nth:
            if self._nth % 2:
                await asyncio.sleep(0)  # half of them after an await
            raise self._make()


_EXITS: list[Callable[[], BaseException]] = [
    lambda: SystemExit(0),
    lambda: SystemExit("x"),
    KeyboardInterrupt,
    lambda: HomeMadeExit("mine"),
]


async def test_every_gated_call_is_recorded_when_every_handler_tries_to_exit(
    config: TetherConfig, project_dir: Path
) -> None:
    # For each of four calls, one plugin exits on its tool.gated and another on
    # its tool.allowed / tool.denied.
    plugins = [
        Exiting(f"gated-{n}", (TOOL_GATED,), n, make) for n, make in enumerate(_EXITS, start=1)
    ] + [
        Exiting(f"decided-{n}", (TOOL_ALLOWED, TOOL_DENIED), n, make)
        for n, make in enumerate(_EXITS, start=1)
    ]
    calls = [
        ("Read", {"file_path": str(project_dir / "README.md")}),
        ("Bash", {"command": "rm -rf /"}),
        ("Glob", {"pattern": "**/*.py", "path": str(project_dir)}),
        ("Bash", {"command": "git status"}),
    ]
    async with build_engine(config, plugins=plugins) as engine:
        decisions = [
            await engine.gatekeeper.check(name, tool_input, "session-1", 7, user_id=1)
            for name, tool_input in calls
        ]
        assert [d.allowed for d in decisions] == [True, False, True, True]
        assert all(
            engine.plugins.state(plugin.meta.name) is PluginState.DISABLED for plugin in plugins
        )
    entries = read_audit_log(config.audit_log_path)
    attempts = [e for e in entries if e["event_type"] == "tool_attempt"]
    assert [(e["tool_name"], e["decision"]["allowed"]) for e in attempts] == [
        ("Read", True),
        ("Bash", False),
        ("Glob", True),
        ("Bash", True),
    ]


class Stubborn:
    """Its message.in handler swallows every cancellation."""

    meta = PluginMeta(name="stubborn", version="1.0")

    def __init__(self) -> None:
        self.cancels = 0

    async def initialize(self, context: PluginContext) -> None:
        context.event_bus.subscribe(MESSAGE_IN, self.on_message)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def on_message(self, event: Event) -> None:
        while True:
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                self.cancels += 1


async def test_shutdown_abandons_a_handler_that_swallows_cancellation(
    config: TetherConfig,
) -> None:
    config = config.model_copy(update={"event_handler_timeout_seconds": 0.1})
    plugin = Stubborn()
    engine = build_engine(config, plugins=[plugin])
    await engine.startup()
    await engine.event_bus.emit(Event(name=MESSAGE_IN, data={"user_id": 1}))
    started = time.monotonic()
    with structlog.testing.capture_logs() as logs:
        await engine.shutdown()
    assert time.monotonic() - started < 3
    (abandoned,) = [entry for entry in logs if entry["event"] == "event_handler_abandoned"]
    assert abandoned["owner"] == "stubborn"
    assert abandoned["handler"].endswith("Stubborn.on_message")
    assert plugin.cancels >= 2
    assert [t for t in asyncio.all_tasks() if t is not asyncio.current_task()] == []


_SCRIPT = """
import asyncio, sys
from pathlib import Path
from tether.app import build_engine
from tether.core.config import TetherConfig
from tether.core.events import MESSAGE_IN, Event
from tether.plugins.base import PluginContext, PluginMeta

class Rogue:
    meta = PluginMeta(name="rogue", version="1.0")

    async def initialize(self, context: PluginContext) -> None:
        context.event_bus.subscribe(MESSAGE_IN, self.on_message)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def on_message(self, event: Event) -> None:
        mode = sys.argv[1]
        if mode == "exit":
            sys.exit(3)
        if mode == "interrupt-after-await":
            await asyncio.sleep(0)
            raise KeyboardInterrupt
        while True:
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                pass

async def main() -> None:
    config = TetherConfig(
        approved_directories=(Path.cwd(),),
        audit_log_path=Path("audit.jsonl"),
        event_handler_timeout_seconds=0.1,
    )
    async with build_engine(config, plugins=[Rogue()]) as engine:
        await engine.event_bus.emit(Event(name=MESSAGE_IN, data={"user_id": 1}))
        print("still running", flush=True)

asyncio.run(main())
print("exited cleanly", flush=True)
"""


@pytest.mark.parametrize("mode", ["exit", "swallow-cancellation"])
def test_the_process_neither_obeys_nor_hangs(tmp_path: Path, mode: str) -> None:
    script = tmp_path / "embed.py"
    script.write_text(textwrap.dedent(_SCRIPT), encoding="utf-8")
    environment = {k: v for k, v in os.environ.items() if not k.startswith("TETHER_")}
    environment["PYTHONPATH"] = str(_SOURCE_ROOT)
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, str(script), mode],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=environment,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "still running" in lines and lines[-1] == "exited cleanly"
    assert time.monotonic() - started < 20
