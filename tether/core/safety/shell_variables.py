"""What the variables of one shell line hold, as far as the line itself says.

A variable is known when every assignment to it in the line is static; its
values are the union of all of them (order and branches are not followed, so
every value is judged). An array is a value of several elements: `x=(rm -rf
/)`, then `"${x[@]}"` is the three words `rm -rf /`, and `$x` is `rm`. A
variable assigned by `read`, by an element (`x[0]=rm`), through a name
reference or from a value only known at run time is unknown: its expansion is
dynamic, which keeps the command from ever being allowed without a person.
`IFS` assigned in the line changes where unquoted expansions split.
"""

from __future__ import annotations

import re

from tether.core.safety.shell_words import MAX_CANDIDATES, Fragment

__all__ = ["ELEMENT_BREAK", "NO_VARIABLES", "Variables"]

ELEMENT_BREAK = "\x00"
"""Stands between the elements of `"${x[@]}"`: each is a word of its own. A NUL never
reaches the parser (tool input with one is refused), so it cannot be written."""

# Variables whose value is known well enough for the analysis: `$HOME/.ssh` is
# `~/.ssh`, `$PWD` is the working directory.
_KNOWN_VARIABLES = {"HOME": "~", "PWD": "."}
# Variables whose value is likely but not certain: judged by the guess, never trusted.
_GUESSED_VARIABLES = {"0": "bash", "SHELL": "bash", "BASH": "bash"}
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

Value = tuple[tuple[str, ...], bool]
"""One value a variable may hold: its elements (one for a plain string), and whether
any of them is an unquoted glob."""


