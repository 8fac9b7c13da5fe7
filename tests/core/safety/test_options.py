"""Options and operands are told apart the way getopt would."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tether.core.safety.options import Option, OptionSpec, parse_args

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


# -- Option's own constructor ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _GeneratedOption:
    """Option's fields with the constructor dataclasses generates: the reference."""

    name: str
    value: str | None
    index: int
    value_index: int | None = None


@settings(max_examples=300, deadline=None, database=None)
@given(
    name=st.text(max_size=8),
    value=st.none() | st.text(max_size=8),
    index=st.integers(-2, 50),
    value_index=st.none() | st.integers(-2, 50),
    positional=st.booleans(),
)
def test_an_option_holds_what_the_generated_constructor_would_set(
    name: str, value: str | None, index: int, value_index: int | None, positional: bool
) -> None:
    if positional:
        option = Option(name, value, index, value_index)
    else:
        option = Option(name=name, value=value, index=index, value_index=value_index)
    reference = _GeneratedOption(name, value, index, value_index)
    assert tuple(option) == dataclasses.astuple(reference)
    assert option._asdict() == dataclasses.asdict(reference)
    assert repr(option) == repr(reference).replace("_GeneratedOption", "Option")
    assert option == Option(name, value, index, value_index)
    assert hash(option) == hash(Option(name, value, index, value_index))
    assert Option(name, value, index) == Option(name, value, index, None)
    with pytest.raises(AttributeError):
        option.name = "x"  # type: ignore[misc]
