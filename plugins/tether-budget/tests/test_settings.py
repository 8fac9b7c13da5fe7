"""Where the ledger is kept: Tether's state directory, or TETHER_PLUGIN_BUDGET_LEDGER_PATH."""

from __future__ import annotations

from pathlib import Path

import pytest
from tether_budget import BudgetPlugin, BudgetSettings

from tether.core.config import state_directory
from tether.exceptions import ConfigError
from tether.testing import running_engine


def test_by_default_the_ledger_is_in_tethers_state_directory(tmp_path: Path) -> None:
    default = BudgetSettings().ledger_path
    assert default == state_directory() / "budget.json"
    assert default == tmp_path / "xdg-state" / "tether" / "budget.json"  # the test's own


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("/srv/tether/budget.json", Path("/srv/tether/budget.json"), id="absolute"),
        pytest.param("~/budget.json", Path.home() / "budget.json", id="home"),
        pytest.param("state/budget.json", Path.cwd() / "state" / "budget.json", id="relative"),
    ],
)
def test_the_ledger_path_setting_names_the_file(value: str, expected: Path) -> None:
    assert BudgetSettings.model_validate({"ledger_path": value}).ledger_path == expected


async def test_the_engine_keeps_the_ledger_where_the_setting_says(tmp_path: Path) -> None:
    path = tmp_path / "elsewhere" / "spent.json"
    environ = {"TETHER_PLUGIN_BUDGET_LEDGER_PATH": str(path)}
    async with running_engine([BudgetPlugin()], environ=environ) as running:
        assert f"Ledger: {path}" in await running.send("/budget")
        await running.send("/budget reset")
    assert _exists(path)
    assert not _exists(tmp_path / "xdg-state" / "tether" / "budget.json")


def _exists(path: Path) -> bool:
    return path.is_file()


@pytest.mark.parametrize(
    "value",
    [pytest.param("", id="empty"), pytest.param("   ", id="blank")],
)
async def test_an_empty_ledger_path_stops_start_up_with_one_line(value: str) -> None:
    environ = {"TETHER_PLUGIN_BUDGET_LEDGER_PATH": value}
    with pytest.raises(ConfigError, match=r"^TETHER_PLUGIN_BUDGET_LEDGER_PATH=.* must name a file"):
        async with running_engine([BudgetPlugin()], environ=environ):
            pass
