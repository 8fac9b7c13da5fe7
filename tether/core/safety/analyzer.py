"""CommandAnalyzer and PathAnalyzer: risk facts about what a tool call would do.

`CommandAnalyzer` turns each simple command of a parsed shell command into a
`CommandAnalysis`: its risk facts (recursive delete, pipe to shell, force
push, ...), the paths it names, and its subcommand words. It runs a
configured sequence of small processors (`processors.py`) over each command,
then passes over the line's commands in order (`command_sequence.py`).
`PathAnalyzer` recognises credential files (`.env`, `~/.ssh/`, `*.pem`,
`id_rsa`, `/etc/shadow`...), also through `..`, `~`, globs and, once the
sandbox has resolved them, symlinks.
"""

from __future__ import annotations

import posixpath
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from keyword import iskeyword
from operator import attrgetter
from types import CodeType, FunctionType

from tether.core.safety.analysis import CommandAnalysis, ScriptAnalysis, max_level
from tether.core.safety.command_sequence import ListedArguments, SequencePass, runs_downloads
from tether.core.safety.facts import RiskFact, make_fact
from tether.core.safety.processors import Needs, Processor, default_processors, vet_options
from tether.core.safety.programs import Findings, analyze_program, scanners
from tether.core.safety.registry import lookup, vet
from tether.core.safety.registry.layered import ProgramLookup
from tether.core.safety.registry.spec import Node
from tether.core.safety.registry.system import FAMILIES
from tether.core.safety.shell import ShellParser, ShellScript, SimpleCommand
from tether.core.safety.shell_glob import Reading, matcher

__all__ = [
    "CommandAnalysis",
    "CommandAnalyzer",
    "PathAnalyzer",
    "ScriptAnalysis",
    "max_level",
]


# -- credential paths ---------------------------------------------------------------------

