"""The analysis's shortcuts give exactly what the full path gives, field for field.

Each shortcut (a plain command recorded in one step, the plugin layer skipped
when nothing was contributed, git's global options read only when the call
has one, each scanned program's detectors kept once) is run against the full
path over every command of the corpus and over generated words.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from tether.core.safety import analyzer, processors, programs, shell_expand
from tether.core.safety.analysis import CommandAnalysis
from tether.core.safety.analyzer import CommandAnalyzer, PathAnalyzer, _quiet_when_plain
from tether.core.safety.classify import CallPart, Classification, Classifier, _git_internal
from tether.core.safety.command_sequence import ListedArguments, SequencePass, runs_downloads
from tether.core.safety.facts import PathUse, make_fact
from tether.core.safety.options import (
    Option,
    OptionSpec,
    ParsedArgs,
    is_option,
    parse_option,
    parse_option_into,
)
from tether.core.safety.programs import SCANNED_PROGRAMS, detectors
from tether.core.safety.programs.base import Findings
from tether.core.safety.registry import REGISTRY, detect_git, lookup
from tether.core.safety.registry.detect_git import _Call
from tether.core.safety.registry.layered import ProgramLookup
from tether.core.safety.registry.system import FAMILIES
from tether.core.safety.shell import ShellParser, ShellScript, SimpleCommand
from tether.core.safety.shell_expand import expand_command
from tether.core.safety.shell_model import WalkContext
from tether.core.safety.shell_words import Word
from tether.core.safety.wrappers import EMBEDDING_PROGRAMS

_CORPUS = Path(__file__).parent / "corpus"
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _corpus_commands(path: Path) -> list[str]:
    commands: list[str] = []
    for case in yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)["cases"]:
        if "cmd" in case:
            commands.append(case["cmd"])
        elif case.get("tool") == "Bash" and isinstance(case.get("input"), dict):
            commands.append(str(case["input"].get("command", "")))
    return list(dict.fromkeys(commands))


# One test per corpus file, each going through all of its commands (a test per command
# would spend more on collecting them than on comparing).
FILES = [pytest.param(path, id=path.stem) for path in sorted(_CORPUS.glob("*.yaml"))]


class _Layered(ProgramLookup):
    """A lookup with nothing contributed that still says it has: the full path."""

    __slots__ = ()

    @property
    def plain(self) -> bool:
        return False


def _parse_both(command: str, monkeypatch: pytest.MonkeyPatch) -> tuple[ShellScript, ShellScript]:
    parser = ShellParser()
    short = parser.parse(command)
    with monkeypatch.context() as patch:
        patch.setattr(shell_expand, "_plain", lambda *_: None)  # the full pass for every command
        full = parser.parse(command)
    return short, full


def test_the_corpus_is_read() -> None:
    commands = [c for path in _CORPUS.glob("*.yaml") for c in _corpus_commands(path)]
    assert len(commands) > 500
    assert "git status" in commands


@pytest.mark.parametrize("path", FILES)
def test_a_plain_command_is_recorded_as_the_full_pass_records_it(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for command in _corpus_commands(path):
        short, full = _parse_both(command, monkeypatch)
        assert short == full, command
        for ours, theirs in zip(short.commands, full.commands, strict=True):
            assert type(ours) is type(theirs), command
            assert ours._asdict() == theirs._asdict(), command


def _classifiers() -> tuple[Classifier, Classifier]:
    parser = ShellParser()
    paths = PathAnalyzer()
    plain = CommandAnalyzer(parser, paths, ProgramLookup())
    layered = CommandAnalyzer(parser, paths, _Layered())
    return Classifier(parser, plain, paths), Classifier(parser, layered, paths)


_PLAIN, _LAYERED = _classifiers()


def _dump(classification: Classification) -> dict[str, Any]:
    return classification.model_dump(mode="json")


@pytest.mark.parametrize("path", FILES)
def test_every_shortcut_gives_the_classification_of_the_full_path(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for command in _corpus_commands(path):
        short = _PLAIN.classify("Bash", {"command": command})
        programs._SCANS.clear()  # the detectors compiled afresh from the spec
        with monkeypatch.context() as patch:
            patch.setattr(shell_expand, "_plain", lambda *_: None)
            patch.setattr(detect_git, "_no_operand", lambda _: False)  # git read in full
            full = _LAYERED.classify("Bash", {"command": command})
        assert short == full, command
        assert _dump(short) == _dump(full), command


_REFERENCE_PARSER = ShellParser()
_REFERENCE_ANALYZER = CommandAnalyzer(_REFERENCE_PARSER, PathAnalyzer())


def _reference_parts(command: str) -> tuple[CallPart, ...]:
    """The parts as the dataclass's constructor builds them, by keyword, from the analysis."""
    analysis = _REFERENCE_ANALYZER.analyze_script(_REFERENCE_PARSER.parse(command))
    parts = []
    for simple, facts, paths, subcommand in analysis.commands:
        if not facts and not paths and (not simple.program or simple.code_walked):
            continue
        hooks = [u.path for u in paths if u.access == "write" and _git_internal(u.path)]
        if hooks:
            facts = (*facts, make_fact("git_hooks", f"writes {hooks[0]}"))
        opaque = (
            simple.dynamic_program,
            simple.dynamic_args,
            simple.glob_args,
            simple.procsub_args,
            simple.dynamic_code,
            simple.substituted,
            simple.args_from_stdin,
        )
        parts.append(
            CallPart(
                program=simple.program or None,
                subcommand=subcommand,
                text=simple.text,
                facts=facts,
                paths=paths,
                subshell=simple.subshell,
                args=simple.args,
                opaque=any(opaque),
            )
        )
    return tuple(parts)


