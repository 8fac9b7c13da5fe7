"""Detectors for calls that print the environment or shell variables, whole or by name."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tether.core.safety.registry.call import Call
from tether.core.safety.registry.detectors.words import is_secret_name

if TYPE_CHECKING:
    from tether.core.safety.programs.base import Findings

__all__ = [
    "declared_variables",
    "listed_variables",
    "printed_variables",
    "process_environment",
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
    """`shopt -s expand_aliases`: aliases defined in the line then run as commands."""
    if any(text == "expand_aliases" for _, text in call.operands):
        f.fact("shell_state", f"{f.command.text} (turns on aliases)")
