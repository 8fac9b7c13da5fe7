"""Where bash and tree-sitter-bash disagree about where a comment starts."""

from __future__ import annotations

import pytest

from tether.core.safety.shell import ShellParser
from tether.core.safety.shell_text import text_commands
from tether.core.safety.shell_walk import MISREAD_COMMENT
from tether.core.safety.shell_words import join_continuations

_HIDING = [
    pytest.param("echo \\ #; echo HIDDEN", id="escaped-space"),
    pytest.param("echo \\\t#; echo HIDDEN", id="escaped-tab"),
    pytest.param("echo \\ \\ #; echo HIDDEN", id="two-escaped-spaces"),
    pytest.param('echo ""\\ #; echo HIDDEN', id="after-empty-string"),
    pytest.param("echo $x\\ #; echo HIDDEN", id="after-variable"),
    pytest.param("\\ #; echo HIDDEN", id="line-start"),
    pytest.param("echo a\r#; echo HIDDEN", id="carriage-return"),
    pytest.param("echo a\v#; echo HIDDEN", id="vertical-tab"),
    pytest.param("echo a\f#; echo HIDDEN", id="form-feed"),
    pytest.param("bash -c 'echo \\ #; echo HIDDEN'", id="in-bash-c"),
    pytest.param("echo $(echo \\ #\necho HIDDEN)", id="in-substitution"),
]


@pytest.mark.parametrize("line", _HIDING)
def test_comment_bash_reads_as_word_text_is_not_understood(line: str) -> None:
    """bash runs `echo HIDDEN` in each line; the parse must not drop it silently."""
    script = ShellParser().parse(line)
    assert MISREAD_COMMENT in script.problems
    assert any(command.args == ("HIDDEN",) for command in script.commands)


@pytest.mark.parametrize("line", _HIDING)
def test_text_lane_leaves_comment_lines_to_the_walk(line: str) -> None:
    assert text_commands(line, 128) is None


@pytest.mark.parametrize(
    "line",
    [
        pytest.param("ls # list", id="after-blank"),
        pytest.param("echo \\\\ #; ls", id="escaped-backslash"),
        pytest.param("echo a;# note", id="after-semicolon"),
        pytest.param("echo \\\\\\ #; ls", id="escaped-backslash-and-blank"),
        pytest.param("ls\n# note\ngit status", id="own-line"),
        pytest.param("echo \\\n# note", id="after-continuation"),
        pytest.param("(# note\nls)", id="after-paren"),
        pytest.param("echo ${x#a} $# $((2#10)) a#b", id="not-comments"),
    ],
)
def test_comments_bash_reads_as_comments_are_understood(line: str) -> None:
    assert ShellParser().parse(line).problems == ()


@pytest.mark.parametrize(
    ("text", "joined"),
    [
        pytest.param(
            "echo \\ #\\\necho x", "echo \\ #echo x", id="escaped-blank-then-continuation"
        ),
        pytest.param("ls # a \\\nrm", "ls # a \\\nrm", id="comment-keeps-its-backslash"),
        pytest.param("echo \\\\ #x\\\ny", "echo \\\\ #x\\\ny", id="escaped-backslash-then-comment"),
    ],
)
def test_continuations_are_joined_where_bash_joins_them(text: str, joined: str) -> None:
    """A `#` after an escaped blank is word text: a backslash-newline after it is joined."""
    assert join_continuations(text) == joined
