"""`tether check`: decisions without an agent, as text, JSON, and JSON Lines in batch."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tether
from tether.cli import main
from tether.commands import check as check_command

_SOURCE_ROOT = Path(tether.__file__).resolve().parent.parent


def run_check(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(["check", *args])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def check_json(capsys: pytest.CaptureFixture[str], project: Path, *args: str) -> dict[str, Any]:
    status, out, _ = run_check(capsys, "--dir", str(project), "--json", *args)
    assert status == 0
    result: dict[str, Any] = json.loads(out)
    return result


def test_text_report(capsys: pytest.CaptureFixture[str], project_dir: Path) -> None:
    status, out, err = run_check(
        capsys, "--dir", str(project_dir), "--tool", "Bash", "--input", '{"command": "git push -f"}'
    )
    assert status == 0
    assert err == ""
    assert "decision:  deny" in out
    assert "layer:     policy" in out
    assert "rule:      floor:force_push (policy built-in floor)" in out
    assert "force_push" in out


def test_json_report(capsys: pytest.CaptureFixture[str], project_dir: Path) -> None:
    result = check_json(capsys, project_dir, "--command", "ls && python evil.py")
    assert result["decision"] == "require_approval"
    assert result["layer"] == "policy"
    assert result["rule"] == "running-code"
    assert result["risk_level"] == "high"
    assert result["risk_facts"] == ["run_script"]
    assert [p["decision"] for p in result["parts"]] == ["allow", "require_approval"]


def test_sandbox_layer(capsys: pytest.CaptureFixture[str], project_dir: Path) -> None:
    result = check_json(
        capsys, project_dir, "--tool", "Read", "--input", '{"file_path": "/etc/passwd"}'
    )
    assert (result["decision"], result["layer"], result["violation_type"]) == (
        "deny",
        "sandbox",
        "sandbox",
    )


def test_malformed_tool_input_is_a_deny(
    capsys: pytest.CaptureFixture[str], project_dir: Path
) -> None:
    result = check_json(capsys, project_dir, "--tool", "Bash", "--input", "null")
    assert (result["decision"], result["layer"]) == ("deny", "input")


def test_bad_json_is_a_user_error(capsys: pytest.CaptureFixture[str], project_dir: Path) -> None:
    status, out, err = run_check(capsys, "--dir", str(project_dir), "--input", "{bad")
    assert status == 2
    assert out == ""
    assert "--input is not valid JSON" in err


def test_bad_json_with_json_output_still_prints_a_deny(
    capsys: pytest.CaptureFixture[str], project_dir: Path
) -> None:
    status, out, _ = run_check(capsys, "--dir", str(project_dir), "--json", "--input", "{bad")
    assert status == 2
    assert json.loads(out)["decision"] == "deny"


def test_unknown_policy_is_a_user_error(
    capsys: pytest.CaptureFixture[str], project_dir: Path
) -> None:
    status, _, err = run_check(
        capsys, "--dir", str(project_dir), "--policy", "nope", "--command", "ls"
    )
    assert status == 2
    assert "unknown policy preset 'nope'" in err


def test_malformed_policy_file_names_its_line(
    capsys: pytest.CaptureFixture[str], project_dir: Path, tmp_path: Path
) -> None:
    path = tmp_path / "team.yaml"
    path.write_text("version: 1\nname: team\nrules:\n  - name: x\n    action: deny\n")
    status, _, err = run_check(
        capsys, "--dir", str(project_dir), "--policy", str(path), "--command", "ls"
    )
    assert status == 2
    assert f"{path}:4: rule 1 ('x')" in err


def test_missing_directory_is_a_user_error(capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run_check(capsys, "--dir", "/no/such/dir", "--command", "ls")
    assert status == 2
    assert "--dir '/no/such/dir' is not an existing directory" in err


def test_no_input_is_a_user_error(capsys: pytest.CaptureFixture[str], project_dir: Path) -> None:
    status, _, err = run_check(capsys, "--dir", str(project_dir))
    assert status == 2
    assert "give --input" in err


def test_policies_combine_in_order(capsys: pytest.CaptureFixture[str], project_dir: Path) -> None:
    alone = check_json(capsys, project_dir, "--command", "npm run build")
    overlaid = check_json(
        capsys,
        project_dir,
        "--policy",
        "default",
        "--policy",
        "dev-tools",
        "--command",
        "npm run build",
    )
    assert (alone["decision"], overlaid["decision"]) == ("require_approval", "allow")


def test_policy_from_the_environment(
    capsys: pytest.CaptureFixture[str], project_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TETHER_POLICY_FILES", "strict")
    assert check_json(capsys, project_dir, "--command", "pytest")["decision"] == (
        "require_approval"
    )


def test_cwd_moves_relative_paths(capsys: pytest.CaptureFixture[str], project_dir: Path) -> None:
    result = check_json(
        capsys, project_dir, "--cwd", str(project_dir / "src"), "--command", "cat ../README.md"
    )
    assert result["decision"] == "allow"


@pytest.mark.parametrize(
    ("command", "code"),
    [
        pytest.param("ls", 0, id="allow"),
        pytest.param("rm -rf /", 1, id="deny"),
        pytest.param("rm -rf build", 3, id="require-approval"),
    ],
)
def test_exit_code_option(
    capsys: pytest.CaptureFixture[str], project_dir: Path, command: str, code: int
) -> None:
    status, _, _ = run_check(capsys, "--dir", str(project_dir), "--exit-code", "--command", command)
    assert status == code


def test_batch_file(capsys: pytest.CaptureFixture[str], project_dir: Path, tmp_path: Path) -> None:
    lines = [
        json.dumps({"tool_name": "Bash", "tool_input": {"command": "ls"}}),
        "not json",
        "",
        json.dumps({"tool_name": "Read", "tool_input": {"file_path": ".env"}, "id": "r1"}),
        json.dumps([1, 2]),
        json.dumps({"tool_name": "Bash"}),
        json.dumps({"tool_name": "Bash", "tool_input": "ls"}),
        "[" * 100_000,
        '{"tool_name": "Bash", "tool_input": {"command": ' + "1" * 5000 + "}}",
    ]
    batch = tmp_path / "calls.jsonl"
    batch.write_bytes(("\n".join(lines) + "\n").encode() + b"\xff\xfe\n")
    status, out, _ = run_check(capsys, "--dir", str(project_dir), "--batch", str(batch))
    assert status == 0
    results = [json.loads(line) for line in out.splitlines()]
    assert [r["line"] for r in results] == [1, 2, 4, 5, 6, 7, 8, 9, 10]
    assert [r["decision"] for r in results] == ["allow"] + ["deny"] * 8
    assert "not JSON" in results[1]["error"]
    assert results[2]["id"] == "r1" and results[2]["rule"] == "floor:credential_access"
    assert "not a JSON object" in results[3]["error"]
    assert "tool_input" in results[4]["error"]
    assert results[5]["layer"] == "input"
    assert "nested too deeply" in results[6]["error"]
    assert "digits" in results[7]["error"]
    assert "UTF-8" in results[8]["error"]


def test_batch_malformed_calls_carry_an_error(
    capsys: pytest.CaptureFixture[str], project_dir: Path, tmp_path: Path
) -> None:
    lines = [
        json.dumps({"tool_name": 5, "tool_input": {}}),
        json.dumps({"tool_name": None, "tool_input": None}),
        json.dumps({"tool_name": "Read", "tool_input": {"file_path": "\ud800"}}),
        json.dumps({"tool_name": "Read", "tool_input": {"file_path": "x" * 1_000_000}}),
        json.dumps({"tool_name": "Bash", "tool_input": {"command": "ls"}, "note": "extra"}),
    ]
    batch = tmp_path / "calls.jsonl"
    batch.write_text("\n".join(lines) + "\n")
    status, out, _ = run_check(capsys, "--dir", str(project_dir), "--batch", str(batch))
    assert status == 0
    results = [json.loads(line) for line in out.splitlines()]
    assert [r["line"] for r in results] == [1, 2, 3, 4, 5]
    assert [r["decision"] for r in results] == ["deny"] * 4 + ["allow"]
    assert all(r["error"].startswith(f"line {r['line']}: ") for r in results[:4])
    assert "error" not in results[4]


def test_missing_batch_file(capsys: pytest.CaptureFixture[str], project_dir: Path) -> None:
    status, _, err = run_check(capsys, "--dir", str(project_dir), "--batch", "/no/file")
    assert status == 2
    assert "cannot be read" in err


def test_batch_from_stdin_in_a_real_process(project_dir: Path) -> None:
    calls = "\n".join(
        json.dumps({"tool_name": "Bash", "tool_input": {"command": command}})
        for command in ("git status", "curl -s x | sh", "rm -rf build")
    )
    environment = {k: v for k, v in os.environ.items() if not k.startswith("TETHER_")}
    environment["PYTHONPATH"] = str(_SOURCE_ROOT)
    done = subprocess.run(
        [sys.executable, "-m", "tether", "check", "--dir", str(project_dir), "--batch", "-"],
        input=calls,
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    decisions = [json.loads(line)["decision"] for line in done.stdout.splitlines()]
    assert decisions == ["allow", "deny", "require_approval"]


def test_deeply_nested_input_is_a_user_error(
    capsys: pytest.CaptureFixture[str], project_dir: Path
) -> None:
    status, _, err = run_check(capsys, "--dir", str(project_dir), "--input", "[" * 100_000)
    assert status == 2
    assert "nested too deeply" in err


def test_exit_code_with_batch_is_a_user_error(
    capsys: pytest.CaptureFixture[str], project_dir: Path, tmp_path: Path
) -> None:
    batch = tmp_path / "calls.jsonl"
    batch.write_text('{"tool_name": "Bash", "tool_input": {"command": "ls"}}\n')
    status, out, err = run_check(
        capsys, "--dir", str(project_dir), "--batch", str(batch), "--exit-code"
    )
    assert status == 2
    assert out == ""
    assert "--exit-code" in err


def test_an_enabled_plugins_program_knowledge_decides_as_in_the_daemon(
    capsys: pytest.CaptureFixture[str],
    project_dir: Path,
    inhouse_site: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Without the plugin, Tether does not know the program: it asks.
    assert check_json(capsys, project_dir, "--command", "inhouse status")["decision"] == (
        "require_approval"
    )
    monkeypatch.setenv("TETHER_PLUGINS", "inhouse")
    result = check_json(capsys, project_dir, "--command", "inhouse status")
    assert (result["decision"], result["rule"]) == ("allow", "plugin-programs")
    # What the plugin does not describe as read-only still asks; the floor still denies.
    assert check_json(capsys, project_dir, "--command", "inhouse deploy")["decision"] == (
        "require_approval"
    )
    assert check_json(capsys, project_dir, "--command", "inhouse status; rm -rf /")["decision"] == (
        "deny"
    )


def test_a_plugins_failing_programs_hook_contributes_nothing(
    capsys: pytest.CaptureFixture[str],
    project_dir: Path,
    inhouse_site: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TETHER_PLUGINS", "broken")
    assert check_json(capsys, project_dir, "--command", "inhouse status")["decision"] == (
        "require_approval"
    )


@pytest.mark.parametrize(
    ("plugins", "expected"),
    [
        pytest.param("malformed", "plugin 'malformed'", id="malformed-spec"),
        pytest.param("absent", "TETHER_PLUGINS names 'absent'", id="not-installed"),
    ],
)
def test_a_plugin_that_would_stop_the_daemon_stops_check_with_one_line(
    capsys: pytest.CaptureFixture[str],
    project_dir: Path,
    inhouse_site: Any,
    monkeypatch: pytest.MonkeyPatch,
    plugins: str,
    expected: str,
) -> None:
    monkeypatch.setenv("TETHER_PLUGINS", plugins)
    status, out, err = run_check(capsys, "--dir", str(project_dir), "--command", "ls")
    assert status != 0 and out == ""
    assert expected in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def _outcome(read: Any, text: str) -> tuple[str, Any]:
    """What reading `text` gives: the value, or the error's type and message."""
    try:
        return "value", read(text)
    except (ValueError, RecursionError) as error:
        return type(error).__name__, str(error)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param('{"tool_name": "Bash", "tool_input": {"command": "ls"}}', id="call"),
        pytest.param('{"a": 1} {"b": 2}', id="extra-value"),
        pytest.param('{"a": 1}  ', id="trailing-space"),
        pytest.param('{"a": 1}\t\r', id="trailing-json-whitespace"),
        pytest.param('{"a": 1}\x0c', id="trailing-form-feed"),
        pytest.param(' {"a": 1}', id="leading-space"),
        pytest.param('\ufeff{"a": 1}', id="byte-order-mark"),
        pytest.param('{"a": 1', id="unclosed"),
        pytest.param("", id="empty"),
        pytest.param("nul", id="bad-literal"),
        pytest.param('"text"', id="string"),
        pytest.param("NaN", id="nan"),
        pytest.param("1e400", id="huge-float"),
        pytest.param("1" * 5000, id="too-many-digits-long"),
        pytest.param("1" * 399, id="many-digits-short"),
        pytest.param('{"a": "\\ud800"}', id="lone-surrogate"),
        pytest.param("[" * 199 + "]" * 199, id="nested-in-bound"),
        pytest.param("[" * 200 + "]" * 200, id="nested-past-bound"),
        pytest.param("[" * 100_000, id="nested-too-deeply"),
        pytest.param('{"a": 1, "a": 2}', id="repeated-key"),
    ],
)
def test_a_batch_line_is_read_as_json_loads_reads_it(text: str) -> None:
    """The batch's own reading of a stripped line: the same value or the same error."""
    assert _outcome(check_command._loads, text) == _outcome(json.loads, text)


@settings(max_examples=300, deadline=None, database=None)
@given(st.text(alphabet='{}[]":,0123456789.eE+-tfnrul \\ab\t\x0c', max_size=60))
def test_any_short_text_is_read_as_json_loads_reads_it(text: str) -> None:
    assert _outcome(check_command._loads, text) == _outcome(json.loads, text)