@pytest.mark.parametrize("path", FILES)
def test_a_classification_is_what_the_constructors_would_build(path: Path) -> None:
    """The classifier sets each part's slots itself and builds the model unvalidated: both
    give, field for field, what CallPart's own constructor and validation give."""
    for command in _corpus_commands(path):
        short = _PLAIN.classify("Bash", {"command": command})
        reference = _reference_parts(command)
        assert short.parts == reference, command
        assert [p.__getstate__() for p in short.parts] == [p.__getstate__() for p in reference], (
            command
        )
        validated = Classification.model_validate(
            {name: getattr(short, name) for name in Classification.model_fields}
        )
        assert short == validated, command
        assert short.model_fields_set == validated.model_fields_set, command
        assert _dump(short) == _dump(validated), command


def test_a_part_is_built_with_its_fields_in_order() -> None:
    # The classifier builds parts slot by slot in field order, and the path check rebuilds
    # each part
    # field by field (`SafetyPipeline._check_paths`): a field added or moved in CallPart
    # is changed in both places, or this fails.
    names = [name for name in CallPart.__dataclass_fields__]
    assert names == [
        "program",
        "subcommand",
        "text",
        "facts",
        "paths",
        "resolved",
        "subshell",
        "args",
        "opaque",
    ]


def test_each_scanned_program_keeps_the_detectors_its_spec_names() -> None:
    table = detectors()
    for name in sorted(SCANNED_PROGRAMS):
        spec = lookup(name)
        assert spec is not None
        assert spec.scan
        for handler in programs._SCANS.get(name, ()):
            assert handler in {table[n] for n in spec.scan}
        if name in programs._SCANS:
            assert programs._SCANS[name] == tuple(table[n] for n in spec.scan)


# -- generated words --------------------------------------------------------------------

_PROGRAMS = sorted(
    {
        "git",
        "ls",
        "rm",
        "wc",
        "grep",
        "find",
        "xargs",
        "sudo",
        "env",
        "timeout",
        "alias",
        "eval",
        "bash",
        "sh",
        "ssh",
        "tar",
        "rg",
        "cd",
        "",
        "./run.sh",
        "/usr/bin/RM",
        "python3.12",
        "unknown-tool",
        *sorted(EMBEDDING_PROGRAMS)[:20],
    }
)
_ARG = st.one_of(
    st.sampled_from(
        [
            "-c",
            "core.pager=less",
            "alias.x=!sh",
            "-exec",
            "{}",
            ";",
            "+",
            "--",
            "-rf",
            "/",
            "status",
            "config",
            "rebase",
            "-x",
            "bisect",
            "run",
            "submodule",
            "foreach",
            "--pre",
            "cat",
            "-P",
            "0",
            "FOO=1",
            "-o",
            "ProxyCommand=nc",
            "--to-command=sh",
            "-C",
            "src",
        ]
    ),
    st.text(alphabet="abc-=./{};*$", min_size=0, max_size=8),
)
_FLAGS = st.tuples(st.booleans(), st.booleans(), st.booleans())


