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
  nothing to the command) among a command's arguments.
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

from tether.core.safety.shell_expand import expand_command, plain_command
from tether.core.safety.shell_model import SimpleCommand, WalkContext
from tether.core.safety.shell_plain import literal_output
from tether.core.safety.shell_words import Word

__all__ = ["text_commands"]

_BARE = r"A-Za-z0-9_./:@%+,=\-"
_WORD = rf"(?:[{_BARE}]++|'[ -&(-~]*+')++"
"""A word: bare characters and single-quoted strings. Possessive (`++`): a run of bare
characters, a quoted string and a word each end where nothing could extend them (a
blank, an operator or the end follows a word; `'` closes the quoted string, which holds
none), so giving some back never finds another match; it only costs backtracking."""
_OPERATOR = r"(?: (?:&&|\|\|?) | ?; ?)"
_COMMAND = rf"{_WORD}(?: {_WORD})*(?: 2>&1)?"
_LINE = re.compile(rf"{_COMMAND}(?:{_OPERATOR}{_COMMAND})*")
"""A line the lane reads: commands of words (and `2>&1`s) joined by operators."""
_TOKEN = re.compile(rf"2>&1|{_WORD}|&&|\|\||\||;")
"""One token of a line `_LINE` matched: the descriptor copy, a word, an operator."""
_OPERATORS = frozenset({"&&", "||", "|", ";"})
_ODD_EQUALS = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\+?=|=|.*==")
_ODD_NAME = re.compile(r"[@%+]")
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
_PRINTERS = frozenset({"echo", "printf", "pwd", "cat"})
"""The programs whose output `literal_output` may know (as `PlainLane`)."""
_TOP_LEVEL = WalkContext()
_FIRST_STAGE = WalkContext(subshell=True)
"""The first stage of a pipeline at the top level: in a subshell, nothing piped in."""


def text_commands(text: str, limit: int) -> list[SimpleCommand] | None:
    """The commands the top-level line `text` runs, or None when the lane does not read it.

    `text` must be within the shell bounds (`exceeded_bound`); `limit` is how many
    commands the script may hold (more: None, the walk reports it).
    """
    at = text.find("2>&1")
    if at >= 0:
        # The commonest reason to leave a long line, found before the costlier match
        # below: a `2>&1` after a list or a pipe (`a && b 2>&1 | c`; see the loop).
        head = text[text.rfind(";", 0, at) + 1 : at]
        if "|" in head or "&" in head:
            return None
    if _LINE.fullmatch(text) is None:
        return None
    # The line's tokens: words, `2>&1`s and operators.
    if "'" in text:
        tokens = _TOKEN.findall(text)
    else:
        # Blanks part every token but a `;`, which may touch the words beside it.
        tokens = text.replace(";", " ; ").split() if ";" in text else text.split(" ")
    # One pass: a command is expanded when the operator after it (or the end) is read,
    # which says whether a pipe joins it to the next.
    commands: list[SimpleCommand] = []
    words: list[str] = []
    stages = 1  # of the pipeline being read
    opens = True  # that pipeline opens a statement: the line's first, or after a `;`
    upstream: tuple[str, ...] = ()  # the programs piped into the next stage
    piped = False  # the command being read is a later stage of a pipeline
    for token in (*tokens, ";"):  # (the end closes the last command as a `;` would)
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
                printed = literal_output((before,)) if program in _PRINTERS else None
                ctx = _TOP_LEVEL.piped(printed, upstream)
            else:
                ctx = _FIRST_STAGE if pipe else _TOP_LEVEL
            # Every word is its text: not dynamic, no glob, nothing substituted (`Word(text)`).
            found = plain_command(words, ctx)
            if found is None:  # a wrapper, embedded code: the whole expansion
                expansion = expand_command([Word(text) for text in words], ctx, (), ())
                if expansion.problems or expansion.nested:
                    return None  # nested code, problems: the walk's own work
                found = expansion.command
            if found.program == "let":
                return None  # arithmetic: the walk's own work
            commands.append(found)
            words = []
            piped = pipe
            if pipe:
                stages += 1
                continue
            upstream = ()
            if stages >= _MISREAD_STAGES and opens and token != ";":
                return None
            stages, opens = 1, token == ";"
        elif token == "2>&1":
            if stages > 1 or not opens:
                # The grammar hangs a redirection on all of the list or pipeline before it
                # (`a && b 2>&1 | c` is `{ a && b; } 2>&1 | c` to it).
                return None
        else:
            if token in _KEYWORDS:
                return None
            if words:
                if "=" in token and _ODD_EQUALS.match(token):
                    # (`NAME=` may be an assignment; the grammar reads `==` as an operator.)
                    return None
            elif "=" in token or token[0] == "-" or _ODD_NAME.search(token):
                # An assignment; a name the grammar errs at (`x@y`, `a+:`, `- x%`).
                return None
            if "'" in token:
                # Quotes pair up and hold no quote: what is left is the joined text.
                token = token.replace("'", "")
            words.append(token)
    return commands
