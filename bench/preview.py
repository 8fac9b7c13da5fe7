"""What an approval preview costs, against the gate's own decision for the same call.

A preview is built only when a person is asked, so it never slows an allowed
call; this shows what it adds to a call that asks, as ratios against the
pipeline's decision for that call, measured in the same run:

1. Edit of a 2,000-line file (read, apply, unified diff, mask).
2. Write over the same file (whole-file diff).
3. A Bash pipeline of five commands (parts with their facts, masking).

Each figure is the median of several rounds.

    python bench/preview.py
"""

from __future__ import annotations

import logging
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import structlog

from tether.app import build_engine
from tether.core.config import TetherConfig
from tether.core.safety.pipeline import SafetyPipeline
from tether.core.safety.preview import build_preview

ROUNDS = 7
PER_ROUND = 50


def _median_us(work: Any) -> float:
    rounds = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        for _ in range(PER_ROUND):
            work()
        rounds.append((time.perf_counter() - started) / PER_ROUND * 1e6)
    return statistics.median(rounds)


def main() -> None:
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "project"
        project.mkdir()
        target = project / "big.py"
        target.write_text("".join(f"value_{n} = {n}  # API_TOKEN = 'x{n}'\n" for n in range(2000)))
        config = TetherConfig(approved_directories=(project,), audit_log_path=Path(tmp) / "a.jsonl")
        pipeline: SafetyPipeline = build_engine(config).gatekeeper.pipeline
        calls = {
            "Edit, 2,000-line file": (
                "Edit",
                {"file_path": str(target), "old_string": "value_1000 = 1000", "new_string": "x"},
            ),
            "Write over it": (
                "Write",
                {"file_path": str(target), "content": target.read_text().replace("= 1", "= 2")},
            ),
            "Bash, five commands": (
                "Bash",
                {"command": "pip install x && rm -rf build; curl -s https://a.b | tee o; ls"},
            ),
        }
        print(f"{'call':<24}{'decide µs':>12}{'preview µs':>12}{'ratio':>8}")
        for label, (tool, tool_input) in calls.items():
            verdict = pipeline.decide(tool, tool_input, cwd=project)

            def decide(tool: str = tool, tool_input: dict[str, Any] = tool_input) -> None:
                pipeline.decide(tool, tool_input, cwd=project)

            def preview(
                tool: str = tool, tool_input: dict[str, Any] = tool_input, verdict: Any = verdict
            ) -> None:
                build_preview(tool, tool_input, verdict, project=project)

            base = _median_us(decide)
            cost = _median_us(preview)
            print(f"{label:<24}{base:>12.0f}{cost:>12.0f}{cost / base:>8.1f}")


if __name__ == "__main__":
    main()
