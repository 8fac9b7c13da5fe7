"""The budget plugin installed as a package and run by `tether`, against the fake Claude CLI.

The package is "installed" the way pip leaves it behind (a dist-info directory
with the entry points its pyproject declares, and its source on the path), in
the test's own directory: nothing is installed for real.
"""

from __future__ import annotations

import io
import json
import os
import signal
import stat
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pexpect
import pytest

PLUGIN_ROOT = Path(__file__).resolve().parents[1]
REPO_ROOT = PLUGIN_ROOT.parents[1]
FAKE_CLAUDE = REPO_ROOT / "tests" / "agents" / "fake_claude.py"
TIMEOUT = 30


def _install(site: Path) -> None:
    project = tomllib.loads((PLUGIN_ROOT / "pyproject.toml").read_text())["project"]
    dist_info = site / f"tether_budget-{project['version']}.dist-info"
    dist_info.mkdir(parents=True)
    (dist_info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {project['name']}\nVersion: {project['version']}\n"
    )
    lines = []
    for group, points in project["entry-points"].items():
        lines.append(f"[{group}]")
        lines += [f"{name} = {target}" for name, target in points.items()]
    (dist_info / "entry_points.txt").write_text("\n".join(lines) + "\n")


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    site = tmp_path / "site-packages"
    _install(site)
    launcher = tmp_path / "bin" / "claude"
    launcher.parent.mkdir()
    launcher.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{FAKE_CLAUDE}" "$@"\n')
    launcher.chmod(launcher.stat().st_mode | stat.S_IXUSR)
    (tmp_path / "fake-claude").mkdir()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("TETHER_")}
    environment.update(
        TETHER_CLAUDE_CLI_PATH=str(launcher),
        TETHER_AUDIT_LOG_PATH=str(tmp_path / "audit.jsonl"),
        TETHER_PLUGINS="budget",
        TETHER_PLUGIN_BUDGET_LEDGER_PATH=str(tmp_path / "state" / "budget.json"),
        FAKE_CLAUDE_DIR=str(tmp_path / "fake-claude"),
        PYTHONPATH=os.pathsep.join([str(site), str(PLUGIN_ROOT), str(REPO_ROOT)]),
        PYTHONUNBUFFERED="1",
        TERM="dumb",
    )
    return environment


def test_tether_plugins_lists_the_budget_with_its_hooks_and_settings(
    env: dict[str, str], tmp_path: Path
) -> None:
    env["TETHER_PLUGIN_BUDGET_DAILY_USD"] = "3"
    result = subprocess.run(
        [sys.executable, "-m", "tether", "plugins", "--json"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=TIMEOUT,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    [budget] = [p for p in json.loads(result.stdout)["registered"] if p["name"] == "budget"]
    assert budget["source"] == "entry point"
    assert set(budget["hooks"]) == {"settings", "gate", "commands"}
    assert budget["commands"] == ["budget"]
    assert budget["settings_source"] == "environment"


def test_a_bad_limit_is_one_line_from_tether(env: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("TETHER_PLUGIN_BUDGET_DAILY_USD=lots\n")
    result = subprocess.run(
        [sys.executable, "-m", "tether", "plugins"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=TIMEOUT,
        check=False,
    )
    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert line.startswith("tether: TETHER_PLUGIN_BUDGET_DAILY_USD='lots' is invalid")


def test_past_the_limit_the_repl_asks_before_each_call_until_reset(
    env: dict[str, str], tmp_path: Path
) -> None:
    # The fake CLI reports $0.0123 a request: the first one is over this limit.
    env["TETHER_PLUGIN_BUDGET_REQUEST_USD"] = "0.01"
    child = _spawn(env, tmp_path)
    child.sendline("bash")
    child.expect("pytest ran")  # within budget: the test runner is allowed
    child.expect("› ")
    child.sendline("bash")
    child.expect("Over budget")
    child.expect(r"Allow\? ")
    child.sendline("n")
    child.expect("Rejected")
    child.expect("› ")
    child.sendline("/budget")
    child.expect("over budget")
    child.expect("› ")
    child.sendline("/budget reset")
    child.expect("Budget reset")
    child.expect("› ")
    child.sendline("bash")
    child.expect("pytest ran")
    child.expect("› ")
    child.sendeof()
    child.expect("Bye.")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


def _spawn(env: dict[str, str], tmp_path: Path) -> pexpect.spawn:
    project = tmp_path / "project"
    project.mkdir(exist_ok=True)
    child = pexpect.spawn(
        sys.executable,
        ["-m", "tether", "--dir", str(project)],
        env=env,
        cwd=str(tmp_path),
        encoding="utf-8",
        timeout=TIMEOUT,
        dimensions=(50, 200),
    )
    child.logfile_read = io.StringIO()  # the whole transcript, for what must not appear
    child.expect("Tether is running")
    child.expect("› ")
    return child


def _wait_for_requests(path: Path, requests: int) -> dict[str, object]:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        try:
            saved = json.loads(path.read_text())
        except (OSError, ValueError):
            saved = {}
        if saved.get("requests") == requests:
            return dict(saved)
        time.sleep(0.05)
    raise AssertionError(f"{path} never recorded {requests} request(s)")


def test_a_killed_tether_remembers_the_crossed_budget(env: dict[str, str], tmp_path: Path) -> None:
    """The ledger is saved as requests end, not at shutdown: a SIGKILL loses nothing."""
    ledger = Path(env["TETHER_PLUGIN_BUDGET_LEDGER_PATH"])
    env["TETHER_PLUGIN_BUDGET_REQUEST_USD"] = "0.01"  # the fake CLI's $0.0123 is over it
    child = _spawn(env, tmp_path)
    child.sendline("bash")
    child.expect("pytest ran")
    child.expect("› ")
    saved = _wait_for_requests(ledger, 1)
    assert "per-request limit $0.01" in str(saved["crossed"])
    child.kill(signal.SIGKILL)
    child.expect(pexpect.EOF)
    child.close()

    again = _spawn(env, tmp_path)
    again.sendline("bash")
    again.expect("Over budget")  # the first call of the new process asks
    again.expect(r"Allow\? ")
    again.sendline("n")
    again.expect("Rejected")
    again.expect("› ")
    again.sendeof()
    again.expect(pexpect.EOF)
    again.close()
    assert again.exitstatus == 0


def test_a_damaged_ledger_is_one_warning_and_asks_not_a_traceback(
    env: dict[str, str], tmp_path: Path
) -> None:
    ledger = Path(env["TETHER_PLUGIN_BUDGET_LEDGER_PATH"])
    ledger.parent.mkdir(parents=True)
    ledger.write_text('{"version": 1, "day": "2026-12-03", "spent_usd": NaN')
    child = _spawn(env, tmp_path)
    child.sendline("/budget")
    child.expect("could not be read: it is not JSON")
    child.expect("› ")
    child.sendline("bash")
    child.expect("Over budget")
    child.expect(r"Allow\? ")
    child.sendline("n")
    child.expect("› ")
    child.sendline("/budget reset")
    child.expect("Budget reset")
    child.expect("› ")
    child.sendeof()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert isinstance(child.logfile_read, io.StringIO)
    assert "Traceback" not in child.logfile_read.getvalue()
    assert json.loads(ledger.read_text())["crossed"] is None
