"""Structural bounds before parsing: huge or deep shell text never crashes, stalls or is allowed."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tether.core.safety.pipeline import SafetyPipeline
from tether.core.safety.policy import Action
from tether.core.safety.shell import ShellParser
from tether.core.safety.shell_bounds import (
    BOUNDS,
    ShellBounds,
    _Scan,
    exceeded_bound,
    within_by_count,
)
from tether.core.safety.tools import MAX_COMMAND_CHARS

# These tests time things: a collector pause would be charged to them (`no_collector_pauses`).
pytestmark = pytest.mark.usefixtures("no_collector_pauses")

# Generous: a bounded parse takes milliseconds; this only catches a blow-up
# (before the bounds, 4,000 pipeline stages took over a second).
_BOUNDED_SECONDS = 1.0

Shape = Callable[[int], str]

# Each shape with the bound that limits it: `shape(n)` has n of the counted thing.
SHAPES: list[tuple[str, Shape, int]] = [
    ("pipeline", lambda n: "cat | " * n + "ls -l", BOUNDS.pipes),
    ("pipeline-compact", lambda n: "ls|" * n + "ls -l", BOUNDS.pipes),
    ("stray-closers", lambda n: ")" * n, BOUNDS.unmatched),
    ("stray-closers-after-words", lambda n: "a)" * n, BOUNDS.unmatched),
    ("pipeline-stderr", lambda n: "cat |& " * n + "ls -l", BOUNDS.pipes),
    ("and-chain", lambda n: "true && " * n + "ls -l", BOUNDS.separators),
    ("or-chain", lambda n: "false || " * n + "ls -l", BOUNDS.separators),
    ("semicolons", lambda n: "ls -l; " * n, BOUNDS.separators),
    ("newlines", lambda n: "ls -l\n" * n, BOUNDS.separators),
    ("background", lambda n: "sleep 1 & " * n + "ls", BOUNDS.separators),
    ("case-items", lambda n: "case x in " + "a) ls;; " * n + "esac", BOUNDS.separators),
    ("words", lambda n: "ls" + " -l" * n, BOUNDS.words),
    ("quoted-words", lambda n: "echo" + ' "a"' * n, BOUNDS.words),
    ("array", lambda n: "a=(" + "x " * n + ")", BOUNDS.words),
    ("heredocs", lambda n: "cat " + "<<E\nx\nE\n" * n, BOUNDS.heredocs),
    ("redirections", lambda n: "ls" + " >a" * n, BOUNDS.redirections),
    ("substitutions", lambda n: "echo" + " $(ls)" * n, BOUNDS.substitutions),
    ("backticks", lambda n: "echo" + " `ls`" * n, BOUNDS.substitutions),
    ("process-substitutions", lambda n: "cat" + " <(ls)" * n, BOUNDS.substitutions),
    ("expansions", lambda n: "echo " + "$a" * n, BOUNDS.expansions),
    ("nested-substitution", lambda n: "echo " + "$(" * n + "ls" + ")" * n, BOUNDS.depth),
    ("nested-subshell", lambda n: "(" * n + "ls" + ")" * n, BOUNDS.depth),
    ("nested-group", lambda n: "{ " * n + "ls; " + "}; " * n, BOUNDS.depth),
    ("nested-expansion", lambda n: "echo " + "${a:-" * n + "x" + "}" * n, BOUNDS.depth),
    (
        "nested-quoted-substitution",
        lambda n: 'echo "' + '$(echo "' * ((n - 1) // 2) + "x" + '")' * ((n - 1) // 2) + '"',
        BOUNDS.depth,
    ),
    (
        "nested-arithmetic",
        lambda n: "echo $((" + "(" * (n - 1) + "1" + ")" * (n - 1) + "))",
        BOUNDS.depth,
    ),
    ("nested-if", lambda n: "if true; then " * n + "ls; " + "fi; " * n, BOUNDS.separators // 2 - 1),
    (
        "nested-while",
        lambda n: "while true; do " * n + "ls; " + "done; " * n,
        BOUNDS.separators // 2 - 1,
    ),
    ("functions", lambda n: "f(){ ls; }; " * n, BOUNDS.separators // 2),
]
SHAPE_PARAMS = [pytest.param(shape, limit, id=name) for name, shape, limit in SHAPES]

# The worst of each shape that fits within the size bound alone (no structural bound).
HUGE: list[tuple[str, str]] = [
    ("pipeline-33k-stages", "ls|" * 33_000 + "ls -l"),
    ("stray-closers-16k", ")" * 16_000),
    ("pipeline-99k-chars", ("a -x|" * 20_000)[: MAX_COMMAND_CHARS - 10] + "ls -l"),
    ("semicolons", "ls;" * 33_000),
    ("and-chain", "a&&" * 33_000),
    ("subshells-49k-deep", "(" * 49_000 + "ls" + ")" * 49_000),
    ("substitutions-16k-deep", "echo " + "$(" * 16_000 + "ls" + ")" * 16_000),
    ("backticks-escaped", "echo " + "\\`" * 40_000),
    ("heredocs-12k", "cat " + "<<E\nx\nE\n" * 12_000),
    ("words-33k", "ls " + "-l " * 33_000),
    ("quotes-24k", "echo " + '"a" ' * 24_000),
    ("single-quotes-unclosed", "echo '" + "a|" * 40_000),
    ("case-items-12k", "case x in " + "a) ls;; " * 12_000 + "esac"),
    ("braces-deep", "{ " * 30_000 + "ls"),
    ("expansions-deep", "echo " + "${a:-" * 19_000),
    ("arithmetic-deep", "echo $((" + "(" * 90_000),
    ("redirections-33k", "ls " + ">a " * 33_000),
    ("one-huge-word", "echo " + "a" * 99_000),
    ("one-huge-heredoc", "cat <<'EOF'\n" + "line of text\n" * 7_000 + "EOF\n"),
]
HUGE_PARAMS = [pytest.param(text, id=name) for name, text in HUGE]


def _timed_parse(parser: ShellParser, text: str) -> tuple[float, list[str]]:
    start = time.perf_counter()
    script = parser.parse(text)
    return time.perf_counter() - start, list(script.problems)


class TestBoundsByShape:
    @pytest.mark.parametrize(("shape", "limit"), SHAPE_PARAMS)
    def test_at_the_bound_it_is_parsed_past_it_it_is_too_large(
        self, shape: Shape, limit: int
    ) -> None:
        assert exceeded_bound(shape(limit)) is None
        over = exceeded_bound(shape(limit * 2 + 2))
        assert over is not None and "the limit is" in over

    @pytest.mark.parametrize(("shape", "limit"), SHAPE_PARAMS)
    def test_the_worst_accepted_text_of_each_shape_parses_quickly(
        self, shell_parser: ShellParser, shape: Shape, limit: int
    ) -> None:
        text = shape(limit)
        elapsed, problems = _timed_parse(shell_parser, text)
        assert elapsed < _BOUNDED_SECONDS
        assert not any("too large" in p for p in problems)

    @pytest.mark.parametrize(
        ("text", "phrase"),
        [
            pytest.param("x" * (BOUNDS.chars + 1), "characters", id="size"),
            pytest.param("ls|" * 40, "pipeline stages", id="pipes"),
            pytest.param("ls;" * 70, "command separators", id="separators"),
            pytest.param("cat " + "<<E\nx\nE\n" * 9, "here-documents", id="heredocs"),
            pytest.param("$(" * 17 + "ls" + ")" * 17, "nesting deeper than 16", id="depth"),
            pytest.param("echo " + "$x" * 300, "`$` expansions", id="expansions"),
            pytest.param("echo '" + "|" * 1100 + "'", "quoted or here-document", id="opaque"),
            pytest.param("ls " + ")" * 200, "`)` closing nothing", id="unmatched"),
        ],
    )
    def test_the_reason_names_what_was_too_large(self, text: str, phrase: str) -> None:
        over = exceeded_bound(text)
        assert over is not None and phrase in over

    def test_custom_bounds_apply(self) -> None:
        assert exceeded_bound("ls | wc", ShellBounds(pipes=0)) is not None
        assert exceeded_bound("ls | wc", ShellBounds(pipes=1)) is None


ORDINARY = [
    pytest.param("ls -la", id="plain"),
    pytest.param("git status && git diff --stat | tail -n 5", id="chain"),
    pytest.param(
        "git commit -m \"$(cat <<'EOF'\nFix: a | b; c && d\n\nBody (with parens) `ticks`\nEOF\n)\"",
        id="commit-heredoc",
    ),
    pytest.param("python3 - <<'PY'\n" + "print('x|y;z')\n" * 400 + "PY\n", id="python-heredoc"),
    pytest.param("awk '{ print $1; print $2 }' f | sort | uniq -c | sort -rn | head", id="awk"),
    pytest.param("grep -E 'a|b|c|d|e|f' -r src", id="regex-alternation"),
    pytest.param("echo $((1 << 4)) && echo done", id="shift-is-not-a-heredoc"),
    pytest.param("# it's a comment\nls", id="quote-in-comment"),
    pytest.param("echo $'it\\'s' | wc -c", id="ansi-c-quote"),
    pytest.param("find . -name '*.py' -exec grep -l x {} \\; | xargs wc -l", id="find-exec"),
    pytest.param('for f in *.py; do echo "$f"; done', id="for-loop"),
    pytest.param("case $x in a|b) echo ab;; *) echo other;; esac", id="case"),
    pytest.param("cat <<-EOF\n\tindented | text\n\tEOF\necho after", id="heredoc-dash"),
    pytest.param("x=$(git rev-parse HEAD); echo ${x:0:7}", id="substring"),
    pytest.param("ls >out 2>&1 &>all <in", id="redirections"),
]


class TestOrdinaryCommands:
    @pytest.mark.parametrize("text", ORDINARY)
    def test_ordinary_commands_are_within_the_bounds(self, text: str) -> None:
        assert exceeded_bound(text) is None

    def test_a_heredoc_body_is_data_not_structure(self) -> None:
        body = "a | b ; c && d\n" * 200
        assert exceeded_bound(f"cat <<'EOF'\n{body}EOF\n") is None
        # The same lines as code are far past the bounds.
        assert exceeded_bound(body) is not None


class TestHugeInput:
    """Past the bounds the parser never runs: the call asks, quickly, and the process lives."""

    @pytest.mark.parametrize("text", HUGE_PARAMS)
    def test_huge_text_is_too_large_and_fast(self, shell_parser: ShellParser, text: str) -> None:
        elapsed, problems = _timed_parse(shell_parser, text)
        assert elapsed < _BOUNDED_SECONDS
        assert any("too large to analyse" in p for p in problems)

    @pytest.mark.parametrize("text", HUGE_PARAMS)
    def test_huge_text_asks_and_is_never_allowed(
        self, shared_pipelines: dict[str, SafetyPipeline], text: str
    ) -> None:
        for name in ("default", "permissive"):
            verdict = shared_pipelines[name].decide("Bash", {"command": text})
            assert verdict.decision is not Action.ALLOW, name
            assert "not_understood" in verdict.risk_facts

    def test_the_person_is_told_it_is_too_large(
        self, shared_pipelines: dict[str, SafetyPipeline]
    ) -> None:
        verdict = shared_pipelines["default"].decide("Bash", {"command": "ls|" * 33_000 + "ls"})
        assert verdict.decision is Action.REQUIRE_APPROVAL
        assert "could not fully analyse" in verdict.reason
        assert "too large to analyse: 99,002 characters (the limit is 16,384)" in verdict.reason
        shorter = shared_pipelines["default"].decide("Bash", {"command": "ls|" * 40 + "ls"})
        assert "too large to analyse: more than 24 pipeline stages" in shorter.reason

    @pytest.mark.parametrize(
        "text",
        [
            pytest.param("ls|" * 33_000 + "rm -rf /", id="deny-at-the-end"),
            pytest.param("rm -rf / ; " + "ls;" * 30_000, id="deny-at-the-start"),
            pytest.param(
                "ls|" * 15_000 + "rm -rf ~ |" + "ls|" * 15_000 + "ls", id="deny-in-the-middle"
            ),
            pytest.param("(" * 40_000 + "rm -rf /" + ")" * 40_000, id="deny-deep-inside"),
            pytest.param("echo " + "$(" * 300 + "mkfs.ext4 /dev/sda" + ")" * 300, id="disk"),
            pytest.param(
                "cat" + " <<E" * 20 + "\n" + "x\nE\n" * 20 + "dd if=/dev/zero of=/dev/sda",
                id="dd-after-heredocs",
            ),
        ],
    )
    def test_a_hard_deny_part_found_by_the_cheap_scan_denies(
        self, shared_pipelines: dict[str, SafetyPipeline], text: str
    ) -> None:
        assert exceeded_bound(text) is not None
        start = time.perf_counter()
        verdict = shared_pipelines["default"].decide("Bash", {"command": text})
        assert time.perf_counter() - start < _BOUNDED_SECONDS
        assert verdict.decision is Action.DENY

    def test_the_largest_valid_input_stays_bounded(self, shell_parser: ShellParser) -> None:
        text = ("ls|" * 40_000)[: MAX_COMMAND_CHARS - 5] + "ls -l"
        elapsed, problems = _timed_parse(shell_parser, text)
        assert elapsed < _BOUNDED_SECONDS and problems

    def test_nested_shell_code_is_bounded_too(self, shell_parser: ShellParser) -> None:
        inner = "ls;" * 200
        script = shell_parser.parse(f"bash -c '{inner}'")
        assert any("too large to analyse" in p for p in script.problems)


def test_the_process_survives_the_reported_crash(tmp_path: Path) -> None:
    """The input that crashed the process (SIGSEGV, 3.2 GB) is now a quick question."""
    command = "ls|" * 33_000 + "ls -l"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "tether",
            "check",
            "--dir",
            str(tmp_path),
            "--json",
            "--command",
            command,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-500:]
    assert json.loads(result.stdout)["decision"] == "require_approval"


# -- generated input ------------------------------------------------------------------

_TOKENS = [
    "ls",
    "-l",
    " ",
    " ",
    "\n",
    "|",
    "|&",
    "||",
    "&&",
    ";",
    ";;",
    "&",
    "(",
    ")",
    "$(",
    "`",
    "{",
    "}",
    "${",
    "$((",
    "))",
    "[[",
    "]]",
    "'",
    '"',
    "\\",
    "$'",
    "<<",
    "<<-",
    "<<<",
    "E",
    "\nE\n",
    ">",
    "<",
    ">&",
    "2>",
    "<(",
    "#",
    "$x",
    "case x in ",
    "esac",
    "rm -rf /",
    "=",
]
_SHELLISH = st.lists(st.sampled_from(_TOKENS), max_size=300).map("".join)
_REPEATED = st.tuples(
    st.lists(st.sampled_from(_TOKENS), min_size=1, max_size=6).map("".join),
    st.integers(min_value=1, max_value=6000),
    st.lists(st.sampled_from(_TOKENS), max_size=6).map("".join),
).map(lambda t: (t[0] * t[1])[: BOUNDS.chars * 2] + t[2])
_SETTINGS = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    database=None,
)


class TestGenerated:
    @_SETTINGS
    @given(text=_SHELLISH | _REPEATED | st.text(max_size=2000))
    def test_any_text_parses_in_bounded_time_without_raising(
        self, shell_parser: ShellParser, text: str
    ) -> None:
        elapsed, _ = _timed_parse(shell_parser, text)
        assert elapsed < _BOUNDED_SECONDS

    @_SETTINGS
    @given(text=_REPEATED)
    def test_text_past_the_bounds_is_never_allowed(
        self, shared_pipelines: dict[str, SafetyPipeline], text: str
    ) -> None:
        if exceeded_bound(text) is None or "\x00" in text:
            return
        verdict = shared_pipelines["permissive"].decide("Bash", {"command": text})
        assert verdict.decision is not Action.ALLOW

    @_SETTINGS
    @given(text=_SHELLISH | _REPEATED)
    def test_the_scan_costs_little_whatever_the_text(self, text: str) -> None:
        start = time.perf_counter()
        exceeded_bound(text)
        assert time.perf_counter() - start < 0.05


class TestCharactersTheParserCannotRead:
    """tree-sitter-bash crashes the process on some code points beyond the BMP."""

    def test_the_crashing_text_is_never_parsed_and_the_process_survives(self) -> None:
        # In a child process: if this regressed, the crash must not take the test run down.
        program = (
            "from tether.core.safety.shell import ShellParser\n"
            "print(ShellParser().parse('{\\U000d49cb%%\\U000a97ad').problems)\n"
        )
        done = subprocess.run(
            [sys.executable, "-c", program], capture_output=True, text=True, timeout=30, check=False
        )
        assert done.returncode == 0, done.stderr
        assert "cannot read safely (U+D49CB)" in done.stdout

    @pytest.mark.parametrize(
        "text",
        [
            pytest.param("Ug,\U00097c87{\U0010070dVu\U00091855_", id="unassigned"),
            pytest.param("{\U000f0000}", id="private-use"),
            pytest.param('echo "done \U0001f389"', id="emoji"),
            pytest.param("ls \U00010000", id="first-astral"),
        ],
    )
    def test_text_beyond_the_bmp_is_not_parsed(self, text: str) -> None:
        assert exceeded_bound(text) is not None

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            pytest.param('echo "\U0001f389"', Action.REQUIRE_APPROVAL, id="harmless-asks"),
            pytest.param('echo "\U0001f389"; rm -rf /', Action.DENY, id="a-denial-still-denies"),
            pytest.param("ls \u00e9t\u00e9 \u4e00", Action.ALLOW, id="bmp-text-is-parsed"),
        ],
    )
    def test_the_call_asks_unless_the_scan_finds_a_denial(
        self, shared_pipelines: dict[str, SafetyPipeline], text: str, expected: Action
    ) -> None:
        verdict = shared_pipelines["default"].decide("Bash", {"command": text})
        assert verdict.decision is expected


# Small bounds, so that generated text falls on both sides of every one of them.
_SMALL_BOUNDS = st.builds(
    ShellBounds,
    separators=st.integers(0, 12),
    pipes=st.integers(0, 6),
    words=st.integers(0, 24),
    heredocs=st.integers(0, 3),
    redirections=st.integers(0, 6),
    substitutions=st.integers(0, 6),
    depth=st.integers(0, 6),
    opaque_separators=st.integers(0, 12),
    unmatched=st.integers(0, 6),
)


class TestTheCountingShortcut:
    """`within_by_count` skips the lexical scan only when the scan would find nothing."""

    @settings(max_examples=600, deadline=None, database=None)
    @given(
        text=_SHELLISH | st.text(alphabet="|&;<>()`\"{}[]$' \t\r\nab#-\\", max_size=80),
        bounds=_SMALL_BOUNDS,
    )
    def test_the_shortcut_never_hides_a_crossed_bound(self, text: str, bounds: ShellBounds) -> None:
        if within_by_count(text, bounds):
            assert _Scan(text, bounds).run() is None

    @settings(max_examples=300, deadline=None, database=None)
    @given(text=_SHELLISH | _REPEATED, bounds=_SMALL_BOUNDS | st.just(BOUNDS))
    def test_the_verdict_is_the_scans_verdict(self, text: str, bounds: ShellBounds) -> None:
        # Past the size, `$` and character checks the scan alone decides, shortcut or not.
        if len(text) <= bounds.chars and text.count("$") <= bounds.expansions and text.isascii():
            assert exceeded_bound(text, bounds) == _Scan(text, bounds).run()

    @settings(max_examples=400, deadline=None, database=None)
    @given(
        text=st.text(alphabet="|&;<>()`\"{}[]$' \t\r\nab#-\\", max_size=40),
        bounds=_SMALL_BOUNDS,
    )
    def test_few_counted_characters_are_within_every_bound(
        self, text: str, bounds: ShellBounds
    ) -> None:
        counted = sum(text.count(c) for c in '|&;\n \t\r()`"[{<>')
        few = min(
            bounds.pipes,
            bounds.separators,
            bounds.opaque_separators,
            bounds.words,
            2 * bounds.heredocs + 1,
            bounds.redirections,
            bounds.substitutions,
            bounds.unmatched,
            bounds.depth,
        )
        if counted <= few:
            assert within_by_count(text, bounds)
            assert _Scan(text, bounds).run() is None

    @pytest.mark.parametrize(
        "text",
        [
            pytest.param("<" * 5, id="heredocs-at-the-edge"),
            pytest.param("a|b;c&d", id="mixed-separators"),
            pytest.param("((((a))))", id="parens"),
        ],
    )
    def test_the_smallest_bound_counts_every_kind_together(self, text: str) -> None:
        bounds = ShellBounds(heredocs=2, depth=8, unmatched=8, pipes=8, separators=8)
        assert within_by_count(text, bounds)
        assert _Scan(text, bounds).run() is None

    @pytest.mark.parametrize(
        "text",
        [
            pytest.param("git status", id="short"),
            pytest.param("cd src && pytest -q", id="list"),
            pytest.param(
                "cd src && git ls-files -- '*.py' | grep -v '^tests/' | xargs wc -l | sort -rn "
                "| head -n 20 && git log --oneline --since='2 weeks ago' -- . | cut -c1-72 "
                "| head -30 && pytest -q 2>&1 | tail -n 25 | grep -E 'passed|failed' || echo none",
                id="pipeline",
            ),
        ],
    )
    def test_ordinary_commands_take_the_shortcut(self, text: str) -> None:
        assert within_by_count(text)

    @pytest.mark.parametrize(
        ("text", "bounds"),
        [
            # Each exactly one past a bound, in the spelling that packs the most per character.
            pytest.param("a|" * 3 + "b", ShellBounds(pipes=2), id="pipes"),
            pytest.param("a;" * 3, ShellBounds(separators=2), id="semicolons"),
            pytest.param("a&" * 3, ShellBounds(separators=2), id="ampersands"),
            pytest.param("a\n" * 3, ShellBounds(separators=2), id="newlines"),
            pytest.param("a " * 3, ShellBounds(words=2), id="blanks"),
            pytest.param("a\t" * 3, ShellBounds(words=2), id="tabs"),
            pytest.param("a<<E " * 3, ShellBounds(heredocs=2), id="heredocs"),
            pytest.param("a >x" * 3, ShellBounds(redirections=2), id="redirections"),
            pytest.param("a `b`" * 3, ShellBounds(substitutions=2), id="backticks"),
            pytest.param("a)" * 3, ShellBounds(unmatched=2), id="unmatched"),
            pytest.param("( " * 3 + "a" + " )" * 3, ShellBounds(depth=2), id="depth-parens"),
            pytest.param("{ " * 3 + "a", ShellBounds(depth=2), id="depth-braces"),
            pytest.param('"$(' * 3, ShellBounds(depth=2), id="depth-quoted-substitutions"),
            pytest.param("echo '" + "|" * 3 + "'", ShellBounds(opaque_separators=2), id="opaque"),
        ],
    )
    def test_one_past_a_bound_the_scan_still_runs(self, text: str, bounds: ShellBounds) -> None:
        assert not within_by_count(text, bounds)
        assert exceeded_bound(text, bounds) == _Scan(text, bounds).run() is not None


class TestTheShortTextShortcut:
    """`exceeded_bound` answers a short ASCII text with few counted characters at once."""

    @settings(
        max_examples=800,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(
        text=_SHELLISH
        | _REPEATED
        | st.text(alphabet="|&;<>()`\"{}[]$' \t\r\nab#-\\\u00e9\U0001f600", max_size=300)
    )
    def test_the_verdict_is_the_full_checks_verdict(self, text: str) -> None:
        # An equal bounds object that is not `BOUNDS` takes every check in full.
        assert exceeded_bound(text) == exceeded_bound(text, ShellBounds())

    @pytest.mark.parametrize(
        "text",
        [
            pytest.param("$" * 257, id="dollars-past-the-limit"),
            pytest.param("a" * 16_385, id="characters-past-the-limit"),
            pytest.param("echo \U0001f600", id="astral-character"),
            pytest.param("a|" * 30, id="pipes-past-the-limit"),
            pytest.param("$" * 256, id="dollars-at-the-limit"),
            pytest.param("git status", id="ordinary"),
        ],
    )
    def test_at_the_edges(self, text: str) -> None:
        assert exceeded_bound(text) == exceeded_bound(text, ShellBounds())