_CREDENTIAL_DIRS = {
    ".ssh": "SSH keys",
    ".gnupg": "GnuPG keys",
    ".aws": "AWS credentials",
    ".azure": "Azure credentials",
    ".password-store": "a password store",
    ".docker": None,  # only config.json holds credentials
    ".kube": None,
}
_CREDENTIAL_NAMES = {
    ".netrc": "a .netrc with passwords",
    "_netrc": "a .netrc with passwords",
    ".npmrc": "an .npmrc (registry tokens)",
    ".pypirc": "a .pypirc (index passwords)",
    ".pgpass": "a PostgreSQL password file",
    ".my.cnf": "a MySQL password file",
    ".git-credentials": "stored git credentials",
    ".htpasswd": "a password file",
    ".dockercfg": "Docker registry credentials",
    ".vault-token": "a Vault token",
    ".boto": "cloud credentials",
    ".s3cfg": "S3 credentials",
    ".envrc": "a direnv file (environment secrets)",
    ".yarnrc.yml": "a .yarnrc.yml (registry tokens)",
    ".yarnrc": "a .yarnrc (registry tokens)",
    ".terraformrc": "Terraform registry tokens",
    "terraform.rc": "Terraform registry tokens",
    "auth.json": "Composer registry credentials",
    ".sentryclirc": "a Sentry token",
    "credentials.tfrc.json": "Terraform Cloud tokens",
    ".circlerc": "CI tokens",
    ".gitlab-ci-token": "a CI job token",
    ".datadog.yaml": "monitoring API keys",
    "datadog.yaml": "monitoring API keys",
    "newrelic.ini": "monitoring licence keys",
    "settings-security.xml": "Maven master password",
    ".dev.vars": "a secrets file",
    ".secrets": "a secrets file",
    ".credentials": "a credentials file",
    "credentials": "a credentials file",
    "kubeconfig": "cluster credentials",
    "shadow": "system password hashes",
    "gshadow": "system password hashes",
    "master.passwd": "system password hashes",
    "sudoers": "sudo configuration",
    ".bash_history": "shell history",
    ".zsh_history": "shell history",
    ".sh_history": "shell history",
    ".history": "shell history",
    ".python_history": "interpreter history",
    ".node_repl_history": "interpreter history",
    ".psql_history": "database client history",
    ".mysql_history": "database client history",
    ".sqlite_history": "database client history",
    ".rediscli_history": "database client history",
    "wallet.dat": "a cryptocurrency wallet",
    "login.keychain": "a keychain",
    "login.keychain-db": "a keychain",
    "key3.db": "browser passwords",
    "key4.db": "browser passwords",
    "logins.json": "browser passwords",
    "login data": "browser passwords",
    "cookies": "browser cookies",
    "authorized_keys": "SSH authorised keys",
    "known_hosts": "SSH known hosts",
}
_KEY_FILE = re.compile(r"^id_(rsa|dsa|ecdsa|ed25519)(_sk)?$|^identity$")
_KEY_EXTENSIONS: tuple[str, ...] = ("pem", "key", "p12", "pfx", "jks", "keystore", "kdbx")
_KEY_EXTENSIONS += ("ppk", "der", "p8", "pkcs12", "ovpn")
_KEY_SUFFIX = re.compile(rf"\.({'|'.join(_KEY_EXTENSIONS)})$")
_DATA_SUFFIX = (
    r"\.(json|ya?ml|toml|xml|csv|ini|txt|cfg|conf|properties|env|enc|json\.enc|ya?ml\.enc)"
)
_CREDENTIAL_FILE = re.compile(rf"^(.*[-_.])?credentials?([-_.][^/]*)?{_DATA_SUFFIX}$")
_SECRET_FILE = re.compile(rf"^(.*[-_.])?secrets?([-_.][^/]*)?{_DATA_SUFFIX}$")
_CLOUD_KEY_FILE = re.compile(
    r"^(client_secret.*|.*service[-_]?account.*|.*-adminsdk-.*|.*gcp[-_]key.*)\.json$"
)
_TFSTATE = re.compile(r"\.tfstate(\.backup)?$|\.tfvars(\.json)?$")
"""Terraform state and variable files (both hold secrets)."""
_PATH_PATTERNS = (
    (re.compile(r"(^|/)proc(/[^/]*)*/environ$"), "a process environment"),
    (re.compile(r"(^|/)proc/[^/]+/(mem|maps|auxv)$"), "process memory"),
    (re.compile(r"(^|/)etc/ssh/ssh_host_[^/]*key$"), "SSH host keys"),
    (re.compile(r"(^|/)etc/sudoers\.d(/|$)"), "sudo configuration"),
    (re.compile(r"(^|/)\.docker/config\.json$"), "Docker registry credentials"),
    (re.compile(r"(^|/)\.kube/config$"), "cluster credentials"),
    (re.compile(r"(^|/)\.config/gcloud(/|$)"), "Google Cloud credentials"),
    (re.compile(r"(^|/)\.config/gh/hosts\.ya?ml$"), "GitHub CLI tokens"),
    (re.compile(r"(^|/)\.config/(op|1password|bitwarden|keybase)(/|$)"), "a password manager"),
    (re.compile(r"(^|/)\.terraform\.d/credentials"), "Terraform credentials"),
    (re.compile(r"(^|/)\.cargo/credentials(\.toml)?$"), "Cargo registry tokens"),
    (re.compile(r"(^|/)\.gem/credentials$"), "RubyGems credentials"),
    (re.compile(r"(^|/)\.m2/settings(-security)?\.xml$"), "Maven credentials"),
    (re.compile(r"(^|/)\.gradle/gradle\.properties$"), "Gradle credentials"),
    (re.compile(r"(^|/)library/keychains(/|$)"), "a keychain"),
    (re.compile(r"(^|/)\.local/share/keyrings(/|$)"), "a keyring"),
    (re.compile(r"(^|/)\.mozilla/"), "a browser profile"),
    (re.compile(r"(^|/)(google-chrome|chromium|bravesoftware)/"), "a browser profile"),
    (re.compile(r"(^|/)\.git/config$"), None),
)

_SEGMENT_START = "(^|/)"
# One pass over an ordinary path instead of one per pattern (the gate's hot path). Every
# pattern starts at a path segment, so the start is matched once, not per pattern: a
# position that is no segment start fails at once instead of trying every alternative.
assert all(p.pattern.startswith(_SEGMENT_START) for p, _ in _PATH_PATTERNS)
_ANY_PATH_PATTERN = re.compile(
    "(?:^|/)(?:"
    + "|".join(f"(?:{p.pattern.removeprefix(_SEGMENT_START)})" for p, _ in _PATH_PATTERNS)
    + ")"
)


def _leading_segments(pattern: str) -> tuple[str, ...]:
    """The segments a location pattern must find whole at its start (`(a|b)/x`: a, b)."""
    rest = pattern.removeprefix(_SEGMENT_START)
    found = re.match(r"\(([\w.\\|-]+)\)/|([\w.\\-]+)(?:/|\(/)", rest)
    assert found is not None, f"no leading segment in {pattern!r}"
    names = (found.group(1) or found.group(2)).replace("\\.", ".").split("|")
    assert all(re.fullmatch(r"[\w.-]+", name) for name in names), pattern
    return tuple(names)


# Every location pattern that gives a reason starts, after a segment start, with a whole
# literal segment followed by `/` (checked as it is read above), so a path none of whose
# segments is one of those cannot match any of them. With the credential directories,
# one set test on the segments says whether either table can have anything to say.
_SEGMENT_HINTS = frozenset(
    {name for p, reason in _PATH_PATTERNS if reason for name in _leading_segments(p.pattern)}
    | {name for name, reason in _CREDENTIAL_DIRS.items() if reason}
)

