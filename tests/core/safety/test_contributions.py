"""Program knowledge from plugins: a new program described whole, a known one only tightened."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tether.app import build_safety_pipeline
from tether.core.config import TetherConfig
from tether.core.safety.contributions import ProgramSpec, build_lookup
from tether.core.safety.policy import Action
from tether.core.safety.registry import REGISTRY
from tether.exceptions import PluginError

_DEPLOYCTL = ProgramSpec(
    names="deployctl dctl",
    options="-v|--verbose -o|--output=",
    subcommands={
        "status": ProgramSpec(read_only=True, operands="v"),
        "logs": ProgramSpec(read_only=True, options="-n|--lines=", operands="-"),
        "push": ProgramSpec(facts=("network",), operands="v"),
        "rollback": ProgramSpec(operands="v"),
        "nuke": ProgramSpec(ask="this tears the whole stack down", read_only=True, operands="-"),
    },
)

_GIT_EXTRA = ProgramSpec(
    names="git",
    subcommands={"status": ProgramSpec(ask="our repo's status hook is slow")},
)


def _decide(tmp_path: Path, command: str, *specs: ProgramSpec) -> Any:
    config = TetherConfig(
        approved_directories=(tmp_path,), audit_log_path=tmp_path / "audit.jsonl", plugins=()
    )
    lookup = build_lookup([("ops", list(specs))]) if specs else None
    pipeline = build_safety_pipeline(config, check_examples=False, programs=lookup)
    return pipeline.decide("Bash", {"command": command}, cwd=tmp_path)


@pytest.mark.parametrize(
    "command",
    [
        pytest.param("deployctl status", id="status"),
        pytest.param("deployctl status web", id="status-operand"),
        pytest.param("dctl -v status", id="alias-and-root-option"),
        pytest.param("deployctl logs -n 20", id="logs-option"),
        pytest.param("deployctl logs --lines=5 | head", id="pipeline"),
    ],
)
def test_read_only_parts_of_a_described_program_are_allowed(tmp_path: Path, command: str) -> None:
    assert _decide(tmp_path, command, _DEPLOYCTL).decision is Action.ALLOW


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        pytest.param("deployctl push web", Action.REQUIRE_APPROVAL, id="declared-fact"),
        pytest.param("deployctl rollback web", Action.REQUIRE_APPROVAL, id="not-read-only"),
        pytest.param("deployctl nuke", Action.REQUIRE_APPROVAL, id="declared-ask"),
        pytest.param("deployctl", Action.REQUIRE_APPROVAL, id="bare-dispatcher"),
        pytest.param("deployctl destroy", Action.REQUIRE_APPROVAL, id="unknown-subcommand"),
        pytest.param("deployctl status --force", Action.REQUIRE_APPROVAL, id="unknown-option"),
        pytest.param("deployctl logs extra", Action.REQUIRE_APPROVAL, id="unexpected-operand"),
        pytest.param("deployctl status > out.txt", Action.REQUIRE_APPROVAL, id="redirect-write"),
        pytest.param("deployctl status $(cat .env)", Action.DENY, id="substitution-credential"),
        pytest.param("deployctl status ~/.ssh/id_rsa", Action.DENY, id="credential-operand"),
        pytest.param("deployctl -o .env status", Action.DENY, id="credential-option-value"),
        pytest.param("deployctl status | sh", Action.DENY, id="piped-to-sh"),
        pytest.param("sudo deployctl status", Action.DENY, id="sudo"),
        pytest.param("deployctl status; rm -rf /", Action.DENY, id="floor-in-list"),
    ],
)
def test_what_a_described_program_does_not_vouch_for_still_asks_or_denies(
    tmp_path: Path, command: str, expected: Action
) -> None:
    assert _decide(tmp_path, command, _DEPLOYCTL).decision is expected


def test_without_the_plugin_the_program_asks(tmp_path: Path) -> None:
    assert _decide(tmp_path, "deployctl status").decision is Action.REQUIRE_APPROVAL


def test_a_known_program_gains_an_ask_and_loses_nothing(tmp_path: Path) -> None:
    assert _decide(tmp_path, "git status").decision is Action.ALLOW
    verdict = _decide(tmp_path, "git status", _GIT_EXTRA)
    assert verdict.decision is Action.REQUIRE_APPROVAL
    assert "plugin_ask" in verdict.risk_facts
    assert _decide(tmp_path, "git log -1", _GIT_EXTRA).decision is Action.ALLOW
    assert _decide(tmp_path, "git push --force", _GIT_EXTRA).decision is Action.DENY


def test_a_known_program_gains_a_fact(tmp_path: Path) -> None:
    spec = ProgramSpec(names="ls", facts=("network",))
    verdict = _decide(tmp_path, "ls -la", spec)
    assert verdict.decision is Action.REQUIRE_APPROVAL and "network" in verdict.risk_facts


def test_a_critical_fact_added_to_a_known_program_denies(tmp_path: Path) -> None:
    spec = ProgramSpec(names="cat", facts=("secrets_read",))
    assert _decide(tmp_path, "cat README.md", spec).decision is Action.DENY


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("rm", id="handler"),
        pytest.param("curl", id="network"),
        pytest.param("bash", id="shell"),
        pytest.param("python3.12", id="versioned-interpreter"),
        pytest.param("sudo", id="wrapper"),
        pytest.param("echo", id="preset-named"),
        pytest.param("mkfs.ext4", id="filesystem-maker"),
    ],
)
def test_a_program_tether_knows_anywhere_may_not_be_redescribed(name: str) -> None:
    with pytest.raises(PluginError, match=f"Tether knows '{name}'"):
        build_lookup([("ops", [ProgramSpec(names=name, read_only=True)])])


def test_the_global_registry_is_never_changed() -> None:
    before = dict(REGISTRY)
    build_lookup([("ops", [_DEPLOYCTL, _GIT_EXTRA])])
    assert before == REGISTRY and "deployctl" not in REGISTRY


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        pytest.param(
            ProgramSpec(names="git", read_only=True),
            "Tether knows 'git'.*remove read_only",
            id="known-read-only",
        ),
        pytest.param(
            ProgramSpec(names="git", subcommands={"push": ProgramSpec(options="--yolo")}),
            "remove options",
            id="known-sub-option",
        ),
        pytest.param(ProgramSpec(names="rm", operands="v"), "remove operands", id="known-operands"),
        pytest.param(
            ProgramSpec(names="x", facts=("harmless",)), "'harmless' is not a fact kind", id="fact"
        ),
        pytest.param(ProgramSpec(names="x", options="--a=z"), "unknown role", id="notation"),
        pytest.param(ProgramSpec(names="x", options="plain"), "is not an option", id="option"),
        pytest.param(ProgramSpec(names="x", operands="q"), "operand role", id="operand-role"),
        pytest.param(ProgramSpec(names=""), "is not a program name", id="empty-name"),
        pytest.param(ProgramSpec(names="/usr/bin/x"), "is not a program name", id="path-name"),
        pytest.param(
            ProgramSpec(names="x", subcommands={"a b": ProgramSpec()}),
            "is not a subcommand word",
            id="sub-word",
        ),
    ],
)
def test_a_malformed_or_relaxing_spec_is_a_plugin_error(spec: ProgramSpec, expected: str) -> None:
    with pytest.raises(PluginError, match=f"plugin 'ops': hook 'programs'.*{expected}"):
        build_lookup([("ops", [spec])])


def test_a_program_two_plugins_describe_is_refused() -> None:
    with pytest.raises(PluginError, match=r"plugin 'b'.*already described by plugin 'a'"):
        build_lookup([("a", [_DEPLOYCTL]), ("b", [ProgramSpec(names="dctl", read_only=True)])])


def test_something_other_than_a_spec_is_refused() -> None:
    with pytest.raises(PluginError, match="returned dict, not a ProgramSpec"):
        build_lookup([("ops", [{"names": "x"}])])


def test_a_spec_too_deep_is_refused() -> None:
    spec = ProgramSpec(read_only=True)
    for _ in range(8):
        spec = ProgramSpec(subcommands={"a": spec})
    with pytest.raises(PluginError, match="too deep"):
        build_lookup([("ops", [spec.model_copy(update={"names": "x"})])])
