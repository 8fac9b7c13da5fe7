"""Shell words: quoting, escapes, ANSI-C strings, brace expansion, and words being built.

The shell parser walks tree-sitter nodes; these functions turn the pieces of
a word into the text the shell would pass on (`r''m` is `rm`, `$'\\x72m'` is
`rm`, `file{,.bak}` is two words), keeping what is known about it: dynamic
(only known at run time), a glob, a process substitution, and which programs'
output or which variables went into it.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

__all__ = [
    "MAX_CANDIDATES",
    "Fragment",
    "Word",
    "ansi_c",
    "brace_expand",
    "expand",
    "expand_leading_braces",
    "join_continuations",
    "plain_word",
    "quoted_word",
    "unescape_double",
    "unquoted_word",
    "word_from",
]

MAX_CANDIDATES = 16
"""How many values one word may stand for (a variable assigned several times)."""
_MAX_BRACE_WORDS = 64

_DOUBLE_QUOTE_ESCAPES = frozenset('$`"\\\n')
_GLOB_CHARS = frozenset("*?[")
_ANSI_SIMPLE = {
    "a": "\a",
    "b": "\b",
    "e": "\x1b",
    "E": "\x1b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
    "\\": "\\",
    "'": "'",
    '"': '"',
    "?": "?",
}
_ANSI_ESCAPE = re.compile(
    r"\\(x[0-9a-fA-F]{1,2}|u[0-9a-fA-F]{1,4}|U[0-9a-fA-F]{1,8}|[0-7]{1,3}|c.|.)"
)
_BRACE_RANGE = re.compile(r"^(-?\d+|[A-Za-z])\.\.(-?\d+|[A-Za-z])(?:\.\.(-?\d+))?$")


class Word(NamedTuple):
    """One word of a command as the shell would pass it, and what is known about it.

    A named tuple rather than a frozen dataclass: the walk builds one per word on
    every fresh gate call, and a tuple is built in a quarter of the time (a frozen
    dataclass sets each field through `object.__setattr__`).
    """

    text: str
    dynamic: bool = False
    glob: bool = False
    procsub: bool = False
    sources: tuple[str, ...] = ()
    variables: tuple[str, ...] = ()


@dataclass(slots=True)
class Fragment:
    """A word being built: its possible texts and what is known about it."""

    texts: list[str]
    dynamic: bool = False
    glob: bool = False
    literal: bool = True
    """Made of unquoted words only: brace expansion applies."""
    procsub: bool = False
    split: bool = False
    """Holds an unquoted `$IFS`: the shell splits it into several words."""
    separators: str = ""
    """Characters besides blanks that split it (`IFS=,` assigned in the line)."""
    sources: list[str] = field(default_factory=list)
    variables: list[str] = field(default_factory=list)

    def join(self, other: Fragment) -> None:
        texts = [a + b for a, b in itertools.product(self.texts, other.texts)]
        if len(texts) > MAX_CANDIDATES:
            texts = texts[:MAX_CANDIDATES]
            self.dynamic = True
        self.texts = texts
        self.dynamic = self.dynamic or other.dynamic
        self.glob = self.glob or other.glob
        self.literal = self.literal and other.literal
        self.procsub = self.procsub or other.procsub
        self.split = self.split or other.split
        if other.separators:
            self.separators = "".join(dict.fromkeys(self.separators + other.separators))
        self.sources.extend(other.sources)
        self.variables.extend(other.variables)


def word_from(frag: Fragment, text: str) -> Word:
    """The word `text` (one of `frag`'s values), carrying what `frag` knows."""
    return Word(
        text,
        frag.dynamic,
        frag.glob,
        frag.procsub,
        tuple(frag.sources) if frag.sources else (),
        tuple(frag.variables) if frag.variables else (),
    )


def plain_word(raw: str) -> Word | None:
    """The one word an unquoted shell word `raw` is, when it needs no work; else None.

    The walk's fast path for the commonest argument (`status`, `-rf`, `src/app.py`):
    with no backslash to unquote, no `{` to brace-expand and no NUL element break,
    `expand(unquoted_word(raw))` is exactly `[Word(raw, glob=...)]` (the tests compare
    both on generated and hand-picked words). Anything else takes the general path.
    """
    if "\\" in raw or "{" in raw or "\x00" in raw:
        return None
    return Word(raw, False, "*" in raw or "?" in raw or "[" in raw)


def quoted_word(text: str) -> Word | None:
    """The one word quoted `text` (the inside of `'...'`) is, or None when it holds a NUL.

    Quoted text is neither a glob nor brace-expanded: `expand` of its fragment is this
    one word unless a NUL element break splits it (the tests compare both).
    """
    if "\x00" in text:
        return None
    return Word(text)


def expand(frag: Fragment) -> list[Word]:
    """The words a fragment becomes: one per candidate, brace-expanded, split on $IFS.

    The elements of `"${x[@]}"` (joined by a NUL, which no written word holds) are
    words of their own, empty ones included, as bash passes them.
    """
    texts = frag.texts
    if len(texts) == 1 and not frag.split:
        # The commonest case, straight through: one candidate, not split, and (below)
        # neither brace-expanded nor broken into elements: the loop would give this one word.
        text = texts[0]
        if "\x00" not in text and not (frag.literal and "{" in text):
            return [word_from(frag, text)]
    words: list[Word] = []
    splitter = _splitter(frag.separators) if frag.split else None
    for text in frag.texts:
        pieces = _brace_expand(text) if frag.literal and "{" in text else [text]
        for piece in pieces:
            for element in piece.split("\x00") if "\x00" in piece else (piece,):
                if splitter is not None:
                    words.extend(word_from(frag, part) for part in splitter(element) if part)
                else:
                    words.append(word_from(frag, element))
    return words or [word_from(frag, "")]


def _splitter(separators: str) -> Callable[[str], list[str]]:
    if not separators:
        return str.split
    return re.compile(f"[\\s{re.escape(separators)}]+").split


def brace_expand(text: str) -> list[str]:
    """Bash brace expansion of `text` (at most 64 words)."""
    return _brace_expand(text)


def _brace_expand(text: str) -> list[str]:
    """Bash brace expansion of an unquoted word: `a{b,c}` -> `ab ac`, `x{1..3}` -> `x1 x2 x3`."""
    results = [text]
    for _ in range(8):
        expanded: list[str] = []
        changed = False
        for item in results:
            parts = _one_brace(item)
            if parts is None:
                expanded.append(item)
            else:
                changed = True
                expanded.extend(parts)
            if len(expanded) > _MAX_BRACE_WORDS:
                return expanded[:_MAX_BRACE_WORDS]
        results = expanded
        if not changed:
            break
    return results


def _one_brace(text: str) -> list[str] | None:
    """Expand the first `{...}` group in `text` with a comma or a range, else None."""
    start = 0
    while True:
        open_at = text.find("{", start)
        if open_at < 0:
            return None
        depth = 0
        commas: list[int] = []
        for position in range(open_at, len(text)):
            char = text[position]
            if char == "{":
                depth += 1
            elif char == "}":
                depth -= 1
                if depth == 0:
                    inner = text[open_at + 1 : position]
                    prefix, suffix = text[:open_at], text[position + 1 :]
                    if commas:
                        bounds = [open_at, *commas, position]
                        options = [text[a + 1 : b] for a, b in itertools.pairwise(bounds)]
                        return [prefix + option + suffix for option in options]
                    sequence = _brace_range(inner)
                    if sequence is not None:
                        return [prefix + item + suffix for item in sequence]
                    break
            elif char == "," and depth == 1:
                commas.append(position)
        start = open_at + 1


def _brace_range(inner: str) -> list[str] | None:
    match = _BRACE_RANGE.match(inner)
    if not match:
        return None
    first, last, step_text = match.groups()
    step = abs(int(step_text)) if step_text else 1
    step = step or 1
    if first.lstrip("-").isdigit() and last.lstrip("-").isdigit():
        a, b = int(first), int(last)
        values = range(a, b + 1, step) if a <= b else range(a, b - 1, -step)
        return [str(v) for v in itertools.islice(values, _MAX_BRACE_WORDS)]
    if len(first) == 1 and len(last) == 1 and not first.isdigit() and not last.isdigit():
        a, b = ord(first), ord(last)
        codes = range(a, b + 1, step) if a <= b else range(a, b - 1, -step)
        return [chr(c) for c in itertools.islice(codes, _MAX_BRACE_WORDS)]
    return None


def join_continuations(text: str) -> str:
    """`text` with every backslash-newline the shell removes taken out (`l\\<newline>s` is `ls`).

    Bash drops a backslash-newline anywhere outside single quotes, even inside a
    word; inside single quotes it stays (a nested `bash -c` drops it later), and a
    comment ends at the newline whatever precedes it (`ls # \\<newline>rm` runs rm).
    """
    out: list[str] = []
    index, size = 0, len(text)
    single = double = False
    escaped = -1  # where the last escaped character stands (`\\ #` opens no comment)
    while index < size:
        char = text[index]
        if single:
            single = char != "'"
        elif char == "\\" and index + 1 < size:
            if text[index + 1] != "\n":
                out.append(text[index : index + 2])
                escaped = index + 1
            index += 2
            continue
        elif char == '"':
            double = not double
        elif char == "'" and not double:
            single = True
        elif (
            char == "#"
            and not double
            and (index == 0 or (text[index - 1] in _WORD_BREAKS and escaped != index - 1))
        ):
            end = text.find("\n", index)
            end = size if end < 0 else end
            out.append(text[index:end])
            index = end
            continue
        out.append(char)
        index += 1
    return "".join(out)


_WORD_BREAKS = frozenset(" \t\n;&|()<>")
# A command word that is a brace expansion with a comma and no quoting or expansion in
# it: tree-sitter reads `{ls,-la}` as a broken group; bash runs `ls -la`.
_PLAIN = r"[^\s;&|<>()'\"`$\\]"
_LEADING_BRACE = re.compile(
    rf"(^|[;&|(\n])([ \t]*)([^\s;&|<>()'\"`$\\{{}}]*\{{{_PLAIN}*,{_PLAIN}*\}}{_PLAIN}*)"
)


def expand_leading_braces(text: str) -> str | None:
    """`text` with brace expansions in command position spelled out, or None when none.

    `{rm,-rf,/}` becomes `rm -rf /`, `/bin/{rm,true} -rf /` becomes `/bin/rm /bin/true -rf /`.
    """

    def spell(match: re.Match[str]) -> str:
        return match.group(1) + match.group(2) + " ".join(_brace_expand(match.group(3)))

    rewritten = _LEADING_BRACE.sub(spell, text)
    return None if rewritten == text else rewritten


def unquoted_word(raw: str) -> Fragment:
    """An unquoted word: backslashes quote the next character, globs are noted."""
    if "\\" not in raw:
        return Fragment([raw], glob="*" in raw or "?" in raw or "[" in raw)
    out: list[str] = []
    glob = False
    index = 0
    while index < len(raw):
        char = raw[index]
        if char == "\\" and index + 1 < len(raw):
            following = raw[index + 1]
            if following != "\n":
                out.append(following)
            index += 2
            continue
        if char in _GLOB_CHARS:
            glob = True
        out.append(char)
        index += 1
    return Fragment(["".join(out)], glob=glob)


def unescape_double(raw: str) -> str:
    """The text of double-quoted content: only `\\$ \\` \\" \\\\` and line continuations escape."""
    if "\\" not in raw:
        return raw
    out: list[str] = []
    index = 0
    while index < len(raw):
        char = raw[index]
        if char == "\\" and index + 1 < len(raw) and raw[index + 1] in _DOUBLE_QUOTE_ESCAPES:
            if raw[index + 1] != "\n":
                out.append(raw[index + 1])
            index += 2
            continue
        out.append(char)
        index += 1
    return "".join(out)


def ansi_c(raw: str) -> str:
    """Decode the body of `$'...'`: C escapes, hex, octal, Unicode and control characters."""

    def decode(match: re.Match[str]) -> str:
        escape = match.group(1)
        head = escape[0]
        if head in "xuU" and len(escape) > 1:
            return _safe_chr(int(escape[1:], 16))
        if head.isdigit():
            return _safe_chr(int(escape, 8))
        if head == "c" and len(escape) == 2:
            return chr(ord(escape[1]) & 0x1F)
        return _ANSI_SIMPLE.get(escape, "\\" + escape)

    return _ANSI_ESCAPE.sub(decode, raw)


def _safe_chr(code: int) -> str:
    if 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF:
        return chr(code)
    return ""