# Concrete credential names a glob is tested against, and ordinary names that
# show a glob is too broad to call a credential read by itself.
_CREDENTIAL_SAMPLES = (
    ".env",
    ".env.local",
    ".env.production",
    "app.env",
    "id_rsa",
    "id_ed25519",
    "id_ecdsa",
    "credentials",
    "credentials.json",
    "secrets.yaml",
    "secrets.json",
    "server.pem",
    "server.key",
    ".netrc",
    ".npmrc",
    ".pypirc",
    ".git-credentials",
    ".pgpass",
    "shadow",
    ".bash_history",
    "terraform.tfstate",
    "client_secret.json",
    "keystore.jks",
    ".envrc",
)
_ORDINARY_SAMPLES = (
    "package.json",
    "config.yaml",
    "data.csv",
    "notes.txt",
    "settings.toml",
    "app.ini",
    "main.py",
    "README.md",
    "index.js",
    "setup.cfg",
    "pom.xml",
    "Makefile",
    "src",
    "file",
    ".gitignore",
    ".editorconfig",
    "a",
)


class PathAnalyzer:
    """Recognises credential and secret files by name and location."""

    def credential_reason(self, path: str, *, glob: bool = False) -> str | None:
        """What secret `path` holds ("SSH keys", "a .env file"), or None.

        `path` may be relative, use `~` and `..`, or (with `glob`) be a pattern:
        then it counts when it could match a credential file name without
        matching ordinary names too (`.e*`, `id_*`, `*.pem`, not `*`).
        """
        if not path or "\x00" in path:
            return None
        if not path.isascii():
            # `\uff0eenv` (a full-width dot) is a different file, but the same name to a
            # reader: compatibility forms count as the letters they stand for.
            path = unicodedata.normalize("NFKC", path)
        slashed = path.replace("\\", "/")
        # `not _is_normal(slashed)`, inline: only a path normpath would change is normalised.
        if (
            slashed[:1] == "."
            or "/." in slashed
            or "//" in slashed
            or (slashed[-1:] == "/" and slashed != "/")
        ):
            slashed = posixpath.normpath(slashed)
        normal = slashed.lower()
        if glob and any(c in normal for c in "*?["):
            return self._glob_reason(normal)
        pieces = normal.split("/")
        if _SEGMENT_HINTS.isdisjoint(pieces):
            # `_plain_reason` for a path none of whose segments names a credential
            # directory or starts a location pattern (most paths): the name decides. Only
            # `/` and `//` end in a `/` once normal, and then the name is the path itself.
            return _name_reason(pieces[-1] or normal)
        return self._plain_reason(normal)

    def _plain_reason(self, normal: str) -> str | None:
        pieces = normal.split("/")
        # The directories, then the name, are looked up in the same table: one ordered
        # pass over every segment, entered only when some segment names one with a reason
        # or starts a location pattern (the loop then finds no directory: the same answer).
        hinted = not _SEGMENT_HINTS.isdisjoint(pieces)
        if hinted:
            for part in pieces:
                reason = _CREDENTIAL_DIRS.get(part)
                if reason:
                    return reason
        name = pieces[-1]
        if not name:  # a trailing `/` (only `/` and `//` keep one after normpath)
            parts = [p for p in pieces if p]
            name = parts[-1] if parts else normal
        reason = _name_reason(name)
        if reason is not None:
            return reason
        if hinted and _ANY_PATH_PATTERN.search(normal):
            for pattern, pattern_reason in _PATH_PATTERNS:
                if pattern_reason is not None and pattern.search(normal):
                    return pattern_reason
        return None

    def _glob_reason(self, normal: str) -> str | None:
        parts = [p for p in normal.split("/") if p]
        for part in parts[:-1]:
            if any(c in part for c in "*?["):
                for directory, reason in _CREDENTIAL_DIRS.items():
                    if reason and _glob_match(part, directory):
                        return reason
            elif _CREDENTIAL_DIRS.get(part):
                return _CREDENTIAL_DIRS[part]
        name = parts[-1] if parts else normal
        if not any(c in name for c in "*?["):
            return self._plain_reason(normal)
        # A pattern that also matches ordinary names is too broad to call a credential
        # read by itself (the sandbox then checks the files it matches); a dot-file
        # pattern is not, since `.env` is what it would reveal.
        if not name.startswith(".") and any(
            _glob_match(name, s, Reading.NARROW) for s in _ORDINARY_SAMPLES
        ):
            return None
        for sample in _CREDENTIAL_SAMPLES:
            if _glob_match(name, sample):
                return _name_reason(sample)
        return None


