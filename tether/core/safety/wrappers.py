"""What a command line really runs: wrappers peeled off, embedded commands found.

`sudo env FOO=1 nice -n 5 rm -rf /` runs `rm`; `find . -exec rm {} ;` runs
`rm` too, and `bash -c 'rm -rf /'` runs a whole script. These functions work on
the words of one simple command (quotes already removed) and answer with word
indexes, so the caller keeps what it knows about each word (dynamic, glob).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from tether.core.safety.options import Option, OptionSpec, ParsedArgs, parse_args
from tether.core.safety.registry import commands_given_as_words
from tether.core.safety.registry.environment import EXEC_VARIABLES, imports_warning_category
from tether.core.safety.registry.git import COMMAND_KEYS
from tether.core.safety.registry.languages import INTERPRETERS, SHELLS

__all__ = [
    "EMBEDDING_PROGRAMS",
    "EXEC_VARIABLES",
    "INTERPRETERS",
    "NOT_WRAPPED",
    "SHELLS",
    "Code",
    "Embedded",
    "Unwrapped",
    "embedded_commands",
    "program_name",
    "unwrap",
]


def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


_VERSIONED = re.compile(r"^(python|pypy|perl|ruby|php|lua|node)[0-9][0-9.]*$")


def program_name(word: str) -> str:
    """The name a program is known by: basename, lower case, version suffix dropped.

    Lower case because macOS file systems are case-insensitive (`RM` runs rm);
    `python3.12` is `python3`, `perl5.36` is `perl`.
    """
    if "/" in word:
        word = word.rpartition("/")[2]
    name = word.lower()
    if name[-1:] not in _SUFFIXED_END:
        return name  # the common case: neither `.exe` nor a version to drop
    if name[-4:] == ".exe":
        name = name[:-4]
    # Only a name ending in a digit or a dot can carry a version (`_VERSIONED`).
    match = _VERSIONED.match(name) if name[-1:] in _VERSION_END else None
    if match:
        base = match.group(1)
        return "python3" if base == "python" and name.startswith("python3") else base
    return name


_VERSION_END = frozenset("0123456789.")
_SUFFIXED_END = _VERSION_END | {"e"}
"""How a name with a suffix to drop ends: `.exe`, or a version (`_VERSION_END`)."""


class Code(NamedTuple):
    """Shell code found in a command: the text, and the word range [start, end) it came from."""

    start: int
    end: int
    text: str


class Unwrapped(NamedTuple):
    """The result of peeling wrappers off a command's words.

    A named tuple: one is built per simple command on every fresh gate call.
    """

    wrappers: tuple[str, ...] = ()
    program: int | None = 0
    """Index of the word that names the program finally run; None: a wrapper alone."""
    paths: tuple[tuple[int, str], ...] = ()
    """(word index, access) for paths the wrappers' own options name."""
    assignments: tuple[int, ...] = ()
    """Indexes of NAME=VALUE words that set the environment (env, sudo)."""
    scripts: tuple[Code, ...] = ()
    """Shell code a wrapper runs (env -S, flock -c, watch, script -c)."""
    args_from_stdin: bool = False
    """xargs/parallel: more arguments come from stdin."""
    facts: tuple[str, ...] = ()
    """Risk facts of the wrappers themselves (`uv run --with PKG` installs a package)."""


@dataclass(slots=True)
class Embedded:
    """Commands a program runs by itself, as ranges of its argument indexes."""

    scripts: list[Code] = field(default_factory=list)
    """Shell code the program runs (bash -c, eval, find -exec sh -c, git -c core.pager)."""
    argvs: list[tuple[int, int]] = field(default_factory=list)
    """Argument ranges [start, end) that are a command's words (find -exec)."""
    stdin_script: bool = False
    """The program reads shell code from stdin (bash with no script, bash -s)."""


def _spec(
    short: str = "", long: str = "", *, attached: str = "", numeric: bool = False
) -> OptionSpec:
    """Options of a wrapper: `short` letters and `long` names (space-separated) take a value."""
    return OptionSpec(
        short_values=frozenset(short),
        long_values=frozenset(long.split()),
        optional_attached=frozenset(attached),
        stop_at_operand=True,
        numeric_flags=numeric,
    )


_TIMEOUT = _spec("ks", "--kill-after --signal")
_STDBUF = _spec("ioe", "--input --output --error")
_PLAIN = _spec()
_CONDA_RUN = _spec("np", "--name --prefix --cwd")

