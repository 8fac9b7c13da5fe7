"""The patterns policy rules are written in, with bounded matching cost.

Three kinds, each matched without a chance to freeze the event loop:

- `command_patterns` are Python regular expressions. Python's `re` backtracks
  and has no timeout, so `(a+)+b` takes time doubling with every character and
  `.*a.*b` takes cubic time. `regex_problem` is a conservative structural check
  run when a policy loads: it refuses nested quantifiers, alternations that can
  match the same text under a quantifier, quantified parts that can match
  nothing, two unbounded quantifiers over overlapping characters, backreferences
  and huge repetition counts. What it cannot analyse it refuses. The text a
  regex is searched in is also bounded (`REGEX_TEXT_LIMIT`); past it a rule is
  "uncertain" and the engine fails closed.
- `commands:` globs (`npm run *`, `docker compose up`) are matched word by
  word against a command's normalised words (`command_glob_match`).
- path globs (`src/**`, `*.pem`) are matched segment by segment
  (`path_glob_match`, or `PathGlob` compiled once), so `**` costs a table of
  segments, never backtracking.
"""

from __future__ import annotations

import fnmatch
import re
import re._constants as sre_constants  # type: ignore[import-not-found]  # no stubs for re internals
import re._parser as sre_parse  # type: ignore[import-not-found]  # the stdlib regex parser
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from typing import Any

__all__ = [
    "MAX_REPEAT_COUNT",
    "REGEX_TEXT_LIMIT",
    "CommandGlob",
    "PathGlob",
    "command_glob_match",
    "command_glob_problem",
    "path_glob_match",
    "path_glob_problem",
    "regex_problem",
]

REGEX_TEXT_LIMIT = 4096
"""The longest text a `command_patterns` regex searches; longer text fails closed."""

MAX_REPEAT_COUNT = 1000
"""The largest `{n}` / `{n,m}` count accepted in a regex."""

_MAX_PATTERN_CHARS = 1000
_MAX_GLOB_WILDCARDS = 16

_c = sre_constants
_REPEATS = {_c.MAX_REPEAT, _c.MIN_REPEAT, _c.POSSESSIVE_REPEAT}
_UNBOUNDED = _c.MAXREPEAT
_ANY_MARK = "<any>"
_ANY = frozenset({_ANY_MARK})
"""A character set standing for "could be any character" (the analysis gave up on precision)."""
_NON_ASCII = "<non-ascii>"
_CATEGORIES: dict[Any, frozenset[str]] = {
    _c.CATEGORY_DIGIT: frozenset("0123456789") | {_NON_ASCII},
    _c.CATEGORY_SPACE: frozenset(" \t\n\r\f\v") | {_NON_ASCII},
    _c.CATEGORY_WORD: frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
    | {_NON_ASCII},
}


def _overlap(first: frozenset[str], second: frozenset[str]) -> bool:
    if not first or not second:
        return False
    return _ANY_MARK in first or _ANY_MARK in second or bool(first & second)


def regex_problem(pattern: str) -> str | None:
    """Why `pattern` is unsafe or invalid as a policy regex, or None when it may be used.

    Conservative: a pattern it cannot vouch for is refused with the reason.
    """
    if len(pattern) > _MAX_PATTERN_CHARS:
        return f"it is longer than {_MAX_PATTERN_CHARS} characters"
    try:
        re.compile(pattern)
        tree = sre_parse.parse(pattern)
    except re.error as error:
        return f"it is not a valid regular expression ({error})"
    except (RecursionError, OverflowError, ValueError) as error:
        return f"it cannot be analysed ({type(error).__name__})"
    try:
        _Check().sequence(list(tree), in_repeat=False)
    except _UnsafeError as unsafe:
        return str(unsafe)
    except RecursionError:
        return "it is nested too deeply to analyse"
    return None


class _UnsafeError(Exception):
    pass


