"""Detectors for calls that act on the machine: signals, the clock, kernel and network settings."""

from __future__ import annotations

import re
import warnings
from typing import TYPE_CHECKING

from tether.core.safety.registry.call import Call

if TYPE_CHECKING:
    from tether.core.safety.programs.base import Findings

__all__ = [
    "clock_set",
    "host_name_set",
    "kernel_settings",
    "kill_targets",
    "network_changes",
    "pkill_patterns",
]


def kill_targets(f: Findings, call: Call) -> None:
    """`kill -9 -1` (every process) and `kill 1` (init) stop the machine; others control one."""
    if call.has("-l", "-L"):
        return
    args = f.command.args
    position = 0
    if args[:1] and args[0] in {"-s", "-n", "--signal"}:
        position = 2
    elif args[:1] and args[0].startswith("-") and args[0] != "--":
        position = 1  # the first `-N` is the signal; later ones are process groups
    if position < len(args) and args[position] == "--":
        position += 1
    if any(t in {"-1", "1"} for t in args[position:]):
        f.fact("system_shutdown", f"{f.command.text} (kills every process, or init)")
    else:
        f.fact("process_control")


def pkill_patterns(f: Findings, call: Call) -> None:
    """`pkill -f .`, `pkill -v x`, `killall -u me`: every process, the agent's own too."""
    if call.has("-l", "-V", "-h", "--list", "--version", "--help"):
        return
    patterns = [text for _, text in call.operands]
    regex = f.command.program == "pkill" or call.has("-r")
    if call.has("-v") or not patterns or any(_everything(p) for p in patterns if regex):
        f.fact("system_shutdown", f"{f.command.text} (kills every matching process)")
    else:
        f.fact("process_control")


def _everything(pattern: str) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # `[[:alpha:]]` warns as a nested set
            compiled = re.compile(pattern)
            # `.`, `^`, `.*`, `''`: matches names that share nothing, so every process.
            return all(compiled.search(probe) for probe in ("x", "Q", "7", "/", "_"))
    except re.error:
        return True  # not a pattern Python reads; judged as the worst case


def clock_set(f: Findings, call: Call) -> None:
    """`date 010100002020` (MMDDhhmm[[CC]YY]) sets the clock as `-s` does; `+FORMAT` prints."""
    sets = any(not t.startswith("+") for _, t in call.operands) and not call.has("-j")
    if sets:
        f.fact("system_admin", f"{f.command.text} (sets the clock)")


def kernel_settings(f: Findings, call: Call) -> None:
    """`sysctl kernel.x=1`: an operand that assigns changes the kernel."""
    if any("=" in text for _, text in call.operands):
        f.fact("system_admin", f"{f.command.text} (changes kernel settings)")


_CHANGES = frozenset({"add", "del", "delete", "set", "flush", "change", "replace"})


def network_changes(f: Findings, call: Call) -> None:
    """`ip addr add`, `ip route flush`: ip's objects take abbreviated verbs, so words are read."""
    if any(text in _CHANGES for _, text in call.operands):
        f.fact("system_admin", f"{f.command.text} (changes the network configuration)")


def host_name_set(f: Findings, call: Call) -> None:
    """`hostname NAME` sets the host name; the options alone print it."""
    if call.operands:
        f.fact("system_admin", f"{f.command.text} (sets the host name)")
