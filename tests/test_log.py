"""configure_logging: a call below every handler's level is dropped where it is made."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

import pytest
import structlog

from tether import log as log_module
from tether.log import apply_deferred_logging, configure_logging, get_logger


def _spy_on_rendering() -> list[str]:
    """Put a processor first in the chain; it records every line that is rendered."""
    rendered: list[str] = []

    def spy(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
        rendered.append(str(event_dict.get("event")))
        return event_dict

    processors = structlog.get_config()["processors"]
    structlog.configure(processors=[spy, *processors])
    return rendered


@pytest.mark.parametrize(
    ("level", "console_level", "dropped", "kept"),
    [
        pytest.param("INFO", "CRITICAL", "info", "critical", id="repl-console-critical"),
        pytest.param("INFO", "WARNING", "info", "warning", id="console-warning"),
        pytest.param("WARNING", "DEBUG", "info", "warning", id="root-level-wins"),
        pytest.param("INFO", None, "debug", "info", id="one-level"),
    ],
)
def test_a_line_no_handler_shows_is_never_rendered(
    level: str, console_level: str | None, dropped: str, kept: str
) -> None:
    configure_logging(level, console_level=console_level)
    rendered = _spy_on_rendering()
    logger = structlog.get_logger("tether.test")
    getattr(logger, dropped)("not_shown", value=1)
    getattr(logger, kept)("shown", value=2)
    assert rendered == ["shown"]


def test_a_log_file_keeps_what_the_console_hides(tmp_path: Path) -> None:
    configure_logging("INFO", tmp_path, console_level="CRITICAL")
    structlog.get_logger("tether.test").info("tool_denied", tool_name="Read")
    for handler in logging.getLogger().handlers:
        handler.close()
    lines = (tmp_path / "tether.log").read_text().splitlines()
    assert [json.loads(line)["event"] for line in lines] == ["tool_denied"]


def test_a_module_logger_follows_every_reconfiguration() -> None:
    """`get_logger` keeps its assembled logger only while the configuration is the same."""
    logger = get_logger("tether.test")
    configure_logging("WARNING")
    rendered = _spy_on_rendering()
    logger.info("hidden_at_warning")
    logger.warning("shown_at_warning")
    configure_logging("DEBUG")
    rendered_again = _spy_on_rendering()
    logger.debug("shown_at_debug")
    assert rendered == ["shown_at_warning"]
    assert rendered_again == ["shown_at_debug"]


def test_a_module_logger_is_seen_by_capture_logs() -> None:
    configure_logging("INFO")
    logger = get_logger("tether.test")
    logger.info("before")  # assembled before the capture starts
    with structlog.testing.capture_logs() as captured:
        logger.info("during", value=1)
        logger.bind(extra=2).warning("bound")
    assert [entry["event"] for entry in captured] == ["during", "bound"]
    assert captured[1]["extra"] == 2


@pytest.mark.parametrize("level", ["debug", "info", "warning", "error", "critical", "exception"])
def test_a_module_logger_has_every_level(level: str) -> None:
    configure_logging("DEBUG")
    with structlog.testing.capture_logs() as captured:
        getattr(get_logger("tether.test"), level)("event_at_level", value=level)
    assert [entry["value"] for entry in captured] == [level]


# Deferred configuration (`tether` subcommands): set up when something is logged.


def _eager_and_deferred_lines(
    capsys: pytest.CaptureFixture[str], emit: Any, *, deferred: bool
) -> list[str]:
    configure_logging("WARNING", deferred=deferred)
    emit()
    err = capsys.readouterr().err
    # The console line starts with a timestamp; the rest must be the same.
    return [line.split(" ", 1)[1] for line in err.splitlines()]


_EMITTERS = [
    pytest.param(lambda: get_logger("tether.test").warning("kept", value=1), id="module-logger"),
    pytest.param(
        lambda: get_logger("tether.test").bind(extra=2).error("bound_kept"), id="bound-logger"
    ),
    pytest.param(
        lambda: logging.getLogger("some.library").warning("library %s", "kept"),
        id="standard-library",
    ),
    pytest.param(
        lambda: (get_logger("tether.test").info("dropped"), logging.getLogger("x").info("no")),
        id="below-the-level",
    ),
    pytest.param(
        lambda: (
            get_logger("tether.test").debug("dropped"),
            get_logger("tether.test").critical("kept_after", token="abc"),
        ),
        id="dropped-then-kept-redacted",
    ),
]


@pytest.mark.parametrize("emit", _EMITTERS)
def test_a_deferred_configuration_renders_what_the_eager_one_does(
    capsys: pytest.CaptureFixture[str], emit: Any
) -> None:
    eager = _eager_and_deferred_lines(capsys, emit, deferred=False)
    deferred = _eager_and_deferred_lines(capsys, emit, deferred=True)
    assert deferred == eager


def test_a_line_below_the_level_does_not_set_logging_up(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("WARNING", deferred=True)
    before = structlog.get_config()["processors"]
    get_logger("tether.test").info("dropped")
    get_logger("tether.test").debug("dropped")
    logging.getLogger("some.library").info("dropped")
    assert structlog.get_config()["processors"] is before  # still structlog's defaults
    assert capsys.readouterr() == ("", "")
    get_logger("tether.test").warning("kept")
    assert structlog.get_config()["processors"] is not before
    assert "kept" in capsys.readouterr().err


def test_applying_a_deferred_configuration_sets_it_up_once() -> None:
    configure_logging("INFO", deferred=True)
    apply_deferred_logging()
    configured = structlog.get_config()["processors"]
    apply_deferred_logging()
    get_logger("tether.test").warning("logged")
    assert structlog.get_config()["processors"] is configured
    with structlog.testing.capture_logs() as captured:
        get_logger("tether.test").info("captured")
    assert [entry["event"] for entry in captured] == ["captured"]


def test_a_reset_forgets_a_deferred_configuration() -> None:
    """A test (or anything) that resets logging is not overridden by a pending set-up."""
    configure_logging("WARNING", deferred=True)
    structlog.reset_defaults()
    for handler in list(logging.getLogger().handlers):
        logging.getLogger().removeHandler(handler)
    with structlog.testing.capture_logs() as captured:
        get_logger("tether.test").debug("seen_by_the_defaults")
    assert [entry["event"] for entry in captured] == ["seen_by_the_defaults"]


def test_an_eager_configuration_replaces_a_deferred_one(tmp_path: Path) -> None:
    configure_logging("WARNING", deferred=True)
    configure_logging("INFO", tmp_path)
    get_logger("tether.test").info("to_the_file")
    for handler in logging.getLogger().handlers:
        handler.close()
    lines = (tmp_path / "tether.log").read_text().splitlines()
    assert [json.loads(line)["event"] for line in lines] == ["to_the_file"]


def test_threads_logging_their_first_lines_at_once_all_reach_the_console(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("WARNING", deferred=True)
    start = threading.Barrier(8)

    def first_line(number: int) -> None:
        start.wait()
        if number % 2:
            get_logger("tether.test").warning("from_thread", number=number)
        else:
            logging.getLogger("some.library").warning("from_thread number=%d", number)

    threads = [threading.Thread(target=first_line, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 8
    assert all("from_thread" in line for line in lines)
    assert len(logging.getLogger().handlers) == 1


# Filtering where the call is made: below the configured level a module logger's
# method returns before structlog (or the logger's own assembly) is touched.


class _CountedAssembly:
    """Counts the module loggers' trips to their assembled structlog logger."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls = 0
        current = log_module._ModuleLogger._current

        def counted(logger: Any) -> Any:
            self.calls += 1
            return current(logger)

        monkeypatch.setattr(log_module._ModuleLogger, "_current", counted)


