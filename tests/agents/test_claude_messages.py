"""Tool call summaries, and how a turn's messages become streamed text and activity."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from claude_agent_sdk import (
    AssistantMessage,
    ResultMessage,
    StreamEvent,
    SystemMessage,
    TextBlock,
    ToolUseBlock,
)

from tests.agents.support import Collected
from tether.agents.claude_messages import TurnReader, deliver_text, summarize_tool_call

PROJECT = Path("/home/ana/project")


@pytest.mark.parametrize(
    ("tool_name", "tool_input", "summary"),
    [
        pytest.param("Bash", {"command": "pytest -q"}, "Bash: pytest -q", id="bash"),
        pytest.param(
            "Read",
            {"file_path": "/home/ana/project/src/app.py"},
            "Read: src/app.py",
            id="read-inside",
        ),
        pytest.param("Read", {"file_path": "/etc/passwd"}, "Read: /etc/passwd", id="read-outside"),
        pytest.param(
            "Edit",
            {"file_path": "/home/ana/project/a.py", "old_string": "x", "new_string": "y"},
            "Edit: a.py",
            id="edit",
        ),
        pytest.param("Grep", {"pattern": "TODO", "path": "src"}, "Grep: TODO", id="grep"),
        pytest.param(
            "WebFetch", {"url": "https://example.org"}, "WebFetch: https://example.org", id="fetch"
        ),
        pytest.param(
            "Agent", {"description": "Find tests", "prompt": "…"}, "Agent: Find tests", id="agent"
        ),
        pytest.param("Task", {"prompt": "Look around"}, "Task: Look around", id="task-prompt"),
        pytest.param("TodoWrite", {"todos": [{}, {}]}, "TodoWrite: 2 items", id="todos"),
        pytest.param(
            "mcp__db__query", {"sql": "select 1"}, "mcp__db__query: select 1", id="unknown"
        ),
        pytest.param("ExitPlanMode", {}, "ExitPlanMode", id="no-detail"),
        pytest.param(
            "Bash",
            {"command": "for f in *.py\ndo\n  black $f\ndone"},
            "Bash: for f in *.py do black $f done",
            id="one-line",
        ),
        pytest.param("Bash", {"command": "x" * 200}, "Bash: " + "x" * 79 + "…", id="cut"),
        pytest.param("Bash", {"command": 42}, "Bash", id="not-text"),
    ],
)
def test_a_tool_call_is_summarised_in_one_short_line(
    tool_name: str, tool_input: dict[str, Any], summary: str
) -> None:
    assert summarize_tool_call(tool_name, tool_input, PROJECT) == summary


def _assistant(
    *blocks: Any, parent: str | None = None, message_id: str = "m1", **extra: Any
) -> AssistantMessage:
    return AssistantMessage(
        content=list(blocks), model="m", parent_tool_use_id=parent, message_id=message_id, **extra
    )


def _event(event: dict[str, Any], parent: str | None = None) -> StreamEvent:
    return StreamEvent(uuid="u", session_id="s", event=event, parent_tool_use_id=parent)


def _deltas(message_id: str, *pieces: str) -> list[StreamEvent]:
    events = [
        _event({"type": "message_start", "message": {"id": message_id}}),
        _event({"type": "content_block_start", "index": 0, "content_block": {"type": "text"}}),
    ]
    events += [
        _event({"type": "content_block_delta", "delta": {"type": "text_delta", "text": piece}})
        for piece in pieces
    ]
    return events


class TestTurnReader:
    async def test_streamed_text_is_not_repeated_by_the_finished_message(
        self, collected: Collected
    ) -> None:
        reader = TurnReader(on_text=collected.on_text)

        for event in _deltas("m1", "Hel", "lo"):
            await reader.feed(event)
        await reader.feed(_assistant(TextBlock("Hello"), message_id="m1"))

        assert collected.texts == ["Hel", "lo"]
        assert reader.text == "Hello"

    async def test_text_blocks_without_streaming_arrive_whole_and_separated(
        self, collected: Collected
    ) -> None:
        reader = TurnReader(on_text=collected.on_text)

        await reader.feed(_assistant(TextBlock("First."), message_id="m1"))
        await reader.feed(_assistant(TextBlock("Second."), message_id="m2"))

        assert collected.texts == ["First.", "\n\nSecond."]
        assert reader.text == "First.\n\nSecond."

    @pytest.mark.parametrize(
        ("pieces", "read_after"),
        [
            pytest.param(("a",), (), id="one-piece"),
            pytest.param(tuple("hello world"), (), id="letters"),
            pytest.param(tuple(f"{n} " for n in range(5000)), (), id="many-pieces"),
            pytest.param(tuple("abcdef"), (0, 2, 3, 5), id="read-while-streaming"),
            pytest.param(("ünï", "cødé ✓", "\n", "\n\n"), (1,), id="unicode-and-breaks"),
        ],
    )
    async def test_the_reply_is_its_streamed_pieces_in_order(
        self, collected: Collected, pieces: tuple[str, ...], read_after: tuple[int, ...]
    ) -> None:
        """Reading the text while it streams (as a retry does) changes nothing after it."""
        reader = TurnReader(on_text=collected.on_text)
        events = _deltas("m1", *pieces)
        for event in events[:2]:
            await reader.feed(event)
        for index, event in enumerate(events[2:]):
            await reader.feed(event)
            if index in read_after:
                assert reader.text == "".join(pieces[: index + 1])
        await reader.feed(_assistant(TextBlock("".join(pieces)), message_id="m1"))
        assert reader.text == "".join(pieces)
        assert collected.texts == list(pieces)

    async def test_a_second_text_block_after_a_read_is_set_apart(
        self, collected: Collected
    ) -> None:
        reader = TurnReader(on_text=collected.on_text)
        await reader.feed(_assistant(TextBlock("First."), message_id="m1"))
        assert reader.text == "First."
        for event in _deltas("m2", "Sec", "ond."):
            await reader.feed(event)
        assert reader.text == "First.\n\nSecond."

    async def test_sub_agent_text_stays_out_of_the_reply(self, collected: Collected) -> None:
        reader = TurnReader(on_text=collected.on_text)

        await reader.feed(
            _event(
                {"type": "content_block_delta", "delta": {"type": "text_delta", "text": "inner"}},
                parent="t1",
            )
        )
        await reader.feed(_assistant(TextBlock("inner thoughts"), parent="t1"))

        assert collected.texts == []
        assert reader.text == ""

    async def test_tool_use_is_reported_once_with_its_parent(self, collected: Collected) -> None:
        reader = TurnReader(on_tool_activity=collected.on_tool_activity, cwd=PROJECT)
        call = ToolUseBlock(id="t2", name="Read", input={"file_path": "/home/ana/project/x.py"})

        await reader.feed(_assistant(call, parent="t1"))
        await reader.feed(_assistant(call, parent="t1", message_id="m2"))

        (activity,) = collected.activities
        assert activity.summary == "Read: x.py"
        assert activity.tool_use_id == "t2"
        assert activity.parent_tool_use_id == "t1"

    async def test_a_failing_display_does_not_stop_the_turn(self) -> None:
        async def broken(_: Any) -> None:
            raise ConnectionError("chat unreachable")

        reader = TurnReader(on_text=broken, on_tool_activity=broken)

        await reader.feed(_assistant(TextBlock("Hi"), ToolUseBlock(id="t", name="LS", input={})))

        assert reader.text == "Hi"

    async def test_session_id_comes_from_init_and_result_and_errors_are_kept(self) -> None:
        reader = TurnReader()

        await reader.feed(SystemMessage(subtype="init", data={"session_id": "from-init"}))
        assert reader.session_id == "from-init"
        await reader.feed(_assistant(TextBlock("API Error"), error="rate_limit"))
        result = ResultMessage(
            subtype="success",
            duration_ms=1,
            duration_api_ms=1,
            is_error=False,
            num_turns=1,
            session_id="final",
        )
        await reader.feed(result)

        assert reader.session_id == "final"
        assert reader.result is result
        assert reader.assistant_errors == ("rate_limit",)


async def test_deliver_text_contains_a_failing_callback() -> None:
    async def broken(_: str) -> None:
        raise RuntimeError("boom")

    await deliver_text(broken, "text")
    await deliver_text(None, "text")
