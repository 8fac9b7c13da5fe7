"""Vetting's shortcuts give exactly what the full walk gives.

Each node settles at compile time whether any of its options is a whole
single-dash word (`node.whole`) and whether any takes further words
(`node.follows`); a node no plan compiled keeps both True, which is the full
walk (every word looked up). Forcing both True on every node is therefore the
full path, and it must find the same facts, paths and subcommand for every
corpus command and for generated words. The same holds for the words a node
reads as themselves and finds quiet (`node.plain`, empty on a node no plan
compiled) and for operands one role says all of (`node.uniform`, None there).
The operand step is skipped for a call without operands: it must add nothing
for any node of any spec.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from tether.core.safety.analyzer import CommandAnalyzer, PathAnalyzer, _quiet_when_plain
from tether.core.safety.classify import Classification, Classifier
from tether.core.safety.options import Option, parse_option_into
from tether.core.safety.programs import Findings, analyze_program
from tether.core.safety.registry import REGISTRY, lookup
from tether.core.safety.registry.call import Call
from tether.core.safety.registry.spec import Node, Opt, program, sub
from tether.core.safety.registry.vet import (
    _NOTHING_CLEARED,
    _operands,
    _options,
    _whole_word,
    _word_option,
    vet,
)
from tether.core.safety.shell import ShellParser, SimpleCommand

_CORPUS = Path(__file__).parent.parent / "corpus"
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _every_node() -> list[Node]:
    seen: dict[int, Node] = {}
    stack = [REGISTRY[name] for name in sorted(REGISTRY)]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen[id(node)] = node
        stack.extend(node.subs.values())
        stack.extend(n for n in (node.other, node.passes_to) if n is not None)
    return list(seen.values())


_NODES = _every_node()


_DERIVED = ("whole", "follows", "quiet", "quiet_values", "plain", "uniform")
"""What compiling a node sets for vetting's shortcuts."""


@contextmanager
def _full_walk(nodes: list[Node] = _NODES) -> Iterator[None]:
    """Every node (of the registry) as a node no plan compiled: each word looked up in its
    options, each operand read by `_operands`."""
    saved = [(node, [getattr(node, name) for name in _DERIVED]) for node in nodes]
    for node in nodes:
        node.whole = node.follows = True
        node.quiet = node.quiet_values = node.plain = frozenset()
        node.uniform = None
    try:
        yield
    finally:
        for node, values in saved:
            for name, value in zip(_DERIVED, values, strict=True):
                setattr(node, name, value)


def test_the_flags_say_what_the_options_hold() -> None:
    # The premise of each shortcut, node by node: False only where no option is one.
    for node in _NODES:
        if not node.whole:
            assert not any(len(n) > 2 and n[1] != "-" for n in node.options), node.name
        if not node.follows:
            assert all(o.second is None and o.role != "argv" for o in node.options.values())
        assert node.quiet_values <= node.quiet <= node.options.keys()
        assert node.plain <= node.quiet
        assert node.valued == node.parsing.short_values | node.parsing.optional_attached
        for word in node.plain:
            opt = node.options[word]
            assert not opt.takes_value and opt.second is None and opt.role != "argv"
        if node.uniform is not None:
            assert node.operands == (node.uniform,) and node.uniform not in {"write", "none"}
            assert node.keyed is None and node.last is None and not node.one_target
            assert node.operand_values is None


def test_a_plain_word_is_read_as_itself_and_adds_nothing_when_vetted() -> None:
    """What the walk skips for a word in `node.plain`: the option reader (or the whole-word
    reader) gives the word alone, and `_options` adds nothing for it."""
    for node in _NODES:
        for word in node.plain:
            read: list[Option] = []
            assert parse_option_into((word, "next"), 0, node.parsing, read) == 1, word
            assert read == [Option(word, None, 0)], (node.name, word)
            whole: list[Option] = []
            f = Findings(SimpleCommand(node.name, node.name, (word, "next")))
            assert _word_option(f, (word, "next"), 0, node, whole) == 1, (node.name, word)
            assert whole == read, (node.name, word)
            assert _options(f, [(read[0], node)], True) == (_NOTHING_CLEARED, False, False)
            assert (f.facts, f.paths, f.shell_strings) == ([], [], []), (node.name, word)


