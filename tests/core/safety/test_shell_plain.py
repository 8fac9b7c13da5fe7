"""The plain lane gives exactly the script the general walk gives, field for field.

Three ways run over every command of the adversarial corpus, hand-picked spellings
at the lanes' edges, and generated lines: the one-pass lane (`PlainLane.walk`, with
the plan where it leaves), the plan alone (`one_pass=False`) and the general walk
(`plain_lane=False`). Plain lines must be taken, lines of any shell characters taken
or left to the general walk without changing a thing. Every `SimpleCommand` field is
compared: program, words, redirects, stdin, piped_from, subshell, source, depth, and
the script's problems. A lane broken on purpose is caught by the same comparison.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tree_sitter import Parser

from tether.core.safety import shell_plain, shell_walk
from tether.core.safety.shell import Redirect, ShellParser, ShellScript, StdinKind
from tether.core.safety.shell_frag import LANGUAGE
from tether.core.safety.shell_model import WalkContext
from tether.core.safety.shell_plain import (
    NeedsWalk,
    NotPlain,
    PlainCommand,
    PlainLane,
    PlainReader,
    PlainSequence,
)
from tether.core.safety.shell_words import Word

_CORPUS = Path(__file__).parent / "corpus"
_READER = PlainReader(LANGUAGE)
_LANE = PlainLane(LANGUAGE)
_PARSER = Parser(LANGUAGE)


def _corpus_commands() -> Iterator[str]:
    for path in sorted(_CORPUS.glob("*.yaml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        for case in document["cases"]:
            if isinstance(case, dict) and isinstance(case.get("cmd"), str):
                yield case["cmd"]


# The text lane off: it reads many plain lines before any tree (`test_shell_text`).
_PLAIN_LANE = ShellParser(text_lane=False)
_PLAN = ShellParser(one_pass=False, text_lane=False)
_GENERAL = ShellParser(plain_lane=False)


def _both(text: str) -> tuple[ShellScript, ShellScript]:
    """The script of the lanes (the plan alone agreeing with them), and the general walk's."""
    plain, general = _PLAIN_LANE.parse(text), _GENERAL.parse(text)
    assert _PLAN.parse(text) == general
    return plain, general


def _one_pass(text: str) -> bool:
    """Whether the one-pass lane walks the whole top-level tree of `text` itself."""
    root = _PARSER.parse(text.encode("utf-8", "surrogatepass") + b"\n").root_node
    if not _is_plain(text):
        return False
    try:
        _LANE.walk(root, text, WalkContext(), [], limit=128, level=0, max_level=150)
    except (NotPlain, NeedsWalk):
        return False
    return True


def _is_plain(text: str) -> bool:
    """Whether the lane takes `text` itself (its top-level tree), not only nested code."""
    root = _PARSER.parse(text.encode("utf-8", "surrogatepass")).root_node
    return text.isascii() and not root.has_error and _READER.plan(root, text) is not None


