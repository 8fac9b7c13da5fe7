"""Detectors of the programs that run code: shells, interpreters, `eval`, `source`, builds.

What they do depends on code in another language, which data cannot say:

- `interpreter`: where an interpreter's code comes from (`python -c`, `node -e`,
  a script file, stdin, a here-document) and what inline code does;
- `shell`: the same for the shells (`bash -c`, `sh script`, `sh -s`, stdin);
- `eval`, `source`: shell code run in this shell;
- `runtime`: bun and deno, which are also interpreters (`bun x.ts`, `deno eval`);
- `pytest_basetemp`: `--basetemp=DIR` empties DIR;
- `make_overrides`: `make test SHELL=/tmp/x` and overrides that expand into recipes.

Inline code is read by `code_facts` for strong signals: decode-then-execute, a
socket joined to a shell in every language the registry knows (including zsh's
`ztcp` and awk's `/inet/` files), code fetched with a language's network module
and run (`exec(urlopen(URL).read())`), the whole environment, secret variables,
`rmtree('/')`; the shell strings it hands to `os.system` and friends are passed
back for a full shell analysis.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from typing import TYPE_CHECKING

from tether.core.safety.options import OptionSpec, parse_args
from tether.core.safety.programs.base import broad_target, is_secret_name, names
from tether.core.safety.registry.languages import SHELLS
from tether.core.safety.registry.network import NETWORK_PROGRAMS
from tether.core.safety.registry.shell_options import set_option_problem, shopt_problem

if TYPE_CHECKING:
    from tether.core.safety.programs.base import Findings

__all__ = ["DECODERS", "DETECTORS", "code_facts"]

Detector = Callable[["Findings"], None]

DECODERS = names(
    "base64 base32 base58 basenc xxd uudecode openssl gpg gunzip gzip zcat bunzip2 bzip2 xz "
    "unxz zstd rev tr od printf perl python python3 awk sed"
)
"""Programs that can turn an innocent-looking string into code."""

_DECODE = re.compile(
    r"b64decode|base64|atob\s*\(|fromhex|unhexlify|decode\(\s*['\"](hex|rot13|base64)|"
    r"(\\x[0-9a-f]{2}){3}|chr\(\s*\d+\s*\)\s*\+\s*chr|zlib\.decompress|marshal\.loads|"
    r"Buffer\.from\([^)]*(base64|hex)|pack\(\s*['\"]H|FromBase64String",
    re.IGNORECASE,
)
_EXECUTE = re.compile(
    r"\bexec\s*\(|\beval\s*\(|os\.system|os\.popen|subprocess|child_process|execSync|spawn|"
    r"\bsystem\s*\(|popen|`|\bpty\b|Runtime\.getRuntime|Invoke-Expression|\biex\b|compile\(",
    re.IGNORECASE,
)
_SOCKET = re.compile(
    r"socket|net\.connect|TCPSocket|fsockopen|New-Object\s+Net|IO::Socket|ztcp|zsh/net/|"
    r"/inet6?/(tcp|udp)/|/dev/(tcp|udp)/|Net::Telnet|TCPServer|TCPClient|ncat|netcat|"
    r"java\.net|Net\.Sockets|gen_tcp|\bconnect\(\s*(ip|[\"'][\d.]+[\"'])|Deno\.connect|"
    r"Bun\.connect|tls\.connect|websocket",
    re.IGNORECASE,
)
_SHELL_SPAWN = re.compile(
    r"dup2|pty\.spawn|/bin/(ba|z|da)?sh\b|cmd\.exe|subprocess|child_process|exec\s*\(|spawn|"
    r"popen|proc_open|Process\.Start|os\.execute|io\.popen|\bsystem\b|fdopen|\bexec\b|"
    r"\bsh\s+-i\b|>&\s*\$REPLY|\bzsh\b\s*>&|ProcessBuilder|Runtime\.getRuntime|\biex\b|"
    r"Invoke-Expression|Start-Process|\.execute\(\s*\)|\brun\(\s*`|exec\.Command|"
    r"Deno\.Command|Bun\.spawn|Command::new",
    re.IGNORECASE,
)
# A language's network modules fetching something, and the ways it runs text as code:
# together they are code downloaded and run (`exec(urlopen(URL).read())`).
_FETCH = re.compile(
    r"urlopen|urllib|\brequests\.(get|post|request)|\bhttpx\.|https?\.(get|request)\(|"
    r"require\(\s*[\"']https?[\"']\s*\)|\bget\(\s*[\"']https?:|"
    r"\bfetch\s*\(|open-uri|URI\.open|Net::HTTP|LWP|HTTP::Tiny|file_get_contents\(\s*[\"']https?:|"
    r"curl_exec|DownloadString|DownloadFile|Invoke-WebRequest|Invoke-RestMethod|\biwr\b|\birm\b|"
    r"WebClient|socket\.http|http\.request|HTTParty|\baxios\b|\bgot\(",
    re.IGNORECASE,
)
_RUN_TEXT = re.compile(
    r"\bexec\s*\(|\beval\b|\biex\b|Invoke-Expression|(?<![.\w])load(string)?\s*\(|\bFunction\s*\(|"
    r"\bcompile\s*\(|instance_eval|class_eval|\brunpy\b|\bvm\.run",
    re.IGNORECASE,
)
_WHOLE_ENV = re.compile(
    r"os\.environ(?!\s*[\[.]\s*(get\s*\()?\s*['\"][A-Za-z_])|process\.env(?![.\[])|ENV\.to_h|"
    r"%ENV\b(?!\s*\{)|getenv\(\s*\)|System\.getenv\(\s*\)|Get-ChildItem\s+env:|"
    r"(?<![\w$%@])ENV\b(?!\s*(\[|\{|\.fetch\b|\.key\?|\.has_key\?))|\$_(ENV|SERVER)\b(?!\s*\[)|"
    r"\bprocess\.env\s*\)|Deno\.env\.toObject"
)
# Perl, Ruby and PHP run backquoted strings, `qx{...}` and `%x(...)` in a shell.
_BACKQUOTED = re.compile(
    r"`(?P<a>[^`]+)`|(?:\bqx|%x)\s*(?:\{(?P<b>.+?)\}|\((?P<c>.+?)\)|\[(?P<d>.+?)\]|<(?P<e>.+?)>|"
    r"(?P<q>[^\w\s{(\[<])(?P<f>.+?)(?P=q))",
    re.DOTALL,
)
_DESTROY = re.compile(
    r"rmtree\(\s*(['\"](/|~|\.|\.\.)/?['\"]|os\.path\.expanduser|Path\.home|os\.environ)|"
    r"rmSync\(\s*['\"](/|~)|rm_rf\(\s*['\"](/|~)|remove_dir_all\(\s*['\"]/"
)
_SHELL_STRING = re.compile(
    r"(?:os\.system|os\.popen|subprocess\.\w+|execSync|exec|system|spawnSync|popen|shell_exec|"
    r"passthru)\s*\(\s*\[?\s*[rfbu]?(['\"])(.+?)(?<!\\)\1",
    re.DOTALL,
)
_ENV_READ = re.compile(r"environ|getenv|ENV\[|process\.env")
_ARGV_LIST = re.compile(
    r"(?:subprocess\.\w+|Popen|call|run|check_output|execv\w*|spawn\w*|execFile\w*)\s*\(\s*"
    r"\[([^\]]{1,400})\]"
)
_FORK_LOOP = re.compile(
    r"(while\s*\(?\s*(1|true|True)\s*\)?|for\s*\(\s*;\s*;\s*\)|iter\(\s*int\s*,\s*1\s*\)|"
    r"loop\s*\{|\bdo\b)[^\n]{0,60}\bfork\b|\bfork\b[^\n]{0,30}\b(while|until)\b",
    re.IGNORECASE,
)
_CREDENTIAL_LITERAL = re.compile(
    r"['\"]([^'\"\s]*(?:\.env(?:\.[\w.-]+)?|id_(?:rsa|dsa|ecdsa|ed25519)|\.pem|\.key|\.netrc|"
    r"\.npmrc|\.pypirc|\.git-credentials|credentials(?:\.\w+)?|secrets?\.(?:json|ya?ml|toml)))['\"]"
)
# String literals that are file system paths: under a system directory, or in the home.
_PATH_LITERAL = re.compile(
    r"['\"]((?:/(?:etc|root|home|Users|var|usr|proc|sys|dev|boot|opt|private|tmp|srv|mnt|bin|"
    r"sbin|lib|lib64|System|Library|Volumes)(?:/[^'\"\s]*)?)|~/[^'\"\s]*)['\"]"
)
_QUOTED_NAME = re.compile(r"['\"]([A-Za-z_][A-Za-z0-9_]*)['\"]")
# `process.env.TOKEN`, `Deno.env.get(...)`, `$ENV{TOKEN}`, `$env:TOKEN`: names without quotes.
_ENV_ATTRIBUTE = re.compile(r"(?:\benv\.|\$ENV\{\s*|\$env:)([A-Za-z_][A-Za-z0-9_]*)", re.IGNORECASE)


def code_facts(f: Findings, code: str, *, origin: str) -> None:
    """Facts about inline code in another language; shell strings it runs go to `f`."""
    if _DECODE.search(code) and _EXECUTE.search(code):
        f.fact("decode_execute", f"{origin} decodes and runs hidden code")
    if _SOCKET.search(code) and _SHELL_SPAWN.search(code):
        f.fact("reverse_shell", f"{origin} connects a socket to a process")
    if _FETCH.search(code) and _RUN_TEXT.search(code):
        f.fact("pipe_to_shell", f"{origin} runs code it downloads")
    if _WHOLE_ENV.search(code):
        f.fact("env_dump", f"{origin} reads the whole environment")
    if _DESTROY.search(code):
        f.fact("destructive_delete", f"{origin} deletes a whole tree")
    quoted = _QUOTED_NAME.findall(code) if _ENV_READ.search(code) else []
    if quoted or "env" in code.lower():
        for name in (*quoted, *_ENV_ATTRIBUTE.findall(code)):
            if is_secret_name(name):
                f.fact("secrets_read", f"{origin} reads ${name}")
                break
    f.shell_strings.extend(match.group(2) for match in _SHELL_STRING.finditer(code))
    if f.command.program in _BACKQUOTING:
        for match in _BACKQUOTED.finditer(code):
            groups = (match.group(g) for g in "abcdef")
            f.shell_strings.append(next((g for g in groups if g), ""))
    for match in _ARGV_LIST.finditer(code):
        words = re.findall(r"['\"]([^'\"]*)['\"]", match.group(1))
        if words:
            f.shell_strings.append(" ".join(shlex.quote(w) for w in words))
    if _FORK_LOOP.search(code):
        f.fact("fork_bomb", f"{origin} forks in an endless loop")
    for match in _CREDENTIAL_LITERAL.finditer(code):
        f.text_path(match.group(1), "arg")
    for match in _PATH_LITERAL.finditer(code):
        f.text_path(match.group(1), "arg")


_INLINE: dict[str, frozenset[str]] = {
    **dict.fromkeys(("python", "python2", "python3", "pypy", "pypy3"), names("-c")),
    **dict.fromkeys(("node", "nodejs", "ts-node", "tsx"), names("-e --eval -p --print")),
    **dict.fromkeys(("bun",), names("-e --eval -p --print")),
    **dict.fromkeys(("perl",), names("-e -E")),
    **dict.fromkeys(("ruby", "groovy", "scala", "kotlin", "lua", "luajit"), names("-e")),
    **dict.fromkeys(("rscript", "osascript"), names("-e")),
    **dict.fromkeys(("julia",), names("-e --eval -E --print")),
    **dict.fromkeys(("php",), names("-r")),
    **dict.fromkeys(("expect",), names("-c")),
    **dict.fromkeys(
        ("pwsh", "powershell"),
        names("-c -command -Command -encodedcommand -EncodedCommand -e -ec -enc"),
    ),
}
_BACKQUOTING = names("perl ruby php irb")
_ENCODED = names("-encodedcommand -EncodedCommand -e -ec -enc")
_VALUE_OPTIONS = names("-W -X -r --require --import --loader -I -M -x -O --inspect-port")
_VERSION_FLAGS = names("--version -V -v -version --help -h -help")
_PYTHONS = names("python python2 python3 pypy pypy3")
# `python -v` and `bash -v` are verbose, not version: they run code from stdin.
_PYTHON_VERSION_FLAGS = names("--version -V -VV --help -h -?")
_SHELL_VERSION_FLAGS = names("--version --help")
# `tclsh -v`: tclsh has no options, so it reads its code from stdin with `-v` as an argument.
_NO_VERSION_FLAGS = names("tclsh wish osascript")


def _interpreter(f: Findings) -> None:
    c = f.command
    inline = _INLINE.get(c.program, frozenset())
    args = c.args
    index = 0
    code: str | None = None
    code_dynamic = False
    while index < len(args):
        arg = args[index]
        name, equals, value = arg.partition("=")
        if arg in inline or (equals and name in inline):
            code = value if equals else (args[index + 1] if index + 1 < len(args) else "")
            code_dynamic = index + (0 if equals else 1) in c.dynamic_args
            if c.program in {"pwsh", "powershell"} and name in _ENCODED:
                f.fact("decode_execute", f"{c.program} runs an encoded command")
            break
        if c.program in {"perl", "ruby"} and re.match(r"^-[a-zA-Z]*[eE]$", arg):
            if "i" in arg:
                f.fact("file_write")
            code = args[index + 1] if index + 1 < len(args) else ""
            code_dynamic = index + 1 in c.dynamic_args
            break
        if c.program in _PYTHONS and arg.startswith("-c") and len(arg) > 2:
            code = arg[2:]
            code_dynamic = index in c.dynamic_args
            break
        if arg == "-":
            f.handled_paths = True
            _stdin_code(f, explicit=True)
            return
        if arg.startswith("-"):
            if c.program in {"perl", "ruby"} and re.match(r"^-[a-zA-Z]*i", arg):
                f.fact("file_write")
            index += 2 if arg in _VALUE_OPTIONS else 1
            continue
        _script(f, index)
        return
    f.handled_paths = True
    if code is not None:
        f.fact("inline_code", f"{c.program} runs inline code")
        if code_dynamic:
            _dynamic_code(f)
        code_facts(f, code, origin=c.program)
        return
    version_flags = _PYTHON_VERSION_FLAGS if c.program in _PYTHONS else _VERSION_FLAGS
    if c.program in _NO_VERSION_FLAGS:
        version_flags = frozenset()
    if args and all(a in version_flags for a in args):
        return
    _stdin_code(f, explicit=False)


def _script(f: Findings, index: int) -> None:
    """The program runs the script file at argument `index`."""
    c = f.command
    f.handled_paths = True
    if index in c.procsub_args:
        f.fact("pipe_to_shell", f"{c.program} runs code from a process substitution")
    elif index in c.dynamic_args:
        _dynamic_code(f)
    else:
        f.arg(index, "exec")
        f.fact("run_script", f"{c.program} runs {c.args[index]}")
    for position in range(index + 1, len(c.args)):
        if not c.args[position].startswith("-"):
            f.arg(position, "arg")


def _stdin_code(f: Findings, *, explicit: bool) -> None:
    """A shell or interpreter reading its code from stdin."""
    c = f.command
    if c.stdin == "pipe":
        if set(c.piped_from) & DECODERS:
            f.fact("decode_execute", f"{c.program} runs decoded input ({' | '.join(c.piped_from)})")
        f.fact("pipe_to_shell", f"{' | '.join((*c.piped_from, c.program))} (runs piped code)")
    elif c.stdin in {"heredoc", "herestring"}:
        if set(c.piped_from) & DECODERS:
            f.fact("decode_execute", f"{c.program} runs decoded input ({' '.join(c.piped_from)})")
        if set(c.piped_from) & NETWORK_PROGRAMS:
            f.fact("pipe_to_shell", f"{c.program} runs downloaded input")
        f.fact("inline_code", f"{c.program} runs code from a here-document")
        if c.stdin_text is not None and c.program not in SHELLS:
            code_facts(f, c.stdin_text, origin=c.program)
    elif c.stdin == "file":
        f.fact("run_script", f"{c.program} runs code from a file")
    elif explicit or c.program in SHELLS:
        f.fact("run_script", f"{c.program} starts an interactive interpreter")
    else:
        f.fact("inline_code", f"{c.program} starts an interpreter")


def _dynamic_code(f: Findings) -> None:
    c = f.command
    sources = set(c.substituted)
    if sources & DECODERS:
        f.fact("decode_execute", f"{c.text} runs code produced by {', '.join(sorted(sources))}")
    if sources & NETWORK_PROGRAMS:
        f.fact("pipe_to_shell", f"{c.text} runs downloaded code")
    f.fact("dynamic_command", f"{c.text} runs code only known at run time")


def _shell(f: Findings) -> None:
    c = f.command
    args = c.args
    index = 0
    takes_command = False
    reads_stdin = False
    problem: str | None = None
    while index < len(args):
        arg = args[index]
        if arg == "--":
            index += 1
            break
        if arg.startswith("--"):
            index += 2 if arg in {"--rcfile", "--init-file"} else 1
            continue
        if arg.startswith(("-", "+")) and len(arg) > 1:
            takes_command = takes_command or "c" in arg[1:]
            reads_stdin = reads_stdin or "s" in arg[1:]
            if arg[1:].endswith(("o", "O")):
                if index + 1 < len(args) and problem is None:
                    problem = _shell_option_problem(arg, args[index + 1])
                index += 2
            else:
                if arg[0] == "-" and "H" in arg and problem is None:
                    problem = "-H turns on history expansion: `!` words rewrite its lines"
                index += 1
            continue
        break
    f.handled_paths = True
    if problem is not None:
        # `bash -O dotglob -c 'cat *'`: the string's globs are not what the analyser
        # expands, whether or not the string is walked as the shell's own code.
        f.fact("shell_state", f"{c.text} ({problem})")
        f.fact("not_understood", f"{c.text} ({problem})")  # asks in every preset
    if takes_command and c.code_walked:
        return  # a wrapper of its -c string, whose commands are judged on their own
    if takes_command:
        f.fact("inline_code", f"{c.program} -c runs shell code")
        if c.dynamic_code:
            _dynamic_code(f)
        # `... | xargs sh -c` (or `xargs -I{} sh -c '{}'`): the code is what stdin carries.
        if c.args_from_stdin and (index >= len(args) or args[index] in {"{}", "%", "_"}):
            _stdin_code(f, explicit=True)
    elif reads_stdin and not (c.args_from_stdin and c.stdin_text is not None):
        _stdin_code(f, explicit=True)
    elif index < len(args) and args[index] != "-":
        _script(f, index)
    elif not (args and all(a in _SHELL_VERSION_FLAGS for a in args)):
        _stdin_code(f, explicit=index < len(args))


def _shell_option_problem(flag: str, name: str) -> str | None:
    """`bash -o NAME` / `+o NAME` is `set`'s option, `-O NAME` / `+O NAME` `shopt`'s."""
    on = flag[0] == "-"
    if flag[-1] == "o":
        return set_option_problem(name, on)
    return shopt_problem(name, on)


def _eval(f: Findings) -> None:
    f.handled_paths = True
    f.fact("inline_code", "eval runs a string as shell code")
    if f.command.dynamic_code:
        _dynamic_code(f)


def _source(f: Findings) -> None:
    c = f.command
    f.handled_paths = True
    if not c.args:
        return
    if 0 in c.procsub_args or c.args[0] in {"/dev/stdin", "/dev/fd/0", "-"}:
        f.fact("pipe_to_shell", f"{c.program} runs code from a substitution or stdin")
    elif 0 in c.dynamic_args:
        _dynamic_code(f)
    else:
        f.arg(0, "exec")
        f.fact("run_script", f"{c.text} runs a script in this shell")


_RUNTIME_INSTALLS = names("install i add a remove rm uninstall update link publish create x")
_RUNTIME_SUBCOMMANDS = names(
    "run test x repl fmt lint check build bench task upgrade compile serve doc info outdated pm "
    "init create"
)


def _runtime(f: Findings) -> None:
    """bun and deno are package managers, task runners and interpreters in one."""
    operands = [a for a in f.command.args if not a.startswith("-")]
    sub = operands[0] if operands else ""
    if sub in _RUNTIME_INSTALLS:
        f.handled_paths = True  # the spec's subcommand carries package_install
    elif sub == "eval":
        f.handled_paths = True
        f.fact("inline_code", f"{f.command.program} eval runs inline code")
        code_facts(f, " ".join(operands[1:]), origin=f.command.program)
    elif sub in _RUNTIME_SUBCOMMANDS:
        f.subcommand = tuple(operands[:2])
        f.handled_paths = True
    else:
        _interpreter(f)


def _pytest(f: Findings) -> None:
    """`pytest --basetemp=DIR` empties DIR before the run (its other paths: the generic check)."""
    args = f.command.args
    if "--basetemp" not in " ".join(args):
        return  # one C search: a word named `--basetemp` holds that text, so none is here
    for index, arg in enumerate(args):
        name, equals, value = arg.partition("=")
        if name != "--basetemp":
            continue
        dynamic = index in f.command.dynamic_args
        if not equals:
            value = args[index + 1] if index + 1 < len(args) else ""
            dynamic = index + 1 in f.command.dynamic_args
        f.text_path(value, "delete", dynamic=dynamic)
        broad = broad_target(value, dynamic, glob=False)
        f.fact(
            "destructive_delete" if broad else "recursive_delete",
            f"{f.command.text} (pytest deletes what is in {value or 'the base directory'})",
        )


_MAKE_OPTIONS = OptionSpec(
    short_values=frozenset("CfIjlWo"),
    long_values=frozenset(
        {"--directory", "--file", "--makefile", "--include-dir", "--jobs", "--load-average"}
    ),
)


def _make(f: Findings) -> None:
    parsed = parse_args(f.command.args, _MAKE_OPTIONS)
    f.option_path(parsed, ("-C", "--directory"), "cd")
    f.option_path(parsed, ("-f", "--file", "--makefile"), "exec")
    f.subcommand = tuple(t for _, t in parsed.operands if "=" not in t)[:3]
    f.handled_paths = True
    for _, text in parsed.operands:
        name, equals, value = text.partition("=")
        if equals and name.strip() in _MAKE_SHELL_VARIABLES:
            # `make test SHELL=/tmp/x`: every recipe line runs through that program.
            f.fact("code_execution", f"{f.command.text} (recipes run with {name}={value})")
            f.text_path(value.split()[0] if value.split() else value, "exec")
        elif equals and not _MAKE_PLAIN_VALUE.match(value):
            # `make test PYTHON='sh -c id'`: recipes expand the override into commands.
            f.fact("code_execution", f"{f.command.text} (recipes may run {name}={value})")


_MAKE_SHELL_VARIABLES = names("SHELL MAKESHELL .SHELLFLAGS MAKEFLAGS MAKE")
# Overrides that cannot name a program: numbers and switches (`V=1`, `VERBOSE=true`).
_MAKE_PLAIN_VALUE = re.compile(r"^([0-9]*|true|false|yes|no|on|off|y|n)$", re.IGNORECASE)


DETECTORS: dict[str, Detector] = {
    "interpreter": _interpreter,
    "shell": _shell,
    "eval": _eval,
    "source": _source,
    "runtime": _runtime,
    "pytest_basetemp": _pytest,
    "make_overrides": _make,
}
"""Detector name -> detector, for the specs that run code (`registry/interpreters.py`)."""
