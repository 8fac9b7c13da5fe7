"""A plugin's `programs` hook reaches the gate through build_engine, contained."""

from __future__ import annotations

from typing import Any

import pytest

from tether.plugins import PluginContext, PluginError, PluginMeta, ProgramSpec, TetherPlugin, hook
from tether.testing import ScriptedAgent, UseTool, running_engine

pytestmark = pytest.mark.asyncio

_SPEC = ProgramSpec(names="inhouse", subcommands={"status": ProgramSpec(read_only=True)})


class _Programs(TetherPlugin):
    meta = PluginMeta(name="ops", version="1")

    def __init__(self, result: Any) -> None:
        self.result = result

    async def initialize(self, context: PluginContext) -> None:
        return None

    @hook
    def programs(self) -> Any:
        if isinstance(self.result, BaseException):
            raise self.result
        return self.result


async def _allowed(plugin: _Programs, command: str) -> tuple[bool, Any]:
    agent = ScriptedAgent([UseTool("Bash", {"command": command})])
    async with running_engine([plugin], agent=agent, approval_timeout_seconds=0.2) as running:
        await running.send("go")
        info = next(i for i in running.engine.plugins.describe() if i.name == "ops")
        return agent.calls[0].decisions[0][1].allowed, info


async def test_a_described_read_only_call_is_allowed() -> None:
    allowed, info = await _allowed(_Programs([_SPEC]), "inhouse status")
    assert allowed and info.hooks == ("programs",) and info.errors == 0


async def test_a_generator_of_specs_works_too() -> None:
    allowed, _ = await _allowed(_Programs(iter([_SPEC])), "inhouse status")
    assert allowed


@pytest.mark.parametrize(
    "error",
    [
        pytest.param(RuntimeError("x"), id="exception"),
        pytest.param(SystemExit(0), id="exit"),
        pytest.param(KeyboardInterrupt(), id="keyboard-interrupt"),
    ],
)
async def test_a_programs_hook_that_raises_contributes_nothing_and_is_counted(
    error: BaseException,
) -> None:
    allowed, info = await _allowed(_Programs(error), "inhouse status")
    assert not allowed  # unknown again: asked, and nobody answered
    assert info.errors == 1 and (info.error or "").startswith("programs: ")


async def test_too_many_specs_are_contained() -> None:
    many = (ProgramSpec(names=f"tool{i}", read_only=True) for i in range(10_000))
    allowed, info = await _allowed(_Programs(many), "tool1")
    assert not allowed and info.errors == 1


async def test_a_malformed_spec_stops_start_up_naming_plugin_and_hook() -> None:
    with pytest.raises(PluginError, match="plugin 'ops': hook 'programs'"):
        async with running_engine([_Programs([ProgramSpec(names="git", read_only=True)])]):
            pass
