"""A command line that names its subcommand first parses the same with that subcommand alone.

`main` builds only the parser of the subcommand a command line starts with;
these cases compare what it parses, and what it says about a bad line, with
the parser that registers every subcommand.
"""

from __future__ import annotations

import contextlib
import io
from typing import Any

import pytest

from tether.cli import build_parser


def _parsed(command: str | None, argv: list[str]) -> tuple[str, Any]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            result: Any = vars(build_parser(command).parse_args(argv))
        except SystemExit as exit_:
            result = ("exit", exit_.code)
    return out.getvalue() + err.getvalue(), result


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param(["check", "--command", "git status", "--dir", "/tmp"], id="check-command"),
        pytest.param(["check", "--batch", "-", "--json", "--policy", "strict"], id="check-batch"),
        pytest.param(["check", "--tool", "Read", "--input", "{}", "--exit-code"], id="check-input"),
        pytest.param(["check"], id="check-bare"),
        pytest.param(["check", "--command", "a", "--batch", "-"], id="check-exclusive"),
        pytest.param(["check", "--nope"], id="check-unknown-option"),
        pytest.param(["check", "extra"], id="check-unknown-argument"),
        pytest.param(["check", "--help"], id="check-help"),
        pytest.param(["check", "--dir"], id="check-missing-value"),
        pytest.param(["check", "--version"], id="check-then-version"),
        pytest.param(["run", "--dir", ".", "--web"], id="run"),
        pytest.param(["run", "--help"], id="run-help"),
        pytest.param(["policy", "test"], id="policy-test"),
        pytest.param(["policy", "nope"], id="policy-bad-action"),
        pytest.param(["policy", "--help"], id="policy-help"),
        pytest.param(["rules"], id="rules"),
        pytest.param(["rules", "--help"], id="rules-help"),
        pytest.param(["plugins"], id="plugins"),
        pytest.param(["plugins", "--json"], id="plugins-json"),
    ],
)
def test_the_subcommand_alone_parses_as_the_whole_parser(argv: list[str]) -> None:
    assert _parsed(argv[0], argv) == _parsed(None, argv)
