"""A line is parsed as the terminated line it is, as the shell reads it.

`parse_line` hands tree-sitter the text with a newline after it (tree-sitter-bash
puts a pipeline that ends at the end of input through error recovery, which costs
it tens of microseconds per stage). Both parses run over every command of the
adversarial corpus, spellings at the edges (a backslash or a here-document at the
end, errors, nested code) and generated lines; every field of the script must be
the same. The one difference allowed is tree-sitter's own: it reports an error at
the end of some lines ending in an escaped blank (`}\\ `), which the shell
reads as a word. There the parse as given must have reported the error, the
terminated parse must report none, and the line must hold an escaped blank (bash
accepts the spellings named here).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tree_sitter import Parser

from tether.core.safety.shell import ShellParser
from tether.core.safety.shell_frag import LANGUAGE
from tether.core.safety.shell_walk import parse_line, read_code

_CORPUS = Path(__file__).parent / "corpus"
_TERMINATED = ShellParser()
_AS_GIVEN = ShellParser(terminated=False)


def _corpus_commands() -> Iterator[str]:
    for path in sorted(_CORPUS.glob("*.yaml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        for case in document["cases"]:
            if isinstance(case, dict) and isinstance(case.get("cmd"), str):
                yield case["cmd"]


EDGES = [
    pytest.param("a | b | c", id="three-stages"),
    pytest.param("a | b | c | d | e | f | g | h", id="eight-stages"),
    pytest.param("a |& b |& c", id="stderr-pipes"),
    pytest.param("x=1 a | b | c", id="assignment-before-a-pipeline"),
    pytest.param("! a | b | c", id="negated-pipeline"),
    pytest.param("a | b | c &", id="background-pipeline"),
    pytest.param("a | b | c # rm -rf /", id="trailing-comment"),
    pytest.param("ls \\", id="trailing-backslash"),
    pytest.param("rm -rf \\", id="trailing-backslash-argument"),
    pytest.param("echo a\\\\", id="trailing-escaped-backslash"),
    pytest.param("a | b | \\", id="pipe-then-backslash"),
    pytest.param("cat <<EOF\nrm -rf /\nEOF", id="heredoc-at-the-end"),
    pytest.param("cat <<EOF | sh\nrm -rf /\nEOF", id="heredoc-into-a-shell"),
    pytest.param("cat <<'EOF' | a | b\nx\nEOF", id="heredoc-in-a-pipeline"),
    pytest.param("a <<< x | b | c", id="herestring-in-a-pipeline"),
    pytest.param("a |", id="pipe-at-the-end"),
    pytest.param("a | b |", id="second-pipe-at-the-end"),
    pytest.param("a &&", id="list-at-the-end"),
    pytest.param("echo 'x | y | z", id="unterminated-single-quote"),
    pytest.param('echo "x | y | z', id="unterminated-double-quote"),
    pytest.param("echo $(a | b | c", id="unterminated-substitution"),
    pytest.param("(a | b | c", id="unterminated-subshell"),
    pytest.param("if a | b | c; then d", id="unterminated-if"),
    pytest.param("case x in a) b | c | d", id="unterminated-case"),
    pytest.param("bash -c 'a | b | c'", id="nested-code"),
    pytest.param("sh -c \"bash -c 'a | b | c \\\\'\"", id="nested-code-ending-in-a-backslash"),
    pytest.param("eval 'a | b | c'", id="eval"),
    pytest.param("a | b | c\n", id="already-terminated"),
    pytest.param("a | b | c\r", id="carriage-return"),
    pytest.param("a | b | c;", id="semicolon"),
    pytest.param("{rm,-rf} / | a | b", id="respelled-braces"),
    pytest.param("", id="empty"),
    pytest.param("\n", id="newline-only"),
    pytest.param("   ", id="blanks"),
    pytest.param("a | b | c $'\\n'", id="ansi-c-newline"),
    pytest.param("echo caf\u00e9 | a | b", id="non-ascii"),
]


_BASH = shutil.which("bash")


def _bash_accepts(text: str) -> bool:
    # From a file: `bash -n -c TEXT` would take a TEXT starting with `-` for an option.
    assert _BASH is not None
    with tempfile.TemporaryDirectory() as directory:
        script = Path(directory) / "line.sh"
        script.write_bytes(text.encode("utf-8", "surrogatepass"))
        return subprocess.run([_BASH, "-n", str(script)], capture_output=True).returncode == 0


def _agree(text: str) -> None:
    terminated, as_given = _TERMINATED.parse(text), _AS_GIVEN.parse(text)
    if terminated == as_given:
        return
    # tree-sitter's spurious error at the end of a line holding an escaped blank.
    assert as_given.problems
    assert not terminated.problems
    assert re.search(r"\\[ \t\r]", text)


_TOKENS = [
    *["a", "b", "x=1", "-", "1", " ", " ", "\t", "\r", "\n", "\\", "\\ "],
    *["|", "||", "&&", ";", ";;", "&", "(", ")", "{", "}", "!", "*", "#", "=", "<", ">", "2>&1"],
    *["'", '"', "`", "$", "$(", "$((", "))", "${", "$'", "[[", "]]", "f()"],
    *["if", "then", "fi", "case", "in", "esac", "for", "do", "done", "while", "function"],
]
"""Shell tokens, reserved words among them: generated lines mix them at random."""


class TestTheTerminatedParseChangesNoScript:
    def test_on_every_corpus_command(self) -> None:
        commands = list(dict.fromkeys(_corpus_commands()))
        assert len(commands) > 1500  # the corpus was read
        differing = [t for t in commands if _TERMINATED.parse(t) != _AS_GIVEN.parse(t)]
        assert differing == []

    @pytest.mark.parametrize("text", EDGES)
    def test_at_the_edges(self, text: str) -> None:
        assert _TERMINATED.parse(text) == _AS_GIVEN.parse(text)

    @settings(max_examples=1500, deadline=None, database=None)
    @given(text=st.text(alphabet="ab -'\"$|&;<>(){}#\\\n\r*=12`", max_size=30))
    def test_on_generated_lines_of_any_shell_characters(self, text: str) -> None:
        _agree(text)

    @settings(max_examples=1500, deadline=None, database=None)
    @given(tokens=st.lists(st.tuples(st.sampled_from(_TOKENS), st.booleans()), max_size=10))
    def test_on_generated_lines_of_shell_tokens(self, tokens: list[tuple[str, bool]]) -> None:
        _agree("".join(token + (" " if spaced else "") for token, spaced in tokens))

    @settings(max_examples=400, deadline=None, database=None)
    @given(
        stages=st.lists(
            st.sampled_from(["a", "b -x", "c 'q | r'", "d 2>&1", "e > f", "$(g)", "h\\"]),
            min_size=1,
            max_size=7,
        ),
        pipe=st.sampled_from([" | ", "|", " |& "]),
        tail=st.sampled_from(["", " &", ";", " #c", " \\", "\n", " &&", " |"]),
    )
    def test_on_generated_pipelines(self, stages: list[str], pipe: str, tail: str) -> None:
        _agree(pipe.join(stages) + tail)

    @pytest.mark.parametrize("text", ["}\\ ", "'-'\\ ", "$b\\ ", "*-}\\ ", "-a{1$\\ "], ids=repr)
    def test_an_escaped_blank_at_the_end_is_read_as_the_shell_reads_it(self, text: str) -> None:
        # tree-sitter errs at the end of these as given; bash reads a word ending in a blank.
        assert _AS_GIVEN.parse(text).problems
        assert not _TERMINATED.parse(text).problems
        _agree(text)
        if _BASH is not None:
            assert _bash_accepts(text)


class TestWhatIsParsedTerminated:
    """Which texts get the newline: `parse_line` is the one place that decides."""

    @staticmethod
    def _terminated(text: str) -> bool:
        seen: list[bytes] = []
        parser = Parser(LANGUAGE)

        class Recording:
            def parse(self, data: bytes) -> object:
                seen.append(data)
                return parser.parse(data)

        parse_line(Recording(), text.encode())  # type: ignore[arg-type]
        return seen[0].endswith(b"\n") and not text.endswith("\n")

    @pytest.mark.parametrize("text", ["git status", "a | b | c", "a # c", "a &"])
    def test_a_line_is_terminated(self, text: str) -> None:
        assert self._terminated(text)

    @pytest.mark.parametrize("text", ["ls \\", "cat <<EOF\nx\nEOF", "a <<< x", "a\n", ""], ids=repr)
    def test_a_line_the_newline_would_change_is_not(self, text: str) -> None:
        # A backslash would join the newline; a here-document's delimiter is a line of its
        # own (`<<<` is excluded with it: no `<<` is terminated); a newline is there already.
        assert not self._terminated(text)

    def test_a_terminated_parse_with_an_error_is_replaced_by_the_parse_as_given(self) -> None:
        parser = Parser(LANGUAGE)
        root = parse_line(parser, b"a | b |")
        as_given = parser.parse(b"a | b |").root_node
        assert root.has_error
        assert root.end_byte == as_given.end_byte == len(b"a | b |")
        assert str(root) == str(as_given)


class TestReadCodeParsesAsParseLineDoes:
    """`read_code` tests the text for what `parse_line` tests in its bytes: the same trees."""

    _PARSER = Parser(LANGUAGE)

    def _same(self, text: str) -> None:
        if "\\\n" in text or "{" in text:
            return  # joined or respelled first: not the text `parse_line` would see
        data = text.encode("utf-8", "surrogatepass")
        for terminated in (True, False):
            _, read_data, root = read_code(self._PARSER, text, terminated=terminated)
            line = parse_line(self._PARSER, data, terminated=terminated)
            assert read_data == data
            assert (str(root), root.end_byte) == (str(line), line.end_byte)

    def test_on_every_corpus_command(self) -> None:
        for text in dict.fromkeys(_corpus_commands()):
            self._same(text)

    @pytest.mark.parametrize("text", EDGES)
    def test_at_the_edges(self, text: str) -> None:
        self._same(text)

    @pytest.mark.parametrize(
        "text",
        ["a\\", "a\\\\", "caf\u00e9\\", "\u00e9", "a <<", "x\ud800", "a\n\n", "\\"],
        ids=repr,
    )
    def test_at_the_last_character(self, text: str) -> None:
        self._same(text)

    @settings(
        max_examples=800,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(text=st.text(alphabet="ab |&;<>\\\n\r\u00e9\ud800'\"", max_size=12))
    def test_on_generated_texts(self, text: str) -> None:
        self._same(text)
