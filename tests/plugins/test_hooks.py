"""Contribution hooks are declared with @hook and checked when the plugin registers."""

from __future__ import annotations

from typing import Any

import pytest

from tether.plugins import PluginContext, PluginError, PluginMeta, TetherPlugin, hook
from tether.plugins.registry import PluginRegistry


class _Base(TetherPlugin):
    meta = PluginMeta(name="p", version="1")

    async def initialize(self, context: PluginContext) -> None:
        return None


class _Good(_Base):
    @hook
    async def gate(self, call: Any) -> None:
        return None

    @hook
    def commands(self) -> list[Any]:
        return []

    @hook
    def programs(self) -> list[Any]:
        return []

    @hook
    def settings(self) -> Any:
        return None

    def gate_helper(self) -> None:
        """Unmarked: the plugin's own business, whatever its name."""

    async def on_anything(self, event: Any) -> None:
        """Unmarked."""


def test_marked_hooks_are_found_and_unmarked_methods_ignored() -> None:
    registry = PluginRegistry()
    registry.register(_Good())
    assert set(registry.hooks("p")) == {"gate", "commands", "programs", "settings"}
    [info] = registry.describe()
    assert set(info.hooks) == {"gate", "commands", "programs", "settings"}


def test_a_plugin_without_hooks_registers_as_before() -> None:
    registry = PluginRegistry()
    registry.register(_Base())
    assert registry.hooks("p") == {}


class _Unknown(_Base):
    @hook
    async def gatee(self, call: Any) -> None:
        return None


class _SyncGate(_Base):
    @hook
    def gate(self, call: Any) -> None:
        return None


class _AsyncCommands(_Base):
    @hook
    async def commands(self) -> list[Any]:
        return []


class _ExtraParameter(_Base):
    @hook
    async def gate(self, call: Any, engine: Any) -> None:
        return None


class _MissingParameter(_Base):
    @hook
    async def gate(self) -> None:
        return None


class _KeywordOnly(_Base):
    @hook
    async def gate(self, *, call: Any) -> None:
        return None


class _ProgramsTakesArgument(_Base):
    @hook
    def programs(self, registry: Any) -> list[Any]:
        return []


class _NotCallable(_Base):
    gate = hook(staticmethod(lambda: None))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("plugin_class", "expected"),
    [
        pytest.param(_Unknown, "hook 'gatee'.*no such hook", id="unknown-name"),
        pytest.param(_SyncGate, "hook 'gate' must be `async def`", id="sync-gate"),
        pytest.param(_AsyncCommands, "hook 'commands' must be a plain `def`", id="async-commands"),
        pytest.param(_ExtraParameter, "takes 'engine', which the hook does not pass", id="extra"),
        pytest.param(_MissingParameter, "does not take 'call'", id="missing"),
        pytest.param(_KeywordOnly, "'call' must be positional", id="keyword-only"),
        pytest.param(_ProgramsTakesArgument, "takes 'registry'", id="programs-argument"),
        pytest.param(_NotCallable, "hook 'gate'", id="static-lambda"),
    ],
)
def test_a_malformed_hook_is_a_plugin_error_naming_plugin_and_hook(
    plugin_class: type[_Base], expected: str
) -> None:
    registry = PluginRegistry()
    with pytest.raises(PluginError, match=f"plugin 'p'.*{expected}") as caught:
        registry.register(plugin_class())
    assert "\n" not in str(caught.value)
    assert registry.plugins == []


def test_a_hook_inherited_from_a_base_class_is_checked_too() -> None:
    class Child(_SyncGate):
        pass

    with pytest.raises(PluginError, match="hook 'gate'"):
        PluginRegistry().register(Child())


def test_a_plugin_whose_class_attributes_raise_when_read_is_a_plugin_error() -> None:
    class Raising:
        __tether_hook__ = True

        def __get__(self, instance: object, owner: type) -> Any:
            raise SystemExit(3)

    class Hostile(_Base):
        gate = Raising()

    with pytest.raises(PluginError, match="plugin 'p'"):
        PluginRegistry().register(Hostile())
