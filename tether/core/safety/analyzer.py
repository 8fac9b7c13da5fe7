"""CommandAnalyzer and PathAnalyzer: risk facts about what a tool call would do.

`CommandAnalyzer` turns each simple command of a parsed shell command into a
`CommandAnalysis`: its risk facts (recursive delete, pipe to shell, force
push, ...), the paths it names, and its subcommand words. `PathAnalyzer`
recognises credential files (`.env`, `~/.ssh/`, `*.pem`, `id_rsa`,
`/etc/shadow`...), also through `..`, `~`, globs and, once the sandbox has
resolved them, symlinks.
"""

from __future__ import annotations

import fnmatch
import posixpath
import re
import unicodedata
from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict

from tether.core.safety.facts import PathUse, RiskFact, RiskLevel, make_fact
from tether.core.safety.programs import (
    Findings,
    analyze_program,
    is_block_device,
    is_secret_name,
)
from tether.core.safety.programs.base import names
from tether.core.safety.registry import REGISTRY, vet
from tether.core.safety.registry.detect_code import DECODERS
from tether.core.safety.registry.dev import UPLOADS
from tether.core.safety.registry.environment import (
    LOADS_CODE,
    SEARCH_PATHS,
    builtin_assignments,
    is_harmless,
)
from tether.core.safety.registry.git import runs_command
from tether.core.safety.registry.network import NETWORK_PROGRAMS
from tether.core.safety.registry.versions import VERSION_FLAGS, VERSION_WORDS
from tether.core.safety.shell import ShellParser, ShellScript, SimpleCommand

__all__ = [
    "CommandAnalysis",
    "CommandAnalyzer",
    "PathAnalyzer",
    "ScriptAnalysis",
    "max_level",
]


def max_level(facts: Sequence[RiskFact]) -> RiskLevel:
    """The highest level among `facts` (NONE when there are none)."""
    level = RiskLevel.NONE
    for fact in facts:
        if fact.level.rank > level.rank:
            level = fact.level
    return level


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
_KEY_SUFFIX = re.compile(r"\.(pem|key|p12|pfx|jks|keystore|kdbx|ppk|der|p8|pkcs12|ovpn)$")
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

# One pass over an ordinary path instead of one per pattern (the gate's hot path).
_ANY_PATH_PATTERN = re.compile("|".join(f"(?:{p.pattern})" for p, _ in _PATH_PATTERNS))

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
        normal = posixpath.normpath(path.replace("\\", "/")).lower()
        if glob and any(c in normal for c in "*?["):
            return self._glob_reason(normal)
        return self._plain_reason(normal)

    def _plain_reason(self, normal: str) -> str | None:
        parts = [p for p in normal.split("/") if p]
        for part in parts[:-1]:
            reason = _CREDENTIAL_DIRS.get(part)
            if reason:
                return reason
        name = parts[-1] if parts else normal
        if _CREDENTIAL_DIRS.get(name):
            return _CREDENTIAL_DIRS[name]
        reason = _name_reason(name)
        if reason is not None:
            return reason
        if _ANY_PATH_PATTERN.search(normal):
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
        if not name.startswith(".") and any(_glob_match(name, s) for s in _ORDINARY_SAMPLES):
            return None
        for sample in _CREDENTIAL_SAMPLES:
            if _glob_match(name, sample):
                return _name_reason(sample)
        return None


_PLACEHOLDER = re.compile(
    r"(^|[-_.])(example|sample|template|dist|defaults|schema|tmpl|tpl)([-_.]|$)"
)


def _name_reason(name: str) -> str | None:
    if _PLACEHOLDER.search(name):
        return None  # `.env.example`, `secrets.sample.yaml`: documentation, not secrets
    if name in _CREDENTIAL_NAMES:
        return _CREDENTIAL_NAMES[name]
    if (
        name == ".env"
        or name.startswith((".env.", ".env-", ".env_", ".env~"))
        or name.endswith((".env", ".env~", ".env.swp", ".env.bak"))
    ):
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


def _glob_match(pattern: str, name: str) -> bool:
    # As bash does by default: a leading dot is only matched by a leading dot.
    if name.startswith(".") and not pattern.startswith("."):
        return False
    return fnmatch.fnmatchcase(name, pattern)


# -- commands -----------------------------------------------------------------------------


class CommandAnalysis(BaseModel):
    """The facts and paths of one simple command."""

    model_config = ConfigDict(frozen=True)

    command: SimpleCommand
    facts: tuple[RiskFact, ...] = ()
    paths: tuple[PathUse, ...] = ()
    subcommand: tuple[str, ...] = ()
    """The command's leading operands (`git push` -> ("push", ...)), for policy matching."""

    @property
    def risk_level(self) -> RiskLevel:
        return max_level(self.facts)


