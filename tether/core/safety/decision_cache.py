"""DecisionCache: the pipeline's verdict on a repeated identical call, reused only while
the file system would still give the same answers.

A verdict depends on three things: the call (tool name and every input field,
since the input check reads them all), the working directory and home it is
resolved against, and what the file system says while paths are resolved. The
first two are the key. The third is kept beside the verdict as the list of
lookups resolution made (`sandbox.probe`: for each path component, its symlink
target or "not a symlink"). Resolution is a function of those answers alone, so
when every lookup answers as it did, an uncached decision would walk the same
components, reach the same paths and decide the same; when one answers
differently (a symlink created, removed or re-pointed, a file replaced by a
link) the entry is dropped and the call is decided afresh.

A tree read (`grep -r`, Grep: a walk of whole directories) is kept with its
finding and asked again on reuse; the verdict is reused only if the finding is
the same, which is all the verdict took from the walk. A glob (what it matches
changes with the directory) is never reused: the pipeline marks it volatile. Keys are
built only from plain JSON scalars (the type is part of the key, so `1` and
`True` differ) and bounded in size; anything else is decided every time.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tether.core.safety.sandbox import probe

if TYPE_CHECKING:
    from tether.core.safety.pipeline import Verdict

__all__ = ["DecisionCache", "Probes", "Recheck"]

Probes = list[tuple[str, str | None]]
"""Each path lookup resolution made, with its answer (symlink target or None)."""

Recheck = tuple[Callable[[], object], object]
"""A file-system fact the verdict used: how to ask for it again, and what it was."""

_Entry = tuple["Verdict", Sequence[tuple[str, str | None]], tuple[Recheck, ...]]

_SCALARS = frozenset({str, int, float, bool, type(None)})

# A key holds the input's strings: a large Write is decided afresh rather than kept.
_MAX_KEY_CHARS = 4096


class DecisionCache:
    """Verdicts of recent calls with the lookups each depended on (least recently used out).

    Args:
        size: how many verdicts to keep.
    """

    def __init__(self, size: int = 1024) -> None:
        self._size = size
        # Least recently used first: a dict keeps the order keys were (re)inserted in.
        self._entries: dict[tuple[Any, ...], _Entry] = {}

    def key(
        self, tool_name: Any, tool_input: Any, cwd: Path | str | None, home: str
    ) -> tuple[Any, ...] | None:
        """The call's key, or None when it is not made only of plain, small values."""
        if type(tool_name) is not str or (
            type(tool_input) is not dict and not isinstance(tool_input, Mapping)
        ):
            return None
        items = tuple(tool_input.items())
        chars = len(tool_name)
        typed = False
        for name, value in items:
            kind = type(value)
            if kind is str:
                chars += len(value)
            elif kind not in _SCALARS:
                return None
            elif value is not None:
                typed = True
            if type(name) is not str:
                return None
        if chars > _MAX_KEY_CHARS:
            return None
        where = None if cwd is None else str(cwd)
        if not typed:
            # Text and None only: two such values are equal only when of one type.
            return (tool_name, where, home, items)
        # 1, 1.0 and True are equal (and hash alike) but are not the same input: the
        # values' types are part of the key.
        return (tool_name, where, home, items, tuple([type(value) for _, value in items]))

    def get(self, key: tuple[Any, ...]) -> Verdict | None:
        """The verdict kept for `key` if every lookup it depended on answers as before."""
        entries = self._entries
        # Taken out while it is checked: one that no longer holds stays out.
        entry = entries.pop(key, None)
        if entry is None:
            return None
        verdict, probes, rechecks = entry
        for candidate, answer in probes:
            if probe(candidate) != answer:
                return None
        for ask, finding in rechecks:
            if ask() != finding:
                return None
        entries[key] = entry  # the most recently used, last
        return verdict

    def put(
        self,
        key: tuple[Any, ...],
        verdict: Verdict,
        probes: Probes,
        rechecks: tuple[Recheck, ...] = (),
    ) -> None:
        """Keep `verdict` with the lookups and re-checkable facts it depended on."""
        self._entries.pop(key, None)  # (re)inserted last: the most recently used
        self.put_missed(key, verdict, probes, rechecks)

    def put_missed(
        self,
        key: tuple[Any, ...],
        verdict: Verdict,
        probes: Probes,
        rechecks: tuple[Recheck, ...] = (),
    ) -> None:
        """`put` for a key that is not kept: one that `get` just missed (it takes the key
        out), as the pipeline's are. Nothing to take out first: the key is hashed once.

        A list of one or two lookups is kept as given (the pipeline's, which nothing
        appends to once its decision is made). A lookup made twice (`a ./a`, two paths in one
        directory) is otherwise kept once: a reuse asks it once. Among one or two,
        asking one twice costs a reuse one lookup, less than setting them apart
        costs every verdict kept.
        """
        entries = self._entries
        kept = probes if len(probes) < 3 else tuple(dict.fromkeys(probes))
        entries[key] = (verdict, kept, rechecks)
        while len(entries) > self._size:
            del entries[next(iter(entries))]

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
