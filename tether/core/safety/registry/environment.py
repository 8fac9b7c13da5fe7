"""The environment rule: which variables a command may set and still be allowed.

A variable set before a command (`X=1 cmd`, `env X=1 cmd`) or exported in the
line (`export X=1`, `declare -x X=1`) is judged:

- a short list of harmless ones (locale, time zone, colour and terminal, CI
  flags, backtrace and log levels) keeps an allowed command allowed; a pager
  is harmless only with a harmless value (`PAGER=cat`);
- search paths (`PYTHONPATH`, `NODE_PATH`...) are harmless when every entry
  stays inside the approved directories: the entries are named as paths, so
  the sandbox checks them;
- variables that make a program load code or configuration from elsewhere
  (`HOME`, `XDG_*`, `PATH`, `LD_*`, pagers and editors, tool config paths,
  toolchain and wrapper overrides, proxies and index URLs, Docker and
  Kubernetes contexts) are `env_change`, also when set by a builtin
  (`read PATH`, `printf -v LD_PRELOAD`, `declare -n ref=PATH`);
- any other variable is `unvetted`.

A shell variable that is not exported (`x=1`, `read -r line`, `local n=0`)
changes no program's environment, unless it is one of the loading ones
(they are usually exported already).
"""

from __future__ import annotations

from tether.core.safety.registry.lazy import LazyPattern

__all__ = [
    "ASSIGNING_PROGRAMS",
    "EXEC_VARIABLES",
    "HARMLESS_VALUES",
    "LOADS_CODE",
    "SEARCH_PATHS",
    "builtin_assignments",
    "imports_warning_category",
    "is_harmless",
]

EXEC_VARIABLES = frozenset(
    [
        "GIT_SSH_COMMAND",
        "GIT_SSH",
        "GIT_PAGER",
        "PAGER",
        "MANPAGER",
        "EDITOR",
        "VISUAL",
        "GIT_EDITOR",
        "GIT_SEQUENCE_EDITOR",
        "GIT_EXTERNAL_DIFF",
        "GIT_ASKPASS",
        "SSH_ASKPASS",
        "SUDO_ASKPASS",
        "BROWSER",
        "LESSOPEN",
        "LESSCLOSE",
        "PROMPT_COMMAND",
        "GIT_PROXY_COMMAND",
        "FCEDIT",
        "SYSTEMD_PAGER",
        "BAT_PAGER",
        "DELTA_PAGER",
        "AWS_PAGER",
        "PSQL_PAGER",
        "MYSQL_PAGER",
    ]
)
"""Variables whose value is a command some program will run (`GIT_PAGER="sh -c ..."`)."""