PLAIN = [
    pytest.param("git status", id="two-words"),
    pytest.param("cd src && pytest -q", id="and-list"),
    pytest.param("rm -rf /", id="rm"),
    pytest.param("git status && git diff --stat | head -20", id="list-and-pipe"),
    pytest.param(
        "cd src && git ls-files -- '*.py' | grep -v '^tests/' | xargs wc -l | sort -rn "
        "| head -n 20 && git log --oneline --since='2 weeks ago' -- . | cut -c1-72 | head -30 "
        "&& pytest -q -x --no-header -p no:cacheprovider tests/unit 2>&1 | tail -n 25 "
        "| grep -E 'passed|failed|error' || echo 'no test summary found'",
        id="bench-pipeline",
    ),
    pytest.param("a || b; c & d", id="every-list-operator"),
    pytest.param("a |& b | c", id="stderr-pipe"),
    pytest.param("ls\npwd\n\nwhoami", id="newlines"),
    pytest.param("ls # rm -rf /", id="trailing-comment"),
    pytest.param("# only a comment\nls", id="comment-line"),
    pytest.param("ls *.py src/?? [ab]* ~/x", id="globs-and-tilde"),
    pytest.param("echo 'a b' '' 'x'y z'w'", id="single-quotes-and-concatenations"),
    pytest.param("grep -E '^a$|b{2}' '*.py' 'it''s'", id="quoted-specials"),
    pytest.param("'git' status", id="quoted-program"),
    pytest.param("'/usr/bin/RM' -rf /", id="quoted-program-path"),
    pytest.param("x'y'z a", id="concatenated-program"),
    pytest.param("head -20 -n 3 1 0x1F 64#zz", id="numbers"),
    pytest.param("make > build.log 2>&1", id="redirected"),
    pytest.param("> out echo hi", id="redirect-in-command"),
    pytest.param("cat < in.txt | wc -l >> counts 2>/dev/null", id="redirected-pipeline"),
    pytest.param("sort 0< data", id="descriptor-stdin"),
    pytest.param("cmd &> all.log; cmd &>> all.log; cmd >| f", id="redirect-ops"),
    pytest.param("cmd 2>&1 >&- 1>&2 <&0", id="descriptor-duplicates"),
    pytest.param("cmd > 'quoted file' 2> x'y'", id="quoted-targets"),
    pytest.param("cmd > a*b 2> c?d", id="glob-in-a-target"),
    pytest.param("cmd > {a,b} 2> x{", id="brace-target-not-expanded"),
    pytest.param("echo /etc/passwd | xargs cat", id="known-stdin-text"),
    pytest.param("printf 'rm -rf /' | sh", id="printf-into-shell"),
    pytest.param("sudo rm -rf /", id="wrapper"),
    pytest.param("timeout 5 nice -n 1 git status", id="wrappers"),
    pytest.param("bash -c 'git status | head'", id="shell-code"),
    pytest.param("sh -c 'bash -c \"ls\"'", id="nested-shell-code"),
    pytest.param("find . -name '*.pyc' -exec rm {} +", id="find-exec"),
    pytest.param("xargs -I{} cp {} {}.bak", id="placeholders"),
    pytest.param("cp file{,.bak} a{b,c}d x{y a}b", id="brace-expansion"),
    pytest.param("echo {a,b}'c' '{a,b}'", id="quoted-piece-stops-brace-expansion"),
    pytest.param("/bin/{rm,true} -rf / && r{m,} x", id="brace-expanded-program"),
    pytest.param("git -c core.pager=less log", id="git-config-code"),
    pytest.param("let x=1", id="let-arithmetic"),
    pytest.param("read x; let x", id="let-reads-a-variable"),
    pytest.param("echo '$(rm -rf /)'; let 'y=a[$(ls)]'", id="let-quoted-substitution"),
    pytest.param("xargs -P 0 rm < list", id="flood"),
    pytest.param("a | b && c | d || e | f", id="pipes-in-lists"),
    pytest.param("cmd 2>&1 | tail && other", id="redirect-binds-the-list"),
]

ONE_PASS = [
    pytest.param("git status", id="two-words"),
    pytest.param("git status -s --branch", id="bare-words"),
    pytest.param("ls *.py src/?? a]b ~/x", id="bare-globs"),
    pytest.param("ls *.py src/?? -- ~/x", id="bare-glob-words"),
    pytest.param("ls [ab]* x[", id="bracket-concatenations"),
    pytest.param("head -20 -n 3 1 0x1F 64 +3 1.5", id="bare-numbers"),
    pytest.param("1 2", id="number-program"),
    pytest.param("ls a=b x=y=z = --since=1", id="equals-in-arguments"),
    pytest.param("a^b %x @y :z ,w", id="bare-punctuation"),
    pytest.param("ls\tsrc  -la", id="tabs-and-runs-of-blanks"),
    pytest.param("echo 'a b' x'y'z", id="quoted-words"),
    pytest.param("cmd > out 2>&1 < in", id="redirects-after-a-command"),
    pytest.param("> out < in cat -n", id="redirects-in-a-command"),
    pytest.param("make > build.log 2>&1", id="redirected"),
    pytest.param("cat < in.txt | wc -l >> counts 2>/dev/null", id="redirected-pipeline"),
    pytest.param("echo /etc/passwd | xargs cat", id="known-stdin-text"),
    pytest.param("printf 'a\\tb' | cat | wc", id="printf-output-piped"),
    pytest.param("pwd | cat | cat", id="pwd-output-piped"),
    pytest.param("a | b && c | d || e | f", id="pipes-in-lists"),
    pytest.param("a; b & c\nd", id="sequence"),
    pytest.param("ls # rm -rf /", id="trailing-comment"),
    pytest.param("sudo rm -rf /", id="wrapper"),
    pytest.param("cp file{,.bak} a{b,c}d", id="brace-expansion"),
    pytest.param(
        "cd src && git ls-files -- '*.py' | grep -v '^tests/' | xargs wc -l | sort -rn "
        "| head -n 20 && git log --oneline --since='2 weeks ago' -- . | cut -c1-72 | head -30 "
        "&& pytest -q -x --no-header -p no:cacheprovider tests/unit 2>&1 | tail -n 25 "
        "| grep -E 'passed|failed|error' || echo 'no test summary found'",
        id="bench-pipeline",
    ),
]

