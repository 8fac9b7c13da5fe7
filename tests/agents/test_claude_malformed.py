"""Malformed Claude Code output: one readable line, the raw message logged, the session goes on.

Driven through the real claude-agent-sdk and the fake CLI, which sends each
malformed message of `malformed_messages` amid an ordinary turn.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import structlog

from tests.agents.support import RecordingGate
from tether.agents.claude_code import ClaudeCodeAgent
from tether.agents.claude_wire import MALFORMED, screen
from tether.core.session import Session

sys.path.insert(0, str(Path(__file__).parent))
import fake_claude


def _names() -> list[str]:
    class _Ids:
        session_id = "s"
        next_id = 0

        def new_id(self, prefix: str) -> str:
            return f"{prefix}_1"

    return sorted(fake_claude.malformed_messages(_Ids()))  # type: ignore[arg-type]


MESSAGE_NAMES = [name for name in _names() if not name.startswith(("result-", "top-level-"))] + [
    "broken-json",
    "deep-json",
    "huge-int-json",
]
# A follow-up message (a second turn, seconds each) for one case of each kind.
FOLLOWED_UP = {
    "null-body",
    "broken-json",
    "deep-json",
    "huge-int-json",
    "block-unknown",
    "result-duration-text",
}
# Lines that are not a JSON object at all the SDK itself skips as stray output.
SKIPPED_NAMES = [name for name in _names() if name.startswith("top-level-")]
RESULT_NAMES = [name for name in _names() if name.startswith("result-")]


@pytest.mark.parametrize("name", SKIPPED_NAMES)
async def test_a_line_that_is_no_json_object_is_skipped(
    agent: ClaudeCodeAgent, session: Session, gate: RecordingGate, name: str
) -> None:
    response = await agent.execute(f"malformed {name}", session, can_use_tool=gate)
    assert response.content == "Before.\n\nAfter."
    assert not response.is_error


@pytest.mark.parametrize("name", MESSAGE_NAMES)
async def test_a_malformed_message_is_one_line_and_the_turn_goes_on(
    agent: ClaudeCodeAgent, session: Session, gate: RecordingGate, name: str
) -> None:
    with structlog.testing.capture_logs() as logs:
        response = await agent.execute(f"malformed {name}", session, can_use_tool=gate)
    assert "Before." in response.content and "After." in response.content
    assert not response.is_error
    assert response.notice is not None
    assert response.notice.startswith("Claude Code sent ")
    assert "Tether skipped it" in response.notice
    assert "\n" not in response.notice
    for raw_error in ("NoneType", "subscriptable", "Traceback", "KeyError", "AttributeError"):
        assert raw_error not in response.notice
    (logged,) = [line for line in logs if line["event"] == "claude_message_malformed"]
    assert logged["raw"]  # the raw message is in the log
    if name in FOLLOWED_UP:
        # The same process serves the next message.
        again = await agent.execute("hello again", session, can_use_tool=gate)
        assert not again.is_error and again.notice is None


@pytest.mark.parametrize("name", RESULT_NAMES)
async def test_a_malformed_result_ends_the_turn_readably_and_the_session_goes_on(
    agent: ClaudeCodeAgent, session: Session, gate: RecordingGate, name: str
) -> None:
    with structlog.testing.capture_logs() as logs:
        response = await agent.execute(f"malformed {name}", session, can_use_tool=gate)
    assert response.is_error
    assert (
        "Claude Code stopped with an error: Claude Code sent a result message" in response.content
    )
    assert response.content.count("\n") <= 2  # the text so far, then one line
    assert any(line["event"] == "claude_message_malformed" for line in logs)
    if name in FOLLOWED_UP:
        again = await agent.execute("hello again", session, can_use_tool=gate)
        assert not again.is_error


@pytest.mark.parametrize(
    ("message", "problem"),
    [
        pytest.param(
            {"type": "assistant", "message": None},
            "an assistant message whose message is wrong",
            id="null-body",
        ),
        pytest.param({"type": "assistant"}, "an assistant message without message", id="no-body"),
        pytest.param(None, "null where a message belongs", id="null"),
        pytest.param({"type": None}, "a message without a type", id="type-null"),
        pytest.param(
            {
                "type": "result",
                "subtype": "success",
                "duration_ms": "1",
                "duration_api_ms": 1,
                "is_error": False,
                "num_turns": 1,
                "session_id": "s",
            },
            "a result message whose duration_ms is wrong",
            id="result-text-number",
        ),
    ],
)
def test_screen_names_the_problem(message: object, problem: str) -> None:
    with structlog.testing.capture_logs():
        (replaced,) = screen(message)
    if replaced["type"] == "system":
        assert replaced["subtype"] == MALFORMED
        assert replaced["problem"].startswith(problem)
    else:
        assert replaced["is_error"] is True
        assert replaced["errors"][0].startswith(f"Claude Code sent {problem}")


@pytest.mark.parametrize(
    "message",
    [
        pytest.param({"type": "control_request", "request_id": "r", "request": {}}, id="control"),
        pytest.param({"type": "keep_alive"}, id="keep-alive"),
        pytest.param(
            {
                "type": "assistant",
                "message": {"model": "m", "content": [{"type": "text", "text": "hi"}]},
            },
            id="good-assistant",
        ),
        pytest.param(
            {
                "type": "assistant",
                "message": {"model": "m", "content": [{"type": "redacted_thinking", "data": "x"}]},
            },
            id="redacted-thinking-is-quietly-dropped",
        ),
    ],
)
def test_well_formed_and_foreign_messages_pass(message: dict[str, object]) -> None:
    with structlog.testing.capture_logs() as logs:
        (passed,) = screen(message)
    assert passed["type"] == message["type"]
    assert not any(line["event"] == "claude_message_malformed" for line in logs)
