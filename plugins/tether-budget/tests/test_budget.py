"""The budget plugin in a real engine: limits, the gate hook, the /budget command."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from tether_budget import EXCEEDED, RESET, BudgetPlugin, BudgetSettings, Ledger

from tether.testing import ScriptedAgent, UseTool, capture_events, running_engine

_LS = UseTool("Bash", {"command": "ls"})
"""A call the default policy allows without asking."""


class _Clock:
    def __init__(self) -> None:
        self.day = date(2026, 12, 3)

    def __call__(self) -> date:
        return self.day


def _engine(cost: float, environ: dict[str, str], plugin: BudgetPlugin | None = None) -> Any:
    agent = ScriptedAgent([_LS], cost=cost)
    return running_engine(
        [plugin or BudgetPlugin()], agent=agent, environ=environ, approval_timeout_seconds=0.2
    )


def _allowed(running: Any) -> list[bool]:
    return [decision.allowed for call in running.agent.calls for _, decision in call.decisions]


async def test_within_the_limits_nothing_asks() -> None:
    async with _engine(0.01, {"TETHER_PLUGIN_BUDGET_DAILY_USD": "1"}) as running:
        for _ in range(3):
            await running.send("go")
        assert _allowed(running) == [True, True, True]
        assert running.connector.approvals == []
        assert "Spent today: $0.0300 in 3 request(s)" in await running.send("/budget")


async def test_past_the_daily_limit_every_call_asks_from_the_next_request() -> None:
    async with _engine(0.4, {"TETHER_PLUGIN_BUDGET_DAILY_USD": "1"}) as running:
        with capture_events(running.engine.event_bus) as events:
            for _ in range(4):
                await running.send("go")
        # 0.4, 0.8, then 1.2 is past $1: the fourth request's call asks (nobody answers).
        assert _allowed(running) == [True, True, True, False]
        [request] = running.connector.approvals
        assert "Over budget" in request.description and "daily limit $1.00" in request.description
        [exceeded] = events.named(EXCEEDED)
        assert exceeded.data["spent_usd"] == pytest.approx(1.2)
        assert "over budget" in await running.send("/budget")


async def test_one_request_over_the_per_request_limit_makes_the_next_ones_ask() -> None:
    async with _engine(0.5, {"TETHER_PLUGIN_BUDGET_REQUEST_USD": "0.25"}) as running:
        await running.send("go")
        await running.send("go")
        assert _allowed(running) == [True, False]
        assert "per-request limit $0.25" in running.connector.approvals[0].description


async def test_reset_clears_the_spending_and_the_asks() -> None:
    async with _engine(2.0, {"TETHER_PLUGIN_BUDGET_DAILY_USD": "1"}) as running:
        await running.send("go")
        with capture_events(running.engine.event_bus) as events:
            reply = await running.send("/budget reset")
        assert reply.startswith("💰 Budget reset")
        [reset] = events.named(RESET)
        assert reset.data == {"user_id": 1, "chat_id": 1}
        assert "Spent today: $0.0000 in 0 request(s)" in await running.send("/budget")
        await running.send("go")
        assert _allowed(running) == [True, True]


async def test_a_new_day_starts_a_new_budget() -> None:
    clock = _Clock()
    plugin = BudgetPlugin(today=clock)
    async with _engine(2.0, {"TETHER_PLUGIN_BUDGET_DAILY_USD": "1"}, plugin) as running:
        await running.send("go")
        clock.day = date(2026, 12, 4)
        await running.send("go")
        assert _allowed(running) == [True, True]


async def test_budget_is_listed_by_help_and_usage_is_explained() -> None:
    async with _engine(0.0, {}) as running:
        assert "/budget — Spending today" in await running.send("/help")
        assert await running.send("/budget what") == "Usage: /budget, or /budget reset"
        assert "Daily limit: none; per-request limit: none" in await running.send("/budget")


@pytest.mark.parametrize(
    ("environ", "fragment"),
    [
        pytest.param({"TETHER_PLUGIN_BUDGET_DAILY_USD": "0"}, "greater than 0", id="zero"),
        pytest.param({"TETHER_PLUGIN_BUDGET_DAILY_USD": "-5"}, "greater than 0", id="negative"),
        pytest.param({"TETHER_PLUGIN_BUDGET_DAILY_USD": "inf"}, "finite", id="infinite"),
        pytest.param({"TETHER_PLUGIN_BUDGET_REQUEST_USD": "ten"}, "valid number", id="word"),
        pytest.param({"TETHER_PLUGIN_BUDGET_DAILY": "1"}, "not a setting", id="typo"),
    ],
)
async def test_a_bad_limit_stops_start_up_with_one_line(
    environ: dict[str, str], fragment: str
) -> None:
    from tether.exceptions import ConfigError

    with pytest.raises(ConfigError, match=f"^TETHER_PLUGIN_BUDGET_.*{fragment}"):
        async with _engine(0.0, environ):
            pass


@pytest.mark.parametrize(
    "cost",
    [
        pytest.param(None, id="none"),
        pytest.param(float("nan"), id="nan"),
        pytest.param(float("inf"), id="inf"),
        pytest.param(-3.0, id="negative"),
        pytest.param(True, id="bool"),
        pytest.param("5", id="text"),
        pytest.param([1], id="list"),
    ],
)
def test_a_cost_that_is_not_a_sane_number_is_ignored(cost: object) -> None:
    ledger = Ledger(BudgetSettings(daily_usd=1))
    assert ledger.record(cost) is None
    assert ledger.spent == 0 and ledger.requests == 0


def test_a_running_cost_known_mid_request_blocks_from_the_next_call() -> None:
    ledger = Ledger(BudgetSettings(daily_usd=1, request_usd=0.5))
    assert ledger.blocking(0.2) is None
    assert "per-request limit" in (ledger.blocking(0.6) or "")
    assert ledger.blocking() is None  # nothing is crossed until a request ends over it
    ledger.record(0.7)
    assert "per-request limit" in (ledger.blocking() or "")
    daily = Ledger(BudgetSettings(daily_usd=1))
    daily.record(0.9)
    assert daily.blocking() is None
    assert "daily limit" in (daily.blocking(0.2) or "")


def test_huge_costs_add_up_to_a_total_a_file_can_hold(tmp_path: Path) -> None:
    from tether_budget.ledger_file import read_ledger, write_ledger

    ledger = Ledger(BudgetSettings(daily_usd=1))
    ledger.record(1e308)
    ledger.record(1e308)  # the sum would overflow to infinity
    assert ledger.spent == sys.float_info.max and ledger.requests == 2
    write_ledger(tmp_path / "budget.json", ledger.state)
    assert read_ledger(tmp_path / "budget.json") == ledger.state


def test_a_clock_set_back_keeps_the_days_spending() -> None:
    clock = _Clock()
    ledger = Ledger(BudgetSettings(daily_usd=1), clock)
    ledger.record(2.0)
    clock.day = date(2026, 12, 2)
    assert ledger.blocking() is not None and ledger.spent == 2.0
    clock.day = date(2026, 12, 4)
    assert ledger.blocking() is None and ledger.spent == 0.0


def test_every_change_is_reported_with_what_changed() -> None:
    clock = _Clock()
    changes: list[tuple[str, float, int]] = []
    ledger = Ledger(
        BudgetSettings(daily_usd=1),
        clock,
        on_change=lambda state, change: changes.append((change, state.spent_usd, state.requests)),
    )
    ledger.record(0.5)
    ledger.record("not a cost")  # ignored: no change
    ledger.blocking()  # nothing changes on the same day
    clock.day = date(2026, 12, 4)
    ledger.blocking()
    ledger.record(0.25)
    ledger.reset()
    assert changes == [
        ("record", 0.5, 1),
        ("roll", 0.0, 0),
        ("record", 0.25, 1),
        ("reset", 0.0, 0),
    ]
