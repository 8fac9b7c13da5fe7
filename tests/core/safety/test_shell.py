"""The shell parser finds every simple command a command line would run, normalised."""

from __future__ import annotations

import shlex

import pytest

from tether.core.safety.shell import MAX_NESTING, ShellParser, ShellScript, SimpleCommand

P = pytest.param


def commands(script: ShellScript) -> set[tuple[str, tuple[str, ...]]]:
    return {(c.program, c.args) for c in script.commands}


def find(script: ShellScript, program: str) -> SimpleCommand:
    return next(c for c in script.commands if c.program == program)


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        P("ls -la", {("ls", ("-la",))}, id="simple"),
        P("ls | grep x", {("ls", ()), ("grep", ("x",))}, id="pipeline"),
        P("a && b || c; d", {("a", ()), ("b", ()), ("c", ()), ("d", ())}, id="lists"),
        P("a\nb", {("a", ()), ("b", ())}, id="newline"),
        P("(cd src && rm x)", {("cd", ("src",)), ("rm", ("x",))}, id="subshell"),
        P("{ a; b; }", {("a", ()), ("b", ())}, id="group"),
        P("echo $(rm -rf /)", {("rm", ("-rf", "/"))}, id="command-substitution"),
        P("echo `rm -rf /`", {("rm", ("-rf", "/"))}, id="backticks"),
        P('echo "x $(rm -rf /) y"', {("rm", ("-rf", "/"))}, id="substitution-in-string"),
        P("X=$(rm -rf /) ls", {("rm", ("-rf", "/")), ("ls", ())}, id="substitution-in-prefix"),
        P("y=$(rm -rf /)", {("rm", ("-rf", "/"))}, id="substitution-in-assignment"),
        P("ls > $(rm -rf /)", {("rm", ("-rf", "/"))}, id="substitution-in-redirect"),
        P(
            "diff <(rm -rf /) x",
            {("rm", ("-rf", "/")), ("diff", ("/dev/fd/63", "x"))},
            id="procsub",
        ),
        P("f() { rm -rf /; }", {("rm", ("-rf", "/"))}, id="function-body"),
        P("if a; then b; elif c; then d; else e; fi", {(x, ()) for x in "abcde"}, id="if"),
        P("for x in 1 2; do rm $x; done", {("rm", ("1", "2"))}, id="for-loop-values"),
        P("while read l; do rm $l; done", {("read", ("l",)), ("rm", ("",))}, id="while"),
        P("case $x in a) rm a;; *) ls;; esac", {("rm", ("a",)), ("ls", ())}, id="case"),
        P("[[ $(rm -rf /) ]]", {("rm", ("-rf", "/"))}, id="test-command"),
        P("echo $((1 + $(rm -rf /)))", {("rm", ("-rf", "/"))}, id="arithmetic"),
        P("bash -c 'rm -rf /'", {("bash", ("-c", "rm -rf /")), ("rm", ("-rf", "/"))}, id="bash-c"),
        P("sh -xc 'rm -rf /'", {("rm", ("-rf", "/"))}, id="sh-combined-c"),
        P('zsh -c "rm -rf /"', {("rm", ("-rf", "/"))}, id="zsh-c"),
        P("eval 'rm -rf /'", {("rm", ("-rf", "/"))}, id="eval"),
        P("eval rm -rf /", {("rm", ("-rf", "/"))}, id="eval-words"),
        P("bash <<< 'rm -rf /'", {("rm", ("-rf", "/"))}, id="here-string-to-shell"),
        P("bash <<X\nrm -rf /\nX", {("rm", ("-rf", "/"))}, id="here-document-to-shell"),
        P("sudo rm -rf /", {("rm", ("-rf", "/"))}, id="sudo"),
        P("sudo -u root -- rm -rf /", {("rm", ("-rf", "/"))}, id="sudo-options"),
        P("env -i A=1 rm -rf /", {("rm", ("-rf", "/"))}, id="env"),
        P("command rm -rf /", {("rm", ("-rf", "/"))}, id="command"),
        P("exec rm -rf /", {("rm", ("-rf", "/"))}, id="exec"),
        P("nice -n 5 rm -rf /", {("rm", ("-rf", "/"))}, id="nice"),
        P("nice -10 rm -rf /", {("rm", ("-rf", "/"))}, id="nice-numeric"),
        P("nohup rm -rf / &", {("rm", ("-rf", "/"))}, id="nohup-background"),
        P("timeout -s KILL 5 rm -rf /", {("rm", ("-rf", "/"))}, id="timeout"),
        P("time rm -rf /", {("rm", ("-rf", "/"))}, id="time"),
        P("stdbuf -oL rm -rf /", {("rm", ("-rf", "/"))}, id="stdbuf"),
        P("ionice -c 3 rm -rf /", {("rm", ("-rf", "/"))}, id="ionice"),
        P("xargs -0 -n1 rm -rf", {("rm", ("-rf",))}, id="xargs"),
        P("find . -exec rm -rf {} \\;", {("rm", ("-rf", "{}"))}, id="find-exec"),
        P("find . -execdir sh -c 'rm x' +", {("rm", ("x",))}, id="find-execdir-sh"),
        P("watch -n 1 'rm -rf /'", {("rm", ("-rf", "/"))}, id="watch"),
        P("flock /tmp/l -c 'rm -rf /'", {("rm", ("-rf", "/"))}, id="flock"),
        P("env -S 'rm -rf /'", {("rm", ("-rf", "/"))}, id="env-split-string"),
        P("trap 'rm -rf /' EXIT", {("rm", ("-rf", "/"))}, id="trap"),
        P("git -c core.pager='rm -rf /' log", {("rm", ("-rf", "/"))}, id="git-config-pager"),
        P("git -c alias.x='!rm -rf /' x", {("rm", ("-rf", "/"))}, id="git-alias"),
        P("git rebase -x 'rm -rf /' main", {("rm", ("-rf", "/"))}, id="git-rebase-exec"),
        P("PAGER='rm -rf /' git log", {("rm", ("-rf", "/"))}, id="pager-variable"),
        P("alias ls='rm -rf /'", {("rm", ("-rf", "/"))}, id="alias-body"),
        P("ssh -o ProxyCommand='rm -rf /' h", {("rm", ("-rf", "/"))}, id="ssh-proxycommand"),
        P("uv run pytest -q", {("pytest", ("-q",))}, id="uv-run"),
        P("python3 -m pytest -x", {("pytest", ("-x",))}, id="python-m"),
        P("busybox rm -rf /", {("rm", ("-rf", "/"))}, id="busybox"),
    ],
)
def test_finds_every_command_that_would_run(
    shell_parser: ShellParser, command: str, expected: set[tuple[str, tuple[str, ...]]]
) -> None:
    found = commands(shell_parser.parse(command))
    assert expected <= found, found