def test_some_nodes_read_plain_words_and_uniform_operands() -> None:
    rm, pytest_, git = lookup("rm"), lookup("pytest"), lookup("git")
    assert rm is not None and pytest_ is not None and git is not None
    assert "-q" in pytest_.plain and "--no-header" in pytest_.plain
    assert "-p" not in pytest_.plain  # it takes a value
    assert "--oneline" in git.subs["log"].plain and "--stat" in git.subs["diff"].plain
    assert rm.uniform == "delete" and lookup("cd").uniform == "cd"  # type: ignore[union-attr]
    assert lookup("cp").uniform is None  # type: ignore[union-attr]  # `cp a b DEST`
    assert lookup("tee").uniform is None  # type: ignore[union-attr]  # it writes
    assert lookup("grep").uniform is None  # type: ignore[union-attr]  # a pattern, then files


def _vet_node(node: Node, args: tuple[str, ...], dynamic: tuple[int, ...] = ()) -> object:
    f = Findings(SimpleCommand(node.name or "x", node.name or "x", args, dynamic_args=dynamic))
    words = vet(f, node, name_paths=True)
    return (words, f.facts, f.paths, f.shell_strings)


@pytest.mark.parametrize("after", [("20", "/tmp/x"), ()], ids=["before-words", "last-word"])
def test_every_option_word_of_every_node_is_vetted_alike_by_the_full_walk(
    after: tuple[str, ...],
) -> None:
    """Each listed spelling, before a value and a path or as the last word (an option that
    takes a value finds none), under the node itself."""
    cases = [(node, name) for node in _NODES for name in node.options if name[:1] == "-"]
    assert len(cases) > 10_000
    short = [_vet_node(node, (name, *after)) for node, name in cases]
    with _full_walk():
        full = [_vet_node(node, (name, *after)) for node, name in cases]
    for (node, name), ours, theirs in zip(cases, short, full, strict=True):
        assert ours == theirs, (node.name, name)


def _bundles(node: Node) -> list[str]:
    """Single-dash words of two or three of the node's letters, in both orders, and with
    a letter no spec lists, a `-` or an `=` among them."""
    letters = [name[1] for name in node.options if len(name) == 2 and name[0] == "-"]
    words = {"-" + a + b for a in letters[:6] for b in letters[-6:]}
    words |= {"-" + b + a + "Z" for a in letters[:3] for b in letters[-3:]}
    words |= {"-" + a + "-" + b for a in letters[:2] for b in letters[-2:]}
    words |= {"-" + a + "=x" for a in letters[:3]}
    return sorted(words)


def test_bundled_letters_of_every_node_are_vetted_alike_by_the_full_walk() -> None:
    """`-rf`: letters read one by one, some taking a value (`-n5`, `-vn 5`), some not;
    before a value and a path, and as the last word."""
    cases = [
        (node, (word, *after))
        for node in _NODES
        for word in _bundles(node)
        for after in (("20", "/tmp/x"), ())
    ]
    assert len(cases) > 10_000
    short = [_vet_node(node, args) for node, args in cases]
    with _full_walk():
        full = [_vet_node(node, args) for node, args in cases]
    for (node, word), ours, theirs in zip(cases, short, full, strict=True):
        assert ours == theirs, (node.name, word)


def test_a_listed_number_of_a_numeric_node_is_one_option_not_its_digits() -> None:
    """`-10` where `-10` is listed is the option reader's one word, never `-1` and `-0`."""
    node = program("zz-numeric", "-10 -1!file_write -0", numeric=True)["zz-numeric"]
    f = Findings(SimpleCommand("zz-numeric", "zz-numeric", ("-10", "x")))
    assert vet(f, node, name_paths=True) == ("x",)
    assert f.facts == []
    f = Findings(SimpleCommand("zz-numeric", "zz-numeric", ("-01", "x")))
    vet(f, node, name_paths=True)
    assert f.facts == []  # an unlisted number: the option reader's one word too


