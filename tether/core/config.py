"""Tether's settings: environment variables with the `TETHER_` prefix, or a `.env` file.

`load_config()` is the entry point the command line uses: it turns pydantic's
validation errors into one `ConfigError` that names the variable, the value and
what is expected.
"""

from __future__ import annotations

import importlib
import math
import os
import re
import sys
import types
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import platformdirs
from pydantic import (
    AfterValidator,
    AliasChoices,
    BeforeValidator,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from tether.core.ids import DECIMAL_ID
from tether.exceptions import ConfigError


class _AsyncioOnFirstUse(types.ModuleType):
    """Stands for asyncio in a module that imports it but may never use it.

    pydantic-settings imports asyncio (and with it ssl, socket, subprocess) for
    a command-line helper Tether never calls; `tether check` runs no event loop,
    and that import was a tenth of its start-up. An attribute read imports the
    real asyncio and answers from it.
    """

    def __getattr__(self, name: str) -> Any:
        if sys.modules.get("asyncio") is self:
            del sys.modules["asyncio"]
        return getattr(importlib.import_module("asyncio"), name)


@contextmanager
def _asyncio_deferred() -> Iterator[None]:
    """While importing pydantic-settings alone, `import asyncio` binds a stand-in.

    Only for that import: afterwards `import asyncio` anywhere is the real,
    ordinary import (the stand-in leaves `sys.modules`), so no other module can
    meet it. Nothing changes when asyncio is loaded already (the daemon, tests).
    """
    if "asyncio" in sys.modules:
        yield
        return
    stand_in = _AsyncioOnFirstUse("asyncio")
    sys.modules["asyncio"] = stand_in
    try:
        yield
    finally:
        if sys.modules.get("asyncio") is stand_in:
            del sys.modules["asyncio"]


with _asyncio_deferred():
    from pydantic_settings import (
        BaseSettings,
        DotEnvSettingsSource,
        NoDecode,
        PydanticBaseSettingsSource,
        SettingsConfigDict,
    )

    from tether.core.env_file import read_tether_lines  # uses pydantic-settings' parsing

__all__ = [
    "ENV_PREFIX",
    "TELEGRAM_TOKEN_SHAPE",
    "USER_ID_MAX",
    "TetherConfig",
    "bounded_seconds",
    "config_directory",
    "default_audit_log",
    "load_config",
    "state_directory",
]

ENV_PREFIX = "TETHER_"

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


def config_directory() -> Path:
    """Where Tether's configuration lives (`$XDG_CONFIG_HOME/tether`, `~/.config/tether`)."""
    return platformdirs.user_config_path("tether", appauthor=False)


def state_directory() -> Path:
    """Where Tether keeps state: learned rules (`$XDG_STATE_HOME/tether`, `~/.local/state/...`)."""
    return platformdirs.user_state_path("tether", appauthor=False)


def bounded_seconds(minimum: float, maximum: float, *, why: str) -> AfterValidator:
    """The metadata that bounds a seconds setting: `Annotated[float, bounded_seconds(...)]`.

    Infinity and NaN are refused along with anything outside [minimum, maximum]:
    a timeout that can never fire means silence never becomes a deny and a hung
    part is never stopped. `why` says why the range is what it is; it ends the
    one-line error, so the person knows what the bound protects.
    """

    def check(value: float) -> float:
        if not math.isfinite(value) or not minimum <= value <= maximum:
            raise ValueError(
                f"must be a finite number of seconds from {minimum:g} to {maximum:g} ({why})"
            )
        return value

    return AfterValidator(check)


TELEGRAM_TOKEN_SHAPE = re.compile(r"[0-9]{1,20}:[A-Za-z0-9_-]{1,200}")
"""A bot token as @BotFather issues it: the bot's id, ':', and a key."""

USER_ID_MAX = 2**63 - 1
"""The largest user id: SQLite (and Telegram's API) keep ids in 64 signed bits."""


def _user_id(value: Any) -> int:
    """One allowed user id: an int or its plain decimal text, within 64 signed bits.

    "+5", "05", "5.0", "1_000" and booleans are refused rather than read as
    another number: an allow-list entry must name exactly one user.
    """
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValueError(f"{value!r} is not a user id")
    text = value if isinstance(value, str) else str(value)
    if not text.isascii() or not DECIMAL_ID.fullmatch(text):
        raise ValueError(f"{value!r} is not a plain decimal user id")
    if len(text) > 20 or not -USER_ID_MAX - 1 <= int(text) <= USER_ID_MAX:
        raise ValueError(f"{value!r} is beyond 64 bits (at most {USER_ID_MAX})")
    return int(text)


def default_audit_log(directories: tuple[Path, ...]) -> Path:
    """This run's audit log: `<state>/audit/<first directory's name>-<time>-<pid>.jsonl`."""
    name = directories[0].name if directories else "tether"
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "root"
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return state_directory() / "audit" / f"{slug[:60]}-{stamp}-{os.getpid()}.jsonl"


def _split_commas(value: Any) -> Any:
    """Environment variables carry lists as `a,b,c`; code may pass real lists."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, (Path, int)):
        return [value]
    return value


class TetherConfig(BaseSettings):
    """Every setting Tether reads, with its environment variable `TETHER_<NAME>`.

    Lists are comma-separated in the environment (`TETHER_PLUGINS=a,b`).
    Construct it directly in tests (`TetherConfig(approved_directories=[tmp])`);
    the `tether` command uses `load_config()`.
    """

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        # No env_file here: pydantic-settings would read it with its own
        # source, which is slow on long files; `_TetherDotEnv` reads `.env`.
        env_file=None,
        env_file_encoding="utf-8",
        # `TETHER_LOG_DIR=` in a .env means "not set", not "the current directory".
        env_ignore_empty=True,
        extra="ignore",
        frozen=True,
        populate_by_name=True,
        validate_default=True,
    )

    # Where the agent may work. Defaults to the directory Tether was started in.
    approved_directories: Annotated[tuple[Path, ...], NoDecode] = Field(
        default_factory=lambda: (Path.cwd(),),
        # Only the prefixed names: an unprefixed alias would make pydantic-settings
        # read a stray APPROVED_DIRECTORIES variable into the sandbox's roots.
        # Code still passes `approved_directories=` (populate_by_name).
        validation_alias=AliasChoices(
            "TETHER_APPROVED_DIRECTORIES",
            "TETHER_APPROVED_DIRECTORY",
        ),
    )
    # Unset: one log per run in the state directory, named after the first
    # approved directory (see `_audit_log_per_run`).
    audit_log_path: Path = Path("audit.jsonl")
    audit_fsync: bool = False
    policy_files: Annotated[tuple[str, ...], NoDecode] = ("default",)
    # The person's own layer above the presets, and the rules learned from "always".
    user_policy_file: Path = Field(default_factory=lambda: config_directory() / "policy.yaml")
    learned_rules_path: Path = Field(
        default_factory=lambda: state_directory() / "learned-rules.json"
    )
    approval_timeout_seconds: Annotated[
        float,
        bounded_seconds(
            0.1, 86_400, why="a person needs a moment to answer, and a day at most holds the chat"
        ),
    ] = 300.0
    approval_batch_seconds: Annotated[
        float,
        bounded_seconds(
            0, 5, why="0 shows each approval alone; longer holds the first one back from the person"
        ),
    ] = 0.25
    log_level: LogLevel = "INFO"
    log_dir: Path | None = None
    storage_backend: Literal["memory", "sqlite"] = "memory"
    storage_path: Path = Path("tether.db")
    allowed_user_ids: Annotated[
        tuple[Annotated[int, BeforeValidator(_user_id)], ...], NoDecode
    ] = ()
    # Reads of a whole tree (`grep -r`, `rg`, Grep, Glob) walk it first; past these bounds they ask.
    tree_read_max_entries: int = Field(default=20_000, ge=1, le=10_000_000)
    tree_read_max_seconds: Annotated[
        float,
        bounded_seconds(
            0.001, 10, why="every checked tree read waits for the walk, so it must stay short"
        ),
    ] = 0.25
    rate_limit_rpm: int = Field(default=20, ge=1, le=10_000)
    rate_limit_burst: int = Field(default=5, ge=1, le=10_000)
    event_handler_timeout_seconds: Annotated[
        float,
        bounded_seconds(
            0.01, 300, why="a plugin handler that runs for minutes is hung and must be cancelled"
        ),
    ] = 5.0
    # A plugin's initialize, start or stop past this is marked failed.
    plugin_lifecycle_timeout_seconds: Annotated[
        float,
        bounded_seconds(
            0.01, 300, why="finite, and at most five minutes, so that start-up and shutdown end"
        ),
    ] = 10.0
    plugins: Annotated[tuple[str, ...], NoDecode] = ()
    telegram_bot_token: SecretStr | None = None
    streaming_throttle_seconds: Annotated[
        float,
        bounded_seconds(
            0, 60, why="0 sends every change; past a minute the person sees no progress at all"
        ),
    ] = 1.5

    # The coding agent.
    claude_cli_path: Path | None = None
    claude_model: str | None = None
    claude_max_turns: int = Field(default=25, ge=1, le=10_000)
    claude_system_prompt: str | None = None
    claude_allowed_tools: Annotated[tuple[str, ...], NoDecode] = ()
    claude_disallowed_tools: Annotated[tuple[str, ...], NoDecode] = ()
    agent_timeout_seconds: Annotated[
        float,
        bounded_seconds(
            1, 86_400, why="a request needs at least a second, and one running past a day is stuck"
        ),
    ] = 1800.0

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (
            init_settings,
            env_settings,
            _TetherDotEnv(settings_cls, env_file=".env"),
            file_secret_settings,
        )

    # The web connector (docs/connectors.md): off unless enabled.
    web_enabled: bool = False
    web_host: str = "127.0.0.1"
    web_port: int = Field(default=8765, ge=0, le=65535)
    web_tls_cert: Path | None = None
    web_tls_key: Path | None = None
    web_allowed_hosts: Annotated[tuple[str, ...], NoDecode] = ()
    """Names the browser may reach the server by besides loopback ones (a VPN name)."""
    web_allow_remote: bool = False
    """Bind a non-loopback address without TLS (behind a VPN that encrypts already)."""
    web_state_dir: Path | None = None
    """Where the access token lives; None: Tether's state directory (XDG)."""

    @field_validator(
        "approved_directories",
        "policy_files",
        "allowed_user_ids",
        "plugins",
        "claude_allowed_tools",
        "claude_disallowed_tools",
        "web_allowed_hosts",
        mode="before",
    )
    @classmethod
    def _lists_from_commas(cls, value: Any) -> Any:
        return _split_commas(value)

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_log_level(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @field_validator("approved_directories", mode="after")
    @classmethod
    def _directories_exist(cls, value: tuple[Path, ...]) -> tuple[Path, ...]:
        if not value:
            raise ValueError("at least one directory is needed")
        resolved: list[Path] = []
        for directory in value:
            path = directory.expanduser().resolve()
            if not path.is_dir():
                raise ValueError(f"{str(directory)!r} is not an existing directory")
            resolved.append(path)
        return tuple(dict.fromkeys(resolved))

    @field_validator("claude_cli_path", mode="after")
    @classmethod
    def _cli_is_executable(cls, value: Path | None) -> Path | None:
        if value is None:
            return None
        path = value.expanduser()
        if not path.is_file():
            raise ValueError(f"{str(value)!r} is not a file")
        # Checked on the mode bits: as root, os.access calls everything executable.
        if not path.stat().st_mode & 0o111 or not os.access(path, os.X_OK):
            raise ValueError(f"{str(value)!r} is not executable (chmod +x it)")
        return path

    @field_validator("web_tls_cert", "web_tls_key", mode="after")
    @classmethod
    def _tls_file_exists(cls, value: Path | None) -> Path | None:
        if value is not None and not value.expanduser().is_file():
            raise ValueError(f"{str(value)!r} is not a file")
        return value.expanduser() if value is not None else None

    @field_validator("telegram_bot_token", mode="after")
    @classmethod
    def _token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        # Checked here, before anything starts: a token of the wrong shape can
        # only be refused by Telegram later, after plugins ran.
        if value is None:
            return None
        token = value.get_secret_value().strip()
        if not TELEGRAM_TOKEN_SHAPE.fullmatch(token):
            raise ValueError(
                "it does not look like a bot token (digits, ':' and a key, e.g. "
                "123456:ABC-def); copy it again from @BotFather"
            )
        return SecretStr(token)

    @model_validator(mode="after")
    def _audit_log_per_run(self) -> TetherConfig:
        """Records gather in one place, not in whatever directory Tether started from."""
        if "audit_log_path" not in self.model_fields_set:
            # The model is frozen; this is its construction, the one moment it may change.
            object.__setattr__(self, "audit_log_path", default_audit_log(self.approved_directories))
        return self

    @field_validator("policy_files", mode="after")
    @classmethod
    def _at_least_one_policy(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("at least one policy (a preset name or a YAML path) is needed")
        return value


_EXPECTATIONS: dict[str, str] = {
    "approved_directories": "comma-separated paths of existing directories",
    "log_level": "one of DEBUG, INFO, WARNING, ERROR, CRITICAL",
    "allowed_user_ids": "comma-separated decimal user ids within 64 bits, e.g. 12345,67890",
    "claude_cli_path": "the path of the `claude` executable (unset: the one bundled "
    "with claude-agent-sdk)",
    "web_port": "a TCP port number, 1-65535",
    "web_enabled": "true or false",
    "web_allow_remote": "true or false",
    "web_tls_cert": "the path of a PEM certificate file",
    "web_tls_key": "the path of a PEM private key file",
    "policy_files": "comma-separated preset names (default, strict, permissive, dev-tools) "
    "or YAML paths",
}


class _TetherDotEnv(DotEnvSettingsSource):
    """The `.env` source, reading only the file's `TETHER_` entries.

    python-dotenv's parser and pydantic-settings' handling of unknown names
    both slow down with the file's size (50,000 unrelated lines took over a
    minute); Tether's own entries are few, so everything else is skipped
    before either sees it.
    """

    def _read_env_file(self, file_path: Path) -> dict[str, str | None]:
        return dict(
            read_tether_lines(
                file_path,
                prefix=ENV_PREFIX,
                encoding=self.env_file_encoding or "utf-8",
                ignore_empty=self.env_ignore_empty,
            )
        )


_SECRET_FIELDS = frozenset({"telegram_bot_token"})

# Errors on an aliased field are located by its alias, not by the field's name.
_FIELD_BY_ALIAS = {
    f"{ENV_PREFIX}APPROVED_DIRECTORIES": "approved_directories",
    f"{ENV_PREFIX}APPROVED_DIRECTORY": "approved_directories",
}


def _variable_name(field: str) -> str:
    if field == "approved_directories":
        return f"{ENV_PREFIX}APPROVED_DIRECTORIES (or {ENV_PREFIX}APPROVED_DIRECTORY)"
    return f"{ENV_PREFIX}{field.upper()}"


def _describe(error: ValidationError) -> str:
    lines = []
    seen: set[str] = set()
    for problem in error.errors(include_url=False):
        location = problem.get("loc") or ("?",)
        field = _FIELD_BY_ALIAS.get(str(location[0]).upper(), str(location[0]))
        if field in seen:
            continue  # one line per variable, even when several of its items are wrong
        seen.add(field)
        value = problem.get("input")
        if field in _SECRET_FIELDS:
            value = "<hidden>"  # a secret never goes to the screen or a log
        message = str(problem.get("msg", "invalid")).removeprefix("Value error, ")
        line = f"{_variable_name(field)}={value!r} is invalid: {message}"
        if field in _EXPECTATIONS:
            line += f"; expected {_EXPECTATIONS[field]}"
        lines.append(line)
    return "; ".join(lines)


def load_config(**overrides: Any) -> TetherConfig:
    """Read the settings from the environment and `.env`, with `overrides` on top.

    Raises:
        ConfigError: a value is invalid; the message names the variable, the value
            and what is expected.
    """
    try:
        return TetherConfig(**overrides)
    except ValidationError as err:
        raise ConfigError(_describe(err)) from err
    except UnicodeDecodeError as err:
        raise ConfigError(
            f".env in {Path.cwd()} is not UTF-8 text ({err.reason} at byte {err.start}); "
            "save it as UTF-8"
        ) from err