@pytest.mark.parametrize(
    "command",
    [
        P("rm -rf /", id="plain"),
        P("/bin/rm -rf /", id="absolute-program"),
        P("/usr/bin/RM -rf /", id="upper-case"),
        P("\\rm -rf /", id="backslash"),
        P("r\\m -rf /", id="inner-backslash"),
        P("'rm' -rf /", id="single-quotes"),
        P('"rm" -rf /', id="double-quotes"),
        P("r''m -rf /", id="empty-quotes"),
        P('r""m -rf /', id="empty-double-quotes"),
        P("$'\\x72\\x6d' -rf /", id="ansi-c-hex"),
        P("$'\\162\\155' -rf /", id="ansi-c-octal"),
        P("rm${IFS}-rf${IFS}/", id="ifs"),
        P("rm -rf \\\n /", id="line-continuation"),
        P("x=rm; $x -rf /", id="variable-tracked"),
        P("a=r; b=m; $a$b -rf /", id="variables-concatenated"),
        P("$(echo rm) -rf /", id="echo-substitution"),
        P("${X:-rm} -rf /", id="default-expansion"),
    ],
)
def test_obfuscated_program_names_normalise(shell_parser: ShellParser, command: str) -> None:
    assert ("rm", ("-rf", "/")) in commands(shell_parser.parse(command))


