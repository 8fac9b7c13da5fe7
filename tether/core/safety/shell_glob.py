"""One segment of a glob, read as bash and glibc's `fnmatch` read it.

Python's `fnmatch` and `glob` are not the shell's: they read `[^x]` as the set {`^`, `x`}
and `[[:alpha:]]` as a set followed by a literal `]`, where bash (and glibc's `fnmatch`,
which `grep --include`, `--exclude` and `find -name` use) read a negated set and a POSIX
class. This module is the one translation of a segment (no `/` in it) into a regular
expression, used by the credential test of globs (`analyzer`), the sandbox's expansion of
a glob (`sandbox`) and the include and exclude patterns of tree walks (`tree_reads`).

Some brackets mean what the locale says (`[[=e=]]`, `[[.e.]]`, a range such as `[A-z]`),
or what the reader says (`[[:word:]]` is bash's, not glibc's; an unknown class name). The
answer cannot be known for sure there, so each caller picks the reading that fails closed
for it:

- `WIDE`: everything the pattern may match (an uncertain bracket matches any character,
  and every non-ASCII one). A credential test and an include list read it.
- `NARROW`: only what the pattern surely matches (an uncertain bracket matches nothing,
  nor does a bracket match any non-ASCII character). An exclude list reads it.
- `UNQUOTED`: `WIDE`, or else each bracket as the literal text it would be if it was
  quoted. The shell parser hands a word's text without its quotes (`'[x]'*` is `[x]*`),
  so the sandbox, which must see every file bash could expand to, reads it.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable
from enum import Enum
from functools import lru_cache

__all__ = ["Reading", "matcher", "translate"]


class Reading(Enum):
    """Which of a pattern's possible meanings to match (the module docstring says which)."""

    WIDE = "wide"
    NARROW = "narrow"
    UNQUOTED = "unquoted"


_ASCII = frozenset(chr(code) for code in range(128))
_CLASSES: dict[str, frozenset[str]] = {
    "alpha": frozenset(string.ascii_letters),
    "digit": frozenset(string.digits),
    "alnum": frozenset(string.ascii_letters + string.digits),
    "upper": frozenset(string.ascii_uppercase),
    "lower": frozenset(string.ascii_lowercase),
    "space": frozenset(" \t\n\r\f\v"),
    "blank": frozenset(" \t"),
    "punct": frozenset(string.punctuation),
    "xdigit": frozenset(string.hexdigits),
    "print": frozenset(chr(code) for code in range(0x20, 0x7F)),
    "graph": frozenset(chr(code) for code in range(0x21, 0x7F)),
    "cntrl": frozenset([*(chr(code) for code in range(0x20)), "\x7f"]),
}
"""The POSIX classes both bash and glibc know, by their ASCII members (which every locale
gives them). `word` is bash's alone: glibc's `fnmatch` does not know it, so it is uncertain."""

_NON_ASCII = "\x80-\U0010ffff"
"""A regular expression class range of every non-ASCII character."""
_BYTE_OF_PREVIOUS = f"(?<=[{_NON_ASCII}])"
"""Nothing, right after a non-ASCII character. In the C locale `?` and a bracket match one
byte, so two of them match one two-byte character: in a wide reading each may also match
a further byte of the character before it."""
_ONE = f"(?:.|{_BYTE_OF_PREVIOUS})"
"""`?` in a wide reading: one character, or one more byte of the last (`_BYTE_OF_PREVIOUS`)."""


class _Bracket:
    """What one bracket expression may match (`wide`) and surely matches (`narrow`), in ASCII."""

    __slots__ = ("narrow", "void", "wide")

    def __init__(self) -> None:
        self.narrow: set[str] = set()
        self.wide: set[str] = set()
        self.void = False
        """A reader may find it malformed (an unknown class, a `[.` never closed, a range
        to a class): glibc and bash then match nothing with it."""

    def add(self, members: frozenset[str] | set[str], *, certain: bool = True) -> None:
        self.wide.update(members)
        if certain:
            # A non-ASCII member is several bytes, and in the C locale a bracket matches
            # one byte: only ASCII members are sure.
            self.narrow.update(c for c in members if c < "\x80")

    def uncertain(self, surely: frozenset[str] | set[str] = frozenset()) -> None:
        """A member the locale or the reader decides: it may be any character."""
        self.wide.update(_ASCII)
        self.add(surely)


