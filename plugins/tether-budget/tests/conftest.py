"""The plugin's tests run against its source, whether or not it is installed."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
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


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 64 KiB tmpfs of the test's own, to fill for a real "No space left on device".

    Skips where mounting is not allowed (not root, no mount(8), no privilege).
    """
    mount = shutil.which("mount")
    if mount is None or os.geteuid() != 0:
        pytest.skip("mounting a small filesystem needs root and mount(8)")
    mountpoint = tmp_path / "small-disk"
    mountpoint.mkdir()
    result = subprocess.run(
        [mount, "-t", "tmpfs", "-o", "size=64k,mode=0700", "tmpfs", str(mountpoint)],
        capture_output=True,
        check=False,
    )
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.decode(errors='replace').strip()}")
    try:
        yield mountpoint
    finally:
        subprocess.run(["umount", "-l", str(mountpoint)], capture_output=True, check=False)


@pytest.fixture
def fill_disk() -> Callable[[Path], None]:
    """Fill the filesystem holding a directory until a write fails."""

    def fill(directory: Path) -> None:
        with contextlib.suppress(OSError), open(directory / "filler", "wb") as stream:
            while True:
                stream.write(b"\0" * 4096)
                stream.flush()

    return fill