class ScriptAnalysis(BaseModel):
    """Every command of a shell command analysed, plus facts about the whole."""

    model_config = ConfigDict(frozen=True)

    commands: tuple[CommandAnalysis, ...]
    facts: tuple[RiskFact, ...] = ()
    """Facts about the command as a whole (not understood, fork bomb)."""


_PRIVILEGE_WRAPPERS = names("sudo doas pkexec run0 su runuser chroot nsenter unshare")
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


class CommandAnalyzer:
    """Risk facts for shell commands, and for the shell strings inline code runs.

    Args:
        parser: parses shell strings found inside inline code (`os.system("...")`).
        paths: recognises credential paths.
    """

    def __init__(self, parser: ShellParser, paths: PathAnalyzer) -> None:
        self._parser = parser
        self._paths = paths

    def analyze_script(self, script: ShellScript) -> ScriptAnalysis:
        """Analyse every command of `script`, and the script as a whole."""
        commands = []
        listed: list[str] = []
        downloaded: set[str] = set()
        for command in script.commands:
            analysis = self.analyze(command)
            if command.program in _FINDERS:
                listed = _find_names(command)
            elif command.args_from_stdin:
                analysis = self._stdin_arguments(analysis, listed)
            if downloaded:
                analysis = _runs_download(analysis, downloaded)
            if command.program in NETWORK_PROGRAMS:
                downloaded |= _downloads(analysis)
            commands.append(analysis)
        facts: list[RiskFact] = []
        for problem in script.problems:
            facts.append(make_fact("not_understood", problem))
        for name in script.recursive_functions:
            facts.append(make_fact("fork_bomb", f"function {name!r} calls itself"))
        return ScriptAnalysis(commands=tuple(commands), facts=tuple(facts))

    def _stdin_arguments(self, analysis: CommandAnalysis, listed: Sequence[str]) -> CommandAnalysis:
        """`... | xargs CMD`: CMD's file arguments come from stdin.

        From a program that lists files under paths the sandbox checks (`find`,
        `git ls-files`, `rg -l`), they are project files, credentials only if the
        listing names them (`find . -name .env | xargs cat`); from anywhere else
        they are paths only known at run time.
        """
        c = analysis.command
        extra: list[RiskFact] = []
        if c.stdin_text is None and c.program not in _NO_FILE_ARGUMENTS:
            if c.stdin != "pipe" or not c.piped_from or not set(c.piped_from) <= _LISTERS:
                extra.append(make_fact("unresolved_path", f"{c.text} takes file names from stdin"))
            for name in listed if set(c.piped_from) & _FINDERS else ():
                reason = self._paths.credential_reason(name, glob=True)
                if reason is not None:
                    extra.append(make_fact("credential_access", f"{c.text} reads {name}: {reason}"))
                    break
        if not extra:
            return analysis
        return analysis.model_copy(update={"facts": (*analysis.facts, *extra)})

    def analyze(self, command: SimpleCommand) -> CommandAnalysis:
        """The facts and paths of one simple command."""
        f = Findings(command)
        self._program_facts(f)
        analyze_program(f)
        self._vet(f)
        _uploads(f)
        if len(command.args) == 1 and command.args[0] in VERSION_WORDS:
            _version_query(f)
        for text in f.shell_strings[:8]:
            self._nested_shell(f, text)
        if not f.handled_paths:
            _generic_paths(f)
        self._redirects(f)
        self._environment(f)
        for path, access in command.wrapper_paths:
            f.text_path(
                path, "read" if access == "read" else "write" if access == "write" else "cd"
            )
        self._credentials(f)
        if not f.subcommand:
            f.subcommand = tuple(a for a in command.args if not a.startswith("-"))[:3]
        return CommandAnalysis.model_construct(
            command=command,
            facts=tuple(f.facts),
            paths=tuple(f.paths),
            subcommand=f.subcommand,
        )

    def _vet(self, f: Findings) -> None:
        """The allowlist rule: what the program's spec does not list is `unvetted`."""
        command = f.command
        spec = REGISTRY.get(command.program)
        if spec is None or not command.program or f.subcommand[:1] == ("help",):
            return  # `git commit --help` prints a page
        name_paths = not f.handled_paths
        words = vet(f, spec, name_paths=name_paths)
        f.handled_paths = True
        f.subcommand = words

    def _program_facts(self, f: Findings) -> None:
        c = f.command
        if set(c.wrappers) & _PRIVILEGE_WRAPPERS:
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

    def _nested_shell(self, f: Findings, text: str) -> None:
        """Facts of a shell string that inline code passes to `system()` and the like."""
        script = self._parser.parse(text)
        for command in script.commands[:32]:
            for fact in self.analyze(command).facts:
                if fact.level is RiskLevel.CRITICAL:
                    f.fact(fact.kind, f"{f.command.program} runs: {fact.detail}")

    def _redirects(self, f: Findings) -> None:
        for redirect in f.command.redirects:
            target = redirect.target
            if _NETWORK_DEVICE.match(target):
                f.fact("reverse_shell", f"redirects to the network ({target})")
                continue
            if target in _HARMLESS_DEVICES or target.startswith("/dev/fd/"):
                continue
            access = "write" if redirect.writes else "read"
            f.paths.append(
                PathUse(path=target, access=access, dynamic=redirect.dynamic, glob=False)
            )
            if redirect.writes:
                if is_block_device(target):
                    f.fact("disk_destruction", f"writes to the disk device {target}")
                else:
                    f.fact("file_write", f"{f.command.text} {redirect.op} {target}")

    def _environment(self, f: Findings) -> None:
        """The environment rule (registry/environment.py): assignments are judged."""
        c = f.command
        exported, shell = builtin_assignments(c.program, c.args)
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

    def _credentials(self, f: Findings) -> None:
        for use in f.paths:
            # A dynamic path is checked by its best guess (`cat $(echo .env)` is `.env`).
            if use.access in {"list", "cd"} or not use.path:
                continue
            reason = self._paths.credential_reason(use.path, glob=use.glob)
            if reason is not None:
                f.fact("credential_access", f"{use.path}: {reason}")
                return


