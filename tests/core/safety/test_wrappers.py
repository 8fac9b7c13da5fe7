"""Wrappers are peeled off, and commands that programs run by themselves are found."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from tether.core.safety import wrappers
from tether.core.safety.registry.languages import SHELLS
from tether.core.safety.wrappers import (
    EMBEDDING_PROGRAMS,
    Unwrapped,
    embedded_commands,
    program_name,
    unwrap,
)

P = pytest.param


@pytest.mark.parametrize(
    ("word", "name"),
    [
        P("rm", "rm", id="plain"),
        P("/usr/bin/rm", "rm", id="path"),
        P("RM", "rm", id="case-insensitive-file-systems"),
        P("python3.12", "python3", id="python-version"),
        P("perl5.36", "perl", id="perl-version"),
        P("node18", "node", id="node-version"),
        P("rm.exe", "rm", id="exe"),
        P("PYTHON3.12", "python3", id="upper-case-version"),
        P("/opt/py/bin/python3.12.exe", "python3", id="path-version-exe"),
        P("python2.7", "python", id="python2-version"),
        P("ruby3.", "ruby", id="version-ending-in-a-dot"),
        P("lua5.4", "lua", id="lua-version"),
        P("pythonx", "pythonx", id="no-version"),
        P("python3-config", "python3-config", id="not-a-version"),
        P("x86_64", "x86_64", id="digits-that-are-no-version"),
        P("", "", id="empty"),
        P("dir/", "", id="trailing-slash"),
    ],
)
def test_program_name(word: str, name: str) -> None:
    assert program_name(word) == name


@pytest.mark.parametrize(
    ("words", "wrappers", "program"),
    [
        P(["ls"], (), 0, id="no-wrapper"),
        P(["sudo", "-u", "x", "rm"], ("sudo",), 3, id="sudo"),
        P(["doas", "rm"], ("doas",), 1, id="doas"),
        P(["env", "-u", "A", "B=1", "rm"], ("env",), 4, id="env"),
        P(["command", "-p", "rm"], ("command",), 2, id="command"),
        P(["builtin", "eval", "x"], ("builtin",), 1, id="builtin"),
        P(["exec", "-a", "n", "rm"], ("exec",), 3, id="exec"),
        P(["nice", "--adjustment=5", "rm"], ("nice",), 2, id="nice-long"),
        P(["timeout", "--signal=KILL", "5", "rm"], ("timeout",), 3, id="timeout"),
        P(["time", "-p", "rm"], ("time",), 2, id="time"),
        P(["xargs", "-I", "{}", "rm", "{}"], ("xargs",), 3, id="xargs"),
        P(["chroot", "/r", "rm"], ("chroot",), 2, id="chroot"),
        P(["strace", "-f", "-o", "o", "rm"], ("strace",), 4, id="strace"),
        P(["taskset", "-c", "0", "rm"], ("taskset",), 3, id="taskset"),
        P(["python3", "-u", "-m", "pytest"], ("python -m",), 3, id="python-module"),
        P(["uv", "run", "--with", "x", "pytest"], ("uv run",), 4, id="uv-run"),
        P(["poetry", "run", "pytest"], ("poetry run",), 2, id="poetry-run"),
        P(["sudo", "nice", "env", "rm"], ("sudo", "nice", "env"), 3, id="stacked"),
    ],
)
def test_unwrap_finds_the_program(
    words: list[str], wrappers: tuple[str, ...], program: int
) -> None:
    peeled = unwrap(words)
    assert peeled.wrappers == wrappers
    assert peeled.program == program


@pytest.mark.parametrize(
    ("words", "program"),
    [
        P(["env"], 0, id="env-alone"),
        P(["sudo", "-s"], 0, id="sudo-shell"),
        P(["command", "-v", "ls"], 0, id="command-lookup"),
        P(["nice"], 0, id="nice-alone"),
    ],
)
def test_wrapper_alone_is_the_program(words: list[str], program: int) -> None:
    assert unwrap(words).program == program


def test_wrapper_paths_and_assignments() -> None:
    peeled = unwrap(["env", "-C", "/tmp", "A=1", "ls"])
    assert peeled.paths == ((2, "cd"),)
    assert peeled.assignments == (3,)


@pytest.mark.parametrize(
    ("program", "args", "scripts"),
    [
        P("bash", ["-c", "ls"], ["ls"], id="bash-c"),
        P("sh", ["-ec", "ls", "arg0"], ["ls"], id="combined-flags"),
        P("bash", ["-o", "pipefail", "-c", "ls"], ["ls"], id="option-value"),
        P("eval", ["ls", "-la"], ["ls -la"], id="eval"),
        P("su", ["-c", "ls", "root"], ["ls"], id="su"),
        P("trap", ["ls", "EXIT"], ["ls"], id="trap"),
        P("git", ["-c", "core.pager=less -R", "log"], ["less -R"], id="git-pager"),
        P("git", ["-c", "alias.x=!ls", "x"], ["ls"], id="git-alias-bang"),
        P("git", ["config", "core.sshCommand", "ssh -i k"], ["ssh -i k"], id="git-config-set"),
        P("git", ["submodule", "foreach", "ls", "-la"], ["ls -la"], id="submodule-foreach"),
        P("rsync", ["-e", "ssh -p 2", "a", "b"], ["ssh -p 2"], id="rsync-e"),
        P("tar", ["--to-command=sh", "-xf", "a"], ["sh"], id="tar-to-command"),
        P("ssh", ["-oProxyCommand=nc x", "h"], ["nc x"], id="ssh-proxy"),
        P("rg", ["--pre", "./p.sh", "x"], ["./p.sh"], id="rg-pre"),
        P("go", ["test", "-exec", "./w", "./..."], ["./w"], id="go-test-exec"),
    ],
)
def test_embedded_shell_code(program: str, args: list[str], scripts: list[str]) -> None:
    assert [code.text for code in embedded_commands(program, args).scripts] == scripts


def test_find_exec_gives_argument_ranges() -> None:
    args = [".", "-exec", "rm", "{}", ";", "-execdir", "grep", "x", "{}", "+"]
    assert embedded_commands("find", args).argvs == [(2, 4), (6, 9)]


@pytest.mark.parametrize(
    ("args", "reads_stdin"),
    [
        P([], True, id="bare"),
        P(["-s"], True, id="dash-s"),
        P(["-"], True, id="dash"),
        P(["script.sh"], False, id="script"),
        P(["-c", "ls"], False, id="command"),
    ],
)
def test_shell_reading_stdin(args: list[str], reads_stdin: bool) -> None:
    assert embedded_commands("bash", args).stdin_script is reads_stdin


# One spelling per program that runs code of its own: each entry of the program table
# finds something for it, and no program is left out.
_EMBEDDING = [
    *(P(shell, ["-c", "ls"], id=f"shell-{shell}") for shell in sorted(SHELLS)),
    P("eval", ["ls", "-l"], id="eval"),
    P("su", ["-c", "ls"], id="su"),
    P("runuser", ["-u", "x", "-c", "ls"], id="runuser"),
    P("sg", ["grp", "-c", "ls"], id="sg"),
    P("trap", ["ls", "EXIT"], id="trap"),
    P("find", [".", "-exec", "rm", "{}", ";"], id="find"),
    P("git", ["-c", "core.pager=less", "log"], id="git"),
    P("ssh", ["-oProxyCommand=nc x", "h"], id="ssh"),
    P("scp", ["-o", "ProxyCommand nc x", "a", "b"], id="scp"),
    P("sftp", ["-oLocalCommand=ls", "h"], id="sftp"),
    P("rsync", ["--rsh=ssh", "a", "b"], id="rsync"),
    P("tar", ["-I", "zstd", "-cf", "a"], id="tar"),
    P("gtar", ["--use-compress-program=x", "-cf", "a"], id="gtar"),
    P("bsdtar", ["--checkpoint-action=exec=sh", "-cf", "a"], id="bsdtar"),
    P("zip", ["-TT", "unzip -t", "a.zip", "a"], id="zip"),
    P("go", ["run", "-exec", "./w", "."], id="go"),
    P("npm", ["exec", "--", "rm", "x"], id="npm"),
    P("npx", ["-c", "rm x"], id="npx"),
    P("pnpm", ["exec", "rm", "x"], id="pnpm"),
    P("yarn", ["exec", "rm", "x"], id="yarn"),
    P("bun", ["x", "rm", "x"], id="bun"),
    P("systemd-run", ["--user", "rm", "x"], id="systemd-run"),
    P("fd", ["-x", "rm"], id="fd"),
    P("fdfind", ["-X", "rm"], id="fdfind"),
    P("rg", ["--pre=./p", "x"], id="rg"),
    P("ripgrep", ["--pre", "./p", "x"], id="ripgrep"),
    P("sort", ["--compress-program=gz", "a"], id="sort"),
    P("gsort", ["--compress-program", "gz", "a"], id="gsort"),
    P("man", ["-P", "less", "ls"], id="man"),
    P("bat", ["--pager=less", "a"], id="bat"),
    P("batcat", ["--pager", "less", "a"], id="batcat"),
    P("delta", ["--pager=less"], id="delta"),
    P("git-delta", ["--pager", "less"], id="git-delta"),
    P("nix-shell", ["--run", "ls"], id="nix-shell"),
    P("nix", ["develop", "-c", "ls"], id="nix"),
    P("direnv", ["exec", ".", "ls"], id="direnv"),
]


@pytest.mark.parametrize(("program", "args"), _EMBEDDING)
def test_every_program_that_runs_code_is_in_the_table(program: str, args: list[str]) -> None:
    found = embedded_commands(program, args)
    assert program in EMBEDDING_PROGRAMS
    assert found.scripts or found.argvs


def test_the_table_is_covered_by_the_spellings() -> None:
    covered = {param.values[0] for param in _EMBEDDING}
    assert covered == EMBEDDING_PROGRAMS


@pytest.mark.parametrize(
    ("program", "args"),
    [
        P("ls", ["-c", "x"], id="ls"),
        P("python3", ["-c", "import os"], id="interpreter-code-is-not-shell-code"),
        P("evaluate", ["ls"], id="prefix-of-eval"),
        P("", ["-c", "ls"], id="no-program"),
        P("BASH", ["-c", "ls"], id="names-are-already-lower-case"),
    ],
)
def test_other_programs_run_no_code_of_their_own(program: str, args: list[str]) -> None:
    found = embedded_commands(program, args)
    assert (found.scripts, found.argvs, found.stdin_script) == ([], [], False)


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        P(["ls", "-la"], Unwrapped(program=0), id="no-wrapper"),
        P(["/bin/LS"], Unwrapped(program=0), id="no-wrapper-by-path"),
        P([], Unwrapped(program=None), id="no-words"),
        P(["env"], Unwrapped(program=0), id="wrapper-alone"),
        P(["sudo"], Unwrapped(program=0), id="sudo-alone"),
    ],
)
def test_unwrap_of_a_bare_program(words: list[str], expected: Unwrapped) -> None:
    assert unwrap(words) == expected


# -- the name test before peeling --------------------------------------------------------


class _EveryName:
    """Stands for a wrapper-name set holding every name: each word is peeled (the full path)."""

    def __contains__(self, name: object) -> bool:
        return True


def _corpus_words() -> list[list[str]]:
    found: list[list[str]] = []
    for path in sorted((Path(__file__).parent / "corpus").glob("*.yaml")):
        for case in yaml.safe_load(path.read_text(encoding="utf-8"))["cases"]:
            text = case.get("cmd") or (case.get("input") or {}).get("command")
            if not isinstance(text, str):
                continue
            try:
                words = shlex.split(text)
            except ValueError:
                continue
            found.append(words)
            found.extend(words[i:] for i in range(1, min(len(words), 4)))
    return found


def test_a_command_whose_name_is_no_wrapper_is_answered_as_peeling_would(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    every = _corpus_words()
    assert len(every) > 500
    short = [unwrap(words) for words in every]
    monkeypatch.setattr(wrappers, "_WRAPPER_NAMES", _EveryName())
    full = [unwrap(words) for words in every]
    assert short == full


@settings(max_examples=300, deadline=None)
@given(
    words=st.lists(
        st.one_of(
            st.sampled_from(
                [
                    "sudo",
                    "env",
                    "uv",
                    "run",
                    "conda",
                    "command",
                    "-v",
                    "python3",
                    "-m",
                    "pip",
                    "nice",
                    "-n",
                    "5",
                    "git",
                    "status",
                    "X=1",
                    "bundle",
                    "exec",
                    "ls",
                    "time",
                ]
            ),
            st.text(alphabet="abcuvrn-=./", max_size=6),
        ),
        max_size=6,
    )
)
def test_generated_words_are_unwrapped_alike_with_or_without_the_name_test(
    words: list[str],
) -> None:
    short = unwrap(words)
    saved = wrappers._WRAPPER_NAMES
    wrappers._WRAPPER_NAMES = _EveryName()  # type: ignore[assignment]
    try:
        full = unwrap(words)
    finally:
        wrappers._WRAPPER_NAMES = saved
    assert short == full


# -- shortcuts of the embedded-code finders and of program names -------------------------


def _git_corpus_args() -> list[list[str]]:
    return [words[1:] for words in _corpus_words() if words[:1] == ["git"]]


_GIT_WORDS = st.lists(
    st.one_of(
        st.sampled_from(
            [
                "-c",
                "core.pager=less",
                "alias.x=!rm -rf /",
                "--config-env=core.editor=ED",
                "--config-env",
                "-C",
                "dir",
                "status",
                "diff",
                "log",
                "rebase",
                "-x",
                "--exec",
                "--exec=make",
                "bisect",
                "run",
                "submodule",
                "foreach",
                "grep",
                "-Oless",
                "difftool",
                "mergetool",
                "--extcmd",
                "config",
                "core.pager",
                "--",
            ]
        ),
        st.text(alphabet="abcx-=./!", max_size=6),
    ),
    max_size=7,
)


def test_git_stops_looking_after_a_subcommand_that_runs_nothing_as_a_full_read_would(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    every = _git_corpus_args()
    assert len(every) > 50
    short = [embedded_commands("git", args) for args in every]
    monkeypatch.setattr(wrappers, "_GIT_RUNNING_SUBCOMMANDS", _EveryName())
    full = [embedded_commands("git", args) for args in every]
    assert short == full


@settings(max_examples=300, deadline=None)
@given(args=_GIT_WORDS)
def test_generated_git_words_give_the_same_code_with_or_without_the_early_stop(
    args: list[str],
) -> None:
    short = embedded_commands("git", args)
    saved = wrappers._GIT_RUNNING_SUBCOMMANDS
    wrappers._GIT_RUNNING_SUBCOMMANDS = _EveryName()  # type: ignore[assignment]
    try:
        full = embedded_commands("git", args)
    finally:
        wrappers._GIT_RUNNING_SUBCOMMANDS = saved
    assert short == full


def test_what_finds_nothing_is_a_fresh_empty_embedded() -> None:
    found = embedded_commands("git", ["status"])
    assert found == wrappers.Embedded()
    found.scripts.append(wrappers.Code(0, 1, "x"))  # each call has lists of its own
    assert embedded_commands("git", ["status"]) == wrappers.Embedded()


def test_npx_runs_the_code_of_its_options_but_no_exec_word() -> None:
    assert embedded_commands("npx", ["exec", "rm", "x"]).argvs == []
    assert embedded_commands("npm", ["exec", "rm", "x"]).argvs == [(1, 3)]
    assert [c.text for c in embedded_commands("pnpm", ["-c", "rm x"]).scripts] == ["rm x"]


@settings(max_examples=500, deadline=None)
@given(
    word=st.one_of(
        st.text(alphabet="abePYTHONpython0123456789./-_xE", max_size=14),
        st.text(max_size=8),
    )
)
def test_a_name_with_no_suffix_to_drop_is_answered_as_the_full_reading(word: str) -> None:
    short = program_name(word)
    saved = wrappers._SUFFIXED_END
    wrappers._SUFFIXED_END = _EveryName()  # type: ignore[assignment]
    try:
        full = program_name(word)
    finally:
        wrappers._SUFFIXED_END = saved
    assert short == full


def test_corpus_program_names_are_answered_as_the_full_reading(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    words = [word for every in _corpus_words() for word in every]
    short = [program_name(word) for word in words]
    monkeypatch.setattr(wrappers, "_SUFFIXED_END", _EveryName())
    assert short == [program_name(word) for word in words]