_LEVELS = [
    pytest.param("debug", 10, id="debug"),
    pytest.param("info", 20, id="info"),
    pytest.param("warning", 30, id="warning"),
    pytest.param("error", 40, id="error"),
    pytest.param("exception", 40, id="exception"),
    pytest.param("critical", 50, id="critical"),
]


@pytest.mark.parametrize(("method", "number"), _LEVELS)
@pytest.mark.parametrize("deferred", [False, True], ids=["eager", "deferred"])
def test_a_call_below_the_level_does_no_work(
    monkeypatch: pytest.MonkeyPatch, method: str, number: int, deferred: bool
) -> None:
    """Below the level: no assembly, no processor; at or above it: logged."""
    assembly = _CountedAssembly(monkeypatch)
    logger = get_logger("tether.test")
    for configured in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        configure_logging(configured, deferred=deferred)
        apply_deferred_logging()  # the processors must be in place to be spied on
        rendered = _spy_on_rendering()
        before = assembly.calls
        getattr(logger, method)("at_level", value=1)
        kept = number >= logging.getLevelName(configured)
        assert rendered == (["at_level"] if kept else []), configured
        assert assembly.calls == before + kept, configured


def test_a_deferred_call_below_the_level_does_no_work(monkeypatch: pytest.MonkeyPatch) -> None:
    assembly = _CountedAssembly(monkeypatch)
    configure_logging("WARNING", deferred=True)
    get_logger("tether.test").info("dropped")
    get_logger("tether.test").debug("dropped")
    assert assembly.calls == 0
    get_logger("tether.test").warning("kept")
    assert assembly.calls == 1


