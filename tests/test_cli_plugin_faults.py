"""`tether` with an installed plugin package that tries to end the process while loading.

Every other spelling (KeyboardInterrupt, a BaseException of its own, an exit
on import) is covered in-process by tests/plugins/test_registry_faults.py.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import tether
from tests.plugins.dist_info import FakeSite

_SOURCE_ROOT = Path(tether.__file__).resolve().parent.parent

_ROGUE = """
    import sys

    def exits():
        sys.exit(9)

    def interrupts():
        raise KeyboardInterrupt

    class HomeMade(BaseException):
        pass

    def home_made():
        raise HomeMade("no")

    NOT_A_PLUGIN = object()
"""


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeSite]:
    fake = FakeSite(tmp_path / "site-packages", monkeypatch)
    fake.install(
        "tether-rogue",
        entry_points={
            "exits": "tether_rogue:exits",
            "interrupts": "tether_rogue:interrupts",
            "home-made": "tether_rogue:home_made",
            "odd": "tether_rogue:NOT_A_PLUGIN",
        },
        modules={"tether_rogue": _ROGUE},
    )
    yield fake
    fake.forget_modules()


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        pytest.param("exits", "tried to exit the process (SystemExit(9)); not obeyed", id="exit"),
        pytest.param("odd", "object is not a Tether plugin", id="not-a-plugin"),
    ],
)
def test_one_line_names_the_entry_point_and_distribution(
    site: FakeSite, tmp_path: Path, name: str, shown: str
) -> None:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("TETHER_")}
    environment["PYTHONPATH"] = os.pathsep.join(
        [str(_SOURCE_ROOT), str(tmp_path / "site-packages")]
    )
    environment["TETHER_PLUGINS"] = name
    result = subprocess.run(
        [sys.executable, "-m", "tether", "plugins"],
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith(
        f"tether: installed plugin {name!r} (entry point '{name} = tether_rogue:"
    )
    assert "of distribution tether-rogue 1.0.0" in line
    assert shown in line
