"""What the analysis of a shell command produces: facts and paths per simple command.

Lean immutable objects: one `CommandAnalysis` is built per simple command and
one `ScriptAnalysis` per line on every fresh gate call (named tuples: a fifth
of a frozen dataclass's cost to build), and only the classifier reads them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from tether.core.safety.facts import PathUse, RiskFact, RiskLevel
from tether.core.safety.shell_model import SimpleCommand

__all__ = ["CommandAnalysis", "ScriptAnalysis", "max_level"]


def max_level(facts: Sequence[RiskFact]) -> RiskLevel:
    """The highest level among `facts` (NONE when there are none)."""
    level = RiskLevel.NONE
    for fact in facts:
        if fact.level.rank > level.rank:
            level = fact.level
    return level


class CommandAnalysis(NamedTuple):
    """The facts and paths of one simple command."""

    command: SimpleCommand
    facts: tuple[RiskFact, ...] = ()
    paths: tuple[PathUse, ...] = ()
    subcommand: tuple[str, ...] = ()
    """The command's leading operands (`git push` -> ("push", ...)), for policy matching."""

    @property
    def risk_level(self) -> RiskLevel:
        return max_level(self.facts)


class ScriptAnalysis(NamedTuple):
    """Every command of a shell command analysed, plus facts about the whole."""

    commands: tuple[CommandAnalysis, ...]
    facts: tuple[RiskFact, ...] = ()
    """Facts about the command as a whole (not understood, fork bomb)."""