def test_the_level_a_call_is_dropped_below_follows_every_configuration() -> None:
    logger = get_logger("tether.test")
    seen: list[list[str]] = []
    for level, console_level in [
        ("WARNING", None),
        ("DEBUG", None),
        ("INFO", "CRITICAL"),
        ("ERROR", None),
        ("INFO", None),
    ]:
        configure_logging(level, console_level=console_level)
        rendered = _spy_on_rendering()
        for method in ("debug", "info", "warning", "error", "critical"):
            getattr(logger, method)(method)
        seen.append(rendered)
    assert seen == [
        ["warning", "error", "critical"],
        ["debug", "info", "warning", "error", "critical"],
        ["critical"],
        ["error", "critical"],
        ["info", "warning", "error", "critical"],
    ]


def test_a_log_file_lowers_the_level_a_call_is_dropped_below(tmp_path: Path) -> None:
    """The console shows only CRITICAL, the file keeps INFO: an info line is written."""
    configure_logging("ERROR")
    get_logger("tether.test").info("dropped")
    configure_logging("INFO", tmp_path, console_level="CRITICAL")
    get_logger("tether.test").info("written")
    get_logger("tether.test").debug("dropped")
    for handler in logging.getLogger().handlers:
        handler.close()
    lines = (tmp_path / "tether.log").read_text().splitlines()
    assert [json.loads(line)["event"] for line in lines] == ["written"]


@pytest.mark.parametrize("deferred", [False, True], ids=["eager", "deferred"])
def test_a_reset_behind_the_modules_back_drops_nothing_more(deferred: bool) -> None:
    """What the test suite does between tests: the level configured before no longer holds."""
    logger = get_logger("tether.test")
    configure_logging("ERROR", deferred=deferred)
    logger.info("dropped")
    structlog.reset_defaults()
    for handler in list(logging.getLogger().handlers):
        logging.getLogger().removeHandler(handler)
    with structlog.testing.capture_logs() as captured:
        logger.debug("seen_by_the_defaults")
        logger.info("seen_again")
    assert [entry["event"] for entry in captured] == ["seen_by_the_defaults", "seen_again"]


def test_structlog_configured_anew_decides_for_itself() -> None:
    """A plugin that configures structlog itself, with its own level, is obeyed."""
    logger = get_logger("tether.test")
    configure_logging("ERROR")
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.DEBUG))
    with structlog.testing.capture_logs() as captured:
        logger.debug("shown")
    assert [entry["event"] for entry in captured] == ["shown"]


def _shown_and_enabled(logger: Any) -> list[tuple[str, bool, bool]]:
    """For each level: its name, whether a call renders a line, what is_enabled_for says."""
    rendered = _spy_on_rendering()
    seen = []
    for method, number in [(p.values[0], p.values[1]) for p in _LEVELS]:
        enabled = logger.is_enabled_for(number)
        before = len(rendered)
        getattr(logger, method)("at_level")
        seen.append((method, len(rendered) > before, enabled))
    return seen


@pytest.mark.parametrize("deferred", [False, True], ids=["eager", "deferred"])
@pytest.mark.parametrize(
    ("level", "console_level"),
    [
        pytest.param("DEBUG", None, id="debug"),
        pytest.param("INFO", None, id="info"),
        pytest.param("INFO", "CRITICAL", id="repl-console-critical"),
        pytest.param("WARNING", "DEBUG", id="root-level-wins"),
        pytest.param("ERROR", None, id="error"),
        pytest.param("CRITICAL", None, id="critical"),
    ],
)
def test_is_enabled_for_says_whether_a_call_logs(
    level: str, console_level: str | None, deferred: bool
) -> None:
    """What a caller skips on False is what the level method would have dropped."""
    logger = get_logger("tether.test")
    configure_logging(level, console_level=console_level, deferred=deferred)
    apply_deferred_logging()  # the processors must be in place to be spied on
    seen = _shown_and_enabled(logger)
    assert [(method, shown) for method, shown, _ in seen] == [
        (method, enabled) for method, _, enabled in seen
    ]
    assert any(shown for _, shown, _ in seen)


def test_is_enabled_for_a_deferred_configuration_sets_nothing_up() -> None:
    configure_logging("WARNING", deferred=True)
    logger = get_logger("tether.test")
    assert not logger.is_enabled_for(logging.INFO)
    assert logger.is_enabled_for(logging.WARNING)
    assert log_module._still_deferred()


@pytest.mark.parametrize("deferred", [False, True], ids=["eager", "deferred"])
def test_is_enabled_for_after_a_reset_lets_structlog_decide(deferred: bool) -> None:
    """Reset behind the module's back (or configured anew by a plugin): every level is
    enabled here, and structlog's own configuration decides what is shown."""
    logger = get_logger("tether.test")
    configure_logging("ERROR", deferred=deferred)
    assert not logger.is_enabled_for(logging.DEBUG)
    structlog.reset_defaults()
    for handler in list(logging.getLogger().handlers):
        logging.getLogger().removeHandler(handler)
    assert all(logger.is_enabled_for(number) for number in (10, 20, 30, 40, 50))
    configure_logging("ERROR")
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.DEBUG))
    assert logger.is_enabled_for(logging.DEBUG)
