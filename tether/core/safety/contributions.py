"""Program knowledge from plugins: `ProgramSpec`, checked and compiled into a `ProgramLookup`.

A plugin's `programs` hook returns `ProgramSpec`s. For a program Tether does
not know (an in-house CLI), a spec may describe it whole, in the registry's
notation (`registry/spec.py`): its options, operands, subcommands, the facts
each has, and which parts only read (`read_only=True`); installing the plugin
is the person's trust in that description. Such a program is then vetted like
a built-in one: an option or subcommand the spec does not list is
`unvetted`, a part not declared read-only asks, and its read-only parts are
allowed by the `plugins` policy below, as a preset's rule would allow them.

For a program Tether knows, a spec may only add: facts (`network`,
`file_write`, ...) and asks (`ask="why"`), to the program or to a subcommand.
Options, operands and `read_only` there would change what Tether vets, so
they are refused. Nothing here reaches below the floor: facts are only ever
added, every argument of a described program is still checked for credential
paths, and the floor's critical facts deny whatever any policy says.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping

from pydantic import BaseModel, ConfigDict, Field

from tether.core.safety.facts import FACTS
from tether.core.safety.policy import Action, Policy, PolicyRule
from tether.core.safety.policy_files import PRESETS, load_policy
from tether.core.safety.programs.base import names
from tether.core.safety.registry import lookup
from tether.core.safety.registry.detect_code import DECODERS
from tether.core.safety.registry.layered import Extra, ProgramLookup
from tether.core.safety.registry.network import NETWORK_PROGRAMS
from tether.core.safety.registry.spec import Node, program, realise, sub
from tether.core.safety.wrappers import INTERPRETERS, SHELLS
from tether.exceptions import PluginError

__all__ = ["CONTRIBUTED_POLICY", "ProgramSpec", "build_lookup", "contributed_policy", "knows"]

CONTRIBUTED_POLICY = "plugins"
"""The name of the policy that allows the read-only parts of programs plugins describe."""

_PROGRAM_NAME = re.compile(r"[a-z0-9][a-z0-9._+-]{0,63}")
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:+-]{0,63}")
_MAX_DEPTH = 4
_MAX_NODES = 500


class ProgramSpec(BaseModel):
    """What a plugin knows about one program (or, under `subcommands`, one subcommand).

    `names` is the program's name and aliases (`"mytool mt"`; ignored for
    subcommands). `options` and `operands` use the registry's notation
    (docs/safety.md, "How to add a program"). A part is allowed without
    asking only if `read_only` and the call uses nothing the spec does not
    list; `facts` name what it does (`network`, `file_write`, ...); `ask`
    makes every call of it ask a person, with that reason.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    names: str = ""
    options: str = ""
    operands: str = "a"
    facts: tuple[str, ...] = ()
    read_only: bool = False
    ask: str | None = Field(default=None, min_length=1, max_length=300)
    subcommands: Mapping[str, ProgramSpec] = Field(default_factory=dict)


_CHANGES_VETTING = ("options", "operands", "read_only")

# Programs the shell layer unwraps or treats as running other code: Tether knows them.
_WRAPPERS = names(
    "sudo doas su runuser pkexec run0 env xargs exec eval command builtin nohup timeout "
    "nice ionice time watch parallel stdbuf chroot nsenter unshare setsid flock busybox "
    "source . find"
)
_VERSIONED = re.compile(r"^(python|pypy|perl|ruby|php|lua|node)[0-9][0-9.]*$")


def knows(name: str) -> bool:
    """Whether Tether itself gives `name` a meaning (then a plugin may only tighten it).

    The registry (its program families included), the
    wrappers and interpreters, and every program a built-in preset names.
    """
    return (
        lookup(name) is not None
        or name in NETWORK_PROGRAMS
        or name in DECODERS
        or name in SHELLS
        or name in INTERPRETERS
        or name in _WRAPPERS
        or bool(_VERSIONED.match(name))
        or name in _preset_programs()
    )


@functools.cache
def _preset_programs() -> frozenset[str]:
    return frozenset(
        program.lower()
        for preset in PRESETS
        for rule in load_policy(preset).rules
        for program in rule.programs
    )


