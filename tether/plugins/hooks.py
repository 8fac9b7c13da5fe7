"""Contribution hooks: the methods a plugin marks for Tether to call, checked when it registers.

A plugin marks a method with `@hook`; the method's name says which hook it
implements. At registration every marked method is checked against the hook's
specification, as pluggy checks an implementation against its spec: an
unknown name, a method that should be `async def` and is not (or the reverse),
or a parameter the hook does not pass is a `PluginError` naming the plugin and
the hook. Unmarked methods are the plugin's own business.

The hooks (docs/plugins.md has examples of each):

- `programs(self) -> Iterable[ProgramSpec]`: knowledge about programs for the
  safety analyser (an in-house CLI described whole; facts and asks added to a
  program Tether knows).
- `async gate(self, call: GateCall) -> Tighten | None`: see every call the
  policy would allow or ask about; return `Tighten` to ask or deny instead.
  It can only tighten.
- `commands(self) -> Iterable[SlashCommand]`: slash commands.
- `settings(self) -> type[BaseModel]`: the model of the plugin's settings, read
  from `TETHER_PLUGIN_<NAME>_*`; the validated object is `context.settings`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from tether.exceptions import PluginError

__all__ = ["HOOKS", "HookSpec", "hook", "is_hook", "verify_hooks"]

_MARK = "__tether_hook__"

_F = TypeVar("_F", bound=Callable[..., Any])


def hook(function: _F) -> _F:
    """Mark a plugin method as the implementation of the hook of the same name.

    ```python
    class Budget(TetherPlugin):
        @hook
        async def gate(self, call: GateCall) -> Tighten | None: ...
    ```
    """
    setattr(function, _MARK, True)
    return function


def is_hook(member: object) -> bool:
    """Whether `member` (a function or bound method) was marked with `@hook`."""
    if getattr(member, _MARK, False) is True:
        return True
    target = getattr(member, "__func__", None)
    return target is not None and getattr(target, _MARK, False) is True


@dataclass(frozen=True, slots=True)
class HookSpec:
    """One hook: its name, whether it is `async def`, the parameters Tether passes."""

    name: str
    is_async: bool
    parameters: tuple[str, ...]
    returns: str

    def signature(self) -> str:
        prefix = "async def" if self.is_async else "def"
        params = ", ".join(("self", *self.parameters))
        return f"{prefix} {self.name}({params}) -> {self.returns}"


HOOKS: dict[str, HookSpec] = {
    spec.name: spec
    for spec in (
        HookSpec("programs", is_async=False, parameters=(), returns="Iterable[ProgramSpec]"),
        HookSpec("gate", is_async=True, parameters=("call",), returns="Tighten | None"),
        HookSpec("commands", is_async=False, parameters=(), returns="Iterable[SlashCommand]"),
        HookSpec("settings", is_async=False, parameters=(), returns="type[BaseModel]"),
    )
}
"""Every hook a plugin may implement, by name."""


def verify_hooks(plugin: object, plugin_name: str) -> dict[str, Callable[..., Any]]:
    """The plugin's marked methods, by hook name, each checked against its `HookSpec`.

    Raises:
        PluginError: a marked method names no hook, or does not match its hook's
            signature; the message names the plugin, the hook and what is expected.
    """
    found: dict[str, Callable[..., Any]] = {}
    for attribute in _marked_names(plugin):
        member = getattr(plugin, attribute)
        spec = HOOKS.get(attribute)
        if spec is None:
            known = ", ".join(sorted(HOOKS))
            raise PluginError(
                f"plugin {plugin_name!r}: hook {attribute!r} is marked with @hook but "
                f"Tether has no such hook; the hooks are: {known}"
            )
        _check_signature(plugin_name, spec, member)
        found[attribute] = member
    return found


def _marked_names(plugin: object) -> list[str]:
    # Marks are looked up on the class (a method's mark is on its function),
    # without calling properties or `__getattr__` of the instance.
    names: list[str] = []
    for klass in type(plugin).__mro__:
        for attribute, value in vars(klass).items():
            if attribute not in names and is_hook(value):
                names.append(attribute)
    return names


def _check_signature(plugin_name: str, spec: HookSpec, member: object) -> None:
    where = f"plugin {plugin_name!r}: hook {spec.name!r}"
    if not callable(member):
        raise PluginError(f"{where} is not a method; expected `{spec.signature()}`")
    is_async = inspect.iscoroutinefunction(member)
    if is_async is not spec.is_async:
        kind = "`async def`" if spec.is_async else "a plain `def` (not async)"
        raise PluginError(f"{where} must be {kind}: `{spec.signature()}`")
    try:
        parameters = inspect.signature(member).parameters.values()
    except (TypeError, ValueError) as error:
        raise PluginError(f"{where}: its signature cannot be read ({error})") from error
    named: list[str] = []
    for parameter in parameters:
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        named.append(parameter.name)
        if parameter.name not in spec.parameters:
            raise PluginError(
                f"{where} takes {parameter.name!r}, which the hook does not pass; "
                f"expected `{spec.signature()}`"
            )
        if parameter.kind is parameter.KEYWORD_ONLY and parameter.default is parameter.empty:
            raise PluginError(
                f"{where}: {parameter.name!r} must be positional; expected `{spec.signature()}`"
            )
    missing = [name for name in spec.parameters if name not in named]
    if missing:
        raise PluginError(
            f"{where} does not take {', '.join(map(repr, missing))}, which the hook passes; "
            f"expected `{spec.signature()}`"
        )
