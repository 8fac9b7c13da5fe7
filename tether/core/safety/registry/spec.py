"""Program specs: what one program's options, subcommands and operands mean, as data.

A spec is written with two helpers, `program()` and `sub()`, in a compact
notation (docs/safety.md, "How to add a program"):

- options are one string of tokens `SPELLINGS[=ROLE][!FACT]`: `-n|--lines=`
  takes a value in both spellings, `-f|--file=r` takes a path that is read,
  `--in-place=?!file_write` takes an optional attached value and writes
  files, `--check!~file_write` is check mode (it clears the node's
  `file_write` fact);
- value roles: `=` a plain value, `=r` read, `=w` written, `=l` listed,
  `=t` a whole tree read, `=d` a directory worked in, `=x` a command run,
  `=f` a code file run, `=?` an optional attached value, `=c` a command line
  up to `;` or `+` whose words are judged as a command of their own
  (`find -exec`); an option spelled `--warn-*` lists a family by prefix;
- operands are roles in order, the last one repeating: `"v r"` is a pattern
  then files read; `"-"` takes no operands;
- `passes_to` is the spec of the program that receives the words after `--`
  (`cargo fmt -- --check` is rustfmt's `--check`);
- `detect` names the code detectors that run on every call of the program
  (`detect="curl_sent_files file_urls"`): what data cannot say, such as the
  meaning of a value (`-d @file` sends a file) or of code in another language.

Anything a spec does not list is not vetted: an unknown option or
subcommand makes the call not read-only (`unvetted`). Specs compile to lean
objects (slots, frozensets) at import, so vetting a call is dictionary
lookups.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from tether.core.safety.options import OptionSpec

__all__ = ["ROLES", "Node", "Opt", "program", "sub", "words"]

ROLES = {
    "": "value",
    "r": "read",
    "w": "write",
    "l": "list",
    "t": "tree",
    "d": "cd",
    "x": "command",
    "f": "code",
    "?": "value",
    "c": "argv",
}
"""Role letters of option values, and what they stand for."""

_OPERAND_ROLES = {
    "v": "value",
    "r": "read",
    "w": "write",
    "l": "list",
    "t": "tree",
    "d": "delete",
    "x": "exec",
    "a": "arg",
    "-": "none",
}


@dataclass(frozen=True, slots=True)
class Opt:
    """One option: its spellings, whether it takes a value, what the value is, its fact."""

    names: tuple[str, ...]
    takes_value: bool
    optional_value: bool
    role: str
    """`value`, `read`, `write`, `list`, `tree`, `cd`, `command`, `code` (see `ROLES`)."""
    fact: str | None = None
    clears: str | None = None
    """A node fact this option cancels (`--check` clears a formatter's `file_write`)."""


@dataclass(slots=True)
class Node:
    """A program or one of its subcommands."""

    name: str
    options: dict[str, Opt] = field(default_factory=dict)
    subs: dict[str, Node] = field(default_factory=dict)
    facts: tuple[str, ...] = ()
    operands: tuple[str, ...] = ("arg",)
    any_options: bool = False
    """Options are not vetted one by one: the node's own facts already make it ask."""
    inherit: bool = True
    """The parent's options are valid here too (`npm test --prefix x`)."""
    numeric: bool = False
    """`-5` is an option (`head -5`)."""
    max_operands: int | None = None
    operand_values: frozenset[str] | None = None
    """When set, the only operands that are vetted (make targets, `git stash list`)."""
    words: bool = False
    """Options are whole words (`find -name`, `go test -run=X`): never letter clusters."""
    one_target: bool = False
    """Operands are targets judged one by one (`make test`): several at once are not vetted."""
    prefixes: tuple[tuple[str, Opt], ...] = ()
    """Option families listed by prefix (`--warn-*`)."""
    detect: tuple[str, ...] = ()
    """Names of the code detectors run on every call (a program's root only)."""
    passes_to: Node | None = None
    """The spec of the program that receives the words after `--` (`cargo fmt -- --check`
    hands them to rustfmt); None when they are not vetted (`cargo test -- --nocapture`)."""
    compiled: bool = False
    parsing: OptionSpec = field(default_factory=OptionSpec)

    def option(self, name: str) -> Opt | None:
        return self.options.get(name)


def _parse_options(text: str) -> dict[str, Opt]:
    options: dict[str, Opt] = {}
    for token in text.split():
        spelled, _, fact_text = token.partition("!")
        names_text, equals, role_letter = spelled.partition("=")
        if role_letter not in ROLES:
            raise ValueError(f"option {token!r}: unknown role {role_letter!r}")
        clears = fact_text[1:] if fact_text.startswith("~") else None
        opt = Opt(
            names=tuple(names_text.split("|")),
            takes_value=bool(equals) and role_letter not in {"?", "c"},
            optional_value=role_letter == "?",
            role=ROLES[role_letter],
            fact=None if clears is not None or not fact_text else fact_text,
            clears=clears,
        )
        for name in opt.names:
            if not name.startswith("-") and not name.startswith("+"):
                raise ValueError(f"option {token!r}: {name!r} is not an option")
            options[name] = opt
    return options


def _parse_operands(text: str) -> tuple[str, ...]:
    roles = []
    for letter in text.split():
        if letter not in _OPERAND_ROLES:
            raise ValueError(f"operand role {letter!r} is not one of {sorted(_OPERAND_ROLES)}")
        roles.append(_OPERAND_ROLES[letter])
    return tuple(roles) or ("arg",)


def _compile(node: Node, inherited: Mapping[str, Opt]) -> None:
    if node.compiled:
        return  # a spec reused under another program (`npx prettier`) keeps its own options
    node.compiled = True
    if node.inherit:
        node.options = {**inherited, **node.options}
    node.prefixes = tuple(
        (name[:-1], opt) for name, opt in node.options.items() if name.endswith("*")
    )
    short_values = set()
    long_values = set()
    attached = set()
    for name, opt in node.options.items():
        if name.startswith("--") or (name.startswith("-") and len(name) > 2):
            if opt.takes_value:
                long_values.add(name)
        elif len(name) == 2:
            if opt.takes_value:
                short_values.add(name[1])
            elif opt.optional_value:
                attached.add(name[1])
    node.parsing = OptionSpec(
        short_values=frozenset(short_values),
        long_values=frozenset(long_values),
        optional_attached=frozenset(attached),
        numeric_flags=node.numeric,
    )
    for child in node.subs.values():
        _compile(child, node.options)
    if node.passes_to is not None:
        _compile(node.passes_to, {})


def sub(
    options: str = "",
    *,
    operands: str = "a",
    facts: str = "",
    subs: Mapping[str, Node] | None = None,
    any_options: bool = False,
    inherit: bool = True,
    numeric: bool = False,
    max_operands: int | None = None,
    operand_values: Iterable[str] | None = None,
    name: str = "",
    words: bool = False,
    one_target: bool = False,
    passes_to: Node | None = None,
) -> Node:
    """A subcommand (or a program's root) written in the notation above."""
    return Node(
        name=name,
        options=_parse_options(options),
        subs=dict(subs or {}),
        facts=tuple(facts.split()),
        operands=_parse_operands(operands),
        any_options=any_options,
        inherit=inherit,
        numeric=numeric,
        max_operands=max_operands,
        operand_values=frozenset(operand_values) if operand_values is not None else None,
        words=words,
        one_target=one_target,
        passes_to=passes_to,
    )


def program(
    names: str,
    options: str = "",
    *,
    operands: str = "a",
    facts: str = "",
    subs: Mapping[str, Node] | None = None,
    any_options: bool = False,
    numeric: bool = False,
    max_operands: int | None = None,
    operand_values: Iterable[str] | None = None,
    words: bool = False,
    one_target: bool = False,
    detect: str = "",
) -> dict[str, Node]:
    """A program's spec under each of its names (`grep egrep fgrep`)."""
    root = sub(
        options,
        operands=operands,
        facts=facts,
        subs=subs,
        any_options=any_options,
        numeric=numeric,
        max_operands=max_operands,
        operand_values=operand_values,
        words=words,
        one_target=one_target,
    )
    root.detect = tuple(detect.split())
    _name_subs(root)
    _compile(root, {})
    first = names.split()[0]
    root.name = first
    return dict.fromkeys(names.split(), root)


def _name_subs(node: Node) -> None:
    if node.compiled:
        return
    for word, child in node.subs.items():
        if not child.name:
            child.name = word
        _name_subs(child)


def alias(node: Node, *words: str) -> dict[str, Node]:
    """One subcommand under several words (`ls list`)."""
    return dict.fromkeys(words, node)


def words(text: str) -> tuple[str, ...]:
    """Names written as one string, which keeps long tables short (`words("get list")`)."""
    return tuple(text.split())
