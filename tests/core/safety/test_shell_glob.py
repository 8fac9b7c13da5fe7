"""shell_glob: one glob segment read as bash and glibc's fnmatch read it."""

from __future__ import annotations

import ctypes
import ctypes.util
import random
from pathlib import Path

import pytest

from tether.core.safety.analyzer import PathAnalyzer
from tether.core.safety.sandbox import _expand_glob
from tether.core.safety.shell_glob import Reading, matcher
from tether.core.safety.tree_reads import Walk, _reads

P = pytest.param


def _all(pattern: str, name: str, *, escapes: bool = True) -> tuple[bool, bool, bool]:
    return (
        matcher(pattern, Reading.NARROW, escapes=escapes)(name) is not None,
        matcher(pattern, Reading.WIDE, escapes=escapes)(name) is not None,
        matcher(pattern, Reading.UNQUOTED, escapes=escapes)(name) is not None,
    )


@pytest.mark.parametrize(
    ("pattern", "name"),
    [
        P(".[^x]nv", ".env", id="caret-negates"),
        P(".[!x]nv", ".env", id="bang-negates"),
        P(".[[:alpha:]]nv", ".env", id="alpha"),
        P(".[[:lower:]]nv", ".env", id="lower"),
        P(".[^[:digit:]]nv", ".env", id="negated-class"),
        P(".[[:alnum:]_]nv", ".env", id="class-and-member"),
        P("[]x]", "]", id="bracket-first-literal"),
        P("[^]x]", "e", id="negated-bracket-first"),
        P(".[a-f]nv", ".env", id="range"),
        P(r".[\]e]nv", ".env", id="escaped-bracket"),
        P(r"\.env", ".env", id="escaped-dot"),
        P("[[:punct:]]", "-", id="punct"),
        P("[[:space:]]", "\t", id="space"),
        P("[[:xdigit:]]", "F", id="xdigit"),
    ],
)
def test_sure_matches_are_matched_in_every_reading(pattern: str, name: str) -> None:
    assert _all(pattern, name) == (True, True, True)


@pytest.mark.parametrize(
    ("pattern", "name"),
    [
        P(".[^e]nv", ".env", id="caret-excludes"),
        P(".[!e]nv", ".env", id="bang-excludes"),
        P(".[[:digit:]]nv", ".env", id="digit"),
        P("[[:upper:]]", "e", id="upper-is-not-lower"),
        P("[[:alpha:]]", "]", id="class-is-not-a-set-and-bracket"),
        P("[b-d]", "e", id="outside-range"),
    ],
)
def test_sure_misses_are_missed_as_written(pattern: str, name: str) -> None:
    assert _all(pattern, name) == (False, False, False)


@pytest.mark.parametrize(
    ("pattern", "name"),
    [
        P(".[[=e=]]nv", ".env", id="equivalence-class"),
        P("[[.i.]]d_rsa", "id_rsa", id="collating-symbol"),
        P(".[[:word:]]nv", ".env", id="bash-only-class"),
        P(".[[:nosuch:]]nv", ".env", id="unknown-class"),
        P(".[A-z]nv", ".env", id="range-across-cases"),
        P(".[z-a]nv", ".env", id="reversed-range"),
        P(".[[.d.]-f]nv", ".env", id="range-from-symbol"),
        P(".[x-[:alpha:]]nv", ".env", id="range-to-class"),
    ],
)
def test_what_the_locale_decides_may_match_but_surely_matches_nothing_more(
    pattern: str, name: str
) -> None:
    """Uncertain brackets: a credential test and an include read them as matching, an
    exclude as not."""
    narrow, wide, unquoted = _all(pattern, name)
    assert wide and unquoted
    if "[=" not in pattern and "[." not in pattern:
        assert not narrow


def test_an_unquoted_reading_also_matches_the_bracket_as_literal_text() -> None:
    """The parser hands `'[x]'*` over as `[x]*`: bash then expands to `[x]y`."""
    assert matcher("[x]*", Reading.UNQUOTED)("[x]y") is not None
    assert matcher("[x]*", Reading.WIDE)("[x]y") is None


