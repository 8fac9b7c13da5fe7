"""Split a command's arguments into options and operands, the way getopt would.

Knowing which options take a value is what tells `grep -e PATTERN file` from
`grep PATTERN file`, or `sudo -u root rm` from `sudo rm`: without it a value
would be taken for an operand (and a path), or an operand for a value.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

__all__ = [
    "Option",
    "OptionSpec",
    "ParsedArgs",
    "is_option",
    "parse_args",
    "parse_option",
    "parse_option_into",
]


@dataclass(frozen=True, slots=True)
class OptionSpec:
    """Which options of one program take a value.

    `short_values` are letters (`"u"` for `-u USER`), `long_values` full names
    (`"--user"`). `optional_attached` are short options whose value may only be
    attached (`sed -i.bak`). With `stop_at_operand`, the first operand ends the
    options (wrappers: `sudo rm -rf` must not read `-rf` as sudo's).
    """

    short_values: frozenset[str] = frozenset()
    long_values: frozenset[str] = frozenset()
    optional_attached: frozenset[str] = frozenset()
    stop_at_operand: bool = False
    numeric_flags: bool = False
    """`-5` is an option (`head -5`, `nice -10`), not an operand."""


class Option(NamedTuple):
    """One option as given: its name (`-u`, `--user`) and value, if any.

    A named tuple: vetting reads several per call on every fresh check, and a tuple
    is built without a Python-level setter per field.
    """

    name: str
    value: str | None
    # The field shadows `tuple.index`, which no caller of an option uses.
    index: int  # type: ignore[assignment]
    """Index of the argument holding the option (its value may be in the next one)."""
    value_index: int | None = None


_new_option = tuple.__new__
"""Builds an `Option` as its own `__new__` does (`tuple.__new__` of its four fields),
without that Python-level frame: vetting reads several options per call."""


@dataclass(slots=True)
class ParsedArgs:
    """Options and operands, each with its index in the argument list."""

    options: list[Option] = field(default_factory=list)
    operands: list[tuple[int, str]] = field(default_factory=list)
    end: int = 0
    """Index of the first argument not consumed (with `stop_at_operand`, the operand)."""

    def has(self, *names: str) -> bool:
        return any(option.name in names for option in self.options)

    def values(self, *names: str) -> list[str]:
        return [o.value for o in self.options if o.name in names and o.value is not None]

    def value_options(self, *names: str) -> list[Option]:
        return [o for o in self.options if o.name in names and o.value is not None]


def parse_args(args: Sequence[str], spec: OptionSpec, start: int = 0) -> ParsedArgs:
    """Parse `args[start:]` with `spec`; `--` ends the options."""
    parsed = ParsedArgs()
    index = start
    count = len(args)
    while index < count:
        arg = args[index]
        if arg == "--":
            index += 1
            if spec.stop_at_operand:
                parsed.end = index
                return parsed
            parsed.operands.extend((i, args[i]) for i in range(index, count))
            parsed.end = count
            return parsed
        if is_option(arg):
            index = parse_option(args, index, spec, parsed)
            continue
        if spec.stop_at_operand:
            parsed.end = index
            return parsed
        parsed.operands.append((index, arg))
        index += 1
    parsed.end = count
    return parsed


def is_option(arg: str) -> bool:
    """`-x`, `--name`: a word that is read as an option (a lone `-` is stdin, an operand)."""
    return len(arg) > 1 and arg[0] == "-"


def parse_option(args: Sequence[str], index: int, spec: OptionSpec, parsed: ParsedArgs) -> int:
    """Read the option word at `index` (and its value) into `parsed`; returns the next index."""
    return parse_option_into(args, index, spec, parsed.options)


def parse_option_into(
    args: Sequence[str], index: int, spec: OptionSpec, options: list[Option]
) -> int:
    """Read the option word at `index` (and its value) onto `options`; returns the next index.

    The list form lets a caller that keeps its own list (vetting) skip a `ParsedArgs`.
    """
    arg = args[index]
    if arg.startswith("--") and len(arg) > 2:
        name, equals, value = arg.partition("=")
        if equals:
            options.append(_new_option(Option, (name, value, index, index)))
        elif name in spec.long_values and index + 1 < len(args):
            options.append(_new_option(Option, (name, args[index + 1], index, index + 1)))
            return index + 2
        else:
            options.append(_new_option(Option, (name, None, index, None)))
        return index + 1
    if spec.numeric_flags and arg[1:].isdigit():
        options.append(_new_option(Option, ("-" + arg[1:], None, index, None)))
        return index + 1
    # `-abc` / `-uroot` / `-u root`
    position = 1
    length = len(arg)
    while position < length:
        letter = arg[position]
        if letter in spec.optional_attached:
            rest = arg[position + 1 :]
            options.append(
                _new_option(Option, ("-" + letter, rest or None, index, index if rest else None))
            )
            return index + 1
        if letter in spec.short_values:
            rest = arg[position + 1 :]
            if rest:
                options.append(_new_option(Option, ("-" + letter, rest, index, index)))
                return index + 1
            if index + 1 < len(args):
                options.append(
                    _new_option(Option, ("-" + letter, args[index + 1], index, index + 1))
                )
                return index + 2
            options.append(_new_option(Option, ("-" + letter, None, index, None)))
            return index + 1
        options.append(_new_option(Option, ("-" + letter, None, index, None)))
        position += 1
    return index + 1
