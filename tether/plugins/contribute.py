"""Gather what the registered plugins contribute through their hooks, for `build_engine`.

Called once, after every plugin is registered and before the engine starts:

- `settings`: each declared model is read and validated (`settings.py`);
  a bad value stops start-up with one line, as Tether's own settings do;
- `commands`: each `SlashCommand` joins the engine's command registry;
  a name already taken stops start-up with a `PluginError`;
- `gate`: each hook joins the `GateHooks` the gatekeeper consults;
- `programs`: the specs are checked and compiled into a `ProgramLookup`.

A hook that raises (anything, an exit included) while its contribution is
gathered is contained: logged with the plugin's and the hook's names, counted,
and the plugin contributes nothing through it (no program knowledge means
Tether asks, as before). A contribution of the wrong shape is a `PluginError`
naming the plugin and the hook: it is the author's to fix.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from tether.core.commands import CommandSpec, SlashCommands
from tether.core.safety.contributions import build_lookup
from tether.core.safety.registry.layered import ProgramLookup
from tether.exceptions import PluginError
from tether.log import get_logger
from tether.plugins.calls import HookCounters
from tether.plugins.commands import SlashCommand, contained_command
from tether.plugins.gate import GateHooks
from tether.plugins.guard import describe_failure
from tether.plugins.registry import PluginRegistry
from tether.plugins.settings import load_plugin_settings

__all__ = [
    "MAX_CONTRIBUTIONS",
    "collect_commands",
    "collect_gate_hooks",
    "collect_programs",
    "collect_settings",
]

logger = get_logger(__name__)

MAX_CONTRIBUTIONS = 200
"""The most program specs or commands one plugin's hook may return."""

_FAILED = object()


def collect_settings(
    registry: PluginRegistry,
    *,
    environ: Mapping[str, str] | None = None,
    env_file: Path | None = Path(".env"),
) -> None:
    """Read and validate every plugin's declared settings; hand them to the registry.

    Raises:
        PluginError: a `settings` hook raised or did not return a pydantic model class.
        ConfigError: a value is invalid (one line naming the variable).
    """
    for name in _names(registry):
        function = registry.hooks(name).get("settings")
        if function is None:
            continue
        try:
            model = function()
            valid = isinstance(model, type) and issubclass(model, BaseModel)
        except BaseException as error:  # a plugin's failure, whatever it is, is reported
            raise PluginError(
                f"plugin {name!r}: hook 'settings' failed: {describe_failure(error)}"
            ) from error
        if not valid:
            raise PluginError(
                f"plugin {name!r}: hook 'settings' must return a pydantic model class "
                f"(a BaseModel subclass), not {type(model).__name__}"
            )
        loaded = load_plugin_settings(name, model, environ=environ, env_file=env_file)
        registry.contributed(name, settings=loaded.values, settings_source=loaded.source)


def collect_commands(registry: PluginRegistry, commands: SlashCommands, *, timeout: float) -> None:
    """Add every plugin's slash commands to `commands`, each run contained within `timeout`.

    Raises:
        PluginError: a command is not a `SlashCommand`, or its name is invalid or taken.
    """
    for name in _names(registry):
        function = registry.hooks(name).get("commands")
        if function is None:
            continue
        counters = registry.counters(name)
        found = _gathered(registry, name, "commands", function, counters)
        if found is _FAILED:
            continue
        added: list[str] = []
        for command in found:
            if not isinstance(command, SlashCommand):
                raise PluginError(
                    f"plugin {name!r}: hook 'commands' returned {type(command).__name__}, "
                    "not a SlashCommand"
                )
            if not inspect.iscoroutinefunction(command.handler):
                raise PluginError(
                    f"plugin {name!r}: command /{command.name}: its handler must be "
                    "`async def handler(call: CommandCall) -> str`"
                )
            spec = CommandSpec(name=command.name, description=command.help, plugin=name)
            commands.add(spec, contained_command(name, command, counters, timeout))
            added.append(command.name)
        registry.contributed(name, commands=tuple(added))


def collect_gate_hooks(registry: PluginRegistry, *, timeout: float) -> GateHooks:
    """The plugins' gate hooks, in registration order, each bounded by `timeout`."""
    hooks = GateHooks(timeout)
    for name in _names(registry):
        function = registry.hooks(name).get("gate")
        if function is not None:
            hooks.add(name, function, registry.counters(name))
    return hooks


def collect_programs(registry: PluginRegistry) -> ProgramLookup | None:
    """The registry's program specs with the plugins' layered on top; None when none contribute.

    Raises:
        PluginError: a spec is malformed or not allowed (see `build_lookup`).
    """
    contributions: list[tuple[str, list[Any]]] = []
    for name in _names(registry):
        function = registry.hooks(name).get("programs")
        if function is None:
            continue
        found = _gathered(registry, name, "programs", function, registry.counters(name))
        if found is not _FAILED:
            contributions.append((name, found))
    if not any(specs for _, specs in contributions):
        return None
    return build_lookup(contributions)


def _names(registry: PluginRegistry) -> list[str]:
    return [info.name for info in registry.describe()]


def _gathered(
    registry: PluginRegistry,
    name: str,
    hook: str,
    function: Callable[[], Any],
    counters: HookCounters,
) -> Any:
    """What the hook returned, as a bounded list; `_FAILED` (logged, counted) when it failed."""
    counters.calls += 1
    try:
        found: list[Any] = []
        for item in function():
            found.append(item)
            if len(found) > MAX_CONTRIBUTIONS:
                raise PluginError(f"more than {MAX_CONTRIBUTIONS} items")
    except BaseException as error:  # noqa: BLE001 - a plugin's failure, whatever it is, is contained
        counters.errors += 1
        reason = describe_failure(error)
        logger.error("plugin_hook_failed", plugin=name, hook=hook, error=reason, timed_out=False)
        registry.contributed(name, error=f"{hook}: {reason}")
        return _FAILED
    return found