def test_a_letter_that_may_take_an_attached_value_never_takes_the_next_word() -> None:
    """`+x=?` beside `-x=`: the option reader takes an attached value for `x` first, so
    `-x a/b` leaves `a/b` an operand, as the full walk reads it."""
    node = program("zz-both", "-x= +x=?")["zz-both"]
    assert "x" in node.parsing.short_values and "x" in node.parsing.optional_attached
    short = _vet_node(node, ("-x", "a/b"))
    with _full_walk([node]):
        assert short == _vet_node(node, ("-x", "a/b"))
    assert short[0] == ("a/b",)


_OPERANDS = [
    ("src",),
    ("/", "~", "."),
    ("/dev/null", "-", "k=v"),
    ("a", "--", "-x", "/etc/passwd"),
    ("--", "b"),
    ("a", "b", "c", "d"),
]


@pytest.mark.parametrize("args", _OPERANDS, ids=[" ".join(a) for a in _OPERANDS])
def test_operands_of_every_node_are_vetted_alike_by_the_full_walk(
    args: tuple[str, ...],
) -> None:
    """Quiet targets, `KEY=VALUE`, several operands and those after `--`, on every node."""
    dynamic = (len(args) - 1,)
    short = [_vet_node(node, args, dynamic) for node in _NODES]
    with _full_walk():
        full = [_vet_node(node, args, dynamic) for node in _NODES]
    for node, ours, theirs in zip(_NODES, short, full, strict=True):
        assert ours == theirs, node.name


@pytest.mark.parametrize("with_value", [False, True], ids=["alone", "with-value"])
def test_a_quiet_option_adds_nothing_when_vetted(with_value: bool) -> None:
    """What `_options` does with each option a node lists as quiet: nothing at all."""
    for node in _NODES:
        for name in node.quiet_values if with_value else node.quiet:
            f = Findings(SimpleCommand(node.name, node.name, (name, "/etc/x")))
            option = Option(name, "/etc/x" if with_value else None, 0, 1 if with_value else None)
            answer = _options(f, [(option, node)], True)
            assert answer == (_NOTHING_CLEARED, False, False), (node.name, name)
            assert (f.facts, f.paths, f.shell_strings) == ([], [], []), (node.name, name)


@pytest.mark.parametrize("word", ["-5", "-20", "-0", "-007", "-\u0663", "-\u00b2"])
def test_an_unlisted_numeric_option_adds_nothing_when_vetted(word: str) -> None:
    """What the numeric shortcut skips: the option word read (the word, no value), then
    vetted by `_options`, which adds nothing, on every node that takes numeric options."""
    for node in _NODES:
        if not (node.numeric and node.parsing.numeric_flags) or word in node.options:
            continue
        read: list[Option] = []
        assert parse_option_into((word, "x"), 0, node.parsing, read) == 1
        assert read == [Option(word, None, 0)], (node.name, word)
        f = Findings(SimpleCommand(node.name, node.name, (word, "x")))
        answer = _options(f, [(read[0], node)], True)
        assert answer == (_NOTHING_CLEARED, False, False), (node.name, word)
        assert (f.facts, f.paths, f.shell_strings) == ([], [], []), (node.name, word)


def test_the_numeric_shortcut_reads_the_word_as_the_option_parser_does() -> None:
    head = lookup("head")
    assert head is not None and head.numeric and head.parsing.numeric_flags
    f = Findings(SimpleCommand("head", "head", ("-20", "-n", "3", "a.txt")))
    assert vet(f, head, name_paths=True) == ("a.txt",)
    assert [p.path for p in f.paths] == ["a.txt"]
    assert f.facts == []


def test_some_options_are_quiet_and_some_are_not() -> None:
    head, grep, rm = lookup("head"), lookup("grep"), lookup("rm")
    assert head is not None and grep is not None and rm is not None
    assert "-n" in head.quiet_values and "-q" in head.quiet
    assert "-e" not in grep.quiet  # it gives the pattern
    assert "-r" in rm.quiet  # its meaning is the `delete_targets` detector's
    assert "-f" not in grep.quiet  # it gives the pattern, from a file it reads
    assert "--color" in grep.quiet_values and "-X" not in grep.quiet  # `-X` is unvetted