def build_lookup(contributions: Iterable[tuple[str, Iterable[object]]]) -> ProgramLookup:
    """Check every plugin's specs and layer them over the registry.

    Args:
        contributions: (plugin name, what its `programs` hook returned), in
            registration order.

    Raises:
        PluginError: a spec is not a `ProgramSpec`, names an unknown fact, uses
            the notation wrongly, changes how a known program is vetted, or
            describes a program another plugin already described; the message
            names the plugin, the `programs` hook and the program.
    """
    added: dict[str, Node] = {}
    owners: dict[str, str] = {}
    extras: dict[str, list[Extra]] = {}
    for plugin, specs in contributions:
        for spec in specs:
            where = f"plugin {plugin!r}: hook 'programs'"
            if not isinstance(spec, ProgramSpec):
                raise PluginError(f"{where} returned {type(spec).__name__}, not a ProgramSpec")
            names = spec.names.lower().split()
            if not names or not all(_PROGRAM_NAME.fullmatch(name) for name in names):
                raise PluginError(
                    f"{where}: {spec.names!r} is not a program name (lower-case, no '/')"
                )
            where = f"{where}, program {names[0]!r}"
            _check(where, spec, depth=0, counter=[0])
            known = [name for name in names if knows(name)]
            if known:
                changed = sorted(_vetting_changes(spec))
                if changed:
                    raise PluginError(
                        f"{where}: Tether knows {known[0]!r}, so a plugin may only add facts "
                        f"and asks to it; remove {', '.join(changed)}"
                    )
            else:
                taken = [name for name in names if name in owners]
                if taken:
                    raise PluginError(
                        f"{where}: {taken[0]!r} is already described by plugin {owners[taken[0]]!r}"
                    )
                root = _compile(where, spec)
                for name in names:
                    added[name] = root
                    owners[name] = plugin
            extra = _extra(plugin, spec, described=not known)
            for name in names:
                extras.setdefault(name, []).append(extra)
    return ProgramLookup(added, {name: tuple(found) for name, found in extras.items()})


def contributed_policy(lookup: ProgramLookup) -> Policy | None:
    """The base policy allowing the programs plugins described, or None when there are none.

    It allows a part of such a program only where every other base file
    abstains or allows (files combine by strictness), and never a part with a
    fact the analysis could not vouch for (`unvetted`, `plugin_ask`, ...).
    """
    names = lookup.added
    if not names:
        return None
    rule = PolicyRule(
        name="plugin-programs",
        description="The read-only parts of programs that installed plugins describe.",
        action=Action.ALLOW,
        tools=("Bash",),
        programs=names,
        reason="a plugin describes this call as read-only",
    )
    return Policy(
        name=CONTRIBUTED_POLICY,
        description="What installed plugins describe as read-only.",
        rules=(rule,),
        source="plugins",
    )


def _check(where: str, spec: ProgramSpec, *, depth: int, counter: list[int]) -> None:
    counter[0] += 1
    if depth > _MAX_DEPTH or counter[0] > _MAX_NODES:
        raise PluginError(f"{where}: too deep or too large (at most {_MAX_NODES} parts)")
    for kind in spec.facts:
        if kind not in FACTS:
            raise PluginError(f"{where}: {kind!r} is not a fact kind (docs/policies.md lists them)")
    for word, child in spec.subcommands.items():
        if not isinstance(word, str) or not _WORD.fullmatch(word):
            raise PluginError(f"{where}: {word!r} is not a subcommand word")
        if not isinstance(child, ProgramSpec):
            raise PluginError(f"{where}: subcommand {word!r} is not a ProgramSpec")
        _check(f"{where} {word}", child, depth=depth + 1, counter=counter)


def _vetting_changes(spec: ProgramSpec) -> set[str]:
    changed = {name for name in _CHANGES_VETTING if name in spec.model_fields_set}
    for child in spec.subcommands.values():
        changed |= _vetting_changes(child)
    return changed


def _operands(spec: ProgramSpec) -> str:
    # A part with subcommands takes none unless its spec says so: an unknown word
    # there must be an unknown subcommand (unvetted), not an operand of a read-only part.
    if spec.subcommands and "operands" not in spec.model_fields_set:
        return "-"
    return spec.operands


def _compile(where: str, spec: ProgramSpec) -> Node:
    try:
        subs = {word: _sub(child) for word, child in spec.subcommands.items()}
        nodes = program(spec.names.lower(), spec.options, operands=_operands(spec), subs=subs)
        # Read and compiled now, not when first looked up: a plugin's mistake stops start-up.
        return realise(next(iter(nodes.values())))
    except ValueError as error:
        raise PluginError(f"{where}: {error}") from error


def _sub(spec: ProgramSpec) -> Node:
    subs = {word: _sub(child) for word, child in spec.subcommands.items()}
    return sub(spec.options, operands=_operands(spec), subs=subs)


def _extra(plugin: str, spec: ProgramSpec, *, described: bool) -> Extra:
    ask_here = None
    if described and not spec.read_only and not spec.facts and spec.ask is None:
        ask_here = "not declared read-only by its plugin"
    return Extra(
        plugin=plugin,
        facts=spec.facts,
        ask=spec.ask,
        ask_here=ask_here,
        subs={
            word: _extra(plugin, child, described=described)
            for word, child in spec.subcommands.items()
        },
    )
