"""Options and operands are told apart the way getopt would."""

from __future__ import annotations

import pytest

from tether.core.safety.options import OptionSpec, parse_args

GREP = OptionSpec(short_values=frozenset("eAm"), long_values=frozenset({"--regexp"}))
SED = OptionSpec(short_values=frozenset("e"), optional_attached=frozenset("i"))
WRAPPER = OptionSpec(short_values=frozenset("u"), stop_at_operand=True)
HEAD = OptionSpec(short_values=frozenset("n"), numeric_flags=True)


@pytest.mark.parametrize(
    ("args", "options", "operands"),
    [
        pytest.param(["-rf", "x"], ["-r", "-f"], ["x"], id="combined-flags"),
        pytest.param(["-r", "-f", "x"], ["-r", "-f"], ["x"], id="separate-flags"),
        pytest.param(["-e", "pat", "file"], ["-e"], ["file"], id="value-separate"),
        pytest.param(["-epat", "file"], ["-e"], ["file"], id="value-attached"),
        pytest.param(["-A3", "-e", "p"], ["-A", "-e"], [], id="values-in-cluster"),
        pytest.param(["--regexp", "p", "f"], ["--regexp"], ["f"], id="long-value"),
        pytest.param(["--regexp=p", "f"], ["--regexp"], ["f"], id="long-equals"),
        pytest.param(["--color", "f"], ["--color"], ["f"], id="unknown-long-is-flag"),
        pytest.param(["--", "-rf"], [], ["-rf"], id="double-dash-ends-options"),
        pytest.param(["x", "-r"], ["-r"], ["x"], id="options-after-operands"),
        pytest.param(["-"], [], ["-"], id="lone-dash-is-operand"),
    ],
)
def test_grep_like_parsing(args: list[str], options: list[str], operands: list[str]) -> None:
    parsed = parse_args(args, GREP)
    assert [o.name for o in parsed.options] == options
    assert [text for _, text in parsed.operands] == operands


def test_optional_attached_value_does_not_take_the_next_word() -> None:
    parsed = parse_args(["-i", "s/a/b/", "f"], SED)
    assert parsed.options[0].name == "-i"
    assert parsed.options[0].value is None
    assert [t for _, t in parsed.operands] == ["s/a/b/", "f"]
    assert parse_args(["-i.bak", "f"], SED).options[0].value == ".bak"


def test_wrapper_options_stop_at_the_command() -> None:
    parsed = parse_args(["-u", "root", "rm", "-rf", "/"], WRAPPER)
    assert parsed.end == 2
    assert parsed.values("-u") == ["root"]


def test_numeric_flags() -> None:
    parsed = parse_args(["-5", "file"], HEAD)
    assert parsed.has("-5")
    assert [t for _, t in parsed.operands] == ["file"]


def test_value_index_points_at_the_value() -> None:
    parsed = parse_args(["x", "-e", "pat"], GREP)
    option = parsed.value_options("-e")[0]
    assert (option.index, option.value_index) == (1, 2)
