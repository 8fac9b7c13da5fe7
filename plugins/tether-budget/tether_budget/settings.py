"""The plugin's settings: the limits and where the ledger is kept."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import platformdirs
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

__all__ = ["BudgetSettings", "default_ledger_path"]


def default_ledger_path() -> Path:
    """`budget.json` in Tether's state directory (`$XDG_STATE_HOME/tether`, `~/.local/state/...`).

    Computed as Tether computes its own state directory: a plugin imports only
    `tether.plugins`, which does not name that function.
    """
    return platformdirs.user_state_path("tether", appauthor=False) / "budget.json"


def _a_file(value: object) -> object:
    # An empty value would be Path("."): the working directory, never a ledger file.
    if isinstance(value, str):
        if not value.strip():
            raise ValueError("must name a file, such as ~/.local/state/tether/budget.json")
        return Path(value).expanduser().absolute()
    return value


class BudgetSettings(BaseModel):
    """The limits, in US dollars (`TETHER_PLUGIN_BUDGET_DAILY_USD`, `..._REQUEST_USD`),
    and the ledger's file (`TETHER_PLUGIN_BUDGET_LEDGER_PATH`).

    A limit of None: no limit of that kind.
    """

    model_config = ConfigDict(frozen=True)

    daily_usd: float | None = Field(default=None, gt=0, allow_inf_nan=False)
    request_usd: float | None = Field(default=None, gt=0, allow_inf_nan=False)
    ledger_path: Annotated[Path, BeforeValidator(_a_file)] = Field(
        default_factory=default_ledger_path
    )
