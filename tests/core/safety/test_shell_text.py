"""The text lane gives exactly the script the tree walk gives, field for field.

`ShellParser()` (text lane first) runs against `ShellParser(text_lane=False)` (the
tree-sitter parse and the plain lanes) and the general walk over every corpus
command, hand-picked spellings at the lane's edges (the grammar's quirks among
them: the lane must read a line as the grammar does, or leave it), generated lines
of the lane's alphabet, and generated lines with one character or word from just
outside it. A lane broken on purpose is caught by the same comparison.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from tether.core.safety import shell_text
from tether.core.safety.shell import ShellParser, ShellScript
from tether.core.safety.shell_model import WalkContext
from tether.core.safety.shell_text import text_commands

_CORPUS = Path(__file__).parent / "corpus"
_TEXT = ShellParser()
_TREE = ShellParser(text_lane=False)
_GENERAL = ShellParser(plain_lane=False)


def _corpus_commands() -> Iterator[str]:
    for path in sorted(_CORPUS.glob("*.yaml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        for case in document["cases"]:
            if isinstance(case, dict) and isinstance(case.get("cmd"), str):
                yield case["cmd"]


def _both(text: str) -> tuple[ShellScript, ShellScript]:
    """The script with the text lane, and the tree walk's (the general walk agreeing)."""
    lane, tree = _TEXT.parse(text), _TREE.parse(text)
    assert _GENERAL.parse(text) == tree
    return lane, tree


def _differing(texts: Iterable[str]) -> list[str]:
    return [text for text in texts if _TEXT.parse(text) != _TREE.parse(text)]


