"""The `tether` command: `tether` runs Tether; subcommands check, inspect and explain."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from tether import __version__
from tether.exceptions import TetherError
from tether.log import configure_logging

__all__ = ["build_parser", "main"]

_EXIT_USER_ERROR = 2

# In the order `tether --help` lists them.
_COMMANDS = ("run", "check", "policy", "rules", "plugins")


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The `tether` parser; with `command`, the one subcommand `command` names alone.

    A command line that starts with a subcommand's name is parsed the same by
    either: argparse hands everything after the name to that subcommand's
    parser. Building the others' parsers (a few milliseconds each) would be
    start-up spent on nothing.
    """
    # Registering a subcommand imports its module; `check` and `run` import the
    # safety pipeline (see `_build_parser_uncollected`).
    from tether.commands import run

    parser = argparse.ArgumentParser(
        prog="tether",
        description="Drive a local AI coding agent from a terminal, Telegram or a browser. "
        "Every tool call passes the sandbox, the policy and, when needed, your approval.",
        epilog="Settings come from TETHER_* environment variables or a .env file; "
        "see docs/configuration.md.",
    )
    parser.add_argument("--version", action="version", version=f"tether {__version__}")
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND")
    for name in _COMMANDS if command is None else (command,):
        importlib.import_module(f"tether.commands.{name}").register(subparsers)
    parser.set_defaults(handler=run.run)
    # `tether --dir X` starts Tether. The same option before a subcommand would be
    # overwritten by the subcommand's own default: `main` refuses that form.
    parser.add_argument(
        "--dir",
        dest="leading_directory",
        metavar="PATH",
        help="the approved directory to work in (same as `tether run --dir PATH`)",
    )
    parser.add_argument(
        "--web",
        dest="leading_web",
        action="store_true",
        help="also serve Tether's web page (same as `tether run --web`)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the `tether` command; returns the exit status (2 for a user error)."""
    from tether.commands import run

    arguments = sys.argv[1:] if argv is None else list(argv)
    command = arguments[0] if arguments and arguments[0] in _COMMANDS else None
    parser = _build_parser_uncollected(command)
    args = parser.parse_args(arguments)
    if args.leading_directory is not None:
        if args.handler is not run.run:
            parser.error("put --dir after the command, e.g. `tether check --dir PATH ...`")
        if getattr(args, "directory", None) is None:
            args.directory = args.leading_directory
    if args.leading_web:
        if args.handler is not run.run:
            parser.error("--web starts Tether; use it alone or with `tether run`")
        args.web = True
    # Quiet until a command knows the configured level: subcommands print
    # results on stdout, and only problems belong on stderr. Deferred: a
    # command that logs nothing (most `tether check` runs) never loads structlog.
    configure_logging("WARNING", deferred=True)
    try:
        status: int = args.handler(args)
    except TetherError as error:
        # One line, whatever the message quotes (a YAML error can span several).
        print(f"tether: {' '.join(str(error).split())}", file=sys.stderr)
        return _EXIT_USER_ERROR
    except KeyboardInterrupt:
        return 130
    return status


def _build_parser_uncollected(command: str | None = None) -> argparse.ArgumentParser:
    """`build_parser(command)` with the cyclic garbage collector paused (see `collector_paused`).

    Building the parser imports the subcommands, and with them the safety
    pipeline: program specs, compiled patterns and models that live as long as
    the process.
    """
    from tether.commands.collector import collector_paused

    with collector_paused():
        return build_parser(command)
