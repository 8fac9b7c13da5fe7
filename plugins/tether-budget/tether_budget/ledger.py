"""The ledger: what was spent today, against the limits, and whether they are crossed."""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from tether_budget.settings import BudgetSettings

__all__ = ["MAX_REASON_CHARS", "MAX_REQUESTS", "Change", "Ledger", "LedgerState", "utc_today"]

MAX_REQUESTS = 10**12
"""More requests than a day could hold: a count past it is a damaged ledger."""

MAX_REASON_CHARS = 10_000
"""A reason is one line naming a limit (or the ledger's path): far shorter."""

Change = Literal["record", "roll", "reset"]
"""What changed the ledger: a request's cost, a new UTC day, or `/budget reset`."""


def utc_today() -> date:
    return datetime.now(UTC).date()


class LedgerState(BaseModel):
    """The ledger at one moment, as it is saved: the UTC day, what was spent that
    day in how many requests, and the limit crossed (None: within budget).

    Strict: a file is accepted only in exactly this shape (numbers as numbers,
    finite and not negative), since a damaged ledger must never read as money
    not spent.
    """

    model_config = ConfigDict(frozen=True, strict=True, extra="forbid")

    version: Literal[1]
    day: date
    spent_usd: float = Field(ge=0, allow_inf_nan=False)
    requests: int = Field(ge=0, le=MAX_REQUESTS)
    crossed: str | None = Field(max_length=MAX_REASON_CHARS)


class Ledger:
    """Today's spending (UTC days) and the limit crossed, if any.

    Once a limit is crossed the budget stays crossed until `reset()` or the
    next day: every further tool call then asks a person.
    """

    def __init__(
        self,
        settings: BudgetSettings,
        today: Callable[[], date] = utc_today,
        *,
        state: LedgerState | None = None,
        on_change: Callable[[LedgerState, Change], None] | None = None,
    ) -> None:
        """`state`: the ledger saved before (one from an earlier day is left
        behind); `on_change` is called with the new state after every change."""
        self.settings = settings
        self._today = today
        self._on_change = on_change
        self._day = today()
        self.spent = 0.0
        self.requests = 0
        self.crossed: str | None = None
        if state is not None and state.day >= self._day:
            # A later day than today means the clock was set back: that day's
            # spending still counts until the clock passes it (as in `_roll`).
            self._day, self.spent = state.day, state.spent_usd
            self.requests, self.crossed = state.requests, state.crossed

    @property
    def state(self) -> LedgerState:
        return LedgerState(
            version=1,
            day=self._day,
            spent_usd=self.spent,
            requests=self.requests,
            crossed=self.crossed,
        )

    def _changed(self, change: Change) -> None:
        if self._on_change is not None:
            self._on_change(self.state, change)

    def _roll(self) -> None:
        day = self._today()
        # Only forward: a clock set back must not wipe the day's spending.
        if day > self._day:
            self._day, self.spent, self.requests, self.crossed = day, 0.0, 0, None
            self._changed("roll")

    def record(self, cost: object) -> str | None:
        """Add one request's reported cost; the limit it crossed (newly), or None.

        A cost that is not a finite, non-negative number is ignored: the agent's
        report is untrusted input.
        """
        if isinstance(cost, bool) or not isinstance(cost, int | float):
            return None
        if not math.isfinite(cost) or cost < 0:
            return None
        self._roll()
        total = self.spent + cost
        # Two huge (finite) reports could add up to infinity, which no file holds.
        self.spent = total if math.isfinite(total) else sys.float_info.max
        self.requests = min(self.requests + 1, MAX_REQUESTS)
        crossed = None if self.crossed is not None else self._over(cost, finished=True)
        if crossed is not None:
            self.crossed = crossed
        self._changed("record")
        return crossed

    def blocking(self, running_cost: float | None = None) -> str | None:
        """Why a tool call must ask now, or None: a limit crossed, or crossed by the
        running request's cost so far, when the agent reports it."""
        self._roll()
        if self.crossed is not None:
            return self.crossed
        if running_cost is None or not math.isfinite(running_cost) or running_cost < 0:
            return None
        return self._over(running_cost, finished=False)

    def reset(self) -> None:
        """Forget today's spending and the crossed limit."""
        self._day, self.spent, self.requests, self.crossed = self._today(), 0.0, 0, None
        self._changed("reset")

    def _over(self, request_cost: float, *, finished: bool) -> str | None:
        limits = self.settings
        if limits.request_usd is not None and request_cost > limits.request_usd:
            return (
                f"a request cost ${request_cost:.4f}, over the per-request limit "
                f"${limits.request_usd:.2f}"
            )
        today = self.spent if finished else self.spent + request_cost
        if limits.daily_usd is not None and today >= limits.daily_usd:
            return f"${today:.4f} spent today reaches the daily limit ${limits.daily_usd:.2f}"
        return None

    def summary(self) -> str:
        self._roll()
        limits = self.settings
        daily = f"${limits.daily_usd:.2f}" if limits.daily_usd is not None else "none"
        request = f"${limits.request_usd:.2f}" if limits.request_usd is not None else "none"
        state = (
            f"over budget: {self.crossed}; every tool call asks (/budget reset)"
            if self.crossed
            else "within budget"
        )
        return "\n".join(
            (
                "💰 Budget",
                f"Spent today: ${self.spent:.4f} in {self.requests} request(s)",
                f"Daily limit: {daily}; per-request limit: {request}",
                f"State: {state}",
            )
        )