_DECLARERS = names("declare typeset local readonly export")
_FINDERS = names("find gfind fd fdfind")
_LISTERS = _FINDERS | names("git rg grep ag ack")
"""Programs whose output, piped to xargs, is names of files under paths the sandbox checked."""
_NO_FILE_ARGUMENTS = names("echo printf true false : basename dirname expr seq sleep kill")
_FIND_NAME_OPTIONS = names("-name -iname -path -ipath -wholename -iwholename -regex -iregex")


_REMOTE = re.compile(r"^[\w.-]+:(?!/)|^[\w.-]+:/|://")


def _uploads(f: Findings) -> None:
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


def _version_query(f: Findings) -> None:
    """`X --version`: harmless only where the flag really prints a version, stdin untouched."""
    command = f.command
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


def _downloads(analysis: CommandAnalysis) -> set[str]:
    """Names of the files a network command may save (`curl -o x.sh`, `wget URL/x.sh`)."""
    names_ = {posixpath.basename(u.path) for u in analysis.paths if u.access == "write"}
    for arg in analysis.command.args:
        if "://" in arg:
            names_.add(posixpath.basename(arg.split("?", 1)[0].rstrip("/")))
    return {n for n in names_ if n}


def _runs_download(analysis: CommandAnalysis, downloaded: set[str]) -> CommandAnalysis:
    """`curl -o x.sh URL && sh x.sh`: running what was just downloaded is piping it to a shell."""
    runs = [u.path for u in analysis.paths if u.access == "exec"]
    if "/" in analysis.command.program_text:
        runs.append(analysis.command.program_text)
    for path in runs:
        if posixpath.basename(path) in downloaded:
            fact = make_fact("pipe_to_shell", f"{analysis.command.text} runs downloaded {path}")
            return analysis.model_copy(update={"facts": (*analysis.facts, fact)})
    return analysis


def _find_names(command: SimpleCommand) -> list[str]:
    """The names a `find` (or `fd`) lists: its -name/-path patterns, fd's pattern."""
    args = command.args
    if command.program in {"fd", "fdfind"}:
        return [a for a in args if not a.startswith("-")][:1]
    return [args[i + 1] for i, a in enumerate(args[:-1]) if a in _FIND_NAME_OPTIONS]


_PRINTERS = names("echo printf print printenv env cat tee logger say wall write curl wget nc")


def _generic_paths(f: Findings) -> None:
    """An unknown program: every operand, and every `--option=value`, may be a path."""
    for index, arg in enumerate(f.command.args):
        if arg.startswith("-"):
            _, equals, value = arg.partition("=")
            if equals and ("/" in value or value.startswith(("~", "."))):
                f.text_path(value, "arg", dynamic=index in f.command.dynamic_args)
            continue
        if "://" in arg:
            continue
        f.arg(index, "arg")
