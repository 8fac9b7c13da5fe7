"""Detectors for archivers, whose mode letters decide what is read, written and run."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from tether.core.safety.facts import PathAccess
from tether.core.safety.registry.call import Call

if TYPE_CHECKING:
    from tether.core.safety.programs.base import Findings

__all__ = ["tar_modes"]

_CREATE = frozenset({"--create", "--append", "--update", "--delete", "--catenate", "--concatenate"})
_MODIFY = _CREATE - {"--create"}
_EXTRACT = frozenset({"--extract", "--get"})
_PROGRAM_OPTIONS = (
    "--use-compress-program",
    "--to-command",
    "--info-script",
    "--new-volume-script",
    "--rsh-command",
    "--rmt-command",
    "--checkpoint-action",
)
_OLD_VALUES = "fCTXIbgHKLNV"
"""Letters of old-style `tar czf out.tgz dir` that take the next word each."""


def tar_modes(f: Findings, call: Call) -> None:
    """tar: creating writes the archive and reads the tree, extracting writes files.

    Old-style letters (`tar czf out.tgz dir`) each take the next word, in order,
    which getopt cannot say; the spec reads the modern spellings.
    """
    args = f.command.args
    letters = ""
    archives: list[str] = []
    if args and not args[0].startswith("-"):
        letters = args[0]
        position = 1
        for letter in letters:
            if letter in _OLD_VALUES and position < len(args):
                access: PathAccess = "cd" if letter == "C" else "arg"
                if letter == "f":
                    access = "write" if any(m in letters for m in "cru") else "read"
                    archives.append(args[position])
                f.arg(position, access)
                position += 1
    letters += "".join(o.name[1:] for o in call.options if len(o.name) == 2)
    longs = {o.name for o in call.options}
    creates = any(m in letters for m in "cruA") or bool(longs & _CREATE)
    extracts = "x" in letters or bool(longs & _EXTRACT)
    archive_values = call.values("-f")
    for value in archive_values:
        f.text_path(value, "write" if creates else "read")
    for value in call.values("-C"):
        f.text_path(value, "write" if extracts else "cd")
    if creates:
        for index, _ in call.operands:
            f.arg(index, "read")
    archives += archive_values
    # `tar -cf - src`: a new archive written to stdout reads the tree and writes no file
    # (the tree itself is checked at the sandbox stage; a redirect is judged on its own).
    modifies = any(m in letters for m in "ruA") or bool(longs & _MODIFY)
    to_stdout = set(archives) <= {"-"} and not modifies
    if extracts or (creates and not to_stdout):
        f.fact("file_write")
    if _runs_program(args, letters):
        f.fact("code_execution", f"{f.command.text} (tar runs another program)")
    if "--force-local" not in args and any(":" in a.split("/")[0] for a in archives):
        f.fact("network", f"{f.command.text} (`HOST:FILE` opens a remote shell)")


def _runs_program(args: Sequence[str], letters: str) -> bool:
    """`-I PROG`, `-F SCRIPT`, `--to-command=...`: tar starts a program of the caller's choice."""
    if "I" in letters or "F" in letters:
        return True
    for arg in args:
        if arg.startswith(_PROGRAM_OPTIONS):
            return True
        if arg.startswith("-") and not arg.startswith("--") and ("I" in arg or "F" in arg):
            return True
    return False
