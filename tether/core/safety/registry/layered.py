"""ProgramLookup: the registry's program specs, with what plugins contributed layered on top.

The global `REGISTRY` is never changed: the analyser is given a lookup,
built once by `build_engine` from the plugins' `programs` hooks
(`safety/contributions.py` checks and compiles them). A contribution either
describes a program Tether does not know (its spec is used as the registry's
would be) or adds facts and asks to one it knows; neither removes anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from tether.core.safety.registry import REGISTRY, lookup
from tether.core.safety.registry.spec import Node

__all__ = ["Extra", "ProgramLookup"]


@dataclass(frozen=True, slots=True)
class Extra:
    """Facts and an ask a plugin adds to a program or one of its subcommands."""

    plugin: str
    facts: tuple[str, ...] = ()
    ask: str | None = None
    """Asked whenever the call reaches this node (its subcommands included)."""
    ask_here: str | None = None
    """Asked only when the call stops here: a subcommand of it is judged on its own."""
    subs: Mapping[str, Extra] = field(default_factory=dict)


class ProgramLookup:
    """Program name -> spec: the registry's, then contributed specs of unknown programs.

    Args:
        added: specs of programs the registry does not know, by name.
        extras: facts and asks for programs (known or added), by name.
    """

    __slots__ = ("_added", "_base", "_extras")

    def __init__(
        self,
        added: Mapping[str, Node] | None = None,
        extras: Mapping[str, tuple[Extra, ...]] | None = None,
        *,
        base: Mapping[str, Node] = REGISTRY,
    ) -> None:
        self._base = base
        self._added = dict(added or {})
        self._extras = dict(extras or {})

    def get(self, program: str) -> Node | None:
        """The spec of `program`, or None when neither the registry nor a plugin knows it."""
        # The registry's own lookup also finds a family member (`mkfs.ext4`).
        spec = lookup(program) if self._base is REGISTRY else self._base.get(program)
        return spec if spec is not None else self._added.get(program)

    def contributed(self, program: str) -> bool:
        """Whether a plugin described `program` (Tether itself does not know it)."""
        return program in self._added

    @property
    def names(self) -> frozenset[str]:
        """Every name `get` finds a spec for by itself (a family member finds its family's)."""
        return frozenset(self._base) | frozenset(self._added)

    @property
    def added(self) -> tuple[str, ...]:
        """The names of the programs plugins described."""
        return tuple(self._added)

    @property
    def plain(self) -> bool:
        """Nothing was contributed: `get` is the registry's `lookup`, no program has extras."""
        return self._base is REGISTRY and not self._added and not self._extras

    @property
    def has_extras(self) -> bool:
        return bool(self._extras)

    def extras(self, program: str, words: tuple[str, ...]) -> list[tuple[str, str, str]]:
        """What plugins add to `program words...`: (fact kind, detail, plugin) triples.

        `words` are the call's leading words as vetting named them; the
        contribution's subcommands are followed as far as they match.
        """
        found: list[tuple[str, str, str]] = []
        for root in self._extras.get(program, ()):
            node = root
            path = program
            index = 0
            while True:
                for kind in node.facts:
                    found.append((kind, f"{path} (plugin {node.plugin})", node.plugin))
                if node.ask is not None:
                    found.append(("plugin_ask", f"{path}: {node.ask}", node.plugin))
                child = node.subs.get(words[index]) if index < len(words) else None
                if child is None:
                    if node.ask_here is not None:
                        found.append(("plugin_ask", f"{path}: {node.ask_here}", node.plugin))
                    break
                path = f"{path} {words[index]}"
                node = child
                index += 1
        return found
