"""The ledger: what was spent today, against the limits, and whether they are crossed."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, date, datetime

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["BudgetSettings", "Ledger", "utc_today"]


class BudgetSettings(BaseModel):
    """The limits, in US dollars (`TETHER_PLUGIN_BUDGET_DAILY_USD`, `..._REQUEST_USD`).

    None: no limit of that kind.
    """

    model_config = ConfigDict(frozen=True)

    daily_usd: float | None = Field(default=None, gt=0, allow_inf_nan=False)
    request_usd: float | None = Field(default=None, gt=0, allow_inf_nan=False)


def utc_today() -> date:
    return datetime.now(UTC).date()


class Ledger:
    """Today's spending (UTC days) and the limit crossed, if any.

    Once a limit is crossed the budget stays crossed until `reset()` or the
    next day: every further tool call then asks a person.
    """

    def __init__(self, settings: BudgetSettings, today: Callable[[], date] = utc_today) -> None:
        self.settings = settings
        self._today = today
        self._day = today()
        self.spent = 0.0
        self.requests = 0
        self.crossed: str | None = None

    def _roll(self) -> None:
        day = self._today()
        if day != self._day:
            self._day, self.spent, self.requests, self.crossed = day, 0.0, 0, None

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
        self.spent += cost
        self.requests += 1
        if self.crossed is not None:
            return None
        self.crossed = self._over(cost, finished=True)
        return self.crossed

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