# Plain, but a command needs the walk itself: nested code, a problem, `let`.
LEFT_TO_THE_PLAN = [
    pytest.param("bash -c 'git status | head'", id="shell-code"),
    pytest.param("ls && sh -c 'bash -c \"ls\"'", id="nested-shell-code-later"),
    pytest.param("find . -name '*.pyc' -exec rm {} +", id="find-exec"),
    pytest.param("git -c core.pager=less log", id="git-config-code"),
    pytest.param("let x=1", id="let-arithmetic"),
    pytest.param("ls | let x", id="let-in-a-pipeline"),
    pytest.param("xargs -P 0 rm < list", id="flood"),
]

NOT_PLAIN = [
    pytest.param("echo $HOME", id="expansion"),
    pytest.param('echo "a b"', id="double-quotes"),
    pytest.param("FOO=1 ls", id="assignment-prefix"),
    pytest.param("a=b", id="bare-assignment"),
    pytest.param("(cd src && ls)", id="subshell"),
    pytest.param("{ ls; }", id="group"),
    pytest.param("cat <<EOF\nrm -rf /\nEOF", id="heredoc"),
    pytest.param("sh <<< 'rm -rf /'", id="herestring"),
    pytest.param("r\\m -rf /", id="backslash"),
    pytest.param("echo {1..3}", id="brace-range"),
    # Broken groups to tree-sitter: the walk respells them (`rm -rf /`), then reads that.
    pytest.param("{rm,-rf} /", id="brace-group-respelled"),
    pytest.param("{rm,-rf,/}", id="brace-program-respelled"),
    pytest.param("ls | # c\n wc", id="comment-in-pipeline"),
    pytest.param("echo caf\u00e9", id="non-ascii"),
    pytest.param("> out", id="redirect-alone"),
    pytest.param("echo > out hi", id="words-on-a-redirect"),
    pytest.param("! ls", id="negation"),
    pytest.param("if true; then ls; fi", id="if"),
    pytest.param("f() { ls; }", id="function"),
    pytest.param("[ -f x ] && ls", id="test-command"),
    pytest.param("echo $(ls) `pwd` <(ls)", id="substitutions"),
    pytest.param("echo $'\\x72m'", id="ansi-c"),
    pytest.param("export A=1", id="declaration"),
    pytest.param("ls (", id="syntax-error"),
]

# Plain lines: words of safe characters, single-quoted strings and numbers, joined by
# list operators and pipes, with redirections after a command or a statement.
_BARE = st.text(alphabet="abcgimrstz-_./~=:@%+,*?[]!^0123456789", min_size=1, max_size=10)
_QUOTED = st.text(alphabet='ab $|&;<>(){}"\\`#*\n', max_size=8).map(lambda t: f"'{t}'")
_WORD = st.one_of(
    _BARE,
    _QUOTED,
    st.tuples(_BARE, _QUOTED).map("".join),
    st.tuples(_QUOTED, _BARE).map("".join),
    st.sampled_from(["git", "echo", "xargs", "sh", "cat", "sudo", "let", "rm", "printf"]),
)
_REDIRECT = st.one_of(
    st.sampled_from([">", ">>", "<", "2>", "&>", "0<", ">|"]).flatmap(
        lambda op: _BARE.map(lambda target: f"{op} {target}")
    ),
    st.sampled_from(["2>&1", ">&2", "1>&-", "<&0"]),
)
_COMMAND = st.tuples(
    st.lists(_WORD, min_size=1, max_size=5),
    st.lists(_REDIRECT, max_size=2),
).map(lambda parts: " ".join([*parts[0], *parts[1]]))
_OPERATOR = st.sampled_from([" | ", " |& ", " && ", " || ", "; ", " & ", "\n"])
_LINE = st.tuples(
    _COMMAND, st.lists(st.tuples(_OPERATOR, _COMMAND), max_size=5), st.lists(_REDIRECT, max_size=1)
).map(
    lambda p: p[0] + "".join(op + command for op, command in p[1]) + "".join(" " + r for r in p[2])
)


