"""The registry's shell-option allowlists, warning filters and GNU parallel's wrapper data.

The decisions these feed are held by `corpus/review_registry.yaml`; here the data
itself: every listed name is an option bash really has (a misspelled one would be a
dead entry), and the helpers answer for each spelling.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tether.core.safety.registry.environment import imports_warning_category, is_harmless
from tether.core.safety.registry.shell_options import (
    SET_OFF,
    SET_ON,
    SHOPT_OFF,
    SHOPT_ON,
    set_option_problem,
    shopt_problem,
)
from tether.core.safety.wrappers import unwrap

_BASH = shutil.which("bash")


def _bash_names(script: str) -> set[str]:
    assert _BASH is not None
    out = subprocess.run([_BASH, "-c", script], capture_output=True, text=True, check=True)
    return {line.split()[0] for line in out.stdout.splitlines() if line.strip()}


@pytest.mark.skipif(_BASH is None, reason="bash is not installed")
def test_every_listed_set_option_is_one_bash_has() -> None:
    assert _bash_names("set -o") >= (SET_ON | SET_OFF)


@pytest.mark.skipif(_BASH is None, reason="bash is not installed")
def test_every_listed_shopt_option_is_one_bash_has() -> None:
    assert _bash_names("shopt") >= (SHOPT_ON | SHOPT_OFF)


@pytest.mark.parametrize("name", ["history", "histexpand"])
def test_history_may_be_turned_off_but_not_on(name: str) -> None:
    assert set_option_problem(name, on=False) is None
    problem = set_option_problem(name, on=True)
    assert problem is not None and "history expansion" in problem


@pytest.mark.parametrize(
    ("name", "on"),
    [
        pytest.param("dotglob", True, id="dotglob"),
        pytest.param("nocaseglob", True, id="nocaseglob"),
        pytest.param("globstar", True, id="globstar"),
        pytest.param("nullglob", True, id="nullglob"),
        pytest.param("failglob", True, id="failglob"),
        pytest.param("nocasematch", True, id="nocasematch"),
        pytest.param("expand_aliases", True, id="expand_aliases"),
        pytest.param("globskipdots", False, id="no-globskipdots"),
        pytest.param("globasciiranges", False, id="no-globasciiranges"),
        pytest.param("interactive_comments", False, id="no-interactive_comments"),
        pytest.param("Dotglob", True, id="wrong-case"),
        pytest.param("", True, id="empty"),
    ],
)
def test_shopt_options_outside_the_allowlist_are_named(name: str, on: bool) -> None:
    problem = shopt_problem(name, on)
    assert problem is not None and "does not model" in problem


@pytest.mark.parametrize(
    ("name", "on"),
    [("extglob", True), ("inherit_errexit", True), ("dotglob", False), ("nullglob", False)],
)
def test_shopt_options_on_the_allowlist_pass(name: str, on: bool) -> None:
    assert shopt_problem(name, on) is None


@pytest.mark.parametrize(
    ("value", "imports"),
    [
        pytest.param("ignore::src.evil.W", True, id="dotted-category"),
        pytest.param("ignore,default::x.Y", True, id="second-filter"),
        pytest.param("ignore:: antigravity.W", True, id="blank-before"),
        pytest.param("error:msg:a.b.C:mod:3", True, id="all-fields"),
        pytest.param("ignore", False, id="action-only"),
        pytest.param("error::DeprecationWarning", False, id="builtin-category"),
        pytest.param("error::DeprecationWarning:foo.bar", False, id="module-field-is-a-pattern"),
        pytest.param("ignore:some.text.here", False, id="message-field-is-a-pattern"),
    ],
)
def test_warning_filters_that_import_a_module(value: str, imports: bool) -> None:
    assert imports_warning_category(value) is imports
    assert is_harmless("PYTHONWARNINGS", value) is not imports


def test_parallel_takes_its_arguments_from_stdin_and_runs_the_program() -> None:
    """`... | parallel cat` is `... | xargs cat` to whatever checks names piped in."""
    peeled = unwrap(["parallel", "-k", "-j", "4", "cat"])
    assert peeled.args_from_stdin
    assert peeled.program == 4
    assert peeled.facts == ()


@pytest.mark.parametrize(
    ("words", "facts"),
    [
        pytest.param(["parallel", "-S", "host", "cat"], ("network", "unvetted"), id="sshlogin"),
        pytest.param(["parallel", "--results", "/tmp/x", "cat"], ("unvetted",), id="results"),
        pytest.param(["parallel", "--joblog", "/tmp/x", "cat"], ("unvetted",), id="joblog"),
        pytest.param(["parallel", "--ssh", "sh", "cat"], ("network", "unvetted"), id="ssh"),
        pytest.param(["parallel", "-a", "names.txt", "cat"], ("unvetted",), id="arg-file"),
    ],
)
def test_parallel_options_outside_the_allowlist_ask(
    words: list[str], facts: tuple[str, ...]
) -> None:
    peeled = unwrap(words)
    assert peeled.program == len(words) - 1
    assert peeled.facts == facts
