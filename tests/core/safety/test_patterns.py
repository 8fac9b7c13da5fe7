"""Policy patterns: regexes that cannot freeze the loop, and globs matched without backtracking."""

from __future__ import annotations

import re

import pytest

from tether.core.safety.patterns import (
    command_glob_match,
    command_glob_problem,
    path_glob_match,
    path_glob_problem,
    regex_problem,
)

P = pytest.param


@pytest.mark.parametrize(
    "pattern",
    [
        P(r"(a+)+b", id="nested-plus"),
        P(r"(a*)*b", id="nested-star"),
        P(r"(x+x+)+y", id="nested-sequence"),
        P(r"(\w+\s?)*$", id="nested-word-space"),
        P(r"((ab)*)+c", id="nested-groups"),
        P(r"(?:a{1,5})+", id="nested-bounded-count"),
        P(r"(a|a)*", id="same-alternatives"),
        P(r"(a|b)*c", id="group-under-unbounded-quantifier"),
        P(r"(ab)+c", id="sequence-under-unbounded-quantifier"),
        P(r"(a|ab)*c", id="overlapping-prefix-alternatives"),
        P(r"(ab|a.)*c", id="dot-overlaps-literal"),
        P(r"(a|)*", id="empty-alternative"),
        P(r"(.*)*", id="star-of-star"),
        P(r"(a?)+", id="optional-body"),
        P(r"(?:)*x", id="empty-group-star"),
        P(r".*a.*b", id="two-dot-stars"),
        P(r"\s*\s*$", id="adjacent-stars"),
        P(r"\w+\d+\w+!", id="overlapping-classes"),
        P(r"x(?:.*)?.*y", id="optional-star-then-star"),
        P(r"(a)\1", id="backreference"),
        P(r"(?P<x>a)(?P=x)", id="named-backreference"),
        P(r"(a)?(?(1)b|c)", id="conditional-group"),
        P(r"a{1,100000}", id="huge-upper-count"),
        P(r"a{5000}", id="huge-exact-count"),
        P(r"(", id="unbalanced"),
        P(r"[z-a]", id="bad-range"),
        P("a" * 1001, id="too-long"),
    ],
)
def test_dangerous_or_invalid_regexes_are_refused(pattern: str) -> None:
    assert regex_problem(pattern) is not None


@pytest.mark.parametrize(
    "pattern",
    [
        P(r"^\S+ (--version|-V|-v|-version|version)$", id="preset-version-query"),
        P(r"\bgit\s+push\b", id="word-boundaries"),
        P(r"^rm\s", id="anchored-prefix"),
        P(r"\d+\.\d+", id="split-by-literal"),
        P(r"[a-z]+@[a-z]+\.com", id="email-like"),
        P(r"--force(-with-lease)?\b", id="optional-suffix"),
        P(r"^docker compose (up|down)\b", id="alternation-no-quantifier"),
        P(r"a{3,10}", id="small-count"),
        P(r"[ab]*c", id="class-under-star"),
        P(r"(ab){1,3}c", id="group-under-bounded-count"),
    ],
)
def test_ordinary_regexes_pass(pattern: str) -> None:
    assert regex_problem(pattern) is None
    re.compile(pattern)


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        P("*.pem", "/home/u/keys/server.PEM", True, id="basename-any-directory"),
        P("src/**", "/p/src/a/b.py", True, id="double-star-spans"),
        P("src/**", "/p/lib/a.py", False, id="other-directory"),
        P("/etc/**", "/etc/passwd", True, id="anchored"),
        P("/etc/**", "/home/etc/x", False, id="anchored-not-inside"),
        P("**/.git/hooks/**", "/p/.git/hooks/pre-commit", True, id="hooks"),
        P("src/*.py", "/p/src/sub/a.py", False, id="star-stays-in-segment"),
        P("a?c", "/x/abc", True, id="question-mark"),
        P("[!a]bc", "/x/xbc", True, id="negated-class"),
        P("docs/", "/p/docs/", True, id="trailing-slash"),
    ],
)
def test_path_globs(pattern: str, path: str, expected: bool) -> None:
    assert path_glob_match(pattern, path) is expected


def test_many_double_stars_on_a_deep_path() -> None:
    path = "/" + "/".join(["a"] * 500) + "/b"
    assert not path_glob_match("**/a/**/a/**/a/**/c", path)
    assert path_glob_match("**/a/**/a/**/a/**/b", path)


@pytest.mark.parametrize(
    "pattern", [P("", id="empty"), P("a\x00b", id="nul"), P("*" * 40, id="many-wildcards")]
)
def test_bad_path_globs_are_refused(pattern: str) -> None:
    assert path_glob_problem(pattern) is not None


@pytest.mark.parametrize(
    ("pattern", "words", "expected"),
    [
        P("npm run *", ["npm", "run", "build"], True, id="star-one-word"),
        P("npm run *", ["npm", "run"], True, id="star-no-word"),
        P("npm run *", ["npm", "install"], False, id="other-subcommand"),
        P("docker compose up", ["docker", "compose", "up"], True, id="exact"),
        P("docker compose up", ["docker", "compose", "up", "-d"], False, id="exact-no-extra"),
        P("docker compose up *", ["docker", "compose", "up", "-d"], True, id="exact-plus-args"),
        P("pytest *", ["pytest", "-k", "x y"], True, id="quoted-word-is-one"),
        P("make test-*", ["make", "test-unit"], True, id="star-inside-word"),
        P("ls *", ["lsblk"], False, id="program-is-whole-word"),
    ],
)
def test_command_globs_match_word_by_word(pattern: str, words: list[str], expected: bool) -> None:
    assert command_glob_match(pattern, words) is expected


@pytest.mark.parametrize(
    "pattern",
    [
        P("", id="empty"),
        P("* run", id="wildcard-program"),
        P("ls && rm", id="shell-operator"),
        P("echo $HOME", id="variable"),
        P("echo 'x'", id="quotes"),
        P("ls > out", id="redirection"),
    ],
)
def test_bad_command_globs_are_refused(pattern: str) -> None:
    assert command_glob_problem(pattern) is not None