_PLACEHOLDER = re.compile(
    r"(^|[-_.])(example|sample|template|dist|defaults|schema|tmpl|tpl)([-_.]|$)"
)


_ENV_PREFIXES = (".env.", ".env-", ".env_", ".env~")
_ENV_SUFFIXES = (".env", ".env~", ".env.swp", ".env.bak")
_NAME_SUFFIXES = (
    *_ENV_SUFFIXES,
    *(f".{ext}" for ext in _KEY_EXTENSIONS),
    *(".tfstate", ".tfstate.backup", ".tfvars", ".tfvars.json"),
)
"""The endings `_ENV_SUFFIXES`, `_KEY_SUFFIX` and `_TFSTATE` test for (`$` aside)."""


def _name_reason(name: str) -> str | None:
    # A cheap test first: a name none of the tests below could say anything of is the
    # common case. Each of them needs what this looks for: a listed name, a `.env` start,
    # one of the endings the suffix patterns end with (or a newline, before which `$`
    # also matches), an `id` start (`_KEY_FILE`), or a word `_CREDENTIAL_FILE`,
    # `_SECRET_FILE` or `_CLOUD_KEY_FILE` needs (`client_secret` has `secret`).
    if (
        name not in _CREDENTIAL_NAMES
        and not name.startswith((".env", "id"))
        and not name.endswith(_NAME_SUFFIXES)
        and "\n" not in name
        and "secret" not in name
        and "credential" not in name
        and "service" not in name
        and "adminsdk" not in name
        and "gcp" not in name
    ):
        return None
    if _PLACEHOLDER.search(name):
        return None  # `.env.example`, `secrets.sample.yaml`: documentation, not secrets
    if name in _CREDENTIAL_NAMES:
        return _CREDENTIAL_NAMES[name]
    if name == ".env" or name.startswith(_ENV_PREFIXES) or name.endswith(_ENV_SUFFIXES):
        return "a .env file (secrets)"
    if _KEY_FILE.match(name):
        return "an SSH private key"
    if _KEY_SUFFIX.search(name):
        return "a private key or keystore"
    if _CREDENTIAL_FILE.match(name) or _SECRET_FILE.match(name) or _CLOUD_KEY_FILE.match(name):
        return "a credentials file"
    if _TFSTATE.search(name):
        return "Terraform state (holds secrets)"
    return None


def _is_normal(path: str) -> bool:
    """Whether `posixpath.normpath` would return `path` unchanged (the common case).

    A `.` or `..` component starts the path or follows a `/`; an empty one comes
    from `//` or a trailing `/`. A path with none of these is already normal, and so is
    the root, `/` (`rm -rf /`): its one `/` is no trailing one.
    """
    # The first and last letters by slices: `startswith` and `endswith` cost twice as much.
    return not (
        path[:1] == "." or "/." in path or "//" in path or (path[-1:] == "/" and path != "/")
    )


def _glob_match(pattern: str, name: str, reading: Reading = Reading.WIDE) -> bool:
    """Whether the glob `pattern` may match `name` in any case (`WIDE`: whatever the locale
    makes of `[[=e=]]`), or surely matches it as written (`NARROW`), as bash reads it."""
    # As bash does by default: a leading dot is only matched by a leading dot.
    if name.startswith(".") and not pattern.startswith("."):
        return False
    # The pattern is lower-cased already; a case-blind match keeps `[^A-Z]` (now `[^a-z]`)
    # matching `e`, as it does.
    fold = reading is Reading.WIDE
    return matcher(pattern, reading, escapes=True, fold=fold)(name) is not None


# -- commands -----------------------------------------------------------------------------

_tuple_new = tuple.__new__
"""Builds the analyses as their named tuples' own `__new__` does, without its frame."""