def _word(text: str, flags: tuple[bool, bool, bool], reads: int) -> Word:
    dynamic, glob, procsub = flags
    sources = ("curl",) if reads == 1 else ()
    variables = ("X",) if reads == 2 else ()
    return Word(text, dynamic or reads == 1, glob, procsub, sources, variables)


_WORDS = st.lists(
    st.builds(
        _word,
        _ARG,
        st.one_of(st.just((False, False, False)), _FLAGS),
        st.sampled_from([0, 0, 0, 1, 2]),
    ),
    max_size=6,
)


@settings(max_examples=400, deadline=None)
@given(
    program=st.sampled_from(_PROGRAMS),
    args=_WORDS,
    assignments=st.sampled_from([(), (("GIT_PAGER", "sh"),), (("A", "1"),)]),
    stdin=st.sampled_from(["none", "pipe", "heredoc"]),
)
def test_generated_words_expand_alike_by_either_path(
    program: str, args: list[Word], assignments: tuple[tuple[str, str], ...], stdin: str
) -> None:
    words = [Word(program), *args]
    ctx = WalkContext(stdin=stdin, stdin_text="a b" if stdin != "none" else None)  # type: ignore[arg-type]
    assignment_words = [Word(f"{n}={v}") for n, v in assignments]
    short = expand_command(words, ctx, assignments, assignment_words)
    original = shell_expand._plain
    shell_expand._plain = lambda *_: None  # type: ignore[assignment]
    try:
        full = expand_command(words, ctx, assignments, assignment_words)
    finally:
        shell_expand._plain = original
    assert short == full
    assert short.command._asdict() == full.command._asdict()


@settings(max_examples=300, deadline=None)
@given(args=st.lists(_ARG, max_size=6))
def test_git_has_global_options_only_when_its_first_argument_is_one(args: list[str]) -> None:
    # git_settings returns at once when the first argument is no option: then the
    # reading of the call it would have made has no global option to look at.
    call = _Call(tuple(args))
    if not args or not is_option(args[0]):
        assert call.globals == []


def test_the_registry_knows_git() -> None:
    assert "git" in REGISTRY
    assert "git" in SCANNED_PROGRAMS


@settings(max_examples=200, deadline=None)
@given(args=st.lists(_ARG, max_size=6))
def test_git_reads_its_call_as_the_option_parser_reads_it(args: list[str]) -> None:
    # The one reading the three git detectors share, against `parse_option` into a
    # `ParsedArgs` word by word (the parser every other reader uses).
    words = tuple(args)
    call = _Call(words)
    git = REGISTRY["git"]
    parsed = ParsedArgs()
    index = 0
    while index < len(words) and is_option(words[index]):
        index = parse_option(words, index, git.parsing, parsed)
    assert call.globals == parsed.options
    assert call.sub == (words[index] if index < len(words) else "")
    assert call.help == ("--help" in words[index + 1 :] or words[index + 1 :] == ("-h",))
    operands = []
    rest = ParsedArgs()
    spec = (call.node or git.subs["commit"]).parsing
    at = index + 1
    while at < len(words) and words[at] != "--":
        if is_option(words[at]):
            at = parse_option(words, at, spec, rest)
        else:
            operands.append((at, words[at]))
            at += 1
    assert call.words == operands


