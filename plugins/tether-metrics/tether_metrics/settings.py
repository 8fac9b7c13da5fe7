"""The plugin's settings: `TETHER_PLUGIN_METRICS_*` variables, or `.env`."""

from __future__ import annotations

import os
from collections.abc import Mapping

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from tether.exceptions import PluginError

__all__ = ["DEFAULT_PORT", "ENV_PREFIX", "HOST", "MetricsSettings", "load_settings"]

ENV_PREFIX = "TETHER_PLUGIN_METRICS_"

DEFAULT_PORT = 9464
"""The port metrics are served on unless `TETHER_PLUGIN_METRICS_PORT` says otherwise."""

HOST = "127.0.0.1"
"""Metrics are served on the loopback interface only: they name rules, plugins and
how the person works, which is nobody else's business. A scraper on another
machine goes through a tunnel or a local agent that forwards."""


class MetricsSettings(BaseSettings):
    """What the metrics plugin reads from the environment and `.env`."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_file=".env", extra="ignore", frozen=True
    )

    port: int = Field(default=DEFAULT_PORT, ge=0, le=65535)
    """The loopback port of the `/metrics` page; 0 takes any free port (tests)."""
    stats_timeout_seconds: float = Field(default=1.0, gt=0, le=30)
    """How long a scrape waits for Tether to read its handler counters before it
    shows the last ones read (a busy or stopping Tether must not hang the scraper)."""


def load_settings(environ: Mapping[str, str] | None = None) -> MetricsSettings:
    """The settings from `environ` (the process's environment and `.env` when None).

    Raises:
        PluginError: a value is invalid; one line naming the variable, the value
            and what is expected.
    """
    given = os.environ if environ is None else environ
    known = {ENV_PREFIX + name.upper() for name in MetricsSettings.model_fields}
    # A misspelt variable would otherwise be ignored, and the default used in silence.
    unknown = sorted(
        key for key in given if key.upper().startswith(ENV_PREFIX) and key.upper() not in known
    )
    if unknown:
        raise PluginError(
            f"{unknown[0]} is not a setting of the metrics plugin; "
            f"its settings are {', '.join(sorted(known))}"
        )
    try:
        if environ is None:
            return MetricsSettings()
        values = {
            key.upper().removeprefix(ENV_PREFIX).lower(): value
            for key, value in environ.items()
            if key.upper().startswith(ENV_PREFIX)
        }
        return MetricsSettings.model_validate(values)
    except ValidationError as error:
        raise PluginError(_describe(error)) from error


def _describe(error: ValidationError) -> str:
    lines = []
    for problem in error.errors(include_url=False):
        field = str((problem.get("loc") or ("?",))[0])
        variable = ENV_PREFIX + field.upper()
        lines.append(f"{variable}={problem.get('input')!r} is invalid: {problem.get('msg')}")
    return "; ".join(lines)
