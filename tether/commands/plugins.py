"""`tether plugins`: list the plugins a `tether` run would register."""

from __future__ import annotations

import argparse
import json

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "plugins",
        help="list the registered plugins (built-in, code, entry point)",
        description="List the plugins Tether registers: name, version, source, state, the "
        "hooks each implements, its slash commands, where its settings came from, and its "
        "counters (calls, errors, timeouts). Installed plugins are enabled by name with "
        "TETHER_PLUGINS.",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    # Imported here: `tether --help` should not pay for loading the agent SDK.
    from tether.app import build_engine
    from tether.core.config import load_config
    from tether.plugins.registry import installed_plugin_names

    engine = build_engine(load_config())
    infos = engine.plugins.describe()
    enabled = {info.name for info in infos}
    available = [name for name in installed_plugin_names() if name not in enabled]
    if args.json:
        print(
            json.dumps(
                {
                    "registered": [info.model_dump(mode="json") for info in infos],
                    "installed_not_enabled": available,
                }
            )
        )
        return 0
    rows = [("NAME", "VERSION", "SOURCE", "STATE", "HOOKS", "SETTINGS", "CALLS/ERR/TIMEOUT")]
    rows += [
        (
            i.name,
            i.version,
            i.source.value,
            i.state.value,
            ",".join(i.hooks) or "-",
            i.settings_source or "-",
            f"{i.calls}/{i.errors}/{i.timeouts}",
        )
        for i in infos
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=True)]
        print("  ".join(cells).rstrip())
    for info in infos:
        details = []
        if info.description:
            details.append(info.description)
        if info.commands:
            details.append("commands: " + ", ".join(f"/{name}" for name in info.commands))
        if info.error:
            details.append(f"error: {info.error}")
        if details:
            print(f"  {info.name}: " + "; ".join(details))
    if available:
        print(f"\nInstalled but not enabled (add to TETHER_PLUGINS): {', '.join(available)}")
    return 0