_SIMPLE_WRAPPERS: dict[str, OptionSpec] = {
    "sudo": _spec(
        "ugphrtCDTUR",
        "--user --group --host --prompt --role --type --close-from --chdir --command-timeout "
        "--other-user --chroot",
    ),
    "doas": _spec("uC"),
    "env": _spec("uCS", "--unset --chdir --split-string"),
    "pkexec": _spec("", "--user"),
    "run0": _spec("uDg", "--user --chdir --group --unit --property"),
    "exec": _spec("a"),
    "nice": _spec("n", "--adjustment", numeric=True),
    "timeout": _TIMEOUT,
    "gtimeout": _TIMEOUT,
    "time": _spec("fo", "--format --output"),
    "stdbuf": _STDBUF,
    "gstdbuf": _STDBUF,
    "ionice": _spec("cnp", "--class --classdata --pid"),
    "chroot": _spec("", "--userspec --groups"),
    "xargs": _spec(
        "adEILnPs",
        "--arg-file --delimiter --eof --replace --max-lines --max-args --max-procs --max-chars "
        "--process-slot-var",
        attached="eil",
    ),
    "parallel": _spec(
        "jSdnNLsIEPCa",
        "--jobs --sshlogin --delimiter --joblog --results --max-args --max-replace-args "
        "--max-lines --max-chars --replace --eof --max-procs --colsep --arg-file --timeout "
        "--delay --retries --halt --tagstring --block --block-size --recend --recstart --header "
        "--load --memfree --trim --res --slf --sshloginfile --basefile --bf --transfer "
        "--transferfile --tf --return --ssh --sshdelay --tmpdir --tempdir --workdir --wd "
        "--shebang-wrap --compress-program --decompress-program --arg-file-sep --env",
        attached="ile",
    ),
    "strace": _spec("eopsuEabIOPSX", "--output --trace --attach --user --env --string-limit"),
    "ltrace": _spec("eopsuaADlFLn", "--output"),
    "nsenter": _spec("tSG", "--target --setuid --setgid", attached="mutinpUCrw"),
    "unshare": _spec("", "--map-user --map-group --setuid --setgid --wd --root"),
    "chrt": _spec("T", "--sched-runtime --sched-deadline --sched-period"),
    "xvfb-run": _spec("nsefpl", "--server-num --server-args --error-file --auth-file"),
    "caffeinate": _spec("tw"),
    "proxychains": _spec("f"),
    "proxychains4": _spec("f"),
    "watch": _spec("nq", "--interval"),
    "flock": _spec("wEc", "--timeout --conflict-exit-code --command"),
    "script": _spec("cEIOBTo", "--command --echo --log-in --log-out --log-io"),
    **dict.fromkeys(
        _names(
            "nohup builtin setsid taskset unbuffer dbus-run-session catchsegv valgrind torsocks "
            "busybox"
        ),
        _PLAIN,
    ),
}

# `tool run CMD`-style wrappers: (program, sub-word) -> options of the sub-command.
_RUN_WRAPPERS: dict[tuple[str, str], OptionSpec] = {
    ("uv", "run"): _spec(
        "wp",
        "--with --with-editable --with-requirements --python --project --directory --package "
        "--extra --group --only-group --no-group --env-file --index --index-url "
        "--extra-index-url --default-index --find-links --config-file --cache-dir "
        "--python-platform",
    ),
    ("conda", "run"): _CONDA_RUN,
    ("mamba", "run"): _CONDA_RUN,
    ("micromamba", "run"): _CONDA_RUN,
    **{(tool, "run"): _PLAIN for tool in ("poetry", "pipenv", "pdm", "hatch", "rye")},
    ("bundle", "exec"): _PLAIN,
}

_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_MAX_LAYERS = 16


