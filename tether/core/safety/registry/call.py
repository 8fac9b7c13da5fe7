"""One call as its spec read it: the options, operands and subcommand a detector judges."""

from __future__ import annotations

from tether.core.safety.options import Option
from tether.core.safety.registry.spec import Node, Opt

__all__ = ["Call"]


class Call:
    """The options and operands of one call, read with its program's spec.

    Options are asked for by any one spelling: `call.has("-r")` is true for
    `-r`, `-R` and `--recursive` alike when the spec lists them as one option.
    """

    __slots__ = ("node", "operands", "options", "path", "words")

    def __init__(
        self,
        path: tuple[Node, ...],
        words: tuple[str, ...],
        options: tuple[Option, ...],
        operands: tuple[tuple[int, str], ...],
    ) -> None:
        self.path = path
        """The spec nodes from the program down to its subcommand."""
        self.node = path[-1]
        self.words = words
        self.options = options
        self.operands = operands
        """(index, text) of every operand, after `--` too."""

    def _spec(self, name: str) -> Opt | None:
        for node in reversed(self.path):
            opt = node.options.get(name)
            if opt is not None:
                return opt
        return None

    def _matches(self, option: Option, wanted: set[str], specs: list[Opt]) -> bool:
        if option.name in wanted:
            return True
        spec = self._spec(option.name)
        return spec is not None and any(spec is other for other in specs)

    def given(self, *names: str) -> list[Option]:
        """The options given under any spelling of `names`."""
        wanted = set(names)
        specs = [spec for spec in map(self._spec, names) if spec is not None]
        return [o for o in self.options if self._matches(o, wanted, specs)]

    def has_pattern(self) -> bool:
        """An option gave what the leading value operand would (`grep -e PAT`, `--reference=F`)."""
        return any(spec is not None and spec.pattern for spec in map(self._spec_of, self.options))

    def _spec_of(self, option: Option) -> Opt | None:
        return self._spec(option.name)

    def has(self, *names: str) -> bool:
        return bool(self.given(*names))

    def values(self, *names: str) -> list[str]:
        return [o.value for o in self.given(*names) if o.value is not None]