def test_some_nodes_take_each_shortcut() -> None:
    assert any(not node.whole for node in _NODES)
    assert any(not node.follows for node in _NODES)
    assert lookup("xxd") is not None and lookup("xxd").whole  # type: ignore[union-attr]
    assert lookup("jq") is not None and lookup("jq").follows  # type: ignore[union-attr]


def test_the_operand_step_adds_nothing_for_no_operands() -> None:
    for node in _NODES:
        for name_paths in (True, False):
            f = Findings(SimpleCommand(node.name, node.name, ()))
            _operands(f, node, [], name_paths, 0, False, False, _NOTHING_CLEARED)
            assert (f.facts, f.paths, f.subcommand, f.shell_strings) == ([], [], (), []), node


def test_a_call_of_plain_words_only_vets_to_nothing_where_the_plan_says_so() -> None:
    """`_quiet_when_plain`, which lets a plan skip `vet` for a call whose words are all
    in the root's `plain` (`pytest -q`): for every node it holds for, `vet` of no words,
    of each plain word, and of all of them in either order (also as unknown at run time
    or globbed, which a plain word's reading ignores) returns () and adds nothing."""
    checked = 0
    for node in _NODES:
        if not _quiet_when_plain(node):
            continue
        words = sorted(node.plain)
        calls = [(), *((word,) for word in words), tuple(words), tuple(reversed(words))]
        for args in calls:
            everywhere = tuple(range(len(args)))
            for dynamic, globbed in (((), ()), (everywhere, everywhere)):
                for name_paths in (True, False):
                    command = SimpleCommand(
                        node.name or "x",
                        node.name or "x",
                        args,
                        dynamic_args=dynamic,
                        glob_args=globbed,
                    )
                    f = Findings(command)
                    assert vet(f, node, name_paths=name_paths) == (), (node.name, args)
                    assert (f.facts, f.paths, f.shell_strings) == ([], [], []), (node.name, args)
                    checked += 1
    assert checked > 10_000
    # Where it does not hold, a call of no words finds something: a detector's path
    # (`cd` alone goes home), a node's own fact (`git push` uses the network).
    cd, git = lookup("cd"), lookup("git")
    assert cd is not None and git is not None
    for node, name in ((cd, "cd"), (git.subs["push"], "git")):
        assert not _quiet_when_plain(node)
        f = Findings(SimpleCommand(name, name, ()))
        vet(f, node, name_paths=True)
        assert f.facts or f.paths, name


_WORDS_SPECS = (
    program(
        "zz-words",
        "-q -v --all",
        subs={"run": sub("-x", operands="r"), "show": sub(subs={"deep": sub()})},
        operands="r",
    )["zz-words"],
    # The words are taken after the detectors ran, as they are without them.
    program("zz-words-detected", "-q -v --all", operands="r", detect="cd_home")[
        "zz-words-detected"
    ],
)


@settings(max_examples=400, deadline=None)
@given(
    args=st.lists(
        st.sampled_from(["-q", "-v", "--all", "-x", "run", "show", "deep", "a", "b", "--"]),
        max_size=6,
    ),
    root=st.sampled_from(_WORDS_SPECS),
)
def test_the_subcommand_words_are_the_subcommands_then_the_operands_three_at_most(
    args: list[str], root: Node
) -> None:
    """What `vet` returns, also where it takes a call's one operand at once (`cd src`)."""
    node, taken, operands = root, [], []
    for index, word in enumerate(args):
        if word == "--":
            operands.extend(args[index + 1 :])
            break
        if word.startswith("-"):
            continue
        if word in node.subs and not operands:
            node = node.subs[word]
            taken.append(word)
        else:
            operands.append(word)
    f = Findings(SimpleCommand(root.name, root.name, tuple(args)))
    assert vet(f, root, name_paths=True) == tuple([*taken, *operands][:3])


def _corpus_commands() -> list[str]:
    commands: list[str] = []
    for path in sorted(_CORPUS.glob("*.yaml")):
        for case in yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)["cases"]:
            if "cmd" in case:
                commands.append(case["cmd"])
            elif case.get("tool") == "Bash" and isinstance(case.get("input"), dict):
                commands.append(str(case["input"].get("command", "")))
    return list(dict.fromkeys(commands))


