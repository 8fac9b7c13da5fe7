"""`tether --web` as a person starts it: the link shown once, the page alone without a terminal."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.connectors.web.support import ServedTether, scenarios
from tether.cli import main
from tether.commands.run import startup_summary
from tether.core.config import TetherConfig

ROOT = Path(__file__).resolve().parents[3]
LINK = re.compile(r"(http://127\.0\.0\.1:(\d+)/)#token=([A-Za-z0-9_-]+)")


@pytest.fixture
def environment(tmp_path: Path, project_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TETHER_")}
    env.update(
        PYTHONPATH=str(ROOT),
        PYTHONUNBUFFERED="1",
        TETHER_WEB_PORT="0",
        TETHER_WEB_STATE_DIR=str(tmp_path / "state"),
        TETHER_AUDIT_LOG_PATH=str(tmp_path / "audit.jsonl"),
        TETHER_APPROVED_DIRECTORIES=str(project_dir),
    )
    return env


def _start(env: dict[str, str], cwd: Path) -> Iterator[tuple[subprocess.Popen[str], str]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "tether", "--web"],
        env=env,
        cwd=cwd,
        stdin=subprocess.DEVNULL,  # no terminal: the page is the way in
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 30
    try:
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "Press Ctrl-C" in line:
                break
        yield process, "".join(lines)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stdout.close()


def test_tether_web_without_a_terminal_serves_the_page_and_shows_the_link(
    environment: dict[str, str], tmp_path: Path
) -> None:
    for process, output in _start(environment, tmp_path):
        match = LINK.search(output)
        assert match, output
        base, _, token = match.groups()
        assert "connector: web" in output
        login = httpx.post(base + "api/login", json={"token": token}, headers={"origin": base[:-1]})
        assert login.status_code == 200
        assert process.poll() is None
    token_file = tmp_path / "state" / "web-token"
    assert token_file.stat().st_mode & 0o777 == 0o600


def test_an_unsafe_bind_is_refused_before_starting(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], project_dir: Path
) -> None:
    monkeypatch.setenv("TETHER_WEB_HOST", "0.0.0.0")
    monkeypatch.setenv("TETHER_APPROVED_DIRECTORIES", str(project_dir))
    assert main(["--web"]) == 2
    error = capsys.readouterr().err
    assert "TETHER_WEB_ALLOW_REMOTE" in error
    assert "Traceback" not in error
    assert len(error.strip().splitlines()) == 1


def test_later_starts_say_where_the_token_is_instead_of_showing_it(
    web_config: TetherConfig, project_dir: Path
) -> None:
    with ServedTether(web_config, scenarios(project_dir)) as first:
        assert first.engine is not None
        summary = startup_summary(first.engine)
        assert f"#token={first.token}" in summary
    with ServedTether(web_config, scenarios(project_dir)) as again:
        assert again.engine is not None
        summary = startup_summary(again.engine)
        assert "#token=" not in summary
        assert str(web_config.web_state_dir / "web-token") in summary
        assert again.token == first.token
