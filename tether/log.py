"""structlog set-up for the `tether` command: readable lines on stderr, JSON lines in a file."""

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


class _CurrentStderr:
    """Writes to whatever `sys.stderr` is at the time (a test may have swapped it)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()

    def isatty(self) -> bool:
        return sys.stderr.isatty()


def _drop_traceback(
    _: Any, __: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    event_dict.pop("exc_info", None)
    return event_dict


def configure_logging(
    level: str = "INFO",
    log_dir: Path | None = None,
    *,
    console_level: str | None = None,
    console_tracebacks: bool = True,
) -> None:
    """Log at `level`: to stderr (at `console_level` when given, e.g. WARNING in the
    REPL, where `console_tracebacks=False` keeps tracebacks out of the conversation)
    and, with `log_dir`, as JSON lines to `log_dir/tether.log` (tracebacks included).
    """
    numeric = logging.getLevelName(level.upper())
    shown = logging.getLevelName((console_level or level).upper())
    # Filter where the call is made, at the lowest level some handler keeps: a
    # line that only the console would drop (the REPL shows CRITICAL) is then
    # never rendered at all, and a call below it costs a no-op.
    lowest = numeric if log_dir is not None else max(numeric, shown)
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        redact_secrets,
    ]
    stderr = _CurrentStderr()
    console = logging.StreamHandler(stderr)
    console.setLevel(shown)
    console.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                *(() if console_tracebacks else (_drop_traceback,)),
                structlog.dev.ConsoleRenderer(colors=stderr.isatty()),
            ],
        )
    )
    handlers: list[logging.Handler] = [console]
    if log_dir is not None:
        log_dir.mkdir(parents=True, exist_ok=True)
        to_file = logging.FileHandler(log_dir / "tether.log", encoding="utf-8")
        to_file.setFormatter(
            structlog.stdlib.ProcessorFormatter(
                foreign_pre_chain=shared,
                processors=[
                    structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    structlog.processors.format_exc_info,
                    structlog.processors.JSONRenderer(),
                ],
            )
        )
        handlers.append(to_file)
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(numeric)
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.make_filtering_bound_logger(lowest),
        cache_logger_on_first_use=False,
    )
