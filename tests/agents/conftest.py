"""Fixtures for the agent tests: the fake `claude` executable, its log, and a recording gate."""

from __future__ import annotations

import stat
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from tests.agents.support import Collected, FakeLog, RecordingGate
from tether.agents.claude_code import ClaudeCodeAgent, RetryPolicy
from tether.core.config import TetherConfig
from tether.core.session import Session

FAKE_CLAUDE = Path(__file__).with_name("fake_claude.py")


@pytest.fixture
def fake_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where the fake CLI keeps its log, its conversations and its counters."""
    home = tmp_path / "fake-claude"
    home.mkdir()
    monkeypatch.setenv("FAKE_CLAUDE_DIR", str(home))
    return home


@pytest.fixture
def fake_cli(tmp_path: Path, fake_home: Path) -> Path:
    """A `claude` executable that runs the fake with this interpreter."""
    launcher = tmp_path / "bin" / "claude"
    launcher.parent.mkdir()
    launcher.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{FAKE_CLAUDE}" "$@"\n')
    launcher.chmod(launcher.stat().st_mode | stat.S_IXUSR)
    return launcher


@pytest.fixture
def agent_config(project_dir: Path, tmp_path: Path, fake_cli: Path) -> TetherConfig:
    return TetherConfig(
        approved_directories=(project_dir,),
        audit_log_path=tmp_path / "audit.jsonl",
        claude_cli_path=fake_cli,
        claude_model="claude-test-model",
        claude_system_prompt="Answer briefly.",
    )


@pytest.fixture
async def make_agent(
    agent_config: TetherConfig,
) -> AsyncIterator[Callable[..., ClaudeCodeAgent]]:
    """Build agents on the fake CLI (fast retries, short grace); all are shut down after."""
    agents: list[ClaudeCodeAgent] = []

    def make(config: TetherConfig | None = None, **options: Any) -> ClaudeCodeAgent:
        options.setdefault("retry", RetryPolicy(base_delay_seconds=0.01))
        options.setdefault("interrupt_grace_seconds", 2.0)
        built = ClaudeCodeAgent(config or agent_config, **options)
        agents.append(built)
        return built

    yield make
    for built in agents:
        await built.shutdown()


@pytest.fixture
def agent(make_agent: Callable[..., ClaudeCodeAgent]) -> ClaudeCodeAgent:
    return make_agent()


@pytest.fixture
def session(project_dir: Path) -> Session:
    return Session(user_id=1, chat_id=1, working_directory=project_dir)


@pytest.fixture
def fake_log(fake_home: Path) -> FakeLog:
    return FakeLog(fake_home / "log.jsonl")


@pytest.fixture
def gate() -> RecordingGate:
    return RecordingGate()


@pytest.fixture
def collected() -> Collected:
    return Collected()
