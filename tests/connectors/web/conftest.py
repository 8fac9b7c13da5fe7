"""Fixtures for the web connector: a served Tether and a logged-in HTTP client."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.connectors.web.support import ServedTether, scenarios
from tether.core.config import TetherConfig


@pytest.fixture
def web_config(project_dir: Path, tmp_path: Path) -> TetherConfig:
    return TetherConfig(
        approved_directories=(project_dir,),
        audit_log_path=tmp_path / "audit.jsonl",
        web_enabled=True,
        web_port=0,
        web_state_dir=tmp_path / "state",
        approval_timeout_seconds=60,
    )


@pytest.fixture
def served(web_config: TetherConfig, project_dir: Path) -> Iterator[ServedTether]:
    with ServedTether(web_config, scenarios(project_dir)) as tether:
        yield tether


@pytest.fixture
def client(served: ServedTether) -> Iterator[httpx.Client]:
    """A client that logged in: its cookie is set and its CSRF header is sent."""
    with httpx.Client(base_url=served.url, headers={"origin": served.url}, timeout=10) as http:
        response = http.post("/api/login", json={"token": served.token})
        assert response.status_code == 200, response.text
        http.headers["x-tether-csrf"] = response.json()["csrf"]
        yield http
