"""Layers: the floor, the base, files that extend it, the user's file; what a layer may relax."""

from __future__ import annotations

from pathlib import Path

import pytest

from tether.app import build_safety_pipeline
from tether.core.config import TetherConfig
from tether.core.safety.layers import load_layers, relaxing_problem
from tether.core.safety.pipeline import SafetyPipeline
from tether.core.safety.policy import Action, PolicyRule
from tether.exceptions import ConfigError

P = pytest.param

COMPOSE = """\
extends: default
rules:
  - name: compose-up
    commands: ["docker compose up", "docker compose up *"]
    action: allow
    examples:
      allow: ["docker compose up -d"]
      ask: ["docker compose down", "docker compose run app sh"]
"""
"""The worked example of docs/policies.md, as written there."""


def _pipeline(
    project_dir: Path, tmp_path: Path, user: str | None, **extra: object
) -> SafetyPipeline:
    user_file = tmp_path / "user.yaml"
    if user is not None:
        user_file.write_text(user)
    config = TetherConfig(
        approved_directories=(project_dir,),
        user_policy_file=user_file,
        **extra,  # type: ignore[arg-type]
    )
    return build_safety_pipeline(config)


def _decide(pipeline: SafetyPipeline, command: str, project_dir: Path) -> Action:
    return pipeline.decide("Bash", {"command": command}, cwd=project_dir).decision


def test_a_three_line_user_file_stops_one_ask(project_dir: Path, tmp_path: Path) -> None:
    before = _pipeline(project_dir, tmp_path, None)
    after = _pipeline(project_dir, tmp_path, COMPOSE)
    assert _decide(before, "docker compose up -d", project_dir) is Action.REQUIRE_APPROVAL
    verdict = after.decide("Bash", {"command": "docker compose up -d"}, cwd=project_dir)
    assert verdict.decision is Action.ALLOW
    assert verdict.rule == "compose-up"


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        P("docker compose down", Action.REQUIRE_APPROVAL, id="other-subcommand"),
        P("docker compose run app sh", Action.REQUIRE_APPROVAL, id="run-a-shell"),
        P("docker compose up --evil", Action.REQUIRE_APPROVAL, id="unknown-option"),
        P("docker compose up -d && rm -rf build", Action.REQUIRE_APPROVAL, id="chained-ask"),
        P("docker compose up $SERVICE", Action.REQUIRE_APPROVAL, id="dynamic-argument"),
        P("docker compose up *", Action.REQUIRE_APPROVAL, id="glob-argument"),
        P("docker compose up $(cat x)", Action.REQUIRE_APPROVAL, id="substitution"),
        P("sudo docker compose up", Action.DENY, id="floor-privilege"),
        P("docker compose up -d; curl x | sh", Action.DENY, id="floor-pipe-to-shell"),
        P("docker compose -f /etc/x.yml up -d", Action.DENY, id="sandbox-still-denies"),
        P("docker run --privileged x", Action.DENY, id="privileged-container"),
    ],
)
def test_a_relaxing_rule_relaxes_nothing_else(
    project_dir: Path, tmp_path: Path, command: str, expected: Action
) -> None:
    after = _pipeline(project_dir, tmp_path, COMPOSE)
    assert _decide(after, command, project_dir) is expected


def test_a_layer_may_tighten(project_dir: Path, tmp_path: Path) -> None:
    user = "rules:\n  - name: no-ls\n    programs: [ls]\n    action: deny\n"
    pipeline = _pipeline(project_dir, tmp_path, user)
    assert _decide(pipeline, "ls", project_dir) is Action.DENY


def test_a_permissive_base_cannot_remove_the_floor(project_dir: Path, tmp_path: Path) -> None:
    base = tmp_path / "mine.yaml"
    base.write_text("version: 1\nname: mine\nsettings:\n  default_action: allow\n")
    pipeline = _pipeline(project_dir, tmp_path, None, policy_files=(str(base),))
    assert _decide(pipeline, "curl x | sh", project_dir) is Action.DENY
    assert _decide(pipeline, "cat .env", project_dir) is Action.DENY


def test_extends_loads_its_base_and_sits_above_it(tmp_path: Path) -> None:
    user = tmp_path / "team.yaml"
    user.write_text(COMPOSE)
    layered = load_layers((str(user),))
    assert [p.name for p in layered.base] == ["default"]
    assert [(p.name, p.layer) for p in layered.layers] == [("team", "extends")]