TAKEN = [
    pytest.param("git status", id="two-words"),
    pytest.param("cd src && pytest -q", id="and-list"),
    pytest.param("rm -rf /", id="rm"),
    pytest.param("git status && git diff --stat | head -20", id="list-and-pipe"),
    pytest.param(
        "cd src && git ls-files -- '*.py' | grep -v '^tests/' | xargs wc -l | sort -rn "
        "| head -n 20 && git log --oneline --since='2 weeks ago' -- . | cut -c1-72 | head -30",
        id="bench-pipeline-head",
    ),
    pytest.param("a || b; c ; d;e", id="every-list-operator"),
    pytest.param("a | b && c | d || e | f", id="pipes-in-lists"),
    pytest.param("x && a | b | c || d", id="long-pipeline-after-and"),
    pytest.param("a | b | c ; d | e | f", id="long-pipelines-in-a-sequence"),
    pytest.param("a | b || c", id="two-stages-then-or"),
    pytest.param("ls -la ./src/a.py b:c d,e f+g h%i j@k", id="punctuation-in-arguments"),
    pytest.param("git log --since=2 --format=%H -c a.b=c", id="equals-in-options"),
    pytest.param("head -20 -n 3 1 0x1F 64", id="numbers"),
    pytest.param("1 2", id="number-program"),
    pytest.param("echo 'a b' '' 'x'y z'w' 'it''s'", id="single-quotes-and-concatenations"),
    pytest.param("grep -E '^a$|b{2}' '*.py' '$(rm -rf /)' '\\n'", id="quoted-specials"),
    pytest.param("'git' status", id="quoted-program"),
    pytest.param("'/usr/bin/RM' -rf /", id="quoted-program-path"),
    pytest.param("make 2>&1 | tail -5", id="descriptor-copy"),
    pytest.param("make 2>&1 && ls", id="descriptor-copy-then-and"),
    pytest.param("make 2>&1; ls 2>&1 | wc", id="descriptor-copies"),
    pytest.param("echo /etc/passwd | xargs cat", id="known-stdin-text"),
    pytest.param("printf 'rm -rf /' | sh", id="printf-into-shell"),
    pytest.param("pwd | cat | cat", id="pwd-output-piped"),
    pytest.param("echo 'a\\tb' | cat", id="echo-escapes-piped"),
    pytest.param("sudo rm -rf /", id="wrapper"),
    pytest.param("timeout 5 nice -n 1 git status", id="wrappers"),
    pytest.param("xargs -P 4 rm", id="xargs"),
    pytest.param("ls a;b", id="semicolon-between-words"),
    # The grammar's grouping, read as the grammar reads it.
    pytest.param("a | b | c && d", id="long-pipeline-then-and"),
    pytest.param("a | b | c || d", id="long-pipeline-then-or"),
    pytest.param("x; a | b | c && d", id="long-pipeline-after-semicolon-then-and"),
    pytest.param("a | b | c && d && e", id="long-pipeline-then-two-lists"),
    pytest.param("a | b | c && d | e | f && g", id="long-pipeline-opening-the-rest"),
    pytest.param("a | b | c && d | e && f", id="long-pipeline-then-a-pipe-then-and"),
    pytest.param("echo x | cat | cat && pwd | cat", id="long-pipeline-what-a-pipe-carries"),
    pytest.param(
        "cd src && pytest -q -x tests/unit 2>&1 | tail -n 25 | grep -E 'passed|failed' "
        "|| echo 'no test summary found'",
        id="bench-pipeline-tail",
    ),
    pytest.param("a && b 2>&1 | c", id="descriptor-copy-after-and"),
    pytest.param("a || b 2>&1", id="descriptor-copy-after-or"),
    pytest.param("a && b 2>&1 | c | d && e", id="descriptor-copy-then-a-long-pipeline"),
    pytest.param("a 2>&1 && b 2>&1", id="descriptor-copies-after-a-list"),
    pytest.param("a 2>&1 | b | c && d", id="descriptor-copy-opening-a-long-pipeline"),
    pytest.param("echo a && pwd 2>&1 | cat | cat || cat", id="descriptor-copy-what-pipes-carry"),
    pytest.param("a && b 2>&1 ; c | d | e && f", id="descriptor-copy-then-a-statement"),
    pytest.param("a && b 2>&1;c 2>&1 | d", id="descriptor-copies-touching-semicolons"),
    pytest.param("a | b | c && d 2>&1 && e", id="long-pipeline-then-a-descriptor-copy"),
    pytest.param("a | b | c && sudo d 2>&1 | xargs e", id="wrappers-in-groups"),
    # Blanks and `;`s inside quotes, hidden from the split and brought back.
    pytest.param("a && b '2>&1' | c", id="quoted-descriptor-copy"),
    pytest.param("echo 'a;b' | grep 'x y;z' && ls", id="quoted-semicolons-and-blanks"),
    pytest.param("echo 'a ; b';ls", id="quoted-semicolon-touching-one"),
    pytest.param("x 'a'';''b' | cat | cat && echo ';'", id="quoted-semicolons-glued"),
    pytest.param("a | b | c && d 'e f' 2>&1 | g", id="quoted-blank-in-a-group"),
    pytest.param("echo ' ' ''", id="quoted-blank-and-empty"),
    pytest.param("printf 'a b;c' | xargs echo", id="quoted-text-fed-to-xargs"),
    pytest.param("'ls' '-la' | head", id="quoted-dash-words"),
]

