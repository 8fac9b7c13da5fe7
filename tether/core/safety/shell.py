"""Parse a shell command into every simple command it would run: the parse stage.

The parser is tree-sitter with the tree-sitter-bash grammar: maintained, a few
microseconds per parse (bashlex is unmaintained and ~30x slower), and it never
gives up: a tree with ERROR or MISSING nodes is a command we did not
understand, which `ShellScript.problems` reports (and the policy never allows).

A command is judged by what runs, not by its first word, so the walk collects
every simple command: pipeline stages, `&&`/`||`/`;` lists, subshells and
groups, `$(...)` and backticks (also inside strings, arguments, assignments and
redirect targets), process substitution, loop and `if`/`case` bodies, function
bodies, here-documents fed to a shell, `bash -c`/`eval` strings (recursively,
to a bounded depth), wrappers (`sudo`, `env`, `xargs`, `timeout`, ...) and the
commands programs run themselves (`find -exec`, `git -c core.pager=...`).

Words are normalised as the shell would: quotes and escapes removed, ANSI-C
strings decoded, brace expansion and `$IFS` splitting applied. What cannot be
known before running (a variable from the environment, a command's output)
marks the word dynamic; the approximation kept in its place (an unset variable
is empty, `$(echo rm)` is `rm`) lets the analysis find denials, while the
dynamic mark keeps the command from ever being allowed without a person.

The stage is three modules with one job each: `shell_walk` visits the tree,
`shell_variables` says what the line's variables hold, and `shell_expand`
turns one simple command's words into what really runs (wrappers, embedded
commands, `bash -c`, `xargs`, `find -exec`). `shell_model` holds the data they
share. This module is the entry point: `ShellParser.parse`.
"""

from __future__ import annotations

from tree_sitter import Parser

from tether.core.safety import shell_walk
from tether.core.safety.shell_bounds import exceeded_bound
from tether.core.safety.shell_model import (
    Redirect,
    ShellScript,
    SimpleCommand,
    StdinKind,
    WalkContext,
)
from tether.core.safety.shell_plain import NeedsWalk, NotPlain, PlainLane
from tether.core.safety.shell_text import text_commands
from tether.core.safety.shell_walk import LANGUAGE, Walk, misread_comment, read_code

__all__ = [
    "MAX_COMMANDS",
    "MAX_NESTING",
    "Redirect",
    "ShellParser",
    "ShellScript",
    "SimpleCommand",
    "StdinKind",
]

MAX_NESTING = 4
"""How deep `bash -c "bash -c '...'"` may nest before the command is 'not understood'."""

MAX_COMMANDS = 128
"""More simple commands than this in one call is not something a person can review
(and the walk costs tens of microseconds per command)."""


_new = tuple.__new__
_TOP_LEVEL = WalkContext()
"""Where a command given to the parser stands (immutable: one serves every parse)."""


class ShellParser:
    """Parses shell commands; one instance is reused for every call (not thread-safe)."""

    def __init__(
        self,
        *,
        max_nesting: int = MAX_NESTING,
        max_commands: int = MAX_COMMANDS,
        plain_lane: bool = True,
        one_pass: bool = True,
        terminated: bool = True,
        text_lane: bool = True,
    ) -> None:
        self._parser = Parser(LANGUAGE)
        self._max_nesting = max_nesting
        self._max_commands = max_commands
        self._plain_lane = plain_lane
        """Off only to compare the lanes: the general walk then reads every tree."""
        self._one_pass = one_pass
        """Off only to compare the lanes: plain trees are then walked by their plan."""
        self._terminated = terminated
        """Off only to compare the parses: every text is then parsed as given (`parse_line`)."""
        self._text_lane = text_lane and plain_lane
        """Off only to compare the lanes: every line is then parsed (`shell_text`)."""
        self._lane = PlainLane(LANGUAGE)

    def parse(self, command: str) -> ShellScript:
        """Every simple command `command` would run, and what could not be understood.

        Never raises for any string: what cannot be parsed is reported in `problems`.
        """
        walk: Walk | None = None
        # The first steps of `Walk.script` for a command at the top level (nesting 0),
        # then the plain lane with no walk at all: most commands are plain, and a plain
        # line that runs no nested code has no problem and defines no function.
        if self._max_nesting >= 0 and exceeded_bound(command) is None:
            if self._text_lane:
                # A line of bare words has one reading: its commands from its text alone.
                found = text_commands(command, self._max_commands)
                if found is not None:
                    return _new(ShellScript, (command, tuple(found), (), ()))
            text, data, root = read_code(self._parser, command, terminated=self._terminated)
            plan = self._plain_lane and text.isascii() and not root.has_error
            if plan and b"#" in data and misread_comment(data, root):
                plan = False  # the walk reports the comment (the lanes skip comments)
            if plan and self._one_pass:
                commands: list[SimpleCommand] = []
                try:
                    self._lane.walk(
                        root,
                        text,
                        _TOP_LEVEL,
                        commands,
                        limit=self._max_commands,
                        level=0,
                        max_level=shell_walk._MAX_NODE_DEPTH,
                    )
                except NotPlain:
                    plan = False  # the plan stops where the lane did: the general walk's
                except (NeedsWalk, RecursionError):
                    pass  # the plan's
                else:
                    return _new(ShellScript, (command, tuple(commands), (), ()))
            walk = self._walk()
            try:
                walk.tree(text, data, root, _TOP_LEVEL, lane=False, plan=plan)
            except RecursionError:
                walk.problem("the command is nested too deeply to analyse")
        else:
            walk = self._walk()
            try:
                walk.script(command, _TOP_LEVEL)
            except RecursionError:
                walk.problem("the command is nested too deeply to analyse")
        problems = tuple(dict.fromkeys(walk.problems)) if walk.problems else ()
        # Built from its four fields in order: the named tuple's keyword constructor is
        # a Python call of its own.
        return _new(
            ShellScript,
            (
                command,
                tuple(walk.commands),
                problems,
                walk.recursive_functions() if walk.calls else (),
            ),
        )

    def _walk(self) -> Walk:
        return Walk(
            self._parser,
            self._max_nesting,
            self._max_commands,
            plain_lane=self._plain_lane,
            one_pass=self._one_pass,
            terminated=self._terminated,
            lane=self._lane,
        )
