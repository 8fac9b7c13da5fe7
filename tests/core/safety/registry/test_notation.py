"""The spec notation (registry/spec.py) and the vetting walk (registry/vet.py), feature by feature.

Each feature is pinned on a small spec built here, so a change to the
notation shows up as a failing line, not as a shifted decision elsewhere.
"""

from __future__ import annotations

import pytest

from tether.core.safety.programs.base import Findings
from tether.core.safety.registry import REGISTRY, lookup, nodes, vet
from tether.core.safety.registry.detectors import DETECTORS
from tether.core.safety.registry.spec import Node, program, sub
from tether.core.safety.shell import ShellParser

P = pytest.param


def _vet(parser: ShellParser, spec: dict[str, Node], command: str) -> Findings:
    f = Findings(parser.parse(command).commands[0])
    vet(f, next(iter(spec.values())), name_paths=True)
    return f


def _kinds(f: Findings) -> set[str]:
    return {fact.kind for fact in f.facts}


def _paths(f: Findings) -> set[tuple[str, str]]:
    return {(use.path, use.access) for use in f.paths}


def test_a_pattern_option_makes_every_operand_a_file(shell_parser: ShellParser) -> None:
    spec = program("prog", "-e|--regexp^=", operands="v r")
    assert _paths(_vet(shell_parser, spec, "prog pat a")) == {("a", "read")}
    both = {("pat", "read"), ("a", "read")}
    assert _paths(_vet(shell_parser, spec, "prog -e x pat a")) == both
    assert _paths(_vet(shell_parser, spec, "prog --regexp=x pat a")) == both


def test_a_two_word_option_takes_both_words(shell_parser: ShellParser) -> None:
    spec = program("prog", "--arg== --file==r", operands="v r")
    f = _vet(shell_parser, spec, "prog --arg k /v --file k f.json filter x")
    assert _paths(f) == {("f.json", "read"), ("x", "read")}
    assert not _kinds(f)


def test_the_last_operand_has_its_own_role(shell_parser: ShellParser) -> None:
    spec = program("prog", "-t|--target=o", operands="r $w")
    assert _paths(_vet(shell_parser, spec, "prog a b c")) == {
        ("a", "read"),
        ("b", "read"),
        ("c", "write"),
    }
    assert _paths(_vet(shell_parser, spec, "prog --target=d a b")) == {
        ("d", "write"),
        ("a", "read"),
        ("b", "read"),
    }


def test_keyed_operands(shell_parser: ShellParser) -> None:
    spec = program("prog", "", operands="v", keyed="in=r out=w n=")
    f = _vet(shell_parser, spec, "prog in=a out=b n=3")
    assert _paths(f) == {("a", "read"), ("b", "write")}
    assert _kinds(f) == {"file_write"}
    assert "unvetted" in _kinds(_vet(shell_parser, spec, "prog other=1"))
    assert "unvetted" in _kinds(_vet(shell_parser, spec, "prog bare"))


def test_operand_facts_need_an_operand(shell_parser: ShellParser) -> None:
    spec = program("prog", "-c!~file_write", operands="v", operand_facts="file_write")
    assert not _kinds(_vet(shell_parser, spec, "prog"))
    assert _kinds(_vet(shell_parser, spec, "prog x")) == {"file_write"}
    assert not _kinds(_vet(shell_parser, spec, "prog -c x"))


def test_an_unlisted_subcommand_carries_the_other_facts_and_is_unvetted(
    shell_parser: ShellParser,
) -> None:
    spec = program(
        "prog",
        "-n|--name=",
        operands="-",
        subs={"list": sub("", operands="v")},
        other=sub("", operands="v", facts="container", any_options=True),
    )
    assert not _kinds(_vet(shell_parser, spec, "prog -n list list"))
    assert _kinds(_vet(shell_parser, spec, "prog -n list run x")) == {"container", "unvetted"}


def test_subcommands_may_ignore_case(shell_parser: ShellParser) -> None:
    spec = program(
        "prog",
        "",
        operands="-",
        subs={"eraseDisk": sub("", operands="v", facts="disk_destruction")},
        nocase=True,
    )
    for spelling in ("eraseDisk", "erasedisk", "ERASEDISK"):
        assert "disk_destruction" in _kinds(_vet(shell_parser, spec, f"prog {spelling} x"))


def test_glob_values_are_files_read_unless_excluded(shell_parser: ShellParser) -> None:
    spec = program("prog", "-g|--glob=g", operands="v r")
    f = _vet(shell_parser, spec, "prog -g '*.env' --glob='!*.md' pat")
    assert {(use.path, use.glob) for use in f.paths} == {("*.env", True)}


def test_a_command_given_as_words_is_skipped(shell_parser: ShellParser) -> None:
    spec = program("prog", "-x|--exec=c", operands="v l")
    f = _vet(shell_parser, spec, "prog pat -x rm -rf / \\; dir")
    assert _paths(f) == {("dir", "list")}


@pytest.mark.parametrize(
    ("options", "operands", "message"),
    [
        P("-x=z", "a", "unknown role", id="bad-role"),
        P("x", "a", "is not an option", id="not-an-option"),
        P("-x", "q", "operand role", id="bad-operand-role"),
        P("-x==z", "a", "unknown role", id="bad-second-role"),
    ],
)
def test_a_malformed_spec_is_refused_by_name(options: str, operands: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        program("prog", options, operands=operands)


def test_a_family_member_has_its_family_spec() -> None:
    assert lookup("mkfs.ext4") is REGISTRY["mkfs"]
    assert lookup("newfs_msdos") is REGISTRY["newfs"]
    assert lookup("no-such-program") is None


def test_every_detector_is_named_by_some_spec() -> None:
    named = {name for root in REGISTRY.values() for node in nodes(root) for name in node.detect}
    assert named == set(DETECTORS)
