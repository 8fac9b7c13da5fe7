"""Structural bounds on shell text, checked before the parser sees it.

tree-sitter-bash is fast on ordinary commands but not on every shape: a
pipeline of thousands of stages grows superlinearly (33,000 stages took 3 GB
and crashed the process), many here-documents grow quadratically, and the walk
that turns the tree into commands costs tens of microseconds per command. So
before parsing, one cheap lexical pass counts what makes parsing and walking
expensive (pipeline stages, list operators, words, here-documents,
redirections, substitutions, nesting) and stops at the first bound crossed.
Every text within the bounds parses and walks in a few milliseconds; a text
past them is "too large to analyse", which a person must approve unless the
crude fallback scan finds something to deny.

The pass follows Bash's quoting closely enough to skip what is only data
(single-quoted text, here-document bodies, comments), yet never trusts that
skip completely: separators seen inside skipped text count against a looser
budget, so text the pass misreads still cannot hide thousands of stages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["BOUNDS", "ShellBounds", "exceeded_bound", "within_by_count"]


@dataclass(frozen=True, slots=True)
class ShellBounds:
    """How much structure one shell text may have and still be parsed in-line.

    The defaults keep the worst accepted text of every shape under ~5 ms of
    parsing and walking (bench and tests/core/safety/test_shell_bounds.py
    measure them); ordinary commands are far inside all of them.
    """

    chars: int = 16_384
    """Characters of shell text (UTF-8 bytes are at most 4x this)."""
    separators: int = 48
    """`|`, `|&`, `&&`, `||`, `;`, `;;`, `&` and statement-ending newlines."""
    pipes: int = 24
    """Pipeline stages joined by `|`/`|&` (the grammar's costliest shape)."""
    words: int = 192
    """Words outside quotes and here-document bodies."""
    heredocs: int = 8
    """Here-documents (`<<`, `<<-`); each costs far more than a plain word."""
    redirections: int = 64
    """`<`, `>`, `>>`, `&>`, `<<<`, `<&`, `>&` and the like."""
    substitutions: int = 32
    """`$(...)`, backticks, `<(...)`, `>(...)`: each runs commands of its own."""
    expansions: int = 256
    """`$` anywhere, here-document bodies included: each is an expansion to walk."""
    depth: int = 16
    """Nesting of (), {}, $(), ${}, $(()), backticks and double quotes."""
    unmatched: int = 128
    """`)` that close nothing (a `case` pattern's): a run of stray ones sends the
    grammar's error recovery quadratic (6,800 of them took 0.3 s to parse)."""
    opaque_separators: int = 1024
    """`|`, `;` and `&` inside text skipped as data (quotes, bodies, comments)."""


BOUNDS = ShellBounds()

# Characters that may start a token; runs of anything else are skipped in one step.
_PLAIN = r"""[^\\\n \t\r$'"`(){}<>|;&\#]*"""
# What the code pass stops at; a lone special character (`$x`, `a#b`) is `other`.
_CODE = re.compile(
    _PLAIN
    + r"""(?:
    (?P<escape>\\.)
    | (?P<newline>\n)
    | (?P<space>[ \t\r]+)
    | (?P<ansi>\$')
    | (?P<single>')
    | (?P<double>")
    | (?P<backtick>`)
    | (?P<arith>\$\(\(|\(\(|\$\[)
    | (?P<substitution>\$\(|[<>]\()
    | (?P<expansion>\$\{)
    | (?P<open>\()
    | (?P<close>\))
    | (?P<brace>\{)
    | (?P<unbrace>\})
    | (?P<heredoc><<-?(?!<))
    | (?P<pipe>\|&|\|(?!\|))
    | (?P<list>\|\||&&|;;&?|;&|;|&(?!>))
    | (?P<redirect><<<|&>>?|>>|>&|<&|<>|>\||[<>])
    | (?P<comment>(?:^|(?<=[\s;&|()]))\#)
    | (?P<other>.)
    )""",
    re.VERBOSE | re.DOTALL,
)
# Inside double quotes only these mean anything.
_DOUBLE = re.compile(
    r"""[^\\"`$]*(?:(?P<escape>\\.)|(?P<double>")|(?P<backtick>`)"""
    r"""|(?P<arith>\$\(\(|\$\[)|(?P<substitution>\$\()|(?P<expansion>\$\{)|(?P<other>.))""",
    re.DOTALL,
)
_ANSI_END = re.compile(r"(?:[^'\\]|\\.)*'", re.DOTALL)
_DELIMITER = re.compile(r"""[ \t]*((?:'[^']*'|"(?:[^"\\]|\\.)*"|\\.|[^\s;&|<>()'"\\])+)""")
_OPAQUE = re.compile(r"[|;&]")
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")
# tree-sitter-bash's scanner crashes the whole process (SIGSEGV) on some code
# points beyond the Basic Multilingual Plane (`{\U000d49cb%%\U000a97ad`, ten
# characters, found by fuzzing; assigned ones too, now and then). Commands need
# none of them (an emoji in an echo is the rare exception, and it only asks), so
# text holding one is never handed to the parser.

# Contexts on the nesting stack.
_DQ, _BT, _ARITH, _PAREN, _SUB, _EXP, _BRACE = "dq", "bt", "arith", "(", "$(", "${", "{"
_NO_HEREDOC = frozenset({_ARITH, _EXP})


class _Budget:
    """Counts against `ShellBounds`; `over` names the first bound crossed."""

    __slots__ = ("bounds", "counts", "over")

    def __init__(self, bounds: ShellBounds) -> None:
        self.bounds = bounds
        self.counts = dict.fromkeys(
            (
                "separators",
                "pipes",
                "words",
                "heredocs",
                "redirections",
                "substitutions",
                "unmatched",
            ),
            0,
        )
        self.counts["opaque_separators"] = 0
        self.over: str | None = None

    def add(self, what: str, n: int = 1) -> bool:
        """Count `n` more of `what`; True once any bound is crossed."""
        count = self.counts[what] + n
        self.counts[what] = count
        limit: int = getattr(self.bounds, what)
        if count > limit:
            self.over = _describe(what, count, limit)
        return self.over is not None


_WHAT = {
    "separators": "command separators",
    "pipes": "pipeline stages",
    "words": "words",
    "heredocs": "here-documents",
    "redirections": "redirections",
    "substitutions": "command substitutions",
    "unmatched": "`)` closing nothing",
    "opaque_separators": "separators inside quoted or here-document text",
    "expansions": "`$` expansions",
}


def _describe(what: str, count: int, limit: int) -> str:
    counted = f"more than {limit:,}" if count > limit else f"{count:,}"
    return f"{counted} {_WHAT[what]} (the limit is {limit:,})"


def exceeded_bound(text: str, bounds: ShellBounds = BOUNDS) -> str | None:
    """Which structural bound `text` crosses, as a phrase; None when it may be parsed.

    Linear in the text and stops at the first bound crossed, so its own cost is
    bounded by the bounds, not by the input.
    """
    if bounds is BOUNDS and text.isascii() and len(text) <= BOUNDS.chars:
        # An ASCII text within `chars` holds no astral character; what is left of the
        # checks before the scan is the `$` count, and `within_by_count` proves the scan
        # finds nothing. Both read one translation of the text (`_KINDS`).
        if len(text) <= _FEW:
            return None  # no more characters than `_FEW`, so no more counted ones
        kinds = text.encode().translate(_KINDS)
        if len(kinds) - kinds.count(0) <= _FEW:
            return None  # few counted characters, `$` among them: within every bound
        if kinds.count(b"$") <= BOUNDS.expansions and _within(kinds, text, BOUNDS):
            return None
    if len(text) > bounds.chars:
        return f"{len(text):,} characters (the limit is {bounds.chars:,})"
    dollars = text.count("$")
    if dollars > bounds.expansions:
        return _describe("expansions", dollars, bounds.expansions)
    unsafe = _unsafe_character(text)
    if unsafe is not None:
        return f"a character the shell parser cannot read safely (U+{ord(unsafe):04X})"
    if within_by_count(text, bounds):
        return None
    return _Scan(text, bounds).run()


def within_by_count(text: str, bounds: ShellBounds = BOUNDS) -> bool:
    """True when counting characters alone proves `_Scan` finds no bound crossed.

    The scan only ever reports a count passing its bound, and every token it counts
    holds a character of its own: a word ends at a blank or newline run, a separator
    holds one of `|&;` or is a newline, a pipe a `|`, a here-document a `<<` (never
    overlapping another), a redirection a `<` or `>`, a substitution a `(` or a
    backtick, a level of nesting one of `"`, a backtick, `(`, `[`, `{`, a `)` closing
    nothing a `)`; the data it
    skips are disjoint stretches of the text. Tokens never overlap, so each count is
    at most the number of those characters in the whole text. When every such upper
    bound is within its limit the scan returns None, so it need not run (ordinary
    commands, and the ~300-character pipeline, take this path in a few count calls).
    """
    kinds = text.encode("utf-8", "surrogatepass").translate(_KINDS)
    # Every count `_within` takes is at most the number of counted characters in the text
    # (a `<<` takes two `<`): when that total is within the smallest limit, so is each.
    return len(kinds) - kinds.count(0) <= _few(bounds) or _within(kinds, text, bounds)


def _within(kinds: bytes, text: str, bounds: ShellBounds) -> bool:
    """`within_by_count` of `text`, whose UTF-8 bytes translate to `kinds` (`_KINDS`)."""
    count = kinds.count
    pipes = count(b"|")
    newlines = count(b"\n")
    separators = pipes + count(b";") + newlines
    opens = count(b"(")
    heredoc_marks = count(b"<")
    return (
        pipes <= bounds.pipes
        and separators <= bounds.separators
        and separators <= bounds.opaque_separators
        and count(b" ") + newlines <= bounds.words
        # (Each `<<` takes two `<`: with few of them there are few `<<` too.)
        and (heredoc_marks <= 2 * bounds.heredocs + 1 or text.count("<<") <= bounds.heredocs)
        and heredoc_marks + count(b">") <= bounds.redirections
        and opens <= bounds.substitutions
        and count(b")") <= bounds.unmatched
        and opens + count(b"[") <= bounds.depth
    )


# What `within_by_count` counts, each byte translated to the kind it counts as (and `$`,
# which `exceeded_bound` counts); `bytes.translate` makes every other byte a 0.
_KIND_OF = {
    "|": "|",  # pipes (and separators)
    "&": ";",  # separators
    ";": ";",
    "\n": "\n",  # separators and words
    " ": " ",  # words
    "\t": " ",
    "\r": " ",
    "<": "<",  # redirections; two make a here-document
    ">": ">",
    "(": "(",  # substitutions (and nesting)
    "`": "(",
    ")": ")",  # `)` closing nothing
    '"': "[",  # nesting
    "[": "[",
    "{": "[",
    "$": "$",  # expansions
}
_KINDS = bytes(ord(_KIND_OF.get(chr(byte), "\0")) for byte in range(256))


def _few(bounds: ShellBounds) -> int:
    """How many counted characters a text may hold and be within every bound by count."""
    if bounds is BOUNDS:
        return _FEW
    return min(
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


def _unsafe_character(text: str) -> str | None:
    """The first code point beyond the Basic Multilingual Plane, if any."""
    if text.isascii():
        return None  # O(1) for the common case: CPython knows a string is ASCII
    match = _ASTRAL.search(text)
    return match.group() if match is not None else None


class _Scan:
    """One lexical pass; see the module docstring for what it approximates."""

    def __init__(self, text: str, bounds: ShellBounds) -> None:
        self.text = text
        self.budget = _Budget(bounds)
        self.depth_limit = bounds.depth
        self.stack: list[str] = []
        self.pending: list[tuple[str, bool]] = []
        """Here-documents whose bodies start after the next newline: (delimiter, strip tabs)."""

    def run(self) -> str | None:
        text, pos, end = self.text, 0, len(self.text)
        while pos < end:
            in_double = bool(self.stack) and self.stack[-1] == _DQ
            match = (_DOUBLE if in_double else _CODE).match(text, pos)
            if match is None:
                break  # only plain text is left
            kind = match.lastgroup or ""
            pos = match.end()
            if kind in {"space", "newline"} and not in_double and self.budget.add("words"):
                break
            over, pos = self.token(kind, match, pos)
            if over:
                break
        return self.budget.over

    def token(self, kind: str, match: re.Match[str], pos: int) -> tuple[bool, int]:
        """Account for one token; returns (a bound was crossed, where to go on)."""
        add = self.budget.add
        if kind == "escape":
            return False, pos
        if kind == "newline":
            if self.pending:
                pos = self.skip_bodies(pos)
            if self.stack and self.stack[-1] in {_ARITH, _EXP}:
                return False, pos
            return add("separators"), pos
        if kind == "space":
            return False, pos
        if kind == "single":
            close = self.text.find("'", pos)
            close = len(self.text) if close < 0 else close + 1
            return self.opaque(pos, close), close
        if kind == "ansi":
            found = _ANSI_END.match(self.text, pos)
            close = found.end() if found else len(self.text)
            return self.opaque(pos, close), close
        if kind == "comment":
            close = self.text.find("\n", pos)
            close = len(self.text) if close < 0 else close
            return self.opaque(pos, close), close
        if kind == "double":
            if self.stack and self.stack[-1] == _DQ:
                self.stack.pop()
                return False, pos
            return self.push(_DQ), pos
        if kind == "backtick":
            if self.stack and self.stack[-1] == _BT:
                self.stack.pop()
                return False, pos
            return add("substitutions") or self.push(_BT), pos
        if kind == "arith":
            return self.push(_ARITH), pos
        if kind == "substitution":
            return add("substitutions") or self.push(_SUB), pos
        if kind == "expansion":
            return self.push(_EXP), pos
        if kind == "open":
            return self.push(_PAREN), pos
        if kind == "close":
            return self.close(pos)
        if kind == "brace":
            return self.push(_BRACE), pos
        if kind == "unbrace":
            if self.stack and self.stack[-1] in {_BRACE, _EXP}:
                self.stack.pop()
            return False, pos
        if kind == "heredoc":
            return self.heredoc(match, pos)
        if kind == "pipe":
            return add("pipes") or add("separators"), pos
        if kind == "list":
            return add("separators"), pos
        if kind == "redirect":
            return add("redirections"), pos
        return False, pos

    def push(self, context: str) -> bool:
        self.stack.append(context)
        if len(self.stack) > self.depth_limit:
            self.budget.over = (
                f"nesting deeper than {self.depth_limit} levels (the limit is {self.depth_limit})"
            )
            return True
        return False

    def close(self, pos: int) -> tuple[bool, int]:
        """A `)`: ends the innermost paren-like context (a `case` pattern's `)` ends none)."""
        top = self.stack[-1] if self.stack else None
        if top == _ARITH:
            self.stack.pop()
            return False, pos + 1 if self.text.startswith(")", pos) else pos
        if top in {_PAREN, _SUB}:
            self.stack.pop()
            return False, pos
        return self.budget.add("unmatched"), pos

    def heredoc(self, match: re.Match[str], pos: int) -> tuple[bool, int]:
        if self.stack and self.stack[-1] in _NO_HEREDOC:
            return False, pos  # `$((1 << 2))` shifts; it starts no here-document
        if self.budget.add("heredocs") or self.budget.add("redirections"):
            return True, pos
        found = _DELIMITER.match(self.text, pos)
        if found is None:
            return False, pos
        delimiter = re.sub(r"""\\(.)|['"]""", r"\1", found.group(1))
        self.pending.append((delimiter, match.group().endswith("-")))
        return False, found.end()

    def skip_bodies(self, pos: int) -> int:
        """Skip the bodies of the pending here-documents, which start at `pos`."""
        text = self.text
        for delimiter, strip_tabs in self.pending:
            body_start = pos
            while pos < len(text):
                eol = text.find("\n", pos)
                line_end = len(text) if eol < 0 else eol
                line = text[pos:line_end]
                pos = line_end + 1 if eol >= 0 else len(text)
                if (line.lstrip("\t") if strip_tabs else line) == delimiter:
                    break
            if self.opaque(body_start, pos):
                break
        self.pending.clear()
        return min(pos, len(text))

    def opaque(self, start: int, end: int) -> bool:
        """Text taken as data still counts its separators, against a looser budget."""
        return self.budget.add("opaque_separators", len(_OPAQUE.findall(self.text, start, end)))


_FEW = _few(ShellBounds())
"""The most counted characters a text may hold and be within every bound by count alone;
`expansions` too, when `$`s are counted with them (`exceeded_bound`)."""
assert BOUNDS.expansions >= _FEW, "exceeded_bound counts `$` among the few"
