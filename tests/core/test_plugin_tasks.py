"""Tasks that plugin code starts cannot end the process; Tether's own tasks are untouched."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest

from tether.app import build_engine
from tether.core.config import TetherConfig
from tether.core.events import TOOL_GATED, Event, EventBus
from tether.core.plugin_tasks import (
    contain_plugin_tasks,
    contained_task_exits,
    enter_plugin_code,
)
from tether.core.safety.audit import read_audit_log
from tether.plugins.base import PluginContext, PluginMeta
from tether.plugins.guard import call_plugin


class HomeMadeExit(BaseException):
    """A plugin's own BaseException, outside the Exception tree."""


Make = Callable[[], BaseException]


def _run(main: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """Run `main` on a fresh loop; an exit escaping the loop fails the test instead of pytest."""
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(main())
    except (SystemExit, KeyboardInterrupt, HomeMadeExit) as error:
        pytest.fail(f"the event loop ended: {error!r}")
    finally:
        loop.close()


def _spawner(make: Make, spawn: str) -> Callable[[], None]:
    """Start, in one of the ways a plugin may, a task that raises `make()` after a turn."""

    async def task() -> None:
        await asyncio.sleep(0)
        raise make()

    async def at_once() -> None:
        raise make()

    def start() -> None:
        if spawn == "create_task":
            asyncio.get_running_loop().create_task(task())
        elif spawn == "ensure_future":
            asyncio.ensure_future(task())  # noqa: RUF006 - a careless plugin keeps none
        elif spawn == "at-once":
            asyncio.create_task(at_once())  # noqa: RUF006 - a careless plugin keeps none
        else:  # a task started by a task the plugin started
            asyncio.create_task(_nested(task))  # noqa: RUF006 - a careless plugin keeps none

    return start


async def _nested(inner: Callable[[], Coroutine[Any, Any, None]]) -> None:
    asyncio.create_task(inner())  # noqa: RUF006 - a careless plugin keeps none
    await asyncio.sleep(0.01)


_SPAWNS = ["create_task", "ensure_future", "at-once", "grandchild"]


class Spawner:
    """Starts a task that tries to exit: from its tool.gated handler, or from `start`."""

    def __init__(self, name: str, make: Make, spawn: str, where: str) -> None:
        self.meta = PluginMeta(name=name, version="1.0")
        self._start_task = _spawner(make, spawn)
        self._where = where

    async def initialize(self, context: PluginContext) -> None:
        context.event_bus.subscribe(TOOL_GATED, self.on_gated)

    async def start(self) -> None:
        if self._where == "start":
            self._start_task()

    async def stop(self) -> None:
        return None

    async def on_gated(self, event: Event) -> None:
        if self._where == "handler":
            self._start_task()


_MAKES: dict[str, Make] = {
    "SystemExit": lambda: SystemExit(3),
    "KeyboardInterrupt": KeyboardInterrupt,
    "custom-BaseException": lambda: HomeMadeExit("mine"),
}


def test_a_plugin_task_that_exits_neither_ends_the_loop_nor_loses_a_record(
    config: TetherConfig, project_dir: Path
) -> None:
    # One engine with a plugin for every way of exiting, of starting the task,
    # and of where it is started (one engine: each start costs a tenth of a second).
    plugins = [
        Spawner(f"{where}-{spawn}-{label}", make, spawn, where)
        for label, make in _MAKES.items()
        for spawn in _SPAWNS
        for where in ("handler", "start")
    ]
    before = contained_task_exits()

    async def main() -> None:
        async with build_engine(config, plugins=plugins) as engine:
            for _ in range(2):
                decision = await engine.gatekeeper.check(
                    "Read", {"file_path": str(project_dir / "README.md")}, "s", 7, user_id=1
                )
                assert decision.allowed
                await asyncio.sleep(0.02)  # the spawned tasks run, and raise

    _run(main)
    # Every task raised: 12 from start, 12 per gated call from the handlers.
    assert contained_task_exits() - before == 12 + 2 * 12
    attempts = [
        e for e in read_audit_log(config.audit_log_path) if e["event_type"] == "tool_attempt"
    ]
    assert len(attempts) == 2


def test_tethers_own_tasks_are_not_wrapped() -> None:
    # Only plugin code is contained: Tether's own exits (a second Ctrl-C) still stop it.
    async def main() -> None:
        contain_plugin_tasks(asyncio.get_running_loop())
        core = asyncio.sleep(0)
        task = asyncio.create_task(core)
        assert task.get_coro() is core
        await task

    _run(main)


def test_a_factory_already_installed_is_kept_and_installing_twice_is_harmless() -> None:
    made: list[object] = []

    def host_factory(loop: asyncio.AbstractEventLoop, coro: Any, **kwargs: Any) -> Any:
        made.append(coro)
        return asyncio.Task(coro, loop=loop, **kwargs)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        loop.set_task_factory(host_factory)
        contain_plugin_tasks(loop)
        contain_plugin_tasks(loop)

        async def plugin() -> None:
            enter_plugin_code()
            await asyncio.create_task(_raises(SystemExit(1)))

        await asyncio.create_task(plugin())

    _run(main)
    assert len(made) == 2  # the plugin's task and the one it started, both through the host's


async def _raises(error: BaseException) -> None:
    raise error


def test_ordinary_failures_and_results_of_plugin_tasks_pass_through() -> None:
    async def main() -> None:
        contain_plugin_tasks(asyncio.get_running_loop())
        bus = EventBus(handler_timeout=1.0)
        seen: list[object] = []

        async def returns() -> int:
            return 42

        async def handler(event: Event) -> None:
            seen.append(await asyncio.create_task(returns()))
            with pytest.raises(ValueError):
                await asyncio.create_task(_raises(ValueError("plain")))
            task = asyncio.create_task(asyncio.sleep(10))
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task

        bus.subscribe("x", handler)
        await bus.emit(Event(name="x"))
        assert seen == [42]

    _run(main)


def test_a_lifecycle_call_marks_its_tasks_as_plugin_code() -> None:
    before = contained_task_exits()

    async def main() -> None:
        contain_plugin_tasks(asyncio.get_running_loop())

        async def initialize() -> None:
            asyncio.create_task(_raises(KeyboardInterrupt()))  # noqa: RUF006 - a careless plugin keeps none

        assert await call_plugin(initialize, 1.0) is None
        await asyncio.sleep(0.01)

    _run(main)
    assert contained_task_exits() == before + 1