_GIT_WORD = st.sampled_from(
    [
        "status",
        "diff",
        "log",
        "restore",
        "stash",
        "branch",
        "checkout",
        "config",
        "push",
        "remote",
        "clone",
        "credential",
        "credential-store",
        "no-such-sub",
        "help",
        "",
        "-",
        "-h",
        "--help",
        "--",
        "--stat",
        "--output=out.txt",
        "--output",
        "-C",
        "-c",
        "core.pager=sh",
        "--exec-path=/tmp",
        "--version",
        "-5",
        "-n",
        "--staged",
        "--list",
        "HEAD:.env",
        ":.env",
        ".",
        "add",
        "drop",
        "src/app.py",
        "+main",
        "-x",
    ]
)


def _git_findings(words: tuple[str, ...]) -> tuple[object, ...]:
    """What git's three detectors find for `git WORDS`, field by field."""
    command = _REFERENCE_PARSER.parse("git").commands[0]._replace(args=words)
    f = Findings(command)
    for name in ("git_settings", "git_pathspecs", "git_changes"):
        detectors()[name](f)
    return (f.facts, f.paths, f.subcommand, f.handled_paths, f.shell_strings)


def _git_read_in_full(words: tuple[str, ...]) -> tuple[object, ...]:
    """`_git_findings` with every call read in full (no shortcut for a short call)."""
    keep = detect_git._no_operand
    detect_git._no_operand = lambda _: False  # type: ignore[assignment]
    try:
        return _git_findings(words)
    finally:
        detect_git._no_operand = keep


@settings(max_examples=600, deadline=None)
@given(words=st.lists(_GIT_WORD, max_size=4))
def test_git_detectors_skip_the_reading_only_where_it_finds_no_operand(
    words: list[str],
) -> None:
    # A call of a subcommand alone, or with one option word, lets git_pathspecs and
    # git_changes return before reading it: what they find so is what the full reading
    # finds, word for word.
    args = tuple(words)
    assert _git_findings(args) == _git_read_in_full(args), args


def _git_called(words: tuple[str, ...]) -> tuple[object, ...]:
    """What `git_call`, git's one scanned detector, finds for `git WORDS`."""
    command = _REFERENCE_PARSER.parse("git").commands[0]._replace(args=words)
    f = Findings(command)
    detectors()["git_call"](f)
    return (f.facts, f.paths, f.subcommand, f.handled_paths, f.shell_strings)


def test_git_s_spec_scans_with_the_one_detector_of_the_three() -> None:
    spec = lookup("git")
    assert spec is not None and spec.scan == ("git_call",)


@settings(max_examples=600, deadline=None)
@given(words=st.lists(_GIT_WORD, max_size=4))
def test_git_call_finds_what_the_three_detectors_find_in_order(words: list[str]) -> None:
    # Its shortcut for a listed subcommand alone or with one option word included.
    args = tuple(words)
    assert _git_called(args) == _git_findings(args) == _git_read_in_full(args), args


@pytest.mark.parametrize(
    "words",
    [
        pytest.param(("status",), id="status"),
        pytest.param(("diff", "--stat"), id="diff-stat"),
        pytest.param(("no-such-sub",), id="unknown"),
        pytest.param(("restore",), id="restore"),
        pytest.param(("credential",), id="credential"),
        pytest.param(("diff", "--"), id="dashes"),
        pytest.param(("diff", "--help"), id="help"),
        pytest.param(("diff", "-h"), id="lone-h"),
        pytest.param(("diff", "--output=.env"), id="output"),
        pytest.param(("show", "HEAD:.env"), id="operand"),
        pytest.param(("--version",), id="global-option"),
        pytest.param(("-C", "src"), id="global-option-value"),
    ],
)
def test_short_git_calls_find_what_the_full_reading_finds(words: tuple[str, ...]) -> None:
    assert _git_findings(words) == _git_read_in_full(words)
    assert _git_called(words) == _git_read_in_full(words)


def test_git_calls_without_operands_are_told_apart() -> None:
    for words in [("status",), ("diff", "--stat"), ("log", "-5"), ("no-such-sub",)]:
        assert detect_git._no_operand(words), words
    for words in [
        ("--version",),
        ("-c", "x=y"),
        ("diff", "--"),
        ("diff", "--help"),
        ("diff", "-h"),
        ("diff", "--output=x"),
        ("show", "HEAD"),
        ("diff", "-"),
    ]:
        assert not detect_git._no_operand(words), words


