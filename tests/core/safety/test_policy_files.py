"""Policy files load from presets or paths; a malformed one fails naming file, line and problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from tether.core.safety.facts import FACTS, RiskLevel
from tether.core.safety.policy import Action, Policy
from tether.core.safety.policy_files import PRESETS, load_policies, load_policy, parse_policy
from tether.exceptions import ConfigError

P = pytest.param

VALID = """\
version: 1
name: mine
settings:
  default_action: ask
  approval_timeout_seconds: 60
rules:
  - name: no-network
    risk_facts: [network]
    action: deny
  - name: tests
    programs: [pytest]
    action: allow
"""


def test_a_valid_policy_loads() -> None:
    policy = parse_policy(VALID, "mine.yaml")
    assert [r.name for r in policy.rules] == ["no-network", "tests"]
    assert policy.settings.default_action is Action.REQUIRE_APPROVAL
    assert policy.settings.approval_timeout_seconds == 60
    assert policy.source == "mine.yaml"


def test_policy_from_a_path(tmp_path: Path) -> None:
    path = tmp_path / "team.yaml"
    path.write_text(VALID)
    assert load_policy(str(path)).name == "mine"
    assert [p.name for p in load_policies(["default", str(path)])] == ["default", "mine"]


def test_name_defaults_to_the_file_name() -> None:
    assert parse_policy("version: 1\nrules: []\n", "team.yaml").name == "team"


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        P("rules: [\n", 2, "not valid YAML", id="yaml-syntax"),
        P("version: 1\nname: x\nname: y\n", 3, "appears twice", id="duplicate-key"),
        P("", None, "empty", id="empty"),
        P("- a\n- b\n", 1, "a policy is a mapping", id="not-a-mapping"),
        P("version: 2\nname: x\n", 1, "version 2 is not supported", id="version"),
        P("version: 1\nname: x\nflavour: sweet\n", 3, "unknown key", id="unknown-top-key"),
        P(
            "version: 1\nname: x\nsettings:\n  default_action: maybe\n",
            4,
            "not an action",
            id="bad-default-action",
        ),
        P(
            "version: 1\nname: x\nsettings:\n  approval_timeout_seconds: -1\n",
            4,
            "greater than 0",
            id="bad-timeout",
        ),
        P(
            "version: 1\nname: x\nrules:\n  - name: a\n    programs: [ls]\n    action: allow\n"
            "  - name: b\n    programs: [rm]\n    action: explode\n",
            7,
            "rule 2 ('b')",
            id="bad-rule-action",
        ),
        P(
            "version: 1\nname: x\nrules:\n  - name: a\n    risk_facts: [made_up]\n"
            "    action: deny\n",
            4,
            "unknown risk fact 'made_up'",
            id="unknown-fact",
        ),
        P(
            "version: 1\nname: x\nrules:\n  - name: a\n    programs: [ls]\n    action: allow\n"
            "    colour: red\n",
            4,
            "unknown field 'colour'",
            id="unknown-rule-field",
        ),
        P(
            "version: 1\nname: x\nrules:\n  - name: a\n    programs: [ls]\n    action: allow\n"
            "  - name: a\n    programs: [rm]\n    action: deny\n",
            7,
            "rule names must be unique",
            id="duplicate-rule-name",
        ),
        P(
            "version: 1\nname: x\nrules:\n  - name: a\n    command_patterns: ['(']\n"
            "    action: deny\n",
            4,
            "not a valid regular expression",
            id="bad-regex",
        ),
    ],
)
def test_malformed_policy_names_file_line_and_problem(
    text: str, line: int | None, message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_policy(text, "team.yaml")
    error = str(caught.value)
    assert error.startswith("team.yaml" + (f":{line}:" if line else ""))
    assert message in error


def test_unknown_preset_lists_the_presets() -> None:
    with pytest.raises(ConfigError, match="unknown policy preset 'nope'; presets are default"):
        load_policy("nope")


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_policy(str(tmp_path / "missing.yaml"))


def test_unreadable_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_bytes(b"\xff\xfe")
    with pytest.raises(ConfigError, match=r"bad\.yaml:1: the file is not UTF-8"):
        load_policy(str(path))


def test_no_policy_is_an_error() -> None:
    with pytest.raises(ConfigError, match="no policy"):
        load_policies([])


@pytest.mark.parametrize("name", PRESETS)
def test_presets_load(presets: dict[str, Policy], name: str) -> None:
    assert presets[name].name == name
    assert presets[name].rules


@pytest.mark.parametrize("name", PRESETS)
def test_presets_leave_the_floor_to_code(presets: dict[str, Policy], name: str) -> None:
    """No preset repeats a critical fact: the floor denies them all, in code."""
    critical = {kind for kind, info in FACTS.items() if info.level is RiskLevel.CRITICAL}
    named = {kind for r in presets[name].rules for kind in r.risk_facts}
    assert not critical & named, sorted(critical & named)


def test_dev_tools_is_an_overlay(presets: dict[str, Policy]) -> None:
    overlay = presets["dev-tools"]
    assert overlay.settings.default_action is None
    assert all(r.action is Action.ALLOW for r in overlay.rules)
