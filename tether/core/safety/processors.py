"""The fact processors: small steps that each add the facts of one concern to a command.

A processor is any callable `(Findings) -> None`, as a structlog processor is
`(logger, name, event_dict)`: it reads the command in `Findings.command` and
adds facts and paths to the same `Findings`, in one visible place. The
analyzer runs a configured tuple of them over every simple command, in
order (`default_processors` is the sequence Tether ships; a caller may pass
its own). Program knowledge enters through one processor, `program_handler`,
which calls `analyze_program`; the others are about the command's shape:
wrappers, the registry's allowlist, uploads, redirects, the environment,
paths and credentials.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from tether.core.safety.facts import PathAccess, PathUse, RiskFact, RiskLevel
from tether.core.safety.programs import (
    SCANNED_PROGRAMS,
    Findings,
    analyze_program,
    is_block_device,
    is_secret_name,
)
from tether.core.safety.programs.base import names
from tether.core.safety.registry import PRIVILEGED, REGISTRY, lookup, vet
from tether.core.safety.registry.detect_code import DECODERS
from tether.core.safety.registry.dev import UPLOADS
from tether.core.safety.registry.environment import (
    ASSIGNING_PROGRAMS,
    LOADS_CODE,
    SEARCH_PATHS,
    builtin_assignments,
    is_harmless,
)
from tether.core.safety.registry.git import runs_command
from tether.core.safety.registry.layered import ProgramLookup
from tether.core.safety.registry.network import NETWORK_PROGRAMS
from tether.core.safety.registry.versions import VERSION_FLAGS, VERSION_WORDS
from tether.core.safety.shell import ShellParser, SimpleCommand

__all__ = [
    "CredentialPaths",
    "CredentialReader",
    "Needs",
    "NestedShell",
    "Processor",
    "VetOptions",
    "default_processors",
    "default_subcommand",
    "environment",
    "generic_paths",
    "needs",
    "program_facts",
    "program_handler",
    "redirects",
    "uploads",
    "version_query",
    "vet_options",
    "wrapper_paths",
]

Processor = Callable[[Findings], None]
"""One step of the analysis of a simple command: reads `findings.command`, adds to `findings`."""


@dataclass(frozen=True, slots=True)
class Needs:
    """When a processor has anything to do: the analyzer calls it for no other command.

    A processor declares one as its `needs` attribute, and the analyzer reads it
    once, when it is built, into a plan per program (`CommandAnalyzer`). The
    declaration is a promise: when the command has none of `fields` set, its
    program is none of `programs`, and the findings so far have none of `found`,
    the processor adds nothing and changes nothing. A processor without one runs
    on every command.
    """

    fields: tuple[str, ...] = ()
    """`SimpleCommand` fields any one of which, non-empty, makes it run."""
    programs: frozenset[str] = frozenset()
    """Programs (as the registry looks them up: `mkfs.ext4` is also `mkfs`) it runs for."""
    found: tuple[str, ...] = ()
    """`Findings` fields (what earlier processors found) any one of which, non-empty,
    makes it run."""
    unless: tuple[str, ...] = ()
    """`Findings` fields any one of which, set, makes it add nothing: it is skipped then,
    whatever the fields above say (`generic_paths` once the paths are named)."""
    program_path: bool = False
    """It runs when the program word is written as a path (`./run.sh`, `/usr/bin/rm`:
    a `/` in `SimpleCommand.program_text`)."""
    sole_argument: frozenset[str] = frozenset()
    """It runs when the command has exactly one argument and it is one of these
    (`X --version`)."""

    @property
    def narrowed(self) -> bool:
        """Whether anything here narrows when it runs (a processor without any runs always)."""
        return bool(self.programs or self.fields or self.found or self.program_path) or bool(
            self.sole_argument
        )

    @property
    def triggered(self) -> bool:
        """Whether something about the command itself, not its program, makes it run."""
        return bool(self.fields or self.found or self.program_path or self.sole_argument)


_P = TypeVar("_P", bound=Processor)


def needs(
    *fields: str,
    programs: Iterable[str] = (),
    found: tuple[str, ...] = (),
    unless: tuple[str, ...] = (),
    program_path: bool = False,
    sole_argument: Iterable[str] = (),
) -> Callable[[_P], _P]:
    """Declare what `processor` needs (`Needs`); it is returned unchanged otherwise."""
    declared = Needs(
        fields, frozenset(programs), found, unless, program_path, frozenset(sole_argument)
    )

    def declare(processor: _P) -> _P:
        processor.needs = declared  # type: ignore[attr-defined]
        return processor

    return declare


class CredentialReader(Protocol):
    """What recognises credential files (`PathAnalyzer`)."""

    def credential_reason(self, path: str, *, glob: bool = False) -> str | None: ...


_SYSTEM_BIN = re.compile(
    r"^(/usr/local/s?bin|/usr/s?bin|/s?bin|/opt/homebrew/s?bin|/opt/local/s?bin|"
    r"/usr/libexec|/nix/var/nix/profiles/default/bin|/run/current-system/sw/bin|"
    r"/home/linuxbrew/\.linuxbrew/bin)/[^/]+$"
)
_PROJECT_TOOL = re.compile(r"^(\./)?(\.?venv|env|node_modules/\.bin|\.tox/[^/]+/bin)(/bin)?/[^/]+$")
_HARMLESS_DEVICES = names(
    "/dev/null /dev/stdout /dev/stderr /dev/stdin /dev/tty /dev/zero /dev/urandom /dev/random "
    "/dev/fd/0 /dev/fd/1 /dev/fd/2"
)
_NETWORK_DEVICE = re.compile(r"^/dev/(tcp|udp)/")


# Each test below needs one of these set: wrappers (a privileged one, or their facts), a
# program only known at run time, or a program word with a `/`.
@needs("wrappers", "wrapper_facts", "dynamic_program", program_path=True)
def program_facts(f: Findings) -> None:
    """Wrappers that gain privileges, a program only known at run time, a program file."""
    c = f.command
    if c.wrappers and not PRIVILEGED.isdisjoint(c.wrappers):
        f.fact("privilege_escalation", f"{' '.join(c.wrappers)} {c.text}")
    for fact in c.wrapper_facts:
        f.fact(fact, f"{' '.join(c.wrappers)} {c.text}")
    if c.dynamic_program:
        sources = set(c.substituted)
        if sources & DECODERS:
            f.fact("decode_execute", f"{c.text} runs a decoded command")
        if sources & NETWORK_PROGRAMS:
            f.fact("pipe_to_shell", f"{c.text} runs a downloaded command")
        f.fact("dynamic_command", f"the program is only known at run time ({c.text})")
    if "/" in c.program_text and not c.dynamic_program:
        program_path = posixpath.normpath(c.program_text)
        if not _SYSTEM_BIN.match(program_path) and not _PROJECT_TOOL.match(c.program_text):
            f.text_path(c.program_text, "exec")
            f.fact("run_script", f"runs the program file {c.program_text}")
        elif _PROJECT_TOOL.match(c.program_text):
            f.text_path(c.program_text, "exec")


# It runs only the detectors a spec names in `scan`: nothing for other programs.
program_handler: Processor = needs(programs=SCANNED_PROGRAMS)(analyze_program)
"""What the program itself does: the program knowledge, as one processor (`analyze_program`)."""


class VetOptions:
    """The allowlist rule: what the program's spec does not list is `unvetted`.

    Args:
        programs: the specs with plugins' contributions layered over the
            registry; None reads the registry alone. A contributed spec's
            extra facts and asks are added here, and a program only a plugin
            describes still has every argument checked for credential paths
            (the floor is not a plugin's to lower).
    """

    def __init__(
        self, programs: ProgramLookup | None = None, paths: CredentialReader | None = None
    ) -> None:
        # With nothing contributed, the lookup is the registry's and there is nothing to
        # layer: both are settled here, once, instead of on every call.
        plain = programs is None or programs.plain
        self._programs = None if plain else programs
        self._paths = paths
        self._spec_of = lookup if plain or programs is None else programs.get
        # It vets programs that have a spec, and does nothing for any other.
        self.needs = Needs(programs=programs.names if programs is not None else frozenset(REGISTRY))

    def __call__(self, f: Findings) -> None:
        program = f.command.program
        spec = self._spec_of(program)
        if spec is None or not program:
            return
        subcommand = f.subcommand
        if subcommand and subcommand[0] == "help":
            return  # `git commit --help` prints a page
        f.subcommand = vet(f, spec, name_paths=not f.handled_paths)
        f.handled_paths = True
        if self._programs is not None:
            self._contributed(f, self._programs)

    def _contributed(self, f: Findings, programs: ProgramLookup) -> None:
        command = f.command
        for kind, detail, _ in programs.extras(command.program, f.subcommand):
            f.fact(kind, detail)
        if self._paths is None or not programs.contributed(command.program):
            return
        # The spec may call an operand a plain value; a credential path is still one.
        for arg in command.args:
            value = arg.partition("=")[2] if arg.startswith("-") else arg
            reason = self._paths.credential_reason(value, glob=True) if value else None
            if reason is not None:
                f.fact("credential_access", f"{value}: {reason}")
                return


# A function, not a `VetOptions()`: it runs for every command a spec describes, and a
# call of an instance goes through its class's `__call__`, twice a function call's cost.
@needs(programs=REGISTRY)
def vet_options(f: Findings) -> None:
    """The allowlist rule over the registry alone: `VetOptions()`'s call, read as written
    there with the registry's `lookup` (a change to one is a change to both)."""
    program = f.command.program
    # `lookup(program)`, its common answer read here: a spec of its own, compiled.
    spec = _SPECS.get(program)
    if spec is None or not spec.ready:
        spec = lookup(program)
    if spec is None or not program:
        return
    subcommand = f.subcommand
    if subcommand and subcommand[0] == "help":
        return  # `git commit --help` prints a page
    f.subcommand = vet(f, spec, name_paths=not f.handled_paths)
    f.handled_paths = True


_SPECS = REGISTRY.unrealised()
"""The registry's specs as they are, compiled or not (`vet_options` compiles through `lookup`)."""


class NestedShell:
    """The critical facts of shell strings that inline code hands to a shell (`os.system`).

    Args:
        parser: parses the strings.
        facts_of: the facts of one command (the analyzer's own `analyze`).
    """

    needs = Needs(found=("shell_strings",))  # it parses those strings and nothing else

    def __init__(
        self, parser: ShellParser, facts_of: Callable[[SimpleCommand], Sequence[RiskFact]]
    ) -> None:
        self._parser = parser
        self._facts_of = facts_of

    def __call__(self, f: Findings) -> None:
        if not f.shell_strings:
            return
        for text in f.shell_strings[:8]:
            script = self._parser.parse(text)
            for command in script.commands[:32]:
                for fact in self._facts_of(command):
                    if fact.level is RiskLevel.CRITICAL:
                        f.fact(fact.kind, f"{f.command.program} runs: {fact.detail}")


@needs("redirects")
def redirects(f: Findings) -> None:
    """Files a command's redirects read and write, devices, and `/dev/tcp` connections."""
    for redirect in f.command.redirects:
        target = redirect.target
        if _NETWORK_DEVICE.match(target):
            f.fact("reverse_shell", f"redirects to the network ({target})")
            continue
        if target in _HARMLESS_DEVICES or target.startswith("/dev/fd/"):
            continue
        access: PathAccess = "write" if redirect.writes else "read"
        f.paths.append(
            PathUse(path=target, access=access, dynamic=redirect.dynamic, glob=redirect.glob)
        )
        if redirect.writes:
            if is_block_device(target):
                f.fact("disk_destruction", f"writes to the disk device {target}")
            else:
                f.fact("file_write", f"{f.command.text} {redirect.op} {target}")


_COMMAND_TABLES = frozenset({"BASH_CMDS", "BASH_ALIASES"})
"""Bash's command hash table and alias table: what a program name runs."""


# Nothing set and nothing read is the only case it returns at once for (see below).
@needs("assignments", "variables", programs=ASSIGNING_PROGRAMS)
def environment(f: Findings) -> None:
    """The environment rule (registry/environment.py): assignments are judged."""
    c = f.command
    exported, shell = builtin_assignments(c.program, c.args)
    if not (exported or shell or c.assignments or c.variables):
        return  # nothing set, nothing read: the common case, kept cheap
    values = dict(c.assignments)
    if not c.program or c.program in _DECLARERS:
        shell.extend(name for name, _ in c.assignments if name not in exported)
        pairs = [(name, values.get(name, "")) for name in exported]
    else:
        pairs = [*c.assignments, *((name, values.get(name, "")) for name in exported)]
    # `read PAGER`, `printf -v PAGER`, `mapfile`: a value only known at run time.
    runtime = set(shell) if c.program and c.program not in _DECLARERS else set()
    for name in (*shell, *(name for name, _ in pairs)):
        harmless = name not in runtime and is_harmless(name, values.get(name, ""))
        if LOADS_CODE.match(name) and not harmless:
            f.fact("env_change", f"sets {name}")
        if name in _COMMAND_TABLES:
            # `BASH_CMDS[ls]=/bin/rm; ls -rf ~` runs rm: every later program name may
            # run another file, so no later command is what the analysis read (and the
            # floor would not see `rm -rf ~`): never allowed, in any preset.
            f.fact("dynamic_command", f"sets {name}: a program name may then run another file")
    for name, value in (*pairs, *((n, values.get(n, "")) for n in shell)):
        if _git_setting_runs_command(name, value):
            f.fact("git_hooks", f"{name} sets a git setting that runs commands")
    for name, value in pairs:
        if is_harmless(name, value) or LOADS_CODE.match(name):
            continue
        if name in SEARCH_PATHS:
            for entry in value.split(":"):
                if entry:
                    f.text_path(entry, "read", dynamic=bool(c.variables))
            continue
        f.fact("unvetted", f"sets {name} for {c.program or 'the shell'}")
    secrets = [name for name in c.variables if is_secret_name(name)]
    if secrets:
        if c.program in _PRINTERS:
            f.fact("secrets_read", f"prints ${secrets[0]}")
        else:
            f.fact("secret_env_use", f"{c.program or 'the shell'} uses ${secrets[0]}")


@needs("wrapper_paths")
def wrapper_paths(f: Findings) -> None:
    """Paths the wrappers' own options name (`env -C DIR`, `chroot DIR`, `time -o FILE`)."""
    for path, access in f.command.wrapper_paths:
        f.text_path(path, "read" if access == "read" else "write" if access == "write" else "cd")


class CredentialPaths:
    """`credential_access` when a path the command uses is a credential file.

    Args:
        paths: recognises credential files.
    """

    needs = Needs(found=("paths",))  # it reads the paths found and nothing else

    def __init__(self, paths: CredentialReader) -> None:
        self._paths = paths

    def __call__(self, f: Findings) -> None:
        for use in f.paths:
            # A dynamic path is checked by its best guess (`cat $(echo .env)` is `.env`).
            if use.access in {"list", "cd"} or not use.path:
                continue
            reason = self._paths.credential_reason(use.path, glob=use.glob)
            if reason is not None:
                f.fact("credential_access", f"{use.path}: {reason}")
                return


@needs(unless=("subcommand",))  # an earlier step named it: nothing to do
def default_subcommand(f: Findings) -> None:
    """The leading operands, for policy matching, when no earlier step named the subcommand."""
    if not f.subcommand:
        args = f.command.args
        if not args:
            return  # `()`, what the reading below gives
        # The first three words that are no options: a loop that stops at the third. (A
        # word's first letter is read by index: `startswith` costs four times as much.)
        words: list[str] = []
        for arg in args:
            if not arg or arg[0] != "-":
                words.append(arg)
                if len(words) == 3:
                    break
        f.subcommand = tuple(words) if words else ()


def default_processors(
    parser: ShellParser,
    paths: CredentialReader,
    facts_of: Callable[[SimpleCommand], Sequence[RiskFact]],
    programs: ProgramLookup | None = None,
) -> tuple[Processor, ...]:
    """The sequence Tether runs over every simple command, in order.

    Knowledge first (wrappers, the program's handler, the registry's allowlist,
    uploads, version queries, shell strings in inline code), then paths (the
    generic guess for programs nobody described, redirects, the environment,
    wrapper options), then what the paths reveal (credentials).
    """
    return (
        program_facts,
        program_handler,
        vet_options if programs is None or programs.plain else VetOptions(programs, paths),
        uploads,
        version_query,
        NestedShell(parser, facts_of),
        generic_paths,
        redirects,
        environment,
        wrapper_paths,
        CredentialPaths(paths),
        default_subcommand,
    )


_DECLARERS = names("declare typeset local readonly export")


_REMOTE = re.compile(r"^[\w.-]+:(?!/)|^[\w.-]+:/|://")


@needs(programs=UPLOADS)
def uploads(f: Findings) -> None:
    """`gh gist create .env`, `aws s3 cp .env s3://b/`: local files sent over the network."""
    command = f.command
    uploads = UPLOADS.get(command.program)
    if uploads is None:
        return
    args = command.args
    words = [a for a in args if not a.startswith("-")]
    if command.program in REGISTRY:
        # The spec's reading: `kubectl -n prod cp` is a cp, whatever `-n` takes.
        words = list(f.subcommand)
    for sub, file_options in uploads:
        if tuple(words[: len(sub)]) != sub:
            continue
        for index, arg in enumerate(args):
            name, equals, value = arg.partition("=")
            if name in file_options:
                if equals:
                    f.text_path(value, "read")
                else:
                    f.arg(index + 1, "read")
        for index, arg in enumerate(args):
            if arg in sub or arg.startswith("-") or _REMOTE.search(arg):
                continue
            f.arg(index, "read")
        return


_GIT_CONFIG_KEY = re.compile(r"^GIT_CONFIG_KEY_\d+$")
_GIT_PARAMETER_KEY = re.compile(r"'([^'=]+)'\s*=|(?:^|\s)([\w.-]+)=")


def _git_setting_runs_command(name: str, value: str) -> bool:
    """`GIT_CONFIG_KEY_0=core.pager`, `GIT_CONFIG_PARAMETERS="'core.fsmonitor'='x'"`."""
    if _GIT_CONFIG_KEY.match(name):
        return runs_command(value, None)
    if name == "GIT_CONFIG_PARAMETERS":
        return any(
            runs_command(m.group(1) or m.group(2), None) for m in _GIT_PARAMETER_KEY.finditer(value)
        )
    return False


@needs(sole_argument=VERSION_WORDS)  # its first test, declared: nothing to do otherwise
def version_query(f: Findings) -> None:
    """`X --version`: harmless only where the flag really prints a version, stdin untouched."""
    command = f.command
    if len(command.args) != 1 or command.args[0] not in VERSION_WORDS:
        return
    flag = command.args[0]
    known = flag in VERSION_FLAGS.get(command.program, frozenset())
    if command.stdin != "none" or (command.redirects and not known):
        f.fact("unvetted", f"{command.text}: a version query with stdin redirected")
    elif known:
        # It only prints a version: what the program's handler guessed (network for
        # `curl`, a database for `sqlite3`) does not happen.
        f.facts = [fact for fact in f.facts if fact.level is RiskLevel.CRITICAL]
    elif command.program not in REGISTRY or (
        # A word, not an option: a version query only where the spec has that subcommand.
        not flag.startswith("-") and flag not in REGISTRY[command.program].subs
    ):
        f.fact("unvetted", f"{command.text}: not a version flag Tether knows for this program")


_PRINTERS = names("echo printf print printenv env cat tee logger say wall write curl wget nc")


@needs(unless=("handled_paths",))  # a handler or the spec named the paths
def generic_paths(f: Findings) -> None:
    """An unknown program: every operand, and every `--option=value`, may be a path."""
    if f.handled_paths:
        return
    for index, arg in enumerate(f.command.args):
        if arg.startswith("-"):
            _, equals, value = arg.partition("=")
            if equals and ("/" in value or value.startswith(("~", "."))):
                f.text_path(value, "arg", dynamic=index in f.command.dynamic_args)
            continue
        if "://" in arg:
            continue
        f.arg(index, "arg")
