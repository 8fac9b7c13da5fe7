"""Fixtures for the middleware tests: a real audit log and a clock the test moves."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.middleware.fakes import FakeClock
from tether.core.safety.audit import AuditLogger


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def audit_path(tmp_path: Path) -> Path:
    return tmp_path / "audit.jsonl"


@pytest.fixture
async def audit(audit_path: Path) -> AsyncIterator[AuditLogger]:
    logger = AuditLogger(audit_path)
    yield logger
    await logger.close()