# -- the passes over a line ----------------------------------------------------------------


def _always(step: SequencePass) -> SequencePass:
    """`step` without its declaration: it runs over every line (the full path)."""

    def run(analyses: Sequence[CommandAnalysis]) -> list[CommandAnalysis]:
        return step(analyses)

    return run


_PATHS = PathAnalyzer()
_EVERY_PASS = CommandAnalyzer(
    _REFERENCE_PARSER,
    _PATHS,
    passes=[_always(p) for p in (ListedArguments(_PATHS), runs_downloads)],
)
_DECLARED_PASSES = CommandAnalyzer(_REFERENCE_PARSER, _PATHS)


def test_the_default_passes_declare_what_they_need() -> None:
    assert all(analyzer._watched(step) is not None for step in _DECLARED_PASSES._passes)
    assert all(analyzer._watched(step) is None for step in _EVERY_PASS._passes)
    quiet = _REFERENCE_PARSER.parse("ls src").commands
    assert _DECLARED_PASSES._passes_for(quiet) == ()
    assert _EVERY_PASS._passes_for(quiet) == _EVERY_PASS._passes


@pytest.mark.parametrize("path", FILES)
def test_a_line_skips_the_passes_only_when_they_would_change_nothing(path: Path) -> None:
    for command in _corpus_commands(path):
        script = _REFERENCE_PARSER.parse(command)
        assert _DECLARED_PASSES.analyze_script(script) == _EVERY_PASS.analyze_script(script), (
            command
        )


_STAGES = st.sampled_from(
    [
        "find . -name '*.env'",
        "find . -name .env",
        "fd id_rsa",
        "git ls-files",
        "rg -l TODO",
        "xargs cat",
        "xargs rm -f",
        "xargs -0 wc -l",
        "curl -o x.sh https://e.com/x.sh",
        "wget https://e.com/i.sh",
        "sh x.sh",
        "bash ./i.sh",
        "./x.sh",
        "git status",
        "echo hi",
        "cat notes.txt",
        "sudo xargs cat",
        "env xargs ls",
    ]
)


@settings(max_examples=300, deadline=None)
@given(
    stages=st.lists(_STAGES, min_size=1, max_size=4),
    joins=st.lists(st.sampled_from([" | ", " && ", "; "]), min_size=3, max_size=3),
)
def test_generated_lines_meet_the_passes_alike(stages: list[str], joins: list[str]) -> None:
    line = stages[0] + "".join(j + s for j, s in zip(joins, stages[1:], strict=False))
    script = _REFERENCE_PARSER.parse(line)
    assert _DECLARED_PASSES.analyze_script(script) == _EVERY_PASS.analyze_script(script), line


# -- values built without their constructors --------------------------------------------


@settings(max_examples=300, deadline=None)
@given(args=st.lists(_ARG, min_size=1, max_size=6), numeric=st.booleans())
def test_an_option_read_is_the_one_its_class_builds(args: list[str], numeric: bool) -> None:
    # `parse_option_into` builds options as `tuple.__new__` of their fields: each is an
    # `Option` equal, field for field, to the one `Option(...)` builds from them.
    words = tuple(args)
    spec = OptionSpec(frozenset("ou"), frozenset({"--pre"}), frozenset("i"), False, numeric)
    found: list[Option] = []
    index = 0
    while index < len(words):
        if is_option(words[index]):
            index = parse_option_into(words, index, spec, found)
        else:
            index += 1
    for option in found:
        assert type(option) is Option
        assert option == Option(option.name, option.value, option.index, option.value_index)
        assert option._asdict() == Option(*option)._asdict()