LEFT = [
    # Characters outside the alphabet, one each.
    *(
        pytest.param(f"ls a{char}b", id=f"char-{ord(char):02x}")
        for char in '~#!*?[]{}$`"\\^&<>()\t\n\r\x00\x7f' + "\u00e9"
    ),
    pytest.param("echo 'caf\u00e9'", id="non-ascii-in-quotes"),
    pytest.param("echo 'a\nb'", id="newline-in-quotes"),
    pytest.param("echo 'a\tb'", id="tab-in-quotes"),
    pytest.param("echo 'unclosed", id="unclosed-quote"),
    pytest.param('echo "a b"', id="double-quotes"),
    # Blanks.
    pytest.param(" git status", id="leading-blank"),
    pytest.param("git status ", id="trailing-blank"),
    pytest.param("git  status", id="two-blanks"),
    pytest.param("git\tstatus", id="tab"),
    pytest.param("git status\n", id="trailing-newline"),
    pytest.param("ls\npwd", id="newline-between"),
    pytest.param("", id="empty"),
    pytest.param(" ", id="blank"),
    # Operators out of place.
    pytest.param("&& ls", id="and-first"),
    pytest.param("ls &&", id="and-last"),
    pytest.param("ls && && pwd", id="empty-command"),
    pytest.param("ls ; ; pwd", id="empty-statement"),
    pytest.param("ls;", id="trailing-semicolon"),
    pytest.param("; ls", id="leading-semicolon"),
    pytest.param("ls |& wc", id="stderr-pipe"),
    pytest.param("ls ;; pwd", id="double-semicolon"),
    pytest.param("ls & pwd", id="background"),
    pytest.param("ls | | wc", id="empty-stage"),
    pytest.param("ls  && pwd", id="two-blanks-before-an-operator"),
    # Words the shell or the grammar reads otherwise.
    *(
        pytest.param(spelling.format(word), id=f"{word}-{position}")
        for word in sorted(shell_text._KEYWORDS)
        for position, spelling in enumerate(["{} x", "ls {}", "ls && {} x", "ls | {}"])
    ),
    pytest.param("if true; then ls; fi", id="if-statement"),
    pytest.param("for x in a b; do ls; done", id="for-loop"),
    pytest.param("let x=1", id="let"),
    pytest.param("a=b cmd", id="assignment-prefix"),
    pytest.param("a=b", id="bare-assignment"),
    pytest.param("A+=b ls", id="append-assignment"),
    pytest.param("ls && a=b", id="assignment-later"),
    pytest.param("'a=b' ls", id="quoted-assignment-like-program"),
    pytest.param("make CC=gcc", id="assignment-like-argument"),
    pytest.param("make _x+=1", id="append-like-argument"),
    pytest.param("test a == b", id="double-equals"),
    pytest.param("ls =a", id="leading-equals"),
    pytest.param("ls a==b", id="double-equals-inside"),
    # The grammar's quirks: it reads these otherwise than the shell, or errs.
    pytest.param("x@y", id="at-in-a-program"),
    pytest.param("x% y", id="percent-in-a-program"),
    pytest.param("b+:c d", id="plus-colon-in-a-program"),
    pytest.param("g++ -o x x.c", id="plus-in-a-program"),
    pytest.param("- x%", id="dash-program"),
    pytest.param("make 2>&1 x", id="word-after-descriptor-copy"),
    pytest.param("ls a|b", id="pipe-between-words"),
    pytest.param("a | b 2>&1 | c", id="descriptor-copy-in-a-later-stage"),
    pytest.param("a | b 2>&1 && c", id="descriptor-copy-after-a-pipeline"),
    pytest.param("a | b | c | d && e", id="longer-pipeline-then-and"),
    pytest.param("a | b | c | d && e && f", id="longer-pipeline-then-two-lists"),
    pytest.param("a | b | c && d | e | f | g && h", id="longer-pipeline-opening-the-rest"),
    pytest.param("a | b | c | d 2>&1 && e", id="descriptor-copy-after-a-longer-pipeline"),
    pytest.param("a | b | c 2>&1 | d && e", id="descriptor-copy-in-a-long-pipeline"),
    pytest.param(" && ".join(["a 2>&1"] * 9), id="too-many-descriptor-copies"),
    pytest.param("a && b 2>&1 | sh -c 'ls'", id="descriptor-copy-then-shell-code"),
    pytest.param("a && b 2>&1 | let x=1", id="descriptor-copy-then-let"),
    pytest.param("a && b 2>&1 | c && if", id="descriptor-copy-then-a-keyword"),
    pytest.param("a && b 2>&1 | x=1 c", id="descriptor-copy-then-an-assignment"),
    pytest.param("a && b 2>&1x | c", id="descriptor-copy-glued-to-a-word"),
    pytest.param("a && b 2>& 1 | c", id="descriptor-copy-with-a-blank"),
    pytest.param("a && b >&- | c", id="descriptor-closed"),
    pytest.param("a && b &> f | c", id="both-streams-to-a-file"),
    pytest.param("a && b 2>&1 |& c", id="descriptor-copy-then-stderr-pipe"),
    pytest.param("a && b 2>&1 | c ||", id="or-at-the-end"),
    pytest.param("|| a && b 2>&1 | c", id="or-at-the-start"),
    pytest.param("a && b 2>&1 | c # x", id="descriptor-copy-then-a-comment"),
    pytest.param("a && b 2>&1\n| c", id="descriptor-copy-then-a-newline"),
    pytest.param("a && b 2>&1 | echo '\u00e9'", id="descriptor-copy-then-non-ascii"),
    pytest.param('a && b 2>&1 | echo "x"', id="descriptor-copy-then-double-quotes"),
    pytest.param("a && b 2>&1 | echo 'it'\\''s'", id="descriptor-copy-then-escaped-quote"),
    pytest.param("2>&1 make", id="descriptor-copy-first"),
    pytest.param("make 12>&1", id="other-descriptor"),
    pytest.param("make >&2", id="to-stderr"),
    pytest.param("make > log", id="file-redirect"),
    # Commands whose expansion needs the walk.
    pytest.param("bash -c 'git status | head'", id="shell-code"),
    pytest.param("ls && sh -c 'ls'", id="shell-code-later"),
    pytest.param("git -c core.pager=less log", id="git-config-code"),
    pytest.param("eval ls", id="eval"),
    pytest.param("xargs -P 0 rm", id="flood"),
    pytest.param("alias ll=ls", id="alias"),
]


