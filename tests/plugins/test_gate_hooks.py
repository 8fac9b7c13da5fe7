"""A plugin's gate hook may only tighten, is bounded, and fails closed."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tether.plugins import GateCall, PluginContext, PluginMeta, TetherPlugin, Tighten, hook
from tether.testing import ScriptedAgent, UseTool, running_engine

pytestmark = pytest.mark.asyncio

_READ = UseTool("Bash", {"command": "ls -la"})
"""A call the default policy allows."""
_WRITE = UseTool("Bash", {"command": "touch notes.txt"})
"""A call the default policy asks about."""
_FLOOR = UseTool("Bash", {"command": "cat ~/.ssh/id_rsa"})
"""A call the floor denies."""


class _Gate(TetherPlugin):
    def __init__(self, answer: Any = None, *, name: str = "gatekeeper-plugin") -> None:
        self.meta = PluginMeta(name=name, version="1")
        self.answer = answer
        self.seen: list[GateCall] = []

    async def initialize(self, context: PluginContext) -> None:
        return None

    @hook
    async def gate(self, call: GateCall) -> Any:
        self.seen.append(call)
        answer = self.answer
        if isinstance(answer, BaseException):
            raise answer
        if callable(answer):
            return await answer(call)
        return answer


async def _decide(plugins: list[Any], step: UseTool, **settings: Any) -> Any:
    agent = ScriptedAgent([step])
    settings.setdefault("approval_timeout_seconds", 0.3)
    async with running_engine(plugins, agent=agent, **settings) as running:
        await running.send("go")
        [(_, decision)] = agent.calls[0].decisions
        entries = running.audit_entries("tool_attempt")
        return decision, entries[-1], running.connector.approvals


async def test_a_hook_that_answers_none_leaves_an_allow_an_allow() -> None:
    plugin = _Gate(None)
    decision, _, approvals = await _decide([plugin], _READ)
    assert decision.allowed and approvals == []
    [call] = plugin.seen
    assert call.decision == "allow" and call.tool_name == "Bash"
    assert call.tool_input == {"command": "ls -la"}


async def test_a_hook_can_turn_an_allow_into_an_ask_with_its_reason() -> None:
    decision, entry, approvals = await _decide(
        [_Gate(Tighten(action="ask", reason="over budget"))], _READ
    )
    assert not decision.allowed  # nobody answered: the approval timed out
    [request] = approvals
    assert "over budget" in request.description
    assert entry["decision"]["layer"] == "plugin"
    assert entry["decision"]["rule"] == "plugin:gatekeeper-plugin"


async def test_a_hook_can_deny_and_the_deny_is_audited_as_the_plugins() -> None:
    decision, entry, approvals = await _decide([_Gate(Tighten(action="deny", reason="no"))], _READ)
    assert not decision.allowed and approvals == []
    assert decision.violation_type == "plugin"
    assert "no (plugin gatekeeper-plugin)" in (decision.reason or "")
    assert entry["decision"]["allowed"] is False


async def test_a_hook_can_turn_an_ask_into_a_deny() -> None:
    decision, _, approvals = await _decide([_Gate(Tighten(action="deny", reason="no"))], _WRITE)
    assert not decision.allowed and approvals == []


async def test_a_hook_never_sees_a_call_the_floor_denies() -> None:
    plugin = _Gate(None)
    decision, _, _ = await _decide([plugin], _FLOOR)
    assert not decision.allowed and plugin.seen == []


class _Loosen:
    """Answers that try to loosen or are not answers at all."""


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param("allow", id="string-allow"),
        pytest.param({"action": "allow"}, id="dict"),
        pytest.param(True, id="true"),
        pytest.param(_Loosen(), id="object"),
        pytest.param(Tighten.model_construct(action="allow", reason="go"), id="forged-tighten"),
        pytest.param(Tighten.model_construct(action="deny", reason=""), id="empty-reason"),
    ],
)
async def test_a_hook_cannot_loosen_an_ask_and_a_wrong_answer_fails_closed(answer: Any) -> None:
    plugin = _Gate(answer)
    decision, _, approvals = await _decide([plugin], _WRITE)
    assert not decision.allowed and len(approvals) == 1
    decision, _, approvals = await _decide([_Gate(answer)], _READ)
    assert not decision.allowed and len(approvals) == 1  # an allow became an ask
    assert "failed" in approvals[0].description


@pytest.mark.parametrize(
    "error",
    [
        pytest.param(RuntimeError("boom"), id="exception"),
        pytest.param(SystemExit(1), id="system-exit"),
        pytest.param(KeyboardInterrupt(), id="keyboard-interrupt"),
        pytest.param(asyncio.CancelledError(), id="cancelled"),
    ],
)
async def test_a_hook_that_raises_turns_an_allow_into_an_ask_and_is_counted(
    error: BaseException,
) -> None:
    plugin = _Gate(error)
    agent = ScriptedAgent([_READ, _READ])
    async with running_engine([plugin], agent=agent, approval_timeout_seconds=0.2) as running:
        await running.send("go")
        decisions = [d for _, d in agent.calls[0].decisions]
        assert [d.allowed for d in decisions] == [False, False]
        assert len(running.connector.approvals) == 2
        info = next(i for i in running.engine.plugins.describe() if i.name == plugin.meta.name)
        assert (info.calls, info.errors, info.timeouts) == (2, 2, 0)
        assert len(running.audit_entries("tool_attempt")) == 2
        assert running.engine.is_running


async def test_a_hook_that_hangs_is_cut_at_the_handler_timeout_and_asks() -> None:
    async def hang(call: GateCall) -> None:
        await asyncio.sleep(3600)

    plugin = _Gate(hang)
    decision, _, approvals = await _decide([plugin], _READ, event_handler_timeout_seconds=0.1)
    assert not decision.allowed and len(approvals) == 1
    assert "did not finish" in approvals[0].description


async def test_a_hook_that_ignores_its_cancellation_is_abandoned() -> None:
    async def stubborn(call: GateCall) -> None:
        while True:
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                continue

    plugin = _Gate(stubborn)
    decision, entry, approvals = await _decide([plugin], _READ, event_handler_timeout_seconds=0.1)
    assert not decision.allowed and len(approvals) == 1
    assert entry["decision"]["allowed"] is False


async def test_a_hook_that_waits_briefly_still_answers() -> None:
    async def slow_deny(call: GateCall) -> Tighten:
        await asyncio.sleep(0.01)
        return Tighten(action="deny", reason="later")

    decision, _, _ = await _decide([_Gate(slow_deny)], _READ)
    assert not decision.allowed and decision.violation_type == "plugin"


async def test_the_strictest_answer_of_several_plugins_wins() -> None:
    plugins = [
        _Gate(Tighten(action="ask", reason="one"), name="a"),
        _Gate(Tighten(action="deny", reason="two"), name="b"),
        _Gate(None, name="c"),
    ]
    decision, _, approvals = await _decide(plugins, _READ)
    assert not decision.allowed and approvals == []
    assert "plugin b" in (decision.reason or "")
    assert plugins[2].seen == []  # the first deny ends the review


async def test_changing_the_input_it_sees_changes_nothing() -> None:
    async def vandal(call: GateCall) -> None:
        call.tool_input["command"] = "rm -rf /"

    plugin = _Gate(vandal)
    decision, entry, _ = await _decide([plugin], _READ)
    assert decision.allowed
    assert entry["tool_input"] == {"command": "ls -la"}


async def test_a_plugin_ask_is_not_answered_by_edit_mode() -> None:
    agent = ScriptedAgent([UseTool("Write", {"file_path": "notes.txt", "content": "x"})])
    plugin = _Gate(Tighten(action="ask", reason="budget"))
    async with running_engine([plugin], agent=agent, approval_timeout_seconds=0.2) as running:
        await running.send("/edit")
        await running.send("go")
        [(_, decision)] = agent.calls[0].decisions
        assert not decision.allowed
        assert len(running.connector.approvals) == 1


async def test_a_hook_that_cancels_the_current_task_does_not_cancel_the_request() -> None:
    async def cancel_caller(call: GateCall) -> None:
        task = asyncio.current_task()
        assert task is not None
        task.cancel()

    plugin = _Gate(cancel_caller)
    agent = ScriptedAgent([_READ, _READ])
    async with running_engine([plugin], agent=agent, approval_timeout_seconds=0.2) as running:
        reply = await running.send("go")
        assert not reply.startswith("Cancelled")  # the agent was not cancelled
        decisions = [d for _, d in agent.calls[0].decisions]
        assert len(decisions) == 2 and not any(d.allowed for d in decisions)  # asked, unanswered
        assert len(running.audit_entries("tool_attempt")) == 2
        info = next(i for i in running.engine.plugins.describe() if i.name == plugin.meta.name)
        assert info.errors == 2


async def test_cancelling_a_request_while_a_hook_hangs_still_records_the_call() -> None:
    async def hang(call: GateCall) -> None:
        await asyncio.sleep(3600)

    agent = ScriptedAgent([_READ])
    async with running_engine(
        [_Gate(hang)], agent=agent, event_handler_timeout_seconds=30
    ) as running:
        request = asyncio.create_task(running.send("go"))
        for _ in range(200):
            if running.engine.is_busy(1) and agent.tool_calls:
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)
        assert await running.engine.cancel(1)
        await request
        [entry] = running.audit_entries("tool_attempt")
        assert entry["decision"]["allowed"] is False
        assert entry["decision"]["approval"] == "cancelled"
