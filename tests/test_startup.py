"""Start-up loads what its first prompt needs, and still refuses what a user got wrong.

`tether --dir PROJECT` and `tether check --batch` run in a fresh process, as a
user starts them; the modules the process holds when it ends are compared with
what that command never needs. A broken policy file still stops either command
before anything runs, with one line naming the file and line. Building the
parser (which imports the pipeline) runs no garbage collection.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import tether

_SOURCE_ROOT = Path(tether.__file__).resolve().parent.parent
_MODULES_MARK = "loaded modules: "

# What the REPL's first prompt never needs: Telegram (a bot token selects it),
# the web page (`--web`) and the agent SDK (the first request loads it).
_NOT_BEFORE_THE_PROMPT = (
    "telegram",
    "httpx",
    "tether.connectors.telegram",
    "tether.connectors.web.connector",
    "uvicorn",
    "starlette",
    "claude_agent_sdk",
    "tether.agents.claude_code",
)

# `tether check` builds the safety pipeline alone: no engine, connector,
# plugin, store or agent, nor what other subcommands use (learned rules, the
# audit log, replay).
_NOT_IN_CHECK = (
    "tether.core.engine",
    "tether.core.chat_services",
    "tether.core.safety.gatekeeper",
    "tether.core.safety.learned",
    "tether.core.safety.audit",
    "tether.core.safety.replay",
    "tether.connectors.cli",
    "tether.plugins.registry",
    "tether.storage.sqlite",
    "aiosqlite",
    "tether.agents.base",
    "telegram",
    "claude_agent_sdk",
    # Plugins' program knowledge: without an enabled plugin there is none to read.
    "tether.core.safety.contributions",
    # Logging is set up when something is logged; a check that logs nothing
    # never loads structlog. No event loop runs: asyncio is never imported.
    "structlog",
    "asyncio",
    "ssl",
    # The web token's file is protected, but no token is made or compared.
    "hmac",
)


def _environment(tmp_path: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("TETHER_")}
    environment.update(
        PYTHONPATH=str(_SOURCE_ROOT),
        HOME=str(tmp_path / "home"),
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        XDG_STATE_HOME=str(tmp_path / "state"),
        TETHER_AUDIT_LOG_PATH=str(tmp_path / "audit.jsonl"),
    )
    environment.update(extra or {})
    return environment


def _run(
    args: list[str], tmp_path: Path, env: dict[str, str] | None = None
) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """Run `tether ARGS` with stdin closed; the result, and the modules it held at the end."""
    code = textwrap.dedent(
        f"""
        import json, runpy, sys
        sys.argv = ["tether", *{args!r}]
        try:
            runpy.run_module("tether", run_name="__main__")
        except SystemExit as stop:
            status = stop.code
        print({_MODULES_MARK!r} + json.dumps(sorted(sys.modules)), file=sys.stderr)
        sys.exit(status)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=_environment(tmp_path, env),
        timeout=60,
        check=False,
    )
    loaded: set[str] = set()
    problems = []
    for line in done.stderr.splitlines():
        if line.startswith(_MODULES_MARK):
            loaded = set(json.loads(line.removeprefix(_MODULES_MARK)))
        else:
            problems.append(line)
    done.stderr = "\n".join(problems)
    return done, loaded