class TestTheLaneAgreesWithTheTree:
    def test_on_every_corpus_command(self) -> None:
        commands = list(dict.fromkeys(_corpus_commands()))
        assert len(commands) > 1500  # the corpus was read
        assert _differing(commands) == []
        general = [text for text in commands if _GENERAL.parse(text) != _TREE.parse(text)]
        assert general == []
        # The lane is not idle: most everyday commands are bare words.
        taken = sum(text_commands(text, 128) is not None for text in commands)
        assert taken > len(commands) // 2

    @pytest.mark.parametrize("text", TAKEN)
    def test_on_spellings_the_lane_takes(self, text: str) -> None:
        assert text_commands(text, 128) is not None
        lane, tree = _both(text)
        assert lane == tree
        assert lane.commands

    @pytest.mark.parametrize("text", LEFT)
    def test_on_spellings_the_lane_leaves_to_the_tree(self, text: str) -> None:
        assert text_commands(text, 128) is None
        lane, tree = _both(text)
        assert lane == tree

    @pytest.mark.parametrize("count", [1, 2, 3, 4])
    @pytest.mark.parametrize("joiner", ["; ", " | ", " && ", " 2>&1 && "])
    def test_the_command_limit_is_met_exactly(self, count: int, joiner: str) -> None:
        text = joiner.join(["ls"] * count)
        for limit in (count - 1, count, count + 1):
            lanes = ShellParser(max_commands=limit).parse(text)
            assert lanes == ShellParser(max_commands=limit, text_lane=False).parse(text)
            assert bool(lanes.problems) == (count > limit)
        assert text_commands(text, count) is not None
        assert text_commands(text, count - 1) is None

    def test_a_line_past_the_bounds_is_not_read(self) -> None:
        text = " | ".join(["cat"] * 30)  # more pipeline stages than the bounds allow
        lane, tree = _both(text)
        assert lane == tree
        assert lane.problems


_BARE = "abcgimrstzAZ_./:@%+,=-0123456789"
_NAME = st.text(alphabet="abcgimrstz_./:,-0123456789", min_size=1, max_size=8)
_QUOTED = st.text(alphabet="ab $|&;<>(){}\"\\`#*=@%+~!'", max_size=8).map(
    lambda text: "'" + text.replace("'", "") + "'"
)
_PIECE = st.one_of(st.text(alphabet=_BARE, min_size=1, max_size=8), _QUOTED)
_WORD = st.one_of(
    st.lists(_PIECE, min_size=1, max_size=3).map("".join),
    st.sampled_from(
        ["git", "echo", "printf", "pwd", "cat", "xargs", "sudo", "env", "sh", "let", "2>&1"]
    ),
    st.sampled_from(sorted(shell_text._KEYWORDS)),
    st.sampled_from(["a=b", "A+=c", "=", "==", "-a", "-o", "--x=y", "%1", "@x", "1"]),
)
_COMMAND = st.tuples(st.one_of(_NAME, _WORD), st.lists(_WORD, max_size=4)).map(
    lambda parts: " ".join([parts[0], *parts[1]])
)
_OPERATOR = st.sampled_from([" && ", " || ", " | ", " | ", " | ", "; ", " ; ", ";", " ;"])
_LINE = st.tuples(_COMMAND, st.lists(st.tuples(_OPERATOR, _COMMAND), max_size=7)).map(
    lambda parts: parts[0] + "".join(operator + command for operator, command in parts[1])
)
_GROUPED_LINE = st.tuples(
    _COMMAND,
    st.lists(
        st.tuples(st.sampled_from([" && ", " || ", " | ", " | ", "; "]), _COMMAND, st.booleans()),
        max_size=9,
    ),
    st.booleans(),
).map(
    lambda parts: (
        parts[0]
        + (" 2>&1" if parts[2] else "")
        + "".join(op + command + (" 2>&1" if copy else "") for op, command, copy in parts[1])
    )
)
"""Lines of pipes, lists and `2>&1`s: the groupings the grammar reads its own way."""
_OUTSIDE = st.one_of(
    st.sampled_from([*'~#!*?[]{}$`"\\^&|;<>()\t\n ', "|&", ";;", "&&", "&", "\u00e9"]),
    st.sampled_from(sorted(shell_text._KEYWORDS)).map(lambda word: f" {word} "),
)


