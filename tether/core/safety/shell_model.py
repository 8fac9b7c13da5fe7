"""The shell analysis's data: the commands a line would run, and where each was found.

These are the types every stage shares: the walk builds `SimpleCommand`s, the
expansion stage adds the ones hidden in wrappers and embedded code, and the
analyzer's processors read them. They import nothing from the stages above.

They are not pydantic models: the walk builds one per command, redirect and
script on every fresh gate call, and nothing outside the analysis receives them
(the classification handed on is a model of its own). `SimpleCommand` and
`Redirect` (and `ShellScript`) are named tuples: immutable like a frozen dataclass, but built in a
fifth of the time (a frozen dataclass sets each of its 25 fields through
`object.__setattr__`), and the expansion stage builds one per command.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

from tether.core.safety.shell_words import Word

__all__ = [
    "NAME_TAKERS",
    "WALKED_PROGRAMS",
    "Redirect",
    "ShellScript",
    "SimpleCommand",
    "StdinKind",
    "WalkContext",
    "needs_walk",
]

StdinKind = Literal["none", "pipe", "heredoc", "herestring", "file"]


class Redirect(NamedTuple):
    """One redirection: `op` as written (`>`, `>>`, `<`, `&>`, `2>`), and its target."""

    op: str
    target: str
    dynamic: bool = False
    """The target contains something only known at run time (`> "$LOG"`)."""
    sources: tuple[str, ...] = ()
    """Programs behind a process-substitution target (`< <(curl ...)`)."""
    glob: bool = False
    """The target is an unquoted glob (`< .e*`): the file it names is known at run time,
    so the target is `dynamic` too."""

    @property
    def writes(self) -> bool:
        return ">" in self.op

    @property
    def reads(self) -> bool:
        return "<" in self.op


class SimpleCommand(NamedTuple):
    """One command that would run, normalised.

    `program` is the basename in lower case after wrappers are peeled
    (`sudo /usr/bin/RM -rf /` has program `rm`, wrapper `sudo`); `args` are the
    words after it with quotes removed. Index lists point into `args`.
    """

    program: str
    """Basename in lower case; empty for a bare `NAME=value` assignment."""
    program_text: str = ""
    """The program word as written, unquoted (`/usr/bin/rm`, `./run.sh`)."""
    args: tuple[str, ...] = ()
    dynamic_program: bool = False
    """The program name is only known at run time (`$CMD`, `$(which x)`)."""
    dynamic_args: tuple[int, ...] = ()
    glob_args: tuple[int, ...] = ()
    procsub_args: tuple[int, ...] = ()
    """Arguments that are process substitutions (`<(curl ...)`)."""
    dynamic_code: bool = False
    """Shell code this command runs (`bash -c "$X"`, `eval $(...)`) is only known at run time."""
    code_walked: bool = False
    """A shell running a `-c` string and nothing else (`bash -c 'git status'`): the string's
    commands are in the script, judged on their own; the shell is only their wrapper."""
    substituted: tuple[str, ...] = ()
    """Programs whose output is substituted into this command's words or code."""
    variables: tuple[str, ...] = ()
    """Names of the variables this command's words expand."""
    assignments: tuple[tuple[str, str], ...] = ()
    """Environment assignments: `NAME=value` prefixes, `env NAME=value`, `export NAME=value`."""
    redirects: tuple[Redirect, ...] = ()
    wrappers: tuple[str, ...] = ()
    wrapper_paths: tuple[tuple[str, str], ...] = ()
    """(path, access) named by the wrappers' own options (`env -C DIR`, `chroot DIR`)."""
    wrapper_facts: tuple[str, ...] = ()
    """Risk facts of the wrappers themselves (`uv run --with PKG` installs a package)."""
    stdin: StdinKind = "none"
    stdin_text: str | None = None
    """What stdin carries when it is known: a here-document, a here-string, `echo` output."""
    piped_from: tuple[str, ...] = ()
    """Programs earlier in the pipeline feeding this command's stdin."""
    args_from_stdin: bool = False
    """More arguments are read from stdin at run time (`xargs`)."""
    source: str = ""
    """Where the command was found: "" at top level, "$(...)", "bash -c", "find -exec", ..."""
    function: str | None = None
    """The function whose body holds this command."""
    depth: int = 0
    """Nesting level of shell code (`bash -c` inside `bash -c` is 2)."""
    subshell: bool = False
    """Runs in a subshell (`( )`, a pipeline stage, a substitution, `bash -c`): a `cd` there
    does not change the directory of the commands after it."""
    text: str = ""
    """The normalised command line: program and arguments joined by spaces."""

    def is_dynamic(self, index: int) -> bool:
        return index in self.dynamic_args


class ShellScript(NamedTuple):
    """A parsed command: the simple commands it would run and what was not understood.

    A named tuple like the rest: one is built per fresh parse.
    """

    command: str
    commands: tuple[SimpleCommand, ...]
    problems: tuple[str, ...] = ()
    """Why (parts of) the command were not understood; empty when fully understood."""
    recursive_functions: tuple[str, ...] = ()
    """Functions that call themselves (a fork bomb is one)."""

    @property
    def understood(self) -> bool:
        return not self.problems


class WalkContext(NamedTuple):
    """Where the walk stands: nesting, source, function, stdin, the enclosing redirects.

    A named tuple: the walk derives one per statement, and `_replace` on a tuple
    costs a third of `dataclasses.replace` on the gate's hot path.
    """

    depth: int = 0
    source: str = ""
    function: str | None = None
    stdin: StdinKind = "none"
    stdin_text: str | None = None
    piped_from: tuple[str, ...] = ()
    redirects: tuple[Redirect, ...] = ()
    extra_args: tuple[Word, ...] = ()
    subshell: bool = False
    run_by: str = ""
    """The program running this command with words of its own (`find -exec`, `fd -x`): once
    per file, maybe elsewhere, with file names put in its words."""

    def piped(self, stdin_text: str | None, piped_from: tuple[str, ...]) -> WalkContext:
        """A later pipeline stage's context: `_replace(stdin="pipe", stdin_text=...,
        piped_from=..., subshell=True)`, built in one step (a stage per pipe on the hot path).
        """
        return _new(
            WalkContext,
            (
                self.depth,
                self.source,
                self.function,
                "pipe",
                stdin_text,
                piped_from,
                self.redirects,
                self.extra_args,
                True,
                self.run_by,
            ),
        )


_new = tuple.__new__


NAME_TAKERS: dict[str, str | None] = {
    # The builtins that take variable names, and the option before the name (None: any
    # argument may be one). Bash evaluates a subscript in such a name as arithmetic:
    # `read 'a[$(cmd)]'` runs cmd.
    "test": "-v",
    "[": "-v",
    "printf": "-v",
    "read": None,
    "mapfile": None,
    "readarray": None,
    "wait": None,
    "getopts": None,
    "unset": None,
}
WALKED_PROGRAMS = frozenset({"let", *NAME_TAKERS})
"""The programs whose arguments the walk itself may have to judge (`needs_walk`): a
command of one leaves the lanes when it does."""


def needs_walk(command: SimpleCommand) -> bool:
    """Whether the walk must judge `command` (of `WALKED_PROGRAMS`) beyond its record.

    `let` always (arithmetic); a builtin taking variable names when an argument holds a
    `[` (an array element, its subscript evaluated as arithmetic) or is only known at
    run time.
    """
    program = command.program
    if program == "let":
        return True
    return bool(command.dynamic_args) or any("[" in arg for arg in command.args)
