"""Vetting one call against its program's spec: the allowlist rule.

A call is read-only only when every option, subcommand and operand it uses is
listed in its spec as safe for that subcommand. Whatever the spec does not
list is recorded as an `unvetted` fact, which no policy allows without a
person. The walk also names the subcommand (option values are never taken for
subcommands: `kubectl -n prod delete` is a delete), records the facts the
spec attaches to subcommands and options, and names the paths of operands and
option values by role.
"""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from typing import TYPE_CHECKING

from tether.core.safety.facts import PathUse
from tether.core.safety.options import Option, is_option, parse_option_into
from tether.core.safety.registry.call import Call
from tether.core.safety.registry.detectors import DETECTORS
from tether.core.safety.registry.spec import Node, Opt

if TYPE_CHECKING:
    from tether.core.safety.programs.base import Findings

__all__ = ["vet"]

_QUIET = frozenset({"/dev/null", "/dev/stdout", "/dev/stderr", "-"})
_VALUE_ACCESS = {"read": "read", "write": "write", "list": "list", "tree": "read", "cd": "cd"}
_OPERAND_ACCESS = {
    "cd": "cd",
    "read": "read",
    "write": "write",
    "list": "list",
    "tree": "read",
    "delete": "delete",
    "exec": "exec",
    "arg": "arg",
}


