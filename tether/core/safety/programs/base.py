"""Findings, the collector every program handler writes to, and what they share."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from tether.core.safety.facts import PathAccess, PathUse, RiskFact, make_fact
from tether.core.safety.options import OptionSpec, ParsedArgs, parse_args
from tether.core.safety.shell import SimpleCommand

__all__ = [
    "Findings",
    "Handler",
    "HandlerTable",
    "broad_target",
    "is_block_device",
    "is_secret_name",
    "names",
    "parse",
    "spec",
]


def names(text: str) -> frozenset[str]:
    """A set of words written as one string (keeps long tables short)."""
    return frozenset(text.split())


class Findings:
    """Facts and paths found for one command; handlers add to it."""

    __slots__ = ("command", "facts", "handled_paths", "paths", "shell_strings", "subcommand")

    def __init__(self, command: SimpleCommand) -> None:
        self.command = command
        self.facts: list[RiskFact] = []
        self.paths: list[PathUse] = []
        self.subcommand: tuple[str, ...] = ()
        self.handled_paths = False
        """The handler named every path; no generic guessing needed."""
        self.shell_strings: list[str] = []
        """Shell code that inline code in another language hands to a shell."""

    def fact(self, kind: str, detail: str | None = None) -> None:
        if any(f.kind == kind for f in self.facts):
            return
        self.facts.append(make_fact(kind, detail if detail is not None else self.command.text))

    def has(self, kind: str) -> bool:
        return any(f.kind == kind for f in self.facts)

    def arg(self, index: int, access: PathAccess) -> None:
        """Argument `index` of the command is a path used with `access`."""
        command = self.command
        if index in command.procsub_args:
            return  # `<(cmd)`: a pipe from a command that is judged on its own
        if 0 <= index < len(command.args):
            self.paths.append(
                PathUse.model_construct(
                    path=command.args[index],
                    access=access,
                    dynamic=index in command.dynamic_args or index in command.procsub_args,
                    glob=index in command.glob_args,
                )
            )

    def text_path(self, text: str, access: PathAccess, *, dynamic: bool = False) -> None:
        """A path found inside a word (`of=/dev/sda`, `--output=x`, `file:///etc/passwd`)."""
        if text:
            self.paths.append(
                PathUse.model_construct(path=text, access=access, dynamic=dynamic, glob=False)
            )

    def option_path(self, parsed: ParsedArgs, options: Iterable[str], access: PathAccess) -> None:
        wanted = set(options)
        for option in parsed.options:
            if option.name in wanted and option.value is not None:
                dynamic = option.value_index in self.command.dynamic_args
                self.text_path(option.value, access, dynamic=dynamic)

    def operands(self, parsed: ParsedArgs, access: PathAccess, start: int = 0) -> None:
        for index, _ in parsed.operands[start:]:
            self.arg(index, access)


Handler = Callable[[Findings], None]


class HandlerTable(dict[str, Handler]):
    """Program name -> handler; `@table.on("cp mv")` registers a handler for several names."""

    def on(self, programs: str) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            for program in programs.split():
                self[program] = handler
            return handler

        return register


def spec(short: str = "", long: str = "", attached: str = "", numeric: bool = False) -> OptionSpec:
    """An option table: `short` letters and `long` names (space-separated) take a value."""
    return OptionSpec(
        short_values=frozenset(short),
        long_values=frozenset(long.split()),
        optional_attached=frozenset(attached),
        numeric_flags=numeric,
    )


def parse(f: Findings, option_spec: OptionSpec, start: int = 0) -> ParsedArgs:
    return parse_args(f.command.args, option_spec, start)


_BLOCK_DEVICE = re.compile(
    r"^/dev/(sd[a-z]|hd[a-z]|vd[a-z]|xvd[a-z]|nvme\d|mmcblk\d|r?disk\d|md\d|dm-\d|mapper/|"
    r"loop\d|sr\d|nbd\d|zram\d|mem$|kmem$|port$|fb\d)"
)


def is_block_device(path: str) -> bool:
    """A disk, partition or memory device: writing to it destroys data."""
    return bool(_BLOCK_DEVICE.match(path))


_SECRET_NAME = re.compile(
    r"(^|_)(KEY|KEYS|TOKEN|TOKENS|SECRET|SECRETS|PASSWORD|PASSWORDS|PASSWD|PASS|PASSPHRASE|"
    r"CREDENTIAL|CREDENTIALS|APIKEY|AUTH|PRIVATE|COOKIE|COOKIES|PAT|DSN|SESSION|PWD|"
    r"WEBHOOK|WEBHOOKS|CONNECTION_STRING|CONN_STR|SAS)(_|$)|"
    r"(PASSWORD|PASSWD|TOKEN|SECRET|WEBHOOK|APIKEY|_DSN$)|"
    r"^(DATABASE_URL|DB_URL|REDIS_URL|MONGO_URL|MONGODB_URI|MONGO_URI|AMQP_URL|RABBITMQ_URL|"
    r"POSTGRES_URL|POSTGRESQL_URL|PG_URL|MYSQL_URL|[A-Z_]*_DATABASE_URL|CELERY_BROKER_URL|"
    r"BROKER_URL|SENTRY_DSN|MYSQL_PWD|PGPASSFILE|VAULT_TOKEN|CI_JOB_JWT[A-Z_0-9]*|"
    r"ACTIONS_ID_TOKEN_REQUEST_[A-Z_]+|ACTIONS_RUNTIME_TOKEN)$",
    re.IGNORECASE,
)
_NOT_SECRET = frozenset({"PWD", "OLDPWD", "PASSWORD_STORE_DIR"})


def is_secret_name(name: str) -> bool:
    """Whether an environment variable name looks like it holds a secret.

    `{!x}` stands for an unknown variable read through `${!x}`: it may be any, a secret too.
    """
    if name.upper() in _NOT_SECRET:
        return False
    return name.startswith("{!") or bool(_SECRET_NAME.search(name))


def broad_target(text: str, dynamic: bool, glob: bool) -> bool:
    """A delete or permission target that is everything, a home, a root, or unknown."""
    if dynamic:
        return True
    path = text.rstrip("/") or "/"
    if path in {".", "..", "/", "~", "*", ".*", "./*", "~/*", "/*", "./.*"}:
        return True
    parts = [p for p in path.split("/") if p not in {"", "."}]
    if parts[:1] == ["proc"] and path.startswith("/"):
        return True  # `/proc/self/cwd`, `/proc/1/root`: the working directory, the root
    if path.startswith("~"):
        return len(parts) <= 1
    if path.startswith("/"):
        return len(parts) <= 2
    if not parts:
        return True
    depth = 0
    for part in parts:
        depth = depth - 1 if part == ".." else depth + 1
        if depth < 0:
            return True
    if depth == 0:
        return True  # `src/..` is the working directory itself
    if glob and any(c in parts[0] for c in "*?["):
        return True
    return parts[-1] == ".git"