class CommandAnalyzer:
    """Risk facts for shell commands: a configured sequence of processors over each command.

    Every simple command runs through `processors` in order (each adds the facts
    of one concern to the command's `Findings`), then the line's analysed
    commands run through `passes` (facts that come from their order), and the
    parser's problems and recursive functions become facts of the whole line.

    Args:
        parser: parses shell strings found inside inline code (`os.system("...")`).
        paths: recognises credential paths.
        processors: the per-command sequence; `default_processors` when None.
        programs: the program specs, plugins' contributions included (None:
            the registry's alone); read by the default processors.
        processors: the per-command sequence; `default_processors` when None.
        passes: the per-line sequence; `ListedArguments` then `runs_downloads` when None.
    """

    def __init__(
        self,
        parser: ShellParser,
        paths: PathAnalyzer,
        programs: ProgramLookup | None = None,
        *,
        processors: Sequence[Processor] | None = None,
        passes: Sequence[SequencePass] | None = None,
    ) -> None:
        self._processors = (
            tuple(processors)
            if processors is not None
            else default_processors(parser, paths, self._facts_of, programs)
        )
        self._passes = (
            tuple(passes) if passes is not None else (ListedArguments(paths), runs_downloads)
        )
        self._passes_for = _selecting(self._passes)
        self._choices = _choices(self._processors)
        self._named: frozenset[str] = frozenset().union(*(c[1] for c in self._choices))
        self._plan = _plan(self._choices, frozenset())
        # Each plan as one function with its tests written out (`_compile`): a command
        # costs one call per processor that runs and nothing per one skipped, instead of
        # a loop that calls a getter per declared field. The default one is built here;
        # a named program's on its first command (`_unplanned`): of the hundreds the
        # processors name, a run meets a few, and each costs a plan and a function.
        self._runner = _compile(self._plan, None)
        self._runners: dict[str, Callable[[SimpleCommand], CommandAnalysis]] = {}
        # Each command's runner, then the passes `_passes_for` picks, in one loop.
        self._analyze_lines = _analyzing(self._passes, self._runners, self._unplanned)

    @property
    def processors(self) -> tuple[Processor, ...]:
        """The per-command sequence, in the order it runs."""
        return self._processors

    def analyze_script(self, script: ShellScript) -> ScriptAnalysis:
        """Analyse every command of `script`, and the script as a whole.

        Each pass over the line runs when a command has what it declared it needs
        (`Needs`: a field set, a program named), or on every line when it declared
        nothing else; otherwise it would return the line unchanged, and is not called.
        """
        commands = self._analyze_lines(script.commands)
        if not (script.problems or script.recursive_functions):
            return _tuple_new(ScriptAnalysis, (tuple(commands), ()))
        facts: list[RiskFact] = []
        for problem in script.problems:
            facts.append(make_fact("not_understood", problem))
        for name in script.recursive_functions:
            facts.append(make_fact("fork_bomb", f"function {name!r} calls itself"))
        return _tuple_new(ScriptAnalysis, (tuple(commands), tuple(facts)))

    def analyze(self, command: SimpleCommand) -> CommandAnalysis:
        """The facts and paths of one simple command.

        The processors run in their configured order; one that declared what it
        needs (`Needs`) is skipped for a command that has none of it, or has
        what it says makes it add nothing, which is exactly when it would add
        nothing.
        """
        run = self._runners.get(command.program)
        if run is None:
            run = self._unplanned(command.program)
        return run(command)

    def _unplanned(self, program: str) -> Callable[[SimpleCommand], CommandAnalysis]:
        """The compiled plan of a program not met yet or no `Needs` names: its own, its
        family's, or the default."""
        if program not in self._named and not program.startswith(_FAMILY_PREFIXES):
            return self._runner  # the common case, settled without a call
        name = self._planned(program)
        if name is None:
            return self._runner
        run = self._runners.get(name)
        if run is None:
            # Kept by a name some `Needs` names (a finite set), never by the program
            # word as given: that comes from untrusted input.
            run = self._runners[name] = _compile(self._plan_for(name), name)
        return run

    def _planned(self, program: str) -> str | None:
        """The name whose plan `program` runs: itself when a `Needs` names it, else its
        family's when a `Needs` names that; None: the default plan."""
        if program in self._named:
            return program
        for prefix, family in FAMILIES:
            if program.startswith(prefix):
                return family if family in self._named else None
        return None

    def _plan_for(self, name: str) -> _Plan:
        """The plan of a named program: as its name and its family's together, since the
        registry gives a family member (`mkfs.ext4`) its family's spec."""
        names = {name}
        names.update(family for prefix, family in FAMILIES if name.startswith(prefix))
        return _plan(self._choices, frozenset(names))

    def runs(self, command: SimpleCommand) -> tuple[Processor, ...]:
        """The processors `analyze` calls for `command`, in order (read from the plan's
        steps one by one, as the compiled plan tests them)."""
        f = Findings(command)
        called = []
        for processor, when, unless in self._plan_of(command.program):
            if when and not any(_holds(test, f) for test in when):
                continue
            if any(attrgetter(field)(f) for field in unless):
                continue
            processor(f)
            called.append(processor)
        return tuple(called)

    def _plan_of(self, program: str) -> _Plan:
        name = self._planned(program)
        return self._plan if name is None else self._plan_for(name)

    def _facts_of(self, command: SimpleCommand) -> tuple[RiskFact, ...]:
        return self.analyze(command).facts


_FAMILY_PREFIXES = tuple(prefix for prefix, _ in FAMILIES)
"""What a program word of a family starts with (`CommandAnalyzer._planned` says which)."""