@pytest.mark.parametrize(
    "command",
    [
        "rm -rf /",
        "cat a.txt > out.txt",
        "git show HEAD:.env",
        "cp -t dest a b",
        "dd if=/dev/zero of=disk.img",
        "tar xzf x.tgz -C out",
        "git log --oneline -- src",
        "grep -r --include=*.py TODO src",
        "xargs -a list.txt cat",
        "find . -name '*.py' -exec wc -l {} +",
    ],
)
def test_a_path_named_is_the_one_its_class_builds(command: str) -> None:
    # `Findings.arg` and `Findings.text_path` set a path's slots themselves.
    for analysis in _REFERENCE_ANALYZER.analyze_script(_REFERENCE_PARSER.parse(command)).commands:
        for use in analysis.paths:
            built = PathUse(use.path, use.access, use.dynamic, use.glob)
            assert type(use) is PathUse
            assert use == built
            assert use.__getstate__() == built.__getstate__()


_VETTED_BY_CLASS = CommandAnalyzer(
    _REFERENCE_PARSER,
    _PATHS,
    processors=tuple(
        processors.VetOptions() if p is processors.vet_options else p
        for p in _DECLARED_PASSES.processors
    ),
)


def test_the_default_sequence_vets_with_the_function() -> None:
    assert processors.vet_options in _DECLARED_PASSES.processors
    assert processors.vet_options.needs == processors.VetOptions().needs
    assert any(isinstance(p, processors.VetOptions) for p in _VETTED_BY_CLASS.processors)


@pytest.mark.parametrize("path", FILES)
def test_vet_options_vets_as_a_vet_options_instance_does(path: Path) -> None:
    for command in _corpus_commands(path):
        script = _REFERENCE_PARSER.parse(command)
        ours = _DECLARED_PASSES.analyze_script(script)
        theirs = _VETTED_BY_CLASS.analyze_script(script)
        assert ours == theirs, command


def test_vet_options_finds_each_program_the_spec_lookup_finds() -> None:
    # `vet_options` reads a compiled spec of the program's own without `lookup`, and asks
    # `lookup` for any other (a family member, one not compiled yet, an unknown word).
    by_class = processors.VetOptions()
    family = [f"{prefix}x" for prefix, _ in FAMILIES]
    for program in [*sorted(REGISTRY.unrealised()), *family, "no-such-program", ""]:
        command = _REFERENCE_PARSER.parse("x --version -q a").commands[0]._replace(program=program)
        ours, theirs = Findings(command), Findings(command)
        processors.vet_options(ours)
        by_class(theirs)
        assert (ours.facts, ours.paths, ours.subcommand, ours.handled_paths) == (
            theirs.facts,
            theirs.paths,
            theirs.subcommand,
            theirs.handled_paths,
        ), program


# -- the registry's steps bound into a program's plan -----------------------------------

_BOUND_ARGS = [
    "",
    "--help",
    "-h",
    "status",
    "status --help",
    "-q a",
    "-rf /",
    "-n 20 a.txt",
    "--version",
    "--version --version",
    "-V",
    "-c core.pager=less log",
    "log --oneline -- src",
    "run -x 'rm -rf /' a",
    "HEAD:.env b c d",
    "-- --check",
]


def _stepwise(analyzer: CommandAnalyzer, command: SimpleCommand) -> CommandAnalysis:
    """The analysis of `command` by its plan read step by step, each processor called."""
    f = Findings(command)
    for processor in analyzer.runs(command):
        processor(f)
    return CommandAnalysis(
        command=command, facts=tuple(f.facts), paths=tuple(f.paths), subcommand=f.subcommand
    )


def _plan_as_stepwise(analyzer: CommandAnalyzer, command: SimpleCommand) -> bool:
    """Whether the plan's analysis of `command` is the processors' one, step by step."""
    programs._SCANS.clear()  # the general path looks each program's detectors up
    ours = analyzer.analyze(command)
    theirs = _stepwise(analyzer, command)
    return ours == theirs and ours.paths == theirs.paths