def unwrap(words: Sequence[str], first: str | None = None) -> Unwrapped:
    """Peel wrappers (`sudo`, `env`, `nice`, `timeout`, `xargs`, `python -m` ...) off `words`.

    `words[0]` is the program as written (`first`, when given, is its
    `program_name`, which the caller already knows). The answer names the
    index of the program finally run, every wrapper passed on the way, and
    what the wrappers themselves touch (paths, environment, stdin arguments).
    """
    if not words:
        return _NOTHING_RUN
    name = first if first is not None else program_name(words[0])
    if name not in _WRAPPER_NAMES:
        return _UNWRAPPED  # `_peel_one` would find no wrapper: no call for the common case
    step = _peel_one(name, words, 0)
    if step is None:
        return _UNWRAPPED  # the common case: the first word is the program
    wrappers: list[str] = []
    paths: list[tuple[int, str]] = []
    assignments: list[int] = []
    scripts: list[Code] = []
    found_facts: list[str] = []
    from_stdin = False
    index = 0
    for _ in range(_MAX_LAYERS):
        if step is None:
            if index >= len(words):
                return Unwrapped(
                    tuple(wrappers),
                    None,
                    tuple(paths),
                    tuple(assignments),
                    (),
                    from_stdin,
                    _unique(found_facts),
                )
            return Unwrapped(
                tuple(wrappers),
                index,
                tuple(paths),
                tuple(assignments),
                tuple(scripts),
                from_stdin,
                _unique(found_facts),
            )
        wrappers.append(step.label or name)
        paths.extend(step.paths)
        assignments.extend(step.assignments)
        scripts.extend(step.scripts)
        found_facts.extend(step.facts)
        from_stdin = from_stdin or name in {"xargs", "parallel"}
        if step.next is None:
            # The wrapper runs nothing after itself (`env` alone, `sudo -s`, `env -S '...'`).
            return Unwrapped(
                tuple(wrappers[:-1]),
                index,
                tuple(paths),
                tuple(assignments),
                tuple(scripts),
                from_stdin,
                _unique(found_facts),
            )
        index = step.next
        step = None
        if index < len(words):
            name = program_name(words[index])
            step = _peel_one(name, words, index)
    # More layers than any real command needs: keep the last position; the caller
    # sees the remaining wrapper as the program and judges it (unknown: not allowed).
    return Unwrapped(
        tuple(wrappers),
        index,
        tuple(paths),
        tuple(assignments),
        tuple(scripts),
        from_stdin,
        _unique(found_facts),
    )


_UNWRAPPED = Unwrapped()
NOT_WRAPPED = _UNWRAPPED
"""What `unwrap` answers, this very object, when the first word is the program itself."""
"""No wrapper: the first word is the program (what `unwrap` built field by field before)."""
_NOTHING_RUN = Unwrapped(program=None)