LOADS_CODE = LazyPattern(
    r"^(PATH|HOME|XDG_[A-Z_]+|LD_[A-Z_]+|DYLD_[A-Z_]+|BASH_ENV|ENV|BASH_FUNC_.*|PROMPT_COMMAND|"
    # Bash's command hash table and alias table (`BASH_CMDS[git]=/bin/rm` sends `git` to
    # any file), the paths `enable -f` searches, which programs a search skips, and the
    # compatibility level (it changes how later lines parse and expand).
    r"BASH_CMDS|BASH_ALIASES|BASH_LOADABLES_PATH|EXECIGNORE|BASH_COMPAT|"
    r"PS4|SHELLOPTS|BASHOPTS|IFS|CDPATH|GLOBIGNORE|GIT_[A-Z_]+|SSH_[A-Z_]+|SUDO_ASKPASS|"
    r"PAGER|MANPAGER|SYSTEMD_PAGER|BAT_PAGER|DELTA_PAGER|AWS_PAGER|EDITOR|VISUAL|FCEDIT|"
    r"BROWSER|NODE_OPTIONS|PYTHONSTARTUP|PYTHONHOME|PYTHONUSERBASE|PYTHONEXECUTABLE|"
    r"PYTHONBREAKPOINT|PYTHONINSPECT|PERL5OPT|PERL5DB|RUBYOPT|JAVA_TOOL_OPTIONS|_JAVA_OPTIONS|"
    r"JDK_JAVA_OPTIONS|MAVEN_OPTS|GRADLE_OPTS|LESSOPEN|LESSCLOSE|LESS|LESSKEY|LESSKEYIN|LESSEDIT|"
    r"MORE|MANOPT|ZDOTDIR|HISTFILE|NPM_CONFIG_[A-Z_]+|npm_config_[a-z_]+|YARN_[A-Z_]+|"
    r"PNPM_[A-Z_]+|BUN_[A-Z_]+|PIP_[A-Z_]+|UV_[A-Z_]+|POETRY_[A-Z_]+|CARGO_[A-Z_]+|RUSTUP_[A-Z_]+|"
    r"RUSTC_WRAPPER|RUSTC|RUSTDOC|RUSTFLAGS|GO[A-Z]+|CC|CXX|CPP|LD|AR|LDFLAGS|CFLAGS|CXXFLAGS|"
    r"CPPFLAGS|MAKEFLAGS|MFLAGS|MAKEFILES|GNUMAKEFLAGS|MAKELEVEL|SHELL|PYTEST_[A-Z_]+|"
    r"JEST_[A-Z_]+|VITEST_[A-Z_]+|TAR_OPTIONS|GZIP|GREP_OPTIONS|RIPGREP_CONFIG_PATH|"
    r"[A-Z_]*_CONFIG(_PATH|_FILE|_DIR|_HOME)?|[A-Z_]*CONFIG_(PATH|FILE|DIR|HOME)|[A-Z_]*RC|"
    r"[hH][tT][tT][pP][sS]?_[pP][rR][oO][xX][yY]|[aA][lL][lL]_[pP][rR][oO][xX][yY]|"
    r"[nN][oO]_[pP][rR][oO][xX][yY]|[A-Z_]*_INDEX(_URL)?|[A-Z_]*REGISTRY[A-Z_]*|"
    r"DOCKER_[A-Z_]+|KUBECONFIG|KUBECTL_[A-Z_]+|HELM_[A-Z_]+|CONTAINER_HOST|PODMAN_[A-Z_]+|"
    r"AWS_PROFILE|AWS_CONFIG_FILE|CLOUDSDK_[A-Z_]+|TF_CLI_[A-Z_]+|TF_PLUGIN_[A-Z_]+|"
    r"REQUESTS_CA_BUNDLE|SSL_CERT_[A-Z_]+|CURL_CA_BUNDLE|NODE_EXTRA_CA_CERTS|TMPDIR)$"
)
"""Variables that make a program load code, configuration or a runner from elsewhere."""

SEARCH_PATHS = frozenset(
    ["PYTHONPATH", "NODE_PATH", "PERL5LIB", "PERLLIB", "RUBYLIB", "CLASSPATH", "MYPYPATH"]
)
"""Search paths: harmless when every entry is inside the approved directories."""

_HARMLESS = frozenset(
    [
        "LANG",
        "LANGUAGE",
        "LC_ALL",
        "TZ",
        "TERM",
        "COLORTERM",
        "NO_COLOR",
        "FORCE_COLOR",
        "CLICOLOR",
        "CLICOLOR_FORCE",
        "COLUMNS",
        "LINES",
        "CI",
        "CONTINUOUS_INTEGRATION",
        "RUST_BACKTRACE",
        "RUST_LIB_BACKTRACE",
        "RUST_LOG",
        "RUST_LOG_STYLE",
        "RUST_TEST_THREADS",
        "PYTHONUNBUFFERED",
        "PYTHONDONTWRITEBYTECODE",
        "PYTHONIOENCODING",
        "PYTHONHASHSEED",
        "PYTHONWARNINGS",
        "PYTHONFAULTHANDLER",
        "PYTHONUTF8",
        "PYTHONDEVMODE",
        "PYTHONTRACEMALLOC",
        "PYTHONASYNCIODEBUG",
        "NODE_ENV",
        "DEBUG",
        "LOG_LEVEL",
        "LOGLEVEL",
        "VERBOSE",
        "GOTRACEBACK",
        "GOMAXPROCS",
        "TQDM_DISABLE",
        "PY_COLORS",
        "NODE_NO_WARNINGS",
        "HYPOTHESIS_PROFILE",
        "TESTING",
    ]
)
_HARMLESS_PREFIX = ("LC_",)

HARMLESS_VALUES: dict[str, frozenset[str]] = {
    name: frozenset({"", "cat"})
    for name in ("PAGER", "GIT_PAGER", "MANPAGER", "SYSTEMD_PAGER", "BAT_PAGER", "AWS_PAGER")
}
"""Variables that are harmless only with these values (`PAGER=cat git diff`)."""

_PLAIN_VALUE = LazyPattern(r"^[\w.,:+@%/ -]*$")