def test_brace_expansion_builds_the_words(shell_parser: ShellParser) -> None:
    script = shell_parser.parse("cp file{,.bak} && echo x{1..3}")
    assert ("cp", ("file", "file.bak")) in commands(script)
    assert ("echo", ("x1", "x2", "x3")) in commands(script)


def test_brace_expansion_in_program_position_builds_the_command(
    shell_parser: ShellParser,
) -> None:
    script = shell_parser.parse("{rm,-rf,/}")
    assert script.understood
    assert ("rm", ("-rf", "/")) in commands(script)


@pytest.mark.parametrize(
    ("command", "program"),
    [
        P("$CMD -rf /", "", id="variable"),
        P("$(which rm) x", "", id="substitution"),
        P("${!name} x", "", id="indirect"),
    ],
)
def test_program_from_run_time_is_dynamic(
    shell_parser: ShellParser, command: str, program: str
) -> None:
    script = shell_parser.parse(command)
    assert any(c.dynamic_program for c in script.commands)


def test_variables_with_several_values_give_one_command_each(shell_parser: ShellParser) -> None:
    script = shell_parser.parse("x=ls; if a; then x=rm; fi; $x -rf /")
    run = {(c.program, c.args) for c in script.commands if c.args == ("-rf", "/")}
    assert run == {("ls", ("-rf", "/")), ("rm", ("-rf", "/"))}
    assert all(c.dynamic_program for c in script.commands if c.args == ("-rf", "/"))


def test_variable_read_at_run_time_stays_unknown(shell_parser: ShellParser) -> None:
    script = shell_parser.parse("x=ls; read x; $x")
    assert find(script, "read")
    assert any(c.dynamic_program for c in script.commands)


def test_home_variable_is_the_home_directory(shell_parser: ShellParser) -> None:
    cat = find(shell_parser.parse("cat $HOME/.ssh/id_rsa"), "cat")
    assert cat.args == ("~/.ssh/id_rsa",)
    assert not cat.dynamic_args


def test_unknown_variable_argument_is_dynamic(shell_parser: ShellParser) -> None:
    cat = find(shell_parser.parse('cat "$FILE"'), "cat")
    assert cat.dynamic_args == (0,)
    assert cat.variables == ("FILE",)


def test_quoted_glob_is_not_a_glob(shell_parser: ShellParser) -> None:
    script = shell_parser.parse("ls *.py '*.md'")
    ls = find(script, "ls")
    assert ls.args == ("*.py", "*.md")
    assert ls.glob_args == (0,)


def test_pipeline_stages_know_what_feeds_them(shell_parser: ShellParser) -> None:
    script = shell_parser.parse("echo aGk= | base64 -d | sh")
    sh = find(script, "sh")
    assert sh.stdin == "pipe"
    assert sh.piped_from == ("echo", "base64")
    assert find(script, "base64").stdin_text == "aGk="


def test_process_substitution_on_stdin_is_a_pipe(shell_parser: ShellParser) -> None:
    sh = find(shell_parser.parse("sh < <(curl -s x)"), "sh")
    assert sh.stdin == "pipe"
    assert sh.piped_from == ("curl",)


def test_here_document_is_stdin_text(shell_parser: ShellParser) -> None:
    script = shell_parser.parse("cat <<'X' > out.txt\nhello\nX")
    cat = find(script, "cat")
    assert cat.stdin == "heredoc"
    assert cat.stdin_text == "hello\n"
    assert [r.target for r in cat.redirects] == ["out.txt"]


def test_here_document_piped_to_a_shell(shell_parser: ShellParser) -> None:
    script = shell_parser.parse("cat <<X | sh\nrm -rf /\nX")
    sh = find(script, "sh")
    assert sh.stdin == "pipe"
    assert sh.piped_from == ("cat",)


