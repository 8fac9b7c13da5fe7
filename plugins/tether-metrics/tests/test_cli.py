"""Through the `tether` command: listed by `tether plugins`, and serving a real REPL's traffic."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("prometheus_client", reason="tether-metrics is not installed with its deps")

import httpx
import pexpect
from prometheus_client.parser import text_string_to_metric_families

import tether

TETHER_SOURCE = Path(tether.__file__).resolve().parent.parent
PACKAGE_ROOT = Path(__file__).resolve().parent.parent
FAKE_CLAUDE = TETHER_SOURCE / "tests" / "agents" / "fake_claude.py"
TIMEOUT = 30


def _environment(site: Path, **variables: str) -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("TETHER_")}
    environment["PYTHONPATH"] = os.pathsep.join([str(TETHER_SOURCE), str(PACKAGE_ROOT), str(site)])
    environment.update(variables)
    return environment


def _tether_plugins(site: Path, **variables: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "tether", "plugins"],
        capture_output=True,
        text=True,
        env=_environment(site, **variables),
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_tether_plugins_lists_it_when_enabled(site: Path) -> None:
    shown = _tether_plugins(site, TETHER_PLUGINS="metrics")
    (line,) = [line for line in shown.splitlines() if line.startswith("metrics ")]
    assert "0.1.0" in line
    assert "entry point" in line or "entry_point" in line


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def _scrape(port: int) -> dict[str, float]:
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    return {
        sample.name + str(sorted(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_a_tether_run_serves_its_traffic(
    site: Path, project_dir_for_cli: Path, tmp_path: Path
) -> None:
    launcher = tmp_path / "bin" / "claude"
    launcher.parent.mkdir()
    launcher.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{FAKE_CLAUDE}" "$@"\n')
    launcher.chmod(launcher.stat().st_mode | stat.S_IXUSR)
    (tmp_path / "fake-claude").mkdir()
    port = _free_port()
    child = pexpect.spawn(
        sys.executable,
        ["-m", "tether", "--dir", str(project_dir_for_cli)],
        env=_environment(
            site,
            TETHER_PLUGINS="metrics",
            TETHER_PLUGIN_METRICS_PORT=str(port),
            TETHER_CLAUDE_CLI_PATH=str(launcher),
            TETHER_AUDIT_LOG_PATH=str(tmp_path / "audit.jsonl"),
            FAKE_CLAUDE_DIR=str(tmp_path / "fake-claude"),
            PYTHONUNBUFFERED="1",
            TERM="dumb",
        ),
        cwd=str(tmp_path),
        encoding="utf-8",
        timeout=TIMEOUT,
        dimensions=(50, 200),
    )
    try:
        child.expect("Tether is running")
        child.expect("› ")
        child.sendline("text")
        child.expect("Hello from the fake")
        child.expect("› ")
        samples = _scrape(port)
        child.sendeof()
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert samples["tether_messages_total[('direction', 'in')]"] == 1
    assert samples["tether_messages_total[('direction', 'out')]"] == 1
    # The fake Claude Code reports 0.0123 USD for each request.
    assert samples["tether_request_cost_usd_total[]"] == pytest.approx(0.0123)
    assert child.exitstatus == 0


@pytest.fixture
def project_dir_for_cli(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    project.mkdir()
    (project / "README.md").write_text("# demo\n", encoding="utf-8")
    return project
