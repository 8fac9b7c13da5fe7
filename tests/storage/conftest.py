"""A `store` fixture that runs each contract test against every SessionStore."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tether.storage.base import SessionStore
from tether.storage.memory import MemorySessionStore
from tether.storage.sqlite import SqliteSessionStore


@pytest.fixture(params=["memory", "sqlite"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SessionStore]:
    """An initialized store of each kind; the SQLite one is a real file in the test's directory."""
    backend: SessionStore = (
        MemorySessionStore()
        if request.param == "memory"
        else SqliteSessionStore(tmp_path / "sessions.db")
    )
    await backend.initialize()
    yield backend
    await backend.close()
