"""`tether` / `tether run`: start Tether — Telegram when a bot token is set, else the REPL."""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tether.app import build_connector, build_engine
from tether.commands.collector import collector_paused
from tether.core.config import TetherConfig, load_config
from tether.exceptions import ConfigError
from tether.log import configure_logging

if TYPE_CHECKING:
    from tether.core.engine import Engine

__all__ = ["add_run_arguments", "register", "run", "startup_summary"]


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dir",
        dest="directory",
        metavar="PATH",
        help="the approved directory to work in (default: TETHER_APPROVED_DIRECTORIES, "
        "else the current directory)",
    )
    parser.add_argument(
        "--web",
        action="store_true",
        default=None,
        help="also serve Tether's web page on 127.0.0.1 (TETHER_WEB_PORT, default 8765); "
        "the first start prints a login link",
    )


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "run",
        help="start Tether (the default command): Telegram if a bot token is set, else a REPL",
    )
    add_run_arguments(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    overrides: dict[str, Any] = {}
    directory = getattr(args, "directory", None)
    if directory:
        if not Path(directory).expanduser().is_dir():
            raise ConfigError(f"--dir {directory!r} is not an existing directory")
        overrides["approved_directories"] = (Path(directory),)
    if getattr(args, "web", None):
        overrides["web_enabled"] = True
    config = load_config(**overrides)
    # Without a terminal to type in (a service, nohup), the web page is the way in.
    terminal = not config.web_enabled or sys.stdin.isatty()
    interactive = config.telegram_bot_token is None and terminal
    # The person reads every problem as a short reply; log lines would only repeat
    # it, mid-sentence. With TETHER_LOG_DIR the file still gets everything.
    console_level = "CRITICAL" if interactive else None
    try:
        configure_logging(
            config.log_level,
            config.log_dir,
            console_level=console_level,
            console_tracebacks=not interactive,
        )
    except OSError as error:
        raise ConfigError(
            f"TETHER_LOG_DIR={str(config.log_dir)!r} cannot hold a log file: "
            f"{error.strerror or error}; point it at a writable directory"
        ) from error
    # Imported here: every `tether` command imports this module (see `tether.cli`),
    # and `tether check` never runs an event loop.
    import asyncio

    with collector_paused():
        connector = build_connector(config, terminal=terminal)
        engine = build_engine(config, connector=connector)
    asyncio.run(_serve(engine, connector))
    return 0


def startup_summary(engine: Engine) -> str:
    """What this run loaded: directory, policies, plugins, storage, connector."""
    config: TetherConfig = engine.config
    storage = (
        f"sqlite ({config.storage_path})"
        if config.storage_backend == "sqlite"
        else "memory (sessions end when Tether stops)"
    )
    plugins = ", ".join(f"{info.name} {info.version}" for info in engine.plugins.describe())
    connector = engine.connector.name if engine.connector is not None else "none"
    return "\n".join(
        (
            "Tether is running.",
            f"  directory: {', '.join(str(d) for d in config.approved_directories)}",
            f"  policies:  {', '.join(config.policy_files)}",
            f"  plugins:   {plugins}",
            f"  storage:   {storage}",
            f"  audit log: {config.audit_log_path}{_old_audit_log_note(config)}",
            f"  connector: {connector}",
            *_web_lines(engine),
        )
    )


def _old_audit_log_note(config: TetherConfig) -> str:
    """An audit.jsonl here is from before logs moved to the state directory: say so, once."""
    if "audit_log_path" in config.model_fields_set or not Path("audit.jsonl").is_file():
        return ""
    return (
        " (./audit.jsonl is no longer written by default; set "
        "TETHER_AUDIT_LOG_PATH=audit.jsonl to keep using it)"
    )


def _web_lines(engine: Engine) -> tuple[str, ...]:
    web = _member(engine.connector, "web")
    if web is None:
        return ()
    access = web.access
    if access is not None and access.created:
        # Shown once, like Jupyter's link: the fragment never reaches a server log.
        return (f"  web:       {web.login_link}", "             (open it once to log in)")
    where = access.path if access is not None else "the state directory"
    return (f"  web:       {web.base_url}  (log in with the token in {where})",)


def _member(connector: Any, name: str) -> Any:
    """The connector called `name`: `connector` itself, or one member of a group."""
    if connector is None:
        return None
    member = getattr(connector, "member", None)
    if callable(member):
        return member(name)
    return connector if getattr(connector, "name", None) == name else None


async def _serve(engine: Engine, connector: Any) -> None:
    from tether.connectors.cli import CliConnector

    # Only a run with a bot token loaded the Telegram module: the REPL does not pay for it.
    telegram = sys.modules.get("tether.connectors.telegram")
    if telegram is not None and isinstance(connector, telegram.TelegramConnector):
        # Before the engine starts anything: a token Telegram refuses is a
        # configuration error, and no plugin may run on bad configuration.
        await connector.verify()
    async with engine:
        summary = startup_summary(engine)
        terminal = _member(connector, "cli")
        if isinstance(terminal, CliConnector):
            await terminal.serve(
                banner=f"{summary}\n\nType a request, /help for commands, Ctrl-C to cancel a "
                "request, Ctrl-D to quit."
            )
            return
        print(summary + "\nPress Ctrl-C to stop.", flush=True)
        await _wait_for_stop_signal()


async def _wait_for_stop_signal() -> None:
    import asyncio

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    await stop.wait()
