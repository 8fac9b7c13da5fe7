"""What saving the ledger costs the event loop, per recorded request.

Three ledgers record the same costs in alternating rounds: one kept in
memory only (the baseline), one saved by the plugin's `LedgerSaver` (the
write, an fsync, runs in a worker thread; the loop pays for the snapshot and
the hand-over), and one written synchronously on the loop (what the saver
spares it). Each round times the loop's own work for one `record` (and, for
the saver, lets the write finish before the next one, as requests are far
apart). Figures are medians of the per-round medians, as ratios against the
baseline of the same run, plus the write's own time in the thread.

    python plugins/tether-budget/bench/ledger_save.py
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tether_budget.ledger import Change, Ledger, LedgerState
from tether_budget.ledger_file import write_ledger
from tether_budget.saver import LedgerSaver
from tether_budget.settings import BudgetSettings

ROUNDS = 9
RECORDS_PER_ROUND = 200


def _settings(path: Path) -> BudgetSettings:
    return BudgetSettings(daily_usd=1_000_000, ledger_path=path)


async def _round(ledger: Ledger, after: Callable[[], Awaitable[None]] | None = None) -> float:
    samples = []
    clock = time.perf_counter
    for _ in range(RECORDS_PER_ROUND):
        started = clock()
        ledger.record(0.01)
        samples.append(clock() - started)
        if after is not None:
            await after()
    return statistics.median(samples)


async def main() -> None:
    with tempfile.TemporaryDirectory(prefix="budget-bench-") as directory:
        root = Path(directory)
        memory = Ledger(_settings(root / "memory.json"))
        saver = LedgerSaver(root / "saver" / "budget.json")
        threaded = Ledger(
            _settings(saver.path), on_change=lambda state, change: saver.submit(state)
        )
        sync_path = root / "sync" / "budget.json"

        def write_now(state: LedgerState, change: Change) -> None:
            write_ledger(sync_path, state)

        inline = Ledger(_settings(sync_path), on_change=write_now)
        figures: dict[str, list[float]] = {"memory": [], "saver": [], "inline": []}
        for _ in range(ROUNDS):
            figures["memory"].append(await _round(memory))
            figures["saver"].append(await _round(threaded, saver.flush))
            figures["inline"].append(await _round(inline))
        writes = []
        state = threaded.state
        for _ in range(ROUNDS * 20):
            started = time.perf_counter()
            write_ledger(saver.path, state)
            writes.append(time.perf_counter() - started)
    base = statistics.median(figures["memory"])
    print(f"record, in memory only (baseline): {base * 1e6:8.2f} µs on the loop")
    for name, label in (("saver", "saved in a thread"), ("inline", "written on the loop")):
        median = statistics.median(figures[name])
        print(f"record, {label:<25} {median * 1e6:8.2f} µs on the loop ({median / base:.1f}x)")
    print(f"one atomic write (temp, fsync, rename): {statistics.median(writes) * 1e6:8.1f} µs")


if __name__ == "__main__":
    asyncio.run(main())