_PROGRAM_PATH = "/"
"""The test `Needs.program_path` declares: a `/` in the program word (no field path is
spelled so: each is checked to be made of attribute names)."""
_Test = str | frozenset[str]
"""One reason a step runs: a field path read from the findings (`command.redirects`),
`_PROGRAM_PATH`, or words the command's one argument is one of (`Needs.sole_argument`)."""
_Step = tuple[Processor, tuple[_Test, ...], tuple[str, ...]]
"""(processor, when, unless): it runs when `when` is empty or a test it names holds,
and no field `unless` names is set; each field read from the findings."""
_Plan = tuple[_Step, ...]


def _holds(test: _Test, f: Findings) -> bool:
    """Whether `test` holds for `f`, read as the compiled plan reads it."""
    if test == _PROGRAM_PATH:
        return "/" in f.command.program_text
    if isinstance(test, str):
        return bool(attrgetter(test)(f))
    args = f.command.args
    return len(args) == 1 and args[0] in test


_Choice = tuple[Processor, frozenset[str], _Step, _Step | None]
"""(processor, programs, named, other): a processor's step in the plan of a program its
`Needs` names (`programs`), and in the plan of any other (None: it is left out)."""


def _choices(processors: Sequence[Processor]) -> tuple[_Choice, ...]:
    """Each processor's steps, read from its `Needs` once (field names checked here).

    A processor that declared fields runs when the command or the findings so far
    have one of them set (or what else it declared holds: a program word with a `/`,
    a sole argument it names); one that declared `unless` fields is skipped when one
    is set. A processor that needs programs alone is left out of the plan of every
    other program.
    """
    choices: list[_Choice] = []
    for processor in processors:
        need = _needs_of(processor)
        if need is None:
            step: _Step = (processor, (), ())
            choices.append((processor, frozenset(), step, step))
            continue
        unless = _fields(need.unless)
        named: _Step = (processor, (), unless)
        other: _Step | None = named if not need.narrowed else None
        if need.narrowed and need.triggered:
            when: list[_Test] = list(
                _fields((*(f"command.{name}" for name in need.fields), *need.found))
            )
            if need.program_path:
                when.append(_PROGRAM_PATH)
            if need.sole_argument:
                when.append(need.sole_argument)
            other = (processor, tuple(when), unless)
        choices.append((processor, need.programs, named, other))
    return tuple(choices)


def _plan(choices: Sequence[_Choice], names: frozenset[str]) -> _Plan:
    """Which processors run, in order, for a program known by `names` (none: the rest)."""
    steps = []
    for _, programs, named, other in choices:
        step = named if names & programs else other
        if step is not None:
            steps.append(step)
    return tuple(steps)


def _watched(step: SequencePass) -> tuple[frozenset[str], tuple[str, ...]] | None:
    """The programs and command fields a pass declared it needs (None: it declared nothing,
    or more than programs and fields, and every line runs through it)."""
    need = _needs_of(step)
    if need is None or need.found or need.unless or need.program_path or need.sole_argument:
        return None
    for name in need.fields:
        if not name.isidentifier() or iskeyword(name):
            raise ValueError(f"a pass's Needs names {name!r}, which is no field name")
    return need.programs, need.fields


_MAX_WATCHED = 8
"""Passes read by declaration at most (a table of 2**8 selections); any further run always."""


def _selection(
    passes: Sequence[SequencePass], program: str = "command.program"
) -> tuple[dict[str, object], list[str]]:
    """The table of the passes each selection runs, and the code that reads one `command`
    (its program read as `program`) into the selection `wanted` (`_selecting` and
    `_analyzing` write it into a loop).

    Each pass that declared programs and fields (`_watched`) has a bit, set by a command
    of one of its programs or with one of its fields set; the bits of the line index a
    table of the passes to run, made here once. A pass that declared nothing else runs
    on every line. Written out like a plan (`_compile`): the programs bound by name, the
    fields (checked to be field names) read directly.
    """
    watched: list[tuple[int, frozenset[str], tuple[str, ...]]] = []
    for index, step in enumerate(passes):
        declared = _watched(step)
        if declared is not None and len(watched) < _MAX_WATCHED:
            watched.append((index, *declared))
    bits = {index: 1 << bit for bit, (index, _, _) in enumerate(watched)}
    table = tuple(
        tuple(
            step for index, step in enumerate(passes) if index not in bits or wanted & bits[index]
        )
        for wanted in range(1 << len(watched))
    )
    scope: dict[str, object] = {"table": table}
    tests: list[str] = []
    for index, programs, fields in watched:
        reads = [f"command.{name}" for name in fields]
        if programs:
            scope[f"programs{index}"] = programs
            reads.insert(0, f"{program} in programs{index}")
        if reads:  # a pass that named nothing has nothing to do on any line
            tests.append(f"if {' or '.join(reads)}:")
            tests.append(f"    wanted |= {bits[index]}")
    return scope, tests


