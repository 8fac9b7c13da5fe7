"""The walk's fast paths give exactly what the general path gives, word for word.

A fast path skips work for the commonest shapes (a plain word, a line with no `$`,
a text far inside the bounds). Each is checked against the general path on
generated words and on hand-written spellings chosen to sit at its edges: quotes,
escapes, ANSI-C strings, globs, braces, tildes, assignments, here-documents.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tree_sitter import Node, Parser

from tether.core.safety import shell_frag, shell_walk
from tether.core.safety.shell import ShellParser, ShellScript
from tether.core.safety.shell_frag import LANGUAGE
from tether.core.safety.shell_words import (
    Fragment,
    Word,
    expand,
    plain_word,
    quoted_word,
    unquoted_word,
)

# Characters that change what a word is, and some that do not.
_WORD_ALPHABET = "ab-_./~=:@%+,*?[]{}!^\\'\"$`()<>|;& \t\n#0123456789"
_WORDS = st.text(alphabet=_WORD_ALPHABET, min_size=1, max_size=24)
_PLAIN_ALPHABET = "abz-_./~=:@%+,*?[]!^09"

ADVERSARIAL = [
    pytest.param("git status --short", id="plain"),
    pytest.param("head -n 20 -c 0x1F 64#zz -1 2>&1 1>/dev/null", id="numbers"),
    pytest.param("rm -rf /", id="rm"),
    pytest.param("ls *.py src/?? [ab]*", id="globs"),
    pytest.param("ls ~ ~/src ~root a~b", id="tildes"),
    pytest.param("cp file{,.bak} {a..c} x{1..3}y", id="braces"),
    pytest.param("echo {} {a} a}b", id="braces-not-expanded"),
    pytest.param("r\\m -r\\f /", id="escaped-letters"),
    pytest.param("echo a\\ b \\* \\{a,b\\}", id="escaped-specials"),
    pytest.param("echo 'a b' \"c d\" 'r'm \"r\"m", id="quotes"),
    pytest.param("grep -E 'a|b' '*.py' '{x,y}' '' '\\'", id="single-quoted"),
    pytest.param("echo '\u00e9t\u00e9' \u00e9 caf\u00e9", id="non-ascii"),
    pytest.param("echo $'\\x72m' $'a\\nb' $\"t\"", id="ansi-c"),
    pytest.param("FOO=1 BAR=x env", id="assignments"),
    pytest.param("x=rm; $x -rf /", id="variable-program"),
    pytest.param("a=b c=d", id="bare-assignments"),
    pytest.param("echo -rf$IFS/ rm$IFS-rf", id="glued-at-dollar"),
    pytest.param("cat <<EOF\nrm -rf /\nEOF", id="heredoc"),
    pytest.param("cat <<'EOF' | sh\nrm -rf /\nEOF", id="heredoc-piped"),
    pytest.param("sh <<< 'rm -rf /'", id="herestring"),
    pytest.param("echo > out hi there", id="redirect-words"),
    pytest.param("(cd src && pytest -q) | tee log", id="subshell-pipe"),
    pytest.param("echo $(rm -rf /) `ls`", id="substitutions"),
    pytest.param("find . -name '*.pyc' -exec rm {} +", id="find-exec"),
    pytest.param("bash -c 'rm -rf /'", id="bash-c"),
    pytest.param("xargs rm < list", id="xargs"),
    pytest.param("declare -i n=1+2; let x=3", id="arithmetic"),
    pytest.param("f() { rm -rf /; }; f", id="function"),
    pytest.param("{ls,-la}", id="leading-brace"),
    pytest.param("ls # rm -rf /", id="comment"),
    pytest.param("sudo -u root rm -rf /", id="wrapper"),
    pytest.param("echo a=b -- -x --y=z", id="option-spellings"),
    pytest.param("[[ a == b ]] && (( 1 + 2 ))", id="tests"),
]


def _general(monkeypatch: pytest.MonkeyPatch) -> None:
    """Turn off the word fast paths: every word goes through `frag` and `expand`."""
    monkeypatch.setattr(shell_walk, "plain_word", lambda raw: None)
    monkeypatch.setattr(shell_frag, "plain_word", lambda raw: None)
    monkeypatch.setattr(shell_frag, "quoted_word", lambda text: None)


def _both(text: str) -> tuple[ShellScript, ShellScript]:
    fast = ShellParser(plain_lane=False).parse(text)
    with pytest.MonkeyPatch.context() as monkeypatch:
        _general(monkeypatch)
        general = ShellParser(plain_lane=False).parse(text)
    return fast, general


class TestPlainWord:
    @settings(max_examples=1500, deadline=None, database=None)
    @given(raw=_WORDS)
    def test_it_is_what_the_general_path_makes_or_none(self, raw: str) -> None:
        word = plain_word(raw)
        if word is not None:
            assert [word] == expand(unquoted_word(raw))

    @settings(max_examples=500, deadline=None, database=None)
    @given(raw=st.text(alphabet=_PLAIN_ALPHABET, min_size=1, max_size=24))
    def test_a_word_with_nothing_to_do_takes_it(self, raw: str) -> None:
        assert plain_word(raw) == expand(unquoted_word(raw))[0]

    @pytest.mark.parametrize(
        ("raw", "glob"),
        [
            pytest.param("status", False, id="letters"),
            pytest.param("*.py", True, id="star"),
            pytest.param("file?", True, id="question"),
            pytest.param("[ab]", True, id="bracket"),
            pytest.param("~/src", False, id="tilde"),
            pytest.param("a=b", False, id="assignment-like"),
        ],
    )
    def test_globs_are_noted(self, raw: str, glob: bool) -> None:
        assert plain_word(raw) == Word(raw, glob=glob)

    @pytest.mark.parametrize(
        "raw",
        [
            pytest.param("r\\m", id="backslash"),
            pytest.param("a{b,c}", id="brace"),
            pytest.param("{a..c}", id="range"),
            pytest.param("a\x00b", id="element-break"),
        ],
    )
    def test_what_needs_work_is_left_to_the_general_path(self, raw: str) -> None:
        assert plain_word(raw) is None


class TestQuotedWord:
    @settings(max_examples=800, deadline=None, database=None)
    @given(text=_WORDS | st.text(max_size=12))
    def test_it_is_what_a_single_quoted_fragment_expands_to(self, text: str) -> None:
        word = quoted_word(text)
        general = expand(Fragment([text], literal=False))
        assert word is None if "\x00" in text else [word] == general

    @pytest.mark.parametrize(
        "text",
        [
            pytest.param("*.py", id="glob-is-not-one"),
            pytest.param("{a,b}", id="no-brace-expansion"),
            pytest.param("a b", id="blank-kept"),
            pytest.param("\\x72m", id="backslash-kept"),
            pytest.param("", id="empty"),
        ],
    )
    def test_quoted_text_is_taken_literally(self, text: str) -> None:
        assert quoted_word(text) == Word(text)


class TestExpand:
    @settings(max_examples=800, deadline=None, database=None)
    @given(
        text=_WORDS,
        literal=st.booleans(),
        dynamic=st.booleans(),
        glob=st.booleans(),
        sources=st.lists(st.sampled_from(["curl", "ls"]), max_size=2),
    )
    def test_one_candidate_is_expanded_as_each_of_several_is(
        self, text: str, literal: bool, dynamic: bool, glob: bool, sources: list[str]
    ) -> None:
        # Two equal candidates take the general loop; one takes the straight path.
        def frag(texts: list[str]) -> Fragment:
            return Fragment(texts, dynamic=dynamic, glob=glob, literal=literal, sources=sources)

        assert expand(frag([text])) * 2 == expand(frag([text, text]))


class TestTheWalk:
    @pytest.mark.parametrize("text", ADVERSARIAL)
    def test_the_fast_paths_change_nothing(self, text: str) -> None:
        fast, general = _both(text)
        assert fast == general

    @settings(max_examples=300, deadline=None, database=None)
    @given(words=st.lists(_WORDS, min_size=1, max_size=6))
    def test_generated_commands_are_walked_alike(self, words: list[str]) -> None:
        fast, general = _both(" ".join(words))
        assert fast == general


def _commands(node: Node) -> Iterator[Node]:
    stack = [node]
    while stack:
        current = stack.pop()
        if current.type == "command":
            yield current
        stack.extend(current.children)


class TestNothingIsGluedWithoutADollar:
    @settings(max_examples=400, deadline=None, database=None)
    @given(text=st.text(alphabet=_WORD_ALPHABET.replace("$", ""), max_size=40))
    def test_glued_words_need_a_dollar(self, text: str) -> None:
        root = Parser(LANGUAGE).parse(text.encode()).root_node
        for command in _commands(root):
            assert shell_walk._glued_words(command.named_children) == {}
