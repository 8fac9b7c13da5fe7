"""`tether policy show|test|replay` and `tether rules`, through the `tether` command."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tether.cli import main
from tether.core.safety.learned import LearnedRule, LearnedRuleStore, Lifetime, ScopeKind

USER = """\
extends: default
rules:
  - name: compose-up
    commands: ["make build *"]
    action: allow
"""


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_show_lists_the_floor_the_base_and_the_user_file(
    capsys: pytest.CaptureFixture[str], project_dir: Path, tmp_path: Path
) -> None:
    user = tmp_path / "user.yaml"
    user.write_text(USER)
    status, out, _ = run(
        capsys, "policy", "show", "--dir", str(project_dir), "--user-policy", str(user)
    )
    assert status == 0
    assert "built-in floor" in out and "credential_access" in out
    assert "default:" in out
    assert f"compose-up                   {user}:3" in out
    assert "learned rules:" in out


def test_shipped_presets_pass_their_own_examples(
    capsys: pytest.CaptureFixture[str], project_dir: Path
) -> None:
    for preset in ("default", "strict", "permissive", "default,dev-tools"):
        args = [a for name in preset.split(",") for a in ("--policy", name)]
        status, out, _ = run(capsys, "policy", "test", "--dir", str(project_dir), *args)
        assert status == 0, out
        passed, total = (int(n) for n in out.split()[0:3:2])
        assert passed == total > 0


def test_a_failing_example_is_printed_with_the_rule_that_decided(
    capsys: pytest.CaptureFixture[str], project_dir: Path, tmp_path: Path
) -> None:
    extra = tmp_path / "extra.yaml"
    extra.write_text(
        "version: 1\nname: extra\nrules:\n  - name: r\n    programs: [ls]\n    action: allow\n"
        "    examples:\n      deny: [ls]\n"
    )
    status, out, _ = run(capsys, "policy", "test", "--dir", str(project_dir), str(extra))
    assert status == 1
    assert "FAIL" in out and "rule 'r' expects deny for Bash 'ls'" in out


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param(["policy", "test", "missing.yaml"], id="missing-file"),
        pytest.param(["policy", "show", "--policy", "nosuch"], id="unknown-preset"),
        pytest.param(["policy", "replay", "missing.jsonl"], id="missing-log"),
        pytest.param(["rules", "revoke", "7"], id="no-such-rule"),
        pytest.param(["rules", "revoke"], id="revoke-nothing"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], argv: list[str], project_dir: Path
) -> None:
    status, _, err = run(capsys, *argv)
    assert status == 2
    assert err.startswith("tether: ") and err.count("\n") == 1


def _attempt(command: str, decision: str, directory: Path, **extra: Any) -> str:
    entry = {
        "event_type": "tool_attempt",
        "tool_name": "Bash",
        "tool_input": {"command": command},
        "decision": {"decision": decision},
        "cwd": str(directory),
        "approved_directories": [str(directory)],
        "input_truncated": False,
        **extra,
    }
    return json.dumps(entry) + "\n"


def test_replay_shows_what_a_user_file_would_change(
    capsys: pytest.CaptureFixture[str], project_dir: Path, tmp_path: Path
) -> None:
    log = tmp_path / "history.jsonl"
    log.write_text(
        _attempt("make build -j2", "require_approval", project_dir) * 3
        + _attempt("ls", "allow", project_dir)
        + _attempt("npm install x", "require_approval", project_dir)
        + _attempt("ls", "allow", project_dir, input_truncated=True)
        + _attempt("ls", "allow", project_dir, cwd=None)
        + "not json\n"
    )
    user = tmp_path / "user.yaml"
    user.write_text(USER)
    status, out, _ = run(
        capsys, "policy", "replay", str(log), "--json", "--dir", str(project_dir),
        "--user-policy", str(user),
    )  # fmt: skip
    assert status == 0
    report = json.loads(out)
    assert report["replayed"] == 5
    assert report["skipped_truncated"] == 1
    assert report["skipped_no_cwd"] == 1
    assert report["skipped_malformed"] == 1
    assert report["by_rule"] == {"compose-up": 3}
    assert report["top_asks"][0][0] == "Bash npm install x"
    status, text, _ = run(capsys, "policy", "replay", str(log), "--dir", str(project_dir))
    assert "0 would now be allowed" in text


def test_show_and_replay_see_the_enabled_plugins_programs(
    capsys: pytest.CaptureFixture[str],
    project_dir: Path,
    tmp_path: Path,
    inhouse_site: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    log = tmp_path / "history.jsonl"
    log.write_text(_attempt("inhouse status", "require_approval", project_dir))
    _, shown, _ = run(capsys, "policy", "show", "--dir", str(project_dir))
    assert "plugin-programs" not in shown
    monkeypatch.setenv("TETHER_PLUGINS", "inhouse")
    status, shown, _ = run(capsys, "policy", "show", "--dir", str(project_dir))
    assert status == 0 and "plugin-programs" in shown
    status, out, _ = run(capsys, "policy", "replay", str(log), "--json", "--dir", str(project_dir))
    assert status == 0
    (change,) = json.loads(out)["changes"]
    assert (change["before"], change["after"]) == ("require_approval", "allow")


def _rule(number: int, directory: Path) -> LearnedRule:
    return LearnedRule(
        id=f"r{number}",
        kind=ScopeKind.PROGRAM,
        label=f"`npm run{number} *`",
        tool="Bash",
        program="npm",
        subcommand=(f"run{number}",),
        directory=str(directory),
        lifetime=Lifetime.REMEMBERED,
        granted_by="7",
        granted_at="2026-12-03T10:00:00+00:00",
        approval_id=f"a{number}",
    )


def test_rules_lists_and_revokes_with_an_audit_entry(
    capsys: pytest.CaptureFixture[str],
    project_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = tmp_path / "learned.jsonl"
    LearnedRuleStore(path).save([_rule(1, project_dir), _rule(2, project_dir)])
    monkeypatch.setenv("TETHER_LEARNED_RULES_PATH", str(path))
    monkeypatch.setenv("TETHER_AUDIT_LOG_PATH", str(tmp_path / "audit.jsonl"))
    status, out, _ = run(capsys, "rules")
    assert status == 0 and "1. `npm run1 *`" in out and "2. `npm run2 *`" in out
    status, out, _ = run(capsys, "rules", "revoke", "2")
    assert status == 0 and "Revoked 1" in out
    assert [r.id for r in LearnedRuleStore(path).load()] == ["r1"]
    entries = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    assert [e.get("rule_id") for e in entries if e.get("event_type") == "rule_revoked"] == ["r2"]


@pytest.mark.parametrize(
    "line",
    [
        pytest.param("not json", id="not-json"),
        pytest.param('{"id": "x"}', id="missing-fields"),
        pytest.param("[1, 2]", id="wrong-type"),
    ],
)
def test_a_hand_broken_learned_rules_file_names_its_line(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    line: str,
    project_dir: Path,
) -> None:
    path = tmp_path / "learned.jsonl"
    path.write_text(_rule(1, project_dir).model_dump_json() + "\n" + line + "\n")
    monkeypatch.setenv("TETHER_LEARNED_RULES_PATH", str(path))
    status, _, err = run(capsys, "rules")
    assert status == 2
    assert f"{path}:2: not a learned rule" in err
