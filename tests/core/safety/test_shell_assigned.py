"""Assignments made by forms other than `NAME=value` reach the environment rule as one."""

from __future__ import annotations

import pytest

from tether.core.safety.shell import ShellParser


@pytest.mark.parametrize(
    ("line", "name", "value"),
    [
        pytest.param("for PATH in src; do ls; done", "PATH", "src", id="for"),
        pytest.param("select PATH in src; do ls; done", "PATH", "src", id="select"),
        pytest.param("for PS4 in '$(id)'; do ls; done", "PS4", "$(id)", id="for-quoted"),
        pytest.param(": ${PS4:='$(id)'}", "PS4", "$(id)", id="colon-equals"),
        pytest.param("x=${PATH=src}", "PATH", "src", id="equals-in-value"),
        pytest.param('echo "${HOME:=src}"', "HOME", "src", id="in-double-quotes"),
        pytest.param("BASH_CMDS[ls]=/bin/rm; ls", "BASH_CMDS", "/bin/rm", id="hash-element"),
        pytest.param("BASH_CMDS=([ls]=/bin/rm)", "BASH_CMDS", "([ls]=/bin/rm)", id="hash-array"),
        pytest.param("BASH_CMDS+=([ls]=/bin/rm)", "BASH_CMDS", "([ls]=/bin/rm)", id="hash-append"),
        pytest.param(": ${BASH_CMDS[ls]:=src/ls}", "BASH_CMDS", "src/ls", id="hash-default"),
        pytest.param("for BASH_CMDS in x; do ls; done", "BASH_CMDS", "x", id="hash-loop"),
    ],
)
def test_assignment_forms_reach_the_environment_rule(line: str, name: str, value: str) -> None:
    """Each is a command assigning `name` (the environment rule judges `assignments`)."""
    assignments = [a for c in ShellParser().parse(line).commands for a in c.assignments]
    assert (name, value) in assignments


@pytest.mark.parametrize(
    "line",
    [
        pytest.param("echo ${HOME:-/tmp}", id="default-only"),
        pytest.param("echo ${x#=} ${x%=*} ${x/=/-}", id="equals-in-pattern"),
    ],
)
def test_expansions_that_assign_nothing(line: str) -> None:
    assert all(not c.assignments for c in ShellParser().parse(line).commands)
