"""Start-up: `tether --dir PROJECT` to its first prompt, and its memory once idle.

Starts the terminal REPL as a subprocess (stdin a pipe kept open), times how
long until the prompt is printed, waits a moment, reads the process's resident
memory (VmRSS), then closes stdin and waits for it to end. Several launches per
round; medians.

Bytecode is cached, as an installed package has it (pip compiles it at install
time): each round compiles into its own cache with one launch that is not timed.
`BENCH_COMPILE=1` times every launch compiling Tether's sources instead (what
PYTHONDONTWRITEBYTECODE does to a checkout).

    PYTHONPATH=. python bench/startup.py
    PYTHONPATH=. python bench/startup.py --repo OLD --repo .     # side by side, with ratios

Target (issue 11): time to the prompt at most 0.5x, idle RSS at most 0.75x of
the commit before the issue.
"""

from __future__ import annotations

import json
import os
import select
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _sides import parse_sides

ROUNDS = 5
LAUNCHES = 3
PROMPT = "› ".encode()
IDLE_SECONDS = 1.0
TIMEOUT_SECONDS = 60.0


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def _launch(root: Path, bytecode: Path | None) -> tuple[float, int]:
    project = root / "project"
    project.mkdir(exist_ok=True)
    environment = {k: v for k, v in os.environ.items() if not k.startswith("TETHER_")}
    environment.update(
        HOME=str(root / "home"),
        XDG_CONFIG_HOME=str(root / "config"),
        XDG_STATE_HOME=str(root / "state"),
        TETHER_AUDIT_LOG_PATH=str(root / "audit.jsonl"),
    )
    if bytecode is not None:
        environment.pop("PYTHONDONTWRITEBYTECODE", None)
        environment["PYTHONPYCACHEPREFIX"] = str(bytecode)
    # Tether runs in a scratch directory: a relative PYTHONPATH (`PYTHONPATH=.`)
    # must still name this checkout, not the scratch directory.
    if environment.get("PYTHONPATH"):
        environment["PYTHONPATH"] = os.pathsep.join(
            str(Path(entry).resolve()) for entry in environment["PYTHONPATH"].split(os.pathsep)
        )
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "tether", "--dir", str(project)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=environment,
        cwd=str(root),
    )
    assert process.stdout is not None and process.stdin is not None
    seen = b""
    try:
        while PROMPT not in seen:
            left = TIMEOUT_SECONDS - (time.perf_counter() - started)
            ready, _, _ = select.select([process.stdout], [], [], max(left, 0))
            if not ready:
                raise RuntimeError("no prompt within the timeout")
            chunk = os.read(process.stdout.fileno(), 4096)
            if not chunk:
                raise RuntimeError(f"tether ended before its prompt: {seen[-500:]!r}")
            seen += chunk
        to_prompt = time.perf_counter() - started
        time.sleep(IDLE_SECONDS)
        rss = _rss_kib(process.pid)
    finally:
        process.stdin.close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.terminate()
            process.wait(timeout=10)
        process.stdout.close()
    return to_prompt, rss


def _round() -> dict[str, float]:
    times, memory = [], []
    with tempfile.TemporaryDirectory() as cache:
        bytecode = None if os.environ.get("BENCH_COMPILE") else Path(cache)
        if bytecode is not None:
            with tempfile.TemporaryDirectory() as temporary:
                _launch(Path(temporary), bytecode)  # compiles into the cache; not timed
        for _ in range(LAUNCHES):
            with tempfile.TemporaryDirectory() as temporary:
                to_prompt, rss = _launch(Path(temporary), bytecode)
            times.append(to_prompt)
            memory.append(rss)
    return {"seconds": statistics.median(times), "rss_kib": statistics.median(memory)}


def main() -> None:
    sides, _ = parse_sides(__file__, __doc__ or "", ROUNDS)
    if sides.child:
        print(json.dumps(_round()))
        return
    results = (
        sides.run() if sides.repos else {"this checkout": [_round() for _ in range(sides.rounds)]}
    )
    compiled = "compiling every launch" if os.environ.get("BENCH_COMPILE") else "bytecode cached"
    print(
        "tether --dir PROJECT: time to the first prompt and idle RSS "
        f"(medians of {sides.rounds} rounds, {compiled})"
    )
    first = None
    for label, rounds in results.items():
        seconds = statistics.median(r["seconds"] for r in rounds)
        rss = statistics.median(r["rss_kib"] for r in rounds) / 1024
        if first is None:
            first = (seconds, rss)
            ratio = ""
        else:
            ratio = f"   ({seconds / first[0]:.2f}x time, {rss / first[1]:.2f}x RSS of the first)"
        print(f"  {label:32} {seconds:6.2f} s   {rss:6.1f} MiB{ratio}")


if __name__ == "__main__":
    main()