def test_a_plan_s_bound_registry_steps_run_what_the_processors_would() -> None:
    """A program's plan runs its spec's detectors and vets against its spec, both looked
    up once, when the plan is compiled: the same analysis as calling `analyze_program`
    and `vet_options`, which look them up by the command's program, for every program
    the processors name, every family member, and argument shapes each step reads."""
    analyzer = CommandAnalyzer(_REFERENCE_PARSER, _PATHS)
    family = [f"{prefix}x" for prefix, _ in FAMILIES]
    names = [*sorted(analyzer._named), *family, "no-such-program"]
    differ = []
    for args in _BOUND_ARGS:
        template = _REFERENCE_PARSER.parse(f"x {args}").commands[0]
        for name in names:
            command = template._replace(program=name, text=f"{name} {args}")
            if not _plan_as_stepwise(analyzer, command):
                differ.append(command.text)
    assert differ == []
    # The plans compiled above bind the registry's steps: no call of either processor.
    bound = analyzer._runners["git"].__globals__.values()
    assert not any(v is programs.analyze_program or v is processors.vet_options for v in bound)
    assert lookup("git") in list(bound)


def test_a_plan_skips_vetting_a_call_of_plain_words_as_vetting_would_find_nothing() -> None:
    """A plan whose spec finds nothing in a call of plain words alone (`pytest -q`) skips
    `vet` for one: the same analysis as the processors', for every program the
    processors name, with its plain words alone, together, and beside other words."""
    analyzer = CommandAnalyzer(_REFERENCE_PARSER, _PATHS)
    template = _REFERENCE_PARSER.parse("x").commands[0]
    differ = []
    skipping = 0
    for name in sorted(analyzer._named):
        spec = lookup(name)
        if spec is None:
            continue
        skipping += not spec.subs and _quiet_when_plain(spec)
        plain = sorted(spec.plain)[:12]
        shapes = [(), *((word,) for word in plain), tuple(plain), tuple(reversed(plain))]
        shapes += [(*plain[:2], "src"), ("src", *plain[:1]), (*plain[:1], "--", *plain[1:2])]
        for args in shapes:
            command = template._replace(program=name, text=" ".join((name, *args)), args=args)
            if not _plan_as_stepwise(analyzer, command):
                differ.append(command.text)
    assert differ == []
    assert skipping > 100
    # `pytest -q` is not vetted; `pytest -q x` and `git status` are.
    calls: list[str] = []

    def counted(vet: Any) -> Any:
        def vet_counted(f: Findings, spec: Any, **options: bool) -> Any:
            calls.append(f.command.text)
            return vet(f, spec, **options)

        return vet_counted

    for name in ("pytest", "git"):
        scope = analyzer._runners[name].__globals__
        scope["vet"] = counted(scope["vet"])
    for text in ("pytest -q", "pytest", "pytest -q x", "git status"):
        analyzer.analyze(_REFERENCE_PARSER.parse(text).commands[0])
    assert calls == ["pytest -q x", "git status"]


def test_a_plan_binds_the_spec_and_detectors_lookup_gives_each_program_it_runs_for() -> None:
    # Every program a named plan runs for (its name, or a family member without a spec
    # of its own) has the spec and detectors of the plan's name: what is bound is what
    # the processors would look up.
    analyzer = CommandAnalyzer(_REFERENCE_PARSER, _PATHS)
    family = [f"{prefix}x" for prefix, _ in FAMILIES]
    for program in [*sorted(analyzer._named), *family]:
        name = analyzer._planned(program)
        if name is None:
            continue
        assert lookup(program) is lookup(name), program
        assert programs.scanners(program) == programs.scanners(name), program


def test_a_plan_s_findings_start_as_the_constructor_makes_them() -> None:
    seen: list[Findings] = []

    def capture(f: Findings) -> None:
        seen.append(f)

    analyzer = CommandAnalyzer(_REFERENCE_PARSER, _PATHS, processors=(capture,), passes=())
    for text in ["git status", "rm -rf /", "cat a > b"]:
        (command,) = _REFERENCE_PARSER.parse(text).commands
        seen.clear()
        analyzer.analyze(command)
        (ours,) = seen
        theirs = Findings(command)
        assert type(ours) is Findings
        assert {s: getattr(ours, s) for s in Findings.__slots__} == {
            s: getattr(theirs, s) for s in Findings.__slots__
        }
        assert ours.facts is not theirs.facts and ours.paths is not theirs.paths
