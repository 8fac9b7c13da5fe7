"""What a plugin's gate hook adds to gating a call: one no-op gate hook against none.

Two gatekeepers built the same way (real AuditLogger on a temporary file, the
default policy), one without gate hooks and one with a single plugin's no-op
`gate` hook (it returns None without suspending, as most hooks do), run in
alternating rounds on an allow path (`git status`, cached classification) and
an ask path (`touch x`, with approvals failing closed at once). The figure is
the ratio of the medians of the per-round medians, in the same run. Target:
under 1.2x. A third gatekeeper's hook awaits once (`asyncio.sleep(0)`), to
show what a hook that suspends costs (a task and a timer).

    python bench/gate_hooks.py
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from tether.app import build_gatekeeper
from tether.core.config import TetherConfig
from tether.core.events import EventBus
from tether.core.safety.audit import AuditLogger
from tether.core.safety.gate_hooks import GateCall
from tether.core.safety.gatekeeper import ToolGatekeeper
from tether.log import configure_logging
from tether.plugins.calls import HookCounters
from tether.plugins.gate import GateHooks

ROUNDS = 9
CHECKS_PER_ROUND = 1500


async def _no_op(call: GateCall) -> None:
    return None


async def _suspends(call: GateCall) -> None:
    await asyncio.sleep(0)


def _gate(config: TetherConfig, audit: AuditLogger, hook: Any) -> ToolGatekeeper:
    bus = EventBus(handler_timeout=config.event_handler_timeout_seconds)
    reviewer = None
    if hook is not None:
        reviewer = GateHooks(config.event_handler_timeout_seconds)
        reviewer.add("bench", hook, HookCounters())
    _, gate = build_gatekeeper(config, event_bus=bus, audit_logger=audit, reviewer=reviewer)
    return gate


async def _round(gate: ToolGatekeeper, tool_input: dict[str, Any]) -> float:
    samples = []
    clock = time.perf_counter
    for _ in range(CHECKS_PER_ROUND):
        started = clock()
        await gate.check("Bash", tool_input, "bench", 1, user_id=1)
        samples.append(clock() - started)
    return statistics.median(samples) * 1e6


async def measure(root: Path) -> None:
    project = root / "project"
    project.mkdir()
    config = TetherConfig(
        approved_directories=(project,), audit_log_path=root / "audit.jsonl", plugins=()
    )
    audit = AuditLogger(config.audit_log_path)
    gates = {
        "no gate hook": _gate(config, audit, None),
        "one no-op gate hook": _gate(config, audit, _no_op),
        "one hook that suspends": _gate(config, audit, _suspends),
    }
    cases = [
        ("allow: git status", {"command": "git status"}),
        ("ask (fails closed): touch x", {"command": "touch x"}),
    ]
    print(f"gate cost with plugins' gate hooks, µs per check (median of {ROUNDS} rounds)")
    for label, tool_input in cases:
        medians: dict[str, list[float]] = {name: [] for name in gates}
        for gate in gates.values():
            await gate.check("Bash", tool_input, "bench", 1, user_id=1)  # warm the cache
        for _ in range(ROUNDS):
            for name, gate in gates.items():
                medians[name].append(await _round(gate, tool_input))
        base = statistics.median(medians["no gate hook"])
        print(f"  {label}")
        for name, values in medians.items():
            value = statistics.median(values)
            print(f"    {name:24} {value:8.1f}   ratio {value / base:5.2f}x")
    await audit.close()


def main() -> None:
    configure_logging("ERROR")
    with tempfile.TemporaryDirectory() as temporary:
        asyncio.run(measure(Path(temporary)))


if __name__ == "__main__":
    main()