def _dump(classification: Classification) -> dict[str, Any]:
    return classification.model_dump(mode="json")


def test_every_corpus_command_is_classified_alike_by_the_full_walk() -> None:
    parser = ShellParser()
    paths = PathAnalyzer()
    classifier = Classifier(parser, CommandAnalyzer(parser, paths), paths)
    commands = _corpus_commands()
    assert len(commands) > 500
    short = [classifier.classify("Bash", {"command": c}) for c in commands]
    with _full_walk():
        full = [classifier.classify("Bash", {"command": c}) for c in commands]
    for command, ours, theirs in zip(commands, short, full, strict=True):
        assert _dump(ours) == _dump(theirs), command


def _vetted(program: str, args: tuple[str, ...], dynamic: tuple[int, ...]) -> tuple[object, ...]:
    command = SimpleCommand(program, program, args, dynamic_args=dynamic)
    spec = lookup(program)
    assert spec is not None
    f = Findings(command)
    analyze_program(f)
    words = vet(f, spec, name_paths=not f.handled_paths)
    return (words, f.facts, f.paths, f.shell_strings)


# Programs whose specs use every part of the walk: subcommands (git, npm, cargo, docker),
# whole-word options (find, xxd, go), second words (jq), command lines (find, fd),
# numeric options (head, grep), keyed operands (dd), bundled first words (tar), `--`
# handed on (cargo fmt), detectors (rm, chmod, cd), prefixes and targets (cp -t).
_PROGRAMS = [
    "git",
    "rm",
    "pytest",
    "grep",
    "head",
    "sort",
    "cut",
    "find",
    "fd",
    "jq",
    "xxd",
    "tar",
    "dd",
    "cp",
    "chmod",
    "cd",
    "npm",
    "cargo",
    "go",
    "docker",
    "kubectl",
    "sed",
]
_ARG = st.one_of(
    st.sampled_from(
        [
            "-",
            "--",
            "-r",
            "-rf",
            "-rn",
            "-xvf",
            "-a-b",
            "-ne",
            "-R",
            "-5",
            "-n",
            "20",
            "-x",
            "-e",
            "-exec",
            "-name",
            "-EBCDIC",
            "--arg",
            "--slurpfile",
            ";",
            "+",
            "{}",
            "/",
            "~",
            ".",
            "status",
            "log",
            "fmt",
            "test",
            "run",
            "delete",
            "--check",
            "--oneline",
            "--since=2 weeks ago",
            "-t",
            "if=/dev/zero",
            "of=/dev/sda",
            "tzf",
            "-C",
            "src",
            "--forc",
            "--no-preserve-root",
            "-p",
            "no:cacheprovider",
            "u+s",
            "4755",
            "--warn-all",
            "-c",
            "--output=/tmp/x",
        ]
    ),
    st.text(alphabet="ab-=./:+~5", min_size=0, max_size=6),
)


@settings(max_examples=300, deadline=None)
@given(
    program=st.sampled_from(_PROGRAMS),
    args=st.lists(_ARG, max_size=7),
    dynamic=st.sets(st.integers(0, 6), max_size=2),
)
def test_generated_words_are_vetted_alike_by_the_full_walk(
    program: str, args: list[str], dynamic: set[int]
) -> None:
    words = tuple(args)
    indexes = tuple(sorted(i for i in dynamic if i < len(words)))
    short = _vetted(program, words, indexes)
    with _full_walk():
        full = _vetted(program, words, indexes)
    assert short == full


def test_a_call_looks_its_option_specs_up_only_when_asked() -> None:
    rm = lookup("rm")
    assert rm is not None
    f = Findings(SimpleCommand("rm", "rm", ("-rf", "/")))
    vet(f, rm, name_paths=True)
    assert {fact.kind for fact in f.facts} == {"destructive_delete"}
    option = Opt(("-r", "-R", "--recursive"), False, False, "value")
    node = Node("x", options={n: option for n in option.names})
    call = Call((node,), (), (Option("--recursive", None, 0),), ())
    assert call.has("-r") and call.has("-R") and not call.has("-f")
    assert not call.has_pattern()
    assert Call((node,), (), (), ()).given("-r") == []


