"""A plugin's own settings: a pydantic model, read from `TETHER_PLUGIN_<NAME>_*` and `.env`.

A plugin declares the model in its `settings` hook; Tether reads the
variables named `TETHER_PLUGIN_<NAME>_<FIELD>` (the plugin's name upper-cased,
`-` and `.` as `_`) from the environment, then from `.env` (the environment
wins, as for Tether's own settings), validates them once at start-up and
hands the object to the plugin as `context.settings`. A wrong value, or a
variable in the plugin's namespace that names no field, is a `ConfigError` of
one line naming the variable, as Tether's own settings are.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel, ValidationError

from tether.core.config import ENV_PREFIX, TetherConfig
from tether.core.env_file import read_tether_lines
from tether.core.safe_text import safe_repr
from tether.exceptions import ConfigError

__all__ = ["PluginSettings", "load_plugin_settings", "settings_prefix"]

_NOT_A_NAME = re.compile(r"[^A-Z0-9]+")

# Tether's own settings that start like a plugin's namespace
# (TETHER_PLUGIN_LIFECYCLE_TIMEOUT_SECONDS): never read as a plugin's.
_CORE_VARIABLES = frozenset(f"{ENV_PREFIX}{name.upper()}" for name in TetherConfig.model_fields)


class PluginSettings(BaseModel):
    """A plugin's validated settings and where they came from."""

    model_config = {"frozen": True, "arbitrary_types_allowed": True}

    values: BaseModel
    source: str
    """`environment`, `.env`, both (`environment, .env`), or `defaults`."""


def settings_prefix(plugin_name: str) -> str:
    """`TETHER_PLUGIN_<NAME>_`: the prefix of the variables plugin `plugin_name` reads."""
    return f"{ENV_PREFIX}PLUGIN_{_NOT_A_NAME.sub('_', plugin_name.upper()).strip('_')}_"


def load_plugin_settings(
    plugin_name: str,
    model: type[BaseModel],
    *,
    environ: Mapping[str, str] | None = None,
    env_file: Path | None = Path(".env"),
) -> PluginSettings:
    """Read and validate plugin `plugin_name`'s settings into `model`.

    `environ` defaults to the process environment; `env_file` (None: none) is
    read for the variables the environment does not set.

    Raises:
        ConfigError: a value is invalid, a variable names no field of the model,
            or the `.env` file cannot be read; one line naming the variable.
    """
    prefix = settings_prefix(plugin_name)
    environ = os.environ if environ is None else environ
    values: dict[str, str] = {}
    names: dict[str, str] = {}
    sources: list[str] = []
    from_env = _prefixed(environ, prefix)
    if env_file is not None and env_file.is_file():
        try:
            lines = {
                key: value
                for key, value in read_tether_lines(env_file, prefix=prefix).items()
                if value is not None
            }
        except UnicodeDecodeError as error:
            raise ConfigError(
                f"{env_file} is not UTF-8 text ({error.reason}); save it as UTF-8"
            ) from error
        from_file = _prefixed(lines, prefix)
        if set(from_file) - set(from_env):
            sources.append(".env")
        for field, (variable, value) in from_file.items():
            values[field], names[field] = value, variable
    if from_env:
        sources.insert(0, "environment")
    for field, (variable, value) in from_env.items():
        values[field], names[field] = value, variable
    fields = model.model_fields
    unknown = sorted(names[field] for field in values if field not in fields)
    if unknown:
        known = ", ".join(prefix + name.upper() for name in fields) or "none"
        raise ConfigError(
            f"{unknown[0]} is not a setting of plugin {plugin_name!r}; its settings: {known}"
        )
    try:
        validated = model.model_validate(values)
    except ValidationError as error:
        raise ConfigError(_describe(error, model, prefix, values)) from error
    return PluginSettings(values=validated, source=", ".join(sources) or "defaults")


def _prefixed(source: Mapping[str, str], prefix: str) -> dict[str, tuple[str, str]]:
    found: dict[str, tuple[str, str]] = {}
    for variable, value in source.items():
        upper = variable.upper()
        if upper.startswith(prefix) and upper not in _CORE_VARIABLES and len(upper) > len(prefix):
            found[upper[len(prefix) :].lower()] = (upper, value)
    return found


def _is_secret(model: type[BaseModel], field: str) -> bool:
    info = model.model_fields.get(field)
    return info is not None and "Secret" in str(info.annotation)


def _describe(
    error: ValidationError, model: type[BaseModel], prefix: str, values: Mapping[str, str]
) -> str:
    lines: list[str] = []
    seen: set[str] = set()
    for problem in error.errors(include_url=False):
        location = problem.get("loc") or ("?",)
        field = str(location[0])
        if field in seen:
            continue
        seen.add(field)
        message = str(problem.get("msg", "invalid")).removeprefix("Value error, ")
        variable = prefix + field.upper()
        if field in values and _is_secret(model, field):
            lines.append(f"{variable}=<hidden> is invalid: {message}")
        elif field in values:
            lines.append(f"{variable}={safe_repr(values[field])} is invalid: {message}")
        else:
            lines.append(f"{variable} is invalid: {message}")
    return "; ".join(lines)