# Lines the lane always takes: words starting with a letter, single-quoted strings,
# list operators and pipes, and redirections to named files.
_SIMPLE_WORD = st.one_of(
    st.from_regex(r"[a-z][a-z0-9_./=:,*?-]{0,8}", fullmatch=True),
    st.text(alphabet='ab $|&;<>(){}"\\`#*', max_size=6).map(lambda t: f"'{t}'"),
)
# Reserved words start compound commands (`a | if` is incomplete), not simple ones.
_RESERVED = frozenset(
    [
        "if",
        "then",
        "else",
        "elif",
        "fi",
        "case",
        "esac",
        "for",
        "select",
        "while",
        "until",
        "do",
        "done",
        "in",
        "function",
        "time",
        "coproc",
        "declare",
        "typeset",
        "export",
        "readonly",
        "local",
        "unset",
    ]
)
_SIMPLE_COMMAND = st.tuples(
    st.from_regex(r"[a-z][a-z0-9_.-]{0,6}", fullmatch=True).filter(
        lambda name: name not in _RESERVED
    ),
    st.lists(_SIMPLE_WORD, max_size=4),
    st.lists(st.sampled_from(["> out", ">> log", "2> err", "< in", "2>&1", "&> all"]), max_size=2),
).map(lambda p: " ".join([p[0], *p[1], *p[2]]))
_SIMPLE_LINE = st.tuples(
    _SIMPLE_COMMAND, st.lists(st.tuples(_OPERATOR, _SIMPLE_COMMAND), max_size=4)
).map(lambda p: p[0] + "".join(op + command for op, command in p[1]))


class TestBothLanesAgree:
    def test_on_every_corpus_command(self) -> None:
        commands = list(dict.fromkeys(_corpus_commands()))
        assert len(commands) > 1500  # the corpus was read
        general = {text: _GENERAL.parse(text) for text in commands}
        differing = [text for text in commands if _PLAIN_LANE.parse(text) != general[text]]
        assert differing == []
        differing = [text for text in commands if _PLAN.parse(text) != general[text]]
        assert differing == []
        # The lanes are not idle: most everyday commands are plain, most of them one pass.
        assert sum(_is_plain(text) for text in commands) > len(commands) // 3
        assert sum(_one_pass(text) for text in commands) > len(commands) // 4

    @pytest.mark.parametrize("text", PLAIN)
    def test_on_plain_spellings_which_the_lane_takes(self, text: str) -> None:
        assert _is_plain(text)
        plain, general = _both(text)
        assert plain == general
        assert plain.commands  # something was found, the same way

    @pytest.mark.parametrize("text", ONE_PASS)
    def test_on_spellings_the_one_pass_lane_takes(self, text: str) -> None:
        assert _one_pass(text)
        plain, general = _both(text)
        assert plain == general
        assert plain.commands

    @pytest.mark.parametrize("text", LEFT_TO_THE_PLAN)
    def test_on_plain_spellings_the_one_pass_lane_leaves_to_the_plan(self, text: str) -> None:
        assert _is_plain(text)
        assert not _one_pass(text)
        plain, general = _both(text)
        assert plain == general

    @pytest.mark.parametrize("text", NOT_PLAIN)
    def test_on_other_spellings_which_go_to_the_general_walk(self, text: str) -> None:
        assert not _is_plain(text)
        assert not _one_pass(text)
        plain, general = _both(text)
        assert plain == general

    @settings(max_examples=600, deadline=None, database=None)
    @given(text=_LINE)
    def test_on_generated_plain_lines(self, text: str) -> None:
        plain, general = _both(text)
        assert plain == general

    @settings(max_examples=300, deadline=None, database=None)
    @given(text=_SIMPLE_LINE)
    def test_simple_generated_lines_take_the_lane(self, text: str) -> None:
        assert _is_plain(text)
        plain, general = _both(text)
        assert plain == general

    @settings(max_examples=600, deadline=None, database=None)
    @given(text=st.text(alphabet="ab -'\"$|&;<>(){}#\\\n*=12", max_size=30))
    def test_on_generated_lines_of_any_shell_characters(self, text: str) -> None:
        plain, general = _both(text)
        assert plain == general