def _plain_given(call: Call, names: tuple[str, ...]) -> list[Option]:
    """The reading `given` stands for: same name, or the very spec of one of `names`."""

    def spec(name: str) -> Opt | None:
        for node in reversed(call.path):
            if name in node.options:
                return node.options[name]
        return None

    wanted = [spec(n) for n in names]
    return [
        o
        for o in call.options
        if o.name in names or any(s is not None and s is spec(o.name) for s in wanted)
    ]


_NAMES = st.sampled_from(
    ["-r", "-R", "--recursive", "-f", "--force", "-n", "--no-preserve-root", "-x", "--nope"]
)


@settings(max_examples=200, deadline=None)
@given(
    program=st.sampled_from(["rm", "chmod", "cp", "grep"]),
    spelled=st.lists(_NAMES, max_size=4),
    asked=st.lists(_NAMES, min_size=1, max_size=3),
)
def test_a_call_finds_an_option_under_any_spelling_as_the_plain_reading_does(
    program: str, spelled: list[str], asked: list[str]
) -> None:
    root = lookup(program)
    assert root is not None
    options = tuple(Option(name, None, i) for i, name in enumerate(spelled))
    call = Call((root,), (), options, ())
    names = tuple(asked)
    assert call.given(*names) == _plain_given(call, names)
    assert call.has(*names) == bool(_plain_given(call, names))


@settings(max_examples=200, deadline=None)
@given(word=st.text(alphabet="-abrEq=x", min_size=2, max_size=5))
def test_a_short_or_double_dash_word_is_never_a_whole_word_option(word: str) -> None:
    # Vetting asks `_whole_word` only of a word longer than two with no second `-`.
    if len(word) <= 2 or word[1] == "-":
        for node in (lookup("pytest"), lookup("xxd"), lookup("npm"), lookup("find")):
            assert node is not None
            assert not _whole_word(word, node)


def test_a_word_read_without_the_option_reader_reads_as_it_would() -> None:
    """The walk names `-q` and `--oneline` itself when the node's letters and long names
    say they take no value; the reader gives exactly that option for each such word."""
    for node in _NODES:
        parsing = node.parsing
        for arg in [*node.options, "--zz-unlisted", "-Z", "-5", "---x", "--a-b"]:
            short = len(arg) == 2 and arg[0] == "-" and arg[1] not in parsing.short_values
            long = arg.startswith("--") and "=" not in arg and arg not in parsing.long_values
            if not (short or long) or arg == "--" or arg[0] != "-":
                continue
            read: list[Option] = []
            assert parse_option_into((arg, "next"), 0, parsing, read) == 1, (node.name, arg)
            assert read == [Option(arg, None, 0)], (node.name, arg)


@pytest.mark.parametrize(
    ("program_name", "args"),
    [
        pytest.param("rm", ("-rf", "/"), id="rm"),
        pytest.param("cd", ("src",), id="cd"),
        pytest.param("cd", (), id="cd-alone"),
        pytest.param("x", ("s", "-q", "a"), id="subcommand"),
    ],
)
def test_the_call_detectors_get_is_the_one_its_class_builds(
    program_name: str, args: tuple[str, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    # `vet` fills in the call's slots itself, without `Call(...)`.
    specs = {"x": next(iter(program("x", subs={"s": sub("-q", detect="cd_home")}).values()))}
    root = specs.get(program_name) or lookup(program_name)
    assert root is not None
    # The module, not the function the registry's package exports under its name.
    vet_module = importlib.import_module("tether.core.safety.registry.vet")
    seen: list[Call] = []
    monkeypatch.setitem(vet_module.DETECTORS, "cd_home", lambda f, call: seen.append(call))
    monkeypatch.setitem(vet_module.DETECTORS, "delete_targets", lambda f, call: seen.append(call))
    vet(Findings(SimpleCommand(program_name, program_name, args)), root, name_paths=True)
    assert seen
    for ours in seen:
        theirs = Call(ours.path, ours.words, ours.options, ours.operands)
        assert type(ours) is Call
        assert {s: getattr(ours, s) for s in Call.__slots__} == {
            s: getattr(theirs, s) for s in Call.__slots__
        }
        assert ours.node is ours.path[-1]
