"""The expansion stage: what one simple command runs, as data the walk carries out."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tether.core.safety import shell_expand
from tether.core.safety.shell import ShellParser
from tether.core.safety.shell_expand import (
    NestedArgv,
    NestedScript,
    context_fields,
    expand_command,
    is_walked_shell_code,
    plain_command,
)
from tether.core.safety.shell_model import WalkContext
from tether.core.safety.shell_words import Word

P = pytest.param


def _words(*texts: str) -> list[Word]:
    return [Word(text) for text in texts]


@pytest.mark.parametrize(
    ("program", "args"),
    [
        P("bash", ["-c", "ls"], id="bash"),
        P("sh", ["-c", "ls"], id="sh"),
        P("dash", ["-c", "ls"], id="dash"),
        P("zsh", ["-c", "ls"], id="zsh"),
        P("ksh", ["-c", "ls"], id="ksh"),
        P("bash", ["-lc", "ls"], id="login-combined"),
        P("bash", ["-ec", "ls"], id="errexit-combined"),
        P("bash", ["-ce", "ls"], id="c-first"),
        P("bash", ["-c", "--", "ls"], id="double-dash"),
        P("bash", ["-c", "-e", "ls"], id="option-after-c"),
        P("bash", ["-o", "pipefail", "-c", "ls"], id="set-option"),
        P("bash", ["-O", "extglob", "-c", "ls"], id="shopt"),
        P("bash", ["--login", "--norc", "-c", "ls"], id="long-options"),
        P("bash", ["-c", "ls", "a0", "a1"], id="positional"),
    ],
)
def test_harmless_shell_options_wrap_their_code(program: str, args: list[str]) -> None:
    assert is_walked_shell_code(program, args, "ls")


@pytest.mark.parametrize(
    ("program", "args", "code"),
    [
        P("bash", ["-ic", "ls"], "ls", id="interactive"),
        P("bash", ["-sc", "ls"], "ls", id="stdin-mode"),
        P("bash", ["-kc", "ls"], "ls", id="keyword-mode"),
        P("bash", ["+B", "-c", "ls"], "ls", id="no-brace-expansion"),
        P("bash", ["+e", "-c", "ls"], "ls", id="plus-letter"),
        P("bash", ["--rcfile", "x", "-c", "ls"], "ls", id="rcfile"),
        P("bash", ["--init-file", "x", "-c", "ls"], "ls", id="init-file"),
        P("bash", ["--debugger", "-c", "ls"], "ls", id="unknown-long"),
        P("bash", ["-o", "vi", "-c", "ls"], "ls", id="unknown-set-option"),
        P("bash", ["-o"], "ls", id="set-option-without-value"),
        P("bash", ["-O", "extdebug", "-c", "ls"], "ls", id="unknown-shopt"),
        P("fish", ["-c", "ls"], "ls", id="fish"),
        P("csh", ["-c", "ls"], "ls", id="csh"),
        P("bash", ["-c", "cat {}"], "cat {}", id="find-placeholder"),
        P("sh", ["-c", "cat {/.}"], "cat {/.}", id="fd-placeholder"),
        P("sh", ["-c", "echo {1}"], "echo {1}", id="parallel-placeholder"),
    ],
)
def test_other_shell_options_keep_the_code_inline(program: str, args: list[str], code: str) -> None:
    assert not is_walked_shell_code(program, args, code)


def test_expansion_names_the_nested_code_and_adds_no_facts() -> None:
    """`bash -c CODE` comes back as the command plus CODE to walk, in order."""
    expansion = expand_command(_words("bash", "-c", "git status"), WalkContext(), (), ())
    assert expansion.command.program == "bash"
    assert expansion.command.code_walked
    assert expansion.nested == [NestedScript("git status", expansion.nested[0].ctx)]
    assert expansion.nested[0].ctx.depth == 1
    assert not hasattr(expansion, "facts")


def test_dynamic_code_is_never_walked_as_a_wrapper() -> None:
    words = [Word("bash"), Word("-c"), Word("", dynamic=True, sources=("curl",))]
    expansion = expand_command(words, WalkContext(), (), ())
    assert not expansion.command.code_walked
    assert expansion.command.dynamic_code
    assert expansion.nested == []


def test_a_shell_run_by_find_is_not_a_wrapper() -> None:
    """`find -exec sh -c CODE`: once per file, in other directories: the shell stays inline code."""
    expansion = expand_command(
        _words("find", ".", "-exec", "sh", "-c", "id", ";"), WalkContext(), (), ()
    )
    (argv,) = expansion.nested
    assert isinstance(argv, NestedArgv)
    assert argv.ctx.run_by == "find"
    inner = expand_command(list(argv.words), argv.ctx, (), ())
    assert not inner.command.code_walked


def test_xargs_shell_is_not_a_wrapper() -> None:
    expansion = expand_command(_words("xargs", "sh", "-c", "ls"), WalkContext(), (), ())
    assert expansion.command.program == "sh"
    assert not expansion.command.code_walked


def test_walked_code_reads_the_shells_stdin() -> None:
    ctx = WalkContext(stdin="pipe", piped_from=("curl",))
    expansion = expand_command(_words("bash", "-c", "sh"), ctx, (), ())
    (nested,) = expansion.nested
    assert isinstance(nested, NestedScript)
    assert nested.ctx.stdin == "pipe"
    assert nested.ctx.piped_from == ("curl",)


def test_unbounded_parallelism_is_a_problem_of_the_expansion() -> None:
    expansion = expand_command(_words("xargs", "-P", "0", "ls"), WalkContext(), (), ())
    assert any("flood" in p for p in expansion.problems)


@pytest.mark.parametrize(
    ("command", "inner"),
    [
        P("bash -c -- 'rm -rf /'", ("rm", ("-rf", "/")), id="double-dash"),
        P("bash -c - 'rm -rf /'", ("rm", ("-rf", "/")), id="single-dash"),
        P("bash -ec -- 'rm -rf /'", ("rm", ("-rf", "/")), id="combined-double-dash"),
        P("nix-shell --run 'rm -rf /'", ("rm", ("-rf", "/")), id="nix-shell-run"),
        P("nix-shell -p x --command 'rm -rf /'", ("rm", ("-rf", "/")), id="nix-shell-command"),
        P("nix develop -c rm -rf /", ("rm", ("-rf", "/")), id="nix-develop"),
        P("nix shell pkg --command rm -rf /", ("rm", ("-rf", "/")), id="nix-shell-new"),
        P("direnv exec . rm -rf /", ("rm", ("-rf", "/")), id="direnv-exec"),
    ],
)
def test_commands_behind_shells_and_environments_are_walked(
    shell_parser: ShellParser, command: str, inner: tuple[str, tuple[str, ...]]
) -> None:
    script = shell_parser.parse(command)
    assert inner in {(c.program, c.args) for c in script.commands}


@pytest.mark.parametrize(
    "texts",
    [
        P(["git", "status"], id="program-as-written"),
        P(["ls"], id="no-arguments"),
        P(["", "a", "b"], id="empty-program"),
        P([""], id="empty-program-alone"),
        P(["/usr/bin/ls", "-l"], id="program-path"),
        P(["LS", "x"], id="upper-case-program"),
        P(["python3.12", "-V"], id="versioned-program"),
        P(["a b", "c"], id="program-with-a-blank"),
    ],
)
def test_a_plain_command_is_the_full_expansions_record(
    texts: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`plain_command` builds the record the full pass of `expand_command` builds."""
    ctx = WalkContext(subshell=True)
    plain = plain_command(texts, ctx)
    assert plain is not None
    monkeypatch.setattr(shell_expand, "_plain", lambda *_: None)  # the full pass
    assert plain._asdict() == expand_command(_words(*texts), ctx, (), ()).command._asdict()