class TestGeneratedLines:
    @settings(max_examples=400, deadline=None, database=None)
    @given(text=_LINE)
    def test_lines_of_the_alphabet(self, text: str) -> None:
        lane, tree = _both(text)
        assert lane == tree

    @settings(max_examples=400, deadline=None, database=None)
    @given(text=_LINE, outside=_OUTSIDE, where=st.floats(min_value=0, max_value=1))
    def test_lines_with_something_from_outside_the_alphabet(
        self, text: str, outside: str, where: float
    ) -> None:
        at = round(where * len(text))
        text = text[:at] + outside + text[at:]
        lane, tree = _both(text)
        assert lane == tree

    @settings(max_examples=400, deadline=None, database=None)
    @given(text=_GROUPED_LINE)
    def test_lines_the_grammar_groups_its_own_way(self, text: str) -> None:
        lane, tree = _both(text)
        assert lane == tree


def _words_quoted(text: str) -> str | None:
    """`text`, a bare line the lane reads, with each word quoted (`'git' 'status'`); None
    for a line that is not bare (a quote, an `=` or a `2>&1`) or that the lane leaves."""
    if "'" in text or "=" in text or "2>&1" in text or text_commands(text, 128) is None:
        return None
    tokens = text.replace(";", " ; ").split()
    return " ".join(t if t in {"&&", "||", "|", ";"} else f"'{t}'" for t in tokens)


_BARE_LINES = [
    text
    for text in [*(str(p.values[0]) for p in TAKEN), "a;b c ; d", "ls -la | head -20 || echo x"]
    if _words_quoted(text) is not None
]


@pytest.mark.parametrize("text", _BARE_LINES)
def test_a_bare_line_reads_as_its_words_quoted(text: str) -> None:
    """A bare line takes its words as they stand; the same line with each word quoted goes
    through the unquoting and `=` tests, and must read the same."""
    assert len(_BARE_LINES) >= 8
    assert text_commands(str(_words_quoted(text)), 128) == text_commands(text, 128)


@settings(max_examples=300, deadline=None, database=None)
@given(text=_LINE)
def test_generated_bare_lines_read_as_their_words_quoted(text: str) -> None:
    quoted = _words_quoted(text)
    if quoted is not None:
        assert text_commands(quoted, 128) == text_commands(text, 128)


_GROUPED_UNITS = ["echo a", "cat", "pwd", "ls x", "xargs cat", "printf 'b c'", "git status"]


@pytest.mark.parametrize("count", [1, 2, 3, 4])
def test_every_grouping_of_a_few_commands(count: int) -> None:
    """Every line of `count` commands joined by `&&`, `||`, `|`, `;`, each command with
    or without a `2>&1` after it: the lane reads it as the tree, or leaves it."""
    differing = []
    for operators in itertools.product(["&&", "||", "|", ";"], repeat=count - 1):
        for copies in itertools.product(["", " 2>&1"], repeat=count):
            units = [_GROUPED_UNITS[(count + index) % 7] for index in range(count)]
            text = units[0] + copies[0]
            for index, operator in enumerate(operators):
                text += f" {operator} {units[index + 1]}{copies[index + 1]}"
            if _TEXT.parse(text) != _TREE.parse(text):
                differing.append(text)
    assert differing == []