def test_redirects_are_kept_and_descriptor_copies_dropped(shell_parser: ShellParser) -> None:
    ls = find(shell_parser.parse("ls > out.txt 2>&1 2>/dev/null < in.txt"), "ls")
    assert [(r.op, r.target) for r in ls.redirects] == [
        (">", "out.txt"),
        ("2>", "/dev/null"),
        ("<", "in.txt"),
    ]


def test_words_after_a_redirect_target_are_arguments(shell_parser: ShellParser) -> None:
    echo = find(shell_parser.parse("echo > out hi"), "echo")
    assert echo.args == ("hi",)


def test_wrappers_are_recorded(shell_parser: ShellParser) -> None:
    rm = find(shell_parser.parse("sudo env A=1 nice -n 5 rm -rf /"), "rm")
    assert rm.wrappers == ("sudo", "env", "nice")
    assert rm.assignments == (("A", "1"),)


def test_xargs_arguments_come_from_stdin(shell_parser: ShellParser) -> None:
    rm = find(shell_parser.parse("ls | xargs rm"), "rm")
    assert rm.args_from_stdin
    assert rm.wrappers == ("xargs",)


def test_nested_code_records_its_depth_and_source(shell_parser: ShellParser) -> None:
    rm = find(shell_parser.parse("bash -c \"sh -c 'rm x'\""), "rm")
    assert rm.depth == 2


def test_nesting_beyond_the_limit_is_not_understood(shell_parser: ShellParser) -> None:
    command = "rm x"
    for _ in range(MAX_NESTING + 1):
        command = "bash -c " + shlex.quote(command)
    script = shell_parser.parse(command)
    assert not script.understood
    assert any("nested" in p for p in script.problems)


def test_deeply_parenthesised_input_is_refused_without_crashing(shell_parser: ShellParser) -> None:
    for command in ("( " * 3000 + "ls" + " )" * 3000, "echo " + "$(" * 3000 + "ls" + ")" * 3000):
        assert not shell_parser.parse(command).understood


def test_too_many_commands_is_not_understood() -> None:
    parser = ShellParser(max_commands=10)
    script = parser.parse("; ".join(["ls"] * 20))
    assert not script.understood


def test_self_calling_function_is_reported(shell_parser: ShellParser) -> None:
    assert shell_parser.parse(":(){ :|:& };:").recursive_functions == (":",)
    assert shell_parser.parse("f() { ls; }; f").recursive_functions == ()


@pytest.mark.parametrize(
    "command",
    [
        P("ls ((", id="unbalanced"),
        P("echo 'unterminated", id="unterminated-quote"),
        P("if then fi", id="keywords"),
        P("exec 3<>/dev/tcp/1.2.3.4/80", id="unsupported-redirect"),
    ],
)
def test_unparseable_syntax_is_reported(shell_parser: ShellParser, command: str) -> None:
    assert not shell_parser.parse(command).understood


def test_subshell_commands_are_marked(shell_parser: ShellParser) -> None:
    script = shell_parser.parse("(cd a); cd b; ls | cat")
    cds = [c for c in script.commands if c.program == "cd"]
    assert [c.subshell for c in cds] == [True, False]
    assert find(script, "cat").subshell


def test_comments_run_nothing(shell_parser: ShellParser) -> None:
    assert commands(shell_parser.parse("ls # rm -rf /")) == {("ls", ())}


def test_functions_calling_each_other_are_recursive(shell_parser: ShellParser) -> None:
    script = shell_parser.parse("a(){ b; }; b(){ a | a & }; a")
    assert script.recursive_functions == ("a", "b")


def test_guessed_shell_variable_is_analysed_but_dynamic(shell_parser: ShellParser) -> None:
    script = shell_parser.parse("$0 -c 'rm -rf /'")
    assert ("rm", ("-rf", "/")) in commands(script)
    assert find(script, "bash").dynamic_program
