"""tree-sitter-bash on pipelines: is `a | b | c` slow because of the grammar or the driver?

For pipelines of 1 to 6 stages (and, for comparison, `&&` lists of the same
length) prints the median parse time with the parser reused, with a fresh parser
per parse, fed through a read callback instead of bytes, and given the line
terminated by a newline (as the walk gives it, `Walk._parse`); and, from
tree-sitter's own log, how many parse stacks were alive at once and whether a
stack hit an error that tree-sitter then tried to recover, for the line as given
and terminated.

    python bench/shell_parse.py
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import tree_sitter_bash
from tree_sitter import Language, Parser

ROUNDS = 5
PARSES = 2000
LANGUAGE = Language(tree_sitter_bash.language())


def _median_us(action: Callable[[], object]) -> float:
    rounds = []
    clock = time.perf_counter
    for _ in range(ROUNDS):
        samples = []
        for _ in range(PARSES):
            started = clock()
            action()
            samples.append(clock() - started)
        rounds.append(statistics.median(samples))
    return statistics.median(rounds) * 1e6


def _stacks(source: bytes) -> tuple[int, bool]:
    """The most parse stacks alive at once, and whether one was paused on an error."""
    parser = Parser(LANGUAGE)
    most, errored = 1, False

    def log(_: object, message: str) -> None:
        nonlocal most, errored
        if "version_count:" in message:
            most = max(most, int(message.split("version_count:")[1].split(",")[0]))
        errored = errored or message.startswith("detect_error")

    parser.logger = log
    parser.parse(source)
    return most, errored


def main() -> None:
    reused = Parser(LANGUAGE)
    print("tree-sitter-bash parse time, µs (medians); stacks = GLR versions alive at once")
    print(
        f"{'command':34} {'reused':>8} {'fresh':>8} {'callback':>9} {'terminated':>11}"
        f" {'stacks':>7} {'error':>6} {'stacks+nl':>10} {'error+nl':>9}"
    )
    words = ["cat x", "grep y", "sort", "uniq -c", "head -5", "wc -l"]
    for joiner in (" | ", " && "):
        for count in range(1, len(words) + 1):
            command = joiner.join(words[:count])
            data = command.encode()
            chunk = len(data)
            reuse = _median_us(lambda data=data: reused.parse(data))
            fresh = _median_us(lambda data=data: Parser(LANGUAGE).parse(data))
            callback = _median_us(
                lambda data=data, chunk=chunk: reused.parse(lambda at, _: data[at : at + chunk])
            )
            terminated = _median_us(lambda data=data: reused.parse(data + b"\n"))
            most, errored = _stacks(data)
            most_nl, errored_nl = _stacks(data + b"\n")
            print(
                f"{command[:34]:34} {reuse:8.1f} {fresh:8.1f} {callback:9.1f} {terminated:11.1f} "
                f"{most:7d} {'yes' if errored else 'no':>6} "
                f"{most_nl:10d} {'yes' if errored_nl else 'no':>9}"
            )


if __name__ == "__main__":
    main()
