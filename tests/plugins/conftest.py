"""Fixtures for plugin tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.plugins.dist_info import FakeSite


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeSite]:
    """Where a test installs plugin packages; gone when the test ends."""
    fake = FakeSite(tmp_path / "site-packages", monkeypatch)
    yield fake
    fake.forget_modules()
