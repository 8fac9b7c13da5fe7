"""The floor: what is denied whatever the policy files, learned rules or modes say.

The floor is the set of fact kinds at the critical level in `FACTS`
(credentials, destructive deletes, privilege escalation, piped code, ...). It
lives in code, not in the presets, so a copied or self-written policy cannot
lose it and every preset receives its fixes. `tether policy show` lists it as
the built-in layer.
"""

from __future__ import annotations

from tether.core.safety.facts import FACTS, RiskFact, RiskLevel

__all__ = ["FLOOR_FACTS", "FLOOR_LAYER", "FLOOR_RULE", "floor_fact"]

FLOOR_FACTS: frozenset[str] = frozenset(
    kind for kind, info in FACTS.items() if info.level is RiskLevel.CRITICAL
)
"""The critical fact kinds: any one of them denies the call."""

FLOOR_LAYER = "built-in floor"
"""How the floor is named as the `policy` of a decision and in `tether policy show`."""

FLOOR_RULE = "floor"
"""The rule name a floor denial carries."""


def floor_fact(facts: tuple[RiskFact, ...]) -> RiskFact | None:
    """The first critical fact among `facts`, or None when the floor lets them through."""
    for fact in facts:
        if fact.kind in FLOOR_FACTS or fact.level is RiskLevel.CRITICAL:
            return fact
    return None
