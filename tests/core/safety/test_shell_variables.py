"""What the line's variables hold: arrays, appends, IFS, and what makes a value unknown."""

from __future__ import annotations

import pytest

from tether.core.safety.shell import ShellParser
from tether.core.safety.shell_variables import Variables
from tether.core.safety.shell_words import Fragment, expand

P = pytest.param


def _texts(frag: Fragment) -> list[str]:
    return [word.text for word in expand(frag)]


class TestVariables:
    def test_an_array_expands_to_its_elements(self) -> None:
        known = Variables()
        known.remember_array(
            "x", [Fragment(["rm"]), Fragment(["-rf"]), Fragment(["/"])], append=False
        )
        assert _texts(known.element("x", "@", quoted=True)) == ["rm", "-rf", "/"]
        assert _texts(known.element("x", "1", quoted=True)) == ["-rf"]
        assert _texts(known.element("x", "-1", quoted=True)) == ["/"]
        assert _texts(known.value("x", quoted=True)) == ["rm"]

    def test_quoted_elements_keep_their_blanks(self) -> None:
        known = Variables()
        known.remember_array("x", [Fragment(["a b"]), Fragment([""])], append=False)
        assert _texts(known.element("x", "@", quoted=True)) == ["a b", ""]
        assert _texts(known.element("x", "@", quoted=False)) == ["a", "b"]
        assert _texts(known.element("x", "*", quoted=True)) == ["a b "]

    def test_append_keeps_the_value_before_and_after(self) -> None:
        known = Variables()
        known.remember("x", Fragment(["r"]))
        known.remember("x", Fragment(["m"]), append=True)
        assert _texts(known.value("x", quoted=True)) == ["r", "rm"]

    def test_a_dynamic_value_makes_the_variable_unknown_for_good(self) -> None:
        known = Variables()
        known.remember("x", Fragment(["ls"]))
        known.remember("x", Fragment([""], dynamic=True))
        known.remember("x", Fragment(["cat"]))
        assert known.value("x", quoted=True).dynamic

    def test_a_custom_ifs_splits_unquoted_values(self) -> None:
        known = Variables()
        known.remember("IFS", Fragment([","]))
        known.remember("cmd", Fragment(["rm,-rf,/"]))
        assert _texts(known.value("cmd", quoted=False)) == ["rm", "-rf", "/"]
        assert _texts(known.value("cmd", quoted=True)) == ["rm,-rf,/"]

    def test_unassigned_variables_are_unknown(self) -> None:
        known = Variables()
        assert known.value("x", quoted=False).dynamic
        assert known.element("x", "@", quoted=True).dynamic


@pytest.mark.parametrize(
    ("command", "program", "args"),
    [
        P('x=(rm -rf /); "${x[@]}"', "rm", ("-rf", "/"), id="quoted-at"),
        P("x=(rm -rf /); ${x[@]}", "rm", ("-rf", "/"), id="unquoted-at"),
        P("x=(rm -rf /); ${x[*]}", "rm", ("-rf", "/"), id="unquoted-star"),
        P('x=(ls rm); "${x[1]}" -rf /', "rm", ("-rf", "/"), id="subscript"),
        P('declare -a x=(rm -rf /); "${x[@]}"', "rm", ("-rf", "/"), id="declared"),
        P('x=(rm); x+=(-rf /); "${x[@]}"', "rm", ("-rf", "/"), id="appended"),
        P("IFS=,; cmd=rm,-rf,/; $cmd", "rm", ("-rf", "/"), id="ifs-comma"),
        P("IFS=:; c=rm:-rf:/; $c", "rm", ("-rf", "/"), id="ifs-colon"),
        P("IFS=,; a=(rm,-rf,/); ${a[@]}", "rm", ("-rf", "/"), id="ifs-array"),
    ],
)
def test_known_values_become_the_command(
    shell_parser: ShellParser, command: str, program: str, args: tuple[str, ...]
) -> None:
    script = shell_parser.parse(command)
    assert (program, args) in {(c.program, c.args) for c in script.commands}


@pytest.mark.parametrize(
    "command",
    [
        P("x=ls; x[0]=rm; $x -rf src", id="element-assignment"),
        P('x=(ls); x[0]=rm; "${x[@]}" -rf src', id="array-element-assignment"),
        P("x=ls; declare -n r=x; r=rm; $x -rf src", id="name-reference"),
        P("x=ls; declare -n r; r=x; r=rm; $x src", id="name-reference-bound-later"),
        P("x=ls; local -n r=x; $x", id="local-name-reference"),
        P('x=(ls $(id)); "${x[@]}"', id="dynamic-element"),
        P('"${x[@]}"', id="never-assigned"),
        P('read -ra x <<< ls; "${x[@]}"', id="read-array"),
        P('x=(ls); "${x[$i]}"', id="dynamic-subscript"),
    ],
)
def test_values_the_line_does_not_fix_leave_the_command_unknown(
    shell_parser: ShellParser, command: str
) -> None:
    script = shell_parser.parse(command)
    assert script.commands[-1].dynamic_program