def _selecting(
    passes: Sequence[SequencePass],
) -> Callable[[Sequence[SimpleCommand]], tuple[SequencePass, ...]]:
    """The passes a line needs, in their order, as one function of its commands."""
    scope, tests = _selection(passes)
    if tests:
        lines = ["def select(commands):", "    wanted = 0", "    for command in commands:"]
        lines.extend(f"        {test}" for test in tests)
        lines.append("    return table[wanted]")
    else:
        lines = ["def select(commands):", "    return table[0]"]
    exec(_compiled("\n".join(lines), "<passes' needs>"), scope)
    return scope["select"]  # type: ignore[return-value]


def _analyzing(
    passes: Sequence[SequencePass],
    runners: dict[str, Callable[[SimpleCommand], CommandAnalysis]],
    unplanned: Callable[[str], Callable[[SimpleCommand], CommandAnalysis]],
) -> Callable[[Sequence[SimpleCommand]], list[CommandAnalysis]]:
    """A line's commands analysed, then the passes `_selecting` would pick run over them:
    one loop that runs each command's plan and reads the command for the passes, instead
    of a second call and loop over the line for the passes alone."""
    # The program is read once into a local: a named tuple's field costs several times
    # a local's read, and the runner and the passes' tests both want it.
    scope, tests = _selection(passes, "program")
    scope["get"] = runners.get
    scope["unplanned"] = unplanned
    lines = [
        "def analyze_lines(commands):",
        "    analyses = []",
        "    wanted = 0",
        "    for command in commands:",
        "        program = command.program",
        "        run = get(program)",
        "        if run is None:",
        "            run = unplanned(program)",
        "        analyses.append(run(command))",
        *(f"        {test}" for test in tests),
        "    for step in table[wanted]:",
        "        analyses = step(analyses)",
        "    return analyses",
    ]
    exec(_compiled("\n".join(lines), "<analysis of a line>"), scope)
    return scope["analyze_lines"]  # type: ignore[return-value]


def _fields(fields: Iterable[str]) -> tuple[str, ...]:
    """Field paths checked to be attribute names (they are written into a plan's code)."""
    checked = tuple(fields)
    for field in checked:
        if not all(part.isidentifier() and not iskeyword(part) for part in field.split(".")):
            raise ValueError(f"a processor's Needs names {field!r}, which is no field name")
    return checked


def _compile(plan: _Plan, program: str | None) -> Callable[[SimpleCommand], CommandAnalysis]:
    """`plan` as one function from a command to its analysis, each step's test written out.

    The code is made only from the plan: processors are bound by position, and the
    field names were checked to be attribute names (`_fields`). `program` names the
    program whose plan it is (None: the default plan); the registry's two steps (the
    program's detectors, vetting against its spec) are bound to what they would look
    up for it on every command (`_program_step`).
    """
    # The analysis is made as CommandAnalysis's own `__new__` makes it (`tuple.__new__` of
    # its fields), without that Python-level frame, once per command; and so are the
    # findings, as `Findings.__init__` fills them in (without the call through the class).
    scope: dict[str, object] = {
        "Findings": Findings,
        "CommandAnalysis": CommandAnalysis,
        "_tuple_new": tuple.__new__,
        "_new": object.__new__,
        "vet": vet,
    }
    if Findings.__slots__ != _FINDINGS_SLOTS:
        raise TypeError("Findings changed its slots: change the plan's first lines too")
    lines = [
        "def analyze(command):",
        "    f = _new(Findings)",
        "    f.command = command",
        "    f.facts = []",
        "    f.paths = []",
        "    f.subcommand = ()",
        "    f.handled_paths = False",
        "    f.shell_strings = []",
    ]
    for index, (processor, when, unless) in enumerate(plan):
        if program is not None and not when and not unless:
            bound = _program_step(processor, program, index, scope)
            if bound is not None:
                lines.extend(bound)
                continue
        scope[f"p{index}"] = _direct(processor)
        tests = []
        if when:
            reads = []
            for test in when:
                if test == _PROGRAM_PATH:
                    reads.append('"/" in command.program_text')
                elif isinstance(test, str):
                    # `command.x` from the local: the one `f.command` holds, one load less.
                    reads.append(test if test.startswith("command.") else f"f.{test}")
                else:
                    # The words are bound by name: the code stays one per shape. Bound as
                    # the calls of one word each (`("--version",)`): one set test of the
                    # words, read once, says whether they are one word and which.
                    scope[f"w{index}"] = frozenset((word,) for word in test)
                    reads.append(f"command.args in w{index}")
            tests.append("(" + " or ".join(reads) + ")")
        if unless:
            tests.append("not (" + " or ".join(f"f.{field}" for field in unless) + ")")
        if tests:
            lines.append(f"    if {' and '.join(tests)}:")
            lines.append(f"        p{index}(f)")
        else:
            lines.append(f"    p{index}(f)")
    # Most commands find neither facts nor paths: the empty tuple without a call for it.
    lines.append("    facts = tuple(f.facts) if f.facts else ()")
    lines.append("    paths = tuple(f.paths) if f.paths else ()")
    if CommandAnalysis._fields != ("command", "facts", "paths", "subcommand"):
        raise TypeError("CommandAnalysis changed its fields: change the plan's last line too")
    lines.append("    return _tuple_new(CommandAnalysis, (command, facts, paths, f.subcommand))")
    exec(_compiled("\n".join(lines), "<analysis plan>"), scope)
    return scope["analyze"]  # type: ignore[return-value]