class _Check:
    """Walks a parsed regex; raises `_UnsafeError` with the first problem found."""

    def __init__(self) -> None:
        self.unbounded: list[frozenset[str]] = []

    def sequence(
        self, items: Sequence[tuple[Any, Any]], *, in_repeat: bool, required: bool = True
    ) -> None:
        for op, value in items:
            self.item(op, value, in_repeat=in_repeat, required=required)

    def item(self, op: Any, value: Any, *, in_repeat: bool, required: bool) -> None:
        if op in _REPEATS:
            self.repeat(*value, in_repeat=in_repeat)
        elif op in {_c.GROUPREF, _c.GROUPREF_EXISTS}:
            raise _UnsafeError("backreferences (`\\1`, `(?P=name)`) are not supported in policies")
        elif op in {_c.LITERAL, _c.IN, _c.NOT_LITERAL, _c.ANY}:
            if required and not in_repeat:
                # A required character an earlier unbounded quantifier cannot match ends
                # that quantifier's reach: `\d+\.\d+` splits at the dot.
                chars = _first_chars([(op, value)])
                self.unbounded = [seen for seen in self.unbounded if _overlap(chars, seen)]
        elif op is _c.SUBPATTERN:
            self.sequence(list(value[3]), in_repeat=in_repeat, required=required)
        elif op is _c.ATOMIC_GROUP:
            self.sequence(list(value), in_repeat=in_repeat, required=required)
        elif op is _c.BRANCH:
            before: list[frozenset[str]] = list(self.unbounded)
            after: list[frozenset[str]] = []
            for alternative in value[1]:
                self.unbounded = list(before)
                self.sequence(list(alternative), in_repeat=in_repeat, required=required)
                after.extend(chars for chars in self.unbounded if chars not in after)
            self.unbounded = after
        elif op in {_c.ASSERT, _c.ASSERT_NOT}:
            self.sequence(list(value[1]), in_repeat=in_repeat, required=False)

    def repeat(self, low: int, high: Any, body: Any, *, in_repeat: bool) -> None:
        if (high is not _UNBOUNDED and high > MAX_REPEAT_COUNT) or low > MAX_REPEAT_COUNT:
            raise _UnsafeError(
                f"a repetition count above {MAX_REPEAT_COUNT} makes matching slow; "
                "use a smaller count"
            )
        items = list(body)
        repeats = high is _UNBOUNDED or high > 1
        if repeats and in_repeat:
            raise _UnsafeError(
                "it nests one quantifier inside another (like `(a+)+`), which can "
                "backtrack catastrophically; write the repeated part once"
            )
        if repeats and _can_be_empty(items):
            raise _UnsafeError(
                "a quantified part can match nothing (like `(a?)*` or `(.*)*`), which "
                "can backtrack catastrophically"
            )
        if repeats:
            _check_alternatives(items)
        if high is _UNBOUNDED:
            chars = _body_chars(items)
            if any(_overlap(chars, seen) for seen in self.unbounded):
                raise _UnsafeError(
                    "two unbounded quantifiers can match the same characters (like "
                    "`.*a.*b`), which makes matching time grow polynomially; anchor the "
                    "pattern or use one quantifier"
                )
            self.unbounded.append(chars)
        self.sequence(items, in_repeat=in_repeat or repeats, required=low > 0)
        if high is _UNBOUNDED and _body_chars(items) == _ANY and not _single_char(items):
            # Searching repeats a group's matching at every start: even one such
            # group grows quadratically. A class (`[ab]*`) stays fast.
            raise _UnsafeError(
                "an unbounded quantifier repeats a group (like `(a|b)*`); quantify one "
                "character or class (`[ab]*`) or give a bound (`{1,20}`)"
            )


def _check_alternatives(body: Iterable[tuple[Any, Any]]) -> None:
    """Under a quantifier, alternatives that can start alike make the parse ambiguous."""
    for op, value in body:
        if op is _c.BRANCH:
            alternatives = [list(a) for a in value[1]]
            if any(_can_be_empty(a) for a in alternatives):
                raise _UnsafeError(
                    "an alternation under a quantifier has an empty or optional branch "
                    "(like `(a|ab)*`), which can backtrack catastrophically"
                )
            starts = [_first_chars(a) for a in alternatives]
            for index, chars in enumerate(starts):
                if any(_overlap(chars, other) for other in starts[index + 1 :]):
                    raise _UnsafeError(
                        "an alternation under a quantifier has branches that can match the "
                        "same text (like `(a|a)*`), which can backtrack catastrophically"
                    )
            for alternative in alternatives:
                _check_alternatives(alternative)
        elif op is _c.SUBPATTERN:
            _check_alternatives(value[3])
        elif op is _c.ATOMIC_GROUP:
            _check_alternatives(value)