class TestTheLanesLimits:
    @pytest.mark.parametrize(
        ("limit", "too_deep"), [(3, True), (8, True), (20, True), (150, False)]
    )
    def test_nesting_is_counted_as_the_general_walk_counts_it(
        self, limit: int, too_deep: bool, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # Lists nest one level per operator, a redirected list one more: with the limit
        # lowered, both lanes stop at the same statement with the same problem.
        monkeypatch.setattr(shell_walk, "_MAX_NODE_DEPTH", limit)
        text = " && ".join(["ls 2>&1"] * 24) + " | wc -l"
        plain, general = _both(text)
        assert plain == general
        assert ("the command is nested too deeply to analyse" in plain.problems) == too_deep

    def test_too_many_commands_are_cut_alike(self) -> None:
        parser, general = (
            ShellParser(max_commands=3, text_lane=False),
            ShellParser(max_commands=3, plain_lane=False),
        )
        plan = ShellParser(max_commands=3, one_pass=False, text_lane=False)
        text = "a; b; c; d; e"
        assert parser.parse(text) == general.parse(text) == plan.parse(text)
        assert parser.parse(text).problems == ("more than 3 commands in one call",)

    @pytest.mark.parametrize("count", [1, 2, 3, 4, 5])
    @pytest.mark.parametrize("joiner", ["; ", " | ", " && "])
    def test_the_command_limit_is_met_exactly(self, count: int, joiner: str) -> None:
        # At the limit every command is recorded; one more and the walk's overflow shows.
        text = joiner.join(["ls"] * count)
        for limit in (count - 1, count, count + 1):
            lanes = ShellParser(max_commands=limit, text_lane=False).parse(text)
            assert lanes == ShellParser(max_commands=limit, plain_lane=False).parse(text)
            assert lanes == ShellParser(max_commands=limit, one_pass=False, text_lane=False).parse(
                text
            )
            assert bool(lanes.problems) == (count > limit)

    def test_nested_code_over_the_limit_is_cut_alike(self) -> None:
        text = "bash -c 'a; b; c' && d; e"
        for limit in range(1, 7):
            lanes = ShellParser(max_commands=limit).parse(text)
            assert lanes == ShellParser(max_commands=limit, plain_lane=False).parse(text)

    @pytest.mark.parametrize("depth", [0, 1, 4])
    def test_nested_plain_code_is_walked_alike_at_every_nesting(self, depth: int) -> None:
        text = "ls | wc -l && git status"
        for _ in range(depth):
            text = "bash -c " + "'" + text.replace("'", "'\\''") + "'"
        plain, general = _both(text)
        assert plain == general
        assert len(plain.commands) == 3 + depth

    def test_the_plan_holds_the_words_and_structure(self) -> None:
        root = _PARSER.parse(b"git 'log' -n 3").root_node
        plan = _READER.plan(root, "git 'log' -n 3")
        assert isinstance(plan, PlainSequence)
        (command,) = plan.items
        assert isinstance(command, PlainCommand)
        assert [word.text for word in command.words] == ["git", "log", "-n", "3"]
        assert command.redirects is None


def _grouped_across_blanks(slow: object, span: str) -> bool:
    """Whether tree-sitter made one word of text bash splits at a blank (`] [a`).

    In a command with no quote or backslash a blank always ends a word for bash, so a
    word holding one comes from the grammar's grouping of bracket spans. The reading
    that splits there (the bare words) is bash's; the node by node one follows the
    grammar. Rare in generated text, so the comparison knows the case.
    """
    if slow is None or any(c in span for c in "'\"\\"):
        return False
    words = slow[0]  # type: ignore[index]
    return any(" " in word.text or "\t" in word.text for word in words)


class TestTheBareWords:
    """`_bare_words` reads a command of bare words as the node by node reading does."""

    class _NodeByNode(PlainLane):
        __slots__ = ()

        def _bare_words(self, node: object, span: str) -> None:
            return None

    _SLOW = _NodeByNode(LANGUAGE)

    def _agree(self, text: str) -> int:
        """How many commands of `text` were read bare; fails when a reading differs."""
        root = _PARSER.parse(text.encode("utf-8", "surrogatepass") + b"\n").root_node
        stack, read = [root], 0
        while stack:
            node = stack.pop()
            stack.extend(node.children)
            if node.type != "command" or not text.isascii():
                continue
            try:
                slow = self._SLOW._read_command(node, text)
            except NotPlain:
                slow = None
            try:
                fast = _LANE._read_command(node, text)
            except NotPlain:
                fast = None
            span = text[node.start_byte : node.end_byte]
            if fast != slow and _grouped_across_blanks(slow, span):
                continue
            assert fast == slow, text
            if shell_plain._BARE_COMMAND.fullmatch(span) and _LANE._bare_words(node, span):
                read += 1
        return read

    def test_on_every_corpus_command(self) -> None:
        read = sum(self._agree(text) for text in dict.fromkeys(_corpus_commands()))
        assert read > 300

    @settings(
        max_examples=800,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(
        text=st.lists(
            st.text(alphabet="ab1-_./:,+%@=~^*?[] \t!{}'\"$\\#<>", min_size=1, max_size=8),
            min_size=1,
            max_size=5,
        ).map(" ".join)
    )
    def test_on_generated_words(self, text: str) -> None:
        self._agree(text)


class TestABrokenLaneIsCaught:
    """The comparison above fails when the lane gets a field wrong (the test is not idle)."""

    def _differing(self) -> list[str]:
        texts = [str(param.values[0]) for param in ONE_PASS]
        return [
            text
            for text in texts
            if ShellParser(text_lane=False).parse(text) != _GENERAL.parse(text)
        ]

    def test_a_lane_that_loses_what_a_pipe_carries(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(shell_plain, "literal_output", lambda commands: None)
        assert "echo /etc/passwd | xargs cat" in self._differing()

    def test_a_lane_that_reads_no_glob(self, monkeypatch: pytest.MonkeyPatch) -> None:
        def unglobbed(pieces: list[str], span: str) -> list[Word]:
            return [Word(piece) for piece in pieces]

        monkeypatch.setattr(shell_plain, "_bare", unglobbed)
        assert "ls *.py src/?? -- ~/x" in self._differing()

    def test_a_lane_that_forgets_a_redirect(self, monkeypatch: pytest.MonkeyPatch) -> None:
        read = PlainLane._read_nodes

        def unredirected(lane: PlainLane, node: object, text: str) -> object:
            return read(lane, node, text)[0], None, False  # type: ignore[arg-type]

        monkeypatch.setattr(PlainLane, "_read_nodes", unredirected)
        assert "> out < in cat -n" in self._differing()


class TestAPipedStagesContext:
    @settings(max_examples=200, deadline=None, database=None)
    @given(
        depth=st.integers(0, 4),
        source=st.sampled_from(["", "$(...)", "bash -c"]),
        function=st.none() | st.just("f"),
        stdin=st.sampled_from(["none", "pipe", "file", "heredoc"]),
        text=st.none() | st.text(max_size=5),
        upstream=st.lists(st.sampled_from(["ls", "cat"]), max_size=3).map(tuple),
        subshell=st.booleans(),
        run_by=st.sampled_from(["", "find"]),
    )
    def test_is_the_replaced_context(
        self,
        depth: int,
        source: str,
        function: str | None,
        stdin: StdinKind,
        text: str | None,
        upstream: tuple[str, ...],
        subshell: bool,
        run_by: str,
    ) -> None:
        ctx = WalkContext(
            depth=depth,
            source=source,
            function=function,
            stdin=stdin,
            stdin_text="x",
            piped_from=("a",),
            redirects=(Redirect(">", "out"),),
            extra_args=(Word("w"),),
            subshell=subshell,
            run_by=run_by,
        )
        expected = ctx._replace(stdin="pipe", stdin_text=text, piped_from=upstream, subshell=True)
        assert ctx.piped(text, upstream) == expected
        assert type(ctx.piped(text, upstream)) is WalkContext
