"""The plugin's settings, read by Tether from `TETHER_PLUGIN_METRICS_*` variables and `.env`.

The plugin declares the model in its `settings` hook; Tether validates the
variables at start-up, with the one-line errors of its own settings (a bad
value, or a `TETHER_PLUGIN_METRICS_…` variable that names no setting, stops
start-up naming the variable), and hands the object to the plugin as
`context.settings`.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["DEFAULT_PORT", "HOST", "MetricsSettings"]

DEFAULT_PORT = 9464
"""The port metrics are served on unless `TETHER_PLUGIN_METRICS_PORT` says otherwise."""

HOST = "127.0.0.1"
"""Metrics are served on the loopback interface only: they name rules, plugins and
how the person works, which is nobody else's business. A scraper on another
machine goes through a tunnel or a local agent that forwards."""


class MetricsSettings(BaseModel):
    """The metrics plugin's settings (`TETHER_PLUGIN_METRICS_<FIELD>`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    port: int = Field(default=DEFAULT_PORT, ge=0, le=65535)
    """The loopback port of the `/metrics` page; 0 takes any free port (tests)."""
    stats_timeout_seconds: float = Field(default=1.0, gt=0, le=30)
    """How long a scrape waits for Tether to read its handler counters before it
    shows the last ones read (a busy or stopping Tether must not hang the scraper)."""