_ADVERSARIAL = st.lists(
    st.one_of(
        st.sampled_from(
            [*"ab z-=/.'\"\\$`#*?[]{}~!^&|;<>() \t\n\r\x00\x01\x1b\x7f", "2>&1", "<<E\nx\nE\n"]
        ),
        st.sampled_from(["\u00e9", "\u2028", "\u00a0", "\ufeff", "\U0001f600"]),
    ),
    max_size=16,
).map("".join)
"""Pieces of shell text the lane must read as the tree does, or leave (one character
each but for a descriptor copy and a here-document)."""


class TestAdversarialSpellings:
    """Quotes, escapes, globs, `$`, backquotes, comments, newlines, here-documents,
    non-ASCII and control characters: the text lane reads the tree's script or leaves."""

    @pytest.mark.parametrize(
        "text",
        [
            pytest.param("echo 'a' \"b\"", id="both-quotes"),
            pytest.param("echo a\\ b", id="escaped-blank"),
            pytest.param("echo `ls`", id="backquotes"),
            pytest.param("ls # comment", id="comment"),
            pytest.param("ls #", id="bare-hash"),
            pytest.param("cat <<E\nrm -rf /\nE", id="heredoc"),
            pytest.param("cat <<'E' | sh\nrm\nE", id="quoted-heredoc-into-shell"),
            pytest.param("echo $'\\x72m'", id="ansi-c"),
            pytest.param("echo 'a\x01b'", id="control-in-quotes"),
            pytest.param("echo a\x1bb", id="escape-char"),
            pytest.param("echo \u00e9 | cat", id="non-ascii-word"),
            pytest.param("ls\u00a0-la", id="no-break-space"),
            pytest.param("ls 2>&1\n", id="descriptor-copy-then-newline"),
            pytest.param("ls 2>&1 2>&1", id="two-descriptor-copies"),
            pytest.param("ls a'b'c 'x'\"y\"", id="mixed-concatenation"),
        ],
    )
    def test_hand_picked(self, text: str) -> None:
        lane, tree = _both(text)
        assert lane == tree

    @settings(max_examples=500, deadline=None, database=None)
    @given(text=_ADVERSARIAL)
    def test_generated(self, text: str) -> None:
        lane, tree = _both(text)
        assert lane == tree

    @settings(max_examples=300, deadline=None, database=None)
    @given(line=_LINE, noise=_ADVERSARIAL, where=st.floats(min_value=0, max_value=1))
    def test_lines_with_adversarial_pieces(self, line: str, noise: str, where: float) -> None:
        at = round(where * len(line))
        lane, tree = _both(line[:at] + noise + line[at:])
        assert lane == tree


_CAUGHT = [
    *(param.values[0] for param in TAKEN),
    *(param.values[0] for param in LEFT),
]


