"""LazyClaudeCodeAgent: the SDK is checked at start-up and imported by the first request."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.agents.support import RecordingGate
from tether.agents.base import BaseAgent
from tether.agents.claude_lazy import LazyClaudeCodeAgent
from tether.core.config import TetherConfig
from tether.core.session import Session
from tether.exceptions import AgentError, ConfigError

SOURCE_ROOT = Path(__file__).resolve().parents[2]


def _run_python(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={"PYTHONPATH": str(SOURCE_ROOT), "PATH": "/usr/bin:/bin", "HOME": str(cwd)},
        timeout=60,
        check=False,
    )


def test_building_the_engine_does_not_import_the_sdk(project_dir: Path, tmp_path: Path) -> None:
    done = _run_python(
        f"""
        import sys
        from pathlib import Path
        from tether.app import build_engine
        from tether.core.config import TetherConfig
        config = TetherConfig(
            approved_directories=(Path({str(project_dir)!r}),),
            audit_log_path=Path({str(tmp_path / "audit.jsonl")!r}),
        )
        engine = build_engine(config)
        print(type(engine.agent).__name__, "claude_agent_sdk" in sys.modules)
        """,
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1].split() == ["LazyClaudeCodeAgent", "False"]


@pytest.mark.parametrize(
    "missing",
    [
        pytest.param("claude_agent_sdk_not_there", id="absent-module"),
        pytest.param("claude_agent_sdk_not_there.sub", id="absent-parent"),
    ],
)
def test_a_missing_sdk_is_one_line_saying_how_to_install_it(
    agent_config: TetherConfig, missing: str
) -> None:
    with pytest.raises(AgentError, match=r"pip install claude-agent-sdk") as raised:
        LazyClaudeCodeAgent(agent_config, sdk_module=missing)
    assert "\n" not in str(raised.value)


def test_tether_without_the_sdk_stops_before_anything_starts(
    project_dir: Path, tmp_path: Path
) -> None:
    """The SDK hidden from the import system: `tether --dir` prints one line and exits."""
    done = _run_python(
        f"""
        import sys
        class HideSdk:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] == "claude_agent_sdk":
                    raise ModuleNotFoundError(name)
                return None
        sys.meta_path.insert(0, HideSdk())
        from tether.cli import main
        sys.exit(main(["--dir", {str(project_dir)!r}]))
        """,
        tmp_path,
    )
    lines = done.stderr.strip().splitlines()
    assert done.returncode != 0
    assert lines == [
        "tether: claude-agent-sdk is not installed (it drives Claude Code); "
        "install it with: pip install claude-agent-sdk"
    ]


def test_a_bad_allowed_tools_entry_is_still_refused_at_start_up(
    agent_config: TetherConfig,
) -> None:
    config = agent_config.model_copy(update={"claude_allowed_tools": ("Bash(git:*)",)})
    with pytest.raises(ConfigError, match="TETHER_CLAUDE_ALLOWED_TOOLS"):
        LazyClaudeCodeAgent(config)


async def test_the_first_request_loads_the_agent_and_runs_it(
    agent_config: TetherConfig, session: Session, gate: RecordingGate
) -> None:
    agent = LazyClaudeCodeAgent(agent_config)
    assert isinstance(agent, BaseAgent)
    assert not agent.loaded
    assert await agent.cancel("nothing-running") is False
    try:
        response = await agent.execute("text", session, can_use_tool=gate)
        assert agent.loaded
        assert response.content == "Hello from the fake. This is message 1 of this conversation."
    finally:
        await agent.shutdown()


async def test_shutting_down_before_any_request_loads_nothing(agent_config: TetherConfig) -> None:
    agent = LazyClaudeCodeAgent(agent_config)
    await agent.shutdown()
    assert not agent.loaded
