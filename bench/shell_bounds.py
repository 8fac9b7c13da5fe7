"""Parse time of the worst shell text each structural bound still accepts.

For every shape (long pipelines, `&&` chains, many `;`, deep `$( )`, deep
subshells, many here-documents, redirections, words, quotes, `case` items...)
the text at its bound is parsed with `ShellParser.parse` (tree-sitter plus the
walk); the figure is the median of several rounds, beside an ordinary command
measured in the same run, and the cost of the bounds check itself. Then the
same for text far past the bounds (never parsed: "too large to analyse").

    python bench/shell_bounds.py
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

from tether.core.safety.shell import ShellParser
from tether.core.safety.shell_bounds import BOUNDS, exceeded_bound

ROUNDS = 15
B = BOUNDS
SHAPES: list[tuple[str, Callable[[int], str], int]] = [
    ("pipeline", lambda n: "cat | " * n + "ls -l", B.pipes),
    ("pipeline |&", lambda n: "cat |& " * n + "ls -l", B.pipes),
    ("&& chain", lambda n: "true && " * n + "ls -l", B.separators),
    ("|| chain", lambda n: "false || " * n + "ls -l", B.separators),
    ("; list", lambda n: "ls -l; " * n, B.separators),
    ("newlines", lambda n: "ls -l\n" * n, B.separators),
    ("& list", lambda n: "sleep 1 & " * n + "ls", B.separators),
    ("case items", lambda n: "case x in " + "a) ls;; " * n + "esac", B.separators),
    ("nested if", lambda n: "if true; then " * n + "ls; " + "fi; " * n, B.separators // 2 - 1),
    ("functions", lambda n: "f(){ ls; }; " * n, B.separators // 2),
    ("words", lambda n: "ls" + " -l" * n, B.words),
    ("double-quoted words", lambda n: "echo" + ' "a"' * n, B.words),
    ("here-documents", lambda n: "cat " + "<<E\nx\nE\n" * n, B.heredocs),
    ("redirections", lambda n: "ls" + " >a" * n, B.redirections),
    ("$( ) side by side", lambda n: "echo" + " $(ls)" * n, B.substitutions),
    ("<( ) side by side", lambda n: "cat" + " <(ls -l)" * n, B.substitutions),
    ("$x expansions", lambda n: "echo " + "$a" * n, B.expansions),
    ("nested $( )", lambda n: "echo " + "$(" * n + "ls" + ")" * n, B.depth),
    ("nested ( )", lambda n: "( " * n + "ls" + " )" * n, B.depth),
    ("nested { }", lambda n: "{ " * n + "ls; " + "}; " * n, B.depth),
    ("nested ${ }", lambda n: "echo " + "${a:-" * n + "x" + "}" * n, B.depth),
    ("16 KB here-document", lambda n: "cat <<'E'\n" + "a line of text\n" * n + "E\n", 1000),
    ("16 KB single-quoted", lambda n: "echo '" + "text " * n + "'", 3200),
]
HUGE = [
    ("33,000-stage pipeline (99 KB)", "ls|" * 33_000 + "ls -l"),
    ("12,000 here-documents", "cat " + "<<E\nx\nE\n" * 12_000),
    ("49,000-deep subshells", "(" * 49_000 + "ls" + ")" * 49_000),
]


def _median_ms(parser: ShellParser, text: str) -> float:
    times = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        parser.parse(text)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def _check_ms(text: str) -> float:
    times = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        exceeded_bound(text)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    parser = ShellParser()
    baseline = _median_ms(parser, "git status && ls -la | head -n 5")
    print(f"shell bounds bench: medians of {ROUNDS} rounds")
    print(f"  baseline `git status && ls -la | head -n 5`: {baseline:.3f} ms")
    print(
        f"  {'shape at its bound':<28} {'chars':>6} {'parse ms':>9} {'x base':>7} {'check ms':>9}"
    )
    for name, shape, n in SHAPES:
        text = shape(n)
        assert exceeded_bound(text) is None, name
        ms = _median_ms(parser, text)
        print(
            f"  {name:<28} {len(text):>6} {ms:>9.2f} {ms / baseline:>7.0f} {_check_ms(text):>9.3f}"
        )
    print(f"  {'past the bounds':<28} {'chars':>6} {'parse ms':>9} {'x base':>7}")
    for name, text in HUGE:
        ms = _median_ms(parser, text)
        print(f"  {name:<28} {len(text):>6} {ms:>9.2f} {ms / baseline:>7.0f}")


if __name__ == "__main__":
    main()
