"""One call as its spec read it: the options, operands and subcommand a detector judges."""

from __future__ import annotations

from collections.abc import Sequence

from tether.core.safety.options import Option
from tether.core.safety.registry.spec import Node, Opt

__all__ = ["Call"]


class Call:
    """The options and operands of one call, read with its program's spec.

    Options are asked for by any one spelling: `call.has("-r")` is true for
    `-r`, `-R` and `--recursive` alike when the spec lists them as one option.
    A call is read while its detectors run and is kept by none: vetting hands
    it the lists it built, not copies.
    """

    __slots__ = ("_specs", "node", "operands", "options", "path", "words")

    def __init__(
        self,
        path: Sequence[Node],
        words: Sequence[str],
        options: Sequence[Option],
        operands: Sequence[tuple[int, str]],
    ) -> None:
        self.path = path
        """The spec nodes from the program down to its subcommand."""
        self.node = path[-1]
        self.words = words
        self.options = options
        self.operands = operands
        """(index, text) of every operand, after `--` too."""
        self._specs: tuple[Opt | None, ...] | None = None
        """Each option's spec, looked up when a detector first asks (most ask nothing)."""

    def _option_specs(self) -> tuple[Opt | None, ...]:
        specs = self._specs
        if specs is None:
            specs = self._specs = tuple(self._spec(option.name) for option in self.options)
        return specs

    def _spec(self, name: str) -> Opt | None:
        for node in reversed(self.path):
            opt = node.options.get(name)
            if opt is not None:
                return opt
        return None

    def given(self, *names: str) -> list[Option]:
        """The options given under any spelling of `names`."""
        options = self.options
        if not options:
            return []
        # One set holds the names (str) and the ids of their specs (int): neither kind
        # equals the other, and `id(None)` is no live spec's id.
        wanted: set[str | int] = set(names)
        for name in names:
            spec = self._spec(name)
            if spec is not None:
                wanted.add(id(spec))
        return [
            option
            for option, spec in zip(options, self._option_specs(), strict=True)
            if option.name in wanted or id(spec) in wanted
        ]

    def has_pattern(self) -> bool:
        """An option gave what the leading value operand would (`grep -e PAT`, `--reference=F`)."""
        return any(spec is not None and spec.pattern for spec in self._option_specs())

    def has(self, *names: str) -> bool:
        """Whether an option was given under any spelling of `names` (`given`, stopping
        at the first)."""
        options = self.options
        if not options:
            return False
        # An option given under one of `names` itself is the common answer (`rm -r`):
        # found without looking up any spec, as the loop below would find it.
        for option in options:
            if option.name in names:
                return True
        wanted: set[str | int] = set(names)
        for name in names:
            spec = self._spec(name)
            if spec is not None:
                wanted.add(id(spec))
        for option, spec in zip(options, self._option_specs(), strict=True):
            if option.name in wanted or id(spec) in wanted:
                return True
        return False

    def values(self, *names: str) -> list[str]:
        return [o.value for o in self.given(*names) if o.value is not None]
