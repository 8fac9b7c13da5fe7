"""How loading the settings grows with the size of a shared `.env` file.

A `.env` of N unrelated lines plus one `TETHER_` line is loaded with
`load_config()`. The baseline, measured in the same run, is python-dotenv
parsing the whole file (what loading did before only `TETHER_` entries were
read; pydantic-settings' handling of unknown names came on top of it). The
baseline stops at 5,000 lines: it grows quadratically (50,000 lines took
over a minute).

Each figure is the median over 5 rounds.

    python bench/env_file.py
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from dotenv import dotenv_values

from tether.core.config import load_config

ROUNDS = 5
SIZES = (1_000, 5_000, 50_000)
BASELINE_LIMIT = 5_000


def _median_seconds(work: Callable[[], object]) -> float:
    timings = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        work()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def main() -> None:
    with tempfile.TemporaryDirectory() as directory:
        os.chdir(directory)
        env = Path(directory) / ".env"
        print(f"{'lines':>8} {'load_config':>12} {'dotenv (before)':>16} {'ratio':>8}")
        for size in SIZES:
            lines = [f"UNRELATED_{i}=value{i}\n" for i in range(size)]
            lines.append("TETHER_LOG_LEVEL=debug\n")
            env.write_text("".join(lines))
            ours = _median_seconds(load_config)
            if size <= BASELINE_LIMIT:
                before = _median_seconds(lambda: dotenv_values(env))
                print(f"{size:>8} {ours:>11.3f}s {before:>15.3f}s {before / ours:>7.0f}x")
            else:
                print(f"{size:>8} {ours:>11.3f}s {'(minutes)':>16} {'':>8}")


if __name__ == "__main__":
    main()
