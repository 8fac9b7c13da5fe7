"""structlog set-up for the `tether` command: readable lines on stderr, JSON lines in a file.

structlog (with asyncio, which it imports) is loaded the first time something is
logged, not with this module: `tether check` mostly logs nothing, and start-up
is most of a short check's time.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

__all__ = ["apply_deferred_logging", "configure_logging", "get_logger", "redact_secrets"]

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
    deferred: bool = False,
) -> None:
    """Log at `level`: to stderr (at `console_level` when given, e.g. WARNING in the
    REPL, where `console_tracebacks=False` keeps tracebacks out of the conversation)
    and, with `log_dir`, as JSON lines to `log_dir/tether.log` (tracebacks included).

    `deferred=True` (stderr only, no `log_dir`) sets the same up the first time a
    line at a kept level is logged, through `get_logger`'s loggers or the standard
    library's, or when `apply_deferred_logging()` is called: a command that logs
    nothing never imports structlog. What is logged, and how it looks, is the same.
    Code that uses structlog directly (a plugin) must call `apply_deferred_logging()`
    first.
    """
    global _deferred, _lowest, _filtering
    if deferred and log_dir is None:
        pending = _Deferred(level, console_level, console_tracebacks)
        _lowest = 0  # nothing is dropped early while the handlers change
        _filtering = None  # an earlier eager configuration no longer holds
        _deferred = pending
        root = logging.getLogger()
        for handler in list(root.handlers):
            root.removeHandler(handler)
        root.addHandler(pending)
        root.setLevel(logging.getLevelName(level.upper()))
        _lowest = pending.lowest
        return
    _deferred = None
    _configure(level, log_dir, console_level, console_tracebacks)


def apply_deferred_logging() -> None:
    """Finish a `configure_logging(..., deferred=True)` now, if it is still pending."""
    if _still_deferred():
        _apply_deferred()


class _Deferred(logging.Handler):
    """Stands on the root logger for a deferred configuration until a record arrives."""

    def __init__(self, level: str, console_level: str | None, console_tracebacks: bool) -> None:
        super().__init__()
        self.arguments = (level, console_level, console_tracebacks)
        numeric = logging.getLevelName(level.upper())
        shown = logging.getLevelName((console_level or level).upper())
        # What `configure_logging` filters at (see there); below it a call is a no-op.
        self.lowest: int = max(numeric, shown)

    def emit(self, record: logging.LogRecord) -> None:
        # The root logger is handling `record` with this handler; the real
        # handlers replace it, and then handle the record as the root would have.
        if _deferred is self:
            _apply_deferred()
        for handler in logging.getLogger().handlers:
            if handler is not self and record.levelno >= handler.level:
                handler.handle(record)


_deferred: _Deferred | None = None


def _still_deferred() -> bool:
    """A deferred configuration is pending, and nothing has replaced it since."""
    global _deferred
    pending = _deferred
    if pending is None:
        return False
    if pending in logging.getLogger().handlers:
        return True
    with _APPLYING:
        # Off the root logger: another thread is setting it up (wait for that), or
        # someone set the root logger up anew (a test resetting logging): forget it.
        if _deferred is pending:
            _deferred = None
    return False


_APPLYING = threading.Lock()
"""Two threads logging their first line at once: one sets logging up, the other waits."""


def _apply_deferred() -> None:
    global _deferred
    with _APPLYING:
        pending = _deferred
        if pending is None:
            return  # another thread has just set it up
        level, console_level, console_tracebacks = pending.arguments
        _configure(level, None, console_level, console_tracebacks)
        # Cleared once the configuration is in place: until then a line waits above.
        _deferred = None


# The level a `get_logger` call must reach to be logged at all: the lowest level
# some handler of the configuration `configure_logging` set up shows or writes.
# A module logger's level method compares with it first, so a call below it
# costs a comparison and a return (structlog's own filtering costs an assembly
# check and a call into its bound logger, ~11,000 instructions). 0 when no such
# configuration is in place: every call then goes to structlog as it is.
_lowest = 0
# The structlog wrapper class (filtering at `_lowest`) the eager configuration
# installed, and structlog's record of its configuration: `_lowest` holds only
# while that class is still the configured one. Tests and plugins reconfigure
# or reset structlog without telling this module.
_filtering: Any = None
_structlog_config: Any = None


def _still_filtering() -> bool:
    """Whether the configuration `_lowest` was set for is still in place (else forget it).

    Deferred: while its handler stands on the root logger. Eager: while
    structlog's wrapper class is the one it configured, which drops what is
    below `_lowest` anyway; dropping it here first changes nothing.
    """
    global _lowest
    if _deferred is not None and _still_deferred():
        return True
    config = _structlog_config
    if _deferred is None and config is not None and config.default_wrapper_class is _filtering:
        return True
    # Replaced behind this module's back (structlog reset or configured anew, the
    # root logger's handlers swapped): every call goes to structlog, which decides.
    _lowest = 0
    return False


_structlog_module: Any = None


def _structlog() -> Any:
    global _structlog_module
    if _structlog_module is None:
        import structlog

        _structlog_module = structlog
    return _structlog_module


def _configure(
    level: str, log_dir: Path | None, console_level: str | None, console_tracebacks: bool
) -> None:
    global _lowest, _filtering, _structlog_config
    structlog = _structlog()
    _lowest = 0  # nothing is dropped early while the configuration changes
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
    filtering = structlog.make_filtering_bound_logger(lowest)
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=filtering,
        cache_logger_on_first_use=False,
    )
    # structlog's record of its configuration (read by its proxies the same way);
    # `get_config()` would build a dict on every call.
    _structlog_config = structlog._config._CONFIG
    _filtering = filtering
    _lowest = lowest


class _ModuleLogger:
    """A module's structlog logger, assembled once per configuration.

    structlog's lazy proxy (`structlog.get_logger`) assembles a new bound logger
    on every call unless loggers are cached on first use, and caching would pin
    a module to the configuration it first saw (tests and the REPL configure
    logging more than once). This proxy keeps the assembled logger while the
    configuration's parts are the same objects, and each level method first
    compares its level with the lowest one `configure_logging` shows or writes
    (`_lowest`): a call below it returns at once, before any of that.
    """

    __slots__ = ("_bound", "_made_with", "_name")

    def __init__(self, name: str) -> None:
        self._name = name
        self._bound: Any = None
        self._made_with: tuple[object, ...] = ()

    def _current(self) -> Any:
        if _deferred is not None and _still_deferred():
            _apply_deferred()
        structlog = _structlog_module or _structlog()
        # structlog's own record of its configuration (read by its proxies the same
        # way); `get_config()` would build a dict on every call.
        config = structlog._config._CONFIG
        made_with = self._made_with
        if (
            self._bound is None
            or made_with[0] is not config.default_wrapper_class
            or made_with[1] is not config.default_processors
            or made_with[2] is not config.logger_factory
            or made_with[3] is not config.default_context_class
        ):
            self._bound = structlog.wrap_logger(None, logger_factory_args=(self._name,)).bind()
            self._made_with = (
                config.default_wrapper_class,
                config.default_processors,
                config.logger_factory,
                config.default_context_class,
            )
        return self._bound

    def is_enabled_for(self, level: int) -> bool:
        """Whether a call at `level` (`logging.INFO`, ...) may log a line: False only
        where the level methods below drop it before anything is built, so a caller
        on a hot path can skip gathering the line's values (structlog's filtering
        loggers name theirs the same). True while no configuration of
        `configure_logging` is in place: structlog then decides, as for any call."""
        return level >= _lowest or not _still_filtering()

    # The levels, spelled out: a lookup that falls through to `__getattr__` raises
    # and catches an AttributeError first, which costs more than the call.
    def debug(self, event: str, *args: Any, **fields: Any) -> Any:
        if _lowest > 10 and _still_filtering():
            return None
        return self._current().debug(event, *args, **fields)

    def info(self, event: str, *args: Any, **fields: Any) -> Any:
        if _lowest > 20 and _still_filtering():
            return None
        return self._current().info(event, *args, **fields)

    def warning(self, event: str, *args: Any, **fields: Any) -> Any:
        if _lowest > 30 and _still_filtering():
            return None
        return self._current().warning(event, *args, **fields)

    def error(self, event: str, *args: Any, **fields: Any) -> Any:
        if _lowest > 40 and _still_filtering():
            return None
        return self._current().error(event, *args, **fields)

    def exception(self, event: str, *args: Any, **fields: Any) -> Any:
        if _lowest > 40 and _still_filtering():
            return None
        return self._current().exception(event, *args, **fields)

    def critical(self, event: str, *args: Any, **fields: Any) -> Any:
        if _lowest > 50 and _still_filtering():
            return None
        return self._current().critical(event, *args, **fields)

    def __getattr__(self, method: str) -> Any:
        return getattr(self._current(), method)


def get_logger(name: str) -> Any:
    """The logger for module `name` (use in place of `structlog.get_logger(__name__)`)."""
    return _ModuleLogger(name)
