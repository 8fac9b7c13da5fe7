"""What gating a tool call costs, as a ratio against the physical floor measured beside it.

The floor of a call is the work that cannot be avoided: a tree-sitter parse of
the same command, `json.dumps` of a record like the one the gate writes, and
an O_APPEND write of a line of the same size as the gate's audit line. It is
measured in the same process, interleaved with the gate, so the ratios hold on
any machine.

Measured per case, p50 and p99 over many calls per round, medians of the rounds:
- fresh `ToolGatekeeper.check` (every cache cleared before each call), short
  commands, a Read, and a ~300-character realistic pipeline;
- a repeated identical call (what a session running pytest again and again sees).

The gate runs with the real AuditLogger writing to a temporary file and an
EventBus with no subscribers (the gate's own cost).

    PYTHONPATH=. python bench/gatekeeper.py                  # this checkout
    PYTHONPATH=. python bench/gatekeeper.py --repo OLD --repo .   # side by side

Targets (issue 11): fresh short commands p50 <= 3x and p99 <= 6x the floor;
the pipeline p50 <= 2x; the repeated call p50 <= 1.5x.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _sides import parse_sides

ROUNDS = 5
FRESH_CALLS = 300
REPEATED_CALLS = 2000

PIPELINE = (
    "cd src && git ls-files -- '*.py' | grep -v '^tests/' | xargs wc -l | sort -rn "
    "| head -n 20 && git log --oneline --since='2 weeks ago' -- . | cut -c1-72 | head -30 "
    "&& pytest -q -x --no-header -p no:cacheprovider tests/unit 2>&1 | tail -n 25 "
    "| grep -E 'passed|failed|error' || echo 'no test summary found'"
)

# (label, tool name, input, fresh: clear every cache before each call)
CASES: list[tuple[str, str, dict[str, Any], bool]] = [
    ("git status", "Bash", {"command": "git status"}, True),
    ("cd src && pytest -q", "Bash", {"command": "cd src && pytest -q"}, True),
    ("Read src/app.py", "Read", {"file_path": "src/app.py"}, True),
    ("rm -rf /", "Bash", {"command": "rm -rf /"}, True),
    (
        "git status && git diff --stat | head -20",
        "Bash",
        {"command": "git status && git diff --stat | head -20"},
        True,
    ),
    (f"pipeline ({len(PIPELINE)} chars)", "Bash", {"command": PIPELINE}, True),
    ("repeated: pytest -q", "Bash", {"command": "pytest -q"}, False),
    ("repeated: Read src/app.py", "Read", {"file_path": "src/app.py"}, False),
]

TARGETS = {
    "fresh-short": (3.0, 6.0),
    "fresh-pipeline": (2.0, None),
    "repeated": (1.5, None),
}


def _project(root: Path) -> Path:
    project = root / "project"
    (project / "src").mkdir(parents=True)
    (project / "src" / "app.py").write_text("print('hello')\n")
    (project / "tests" / "unit").mkdir(parents=True)
    return project


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return ordered[len(ordered) // 2], ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def _clear_caches(gate: Any) -> None:
    pipeline = gate.pipeline
    if hasattr(pipeline, "clear_caches"):
        pipeline.clear_caches()
    else:  # a checkout from before the verdict cache
        pipeline.policy._cache.clear()


def _last_line(path: Path) -> bytes:
    with open(path, "rb") as handle:
        handle.seek(max(0, path.stat().st_size - 64 * 1024))
        return handle.read().rstrip(b"\n").rsplit(b"\n", 1)[-1] + b"\n"


async def _measure_round(root: Path) -> dict[str, Any]:
    import tree_sitter_bash
    from tree_sitter import Language, Parser

    from tether.app import build_gatekeeper
    from tether.core.config import TetherConfig
    from tether.core.events import EventBus
    from tether.core.safety.audit import AuditLogger
    from tether.log import configure_logging

    configure_logging("ERROR")
    project = _project(root)
    config = TetherConfig(approved_directories=(project,), audit_log_path=root / "audit.jsonl")
    bus = EventBus(handler_timeout=config.event_handler_timeout_seconds)
    audit = AuditLogger(config.audit_log_path)
    _, gate = build_gatekeeper(config, event_bus=bus, audit_logger=audit)
    parser = Parser(Language(tree_sitter_bash.language()))
    floor_fd = os.open(root / "floor.jsonl", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    clock = time.perf_counter
    results: dict[str, Any] = {}
    try:
        for label, tool_name, tool_input, fresh in CASES:
            await gate.check(tool_name, tool_input, "bench", 1, user_id=1)
            await audit.flush()
            line = _last_line(config.audit_log_path)
            record = json.loads(line)
            command = tool_input.get("command")
            source = command.encode() if isinstance(command, str) else None
            floor: list[float] = []
            spent: list[float] = []
            calls = FRESH_CALLS if fresh else REPEATED_CALLS
            gc.collect()
            for index in range(calls):
                # The floor: parse + dumps + one O_APPEND write of a line this long.
                started = clock()
                if source is not None:
                    parser.parse(source)
                text = json.dumps(record)
                os.write(floor_fd, text.encode()[: len(line) - 1].ljust(len(line) - 1) + b"\n")
                floor.append(clock() - started)
                if fresh:
                    _clear_caches(gate)
                started = clock()
                await gate.check(tool_name, tool_input, "bench", 1, user_id=1)
                spent.append(clock() - started)
                if index % 64 == 0:
                    await asyncio.sleep(0)
            results[label] = {
                "floor": _percentiles(floor),
                "gate": _percentiles(spent),
                "line_bytes": len(line),
            }
    finally:
        os.close(floor_fd)
        await audit.close()
    return results


def _child() -> None:
    with tempfile.TemporaryDirectory() as temporary:
        result = asyncio.run(_measure_round(Path(temporary)))
    print(json.dumps(result))


def _median_of_rounds(rounds: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    summary: dict[str, dict[str, float]] = {}
    for label, *_ in CASES:
        entries = [r[label] for r in rounds]
        summary[label] = {
            "floor50": statistics.median(e["floor"][0] for e in entries) * 1e6,
            "floor99": statistics.median(e["floor"][1] for e in entries) * 1e6,
            "p50": statistics.median(e["gate"][0] for e in entries) * 1e6,
            "p99": statistics.median(e["gate"][1] for e in entries) * 1e6,
            "ratio50": statistics.median(e["gate"][0] / e["floor"][0] for e in entries),
            "ratio99": statistics.median(e["gate"][1] / e["floor"][1] for e in entries),
        }
    return summary


def _print_table(sides: dict[str, dict[str, dict[str, float]]], rounds: int) -> None:
    print(f"ToolGatekeeper.check against the floor (µs; medians of {rounds} rounds; x = ratio)")
    header = f"{'case':44}"
    for name in sides:
        header += f" | {name[:33]:^33}"
    print(header)
    sub = f"{'':44}" + " | floor p50/p99   gate p50/p99 (x)" * len(sides)
    print(sub)
    for label, *_ in CASES:
        row = f"{label[:44]:44}"
        for summary in sides.values():
            s = summary[label]
            row += (
                f" | {s['floor50']:5.0f}/{s['floor99']:<5.0f} "
                f"{s['p50']:5.0f}/{s['p99']:<6.0f}"
                f"({s['ratio50']:.1f}/{s['ratio99']:.1f})"
            )
        print(row)
    print("targets: fresh short p50 <= 3x, p99 <= 6x; pipeline p50 <= 2x; repeated p50 <= 1.5x")


def main() -> None:
    sides, _ = parse_sides(__file__, __doc__ or "", ROUNDS)
    if sides.child:
        _child()
        return
    if not sides.repos:
        rounds = []
        for _ in range(sides.rounds):
            with tempfile.TemporaryDirectory() as temporary:
                rounds.append(asyncio.run(_measure_round(Path(temporary))))
        _print_table({"this checkout": _median_of_rounds(rounds)}, sides.rounds)
        return
    results = sides.run()
    _print_table({k: _median_of_rounds(v) for k, v in results.items()}, sides.rounds)
    print(f"(python {sys.version.split()[0]})")


if __name__ == "__main__":
    main()