def vet(f: Findings, root: Node, *, name_paths: bool) -> tuple[str, ...]:
    """Vet `f.command` against `root`; returns the subcommand words.

    With `name_paths`, operands and option values are named as paths by their
    roles (a program whose code handler names its own paths passes False).
    """
    command = f.command
    args = command.args
    if args and root.name == "tar" and args[0][:1] not in {"-", ""}:
        args = ("-" + args[0], *args[1:])  # `tar tzf x.tgz`: the first word is bundled options
    node = root
    path = [root]
    words: list[str] = []
    operands: list[tuple[int, str]] = []
    passed_on = 0
    """Operands after `--`: handed to another program (`npm test -- --watch`), not targets."""
    given: list[Option] = []
    pending: list[tuple[Option, Node]] = []
    """The options `_options` vets, each with the node it was read under: those the node
    does not list as quiet (a quiet one would only be found listed)."""
    detecting = root.detect
    """Not empty when a node on the path names detectors to run on the call."""
    index = 0
    count = len(args)
    while index < count:
        arg = args[index]
        if arg == "--":
            if not node.dashdash:
                index += 1  # `pytest -- --junitxml=F`, `find -- . -fprint F`: options go on
                continue
            if node.passes_to is not None:
                # `cargo fmt -- --check`: the words after `--` are options of the program
                # the subcommand hands them to, vetted against that program's spec.
                _passed_options(args, index + 1, node.passes_to, given, pending)
            # (index, word) pairs by `enumerate`: a generator would make `args` a cell.
            operands.extend(enumerate(args[index + 1 :], index + 1))
            passed_on = count - index - 1
            break
        if len(arg) > 1 and arg[0] == "-":  # an option word (`is_option`)
            if arg in node.plain:
                # `-q`, `--oneline`: read as the word, and quiet (`Node.plain`).
                given.append(_new(Option, (arg, None, index, None)))
                index += 1
                continue
            # `node.whole` is False only when no single-dash name of the node is a whole
            # word, and then `_whole_word` is False for every word; so it is for a word
            # of two letters (`-q`) or a `--` one, since its name is no longer than it.
            whole = node.whole and len(arg) > 2 and arg[1] != "-"
            if node.words or (whole and _whole_word(arg, node)):
                index = _word_option(f, args, index, node, given)
                _pend(given[-1], node, pending)
                continue
            letters = arg[1:]
            digits = letters.isdigit()
            if digits and node.numeric and node.parsing.numeric_flags and arg not in node.options:
                # `head -20`: what `parse_option_into` reads from it (the word as the name,
                # no value), which `_options` would pass over as numeric and unlisted.
                given.append(_new(Option, (arg, None, index, None)))
                index += 1
                continue
            # `-5` where the spec takes no numeric options is an operand (`expr 3 + -5`).
            if node.numeric or not (digits and "-" + arg[1] not in node.options):
                parsing = node.parsing
                if not node.follows:
                    # No option of the node takes a second word or a command line (settled
                    # when it was compiled): the words most calls give are read here as
                    # `parse_option_into` reads them, without the call.
                    if arg[1] == "-":
                        if "=" not in arg and arg not in parsing.long_values:
                            # `--stat`: a `--` word with no `=` that takes no value.
                            option = _new(Option, (arg, None, index, None))
                            given.append(option)
                            if arg not in node.quiet:
                                pending.append((option, node))
                            index += 1
                            continue
                    elif not digits:  # `-5`: the reader's (a number may be one option)
                        if node.valued.isdisjoint(letters):
                            # `-q`, `-rf`: no letter takes a value: an option per letter.
                            quiet = node.quiet
                            for letter in letters:
                                name = "-" + letter
                                option = _new(Option, (name, None, index, None))
                                given.append(option)
                                if name not in quiet:
                                    pending.append((option, node))
                            index += 1
                            continue
                        first = letters[0]
                        if first in parsing.short_values and first not in parsing.optional_attached:
                            # `-c1-72`, `-n 20`: the first letter takes a value, the rest of
                            # the word or else the next word.
                            name = "-" + first
                            value: str | None = None
                            value_index: int | None = None
                            if len(letters) > 1:
                                value, value_index = letters[1:], index
                            elif index + 1 < count:
                                value, value_index = args[index + 1], index + 1
                            option = _new(Option, (name, value, index, value_index))
                            given.append(option)
                            if name not in (node.quiet if value is None else node.quiet_values):
                                pending.append((option, node))
                            index = index + 1 if value_index is None else value_index + 1
                            continue
                before = len(given)
                index = parse_option_into(args, index, parsing, given)
                for at in range(before, len(given)):
                    option = given[at]
                    # `_pend`, inline: this loop reads most option words.
                    if option.name not in (
                        node.quiet if option.value is None else node.quiet_values
                    ):
                        pending.append((option, node))
                    if not node.follows:
                        # No option of the node takes a second word or a command line
                        # (settled when it was compiled): nothing more to read.
                        continue
                    spec = node.options.get(option.name)
                    if spec is None:
                        continue
                    if spec.second is not None:
                        index = _second_word(f, args, index, node, option)
                    elif spec.role == "argv" and option.value is None:
                        index = _command_end(args, index) + 1  # `fd -x cmd {} ;`: cmd's words
                continue
        if node.subs and not operands:
            child = node.subs.get(arg.lower() if node.nocase else arg)
            if child is None and node.other is not None:
                _unvetted(f, f"{command.program} {' '.join([*words, arg])}: an unknown subcommand")
                child = node.other
            if child is not None:
                node = child
                detecting = node.detect or detecting
                path.append(node)
                words.append(arg)
                index += 1
                continue
            if node.operands == ("none",):
                _unvetted(f, f"{command.program} {' '.join([*words, arg])}: an unknown subcommand")
                operands.extend(enumerate(args[index:], index))
                break
        operands.append((index, arg))
        index += 1
    if not (pending or operands or node.facts or detecting):
        # `git status`, `pytest -q`: nothing more to vet, name or detect.
        return tuple(words) if len(words) <= 3 else tuple(words[:3])
    # Option values are always named by role (`--config=/tmp/x`, `-C DIR`), also for a
    # program whose handler names its operands: the spec is where options are known.
    if pending:
        cleared, pattern_given, target = _options(f, pending, True)
    else:
        cleared, pattern_given, target = _NOTHING_CLEARED, False, False
    own = len(operands) - passed_on
    if node.facts or (own > 0 and node.operand_facts):
        detail = f"{command.text} ({command.program} {' '.join(words)})".rstrip()
        for kind in (*node.facts, *(node.operand_facts if own > 0 else ())):
            if kind not in cleared:
                f.fact(kind, detail)
    if operands:  # `_operands` finds nothing to say of a call without operands
        role = node.uniform
        if role is None or (node.max_operands is not None and own > node.max_operands):
            _operands(f, node, operands, name_paths, own, pattern_given, target, cleared)
        elif name_paths and role != "value":
            # What `_operands` does when one role says all (`Node.uniform`): each operand
            # is a path of that role.
            access = _OPERAND_ACCESS[role]
            for index, _ in operands:
                f.arg(index, access)  # type: ignore[arg-type]
        if node.response_files:
            _response_files(f, operands)
    if detecting:
        # The lists as they are: the call lives only while its detectors run. Filled in as
        # `Call.__init__` fills it in, without the call through the class (a test holds
        # the two alike).
        call = _object_new(Call)
        call.path = path
        call.node = node
        call.words = words
        call.options = given
        call.operands = operands
        call._specs = None
        for step in path:
            for name in step.detect:
                DETECTORS[name](f, call)
    if len(operands) == 1 and not words:
        return (operands[0][1],)  # `cd src`, `rm -rf /`: what the loop below takes, at once
    if len(words) >= 3 or not operands:
        return tuple(words) if len(words) <= 3 else tuple(words[:3])
    for _, text in operands[: 3 - len(words)]:  # a loop: a comprehension is one more call
        words.append(text)
    return tuple(words)


_new = tuple.__new__
"""Builds an `Option` as its own `__new__` does, without that Python-level frame."""

