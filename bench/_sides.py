"""Run one benchmark against several checkouts in the same sitting, rounds interleaved.

A bench script measures the checkout it imports `tether` from. With `--repo PATH`
(repeatable) it runs itself once per round per checkout as a child process with
`PYTHONPATH=PATH`, alternating between them so both see the same machine, and
hands the rounds' results back per checkout. Children print one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

__all__ = ["Sides", "parse_sides"]

CHILD_FLAG = "--child"


class Sides:
    """The checkouts to compare (labels and paths), or none: measure this process."""

    def __init__(self, repos: list[Path], rounds: int, child: bool, script: Path) -> None:
        self.repos = repos
        # Named once: a commit made while the bench runs must not rename a side.
        self.labels = [_label(repo) for repo in repos]
        self.rounds = rounds
        self.child = child
        self.script = script

    def run(self, extra: list[str] | None = None) -> dict[str, list[dict[str, Any]]]:
        """Each checkout's list of round results (one child process per round)."""
        results: dict[str, list[dict[str, Any]]] = {label: [] for label in self.labels}
        for round_number in range(self.rounds):
            for repo, label in zip(self.repos, self.labels, strict=True):
                environment = {k: v for k, v in os.environ.items() if not k.startswith("TETHER_")}
                environment["PYTHONPATH"] = str(repo)
                done = subprocess.run(
                    [sys.executable, str(self.script), CHILD_FLAG, *(extra or [])],
                    capture_output=True,
                    env=environment,
                    cwd=str(repo),
                    check=False,
                )
                if done.returncode != 0:
                    raise SystemExit(
                        f"{label}: round {round_number + 1} failed:\n{done.stderr.decode()[-2000:]}"
                    )
                results[label].append(json.loads(done.stdout.decode().strip().splitlines()[-1]))
                print(f"  round {round_number + 1}/{self.rounds} {label} done", file=sys.stderr)
        return results


def _label(repo: Path) -> str:
    try:
        head = subprocess.run(
            ["git", "-C", str(repo), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            check=True,
        )
        return f"{repo.name}@{head.stdout.decode().strip()}"
    except (OSError, subprocess.CalledProcessError):
        return repo.name


def parse_sides(script: str, description: str, rounds: int) -> tuple[Sides, argparse.Namespace]:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--repo",
        action="append",
        type=Path,
        default=[],
        help="a checkout to measure (repeat to compare; rounds are interleaved)",
    )
    parser.add_argument("--rounds", type=int, default=rounds)
    parser.add_argument(CHILD_FLAG, action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    repos = [repo.resolve() for repo in args.repo]
    return Sides(repos, args.rounds, args.child, Path(script).resolve()), args
