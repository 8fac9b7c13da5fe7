"""The registry of program knowledge: one spec per program, read by every stage.

`REGISTRY` maps a program name (lower-case basename) to its spec (`Node`).
The analyzer vets each call against it (`vet`): option values are never
taken for subcommands, and whatever the spec does not list is `unvetted`.
The shell walk, wrapper unwrapping, the sandbox's path extraction and the
presets read the same specs (`tests/core/safety/test_registry.py` checks
that every program a preset names is here).
"""

from __future__ import annotations

from tether.core.safety.registry import (
    cloud,
    dev,
    git,
    interpreters,
    network,
    packages,
    readers,
    search,
)
from tether.core.safety.registry.spec import Node, Opt
from tether.core.safety.registry.vet import vet

__all__ = ["REGISTRY", "Node", "Opt", "lookup", "vet"]

REGISTRY: dict[str, Node] = {
    **readers.SPECS,
    **search.SPECS,
    **git.SPECS,
    **dev.SPECS,
    **network.SPECS,
    **cloud.SPECS,
    **packages.SPECS,
    **interpreters.SPECS,
}
"""Program name -> spec."""


def lookup(program: str) -> Node | None:
    """The spec of `program`, or None when the registry does not know it."""
    return REGISTRY.get(program)
