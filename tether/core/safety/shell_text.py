"""The text lane: the commands of a line of bare words, read from its text alone.

Most commands an agent runs are a few bare words joined by `&&`, `||`, `;` and
pipes (`git status`, `cd src && pytest -q`, `ls -la | head -20`). Such a line
has one reading in the shell, and it is the one the tree-sitter tree gives: its
words are the blank-separated pieces, its commands the pieces between the
operators, a pipe binding tighter than the others. So the lane builds the
script straight from the text, with no parse and no tree: per command the
same words, the same context rules (`PlainLane`: a pipeline's stages run in a
subshell, a later stage is piped from the programs before it) and the same
expansion (`expand_command`) as the walk, so the script is the walk's, field
for field (a differential test runs both over every corpus line and generated
lines of the lane's alphabet and just outside it).

A line is read only when it is made of:
- words of the characters `A-Z a-z 0-9 _ . / : @ % + , = -` and single-quoted
  strings of printable characters (no newline), glued in any order; no other
  quote, no `$`, backquote, backslash outside quotes, glob or brace character,
  `~`, `#`, `!`, tab or newline;
- single blanks between words, and the operators `&&`, `||`, `|`, `;` between
  commands, with at most one blank on each side;
- the one redirection `2>&1` (a descriptor copy: it names no file and adds
  nothing to the command) closing a command.
The grammar groups some such lines otherwise than the shell, and the lane
groups them as the grammar does (`_grouped`): a `2>&1` closes all of its
statement before it (`a && b 2>&1 | c` is `{ a && b; } 2>&1 | c`), and a
pipeline of three stages that opens a statement, then `&&` or `||`, is
`a | (b | c && REST)`. Where the grammar's grouping is more tangled (a `2>&1`
after a later pipeline stage, a longer pipeline before a list) the lane leaves.
And in it no word may be one the shell or the grammar reads as a keyword or a
declaration (`if`, `done`, `export`, `unset`, `time`, ...), no command's first
word may hold `=` (an assignment), and no later word may start like one
(`NAME=`), which the grammar might read as an assignment too.
Anything else, or a command whose expansion holds work of the walk's own
(nested code, a problem, `let`'s arithmetic), leaves the lane: None, and the
parser walks the tree instead.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from tether.core.safety.shell_expand import bare_command, context_fields
from tether.core.safety.shell_model import (
    WALKED_PROGRAMS,
    SimpleCommand,
    WalkContext,
    needs_walk,
)
from tether.core.safety.shell_plain import PRINTERS, literal_output, stage_output

__all__ = ["text_commands"]

_BARE = r"A-Za-z0-9_./:@%+,=\-"
_WORD = rf"(?:[{_BARE}]++|'[ -&(-~]*+')++"
"""A word: bare characters and single-quoted strings. Possessive (`++`): a run of bare
characters, a quoted string and a word each end where nothing could extend them (a
blank, an operator or the end follows a word; `'` closes the quoted string, which holds
none), so giving some back never finds another match; it only costs backtracking."""
_FIRST_WORD = r"(?!-)(?:[A-Za-z0-9_./:,\-]++|'[ -$&(-*,-<>?A-~]*+')++"
"""A command's first word: a word (`_WORD`) with no `=` (an assignment), no `@`, `%` or
`+` (names the grammar errs at: `x@y`, `a+:`, `- x%`), quoted or not, and no leading `-`.
(The quoted class is `_WORD`'s printable characters but those four.)"""
_OPERATOR = r"(?: (?:&&|\|\|?) | ?; ?)"
_COMMAND = rf"{_FIRST_WORD}(?: {_WORD})*(?: 2>&1)?"
_LINE = rf"{_COMMAND}(?:{_OPERATOR}{_COMMAND})*"
"""A line the lane reads: commands of words (and `2>&1`s) joined by operators. The
lane reads it through `_SKELETON` (`_line_tokens`), so only the tests compile it."""
_SKELETON_WORD = rf"[{_BARE}']++"
_SKELETON_FIRST_WORD = r"(?!-)[A-Za-z0-9_./:,\-']++"
_SKELETON_COMMAND = rf"{_SKELETON_FIRST_WORD}(?: {_SKELETON_WORD})*(?: 2>&1)?"
_SKELETON = re.compile(rf"{_SKELETON_COMMAND}(?:{_OPERATOR}{_SKELETON_COMMAND})*")
"""`_LINE` of a line whose quoted strings are emptied, or `'='` for one a first word may
not hold (`_line_tokens`): each word is then one run of characters, which the regular
expression engine reads in a fraction of the steps a word of quoted strings takes."""
_OPERATORS = frozenset({"&&", "||", "|", ";"})
_ODD_EQUALS = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\+?=|=|.*==")
_KEYWORDS = frozenset(
    # The shell's reserved words, and the grammar's keywords and declaration commands.
    re.findall(
        r"\S+",
        "case coproc declare do done elif else end esac export fi for function if in "
        "local readonly select then time typeset unset unsetenv until while",
    )
)
_MISREAD_STAGES = 3
"""A pipeline of this many stages that opens a statement, then `&&` or `||`, is one the
grammar misreads: `a | b | c && d` as `a | (b | c && d)`. The lane leaves it to the walk,
which reads the tree (and so the script stays the tree's)."""
_MAX_COPIES = 8
"""At most this many `2>&1`s in a line the lane reads: each one after a list nests the
grammar's tree a level deeper, and with `MAX_COMMANDS` commands and this many the tree
stays well within the walk's depth bound (`shell_walk._MAX_NODE_DEPTH`)."""
_TOP_LEVEL = WalkContext()
_FIRST_STAGE = WalkContext(subshell=True)
"""The first stage of a pipeline at the top level: in a subshell, nothing piped in."""
_TOP_LEVEL_FIELDS = context_fields(_TOP_LEVEL)
_FIRST_STAGE_FIELDS = context_fields(_FIRST_STAGE)
"""The record fields of the two contexts most commands run in, built once."""
_PIPED_HEAD = context_fields(_TOP_LEVEL.piped(None, ()))[:14]
_PIPED_TAIL = context_fields(_TOP_LEVEL.piped(None, ()))[16:]
"""The record fields of a later stage at the top level (`_TOP_LEVEL.piped`) but its
stdin text and the programs it is piped from, which lie between the two: its fields
are built from them without the context's (a context in the lane is the top level's,
a first stage's or a later one's, and `piped` sets all that the three differ in)."""
assert context_fields(_TOP_LEVEL.piped("t", ("p",))) == (*_PIPED_HEAD, "t", ("p",), *_PIPED_TAIL)


def text_commands(text: str, limit: int) -> list[SimpleCommand] | None:
    """The commands the top-level line `text` runs, or None when the lane does not read it.

    `text` must be within the shell bounds (`exceeded_bound`); `limit` is how many
    commands the script may hold (more: None, the walk reports it).
    """
    tokens = _line_tokens(text)
    if tokens is None or not _KEYWORDS.isdisjoint(tokens):
        return None  # (a keyword anywhere leaves the lane: `_grouped` leaves at it too)
    tokens.append(";")  # (the end closes the last command as a `;` would)
    at = text.find("2>&1")
    if at >= 0:
        # A `2>&1` after a list or a pipe (`a && b 2>&1 | c`), found before the pass
        # below expands the commands before it only to find it (see the loop).
        head = text[text.rfind(";", 0, at) + 1 : at]
        if "|" in head or "&" in head:
            return _grouped(tokens, limit)
    # A line with no quote, no `=` and no `2>&1` (most lines): each token that is not an
    # operator is a word as it stands, with nothing to unquote and no test to pass.
    bare = at < 0 and "'" not in text and "=" not in text
    # One pass: a command is expanded when the operator after it (or the end) is read,
    # which says whether a pipe joins it to the next.
    commands: list[SimpleCommand] = []
    words: list[str] = []
    stages = 1  # of the pipeline being read
    opens = True  # that pipeline opens a statement: the line's first, or after a `;`
    upstream: tuple[str, ...] = ()  # the programs piped into the next stage
    piped = False  # the command being read is a later stage of a pipeline
    for token in tokens:
        if token in _OPERATORS:
            pipe = token == "|"
            if len(commands) >= limit:
                return None  # one more command than the script may hold: the walk's
            if piped:
                # A later stage: piped from the programs before it, fed what the stage
                # before it prints when that is known (`PlainLane._lane_pipeline`).
                before = commands[-1]
                program = before.program
                if program:
                    upstream += (program,)
                printed = literal_output((before,)) if program in PRINTERS else None
                ctx = _TOP_LEVEL.piped(printed, upstream)
                fields = (*_PIPED_HEAD, printed, upstream, *_PIPED_TAIL)
            elif pipe:
                ctx, fields = _FIRST_STAGE, _FIRST_STAGE_FIELDS
            else:
                ctx, fields = _TOP_LEVEL, _TOP_LEVEL_FIELDS
            # (`_command`, inline: a call per command is a cost on every check.)
            found = bare_command(words, ctx, fields)
            if found is None or (found.program in WALKED_PROGRAMS and needs_walk(found)):
                return None  # nested code, problems, arithmetic: the walk's own work
            commands.append(found)
            words = []
            piped = pipe
            if pipe:
                stages += 1
                continue
            upstream = ()
            if stages >= _MISREAD_STAGES and opens and token != ";":
                return _grouped(tokens, limit)  # the grammar's own grouping
            stages, opens = 1, token == ";"
        elif bare:
            words.append(token)
        elif token == "2>&1":
            if stages > 1 or not opens:
                # The grammar hangs a redirection on all of the list or pipeline before it
                # (`a && b 2>&1 | c` is `{ a && b; } 2>&1 | c` to it).
                return _grouped(tokens, limit)
        else:
            # A later word that may be an assignment (`NAME=`), or holds `==` (an operator
            # to the grammar), leaves the lane. (A first word's odd names `_LINE` turned
            # away.)
            if words and "=" in token and _ODD_EQUALS.match(token):
                return None
            if "'" in token:
                # (`_unquoted`, inline.)
                token = token.replace("'", "")
                if "\0" in token:
                    token = token.replace("\0", " ")
                if "\1" in token:
                    token = token.replace("\1", ";")
            words.append(token)
    return commands


def _line_tokens(text: str) -> list[str] | None:
    """The tokens of the line `text` when `_LINE` matches it, else None: its descriptor
    copies, words and operators in order, each word with its quotes (`_unquoted` gives its
    text: blanks and `;`s inside quotes are hidden from the split).

    Split at its quotes, a line that `_LINE` matches has its quoted strings at odd
    places, each of printable ASCII; with those emptied (`'='` for one holding a
    character a first word may not hold) it is a line `_SKELETON` matches, and the
    other way round (a test holds the two to `_LINE`).
    """
    if "'" not in text:
        if _SKELETON.fullmatch(text) is None:
            return None
        # Blanks part every token but a `;`, which may touch the words beside it.
        return text.replace(";", " ; ").split() if ";" in text else text.split(" ")
    parts = text.split("'")
    if not len(parts) & 1:
        return None  # a quote left open
    skeleton = parts[:]
    for index in range(1, len(parts), 2):
        inside = parts[index]
        if inside:
            if not (inside.isascii() and inside.isprintable()):
                return None
            odd = "=" in inside or "@" in inside or "%" in inside or "+" in inside
            skeleton[index] = "=" if odd else ""
            # Its blanks and `;`s hidden from the split into tokens, as characters no
            # line `_LINE` matches holds (`_unquoted` brings them back).
            if " " in inside:
                inside = parts[index] = inside.replace(" ", "\0")
            if ";" in inside:
                parts[index] = inside.replace(";", "\1")
    if _SKELETON.fullmatch("'".join(skeleton)) is None:
        return None
    line = "'".join(parts)
    return line.replace(";", " ; ").split() if ";" in line else line.split(" ")


def _unquoted(token: str) -> str:
    """The text of a word token holding quotes: they pair up, and a quoted string holds
    none, so what is left without them is the joined text, once what `_line_tokens` hid
    in it is brought back."""
    token = token.replace("'", "")
    if "\0" in token:
        token = token.replace("\0", " ")
    if "\1" in token:
        token = token.replace("\1", ";")
    return token


def _command(
    words: list[str],
    ctx: WalkContext,
    fields: tuple[object, ...],
    into: list[SimpleCommand],
    limit: int,
) -> None:
    """Append the command of the words `words` run in `ctx` (`fields`: its
    `context_fields`) to `into`; `_Leave` when it needs the walk or would make `into`
    hold more than `limit`."""
    # Every word is its text: not dynamic, no glob, nothing substituted (`Word(text)`).
    found = bare_command(words, ctx, fields) if len(into) < limit else None
    if found is None or (found.program in WALKED_PROGRAMS and needs_walk(found)):
        raise _Leave  # nested code, problems, arithmetic, the limit: the walk's own work
    into.append(found)


class _Pipeline(NamedTuple):
    """Stages joined by pipes: each in a subshell, a later one piped from those before."""

    stages: tuple[_Group, ...]


class _Sequence(NamedTuple):
    """A list, or a statement with `2>&1` after it: each item in turn, in one context
    (the grammar's `list` and `redirected_statement`; a descriptor copy adds nothing)."""

    items: tuple[_Group, ...]


_Group = list[str] | _Pipeline | _Sequence
"""A command (its words), or a group of them as the grammar reads the line."""


def _grouped(tokens: list[str], limit: int) -> list[SimpleCommand] | None:
    """`text_commands` of a line the grammar groups otherwise than the shell, or None.

    A `2>&1` closes the whole statement before it: everything since the statement
    began becomes one group with the redirection (`a && b 2>&1 | c` is
    `{ a && b; } 2>&1 | c`), the first of the statement read on (`_statement`). A
    `2>&1` after a pipe's later stage is grouped otherwise again (`a | b | c | d 2>&1 &&
    e` hangs it on `c | d`): None. Commands are expanded as the walk would, group by
    group (`_run`). `tokens` hold no keyword (`text_commands` leaves at one), and a
    `;` closes them.
    """
    if tokens.count("2>&1") > _MAX_COPIES:
        return None
    commands: list[SimpleCommand] = []
    units: list[_Group] = []  # the statement's commands and groups, in order
    operators: list[str] = []  # operators[i] joins units[i] and units[i + 1]
    words: list[str] = []
    for token in tokens:
        if token in _OPERATORS:
            if words:  # (none when a `2>&1` closed the command)
                units.append(words)
                words = []
            if token != ";":
                operators.append(token)
                continue
            group = _statement(units, operators)
            if group is None:
                return None
            try:
                _run(group, _TOP_LEVEL, _TOP_LEVEL_FIELDS, commands, limit)
            except _Leave:
                return None
            units, operators = [], []
        elif token == "2>&1":
            if operators and operators[-1] == "|":
                return None
            units.append(words)
            words = []
            group = _statement(units, operators)
            if group is None:
                return None
            units, operators = [group], []
        else:
            # A later word that may be an assignment (`NAME=`), or holds `==` (an operator
            # to the grammar), leaves the lane, as in `text_commands`.
            if words and "=" in token and _ODD_EQUALS.match(token):
                return None
            words.append(_unquoted(token) if "'" in token else token)
    return commands


def _statement(units: list[_Group], operators: list[str]) -> _Group | None:
    """The statement `units` joined by `operators`, grouped as the grammar groups it.

    Its first pipeline opens it (`_opening`); the lists after it are left-associative,
    pipes binding tighter, and one after a list is read as the shell reads it.
    """
    opened = _opening(units, operators, 0)
    if opened is None:
        return None
    group, at = opened
    if at == len(units):
        return group
    items = [group]
    while at < len(units):
        end = at
        while end < len(operators) and operators[end] == "|":
            end += 1
        items.append(units[at] if end == at else _Pipeline(tuple(units[at : end + 1])))
        at = end + 1
    return _Sequence(tuple(items))


def _opening(units: list[_Group], operators: list[str], start: int) -> tuple[_Group, int] | None:
    """The pipeline that opens at `units[start]`, and the index of the unit after it.

    The grammar reads a pipeline of `_MISREAD_STAGES` stages that opens a statement and
    a list operator after it as `a | (b | c && REST)`, where REST opens in turn and
    takes one pipeline: `a | b | c && d && e` is `(a | (b | c && d)) && e`. With more
    stages it nests further (`a | b | c | d && e && f` is `a | (b | (c | d && e) &&
    f)`), which the lane leaves: None.
    """
    end = start
    while end < len(operators) and operators[end] == "|":
        end += 1
    if end == start:
        return units[start], start + 1
    if end < len(operators) and end - start + 1 >= _MISREAD_STAGES:
        if end - start + 1 > _MISREAD_STAGES:
            return None
        rest = _opening(units, operators, end + 1)
        if rest is None:
            return None
        tail = _Sequence((_Pipeline(tuple(units[start + 1 : end + 1])), rest[0]))
        return _Pipeline((units[start], tail)), rest[1]
    return _Pipeline(tuple(units[start : end + 1])), end + 1


class _Leave(Exception):  # noqa: N818 -- a way out of the lane, not a failure
    """Raised by `_run` at a command that needs the walk, or one past the limit."""


def _run(
    group: _Group,
    ctx: WalkContext,
    fields: tuple[object, ...],
    into: list[SimpleCommand],
    limit: int,
) -> None:
    """Append the commands of `group` run in `ctx` (`fields`: its `context_fields`) to
    `into`, as `PlainLane` walks them.

    Raises `_Leave` at a command that needs the walk or would make `into` hold more
    than `limit`. A command of a group is read here, without a call of its own.
    """
    if isinstance(group, list):
        _command(group, ctx, fields, into, limit)
    elif isinstance(group, _Sequence):
        for item in group.items:
            if type(item) is list:
                _command(item, ctx, fields, into, limit)
            else:
                _run(item, ctx, fields, into, limit)
    else:
        # `PlainLane._lane_pipeline`: a later stage is piped from the programs of every
        # stage before it, fed what the one before it prints when that is known. (A
        # context the lane stands in is the top level's or a subshell's.)
        if not ctx.subshell:
            ctx, fields = _FIRST_STAGE, _FIRST_STAGE_FIELDS
        stage_ctx, stage_fields = ctx, fields
        upstream: tuple[str, ...] = ()
        before = -1
        for stage in group.stages:
            if before >= 0:
                printed, upstream = stage_output(into, before, upstream)
                stage_ctx = ctx.piped(printed, upstream)
                stage_fields = (*_PIPED_HEAD, printed, upstream, *_PIPED_TAIL)
            before = len(into)
            if type(stage) is list:
                _command(stage, stage_ctx, stage_fields, into, limit)
            else:
                _run(stage, stage_ctx, stage_fields, into, limit)
