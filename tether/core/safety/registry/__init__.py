"""The registry of program knowledge: one spec per program, read by every stage.

`REGISTRY` maps a program name (lower-case basename) to its spec (`Node`).
The analyzer vets each call against it (`vet`): option values are never
taken for subcommands, and whatever the spec does not list is `unvetted`.
What data cannot say is judged by the code detectors a spec names
(`registry/detectors/`). The shell walk, wrapper unwrapping, the sandbox's
path extraction and the presets read the same specs
(`tests/core/safety/test_registry.py` checks that every program a preset
names is here).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from tether.core.safety.registry import (
    cloud,
    dev,
    files,
    git,
    interpreters,
    network,
    packages,
    readers,
    search,
    system,
)
from tether.core.safety.registry.detectors import DETECTORS
from tether.core.safety.registry.spec import Node, Opt, compile_at_once, realise
from tether.core.safety.registry.system import FAMILIES, PRIVILEGED
from tether.core.safety.registry.vet import vet

__all__ = [
    "PRIVILEGED",
    "REGISTRY",
    "Node",
    "Opt",
    "Registry",
    "commands_given_as_words",
    "lookup",
    "nodes",
    "registry_facts",
    "vet",
]


def _merge(*modules: dict[str, Node]) -> dict[str, Node]:
    merged: dict[str, Node] = {}
    for specs in modules:
        # A module may extend another's spec (the package managers' installs are
        # added to `dev.py`'s specs): the same spec twice is one program, not two.
        twice = {name for name in merged.keys() & specs.keys() if merged[name] is not specs[name]}
        if twice:
            raise ValueError(f"programs specified twice in the registry: {sorted(twice)}")
        merged.update(specs)
    return merged


class Registry(Mapping[str, Node]):
    """Program name -> spec, each spec compiled when it is first looked up (`realise`).

    Every way to reach a spec goes through `__getitem__` or `get`, so no caller
    sees one before it is compiled.
    """

    __slots__ = ("_specs",)

    def __init__(self, specs: dict[str, Node]) -> None:
        self._specs = specs

    def __getitem__(self, program: str) -> Node:
        node = self._specs[program]
        return node if node.ready else realise(node)

    def get(self, program: str, default: Node | None = None) -> Node | None:  # type: ignore[override]
        node = self._specs.get(program)
        if node is None:
            return default
        return node if node.ready else realise(node)

    def __contains__(self, program: object) -> bool:
        return program in self._specs

    def __iter__(self) -> Iterator[str]:
        return iter(self._specs)

    def __len__(self) -> int:
        return len(self._specs)

    def unrealised(self) -> Mapping[str, Node]:
        """The specs as they are, compiled or not (import-time checks read names and
        detectors, which `program()` and `sub()` set)."""
        return self._specs


REGISTRY = Registry(
    _merge(
        readers.SPECS,
        search.SPECS,
        git.SPECS,
        dev.SPECS,
        files.SPECS,
        system.SPECS,
        network.SPECS,
        cloud.SPECS,
        packages.SPECS,
        interpreters.SPECS,
    )
)
"""Program name -> spec."""


compile_at_once()
_SPECS = REGISTRY.unrealised()
"""The registry's own table (`lookup` reads it without a method call per command)."""


def nodes(root: Node) -> Iterator[Node]:
    """Every node of one spec once: the root, its subcommands, what unlisted ones do."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        yield node
        stack.extend(node.subs.values())
        if node.other is not None:
            stack.append(node.other)


def _check_detectors() -> None:
    checked: set[int] = set()
    for name, root in REGISTRY.unrealised().items():
        if id(root) in checked:
            continue  # the same spec under another name (`grep egrep fgrep`)
        checked.add(id(root))
        for node in nodes(root):
            for detector in node.detect:
                if detector not in DETECTORS:
                    raise ValueError(f"{name}: the spec names an unknown detector {detector!r}")


_check_detectors()


def lookup(program: str) -> Node | None:
    """The spec of `program`, or None when the registry does not know it.

    A family member without a spec of its own (`mkfs.ext4`) has its family's.
    """
    # `REGISTRY.get`, inline: looked up for every command a spec describes.
    spec = _SPECS.get(program)
    if spec is not None:
        return spec if spec.ready else realise(spec)
    for prefix, family in FAMILIES:
        if program.startswith(prefix):
            return REGISTRY[family]
    return None


def commands_given_as_words(program: str) -> frozenset[str]:
    """The options of `program` followed by a command's words (`find -exec`, `fd -x`)."""
    return frozenset(name for name, opt in REGISTRY[program].options.items() if opt.role == "argv")


def registry_facts() -> set[str]:
    """Every fact kind a spec names: on a node, an option, or as cleared by an option."""
    kinds: set[str] = set()
    for root in REGISTRY.values():
        for node in nodes(root):
            kinds.update(node.facts, node.operand_facts)
            for opt in node.options.values():
                kinds.update(k for k in (opt.fact, opt.clears) if k is not None)
    return kinds
