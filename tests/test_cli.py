"""The `tether` command as a user runs it: `python -m tether` in a fresh process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import tether
from tests.plugins.dist_info import FakeSite
from tether.plugins.registry import installed_plugin_names

_SOURCE_ROOT = Path(tether.__file__).resolve().parent.parent


def _tether(
    *args: str, env: dict[str, str] | None = None, extra_path: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `python -m tether ARGS` in the test's directory, with only the TETHER_ vars given."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("TETHER_")}
    paths = [str(_SOURCE_ROOT)] + ([str(extra_path)] if extra_path else [])
    environment["PYTHONPATH"] = os.pathsep.join(paths)
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "tether", *args],
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
        check=False,
    )


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeSite]:
    fake = FakeSite(tmp_path / "site-packages", monkeypatch)
    fake.install(
        "tether-notify",
        entry_points={"notify": "tether_notify:NotifyPlugin"},
        modules={
            "tether_notify": """
                from tether.plugins.base import PluginContext, PluginMeta, TetherPlugin

                class NotifyPlugin(TetherPlugin):
                    meta = PluginMeta(name="notify", version="2.0.0", description="Pings a webhook")

                    async def initialize(self, context: PluginContext) -> None:
                        return None
            """
        },
    )
    yield fake
    fake.forget_modules()


def test_help_lists_the_subcommands() -> None:
    result = _tether("--help")
    assert result.returncode == 0
    for command in ("run", "check", "plugins"):
        assert command in result.stdout
    assert "TETHER_" in result.stdout


def test_version() -> None:
    result = _tether("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"tether {tether.__version__}"


@pytest.mark.parametrize(
    ("env", "fragments"),
    [
        pytest.param(
            {"TETHER_STORAGE_BACKEND": "redis"},
            ("TETHER_STORAGE_BACKEND='redis'", "'memory' or 'sqlite'"),
            id="bad-choice",
        ),
        pytest.param(
            {"TETHER_APPROVED_DIRECTORY": "/no/such/dir"},
            ("TETHER_APPROVED_DIRECTORY", "'/no/such/dir'", "not an existing directory"),
            id="missing-directory",
        ),
        pytest.param(
            {"TETHER_RATE_LIMIT_RPM": "lots"},
            ("TETHER_RATE_LIMIT_RPM='lots'", "integer"),
            id="not-a-number",
        ),
        pytest.param(
            {"TETHER_PLUGINS": "no-such-plugin"},
            ("TETHER_PLUGINS", "'no-such-plugin'", "not installed"),
            id="plugin-not-installed",
        ),
    ],
)
def test_a_bad_setting_prints_one_line_and_exits_2(
    env: dict[str, str], fragments: tuple[str, ...]
) -> None:
    result = _tether("plugins", env=env)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("tether: ")
    for fragment in fragments:
        assert fragment in lines[0]
    assert "Traceback" not in result.stderr


def test_the_default_command_reports_a_bad_setting_before_starting() -> None:
    result = _tether("--dir", "/no/such/dir")
    assert result.returncode == 2
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line == "tether: --dir '/no/such/dir' is not an existing directory"


def test_a_bad_setting_in_the_env_file_is_reported_the_same_way(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("TETHER_LOG_LEVEL=chatty\n")
    result = _tether("plugins")
    assert result.returncode == 2
    assert result.stderr.startswith("tether: TETHER_LOG_LEVEL=")
    assert len(result.stderr.splitlines()) == 1


def test_plugins_lists_the_built_in_audit_plugin() -> None:
    result = _tether("plugins")
    assert result.returncode == 0, result.stderr
    header, *rows = result.stdout.splitlines()
    assert header.split() == [
        "NAME", "VERSION", "SOURCE", "STATE", "HOOKS", "SETTINGS", "CALLS/ERR/TIMEOUT"
    ]  # fmt: skip
    (audit,) = [row for row in rows if row.startswith("audit ")]
    assert audit.split()[2:] == ["built-in", "registered", "-", "-", "0/0/0"]
    (details,) = [row for row in rows if row.startswith("  audit: ")]
    assert "audit log" in details


def test_plugins_json() -> None:
    result = _tether("plugins", "--json")
    assert result.returncode == 0, result.stderr
    listing = json.loads(result.stdout)
    (audit,) = listing["registered"]
    assert audit["name"] == "audit"
    assert audit["source"] == "built-in"
    assert audit["version"]
    assert audit["description"]
    # Whatever this environment has installed (the plugins in plugins/, say), and no more.
    assert listing["installed_not_enabled"] == installed_plugin_names()


def test_plugins_shows_installed_plugins_that_are_not_enabled(
    site: FakeSite, tmp_path: Path
) -> None:
    result = _tether("plugins", extra_path=tmp_path / "site-packages")
    assert result.returncode == 0, result.stderr
    assert "notify" in result.stdout
    assert "TETHER_PLUGINS" in result.stdout

    listing = json.loads(_tether("plugins", "--json", extra_path=tmp_path / "site-packages").stdout)
    # The plugins shipped under plugins/ are installed beside Tether by the dev command.
    assert "notify" in listing["installed_not_enabled"]
    assert set(listing["installed_not_enabled"]) <= {"notify", "budget", "metrics"}


def test_plugins_lists_an_enabled_entry_point_plugin(site: FakeSite, tmp_path: Path) -> None:
    result = _tether(
        "plugins", "--json", env={"TETHER_PLUGINS": "notify"}, extra_path=tmp_path / "site-packages"
    )
    assert result.returncode == 0, result.stderr
    listing = json.loads(result.stdout)
    assert [(p["name"], p["source"]) for p in listing["registered"]] == [
        ("audit", "built-in"),
        ("notify", "entry point"),
    ]
    notify = listing["registered"][1]
    assert (notify["version"], notify["description"]) == ("2.0.0", "Pings a webhook")
    assert "notify" not in listing["installed_not_enabled"]

    table = _tether(
        "plugins", env={"TETHER_PLUGINS": "notify"}, extra_path=tmp_path / "site-packages"
    )
    (row,) = [line for line in table.stdout.splitlines() if line.startswith("notify ")]
    assert row.split()[:4] == ["notify", "2.0.0", "entry", "point"]


def test_dir_before_a_subcommand_is_refused_rather_than_ignored(tmp_path: Path) -> None:
    """`tether --dir X check` would otherwise judge against the current directory."""
    result = _tether("--dir", str(tmp_path), "check", "--tool", "Bash", "--input", "{}")
    assert result.returncode == 2
    assert "put --dir after the command" in result.stderr


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        pytest.param(
            {"TETHER_AUDIT_LOG_PATH": "."}, "tether: cannot open audit log", id="audit-log-is-a-dir"
        ),
        pytest.param(
            {"TETHER_LOG_DIR": "/proc/no-such-dir"},
            "tether: TETHER_LOG_DIR='/proc/no-such-dir' cannot hold a log file",
            id="log-dir-unwritable",
        ),
        pytest.param(
            {"TETHER_CLAUDE_CLI_PATH": "/no/such/claude"},
            "tether: TETHER_CLAUDE_CLI_PATH='/no/such/claude' is invalid",
            id="claude-cli-missing",
        ),
    ],
)
def test_start_up_problems_are_one_line_before_anything_runs(
    env: dict[str, str], expected: str
) -> None:
    result = _tether(env=env)
    assert result.returncode == 2
    assert result.stderr.startswith(expected), result.stderr
    assert len(result.stderr.splitlines()) == 1
    assert "Tether is running" not in result.stdout


def test_an_env_file_that_is_not_utf8_is_named(tmp_path: Path) -> None:
    (tmp_path / ".env").write_bytes(b"\xff\xfeTETHER_LOG_LEVEL=INFO\n")
    result = _tether("plugins")
    assert result.returncode == 2
    assert result.stderr.startswith("tether: .env in ")
    assert "not UTF-8" in result.stderr
