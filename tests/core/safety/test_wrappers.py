"""Wrappers are peeled off, and commands that programs run by themselves are found."""

from __future__ import annotations

import pytest

from tether.core.safety.wrappers import embedded_commands, program_name, unwrap

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