def test_extends_a_file_by_relative_path(tmp_path: Path) -> None:
    (tmp_path / "base.yaml").write_text("version: 1\nname: base\nrules: []\n")
    (tmp_path / "mid.yaml").write_text("extends: base.yaml\nrules: []\n")
    (tmp_path / "top.yaml").write_text("extends: ./mid.yaml\nrules: []\n")
    layered = load_layers((str(tmp_path / "top.yaml"),))
    assert [p.name for p in layered.base] == ["base"]
    assert [p.name for p in layered.layers] == ["mid", "top"]


@pytest.mark.parametrize(
    ("files", "message"),
    [
        P({"a.yaml": "extends: b.yaml\n", "b.yaml": "extends: a.yaml\n"}, "cycle", id="cycle"),
        P({"a.yaml": "extends: a.yaml\n"}, "cycle", id="self"),
        P({"a.yaml": "extends: missing.yaml\n"}, "does not exist", id="missing-file"),
        P({"a.yaml": "extends: nosuchpreset\n"}, "unknown policy preset", id="missing-preset"),
        P({"a.yaml": "extends: [default]\n"}, "a.yaml:1", id="wrong-type"),
    ],
)
def test_broken_extends_is_one_clear_error(
    tmp_path: Path, files: dict[str, str], message: str
) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_layers((str(tmp_path / "a.yaml"),))
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("rule", "broad"),
    [
        P({"tools": ["Bash"]}, True, id="whole-tool"),
        P({"tools": ["*"]}, True, id="every-tool"),
        P({"risk_facts": ["network"]}, True, id="by-fact"),
        P({"min_risk_level": "none"}, True, id="by-level"),
        P({"programs": ["*"]}, True, id="program-wildcard"),
        P({"programs": ["py*"]}, True, id="program-prefix"),
        P({"programs": ["bash"]}, True, id="shell"),
        P({"programs": ["python3"]}, True, id="interpreter"),
        P({"programs": ["sudo"], "subcommands": ["ls"]}, False, id="pinned-runner"),
        P({"commands": ["python *"]}, True, id="interpreter-glob"),
        P({"commands": ["env *"]}, True, id="env-glob"),
        P({"command_patterns": ["^ls"]}, True, id="regex-alone"),
        P({"path_patterns": ["**"]}, True, id="path-all"),
        P({"path_patterns": ["src/**"]}, True, id="path-without-tool"),
        P({"tools": ["Bash"], "path_patterns": ["src/**"]}, True, id="path-for-bash"),
        P({"tools": ["Edit"], "path_patterns": ["src/**"]}, False, id="edit-on-src"),
        P({"programs": ["docker"], "subcommands": ["compose up"]}, False, id="program-sub"),
        P({"commands": ["npm run *"]}, False, id="command-glob"),
        P({"programs": ["ruff"]}, False, id="one-program"),
    ],
)
def test_relaxing_rules_must_be_specific(rule: dict[str, object], broad: bool) -> None:
    parsed = PolicyRule.model_validate({"name": "r", "action": "allow", **rule})
    assert (relaxing_problem(parsed) is not None) is broad


def test_an_over_broad_relaxing_rule_is_refused_at_start_with_file_and_line(
    project_dir: Path, tmp_path: Path
) -> None:
    user = "rules:\n  - name: ok\n    programs: [ls]\n    action: allow\n" + (
        "  - name: all-bash\n    tools: [Bash]\n    action: allow\n"
    )
    with pytest.raises(ConfigError) as caught:
        _pipeline(project_dir, tmp_path, user)
    assert "user.yaml:5: rule 'all-bash' relaxes too broadly" in str(caught.value)


def test_failing_examples_stop_start_up(project_dir: Path, tmp_path: Path) -> None:
    user = COMPOSE.replace('ask: ["docker compose down", ', 'allow: ["docker compose down", ')
    user = user.replace('      allow: ["docker compose up -d"]\n', "")
    with pytest.raises(ConfigError) as caught:
        _pipeline(project_dir, tmp_path, user)
    assert "expects allow for Bash 'docker compose down'" in str(caught.value)


def test_a_base_file_may_not_relax_but_combines_strictest(
    project_dir: Path, tmp_path: Path
) -> None:
    overlay = tmp_path / "overlay.yaml"
    overlay.write_text(
        "version: 1\nname: o\nrules:\n  - name: r\n    programs: [rm]\n    action: allow\n"
    )
    pipeline = _pipeline(project_dir, tmp_path, None, policy_files=("default", str(overlay)))
    assert _decide(pipeline, "rm x", project_dir) is Action.REQUIRE_APPROVAL
