"""Plugin packages "installed" for one test: dist-info directories on sys.path, nothing global.

`importlib.metadata` finds a distribution by its `*.dist-info` directory on
`sys.path`, and its entry points in that directory's `entry_points.txt`: exactly
what `pip install` leaves behind, without touching the real environment.
"""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Mapping
from pathlib import Path

import pytest

__all__ = ["FakeSite"]


class FakeSite:
    """A site-packages directory of one test; `install` adds a distribution to it."""

    def __init__(self, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self._root = root
        self._monkeypatch = monkeypatch
        self._modules: list[str] = []
        self._on_path = False

    def install(
        self,
        distribution: str,
        *,
        entry_points: Mapping[str, str],
        modules: Mapping[str, str] | None = None,
        group: str = "tether.plugins",
    ) -> None:
        """Install `distribution` with `entry_points` (name -> "module:attr") and module sources."""
        self._root.mkdir(parents=True, exist_ok=True)
        for module, source in (modules or {}).items():
            (self._root / f"{module}.py").write_text(textwrap.dedent(source), encoding="utf-8")
            self._modules.append(module)
        dist_info = self._root / f"{distribution.replace('-', '_')}-1.0.0.dist-info"
        dist_info.mkdir()
        (dist_info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {distribution}\nVersion: 1.0.0\n", encoding="utf-8"
        )
        lines = [f"[{group}]", *(f"{name} = {target}" for name, target in entry_points.items())]
        (dist_info / "entry_points.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
        if not self._on_path:
            # syspath_prepend also invalidates the import caches, and undoes itself.
            self._monkeypatch.syspath_prepend(str(self._root))
            self._on_path = True

    def forget_modules(self) -> None:
        """Drop the modules this site's plugins imported, so the next test starts clean."""
        for module in self._modules:
            sys.modules.pop(module, None)