_FINDINGS_SLOTS = ("command", "facts", "handled_paths", "paths", "shell_strings", "subcommand")
"""The slots `Findings.__init__` fills in, which a plan's first lines fill in as it does."""


def _program_step(
    processor: Processor, program: str, index: int, scope: dict[str, object]
) -> list[str] | None:
    """The lines of a step of `program`'s plan that runs the registry's knowledge of it,
    bound when the plan is compiled; None for any other step (it is called as it is).

    `analyze_program` runs the detectors its spec names and `vet_options` vets against
    its spec, each looking the spec up by the command's program on every command. Every
    command this plan runs for has the spec of `program` (the plan's own name, or its
    family's: `lookup` gives a family member without a spec of its own its family's), and
    specs are static data, so the detectors and the spec are looked up here, once: the
    step runs what the processor would run, without its call and lookup.
    """
    if processor is analyze_program:
        lines = []
        for position, handler in enumerate(scanners(program)):
            scope[f"s{index}_{position}"] = handler
            lines.append(f"    s{index}_{position}(f)")
        return lines
    if processor is vet_options:
        spec = lookup(program)
        if spec is None:
            return []  # `vet_options` returns at once for a program without a spec
        scope[f"s{index}"] = spec
        vetted = f"vet(f, s{index}, name_paths=not f.handled_paths)"
        # A root with subcommands is left to `vet`: its calls mostly name one (`git
        # status`), and the test would only add to their cost.
        if not spec.subs and _quiet_when_plain(spec):
            # `pytest -q`, `ls -la`, `pytest` alone: nothing to vet, name or detect.
            vetted = f"() if s{index}.plain.issuperset(command.args) else {vetted}"
        # `vet_options` past its lookup, as written there (a test holds the two alike).
        return [
            '    if not (f.subcommand and f.subcommand[0] == "help"):',
            f"        f.subcommand = {vetted}",
            "        f.handled_paths = True",
        ]
    return None


def _quiet_when_plain(root: Node) -> bool:
    """Whether `vet` of a call of `root` whose words are all in `root.plain` (or that has
    no words) returns () and adds nothing.

    `vet` reads each such word alone and holds it for nothing (`Node.plain`: quiet,
    taking no value), so its walk ends at the root with no operand, no option to vet and
    no subcommand word; what is left is the root's own facts and detectors.
    """
    return not (root.facts or root.detect)


def _direct(processor: Processor) -> Processor:
    """What a call of `processor` runs: an instance's `__call__` bound once, or itself.

    A call of an instance looks its class's `__call__` up and binds it on every call
    (`CredentialPaths()`, on every command naming a path); the method bound here is the
    one that call would make.
    """
    if isinstance(processor, FunctionType):
        return processor
    # The class's own `__call__` (a function to bind), not a test of being callable.
    call = getattr(type(processor), "__call__", None)  # noqa: B004
    if isinstance(call, FunctionType):
        bound: Processor = call.__get__(processor)
        return bound
    return processor


def _compiled(source: str, name: str) -> CodeType:
    code = _PLAN_CODE.get(source)
    if code is None:
        # Compiling is what costs (about 0.1 ms a plan, and a process builds many);
        # the code depends only on the plan's shape, the processors are bound by `scope`.
        code = _PLAN_CODE[source] = compile(source, name, "exec")
    return code


_PLAN_CODE: dict[str, CodeType] = {}
"""Compiled code by its source: plans of one shape share it, in a build and across builds."""


def _needs_of(processor: Processor | SequencePass) -> Needs | None:
    need = getattr(processor, "needs", None)
    return need if isinstance(need, Needs) else None
