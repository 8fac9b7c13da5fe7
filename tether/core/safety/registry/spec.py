"""Program specs: what one program's options, subcommands and operands mean, as data.

A spec is written with two helpers, `program()` and `sub()`, in a compact
notation (docs/safety.md, "How to add a program"):

- options are one string of tokens `SPELLINGS[^][=ROLE][!FACT]`: `-n|--lines=`
  takes a value in both spellings, `-f|--file=r` takes a path that is read,
  `--in-place=?!file_write` takes an optional attached value and writes
  files, `--check!~file_write` is check mode (it clears the node's
  `file_write` fact);
- value roles: `=` a plain value, `=r` read, `=w` written, `=l` listed,
  `=t` a whole tree read, `=d` a directory worked in, `=x` a command run,
  `=f` a code file run, `=?` an optional attached value, `=c` a command line
  up to `;` or `+` whose words are judged as a command of their own
  (`find -exec`), `=g` a glob of files read (`--include=*.py`; `!x` excludes),
  `=o` a target directory written, which makes every operand a source
  (`cp -t DIR a b`); `==` takes two words (`jq --arg NAME VALUE`), `==r`
  two words of which the second is a file read; an option spelled
  `--warn-*` lists a family by prefix;
- `^` after the spellings: the option stands for the leading value operand
  (`grep -e PAT a b`: every operand is then a file; `chmod --reference=F`);
- operands are roles in order, the last one repeating: `"v r"` is a pattern
  then files read; `"-"` takes no operands; a role written `$w` is the last
  operand's (`cp a b DEST`: `"r $w"`);
- `keyed="if=r of=w bs="`: operands written `KEY=VALUE` (`dd`), each key
  with the role of its value; an unlisted key is not vetted;
- `operand_facts`: facts that hold only when the call names an operand
  (`touch` alone writes nothing); `detect`: the names of code detectors
  (`registry/detectors/`) that judge what data cannot say, such as whether
  `rm -r`'s target is a home directory; `other`: what a subcommand the
  spec does not list does (`docker run` is container work), its call is
  still not vetted; `nocase`: subcommands are matched ignoring case.
- `passes_to` is the spec of the program that receives the words after `--`
  (`cargo fmt -- --check` is rustfmt's `--check`); `dashdash=False`: `--` does
  not end the options (pytest reads options after it; find's `--` ends only its
  leading options); `response_files`: an `@FILE` operand holds more options;
- `scan` names whole-call detectors (`registry/detect_*.py`) that the
  program step runs on every call of the program, before the spec vets it
  (`scan="curl_sent_files file_urls"`): the meaning of a value (`-d @file`
  sends a file) or of code in another language.

Anything a spec does not list is not vetted: an unknown option or
subcommand makes the call not read-only (`unvetted`). Specs compile to lean
objects (slots, frozensets), so vetting a call is dictionary lookups. A
program's options are read and compiled when it is first looked up
(`realise`), not at import: a process knows some five hundred programs and a
session calls a few dozen. What `program()` will compile is fixed when it is
called (its plan), so a subcommand a module adds to a spec afterwards is
compiled, or not, exactly as if the spec had been compiled then.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from tether.core.safety.options import OptionSpec

__all__ = ["ROLES", "Node", "Opt", "program", "realise", "sub", "words"]

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
    "g": "glob",
    "o": "target",
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
    "c": "cd",
    "-": "none",
}


_NO_VALUES = OptionSpec()
"""How a node no plan compiled reads its option words: no option takes a value (one
frozen value, shared)."""


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
    pattern: bool = False
    """The option gives what the leading value operand would (`grep -e PAT`)."""
    second: str | None = None
    """The role of a second word the option takes (`jq --slurpfile NAME FILE`)."""


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
    last: str | None = None
    """The role of the last operand, when it differs (`cp a b DEST`)."""
    keyed: dict[str, str] | None = None
    """`KEY=VALUE` operands (`dd if=x`): key -> role of the value."""
    operand_facts: tuple[str, ...] = ()
    """Facts that hold only when the call names an operand."""
    detect: tuple[str, ...] = ()
    """Names of the code detectors (`registry/detectors/`) run on a call that reaches here."""
    other: Node | None = None
    """What a subcommand the spec does not list does (its facts; the call is unvetted)."""
    nocase: bool = False
    """Subcommands are matched ignoring case (`diskutil eraseDisk`)."""
    scan: tuple[str, ...] = ()
    """Names of the whole-call detectors (`registry/detect_*.py`) the program step runs
    on every call (a program's root only)."""
    passes_to: Node | None = None
    """The spec of the program that receives the words after `--` (`cargo fmt -- --check`
    hands them to rustfmt); None when they are not vetted (`cargo run -- x`)."""
    dashdash: bool = True
    """`--` ends the options. False: the program reads options after it too (pytest), or
    it ends only the leading options (`find -- src -fprint F`): the words go on being
    vetted."""
    response_files: bool = False
    """An operand `@FILE` is read as more options (pytest, mypy): not vetted."""
    compiled: bool = field(default=False, compare=False, repr=False)
    """A `program()` plan compiles this node (set when the plan is made)."""
    parsing: OptionSpec = field(default=_NO_VALUES)
    whole: bool = field(default=True, compare=False, repr=False)
    """Some single-dash option is a whole word (`xxd -EBCDIC`): set from the options when
    the node is compiled; True (look it up) on a node no plan compiled."""
    follows: bool = field(default=True, compare=False, repr=False)
    """Some option takes a second word or a command line (`jq --arg`, `fd -x`): set from
    the options when the node is compiled; True (look it up) on a node no plan compiled."""
    quiet: frozenset[str] = field(default=frozenset(), compare=False, repr=False)
    """Options that vetting, given without a value, finds listed and nothing more: no
    fact, nothing cleared, no pattern (`-q`). Set when the node is compiled; empty (vet
    each one) on a node no plan compiled."""
    quiet_values: frozenset[str] = field(default=frozenset(), compare=False, repr=False)
    """Options that vetting, given with a value, finds listed and nothing more: the above,
    and a plain value the option takes (`-n 20`)."""
    valued: frozenset[str] = field(default=frozenset(), compare=False, repr=False)
    """Letters whose single-dash option takes a value, attached or not (`-n 5`, `-i.bak`):
    the option reader's `short_values` and `optional_attached` in one set."""
    plain: frozenset[str] = field(default=frozenset(), compare=False, repr=False)
    """Option words the walk reads as themselves and vetting finds listed and nothing more:
    quiet, taking no next word, followed by nothing (`-q`, `--oneline`). Set when the node
    is compiled; empty (read each word) on a node no plan compiled."""
    uniform: str | None = field(default=None, compare=False, repr=False)
    """The role of every operand (up to `max_operands`), when that role alone says what
    each one is: one role, not written nor `none`, no keys, targets, listed values or last
    role (`rm`: delete). Set when the node is compiled; None (the general reading) on a
    node no plan compiled."""
    unread: str | None = field(default=None, compare=False, repr=False)
    """The option text `sub()` was given, until `realise` reads it into `options`."""
    plan: list[tuple[Node, Node | None]] | None = field(default=None, compare=False, repr=False)
    """On a program's root until it is realised: the nodes its `program()` call compiles,
    in order, each with the node whose options it inherits (None: none)."""
    owner: Node | None = field(default=None, compare=False, repr=False)
    """The root whose plan compiles this node."""
    ready: bool = field(default=True, compare=False, repr=False)
    """False on a program's root until `realise` has read and compiled all it reaches."""

    def option(self, name: str) -> Opt | None:
        return self.options.get(name)


def _parse_options(text: str) -> dict[str, Opt]:
    options: dict[str, Opt] = {}
    for token in text.split():
        opt = _READ.get(token)
        if opt is None:
            opt = _READ[token] = _parse_option(token)
        for name in opt.names:
            options[name] = opt
    return options


_READ: dict[str, Opt] = {}
"""Each option token read so far, by its text: tokens repeat across a program's nodes (git's
97 nodes spell some 5,100 options in 570 tokens), and an `Opt` is frozen, so the nodes share
it. Only static spec text is read here; a token that is refused is not kept."""


def _parse_option(token: str) -> Opt:
    spelled, _, fact_text = token.partition("!")
    names_text, equals, role_letter = spelled.partition("=")
    second = None
    if role_letter.startswith("="):
        second = ROLES.get(role_letter[1:], "")
        role_letter = ""
    pattern = names_text.endswith("^")
    names_text = names_text.removesuffix("^")
    if role_letter not in ROLES or second == "":
        raise ValueError(f"option {token!r}: unknown role {role_letter!r}")
    clears = fact_text[1:] if fact_text.startswith("~") else None
    opt = Opt(
        names=tuple(names_text.split("|")),
        takes_value=bool(equals) and role_letter not in {"?", "c"},
        optional_value=role_letter == "?",
        role=ROLES[role_letter],
        fact=None if clears is not None or not fact_text else fact_text,
        clears=clears,
        pattern=pattern,
        second=second,
    )
    for name in opt.names:
        if not name.startswith("-") and not name.startswith("+"):
            raise ValueError(f"option {token!r}: {name!r} is not an option")
    return opt


_WELL_WRITTEN = re.compile(r"[-+][^\s|=!]*(?:\|[-+][^\s|=!]*)*(?:==?[rwltdxf?cgo]?)?(?:![^\s]*)?")
"""One option token `_parse_options` reads without an error (a name starts with `-` or
`+`, a role is one of `ROLES`): checked when a spec is written, so a mistake is refused
there, while reading it waits for the program's first lookup."""

_WELL_WRITTEN_SEEN: set[str] = set()
"""Tokens already checked while the registry's tables import: they repeat (some 12,000
tokens, 3,300 distinct), and checking each spelling once is a fifth of the import."""


def _check_options(text: str) -> None:
    for token in text.split():
        if token not in _WELL_WRITTEN_SEEN:
            if _WELL_WRITTEN.fullmatch(token) is None:
                _parse_options(text)  # raises the error naming the token
            _WELL_WRITTEN_SEEN.add(token)


def _parse_operands(text: str) -> tuple[tuple[str, ...], str | None]:
    roles = []
    last = None
    for letter in text.split():
        if letter.startswith("$"):
            last = _operand_role(letter[1:])
        else:
            roles.append(_operand_role(letter))
    return tuple(roles) or ("arg",), last


def _operand_role(letter: str) -> str:
    if letter not in _OPERAND_ROLES:
        raise ValueError(f"operand role {letter!r} is not one of {sorted(_OPERAND_ROLES)}")
    return _OPERAND_ROLES[letter]


def _parse_keyed(text: str) -> dict[str, str]:
    keyed = {}
    for token in text.split():
        key, _, letter = token.partition("=")
        if letter not in ROLES:
            raise ValueError(f"keyed operand {token!r}: unknown role {letter!r}")
        keyed[key] = ROLES[letter]
    return keyed


def _plan(
    node: Node, parent: Node | None, root: Node, plan: list[tuple[Node, Node | None]]
) -> None:
    """Record what compiling `node` would compile, in order, without compiling it."""
    if node.compiled:
        return  # a spec reused under another program (`npx prettier`) keeps its own options
    node.compiled = True
    node.owner = root
    plan.append((node, parent))
    for child in node.subs.values():
        _plan(child, node, root, plan)
    if node.passes_to is not None:
        _plan(node.passes_to, None, root, plan)
    if node.other is not None:
        _plan(node.other, node, root, plan)


_deferring = True
"""While the registry imports its own tables (which happens first: importing this module
runs the registry package), `program()` only plans its compilation; `compile_at_once`
ends that, so a spec written later (a plugin's, a test's) is compiled as it is written."""


def compile_at_once() -> None:
    """Compile every spec written from now on when it is written (the registry calls this
    once its tables are read)."""
    global _deferring
    _deferring = False
    _WELL_WRITTEN_SEEN.clear()  # later specs are read at once, which checks them


_REALISING = threading.RLock()
"""Realising a spec writes its nodes: one thread at a time (the gate may preview in threads)."""


def realise(root: Node) -> Node:
    """`root` with its options read and compiled, and those of every node it reaches.

    Runs once per program (later calls return at once); the options are read
    from static text, so this is compiling, not caching what a call asked.

    Raises:
        ValueError: an option is written wrongly (a plugin's spec; the shipped
            ones are checked by the tests).
    """
    if root.ready:
        return root
    with _REALISING:
        if root.ready:
            return root
        reached = _reach(root)
        for node in reached:
            owner = node.owner
            if owner is not None and owner.plan is not None:
                _run(owner.plan)
                owner.plan = None
        for node in reached:
            if node.unread is not None:  # added after its program's plan: read, not compiled
                node.options = _parse_options(node.unread)
                node.unread = None
        root.ready = True
    return root


def _reach(root: Node) -> list[Node]:
    seen: set[int] = set()
    order = []
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        order.append(node)
        stack.extend(node.subs.values())
        stack.extend(n for n in (node.other, node.passes_to) if n is not None)
    return order


def _run(plan: list[tuple[Node, Node | None]]) -> None:
    for node, parent in plan:
        if node.unread is not None:
            node.options = _parse_options(node.unread)
            node.unread = None
        _compile(node, parent.options if parent is not None else {})


def _compile(node: Node, inherited: Mapping[str, Opt]) -> None:
    if node.inherit:
        node.options = {**inherited, **node.options}
    prefixes = []
    short_values = set()
    long_values = set()
    attached = set()
    quiet = set()
    quiet_values = set()
    whole = follows = False
    any_options = node.any_options
    # One pass over the options settles what vetting would otherwise ask of every
    # option word (`whole`, `follows`), and what `vet._options` would find of each:
    # nothing but that it is listed (`quiet`, `quiet_values`).
    for name, opt in node.options.items():
        if name.endswith("*"):
            prefixes.append((name[:-1], opt))
        if len(name) > 2 and name[1] != "-":
            whole = True
        if name == "--" or (len(name) > 2 and name[0] == "-"):
            if opt.takes_value:
                long_values.add(name)
        elif len(name) == 2:
            if opt.takes_value:
                short_values.add(name[1])
            elif opt.optional_value:
                attached.add(name[1])
        if opt.second is not None or opt.role == "argv":
            follows = True
        if opt.fact is None and opt.clears is None and not opt.pattern:
            quiet.add(name)
            if opt.role == "value" and (opt.takes_value or opt.optional_value or any_options):
                quiet_values.add(name)
    node.prefixes = tuple(prefixes)
    node.whole = whole
    node.follows = follows
    node.quiet = frozenset(quiet)
    node.quiet_values = frozenset(quiet_values)
    # What the walk reads of these words is the word alone (a letter or a `--` name that
    # takes no value), and what `vet._options` finds of them is nothing: `vet` takes each
    # with one lookup.
    node.plain = frozenset(
        name
        for name in quiet
        if name[0] == "-"
        and (
            (len(name) == 2 and name[1] != "-" and name[1] not in short_values)
            or (len(name) > 2 and name[1] == "-" and name not in long_values)
        )
        and node.options[name].second is None
        and node.options[name].role != "argv"
    )
    # A written operand is tested against the quiet targets and a `none` one is unvetted:
    # neither is said by its role alone.
    simple_operands = (
        len(node.operands) == 1
        and node.operands[0] not in {"write", "none"}
        and node.keyed is None
        and not node.one_target
        and node.operand_values is None
        and node.last is None
    )
    node.uniform = node.operands[0] if simple_operands else None
    node.valued = frozenset(short_values | attached)
    node.parsing = OptionSpec(
        short_values=frozenset(short_values),
        long_values=frozenset(long_values),
        optional_attached=frozenset(attached),
        numeric_flags=node.numeric,
    )


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
    keyed: str | None = None,
    operand_facts: str = "",
    detect: str = "",
    other: Node | None = None,
    nocase: bool = False,
    dashdash: bool = True,
    response_files: bool = False,
) -> Node:
    """A subcommand (or a program's root) written in the notation above."""
    roles, last = _parse_operands(operands)
    parsed: dict[str, Opt] = {}
    if _deferring:
        _check_options(options)
    else:
        parsed = _parse_options(options)
    return Node(
        name=name,
        options=parsed,
        unread=options if _deferring else None,
        subs={word.lower() if nocase else word: child for word, child in (subs or {}).items()},
        facts=tuple(facts.split()),
        operands=roles,
        last=last,
        keyed=_parse_keyed(keyed) if keyed is not None else None,
        operand_facts=tuple(operand_facts.split()),
        detect=tuple(detect.split()),
        other=other,
        nocase=nocase,
        any_options=any_options,
        inherit=inherit,
        numeric=numeric,
        max_operands=max_operands,
        operand_values=frozenset(operand_values) if operand_values is not None else None,
        words=words,
        one_target=one_target,
        passes_to=passes_to,
        dashdash=dashdash,
        response_files=response_files,
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
    keyed: str | None = None,
    operand_facts: str = "",
    detect: str = "",
    scan: str = "",
    other: Node | None = None,
    nocase: bool = False,
    dashdash: bool = True,
    response_files: bool = False,
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
        keyed=keyed,
        operand_facts=operand_facts,
        detect=detect,
        other=other,
        nocase=nocase,
        dashdash=dashdash,
        response_files=response_files,
    )
    root.scan = tuple(scan.split())
    _name_subs(root)
    plan: list[tuple[Node, Node | None]] = []
    _plan(root, None, root, plan)
    root.plan = plan
    root.ready = False
    if not _deferring:
        realise(root)
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
    if node.other is not None and not node.other.name:
        node.other.name = "*"
        _name_subs(node.other)


def alias(node: Node, *words: str) -> dict[str, Node]:
    """One subcommand under several words (`ls list`)."""
    return dict.fromkeys(words, node)


def words(text: str) -> tuple[str, ...]:
    """Names written as one string, which keeps long tables short (`words("get list")`)."""
    return tuple(text.split())
