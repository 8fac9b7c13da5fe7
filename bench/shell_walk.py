"""What the shell parse stage costs beyond tree-sitter's own parse, as a ratio.

For the gate bench's commands, each sample times, back to back in one process,
a bare tree-sitter parse of the command terminated by a newline (the line the
walk parses: `parse_line`) and `ShellParser().parse` (tree-sitter plus the walk
that turns the tree into commands, the expansion stage included), and on a
checkout that has them, the same parse with the one-pass lane off (`plan`: plain
trees walked by their plan) and with the plain lane off (`general`); on a checkout
with the text lane, the parse with it off (`tree`).
Reported per command: medians of the rounds of the per-round medians, in µs, and
the walk as a multiple of the tree-sitter parse ((parse - tree-sitter) / tree-sitter).

    PYTHONPATH=. python bench/shell_walk.py
    PYTHONPATH=. python bench/shell_walk.py --repo OLD --repo .   # side by side
"""

from __future__ import annotations

import contextlib
import json
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from _sides import parse_sides

ROUNDS = 5
SAMPLES = 1500
LONG_SAMPLES = 150

PIPELINE = (
    "cd src && git ls-files -- '*.py' | grep -v '^tests/' | xargs wc -l | sort -rn "
    "| head -n 20 && git log --oneline --since='2 weeks ago' -- . | cut -c1-72 | head -30 "
    "&& pytest -q -x --no-header -p no:cacheprovider tests/unit 2>&1 | tail -n 25 "
    "| grep -E 'passed|failed|error' || echo 'no test summary found'"
)
COMMANDS = [
    "git status",
    "cd src && pytest -q",
    "rm -rf /",
    "git status && git diff --stat | head -20",
    PIPELINE,
]


def _measure_round() -> dict[str, dict[str, float]]:
    import tree_sitter_bash
    from tree_sitter import Language, Parser

    from tether.core.safety.shell import ShellParser

    bare = Parser(Language(tree_sitter_bash.language()))
    parsers: dict[str, Callable[[str], object]] = {"parse": ShellParser().parse}
    with contextlib.suppress(TypeError):  # a checkout without the text lane
        parsers["tree"] = ShellParser(text_lane=False).parse  # type: ignore[call-arg]
    with contextlib.suppress(TypeError):  # a checkout without the one-pass lane
        parsers["plan"] = ShellParser(one_pass=False).parse  # type: ignore[call-arg]
    with contextlib.suppress(TypeError):  # the plan, not the text lane, where there is one
        parsers["plan"] = ShellParser(one_pass=False, text_lane=False).parse  # type: ignore[call-arg]
    with contextlib.suppress(TypeError):  # a checkout with one lane only has no switch
        parsers["general"] = ShellParser(plain_lane=False).parse  # type: ignore[call-arg]
    clock = time.perf_counter
    results: dict[str, dict[str, float]] = {}
    for command in COMMANDS:
        source = command.encode() + b"\n"
        samples: dict[str, list[float]] = {"ts": [], **{name: [] for name in parsers}}
        for parse in parsers.values():
            parse(command)  # warm
        for _ in range(LONG_SAMPLES if len(command) > 100 else SAMPLES):
            started = clock()
            bare.parse(source)
            samples["ts"].append(clock() - started)
            for name, parse in parsers.items():
                started = clock()
                parse(command)
                samples[name].append(clock() - started)
        results[command] = {name: statistics.median(values) for name, values in samples.items()}
    return results


def main() -> None:
    sides, _ = parse_sides(__file__, __doc__ or "", ROUNDS)
    if sides.child:
        print(json.dumps(_measure_round()))
        return
    if sides.repos:
        runs = sides.run()
    else:
        runs = {"this checkout": [_measure_round() for _ in range(sides.rounds)]}
    print(f"ShellParser.parse vs tree-sitter alone (µs; medians of {sides.rounds} rounds)")
    print(
        "walk = (parse - tree-sitter) / tree-sitter; tree = the text lane off; "
        "plan = the one-pass lane off too; general = the plain lane off"
    )
    for label, rounds in runs.items():
        print(f"\n{label}")
        for command in COMMANDS:
            summary = _summary(rounds, command)
            row = f"  {command[:40]:40} ts {summary['ts']:6.1f}  parse {summary['parse']:7.1f}"
            row += f" (walk {summary['walk']:4.2f}x)"
            for lane in ("tree", "plan", "general"):
                if lane in summary:
                    row += f"  {lane} {summary[lane]:7.1f} (walk {summary['walk_' + lane]:4.2f}x)"
            print(row)


def _summary(rounds: list[dict[str, Any]], command: str) -> dict[str, float]:
    entries = [r[command] for r in rounds]
    summary = {name: statistics.median(e[name] for e in entries) * 1e6 for name in entries[0]}
    summary["walk"] = statistics.median((e["parse"] - e["ts"]) / e["ts"] for e in entries)
    for lane in ("tree", "plan", "general"):
        if lane in entries[0]:
            summary["walk_" + lane] = statistics.median(
                (e[lane] - e["ts"]) / e["ts"] for e in entries
            )
    return summary


if __name__ == "__main__":
    sys.exit(main())