class Variables:
    """The variables assigned in one script and the values each may take."""

    __slots__ = ("_values", "expanded", "hints")

    def __init__(self) -> None:
        self._values: dict[str, list[Value] | None] = {}
        self.expanded: set[str] = set()
        """Variables bound to what a glob expands to (`for f in .e*`, `f=(*)`): their
        values are judged as the glob, quoted or not (`cat "$f"` reads what `.e*` matches)."""
        self.hints: dict[str, list[str]] = {}
        """Variable -> the statements that assign it at run time (`printf -v x ... 'a[$(cmd)]'`)."""

    def __contains__(self, name: str) -> bool:
        return name in self._values

    def __bool__(self) -> bool:
        return bool(self._values)

    # -- what the line assigns -----------------------------------------------------------

    def remember(
        self, name: str, frag: Fragment, *, append: bool = False, expanded: bool = False
    ) -> None:
        """`name=VALUE` (or `name+=VALUE`): one more value, or unknown when it is dynamic.

        `expanded`: the value is a word the shell expands before binding it (a `for`
        list's), so a glob in it binds the names it matches (`expanded`).
        """
        if expanded and frag.glob:
            self.expanded.add(name)
        if frag.dynamic:
            self.forget(name)
            return
        known = self._values.get(name, [])
        if known is None:
            return
        if append and known:
            # `x=r; x+=m` holds `r`, then `rm`: both are judged.
            grown = [
                ((value[0] + text, *value[1:]), glob or frag.glob)
                for value, glob in known
                for text in frag.texts
            ]
            self._add(name, grown)
            return
        self._add(name, [((text,), frag.glob) for text in frag.texts])

    def remember_array(self, name: str, elements: list[Fragment], *, append: bool) -> None:
        """`name=(A B C)` or `name+=(D)`: the elements, each one word."""
        if any(e.dynamic or len(e.texts) != 1 for e in elements):
            self.forget(name)
            return
        items = tuple(e.texts[0] for e in elements)
        glob = any(e.glob for e in elements)
        if glob:
            self.expanded.add(name)  # `x=(*.pem)`: the elements are the names matched
        known = self._values.get(name, [])
        if known is None:
            return
        if append and known:
            # Before the append the array held what it held; after, that plus the items.
            self._add(name, [(value + items, g or glob) for value, g in known])
        else:
            self._add(name, [(items, glob)])

    def forget(self, name: str) -> None:
        """`name` takes a value only known at run time."""
        self._values[name] = None

    def forget_all(self) -> None:
        """A name reference whose target is unknown may assign any variable."""
        for name in self._values:
            self._values[name] = None

    def _add(self, name: str, values: list[Value]) -> None:
        if name in self._values and self._values[name] is None:
            return
        known = self._values.setdefault(name, [])
        assert known is not None
        known.extend(values)
        del known[MAX_CANDIDATES:]

    # -- what an expansion yields --------------------------------------------------------

    def texts(self, name: str) -> list[tuple[str, bool]] | None:
        """The values `$name` may take as (text, glob); None when unknown or not assigned."""
        known = self._values.get(name)
        if known is None:
            return None
        return [(value[0] if value else "", glob) for value, glob in known]

    def separators(self) -> str:
        """Characters besides blanks that split unquoted expansions (`IFS=,` in the line)."""
        known = self._values.get("IFS")
        if not known:
            return ""
        return "".join(dict.fromkeys(c for value, _ in known for c in value[0] if not c.isspace()))

    def value(self, name: str, *, quoted: bool) -> Fragment:
        """`$name`: its known values, a known or guessed default, or unknown."""
        if name == "IFS":
            ifs = self.texts("IFS")
            texts = [text for text, _ in ifs] if ifs else [" "]
            return Fragment(texts, split=not quoted, separators=self.separators(), variables=[name])
        known = self.texts(name)
        if known:
            return self._fragment(name, [text for text, _ in known], _globbed(known), quoted=quoted)
        if name in _KNOWN_VARIABLES and name not in self._values:
            return Fragment([_KNOWN_VARIABLES[name]], literal=False, variables=[name])
        if name in _GUESSED_VARIABLES and name not in self._values:
            return Fragment(
                [_GUESSED_VARIABLES[name]], dynamic=True, literal=False, variables=[name]
            )
        return Fragment([""], dynamic=True, literal=False, variables=[name])

    def element(self, name: str, index: str, *, quoted: bool) -> Fragment:
        """`${name[index]}`, `${name[@]}` or `${name[*]}`."""
        known = self._values.get(name)
        if not known:
            return self.value(name, quoted=quoted) if index == "0" else _unknown(name)
        if index == "@":
            # Each element a word of its own; unquoted, each is split again.
            texts = [ELEMENT_BREAK.join(value) for value, _ in known]
            return self._fragment(name, texts, _globbed(known), quoted=quoted)
        if index == "*":
            first = (self.texts("IFS") or [(" ", False)])[0][0][:1]
            texts = [first.join(value) for value, _ in known]
            return self._fragment(name, texts, _globbed(known), quoted=quoted)
        position = int(index)
        texts = []
        for value, _ in known:
            if -len(value) <= position < len(value):
                texts.append(value[position])
            else:
                texts.append("")
        return self._fragment(name, texts, _globbed(known), quoted=quoted)

    def indirect(self, name: str) -> Fragment:
        """`${!name}`: the value of the variable whose name `name` holds.

        The names `name` is known to hold are the variables used; when they are not
        known, any variable (a secret too) may be read, which `{!name}` stands for.
        """
        known = self.texts(name)
        targets = [t for t, _ in known or () if _NAME.fullmatch(t)]
        if not known or len(targets) < len(known):
            targets.append(f"{{!{name}}}")
        return Fragment([""], dynamic=True, literal=False, variables=[name, *targets])

    def _fragment(
        self,
        name: str,
        texts: list[str],
        glob: bool,
        *,
        quoted: bool,
    ) -> Fragment:
        separators = self.separators()
        breaks = " \t\n" + separators
        return Fragment(
            texts[:MAX_CANDIDATES],
            glob=glob and (not quoted or name in self.expanded),
            literal=False,
            # Unquoted, the value is split into words: `x='rm -rf /'; $x` runs rm.
            split=not quoted and any(any(c in breaks for c in t) for t in texts),
            separators=separators,
            variables=[name],
        )


def _globbed(known: list[Value] | list[tuple[str, bool]]) -> bool:
    return any(glob for _, glob in known)


def _unknown(name: str) -> Fragment:
    return Fragment([""], dynamic=True, literal=False, variables=[name])


NO_VARIABLES = Variables()
"""A script that assigns nothing: shared, so it is never changed (the walk only reads the
variables it holds; collecting fills a new `Variables`)."""