def _can_be_empty(items: Iterable[tuple[Any, Any]]) -> bool:
    for op, value in items:
        if op in _REPEATS:
            if value[0] > 0 and not _can_be_empty(value[2]):
                return False
        elif op is _c.SUBPATTERN:
            if not _can_be_empty(value[3]):
                return False
        elif op is _c.ATOMIC_GROUP:
            if not _can_be_empty(value):
                return False
        elif op is _c.BRANCH:
            if not any(_can_be_empty(a) for a in value[1]):
                return False
        elif op in {_c.AT, _c.ASSERT, _c.ASSERT_NOT}:
            continue
        else:
            return False
    return True


def _first_chars(items: Iterable[tuple[Any, Any]]) -> frozenset[str]:
    """The characters the sequence can start with; `_ANY` when not known precisely."""
    chars: set[str] = set()
    for op, value in items:
        if op is _c.LITERAL:
            chars |= {chr(value).lower(), chr(value).upper()}
            return frozenset(chars)
        if op is _c.IN:
            negated = any(item_op is _c.NEGATE for item_op, _ in value)
            members = _class_chars(value)
            if negated or members is None:
                return _ANY
            return frozenset(chars | members)
        if op in _REPEATS:
            chars |= _first_chars(value[2])
            if _ANY_MARK in chars:
                return _ANY
            if value[0] > 0:
                return frozenset(chars)
            continue
        if op is _c.SUBPATTERN:
            inner = list(value[3])
            chars |= _first_chars(inner)
            if _ANY_MARK in chars or not _can_be_empty(inner):
                return frozenset(chars)
            continue
        if op is _c.BRANCH:
            for alternative in value[1]:
                chars |= _first_chars(alternative)
            if _ANY_MARK in chars or not any(_can_be_empty(a) for a in value[1]):
                return frozenset(chars)
            continue
        if op in {_c.AT, _c.ASSERT, _c.ASSERT_NOT}:
            continue
        return _ANY
    return frozenset(chars) if chars else _ANY


def _class_chars(items: Iterable[tuple[Any, Any]]) -> set[str] | None:
    chars: set[str] = set()
    for op, value in items:
        if op is _c.LITERAL:
            chars |= {chr(value).lower(), chr(value).upper()}
        elif op is _c.RANGE:
            low, high = value
            if high - low > 256:
                return None
            for code in range(low, high + 1):
                chars |= {chr(code).lower(), chr(code).upper()}
        elif op is _c.NEGATE:
            continue
        elif op is _c.CATEGORY and value in _CATEGORIES:
            chars |= _CATEGORIES[value]
        else:
            return None
    return chars


def _single_char(items: Sequence[tuple[Any, Any]]) -> bool:
    return len(items) == 1 and items[0][0] in {_c.LITERAL, _c.IN, _c.ANY, _c.NOT_LITERAL}


def _body_chars(items: Sequence[tuple[Any, Any]]) -> frozenset[str]:
    """Every character a quantified body can match (for a one-character body), else any."""
    if len(items) == 1 and items[0][0] in {_c.LITERAL, _c.IN}:
        return _first_chars(items)
    return _ANY


# -- globs --------------------------------------------------------------------


def path_glob_problem(pattern: str) -> str | None:
    """Why `pattern` cannot be used as a path glob, or None."""
    if not pattern.strip():
        return "it is empty"
    if "\x00" in pattern:
        return "it contains a NUL character"
    if len(pattern) > _MAX_PATTERN_CHARS:
        return f"it is longer than {_MAX_PATTERN_CHARS} characters"
    if sum(pattern.count(c) for c in "*?[") > _MAX_GLOB_WILDCARDS:
        return f"it has more than {_MAX_GLOB_WILDCARDS} wildcards"
    return None


def path_glob_match(pattern: str, path: str) -> bool:
    """Whether `path` matches the gitignore-like `pattern`, case-insensitively.

    A pattern without `/` matches a basename; a pattern starting with `/` is
    anchored at the root, any other matches trailing segments; `**` spans
    directories; `*`, `?` and `[...]` stay within one segment.
    """
    return _path_glob(pattern).match(path)


