"""Tether's settings: environment variables with the `TETHER_` prefix, or a `.env` file.

`load_config()` is the entry point the command line uses: it turns pydantic's
validation errors into one `ConfigError` that names the variable, the value and
what is expected.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Literal

import platformdirs
from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from tether.exceptions import ConfigError

__all__ = ["ENV_PREFIX", "TetherConfig", "config_directory", "load_config", "state_directory"]

ENV_PREFIX = "TETHER_"

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


def config_directory() -> Path:
    """Where Tether's configuration lives (`$XDG_CONFIG_HOME/tether`, `~/.config/tether`)."""
    return platformdirs.user_config_path("tether", appauthor=False)


def state_directory() -> Path:
    """Where Tether keeps state: learned rules (`$XDG_STATE_HOME/tether`, `~/.local/state/...`)."""
    return platformdirs.user_state_path("tether", appauthor=False)


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
        env_file=".env",
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
    audit_log_path: Path = Path("audit.jsonl")
    audit_fsync: bool = False
    policy_files: Annotated[tuple[str, ...], NoDecode] = ("default",)
    # The person's own layer above the presets, and the rules learned from "always".
    user_policy_file: Path = Field(default_factory=lambda: config_directory() / "policy.yaml")
    learned_rules_path: Path = Field(
        default_factory=lambda: state_directory() / "learned-rules.json"
    )
    approval_timeout_seconds: float = Field(default=300.0, gt=0)
    log_level: LogLevel = "INFO"
    log_dir: Path | None = None
    storage_backend: Literal["memory", "sqlite"] = "memory"
    storage_path: Path = Path("tether.db")
    allowed_user_ids: Annotated[tuple[int, ...], NoDecode] = ()
    rate_limit_rpm: int = Field(default=20, ge=1)
    rate_limit_burst: int = Field(default=5, ge=1)
    event_handler_timeout_seconds: float = Field(default=5.0, gt=0)
    plugins: Annotated[tuple[str, ...], NoDecode] = ()
    telegram_bot_token: SecretStr | None = None
    streaming_throttle_seconds: float = Field(default=1.5, ge=0)

    # The coding agent.
    claude_cli_path: Path | None = None
    claude_model: str | None = None
    claude_max_turns: int = Field(default=25, ge=1)
    claude_system_prompt: str | None = None
    claude_allowed_tools: Annotated[tuple[str, ...], NoDecode] = ()
    claude_disallowed_tools: Annotated[tuple[str, ...], NoDecode] = ()
    agent_timeout_seconds: float = Field(default=1800.0, gt=0)

    @field_validator(
        "approved_directories",
        "policy_files",
        "allowed_user_ids",
        "plugins",
        "claude_allowed_tools",
        "claude_disallowed_tools",
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

    @field_validator("policy_files", mode="after")
    @classmethod
    def _at_least_one_policy(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("at least one policy (a preset name or a YAML path) is needed")
        return value


_EXPECTATIONS: dict[str, str] = {
    "approved_directories": "comma-separated paths of existing directories",
    "log_level": "one of DEBUG, INFO, WARNING, ERROR, CRITICAL",
    "allowed_user_ids": "comma-separated numeric user ids, e.g. 12345,67890",
    "claude_cli_path": "the path of the `claude` executable (unset: the one bundled "
    "with claude-agent-sdk)",
    "policy_files": "comma-separated preset names (default, strict, permissive, dev-tools) "
    "or YAML paths",
}


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