def _unique(items: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


@dataclass(slots=True)
class _Step:
    next: int | None
    label: str = ""
    paths: list[tuple[int, str]] = field(default_factory=list)
    assignments: list[int] = field(default_factory=list)
    scripts: list[Code] = field(default_factory=list)
    facts: list[str] = field(default_factory=list)


_PYTHONS = frozenset({"python", "python2", "python3", "pypy", "pypy3"})
_WRAPPER_NAMES = frozenset(
    {"command", *_SIMPLE_WRAPPERS, *_PYTHONS, *(name for name, _ in _RUN_WRAPPERS)}
)
"""Every name `_peel_one` may find a wrapper under: for any other it answers None."""


def _peel_one(name: str, words: Sequence[str], index: int) -> _Step | None:
    """One wrapper at `words[index]`, or None when the word is not a wrapper."""
    if name == "command":
        return _peel_command(words, index)
    if name in _SIMPLE_WRAPPERS:
        return _peel_simple(name, words, index)
    if name in _PYTHONS:
        return _peel_python_module(words, index)
    if index + 1 < len(words):
        spec = _RUN_WRAPPERS.get((name, words[index + 1]))
        if spec is not None:
            parsed = parse_args(words, spec, index + 2)
            step = _Step(parsed.end if parsed.end < len(words) else None, f"{name} run")
            if name == "uv" and _uv_installs(parsed):
                step.facts.append("package_install")
            for option in parsed.value_options("--directory", "--project", "--cwd", "-p"):
                if option.value_index is not None and option.name != "-p":
                    step.paths.append((option.value_index, "cd"))
            for option in parsed.value_options("--env-file"):
                if option.value_index is not None:
                    step.paths.append((option.value_index, "read"))
            return step
    return None


_UV_FETCHING = _names(
    "--with --with-editable --with-requirements --index --index-url --extra-index-url "
    "--default-index --find-links --config-file"
)


def _uv_installs(parsed: ParsedArgs) -> bool:
    """`uv run --with PKG`, another index or interpreter: installs and runs other code."""
    if any(o.name in _UV_FETCHING for o in parsed.options):
        return True
    return any("/" in (o.value or "") for o in parsed.value_options("-p", "--python"))


def _peel_command(words: Sequence[str], index: int) -> _Step | None:
    parsed = parse_args(words, _spec(), index + 1)
    if parsed.has("-v", "-V"):
        return None  # `command -v x` only looks x up
    return _Step(parsed.end if parsed.end < len(words) else None)


_PYTHON_QUIET_LETTERS = frozenset("bBEIOPqsSuvRhV")
"""Interpreter flags before `-m` that leave the module's run as it is: bytecode, isolation,
optimisation, buffering and verbosity. Not `-i` (reads code from stdin once the module
is done: `python3 -i -m pip --version < notes.txt` runs the file), `-d`, `-x`."""
_PYTHON_QUIET_X = _names(
    "dev utf8 importtime faulthandler tracemalloc showrefcount no_debug_ranges "
    "warn_default_encoding int_max_str_digits frozen_modules perf"
)
"""`-X NAME[=VALUE]` options that neither write files nor load code. Not
`pycache_prefix` (writes bytecode where it says) or `presite` (imports a module)."""


def _peel_python_module(words: Sequence[str], index: int) -> _Step | None:
    """`python -m MODULE`: the module is the program, when every interpreter option
    before it is harmless (any other leaves python judged as running code)."""
    position = index + 1
    while position < len(words):
        word = words[position]
        if word == "-m" and position + 1 < len(words):
            return _Step(position + 1, "python -m")
        if word.startswith("-m") and len(word) > 2:
            return None  # `-mpytest` is rare; judged as python with inline arguments
        if not word.startswith("-") or word in {"-c", "-"} or word.startswith("--"):
            return None
        for at, letter in enumerate(word[1:], 2):
            if letter in _PYTHON_QUIET_LETTERS:
                continue
            if letter not in {"W", "X"}:
                return None
            value = word[at:]
            if not value:
                position += 1
                value = words[position] if position < len(words) else ""
            harmless = (
                not imports_warning_category(value)
                if letter == "W"
                else value.partition("=")[0] in _PYTHON_QUIET_X
            )
            if not harmless:
                return None
            break
        position += 1
    return None


def _peel_simple(name: str, words: Sequence[str], index: int) -> _Step | None:
    spec = _SIMPLE_WRAPPERS[name]
    parsed = parse_args(words, spec, index + 1)
    position = parsed.end
    step = _Step(None)
    if name == "sudo" and parsed.has("-e", "--edit", "-l", "--list", "-v", "--validate"):
        return step
    if name in {"sudo", "run0"}:
        _option_paths(parsed, step, {"-D": "cd", "--chdir": "cd", "-R": "cd", "--chroot": "cd"})
    if name == "env":
        _option_paths(parsed, step, {"-C": "cd", "--chdir": "cd"})
        split = parsed.value_options("-S", "--split-string")
        if split:
            for option in split:
                if option.value_index is not None:
                    step.scripts.append(_option_code(words, option))
            return step
    if name in {"env", "sudo", "doas", "run0", "pkexec"}:
        while position < len(words) and _ASSIGNMENT.match(words[position]):
            step.assignments.append(position)
            position += 1
    if name == "time":
        _option_paths(parsed, step, {"-o": "write", "--output": "write"})
    if name in {"strace", "ltrace"}:
        _option_paths(parsed, step, {"-o": "write", "--output": "write"})
    if name == "xargs":
        _option_paths(parsed, step, {"-a": "read", "--arg-file": "read"})
    if name == "parallel":
        _parallel_options(parsed, step)
    if name in {"timeout", "gtimeout", "taskset", "chrt"}:
        if name == "taskset" and parsed.has("-p", "--pid"):
            return step
        position += 1  # the duration, CPU mask or priority
    if name == "chroot":
        if position < len(words):
            step.paths.append((position, "exec"))
        position += 1
    if name == "ionice" and parsed.has("-p", "--pid"):
        return step
    if name == "flock":
        return _peel_flock(words, parsed, step)
    if name == "watch":
        if position < len(words):
            if parsed.has("-x", "--exec"):
                step.next = position
            else:
                step.scripts.append(_join_code(words, position, len(words)))
        return step
    if name == "script":
        step.scripts.extend(_option_code(words, o) for o in parsed.value_options("-c", "--command"))
        return step
    step.next = position if position < len(words) else None
    return step


_PARALLEL_QUIET = _names(
    # How many, how split, in which order, what is shown: the commands run are the same.
    "-0 --null -X --xargs -m -k --keep-order -q --quote -v --verbose -t -u --ungroup --group "
    "--line-buffer --lb -r --no-run-if-empty --plus --bar --eta --progress --will-cite "
    "--no-notice --tag --dry-run --dryrun --pipe --round-robin --silent "
    "-j --jobs -P --max-procs -n --max-args -N --max-replace-args -L --max-lines -l -s "
    "--max-chars -d --delimiter -I --replace -i -E --eof -e --colsep -C --timeout --delay "
    "--retries --halt --tagstring --block --block-size --recend --recstart --header --load "
    "--memfree --trim"
)
"""GNU parallel's options that change neither what it runs nor where: any other asks."""
_PARALLEL_REMOTE = _names(
    "-S --sshlogin --slf --sshloginfile --basefile --bf --transfer --transferfile --tf "
    "--return --trc --cleanup --ssh --sshdelay --onall --nonall --controlmaster -M"
)
"""Options that run the commands on other machines, copying files there and back."""


def _parallel_options(parsed: ParsedArgs, step: _Step) -> None:
    """GNU parallel runs a program on names it reads (stdin, `-a FILE`, `::::`): its own
    options are an allowlist, since some run it remotely (`-S`), write files
    (`--results`, `--joblog`, `--tmpdir`), run other programs (`--ssh`,
    `--compress-program`, `--shebang-wrap`) or read names from a file (`-a`)."""
    for option in parsed.options:
        if option.name in _PARALLEL_QUIET:
            continue
        if option.name in _PARALLEL_REMOTE and "network" not in step.facts:
            step.facts.append("network")
        if "unvetted" not in step.facts:
            step.facts.append("unvetted")


def _peel_flock(words: Sequence[str], parsed: ParsedArgs, step: _Step) -> _Step:
    position = parsed.end
    step.scripts.extend(_option_code(words, o) for o in parsed.value_options("-c", "--command"))
    if position < len(words):
        step.paths.append((position, "write"))
        rest = parse_args(words, _SIMPLE_WRAPPERS["flock"], position + 1)
        step.scripts.extend(_option_code(words, o) for o in rest.value_options("-c", "--command"))
        if not step.scripts and rest.end < len(words):
            step.next = rest.end
    return step


def _option_paths(parsed: ParsedArgs, step: _Step, accesses: dict[str, str]) -> None:
    for option in parsed.options:
        access = accesses.get(option.name)
        if access is not None and option.value_index is not None:
            step.paths.append((option.value_index, access))


# -- commands a program runs by itself ---------------------------------------------------

_SHELL_SPEC = OptionSpec(
    short_values=frozenset("oO"), long_values=frozenset({"--rcfile", "--init-file"})
)
_SU_SPEC = OptionSpec(
    short_values=frozenset("cgGsw"),
    long_values=frozenset(
        {
            "--command",
            "--group",
            "--supp-group",
            "--shell",
            "--session-command",
            "--whitelist-environment",
        }
    ),
)
_FIND_EXEC = commands_given_as_words("find")
"""`-exec`, `-execdir`, `-ok`, `-okdir`: as find's spec lists them."""
_FD_EXEC = commands_given_as_words("fd")

_GIT_EXEC_KEYS = COMMAND_KEYS
_GIT_RUNNING_SUBCOMMANDS = _names("rebase bisect submodule grep difftool mergetool config")
"""The subcommands after which `_git_embedded` looks for code (`rebase -x`, `bisect run`)."""


def embedded_commands(program: str, args: Sequence[str]) -> Embedded:
    """Shell code and commands that `program` run with `args` would run itself.

    `args` excludes the program word; the ranges index into `args`.
    """
    # Made field by field: `Embedded()` runs the dataclass's `__init__` (a call through the
    # class, with its defaults), once for every git, find or ssh command of a fresh call.
    found = _new(Embedded)
    found.scripts = []
    found.argvs = []
    found.stdin_script = False
    finder = _EMBEDDERS.get(program)
    if finder is not None:
        finder(args, found)
    return found


_new = object.__new__


def _eval_embedded(args: Sequence[str], found: Embedded) -> None:
    if args:
        found.scripts.append(_join_code(args, 0, len(args)))


def _su_embedded(args: Sequence[str], found: Embedded) -> None:
    parsed = parse_args(args, _SU_SPEC)
    options = parsed.value_options("-c", "--command", "--session-command")
    found.scripts.extend(_option_code(args, option) for option in options)


def _sg_embedded(args: Sequence[str], found: Embedded) -> None:
    if len(args) >= 2:
        command = 2 if args[1] == "-c" else 1
        if command < len(args):
            found.scripts.append(_join_code(args, command, command + 1))


def _trap_embedded(args: Sequence[str], found: Embedded) -> None:
    if args and args[0] not in {"-p", "-l", "-", "--"}:
        found.scripts.append(_join_code(args, 0, 1))


def _go_embedded(args: Sequence[str], found: Embedded) -> None:
    if args[:1] in (["test"], ["run"], ["build"]):
        _option_scripts(args, found, {"-exec", "--exec", "-toolexec", "--toolexec"})


def _npx_embedded(args: Sequence[str], found: Embedded) -> None:
    _option_scripts(args, found, {"-c", "--call"})


def _node_embedded(args: Sequence[str], found: Embedded) -> None:
    """npm and pnpm: npx's `-c`, and the command of `exec` (npx runs no `exec` word)."""
    _npx_embedded(args, found)
    _package_exec(args, found)


def _nix_embedded(args: Sequence[str], found: Embedded) -> None:
    if args[:1] in (["develop"], ["shell"]):
        _nix_command(args, found)


def _direnv_embedded(args: Sequence[str], found: Embedded) -> None:
    if args[:1] == ["exec"] and len(args) > 2:
        found.argvs.append((2, len(args)))  # `direnv exec DIR CMD ARGS...`


_Finder = Callable[[Sequence[str], Embedded], None]
"""What finds the code a program runs itself: it reads the arguments, adds to `found`."""


def _options_running(*names: str) -> _Finder:
    """A finder for programs whose only embedded code is the value of `names` options."""
    wanted = set(names)

    def finder(args: Sequence[str], found: Embedded) -> None:
        _option_scripts(args, found, wanted)

    return finder


def _table(*entries: tuple[str | frozenset[str], _Finder]) -> dict[str, _Finder]:
    table: dict[str, _Finder] = {}
    for programs, finder in entries:
        for program in programs.split() if isinstance(programs, str) else sorted(programs):
            table[program] = finder
    return table


def _nix_command(args: Sequence[str], found: Embedded) -> None:
    """`nix develop -c CMD ARGS...`, `nix shell PKG --command CMD ARGS...`."""
    for index, arg in enumerate(args):
        if arg in {"-c", "--command"}:
            if index + 1 < len(args):
                found.argvs.append((index + 1, len(args)))
            return
        if arg == "--":
            return


_PACKAGE_EXEC = frozenset({"exec", "x", "dlx"})
_PACKAGE_EXEC_VALUES = frozenset({"-p", "--package", "-c", "--call", "-w", "--workspace", "-C"})


def _package_exec(args: Sequence[str], found: Embedded) -> None:
    """`npm exec -- rm -rf /`, `pnpm exec`, `yarn exec`, `bun x`: the command they run.

    The package manager keeps its own facts (it may download the package); the
    command it runs is judged as well.
    """
    if not args or args[0] not in _PACKAGE_EXEC:
        return
    _command_after_options(args, 1, _PACKAGE_EXEC_VALUES, found)


def _command_after_options(
    args: Sequence[str], start: int, takes_value: frozenset[str], found: Embedded
) -> None:
    """`TOOL [OPTIONS] [--] COMMAND...`: the command that follows the options."""
    index = start
    while index < len(args):
        arg = args[index]
        if arg == "--":
            index += 1
            break
        if not arg.startswith("-"):
            break
        index += 2 if arg in takes_value else 1
    if index < len(args):
        found.argvs.append((index, len(args)))


_SYSTEMD_RUN_VALUES = _names(
    "-u --unit -p --property -E --setenv -M --machine -H --host --description --slice --uid "
    "--gid --nice --working-directory --service-type --path-property --socket-property "
    "--timer-property --on-active --on-boot --on-startup --on-unit-active --on-unit-inactive "
    "--on-calendar --on-clock-change --on-timezone-change"
)


def _fd_embedded(args: Sequence[str], found: Embedded) -> None:
    """`fd -x CMD ARGS [;]`, `fd -X CMD`: the command fd runs on every result."""
    index = 0
    while index < len(args):
        if args[index] in _FD_EXEC:
            start = index + 1
            end = start
            while end < len(args) and args[end] != ";":
                end += 1
            if end > start:
                found.argvs.append((start, end))
            index = end + 1
            continue
        if args[index] == "--":
            return
        index += 1


def _systemd_run_embedded(args: Sequence[str], found: Embedded) -> None:
    """`systemd-run [OPTIONS] COMMAND...`: the command runs in a transient unit."""
    _command_after_options(args, 0, _SYSTEMD_RUN_VALUES, found)


def _shell_embedded(args: Sequence[str], found: Embedded) -> None:
    index = 0
    takes_command = False
    while index < len(args):
        arg = args[index]
        if arg in {"--", "-"}:
            # Both end the options (`-` as `--` does); the -c string may follow them.
            if takes_command and index + 1 < len(args):
                found.scripts.append(_join_code(args, index + 1, index + 2))
            elif arg == "-" or index + 1 >= len(args):
                found.stdin_script = True
            return
        if arg.startswith("--"):
            if arg in _SHELL_SPEC.long_values:
                index += 1
            index += 1
            continue
        if arg.startswith(("-", "+")) and len(arg) > 1:
            letters = arg[1:]
            if "c" in letters:
                takes_command = True
            if "s" in letters:
                found.stdin_script = True
            if letters[-1:] in {"o", "O"}:
                index += 1  # `-o pipefail`: the option's value
            index += 1
            continue
        if takes_command:
            found.scripts.append(_join_code(args, index, index + 1))
        return
    if not takes_command:
        found.stdin_script = True


def _find_embedded(args: Sequence[str], found: Embedded) -> None:
    index = 0
    while index < len(args):
        if args[index] in _FIND_EXEC:
            start = index + 1
            end = start
            while end < len(args) and args[end] not in {";", "+"}:
                end += 1
            if end > start:
                found.argvs.append((start, end))
            index = end + 1
            continue
        index += 1


def _git_embedded(args: Sequence[str], found: Embedded) -> None:
    index = 0
    subcommand: str | None = None
    while index < len(args):
        arg = args[index]
        if subcommand is None:
            if arg[:1] != "-":  # none of the option tests below holds for it
                if arg not in _GIT_RUNNING_SUBCOMMANDS:
                    return  # every test below is of one of those subcommands
                subcommand = arg
                index += 1
                continue
            if arg == "-c" and index + 1 < len(args):
                _git_config_value(args, index + 1, found)
                index += 2
                continue
            if arg == "--config-env" or arg.startswith("--config-env="):
                # `--config-env=core.pager=VAR`: the command is in $VAR, known at run time.
                setting = arg.partition("=")[2] if "=" in arg else ""
                position = index if setting else index + 1
                if not setting and position < len(args):
                    setting = args[position]
                key, _, variable = setting.rpartition("=")
                if _GIT_EXEC_KEYS.match(key) and variable:
                    found.scripts.append(Code(position, position + 1, f'"${{{variable}}}"'))
                index = position + 1
                continue
            if arg in {"-C", "--git-dir", "--work-tree", "--namespace"}:
                index += 2
                continue
            index += 1  # another global option
            continue
        if subcommand == "rebase" and arg in {"-x", "--exec"} and index + 1 < len(args):
            found.scripts.append(_join_code(args, index + 1, index + 2))
            index += 2
            continue
        if subcommand == "rebase" and arg.startswith("--exec="):
            found.scripts.append(Code(index, index + 1, arg.partition("=")[2]))
        if subcommand == "bisect" and arg == "run" and index + 1 < len(args):
            found.argvs.append((index + 1, len(args)))
            return
        if subcommand == "submodule" and arg == "foreach":
            rest = index + 1
            while rest < len(args) and args[rest].startswith("-"):
                rest += 1
            if rest < len(args):
                found.scripts.append(_join_code(args, rest, len(args)))
            return
        if subcommand == "grep" and arg.startswith(("-O", "--open-files-in-pager=")):
            # `git grep -O'cmd'` runs cmd with the matching files.
            pager = arg[2:] if arg.startswith("-O") else arg.partition("=")[2]
            if pager:
                found.scripts.append(Code(index, index + 1, pager))
        external = subcommand in {"difftool", "mergetool"} and arg in {"-x", "--extcmd"}
        if external and index + 1 < len(args):
            found.scripts.append(_join_code(args, index + 1, index + 2))
        if subcommand == "config" and _GIT_EXEC_KEYS.match(arg) and index + 1 < len(args):
            found.scripts.append(_git_alias_code(args, index + 1, args[index + 1]))
            return
        index += 1


def _git_config_value(args: Sequence[str], index: int, found: Embedded) -> None:
    key, _, value = args[index].partition("=")
    if _GIT_EXEC_KEYS.match(key):
        found.scripts.append(_git_alias_code(args, index, value))


def _ssh_embedded(args: Sequence[str], found: Embedded) -> None:
    for index, arg in enumerate(args):
        lowered = arg.lower()
        if lowered.startswith(("-oproxycommand", "-olocalcommand")):
            found.scripts.append(Code(index, index + 1, _after_key(arg[2:])))
        elif arg == "-o" and index + 1 < len(args):
            value = args[index + 1]
            if value.lower().startswith(("proxycommand", "localcommand")):
                found.scripts.append(Code(index + 1, index + 2, _after_key(value)))


def _tar_embedded(args: Sequence[str], found: Embedded) -> None:
    for index, arg in enumerate(args):
        if arg.startswith(("--to-command=", "--use-compress-program=")):
            found.scripts.append(Code(index, index + 1, arg.partition("=")[2]))
        elif arg.startswith("--checkpoint-action=exec="):
            found.scripts.append(Code(index, index + 1, arg.split("=", 2)[2]))
        elif arg in {"--to-command", "-I", "--use-compress-program"} and index + 1 < len(args):
            found.scripts.append(_join_code(args, index + 1, index + 2))


def _option_scripts(args: Sequence[str], found: Embedded, names: set[str]) -> None:
    for index, arg in enumerate(args):
        name, equals, _ = arg.partition("=")
        if name in names:
            if equals:
                found.scripts.append(Code(index, index + 1, arg.partition("=")[2]))
            elif index + 1 < len(args):
                found.scripts.append(_join_code(args, index + 1, index + 2))


def _join_code(words: Sequence[str], start: int, end: int) -> Code:
    return Code(start, end, " ".join(words[start:end]))


def _option_code(words: Sequence[str], option: Option) -> Code:
    index = option.value_index if option.value_index is not None else option.index
    return Code(index, index + 1, option.value or "")


def _git_alias_code(words: Sequence[str], index: int, value: str) -> Code:
    # `alias.x=!cmd` runs cmd in a shell; other keys hold a command line as they are.
    return Code(index, index + 1, value[1:] if value.startswith("!") else value)


def _after_key(option: str) -> str:
    """`ProxyCommand=nc %h %p` or `ProxyCommand nc %h %p` -> `nc %h %p`."""
    for separator in ("=", " "):
        key, found, value = option.partition(separator)
        if found and key.isalpha():
            return value.strip()
    return option


# Program -> what finds the code it runs itself: a dict looked up once per command, so a
# program that runs nothing of its own (most) costs one lookup, not a chain of tests.
_EMBEDDERS = _table(
    (SHELLS, _shell_embedded),
    ("eval", _eval_embedded),
    ("su runuser", _su_embedded),
    ("sg", _sg_embedded),
    ("trap", _trap_embedded),
    ("find", _find_embedded),
    ("git", _git_embedded),
    ("ssh scp sftp", _ssh_embedded),
    ("rsync", _options_running("-e", "--rsh")),
    ("tar gtar bsdtar", _tar_embedded),
    ("zip", _options_running("-TT", "--unzip-command")),
    ("go", _go_embedded),
    ("npm pnpm", _node_embedded),
    ("npx", _npx_embedded),
    ("yarn bun", _package_exec),
    ("systemd-run", _systemd_run_embedded),
    ("fd fdfind", _fd_embedded),
    ("rg ripgrep", _options_running("--pre")),
    ("sort gsort", _options_running("--compress-program")),
    ("man", _options_running("-P", "--pager", "--html", "-H")),
    ("bat batcat delta git-delta", _options_running("--pager")),
    ("nix-shell", _options_running("--run", "--command")),
    ("nix", _nix_embedded),
    ("direnv", _direnv_embedded),
)

EMBEDDING_PROGRAMS: frozenset[str] = frozenset(_EMBEDDERS)
"""The programs that may run code of their own (`bash -c`, `find -exec`, `git -c`):
for any other program `embedded_commands` finds nothing."""