_object_new = object.__new__
"""Makes a `Call` to fill in (`vet`), as its class would before its `__init__`."""

_NOTHING_CLEARED: frozenset[str] = frozenset()
"""What no option clears: the answer for a call without options."""


def _pend(option: Option, node: Node, pending: list[tuple[Option, Node]]) -> None:
    """Hold `option` for `_options`, unless `node` lists it as quiet (for how it was given)."""
    if option.name not in (node.quiet if option.value is None else node.quiet_values):
        pending.append((option, node))


def _passed_options(
    args: tuple[str, ...],
    start: int,
    target: Node,
    given: list[Option],
    pending: list[tuple[Option, Node]],
) -> None:
    index = start
    before = len(given)
    while index < len(args):
        if args[index] == "--":
            break
        if is_option(args[index]):
            index = parse_option_into(args, index, target.parsing, given)
        else:
            index += 1
    for option in given[before:]:
        _pend(option, target, pending)


def _second_word(f: Findings, args: tuple[str, ...], index: int, node: Node, option: Option) -> int:
    """`jq --arg NAME VALUE`: an option that takes a second word; returns the next index."""
    spec = node.options.get(option.name)
    if spec is None or spec.second is None or option.value is None or index >= len(args):
        return index
    role = spec.second
    if role != "value":
        second = Option(option.name, args[index], option.index, index)
        _value(f, Opt(spec.names, True, False, role), second, True)
    return index + 1


def _word_option(
    f: Findings, args: tuple[str, ...], index: int, node: Node, given: list[Option]
) -> int:
    """`-name x`, `-run=X`, `--run X`, `-exec cmd {} ;`: options that are whole words."""
    arg = args[index]
    name, equals, value = arg.partition("=")
    spec = node.options.get(name)
    if spec is None and name.startswith("--"):
        spec = node.options.get(name[1:])
        name = name[1:] if spec is not None else name
    if spec is not None and spec.role == "argv":
        given.append(_new(Option, (name, None, index, None)))
        return _command_end(args, index + 1) + 1
    if equals:
        option = _new(Option, (name, value, index, index))
        given.append(option)
        return _second_word(f, args, index + 1, node, option)
    if spec is not None and spec.takes_value and index + 1 < len(args):
        option = _new(Option, (name, args[index + 1], index, index + 1))
        given.append(option)
        return _second_word(f, args, index + 2, node, option)
    given.append(_new(Option, (name, None, index, None)))
    return index + 1


def _command_end(args: tuple[str, ...], index: int) -> int:
    """The index of the `;` or `+` that ends a command given as words (or the end)."""
    while index < len(args) and args[index] not in {";", "+"}:
        index += 1
    return index


def _whole_word(arg: str, node: Node) -> bool:
    """`xxd -EBCDIC`, `npm -ws`: a single-dash name the spec lists whole."""
    name = arg.partition("=")[0]
    return len(name) > 2 and name[1] != "-" and name in node.options


def _negative_number(arg: str, node: Node) -> bool:
    """`-5` where the spec takes no numeric options: an operand (`expr 3 + -5`)."""
    return arg[1:].isdigit() and "-" + arg[1] not in node.options


def _options(
    f: Findings, pending: list[tuple[Option, Node]], name_paths: bool
) -> tuple[AbstractSet[str], bool, bool]:
    """Vet the options; returns the node facts they clear, whether one gave the leading
    value operand (`grep -e PAT`), and whether one named a target (`cp -t DIR`)."""
    command = f.command
    cleared: AbstractSet[str] = _NOTHING_CLEARED
    pattern_given = target = False
    for option, node in pending:
        spec = node.options.get(option.name)
        if spec is not None:
            # Only an option the node lists by its own name gives a pattern or a target.
            pattern_given = pattern_given or spec.pattern
            target = target or (spec.role == "target" and option.value is not None)
        elif node.numeric and option.name[1:].isdigit():
            continue  # `head -5`, `git log -3`
        else:
            if node.prefixes:
                spec = next((o for p, o in node.prefixes if option.name.startswith(p)), None)
            if spec is None:
                spec = _abbreviation(option.name, node)
                if spec is not None:
                    _unvetted(f, f"{command.program} {option.name}: an abbreviated option")
            if spec is None:
                if option.value is not None and name_paths and _looks_like_path(option.value):
                    f.text_path(option.value, "arg", dynamic=_dynamic(f, option))
                if not node.any_options:
                    _unvetted(
                        f, f"{command.program} {option.name}: an option its spec does not list"
                    )
                continue
        if spec.clears is not None:
            if cleared is _NOTHING_CLEARED:
                cleared = set()
            cleared.add(spec.clears)  # type: ignore[attr-defined]
        if spec.fact is not None:
            f.fact(spec.fact, f"{command.text} ({option.name})")
        if option.value is not None:
            if not spec.takes_value and not spec.optional_value and not node.any_options:
                _unvetted(f, f"{command.program} {option.name}: a value for an option without one")
            _value(f, spec, option, name_paths)
    return cleared, pattern_given, target


