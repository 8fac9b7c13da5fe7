"""Fixtures: a clean environment, and the plugin "installed" by its entry point without pip."""

from __future__ import annotations

import importlib.metadata
import os
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE_ROOT = Path(__file__).resolve().parent.parent
"""This package's directory: its pyproject.toml and the `tether_metrics` package."""


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No TETHER_* variable or .env file from the machine leaks into a test."""
    for name in list(os.environ):
        if name.startswith("TETHER_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))
    monkeypatch.chdir(tmp_path)
    yield


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A site directory where this package is installed as pip would leave it.

    The dist-info carries the entry points declared in pyproject.toml (read from
    there, so the test checks the real declaration); the package itself is
    found on the path beside it. Tests never run pip.
    """
    project = tomllib.loads((PACKAGE_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    meta = project["project"]
    root = tmp_path / "site-packages"
    dist_info = root / f"{meta['name'].replace('-', '_')}-{meta['version']}.dist-info"
    dist_info.mkdir(parents=True)
    (dist_info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {meta['name']}\nVersion: {meta['version']}\n",
        encoding="utf-8",
    )
    lines = []
    for group, entries in meta["entry-points"].items():
        lines.append(f"[{group}]")
        lines += [f"{name} = {target}" for name, target in entries.items()]
    (dist_info / "entry_points.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(root))
    if str(PACKAGE_ROOT) not in sys.path:
        monkeypatch.syspath_prepend(str(PACKAGE_ROOT))
    importlib.invalidate_caches()
    assert any(
        ep.name == "metrics" for ep in importlib.metadata.entry_points(group="tether.plugins")
    )
    return root
