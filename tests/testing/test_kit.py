"""tether.testing: the kit works as documented, and the docs' worked example runs as written."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from types import ModuleType

import pytest

from tether.core.events import (
    APPROVAL_REQUESTED,
    ENGINE_STARTED,
    ENGINE_STOPPED,
    MESSAGE_IN,
    MESSAGE_OUT,
    TOOL_ALLOWED,
    Event,
    EventBus,
)
from tether.plugins import PluginContext, PluginEventBus, PluginMeta
from tether.testing import (
    TEST_USER,
    Fail,
    RecordingConnector,
    Say,
    ScriptedAgent,
    UseTool,
    capture_events,
    running_engine,
)

DOCS = Path(__file__).parents[2] / "docs" / "plugins.md"


def _docs_example() -> ModuleType:
    text = DOCS.read_text(encoding="utf-8")
    found = re.search(
        r"<!-- testing-example:start -->\n```python\n(.*?)```\n<!-- testing-example:end -->",
        text,
        re.S,
    )
    assert found is not None, "docs/plugins.md lacks the testing example"
    module = ModuleType("plugins_md_example")
    exec(compile(found.group(1), str(DOCS), "exec"), module.__dict__)
    return module


async def test_the_documented_example_runs_as_written() -> None:
    example = _docs_example()
    await example.test_counts_each_denied_call()


async def test_capture_events_records_what_the_bus_delivers_while_open() -> None:
    bus = EventBus()
    await bus.emit(Event(name="before"))
    with capture_events(bus) as events:
        await bus.emit(Event(name=MESSAGE_IN, data={"user_id": 1}))
        await bus.emit(Event(name="plugin.x.y"))
    await bus.emit(Event(name="after"))
    assert events.names() == [MESSAGE_IN, "plugin.x.y"]
    assert [event.data for event in events.named(MESSAGE_IN)] == [{"user_id": 1}]
    assert len(events) == 2
    assert bus.handlers_for("after") == ()


async def test_capture_events_lets_go_when_the_block_raises() -> None:
    bus = EventBus()
    with pytest.raises(RuntimeError), capture_events(bus):
        raise RuntimeError("boom")
    assert bus.handlers_for(MESSAGE_IN) == ()


async def test_capture_events_works_on_a_plugins_view() -> None:
    bus = EventBus()
    view = PluginEventBus(bus, "kit")
    with capture_events(view) as events:
        await view.emit(Event(name="plugin.kit.ready"))
        await bus.emit(Event(name=MESSAGE_IN))
    assert events.names() == ["plugin.kit.ready", MESSAGE_IN]
    assert view.handlers_for(MESSAGE_IN) == ()


async def test_running_engine_captures_the_whole_lifecycle(tmp_path: Path) -> None:
    async with running_engine(workdir=tmp_path) as tether:
        assert await tether.send("hi") == "ok"
        assert tether.project == tmp_path / "project"
        assert tether.config.audit_log_path == tmp_path / "audit.jsonl"
        assert tether.config.plugins == ()
    assert tether.events.names() == [ENGINE_STARTED, MESSAGE_IN, MESSAGE_OUT, ENGINE_STOPPED]
    assert tether.agent.shut_down


async def test_running_engine_ignores_the_machines_plugin_list(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TETHER_PLUGINS", "not-installed-anywhere")
    async with running_engine() as tether:
        assert [p.meta.name for p in tether.engine.plugins.plugins] == ["audit"]


async def test_running_engine_removes_its_directory() -> None:
    async with running_engine() as tether:
        workdir = tether.project.parent
        assert workdir.is_dir()
    assert not workdir.exists()


async def test_running_engine_shuts_down_when_the_block_raises() -> None:
    stopped: list[bool] = []

    class Watcher:
        meta = PluginMeta(name="watcher", version="1")

        async def initialize(self, context: PluginContext) -> None:
            return None

        async def start(self) -> None:
            return None

        async def stop(self) -> None:
            stopped.append(True)

    with pytest.raises(RuntimeError, match="test failed"):
        async with running_engine([Watcher()]):
            raise RuntimeError("test failed")
    assert stopped == [True]


async def test_an_approval_through_the_recording_connector() -> None:
    from tether.connectors.base import ApprovalAnswer, ApprovalChoice

    agent = ScriptedAgent(
        script_for=lambda prompt: [UseTool("Write", {"file_path": prompt, "content": "x"})]
    )
    async with running_engine(agent=agent) as tether:
        target = str(tether.project / "notes.txt")
        running = asyncio.create_task(tether.send(target))
        request = await tether.connector.next_approval()
        assert request.tool_name == "Write"
        await tether.engine.handle_approval(
            ApprovalAnswer(
                approval_id=request.approval_id,
                choice=ApprovalChoice.APPROVE,
                user_id=TEST_USER,
                chat_id=TEST_USER,
            )
        )
        assert await asyncio.wait_for(running, 5) == "[Write ran]"
        assert len(tether.events.named(APPROVAL_REQUESTED)) == 1
        (allowed,) = tether.events.named(TOOL_ALLOWED)
        assert allowed.data["approval"] == "approved"
    (call,) = agent.calls
    assert [(name, decision.allowed) for name, decision in call.decisions] == [("Write", True)]


async def test_a_failing_agent_is_a_reply_not_a_crash() -> None:
    agent = ScriptedAgent([Say("half"), Fail(RuntimeError("agent broke"))])
    async with running_engine(agent=agent) as tether:
        reply = await tether.send("go")
        assert reply
        assert await tether.send("again")  # still serving


async def test_the_scripted_agent_can_forget_calls_and_still_count_them() -> None:
    agent = ScriptedAgent([UseTool("Read", {"file_path": "x"})] * 3, keep_calls=False)
    async with running_engine(agent=agent) as tether:
        await tether.send("a")
        await tether.send("b")
    assert agent.calls == []
    assert agent.tool_calls == 6


def test_the_test_fakes_are_the_kits() -> None:
    from tests.fakes import agent, connector
    from tether import testing

    assert agent.ScriptedAgent is testing.ScriptedAgent
    assert connector.RecordingConnector is RecordingConnector is testing.RecordingConnector


@pytest.mark.parametrize(
    "bench",
    [pytest.param(name, id=name) for name in ("engine.py", "soak.py")],
)
def test_benchmarks_use_the_kit_not_copies(bench: str) -> None:
    source = (Path(__file__).parents[2] / "bench" / bench).read_text(encoding="utf-8")
    assert "from tether.testing import" in source
    assert "async def execute(" not in source  # no agent of its own
