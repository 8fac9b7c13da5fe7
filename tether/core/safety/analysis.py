"""What the analysis of a shell command produces: facts and paths per simple command."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict

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


class CommandAnalysis(BaseModel):
    """The facts and paths of one simple command."""

    model_config = ConfigDict(frozen=True)

    command: SimpleCommand
    facts: tuple[RiskFact, ...] = ()
    paths: tuple[PathUse, ...] = ()
    subcommand: tuple[str, ...] = ()
    """The command's leading operands (`git push` -> ("push", ...)), for policy matching."""

    @property
    def risk_level(self) -> RiskLevel:
        return max_level(self.facts)


class ScriptAnalysis(BaseModel):
    """Every command of a shell command analysed, plus facts about the whole."""

    model_config = ConfigDict(frozen=True)

    commands: tuple[CommandAnalysis, ...]
    facts: tuple[RiskFact, ...] = ()
    """Facts about the command as a whole (not understood, fork bomb)."""
