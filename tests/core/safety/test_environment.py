"""The environment rule: variables set for a command, or exported, are judged.

Harmless ones keep an allowed command allowed; loading ones (code, config,
runners from elsewhere) are `env_change`; any other is `unvetted`. Builtins
that assign (`export`, `declare`, `printf -v`, `read`, `mapfile`) count.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tether.core.safety.pipeline import SafetyPipeline
from tether.core.safety.registry.environment import builtin_assignments

P = pytest.param


def _decide(pipeline: SafetyPipeline, command: str) -> tuple[str, tuple[str, ...]]:
    verdict = pipeline.decide("Bash", {"command": command})
    return verdict.decision.value, verdict.risk_facts


STAYS_ALLOWED = [
    P("PAGER=cat git diff", id="pager-cat"),
    P("GIT_PAGER=cat git log -3", id="git-pager-cat"),
    P("LANG=C sort README.md", id="locale"),
    P("LC_ALL=C.UTF-8 grep -rn x src", id="lc-all"),
    P("TZ=UTC date", id="tz"),
    P("NO_COLOR=1 pytest -q", id="no-color"),
    P("CI=true npm test", id="ci"),
    P("RUST_BACKTRACE=1 cargo test", id="rust-backtrace"),
    P("PYTHONPATH=src pytest -q", id="pythonpath-inside"),
    P("PYTHONPATH=src:. pytest -q", id="pythonpath-list-inside"),
    P("env LANG=C ls", id="env-wrapper-harmless"),
    P("x=1; echo $x", id="shell-variable"),
    P("read -r line < README.md", id="read-local"),
    P("mapfile -t lines < README.md", id="mapfile-local"),
    P("printf -v msg '%s' hi", id="printf-v-local"),
]


@pytest.mark.parametrize("command", STAYS_ALLOWED)
def test_harmless_variables_keep_a_command_allowed(
    shared_pipelines: dict[str, SafetyPipeline], command: str
) -> None:
    decision, facts = _decide(shared_pipelines["default"], command)
    assert decision == "allow", facts


NOT_ALLOWED = [
    P("FOO=1 ls", "unvetted", id="unknown-variable"),
    P("export FOO=1; ls", "unvetted", id="export-unknown"),
    P("declare -x FOO=1", "unvetted", id="declare-x-unknown"),
    P("PAGER='sh -c id' git log", "env_change", id="pager-command"),
    P("PAGER=less git log", "env_change", id="pager-less"),
    P("HOME=/tmp/x git status", "env_change", id="home"),
    P("XDG_CONFIG_HOME=x git status", "env_change", id="xdg"),
    P("GIT_CONFIG_GLOBAL=x git log", "env_change", id="git-config-env"),
    P("RIPGREP_CONFIG_PATH=x rg foo", "env_change", id="rg-config"),
    P("PYTEST_ADDOPTS='-p x' pytest", "env_change", id="pytest-addopts"),
    P("NODE_OPTIONS='--require x' npm test", "env_change", id="node-options"),
    P("PIP_INDEX_URL=http://x pip list", "env_change", id="pip-index"),
    P("https_proxy=http://x npm test", "env_change", id="proxy-lower"),
    P("DOCKER_HOST=tcp://x docker ps", "env_change", id="docker-host"),
    P("DOCKER_CONTEXT=prod docker ps", "env_change", id="docker-context"),
    P("KUBECONFIG=x kubectl get pods", "env_change", id="kubeconfig"),
    P("RUSTC_WRAPPER=x cargo test", "env_change", id="rustc-wrapper"),
    P("CC=x make test", "env_change", id="compiler"),
    P("read PATH < README.md", "env_change", id="read-path"),
    P("printf -v LD_PRELOAD %s x", "env_change", id="printf-v-ld-preload"),
    P("mapfile PATH < README.md", "env_change", id="mapfile-path"),
    P("declare -n ref=PATH", "env_change", id="nameref-path"),
    P("export GIT_SSH_COMMAND=x", "env_change", id="export-git-ssh"),
    P("env -u X FOO=1 ls", "unvetted", id="env-wrapper-unknown"),
]


@pytest.mark.parametrize(("command", "fact"), NOT_ALLOWED)
def test_other_variables_are_not_auto_allowed(
    shared_pipelines: dict[str, SafetyPipeline], command: str, fact: str
) -> None:
    decision, facts = _decide(shared_pipelines["default"], command)
    assert decision != "allow"
    assert fact in facts


@pytest.mark.parametrize(
    "command",
    [
        P("PYTHONPATH=/etc pytest", id="pythonpath-outside"),
        P("PYTHONPATH=src:../../.. pytest", id="pythonpath-climbs"),
        P("NODE_PATH=/usr/lib npm test", id="node-path-outside"),
    ],
)
def test_search_paths_must_stay_inside(
    shared_pipelines: dict[str, SafetyPipeline], command: str
) -> None:
    assert _decide(shared_pipelines["default"], command)[0] == "deny"


@pytest.mark.parametrize(
    ("program", "args", "exported", "shell"),
    [
        P("export", ("A=1", "B"), ["A", "B"], [], id="export"),
        P("declare", ("-x", "A=1"), ["A"], [], id="declare-x"),
        P("declare", ("-gx", "A"), ["A"], [], id="declare-gx"),
        P("local", ("a=1",), [], ["a"], id="local"),
        P("declare", ("-n", "r=PATH"), ["PATH"], ["r"], id="nameref"),
        P("printf", ("-v", "X", "%s", "y"), [], ["X"], id="printf-v"),
        P("read", ("-r", "-p", "prompt", "A", "B"), [], ["A", "B"], id="read-prompt"),
        P("read", ("-a", "ARR"), [], ["ARR"], id="read-array"),
        P("mapfile", ("-t", "-n", "3", "LINES"), [], ["LINES"], id="mapfile"),
        P("getopts", ("ab:", "OPT"), [], ["OPT"], id="getopts"),
    ],
)
def test_builtins_that_assign(
    program: str, args: tuple[str, ...], exported: list[str], shell: list[str]
) -> None:
    assert builtin_assignments(program, args) == (exported, shell)


_HARMLESS = ["LANG=C", "TZ=UTC", "NO_COLOR=1", "CI=1", "RUST_BACKTRACE=1", "PAGER=cat"]


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    variable=st.sampled_from(_HARMLESS),
    command=st.sampled_from(["ls -la", "git status", "grep -rn TODO src", "pytest -q"]),
)
def test_a_harmless_variable_keeps_an_allowed_command_allowed(
    shared_pipelines: dict[str, SafetyPipeline], variable: str, command: str
) -> None:
    assert _decide(shared_pipelines["default"], f"{variable} {command}")[0] == "allow"