def test_a_backslash_is_a_character_where_quotes_are_already_removed() -> None:
    assert matcher(r"a\*", Reading.NARROW, escapes=False)("a\\bc") is not None
    assert matcher(r"a\*", Reading.NARROW, escapes=True)("a\\bc") is None


@pytest.mark.parametrize(
    "pattern",
    [".[^x]nv", ".[[:alpha:]]nv", ".[[=e=]]nv", "[^x]d_rsa", "[[.i.]]d_rsa", ".[^A-Z]nv"],
)
def test_credential_test_of_a_glob_reads_bash_brackets(pattern: str) -> None:
    assert PathAnalyzer().credential_reason(pattern, glob=True) is not None


@pytest.mark.parametrize("pattern", ["src/[a-z]*.py", "src/[^_]*.py", "[[:upper:]]*.md"])
def test_ordinary_bracket_globs_are_no_credential(pattern: str) -> None:
    assert PathAnalyzer().credential_reason(pattern, glob=True) is None


def test_expansion_finds_what_bash_would(tmp_path: Path) -> None:
    for name in (".env", "innocent.txt", "app.py", "[x]y"):
        (tmp_path / name).write_text("x")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.py").write_text("x")
    root = str(tmp_path)
    assert set(_expand_glob(".[^x]nv", root)) == {".env"}
    assert set(_expand_glob("[^x]nnocent.txt", root)) == {"innocent.txt"}
    assert set(_expand_glob("[[:alpha:]]*", root)) >= {"innocent.txt", "app.py", "sub"}
    assert ".env" not in set(_expand_glob("[^x]*", root))  # a dot is matched only by a dot
    assert set(_expand_glob("[x]*", root)) == {"[x]y"}  # the bracket may have been quoted
    assert set(_expand_glob("s[[:lower:]]b/*.py", root)) == {"sub/a.py"}
    assert set(_expand_glob("*/", root)) == {"sub/"}


def test_walk_include_and_exclude_fail_closed() -> None:
    def walk(include: tuple[str, ...] = (), exclude: tuple[str, ...] = ()) -> Walk:
        return Walk(contents=True, follow="none", include=include, exclude=exclude)

    assert _reads(walk(include=(".[^x]nv",)), ".env")
    assert _reads(walk(include=(".[[=x=]]nv",)), ".env")  # may include it
    assert _reads(walk(exclude=("[^.]*",)), ".env")
    assert _reads(walk(exclude=(".[[=x=]]nv",)), ".env")  # surely excludes nothing sure
    assert not _reads(walk(exclude=(".[[:alpha:]]nv",)), ".env")
    assert not _reads(walk(include=("*.py",)), ".env")


def _glibc_fnmatch() -> ctypes._CFuncPtr | None:  # type: ignore[name-defined]
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        function = ctypes.CDLL(name).fnmatch
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_int]
    return function


def test_readings_bound_glibc_fnmatch() -> None:
    """On random patterns, what NARROW matches glibc matches, and what glibc matches WIDE
    matches (in the process's locale, the C locale unless set)."""
    fnmatch = _glibc_fnmatch()
    if fnmatch is None:
        pytest.skip("no C library with fnmatch")
    pieces = [*"aeZE.-]^![:=\\*?x0_ é", "[:alpha:]", "[:upper:]", "[=e=]", "[.e.]", "[:word:]"]
    names = [*"aAeEzZ.-]^![:=\\x0_ é\t", "ab", ".env"]
    generator = random.Random(27)
    for _ in range(800):
        pattern = "".join(generator.choice(pieces) for _ in range(generator.randint(1, 6)))
        if generator.random() < 0.5:
            pattern = "[" + pattern
        name = generator.choice(names)
        answer = fnmatch(pattern.encode(), name.encode(), 0)
        if answer not in (0, 1):
            continue  # an error: glibc matches nothing, and neither reading is bound by it
        glibc = answer == 0
        wide = matcher(pattern, Reading.WIDE, escapes=True)(name) is not None
        narrow = matcher(pattern, Reading.NARROW, escapes=True)(name) is not None
        assert wide or not glibc, (pattern, name)
        assert glibc or not narrow, (pattern, name)
