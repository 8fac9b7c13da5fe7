"""structlog set-up for the `tether` command: readable lines on stderr, JSON in a file."""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

import structlog

__all__ = ["configure_logging", "redact_secrets"]

_SECRET_KEYS = ("token", "api_key", "password", "secret")


def redact_secrets(
    _: Any, __: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Never let a bot token or API key reach a log line."""
    for key in event_dict:
        if any(marker in key.lower() for marker in _SECRET_KEYS):
            event_dict[key] = "***"
    return event_dict


def configure_logging(level: str = "INFO", log_dir: Path | None = None) -> None:
    """Log at `level` to stderr; with `log_dir`, also as JSON lines to `log_dir/tether.log`."""
    numeric = logging.getLevelName(level.upper())
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_dir is not None:
        log_dir.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_dir / "tether.log", encoding="utf-8"))
    logging.basicConfig(level=numeric, handlers=handlers, format="%(message)s", force=True)
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if log_dir is not None
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            redact_secrets,
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
