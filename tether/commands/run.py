"""`tether` / `tether run`: start Tether (Telegram when a bot token is set, else the REPL)."""

from __future__ import annotations

import argparse

__all__ = ["add_run_arguments", "register", "run"]


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dir", dest="directory", help="the approved directory to work in")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("run", help="start Tether (the default command)")
    add_run_arguments(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    raise NotImplementedError("filled in by the agent runtime")
