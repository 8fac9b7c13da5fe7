"""Detectors that judge what a call's targets are: everything, a home, a disk, the tree it walks."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tether.core.safety.facts import PathUse
from tether.core.safety.registry.call import Call
from tether.core.safety.registry.detectors.words import broad_target, is_block_device
from tether.core.safety.registry.lazy import LazyPattern

if TYPE_CHECKING:
    from tether.core.safety.programs.base import Findings

__all__ = [
    "cd_home",
    "delete_targets",
    "device_writes",
    "fd_exec",
    "find_expression",
    "permission_targets",
    "setuid_mode",
]

_SETUID = LazyPattern(r"^[ugoa]*[+=][rwxXt]*s|^[0-7]?[2-7][0-7]{3}$")
_MODE_LETTERS = frozenset({"-r", "-w", "-x", "-X", "-s", "-t"})
_DELETERS = frozenset({"rm", "rmdir", "unlink", "shred", "srm"})


def delete_targets(f: Findings, call: Call) -> None:
    """`rm`: a recursive delete of everything, a home or a root is destructive."""
    c = f.command
    targets = call.operands
    if not targets and not c.args_from_stdin:
        return
    if not call.has("-r"):
        f.fact("file_delete")
        return
    # Each test only reads the call: the cheapest goes first (`rm -rf /` needs no other).
    broad = c.args_from_stdin
    if not broad:
        # A loop, not `any()` over a generator: one target is the common case.
        for i, text in targets:
            if broad_target(text, i in c.dynamic_args, i in c.glob_args):
                broad = True
                break
    broad = broad or call.has("--no-preserve-root")
    f.fact("destructive_delete" if broad else "recursive_delete")


def _targets(call: Call) -> list[tuple[int, str]]:
    """The operands that are files: after a leading mode or owner, never a `+i`/`=r` mode."""
    operands = list(call.operands)
    leading = call.node.operands[0] == "value" and len(call.node.operands) > 1
    # `chmod -x f`, `chmod -R -w /`: a mode that looks like options (getopt splits it).
    dashed_mode = call.node.name == "chmod" and any(o.name in _MODE_LETTERS for o in call.options)
    if leading and operands and not call.has_pattern() and not dashed_mode:
        operands = operands[1:]
    return [(i, t) for i, t in operands if not t.startswith(("+", "="))]


def permission_targets(f: Findings, call: Call) -> None:
    """`chmod -R 777 ~`: permissions changed on everything, a home or a root are destructive."""
    c = f.command
    operands = _targets(call)
    broad = any(broad_target(t, i in c.dynamic_args, i in c.glob_args) for i, t in operands)
    recursive = call.has("-R")
    if broad and (recursive or any(t.rstrip("/") in {"", "/", "~"} for _, t in operands)):
        f.fact("destructive_permissions")
    elif operands:
        f.fact("permission_change")


def setuid_mode(f: Findings, call: Call) -> None:
    """`chmod u+s x`, `chmod 4755 x`: the setuid or setgid bit is privilege escalation."""
    if call.has_pattern() or not call.operands:
        return
    mode = call.operands[0][1]
    if any(_SETUID.match(part) for part in mode.split(",")):
        f.fact("privilege_escalation", f"{f.command.text} (sets the setuid or setgid bit)")


def device_writes(f: Findings, call: Call) -> None:
    """A write to a disk or memory device (`cp x /dev/sda`, `dd of=/dev/nvme0n1`) destroys it."""
    for use in f.paths:
        if use.access == "write" and is_block_device(use.path):
            f.fact("disk_destruction", f"{f.command.text} (writes the disk device {use.path})")
            return


_FIND_FILTERS = frozenset(
    [
        "-name",
        "-iname",
        "-path",
        "-ipath",
        "-wholename",
        "-iwholename",
        "-regex",
        "-iregex",
        "-type",
        "-xtype",
        "-newer",
        "-anewer",
        "-cnewer",
        "-mtime",
        "-mmin",
        "-atime",
        "-amin",
        "-ctime",
        "-cmin",
        "-size",
        "-user",
        "-group",
        "-uid",
        "-gid",
        "-perm",
        "-links",
        "-inum",
        "-samefile",
        "-lname",
        "-ilname",
        "-empty",
        "-newermt",
        "-newerat",
        "-newerct",
        "-readable",
        "-writable",
        "-executable",
        "-nouser",
        "-nogroup",
        "-used",
    ]
)
_FIND_NAMES = frozenset({"-name", "-iname", "-path", "-ipath", "-wholename", "-iwholename"})


def find_expression(f: Findings, call: Call) -> None:
    """find's expression: what it deletes (all it walks, without a filter) and what it reads.

    The expression is a small language (filters, actions, parentheses), so it is
    read here; the spec says which words take values and which run commands.
    """
    # Which words take a value and which run a command: the spec's, not a second list.
    options = call.node.options
    runs = frozenset(name for name, opt in options.items() if opt.role == "argv")
    takes_value = frozenset(name for name, opt in options.items() if opt.takes_value) - runs
    args = f.command.args
    index = 0
    while index < len(args) and not args[index].startswith(("-", "(", "!")):
        index += 1
    if index == 0:
        f.text_path(".", "list")
    filters = deletes = executes = False
    name_patterns: list[str] = []
    while index < len(args):
        arg = args[index]
        if arg in _FIND_NAMES and index + 1 < len(args):
            name_patterns.append(args[index + 1])
        if arg in runs:
            executes = True
            end = index + 1
            while end < len(args) and args[end] not in {";", "+"}:
                end += 1
            if index + 1 < len(args) and args[index + 1].rsplit("/", 1)[-1] in _DELETERS:
                deletes = True
            index = end + 1
            continue
        deletes = deletes or arg == "-delete"
        filters = filters or arg in _FIND_FILTERS
        index += 2 if arg in takes_value else 1
    if deletes:
        # Without a filter, find deletes the whole tree it walks.
        f.fact("recursive_delete" if filters else "destructive_delete")
    if executes:
        # `find . -name .env -exec cat {} ;` reads every file the filter picks.
        for pattern in name_patterns:
            f.paths.append(PathUse(path=pattern.lstrip("*/") or pattern, access="read", glob=True))


def fd_exec(f: Findings, call: Call) -> None:
    """`fd -x rm` deletes what it finds (all, without a filter); `fd -H -x cat` reads dotfiles."""
    commands = call.given("-x", "-X")
    if not commands:
        return
    filters = bool(call.operands) or call.has("-e", "-S", "--and")
    unhidden = call.has("-H", "-u", "-I")
    args = f.command.args
    for option in commands:
        first = args[option.index + 1] if option.index + 1 < len(args) else ""
        if first.rsplit("/", 1)[-1] in _DELETERS:
            f.fact("recursive_delete" if filters else "destructive_delete")
        if unhidden:
            f.fact("unresolved_path", f"{f.command.text} (runs a command on hidden files)")


def cd_home(f: Findings, call: Call) -> None:
    """`cd` alone goes home; `cd -` goes where the shell was before (only known at run time)."""
    if not call.operands:
        f.text_path("~", "cd")
    elif call.operands[0][1] == "-":
        f.text_path("-", "cd", dynamic=True)


def man_files(f: Findings, call: Call) -> None:
    """`man ls` looks up a page; `man -l FILE` or `man ./x` reads a file."""
    local = call.has("-l")
    for index, text in call.operands:
        if local or "/" in text:
            f.arg(index, "read")