def _range(low: str, high: str, bracket: _Bracket) -> None:
    """A range: by code point where every locale agrees, else uncertain.

    bash 5 compares ranges by code point (`globasciiranges`); glibc and an older bash by
    the locale's collation order, where `[a-c]` may hold `A` and `B` too. Within one case
    of letters, or within digits, the code point range is in every reading and the other
    case may be; any other range (a reversed one matches nothing) is left to the locale.
    """
    for group in (string.ascii_lowercase, string.ascii_uppercase, string.digits):
        if low in group and high in group and low <= high:
            members = {chr(code) for code in range(ord(low), ord(high) + 1)}
            bracket.add(members)
            bracket.add({c.swapcase() for c in members}, certain=False)
            return
    bracket.uncertain()


def _symbol(pattern: str, index: int) -> tuple[str, str, int] | None:
    """The `[:class:]`, `[=c=]` or `[.c.]` at `pattern[index]`: its kind, its name and the
    index after it; None when there is none (`[` followed by something else)."""
    if pattern[index] != "[" or index + 1 >= len(pattern) or pattern[index + 1] not in ":=.":
        return None
    kind = pattern[index + 1]
    end = pattern.find(kind + "]", index + 2)
    if end < 0:
        return kind, "", -1  # opened and never closed
    return kind, pattern[index + 2 : end], end + 2


def _parse_bracket(pattern: str, start: int, escapes: bool) -> tuple[_Bracket, bool, int] | None:
    """The bracket expression opening at `pattern[start]` (a `[`): what it holds, whether
    it is negated, and the index after its closing `]`; None when it is not closed (then
    the `[` is a literal character)."""
    index = start + 1
    length = len(pattern)
    negated = index < length and pattern[index] in "!^"
    if negated:
        index += 1
    bracket = _Bracket()
    first = True
    while index < length:
        char = pattern[index]
        if char == "]" and not first:
            return bracket, negated, index + 1
        first = False
        symbol = _symbol(pattern, index)
        if symbol is not None:
            kind, name, after = symbol
            if after < 0:
                # `[x[:]`: a `[:` with no `:]` after it; bash and glibc differ on it.
                bracket.uncertain()
                bracket.void = True
                index += 1
                continue
            index = after
            if _range_follows(pattern, index):
                # A range from a class or a collating symbol: the locale's, or malformed.
                bracket.uncertain()
                bracket.void = bracket.void or kind == ":"
                index = _skip_item(pattern, index + 1, escapes)
            elif kind == ":" and name in _CLASSES:
                bracket.add(_CLASSES[name])
            elif kind != ":" and len(name) == 1:
                # `[[=e=]]` holds e and whatever the locale counts as e; `[[.e.]]` is e.
                bracket.uncertain({name})
            else:
                # An unknown class, bash's `[:word:]`, a named collating symbol.
                bracket.uncertain()
                bracket.void = bracket.void or kind == ":"
            continue
        if escapes and char == "\\" and index + 1 < length:
            index += 1
            char = pattern[index]
        index += 1
        if not _range_follows(pattern, index):
            bracket.add({char})
            continue
        high_at = index + 1
        high = _symbol(pattern, high_at)
        index = _skip_item(pattern, high_at, escapes)
        if high is not None:
            # A range to a class (malformed) or to a collating symbol (the locale's).
            bracket.uncertain()
            bracket.void = bracket.void or high[0] == ":" or high[2] < 0
            continue
        top = pattern[index - 1]
        _range(char, top, bracket)
    return None


def _range_follows(pattern: str, index: int) -> bool:
    """Whether a `-` at `index` makes a range (a `-` before the closing `]` is a member)."""
    return index + 1 < len(pattern) and pattern[index] == "-" and pattern[index + 1] != "]"


