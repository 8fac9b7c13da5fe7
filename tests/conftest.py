"""Fixtures shared by every test: a clean environment and a project directory."""

from __future__ import annotations

import gc
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog
from hypothesis import HealthCheck, settings

from tether.core.config import TetherConfig

# A worker holds every collected test and module, and a full garbage collection of that
# heap took up to 0.8 s (measured with `gc.callbacks` over the whole suite). Hypothesis
# would take such a pause for a slow example (its deadline) or slow generation (a health
# check) and fail a test that is not slow: neither is what these tests are about.
settings.register_profile("tether", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("tether")


@pytest.fixture
def no_collector_pauses() -> Iterator[None]:
    """No cyclic garbage collection during the test, for a test that times something.

    Such a pause (see above) is charged to whatever the test times: a handler's
    timeout, a parse bound, a reply that must not wait. Collection resumes at the next
    allocation after the test.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No TETHER_* variable or .env file from the machine leaks into a test."""
    import os

    for name in list(os.environ):
        if name.startswith("TETHER_"):
            monkeypatch.delenv(name)
    # Tether's own files (the user's policy, learned rules) live in the XDG
    # directories: a test gets empty ones of its own, never the machine's.
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))
    monkeypatch.chdir(tmp_path)
    yield
    # A test that ran the `tether` command configured logging for the process;
    # the next test starts from structlog's defaults again.
    structlog.reset_defaults()
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)


@pytest.fixture
def project_dir(tmp_path: Path) -> Path:
    """An approved directory with a little project in it."""
    project = tmp_path / "project"
    (project / "src").mkdir(parents=True)
    (project / "src" / "app.py").write_text("print('hello')\n")
    (project / "README.md").write_text("# demo\n")
    return project


@pytest.fixture
def config(project_dir: Path, tmp_path: Path) -> TetherConfig:
    """Settings for a test: the project approved, the audit log in the test's directory."""
    return TetherConfig(
        approved_directories=(project_dir,),
        audit_log_path=tmp_path / "audit.jsonl",
        storage_path=tmp_path / "tether.db",
    )
