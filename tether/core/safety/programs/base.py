"""Findings, the collector every program handler writes to, and what they share."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from tether.core.safety.facts import PathAccess, PathUse, RiskFact, make_fact, open_slots
from tether.core.safety.options import OptionSpec, ParsedArgs, parse_args
from tether.core.safety.registry.detectors.words import (
    broad_target,
    is_block_device,
    is_secret_name,
)
from tether.core.safety.shell import SimpleCommand

__all__ = [
    "Findings",
    "Handler",
    "HandlerTable",
    "broad_target",
    "is_block_device",
    "is_secret_name",
    "names",
    "parse",
    "spec",
]


def names(text: str) -> frozenset[str]:
    """A set of words written as one string (keeps long tables short)."""
    return frozenset(text.split())


class Findings:
    """Facts and paths found for one command; handlers add to it."""

    __slots__ = ("command", "facts", "handled_paths", "paths", "shell_strings", "subcommand")

    def __init__(self, command: SimpleCommand) -> None:
        self.command = command
        self.facts: list[RiskFact] = []
        self.paths: list[PathUse] = []
        self.subcommand: tuple[str, ...] = ()
        self.handled_paths = False
        """The handler named every path; no generic guessing needed."""
        self.shell_strings: list[str] = []
        """Shell code that inline code in another language hands to a shell."""

    def fact(self, kind: str, detail: str | None = None) -> None:
        # A plain loop: a generator per fact costs more than the few facts it reads.
        for found in self.facts:
            if found.kind == kind:
                return
        self.facts.append(make_fact(kind, detail if detail is not None else self.command.text))

    def has(self, kind: str) -> bool:
        return any(f.kind == kind for f in self.facts)

    def arg(self, index: int, access: PathAccess) -> None:
        """Argument `index` of the command is a path used with `access`."""
        command = self.command
        if index in command.procsub_args:
            return  # `<(cmd)`: a pipe from a command that is judged on its own
        args = command.args  # read once: a named tuple's field costs several local reads
        if 0 <= index < len(args):
            # What `PathUse(...)` makes, filled in as an object of its slots (`open_slots`):
            # without the call through the class and its `__init__`, once per path.
            use: Any = _new(_OPEN_PATH)
            use.path = args[index]
            use.access = access
            use.dynamic = index in command.dynamic_args  # a procsub index returned above
            use.glob = index in command.glob_args
            use.__class__ = PathUse
            self.paths.append(use)

    def text_path(self, text: str, access: PathAccess, *, dynamic: bool = False) -> None:
        """A path found inside a word (`of=/dev/sda`, `--output=x`, `file:///etc/passwd`)."""
        if text:
            use: Any = _new(_OPEN_PATH)  # as in `arg`
            use.path = text
            use.access = access
            use.dynamic = dynamic
            use.glob = False
            use.__class__ = PathUse
            self.paths.append(use)

    def option_path(self, parsed: ParsedArgs, options: Iterable[str], access: PathAccess) -> None:
        wanted = set(options)
        for option in parsed.options:
            if option.name in wanted and option.value is not None:
                dynamic = option.value_index in self.command.dynamic_args
                self.text_path(option.value, access, dynamic=dynamic)

    def operands(self, parsed: ParsedArgs, access: PathAccess, start: int = 0) -> None:
        for index, _ in parsed.operands[start:]:
            self.arg(index, access)


_new = object.__new__
_OPEN_PATH = open_slots(PathUse)

Handler = Callable[[Findings], None]


class HandlerTable(dict[str, Handler]):
    """Program name -> handler; `@table.on("cp mv")` registers a handler for several names."""

    def on(self, programs: str) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            for program in programs.split():
                self[program] = handler
            return handler

        return register


def spec(short: str = "", long: str = "", attached: str = "", numeric: bool = False) -> OptionSpec:
    """An option table: `short` letters and `long` names (space-separated) take a value."""
    return OptionSpec(
        short_values=frozenset(short),
        long_values=frozenset(long.split()),
        optional_attached=frozenset(attached),
        numeric_flags=numeric,
    )


def parse(f: Findings, option_spec: OptionSpec, start: int = 0) -> ParsedArgs:
    return parse_args(f.command.args, option_spec, start)