class PathGlob:
    """A path glob compiled once (a policy rule's, a learned rule's): `match` as `path_glob_match`.

    Args:
        pattern: the glob, as `path_glob_match` takes it.
    """

    __slots__ = ("_anchored", "_segments")

    def __init__(self, pattern: str) -> None:
        self._anchored = pattern.startswith("/")
        self._segments = tuple(
            None if segment == "**" else _word_matcher(segment)
            for segment in _segments(pattern.lower())
        )

    def match(self, path: str) -> bool:
        """Whether `path` matches the glob."""
        have = _segments(path.lower())
        if not self._segments:
            return self._anchored and not have
        if self._anchored:
            return _match_segments(self._segments, have)
        return any(_match_segments(self._segments, have[start:]) for start in range(len(have)))


def _segments(text: str) -> tuple[str, ...]:
    return tuple(part for part in text.split("/") if part and part != ".")


_Segment = Callable[[str], bool]
"""One segment (or word) of a compiled glob; None stands for `**` (or a lone `*` word)."""


def _match_segments(pattern: tuple[_Segment | None, ...], path: tuple[str, ...]) -> bool:
    """Segment matching with `**`, as a table over (pattern index, path index): no backtracking."""
    reach = {0}
    for segment in pattern:
        if segment is None:
            start = min(reach, default=None)
            reach = set(range(start, len(path) + 1)) if start is not None else set()
        else:
            reach = {p + 1 for p in reach if p < len(path) and segment(path[p])}
        if not reach:
            return False
    return len(path) in reach


def _word_matcher(pattern: str) -> _Segment:
    """One segment or word of a glob: equality, or `fnmatchcase` compiled once."""
    if not any(c in pattern for c in "*?["):
        return pattern.__eq__
    # fnmatch translates `*` with lookahead groups that do not backtrack.
    search = re.compile(fnmatch.translate(pattern)).match
    return lambda text: search(text) is not None


def command_glob_problem(pattern: str) -> str | None:
    """Why `pattern` cannot be used under `commands:`, or None."""
    words = pattern.split()
    if not words:
        return "it is empty"
    if "\x00" in pattern:
        return "it contains a NUL character"
    if len(pattern) > _MAX_PATTERN_CHARS:
        return f"it is longer than {_MAX_PATTERN_CHARS} characters"
    if any(c in words[0] for c in "*?["):
        return (
            "its program is a wildcard; name the program (e.g. `npm run *`), "
            "wildcards go in the arguments"
        )
    if any(c in pattern for c in "'\"`$;&|<>(){}\\"):
        return (
            "it contains shell syntax (quotes, $, ;, &, |, redirections); a command "
            "pattern is plain words, matched against each simple command"
        )
    if sum(pattern.count(c) for c in "*?[") > _MAX_GLOB_WILDCARDS:
        return f"it has more than {_MAX_GLOB_WILDCARDS} wildcards"
    return None


def command_glob_match(pattern: str, words: Sequence[str]) -> bool:
    """Whether a command's normalised `words` match the `commands:` glob `pattern`.

    Word by word: a lone `*` word matches any number of words (including none),
    other words match one word each (with `*`, `?`, `[...]` inside it).
    """
    return _command_glob(pattern).match(words)


# Keyed by the patterns rules are written in (static data, never a call's words): a
# caller matching by pattern text compiles each pattern once.
@lru_cache(maxsize=1024)
def _path_glob(pattern: str) -> PathGlob:
    return PathGlob(pattern)


@lru_cache(maxsize=1024)
def _command_glob(pattern: str) -> CommandGlob:
    return CommandGlob(pattern)


class CommandGlob:
    """A `commands:` glob compiled once: `match` as `command_glob_match`.

    Args:
        pattern: the glob, as `command_glob_match` takes it.
    """

    __slots__ = ("_words",)

    def __init__(self, pattern: str) -> None:
        self._words = tuple(
            None if word == "*" else _word_matcher(word) for word in pattern.split()
        )

    def match(self, words: Sequence[str]) -> bool:
        """Whether a command's normalised `words` match the glob."""
        # A lone `*` word spans any number of words, as `**` spans path segments.
        return _match_segments(self._words, tuple(words))