def _skip_item(pattern: str, index: int, escapes: bool) -> int:
    """The index after the one member at `index`: a character (escaped or not) or a symbol."""
    symbol = _symbol(pattern, index)
    if symbol is not None and symbol[2] >= 0:
        return symbol[2]
    if escapes and pattern[index] == "\\" and index + 1 < len(pattern):
        return index + 2
    return index + 1


def _members(bracket: _Bracket, negated: bool, reading: Reading, fold: bool) -> str:
    """The regular expression for one bracket expression, in a reading."""
    wide = reading is not Reading.NARROW
    if bracket.void and not wide:
        members: set[str] = set()
    elif negated:
        members = set(_ASCII - (bracket.narrow if wide else bracket.wide))
    else:
        members = set(bracket.wide if wide else bracket.narrow)
    if fold:
        # A case-insensitive match: a character matches when either of its cases does.
        members |= {c.swapcase() for c in members}
    if not members and not wide:
        return "(?!)"
    escaped = "".join(sorted(_class_escape(c) for c in members))
    if not wide:
        return f"[{escaped}]"
    return f"(?:[{escaped}{_NON_ASCII}]|{_BYTE_OF_PREVIOUS})"


def _class_escape(char: str) -> str:
    return "\\" + char if char in "\\]^-[" else char


def _literal_bracket(text: str) -> str:
    """A bracket expression read as if its brackets were quoted: `*` and `?` inside it
    may still be live, so they match as they would outside one."""
    return "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in text)


def translate(pattern: str, *, reading: Reading, escapes: bool = False, fold: bool = False) -> str:
    """The regular expression (for `re.fullmatch`, with `re.DOTALL`) of a glob segment.

    Args:
        pattern: one segment: `*`, `?`, bracket expressions, the rest literal.
        reading: which of its possible meanings to match (`Reading`).
        escapes: a backslash quotes the next character (`fnmatch` without
            `FNM_NOESCAPE`); without it a backslash is a character like any other,
            as in a word whose quotes the shell parser has already removed.
        fold: match either case of each letter (a name test that ignores case).
    """
    parts: list[str] = []
    index = 0
    length = len(pattern)
    while index < length:
        char = pattern[index]
        if char == "*":
            if not parts or parts[-1] != ".*":
                parts.append(".*")
            index += 1
        elif char == "?":
            # In the C locale `?` is one byte, so it surely matches only ASCII.
            parts.append("[\\x00-\\x7f]" if reading is Reading.NARROW else _ONE)
            index += 1
        elif char == "[":
            parsed = _parse_bracket(pattern, index, escapes)
            if parsed is None:
                if "]" in pattern[index + 1 :]:
                    # Not closed as read here, but a later `]` may close it as another
                    # reader reads it (glibc takes `[:` as a range's end, `[x-[:a:]`):
                    # then it is one character and the rest, anything in all.
                    parts.append("(?!)" if reading is Reading.NARROW else ".*")
                    break
                parts.append(re.escape("["))
                index += 1
                continue
            bracket, negated, end = parsed
            members = _members(bracket, negated, reading, fold)
            if reading is Reading.UNQUOTED:
                members = f"(?:{members}|{_literal_bracket(pattern[index:end])})"
            parts.append(members)
            index = end
        elif escapes and char == "\\":
            if index + 1 == length:
                # A lone backslash at the end: glibc matches nothing, bash a backslash.
                parts.append("(?!)" if reading is Reading.NARROW else re.escape(char))
                break
            parts.append(re.escape(pattern[index + 1]))
            index += 2
        else:
            parts.append(re.escape(char))
            index += 1
    return "".join(parts)


@lru_cache(maxsize=1024)
def matcher(
    pattern: str, reading: Reading, *, escapes: bool = False, fold: bool = False
) -> Callable[[str], re.Match[str] | None]:
    """A function that matches a whole name against `pattern` (`translate`), compiled once."""
    flags = re.DOTALL | (re.IGNORECASE if fold else 0)
    return re.compile(
        translate(pattern, reading=reading, escapes=escapes, fold=fold), flags
    ).fullmatch
