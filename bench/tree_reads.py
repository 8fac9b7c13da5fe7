"""Cost of checking a whole-tree read against the file system.

A 1,000-file project (50 directories of 20 files) is built in a temporary
directory. Three calls go through the real pipeline (`build_safety_pipeline`,
default preset), each the median of several rounds, as ratios against the
first:

- `grep -n TODO src/d0/f0.py`: an ordinary call that reads no tree (baseline);
- `grep -rn TODO src` the first time: the tree is walked;
- `grep -rn TODO src` again: the walk is cached (one `stat` per directory).

The classification is cached in every case (the same call repeats), so the
difference is the tree check alone.

    python bench/tree_reads.py
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

from tether.app import build_safety_pipeline
from tether.core.config import load_config
from tether.core.safety.pipeline import SafetyPipeline

ROUNDS = 15
_OLD = 1_000_000_000


def _project(root: Path) -> Path:
    for d in range(50):
        directory = root / "src" / f"d{d}"
        directory.mkdir(parents=True)
        for n in range(20):
            (directory / f"f{n}.py").write_text("x = 1  # TODO\n", encoding="utf-8")
    for directory, _, _ in os.walk(root):
        os.utime(directory, (_OLD, _OLD))  # settled: a walk of it may be cached
    return root


def _pipeline(project: Path, state: Path) -> SafetyPipeline:
    config = load_config(
        approved_directories=(project,),
        policy_files=("default",),
        audit_log_path=state / "audit.jsonl",
        storage_path=state / "tether.db",
    )
    return build_safety_pipeline(config)


def _time(pipeline: SafetyPipeline, project: Path, command: str) -> float:
    start = time.perf_counter()
    verdict = pipeline.decide("Bash", {"command": command}, cwd=str(project))
    elapsed = time.perf_counter() - start
    assert verdict.decision.value == "allow", verdict.reason
    return elapsed


def main() -> None:
    with tempfile.TemporaryDirectory() as temp:
        project = _project(Path(temp) / "project")
        plain: list[float] = []
        first: list[float] = []
        again: list[float] = []
        for round_ in range(ROUNDS):
            pipeline = _pipeline(project, Path(temp) / f"state{round_}")
            # Warm the classification of the plain call; the first `-r` call also classifies.
            pipeline.decide("Bash", {"command": "grep -n TODO src/d0/f0.py"}, cwd=str(project))
            plain.append(_time(pipeline, project, "grep -n TODO src/d0/f0.py"))
            first.append(_time(pipeline, project, "grep -rn TODO src"))
            again.append(_time(pipeline, project, "grep -rn TODO src"))
        base = statistics.median(plain)
        for name, figures in (
            ("grep -n TODO src/d0/f0.py (no tree)", plain),
            ("grep -rn TODO src, first call", first),
            ("grep -rn TODO src, repeated", again),
        ):
            median = statistics.median(figures)
            print(f"{name:40s} {median * 1e6:9.0f} us  {median / base:6.1f}x")


if __name__ == "__main__":
    main()
