"""The plugin's tests run against its source, whether or not it is installed."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

PLUGIN_ROOT = Path(__file__).resolve().parents[1]
"""plugins/tether-budget: the package's source and its pyproject."""

if str(PLUGIN_ROOT) not in sys.path:
    sys.path.insert(0, str(PLUGIN_ROOT))


@pytest.fixture(autouse=True)
def _own_state_directory(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The ledger's default place (Tether's state directory) is the test's own, never
    the machine's; so is Tether's configuration directory."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