class TestABrokenLaneIsCaught:
    """Each of the lane's rules, broken, changes some script the comparison sees."""

    def _caught(self) -> bool:
        return bool(_differing(_CAUGHT)) or bool(_differing(dict.fromkeys(_corpus_commands())))

    def test_the_lane_as_it_is_passes(self) -> None:
        assert not self._caught()

    def test_keywords_read_as_words(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(shell_text, "_KEYWORDS", frozenset())
        assert self._caught()

    def test_a_lane_that_loses_what_a_pipe_carries(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(shell_text, "literal_output", lambda commands: None)
        assert "echo /etc/passwd | xargs cat" in _differing(_CAUGHT)

    def test_a_first_stage_outside_a_subshell(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(shell_text, "_FIRST_STAGE", WalkContext())
        assert self._caught()

    def test_assignments_read_as_words(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(shell_text, "_ODD_EQUALS", shell_text.re.compile("(?!)"))
        assert self._caught()

    def test_odd_first_words_read_as_words(self, monkeypatch: pytest.MonkeyPatch) -> None:
        # A first word as any other (`=`, `@`, `%`, `+`, a leading `-`).
        line = shell_text._SKELETON.pattern.replace(
            shell_text._SKELETON_FIRST_WORD, shell_text._SKELETON_WORD
        )
        assert line != shell_text._SKELETON.pattern
        monkeypatch.setattr(shell_text, "_SKELETON", shell_text.re.compile(line))
        assert self._caught()

    def test_each_odd_first_word_is_left(self) -> None:
        """Each character `_FIRST_WORD` turns away, bare or quoted, first or after an
        operator: the lane leaves the line, and the walk reads it as the tree does."""
        lines = [
            f"{head}{before}{odd}{after} x"
            for head in ["", "y && ", "y | ", "y; "]
            for odd in ["=", "@", "%", "+", "a=", "+="]
            for before, after in [("a", "b"), ("'a", "b'"), ("", "")]
        ] + ["-a x", "- x%", "y && -a", "y;-a"]
        for text in lines:
            assert shell_text.text_commands(text, 100) is None, text
            lane, tree = _both(text)
            assert lane == tree, text

    def test_long_pipelines_read_as_the_shell_reads_them(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(shell_text, "_MISREAD_STAGES", 10**9)
        assert self._caught()

    def test_a_wider_alphabet(self, monkeypatch: pytest.MonkeyPatch) -> None:
        wider = shell_text._SKELETON.pattern.replace("A-Za-z0-9", "A-Za-z0-9~*")
        monkeypatch.setattr(shell_text, "_SKELETON", shell_text.re.compile(wider))
        assert self._caught()


_SPEC_LINE = shell_text.re.compile(shell_text._LINE)
"""The line the lane reads, as its specification spells it."""
_TOKEN = shell_text.re.compile(rf"2>&1|{shell_text._WORD}|&&|\|\||\||;")
"""One token of a line the lane reads: the descriptor copy, a word, an operator."""
_QUOTED_PIECES = [
    *["a", "b1", "--x=y", "x'y'z", "2>&1", ";", " ; ", " && ", " || ", " | ", " "],
    *["'q r'", "''", "'|;&'", "'a''b'", "'a'b'c'", "'\"'", "'; x'", "' '", "'2>&1'"],
    *["'a=b'", "'@'", "'%'", "'+'", "-", "'-'", "'", "'\t'", "'\u00e9'", "=", "@x"],
]


def _shown(tokens: list[str]) -> list[str]:
    """Tokens with what `_line_tokens` hid brought back (their quotes kept)."""
    return [token.replace("\0", " ").replace("\1", ";") for token in tokens]


class TestLineTokens:
    """A line is read exactly when `_LINE` matches it, into the tokens a regular
    expression of them finds."""

    def _check(self, text: str) -> None:
        tokens = shell_text._line_tokens(text)
        if _SPEC_LINE.fullmatch(text) is None:
            assert tokens is None
        else:
            assert tokens is not None
            assert _shown(tokens) == _TOKEN.findall(text)

    @settings(max_examples=600, deadline=None, database=None)
    @given(text=st.lists(st.sampled_from(_QUOTED_PIECES), min_size=1, max_size=10).map("".join))
    def test_generated_pieces(self, text: str) -> None:
        self._check(text)

    @settings(max_examples=400, deadline=None, database=None)
    @given(text=_LINE)
    def test_generated_lines(self, text: str) -> None:
        self._check(text)

    @settings(max_examples=400, deadline=None, database=None)
    @given(line=_LINE, noise=_ADVERSARIAL, where=st.floats(min_value=0, max_value=1))
    def test_lines_with_adversarial_pieces(self, line: str, noise: str, where: float) -> None:
        at = round(where * len(line))
        self._check(line[:at] + noise + line[at:])

    @pytest.mark.parametrize("text", [*(p.values[0] for p in TAKEN), *(p.values[0] for p in LEFT)])
    def test_the_spellings_above(self, text: str) -> None:
        self._check(text)

    def test_hidden_characters_in_quotes_are_not_read(self) -> None:
        """The two characters that hide a blank and a `;` are not taken from the line."""
        for text in ["echo '\0'", "echo '\1'", "echo a\0b", "echo '\0 ;'"]:
            assert shell_text._line_tokens(text) is None
            assert text_commands(text, 128) is None


@pytest.mark.parametrize("printed", [None, "", "a b\n"])
@pytest.mark.parametrize("upstream", [(), ("echo",), ("git", "grep", "xargs")])
def test_a_later_stages_fields_are_its_contexts(
    printed: str | None, upstream: tuple[str, ...]
) -> None:
    """The fields the lane builds for a later stage are `context_fields` of its context,
    nested in a first stage or a later one too."""
    fields = (*shell_text._PIPED_HEAD, printed, upstream, *shell_text._PIPED_TAIL)
    for ctx in [WalkContext(), WalkContext(subshell=True), WalkContext().piped("x", ("y",))]:
        assert fields == shell_text.context_fields(ctx.piped(printed, upstream))