def _among(loaded: set[str], names: tuple[str, ...]) -> list[str]:
    return sorted(
        module
        for module in loaded
        if any(module == name or module.startswith(name + ".") for name in names)
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    directory = tmp_path / "project"
    directory.mkdir()
    return directory


def test_the_first_prompt_loads_neither_telegram_nor_the_web_page_nor_the_sdk(
    tmp_path: Path, project: Path
) -> None:
    done, loaded = _run(["--dir", str(project)], tmp_path)
    assert done.returncode == 0, done.stderr
    assert "› " in done.stdout
    assert "tether.connectors.cli" in loaded  # the run did reach the terminal
    assert _among(loaded, _NOT_BEFORE_THE_PROMPT) == []


def test_check_builds_the_pipeline_alone(tmp_path: Path, project: Path) -> None:
    done, loaded = _run(["check", "--dir", str(project), "--batch", "-"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert "tether.core.safety.pipeline" in loaded  # it did build the pipeline
    assert _among(loaded, _NOT_IN_CHECK) == []


_BROKEN_POLICIES = [
    pytest.param(
        "rules:\n  - name: x\n    action: allow\n   command: [ls\n",
        ":4: not valid YAML",
        id="malformed-yaml",
    ),
    pytest.param(
        "name: mine\nrules:\n  - name: x\n    action: allow\n    tools: [Bash]\n    bogus: 1\n",
        ":3: rule 1 ('x'): unknown field 'bogus'",
        id="unknown-field",
    ),
    pytest.param(
        "version: 1\nname: mine\nrules:\n  - name: discard-ok\n    risk_facts: [git_discard]\n"
        '    action: allow\n    examples: {deny: ["git reset --hard"]}\n    reason: fine\n',
        ":4: rule 'discard-ok' expects deny for Bash 'git reset --hard'",
        id="failing-example",
    ),
]

_COMMANDS = [
    pytest.param(["--dir", "{project}"], id="repl"),
    pytest.param(["check", "--dir", "{project}", "--batch", "-"], id="check-batch"),
]


@pytest.mark.parametrize("command", _COMMANDS)
@pytest.mark.parametrize(("text", "expected"), _BROKEN_POLICIES)
def test_a_broken_policy_file_still_stops_start_up_in_one_line(
    tmp_path: Path, project: Path, command: list[str], text: str, expected: str
) -> None:
    policy = tmp_path / "mine.yaml"
    policy.write_text(text)
    args = [arg.format(project=project) for arg in command]
    done, _ = _run(args, tmp_path, {"TETHER_POLICY_FILES": f"default,{policy}"})
    assert done.returncode == 2
    (line,) = done.stderr.splitlines()
    assert line.startswith(f"tether: {policy}") or line.startswith("tether: 1 policy example")
    assert f"{policy}{expected}" in line
    assert "›" not in done.stdout
    assert "Tether is running" not in done.stdout


@pytest.mark.parametrize("command", _COMMANDS)
def test_a_broken_user_policy_file_stops_start_up_in_one_line(
    tmp_path: Path, project: Path, command: list[str]
) -> None:
    user_policy = tmp_path / "config" / "tether" / "policy.yaml"
    user_policy.parent.mkdir(parents=True)
    user_policy.write_text("rules:\n  - name: [oops\n")
    args = [arg.format(project=project) for arg in command]
    done, _ = _run(args, tmp_path)
    assert done.returncode == 2
    (line,) = done.stderr.splitlines()
    assert line.startswith(f"tether: {user_policy}:")
    assert "Tether is running" not in done.stdout


def test_the_parser_is_built_without_collections_and_collection_resumes(tmp_path: Path) -> None:
    """Importing the subcommands and the pipeline runs no collection; afterwards the
    collector is on again, with what start-up made frozen out of its work."""
    code = textwrap.dedent(
        """
        import gc, json
        from tether.cli import _build_parser_uncollected
        seen = []
        gc.callbacks.append(lambda phase, info: seen.append(phase) if phase == "start" else None)
        _build_parser_uncollected()
        print(json.dumps([len(seen), gc.isenabled(), gc.get_freeze_count()]))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=_environment(tmp_path),
        timeout=60,
        check=True,
    )
    collections, enabled, frozen = json.loads(done.stdout.splitlines()[-1])
    assert collections == 0
    assert enabled is True
    assert frozen > 10_000  # the pipeline's modules, at least


def test_check_builds_its_pipeline_without_collections_and_collection_resumes(
    tmp_path: Path, project: Path
) -> None:
    """Reading the settings and building the pipeline (examples run) runs no
    collection either; afterwards the collector is on, with the pipeline frozen."""
    code = textwrap.dedent(
        f"""
        import gc, json
        from tether.commands import check
        from tether.cli import build_parser
        args = build_parser().parse_args(["check", "--dir", {str(project)!r}, "--batch", "-"])
        frozen_before = gc.get_freeze_count()
        seen = []
        gc.callbacks.append(lambda phase, info: seen.append(phase) if phase == "start" else None)
        pipeline = check._build_uncollected(args)
        verdict = pipeline.decide("Bash", {{"command": "git status"}})
        print(json.dumps([len(seen), gc.isenabled(), gc.get_freeze_count() - frozen_before,
                          verdict.decision.value]))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=_environment(tmp_path),
        timeout=60,
        check=True,
    )
    collections, enabled, frozen, decision = json.loads(done.stdout.splitlines()[-1])
    assert collections == 0
    assert enabled is True
    assert frozen > 1_000  # the pipeline's rules, specs and caches
    assert decision == "allow"


_ASYNCIO_AFTER_CONFIG = [
    pytest.param(
        """
        import sys
        import tether.core.config
        import pydantic_settings.main as settings_main
        assert "asyncio" not in sys.modules
        async def answer():
            return 42
        # pydantic-settings' own use still works, and loads the real module.
        assert settings_main.asyncio.run(answer()) == 42
        import asyncio
        assert type(asyncio) is type(sys) and asyncio.__file__.endswith("__init__.py")
        assert sys.modules["asyncio"] is asyncio
        assert settings_main.asyncio.get_running_loop is asyncio.get_running_loop
        print("ok")
        """,
        id="config-first",
    ),
    pytest.param(
        """
        import sys
        import tether.core.config
        import asyncio, asyncio.events
        assert type(asyncio) is type(sys) and sys.modules["asyncio"] is asyncio
        assert asyncio.events is sys.modules["asyncio.events"]
        assert asyncio.run(asyncio.sleep(0, "slept")) == "slept"
        print("ok")
        """,
        id="imported-later-is-the-real-module",
    ),
    pytest.param(
        """
        import asyncio, sys
        import tether.core.config
        import pydantic_settings.main as settings_main
        assert settings_main.asyncio is asyncio is sys.modules["asyncio"]
        print("ok")
        """,
        id="already-loaded",
    ),
]


@pytest.mark.parametrize("code", _ASYNCIO_AFTER_CONFIG)
def test_reading_the_settings_defers_asyncio_without_changing_it(tmp_path: Path, code: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=_environment(tmp_path),
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["ok"]


def test_main_leaves_the_collector_as_it_found_it(tmp_path: Path) -> None:
    code = textwrap.dedent(
        """
        import gc, json
        from tether.cli import main
        gc.disable()
        try:
            main(["--version"])
        except SystemExit:
            pass
        paused = gc.isenabled()
        gc.enable()
        try:
            main(["--version"])
        except SystemExit:
            pass
        print(json.dumps([paused, gc.isenabled()]))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=_environment(tmp_path),
        timeout=60,
        check=True,
    )
    assert json.loads(done.stdout.splitlines()[-1]) == [False, True]
