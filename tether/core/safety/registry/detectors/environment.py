"""Detectors for calls that print the environment or shell variables, whole or by name."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tether.core.safety.registry.call import Call
from tether.core.safety.registry.detectors.words import is_secret_name
from tether.core.safety.registry.shell_options import set_option_problem, shopt_problem

if TYPE_CHECKING:
    from tether.core.safety.programs.base import Findings

__all__ = [
    "declared_variables",
    "listed_variables",
    "printed_variables",
    "process_environment",
    "set_options",
    "shell_options",
]


def printed_variables(f: Findings, call: Call) -> None:
    """`printenv` prints everything; `printenv TOKEN` a secret."""
    names = [text for _, text in call.operands]
    if not names:
        f.fact("env_dump", f"{f.command.text} (prints the environment)")
    elif any(is_secret_name(name) for name in names):
        f.fact("secrets_read", f"{f.command.text} (prints a secret variable)")


def declared_variables(f: Findings, call: Call) -> None:
    """`export`, `declare -p`, `readonly` alone print variables; `declare -p TOKEN` a secret."""
    c = f.command
    if c.program == "set":
        if not c.args:
            f.fact("env_dump", "set (prints every variable)")
        return
    flags = "".join(o.name[1:] for o in call.options if not o.name.startswith("--"))
    variables = [text for _, text in call.operands]
    if c.program == "export" and (not variables or "p" in flags):
        f.fact("env_dump", f"{c.text} (prints the environment)")
    elif not variables and (
        (c.program in {"declare", "typeset"} and (not flags or "p" in flags or "x" in flags))
        or c.program == "readonly"
    ):
        f.fact("env_dump", f"{c.text} (prints variables)")
    elif "p" in flags and any(is_secret_name(v) for v in variables):
        f.fact("secrets_read", f"{c.text} (prints a secret variable)")


_VARIABLE_LISTS = frozenset({"variable", "export", "arrayvar"})


def listed_variables(f: Findings, call: Call) -> None:
    """`compgen -v`, `compgen -A export`: the names of every variable."""
    if call.has("-v", "-e") or set(call.values("-A")) & _VARIABLE_LISTS:
        f.fact("shell_state", f"{f.command.text} (lists the names of shell variables)")


def process_environment(f: Findings, call: Call) -> None:
    """`ps e`, `ps auxe`, `ps -E`: the environment of every process shown."""
    # Every word without a dash, option values too: BSD letters may follow any of them.
    bsd_e = any(not a.startswith("-") and "e" in a for a in f.command.args)
    if bsd_e or "-E" in f.command.args:
        f.fact("env_dump", f"{f.command.text} (shows the environment of processes)")


def shell_options(f: Findings, call: Call) -> None:
    """`shopt -s NAME` / `shopt -u NAME`: an option outside `registry/shell_options.py`'s
    lists (`expand_aliases`, `dotglob`, `globstar`, `-u globskipdots`, `-s -o history`)
    changes what later lines run or which files their globs name."""
    on = call.has("-s")
    off = call.has("-u")
    if not (on or off):
        return  # `shopt`, `shopt -p NAME`, `shopt -q NAME`: a query changes nothing
    set_names = call.has("-o")
    dynamic = f.command.dynamic_args
    for index, name in call.operands:
        # `-s` and `-u` together is bash's error; judged as both, the stricter.
        problems = [
            set_option_problem(name, d) if set_names else shopt_problem(name, d)
            for d in (True, False)
            if (on if d else off)
        ]
        problem = next((p for p in problems if p is not None), None)
        if index in dynamic:
            problem = f"{name}: a shell option only known at run time"
        if problem is not None:
            _changes_reading(f, problem)
            return


def _changes_reading(f: Findings, problem: str) -> None:
    """A shell option that changes how later lines read: `shell_state` names it in the
    reason; `not_understood` (the lines after it are not read as bash will read them)
    keeps it from being allowed in any preset, permissive too."""
    f.fact("shell_state", f"{f.command.text} ({problem})")
    f.fact("not_understood", f"{f.command.text} ({problem})")


_SET_LETTERS_ON = frozenset("euxvETfCBhmbaP")
"""`set -X` letters that leave the model as it is (as `SET_ON` for their long names).
Not `H` (history expansion), `k` (assignments anywhere), `n`, `p`, `t`."""
_SET_LETTERS_OFF = _SET_LETTERS_ON | {"H"}


def set_options(f: Findings, call: Call) -> None:
    """`set -H`, `set -o history`, `set +o interactive-comments`: options outside
    `registry/shell_options.py`'s lists change how bash reads the lines after them.

    Read from the words as bash's `set` reads them, not from the spec's reading:
    bash takes `+o NAME` and `+H` as options, and an `o` anywhere in a letter
    cluster takes the next word as its name (`set -eo pipefail`, `set -Ho history`).
    """
    args = f.command.args
    dynamic = f.command.dynamic_args
    index = 0
    while index < len(args):
        arg = args[index]
        if arg in {"--", "-"} or len(arg) < 2 or arg[0] not in {"-", "+"}:
            return  # the positional parameters start here
        on = arg[0] == "-"
        problem = None
        for letter in arg[1:]:
            if letter == "o":
                if index + 1 >= len(args):
                    continue  # `set -o`: prints the options (the letters go on: `-oH`)
                index += 1
                name = args[index]
                problem = set_option_problem(name, on)
                if index in dynamic:
                    problem = f"{name}: a shell option only known at run time"
            elif letter == "H" and on:
                problem = "-H turns on history expansion: `!` words rewrite the lines after it"
            elif letter not in (_SET_LETTERS_ON if on else _SET_LETTERS_OFF):
                problem = f"{arg[0]}{letter}: a shell option the analyser does not model"
            if problem is not None:
                _changes_reading(f, problem)
                return
        index += 1