_CONTEXTS = [
    WalkContext(),
    WalkContext(subshell=True),
    WalkContext().piped("text\n", ("echo",)),
    WalkContext(depth=2, source="bash -c", function="f", stdin="heredoc", stdin_text="x"),
]


@pytest.mark.parametrize("ctx", _CONTEXTS)
@pytest.mark.parametrize("texts", [["git", "status"], ["LS", "-l"], ["", "a"]])
def test_a_plain_command_of_given_context_fields_is_the_full_expansions_record(
    texts: list[str], ctx: WalkContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`plain_command` with its context's fields built beforehand (as the text lane
    holds them) builds the record the full pass builds in that context."""
    plain = plain_command(texts, ctx, context_fields(ctx))
    assert plain is not None
    assert plain == plain_command(texts, ctx)
    monkeypatch.setattr(shell_expand, "_plain", lambda *_: None)  # the full pass
    assert plain._asdict() == expand_command(_words(*texts), ctx, (), ()).command._asdict()


_BARE_TEXTS = [
    ["git", "status"],
    ["xargs", "wc", "-l"],
    ["xargs", "-P", "0", "rm"],
    ["parallel", "-j0", "gzip"],
    ["xargs", "--max-procs=0", "rm"],
    ["sudo", "-u", "x", "rm", "-rf", "/"],
    ["timeout", "5", "nice", "-n", "1", "git", "status"],
    ["env", "GIT_PAGER=less", "git", "log"],
    ["env"],
    ["bash", "-c", "ls"],
    ["sh", "-c", "cat {}"],
    ["git", "-c", "core.pager=less", "log"],
    ["find", ".", "-exec", "rm", "{}", ";"],
    ["eval", "ls"],
    ["alias", "ll=ls -l"],
    ["let", "x=1"],
    ["", "a"],
    ["/usr/bin/XARGS", "-0", "echo"],
]


@pytest.mark.parametrize("ctx", _CONTEXTS)
@pytest.mark.parametrize("texts", _BARE_TEXTS)
def test_a_bare_command_is_the_expansions_lone_command(texts: list[str], ctx: WalkContext) -> None:
    """`bare_command` is `expand_command`'s command when the expansion holds nothing
    else, and None when it holds nested work or a problem."""
    expansion = expand_command(_words(*texts), ctx, (), ())
    expected = None if expansion.nested or expansion.problems else expansion.command
    assert shell_expand.bare_command(texts, ctx) == expected
    assert shell_expand.bare_command(texts, ctx, context_fields(ctx)) == expected


_PARALLEL_WORDS = [
    *["xargs", "parallel", "/usr/bin/xargs", "-P", "-P0", "-P=0", "0", "0%", " 0", "4"],
    *["-j", "-j0", "-j=0%", "--jobs", "--jobs=0", "--max-procs", "--max-procs=0"],
    *["--max-procs0", "-jP", "--", "-", "a -P 0", "x", "-0", "-n", "--null", ""],
]


@settings(max_examples=500, deadline=None, database=None)
@given(texts=st.lists(st.sampled_from(_PARALLEL_WORDS), min_size=1, max_size=6))
def test_the_parallelism_check_skips_only_lines_without_its_options(texts: list[str]) -> None:
    """The blank-joined look for the options gives the word-by-word answer."""
    assert shell_expand._unbounded_parallelism(texts) == shell_expand._unbounded_option(texts)