def imports_warning_category(value: str) -> bool:
    """Whether Python warning filters (`PYTHONWARNINGS`, `python -W`; each
    `action:message:category:module:lineno`, comma-separated) import a module.

    Python imports the module a dotted category names at start-up
    (`ignore::src.evil.W` runs src/evil.py); a name without a dot is a built-in class.
    """
    for spec in value.split(","):
        fields = spec.split(":")
        if len(fields) > 2 and "." in fields[2]:
            return True
    return False


def _builtin_warning_categories(value: str) -> bool:
    return not imports_warning_category(value)


def _no_file_named(value: str) -> bool:
    """`TZ`, `TERM`: a zone or terminal name, not a file of the caller's choice
    (`TZ=:/path`, `TERM=../x` name the file the library reads)."""
    return not value.lstrip(":").startswith("/") and ".." not in value


_VALUE_CHECKS = {
    "PYTHONWARNINGS": _builtin_warning_categories,
    "TZ": _no_file_named,
    "TERM": _no_file_named,
}
"""Harmless variables whose values could name code or a file: the values that do not."""


def is_harmless(name: str, value: str) -> bool:
    """Whether setting `name=value` for a command leaves what the command does unchanged."""
    allowed = HARMLESS_VALUES.get(name)
    if allowed is not None:
        return value.strip() in allowed
    if name in _HARMLESS or name.startswith(_HARMLESS_PREFIX):
        check = _VALUE_CHECKS.get(name)
        return bool(_PLAIN_VALUE.match(value)) and (check is None or check(value))
    return False


_DECLARERS = frozenset({"declare", "typeset", "local", "readonly", "export"})
_NAME = LazyPattern(r"^[A-Za-z_][A-Za-z0-9_]*")


_READ_VALUES = frozenset({"-a", "-d", "-i", "-n", "-N", "-p", "-t", "-u"})
_MAPFILE_VALUES = frozenset({"-d", "-n", "-O", "-s", "-u", "-C", "-c"})
_READERS = {
    "read": _READ_VALUES,
    "mapfile": _MAPFILE_VALUES,
    "readarray": _MAPFILE_VALUES,
    "getopts": frozenset[str](),
}


ASSIGNING_PROGRAMS: frozenset[str] = _DECLARERS | {"printf"} | frozenset(_READERS)
"""The builtins `builtin_assignments` reads: for any other program it finds no name."""


def builtin_assignments(program: str, args: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """Names a builtin assigns: (exported, shell only).

    `export X`, `declare -x X`: exported. `read X`, `printf -v X`, `mapfile X`,
    `declare -n ref=X` (a name reference: assigning `ref` assigns X), `local X`:
    shell variables.
    """
    exported: list[str] = []
    shell: list[str] = []
    if program in _DECLARERS:
        flags = "".join(a[1:] for a in args if a.startswith("-"))
        exports = program == "export" or "x" in flags
        for arg in args:
            if arg.startswith(("-", "+")):
                continue
            name, equals, value = arg.partition("=")
            match = _NAME.match(name)
            if not match:
                continue
            (exported if exports else shell).append(match.group(0))
            if "n" in flags and equals:
                target = _NAME.match(value)
                if target:
                    exported.append(target.group(0))  # the reference's target, exported or not
    elif program == "printf":
        for index, arg in enumerate(args[:-1]):
            if arg == "-v":
                shell.append(_variable(args[index + 1]))
        shell.extend(_variable(a[2:]) for a in args if a.startswith("-v") and len(a) > 2)
    elif program in _READERS:
        takes_value = _READERS[program]
        names: list[str] = []
        index = 0
        while index < len(args):
            arg = args[index]
            if arg.startswith("-") and len(arg) > 1:
                if arg == "-a" and index + 1 < len(args):
                    shell.append(_variable(args[index + 1]))  # `read -a NAME`: the array
                index += 2 if arg in takes_value else 1
                continue
            names.append(arg)
            index += 1
        if program == "getopts":
            names = names[1:2]
        shell.extend(_variable(n) for n in names if _NAME.match(n))
    return exported, shell


def _variable(word: str) -> str:
    """The variable a name operand assigns: `BASH_CMDS[ls]` and `PATH[0]` assign an
    element of BASH_CMDS and PATH itself (element 0 of a plain variable is the variable)."""
    name, bracket, _ = word.partition("[")
    return name if bracket and _NAME.fullmatch(name) else word