def _value(f: Findings, spec: Opt, option: Option, name_paths: bool) -> None:
    role = spec.role
    value = option.value or ""
    if role == "command":
        f.fact("code_execution", f"{f.command.text} ({option.name} runs a command)")
        f.shell_strings.append(value)
        return
    if role == "code":
        f.fact("run_script", f"{f.command.text} ({option.name} loads code from a file)")
        if name_paths:
            f.text_path(value, "read", dynamic=_dynamic(f, option))
        return
    if role == "glob":
        if name_paths and not value.startswith("!"):
            f.paths.append(PathUse(path=value, access="read", glob=True))
        return
    if role == "target":
        role = "write"
    access = _VALUE_ACCESS.get(role)
    if access is None:
        return
    if role == "write" and value not in _QUIET:
        f.fact("file_write", f"{f.command.text} ({option.name} writes {value})")
    if name_paths and value not in _QUIET:
        f.text_path(value, access, dynamic=_dynamic(f, option))  # type: ignore[arg-type]


def _operands(
    f: Findings,
    node: Node,
    operands: list[tuple[int, str]],
    name_paths: bool,
    own: int,
    pattern_given: bool,
    target: bool,
    cleared: AbstractSet[str],
) -> None:
    command = f.command
    roles = node.operands
    if pattern_given and len(roles) > 1 and roles[0] == "value":
        roles = roles[1:]  # `grep -e PAT a b`: the pattern came with an option
    if node.keyed is not None:
        _keyed(f, node.keyed, operands, name_paths)
        return
    if roles == ("none",) and operands:
        _unvetted(f, f"{command.program}: takes no operands, but was given {operands[0][1]!r}")
        return
    if node.max_operands is not None and own > node.max_operands:
        _unvetted(f, f"{command.program}: more operands than its spec vets")
    if node.one_target and sum("=" not in text for _, text in operands[:own]) > 1:
        _unvetted(f, f"{command.program}: several targets at once (each is judged on its own)")
    if node.operand_values is not None:
        unknown = [text for _, text in operands if text not in node.operand_values]
        if unknown:
            _unvetted(f, f"{command.program} {unknown[0]}: not a target its spec lists")
    written = False
    last = node.last if not target and own > 0 else None
    final = len(roles) - 1  # the last role repeats
    for position, (index, text) in enumerate(operands):
        role = roles[position if position < final else final]
        if last is not None and position == own - 1:
            role = last
        if role in {"value", "none"}:
            continue
        if role == "write":
            if text in _QUIET:
                continue  # `/dev/null`, `-`: neither a write nor a path
            written = True
        if name_paths:
            f.arg(index, _OPERAND_ACCESS[role])  # type: ignore[arg-type]
    if written and "file_write" not in cleared:
        f.fact("file_write")  # `gzip -c x` names x, but writes only to stdout


def _response_files(f: Findings, operands: list[tuple[int, str]]) -> None:
    """`pytest @args.txt`: the file's lines are options, which no spec vets."""
    for _, text in operands:
        if text.startswith("@"):
            _unvetted(f, f"{f.command.program} {text}: reads more options from a file")
            return


def _keyed(
    f: Findings, keyed: dict[str, str], operands: list[tuple[int, str]], name_paths: bool
) -> None:
    """`dd if=x of=y`: each operand is `KEY=VALUE`, the key says what the value is."""
    for index, text in operands:
        key, equals, value = text.partition("=")
        role = keyed.get(key) if equals else None
        if role is None:
            _unvetted(f, f"{f.command.program} {text}: not an operand its spec lists")
            continue
        option = Option(key, value, index, index)
        _value(f, Opt((key,), True, False, role), option, name_paths)


def _abbreviation(name: str, node: Node) -> Opt | None:
    """`--forc` for `--force`: getopt_long and git accept a unique prefix of a long option."""
    if not name.startswith("--") or len(name) < 4:
        return None
    matches = list({id(o): o for n, o in node.options.items() if n.startswith(name)}.values())
    if len(matches) == 1:
        return matches[0]
    facts = {o.fact for o in matches}
    # Ambiguous, but every reading carries the same fact (`--forc`: each is a force push).
    return matches[0] if len(facts) == 1 and None not in facts else None


def _looks_like_path(value: str) -> bool:
    return "/" in value or value.startswith(("~", "."))


def _dynamic(f: Findings, option: Option) -> bool:
    return option.value_index is not None and option.value_index in f.command.dynamic_args


def _unvetted(f: Findings, detail: str) -> None:
    f.fact("unvetted", detail)
