"""Screen each message Claude Code writes before the SDK reads it.

Claude Code's output is untrusted input: a message of the wrong shape (an
assistant message whose body is null, content that is not a list, a result
whose fields have the wrong types) would make the SDK's parser, or Tether
after it, fail with a raw Python error, and the turn with it. `screen`
checks the shape of every message the SDK would parse, against what the SDK
and Tether read from it, and replaces a malformed one:

- a result: by an error result naming the problem, so the turn still ends
  (the person reads "Claude Code stopped with an error: ...") and the next
  message starts Claude Code afresh, resuming the conversation;
- anything else: by a system message of subtype `MALFORMED` carrying the
  problem, which the turn reader turns into one line for the person while
  the turn goes on.

Each replacement is logged with the raw message (cut to `_RAW_LOG_CHARS`).
A content block of a type Tether does not know is dropped from its message
and reported the same way (the SDK would drop it silently). Messages the SDK
does not parse (control requests and responses, keep-alives, types it does
not know) pass unchanged.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from claude_agent_sdk._internal.message_parser import parse_message
from pydantic import BaseModel, ConfigDict, ValidationError

from tether.log import get_logger

__all__ = ["MALFORMED", "malformed", "screen"]

logger = get_logger(__name__)

MALFORMED = "tether_malformed"
"""The subtype of the system message that stands for a malformed one."""

_RAW_LOG_CHARS = 2_000


class _Shape(BaseModel):
    # Strict: a number given as text, or a bool as a number, is malformed.
    model_config = ConfigDict(extra="allow", strict=True, frozen=True)


class _Text(_Shape):
    type: Literal["text"]
    text: str


class _Thinking(_Shape):
    type: Literal["thinking"]
    thinking: str
    signature: str


class _ToolUse(_Shape):
    type: Literal["tool_use", "server_tool_use"]
    id: str
    name: str
    input: dict[str, Any]


class _ToolResult(_Shape):
    type: Literal["tool_result"]
    tool_use_id: str
    content: str | list[Any] | None = None
    is_error: bool | None = None


class _AdvisorResult(_Shape):
    type: Literal["advisor_tool_result"]
    tool_use_id: str
    content: Any


_BLOCKS: dict[str, type[_Shape]] = {
    "text": _Text,
    "thinking": _Thinking,
    "tool_use": _ToolUse,
    "server_tool_use": _ToolUse,
    "tool_result": _ToolResult,
    "advisor_tool_result": _AdvisorResult,
}
# Blocks Claude Code is known to send that carry nothing for the person.
_SILENT_BLOCKS = frozenset({"redacted_thinking"})


class _AssistantBody(_Shape):
    content: list[dict[str, Any]]
    model: str
    id: str | None = None
    stop_reason: str | None = None
    usage: dict[str, Any] | None = None


class _Assistant(_Shape):
    message: _AssistantBody
    parent_tool_use_id: str | None = None
    error: str | None = None
    session_id: str | None = None


class _UserBody(_Shape):
    content: str | list[dict[str, Any]]


class _User(_Shape):
    message: _UserBody
    parent_tool_use_id: str | None = None


class _System(_Shape):
    subtype: str
    session_id: str | None = None


class _Result(_Shape):
    subtype: str
    duration_ms: int
    duration_api_ms: int
    is_error: bool
    num_turns: int
    session_id: str
    total_cost_usd: float | None = None
    usage: dict[str, Any] | None = None
    result: str | None = None
    errors: list[str] | None = None
    api_error_status: int | None = None
    terminal_reason: str | None = None
    stop_reason: str | None = None


class _StreamEvent(_Shape):
    uuid: str
    session_id: str
    event: dict[str, Any]
    parent_tool_use_id: str | None = None


_MESSAGES: dict[str, type[_Shape]] = {
    "assistant": _Assistant,
    "user": _User,
    "system": _System,
    "result": _Result,
    "stream_event": _StreamEvent,
}


def screen(data: object) -> list[dict[str, Any]]:
    """What the SDK gets for `data`: itself if well-formed, else its stand-in.

    A message that lost unknown content blocks comes after a stand-in that
    reports them.
    """
    if not isinstance(data, dict):
        return [malformed(data, f"{_json_kind(data)} where a message belongs")]
    kind = data.get("type")
    if not isinstance(kind, str):
        return [malformed(data, "a message without a type")]
    shape = _MESSAGES.get(kind)
    if shape is None:
        return [data]  # control traffic and types the SDK skips
    try:
        shape.model_validate(data)
    except ValidationError as error:
        return [malformed(data, f"{_article(kind)} {kind} message {_first_problem(error)}")]
    reported: list[dict[str, Any]] = []
    if kind in ("assistant", "user"):
        checked = _screen_blocks(data, kind)
        if isinstance(checked, str):
            return [malformed(data, checked)]
        data, unknown = checked
        if unknown:
            reported.append(
                malformed(
                    data,
                    f"{_article(kind)} {kind} message with a content block of "
                    f"an unknown type ({unknown[:40]!r})",
                )
            )
    try:
        parse_message(data)
    # Broad on purpose: the check is whatever the SDK's parser trips on.
    except Exception as error:  # noqa: BLE001
        return [malformed(data, f"{_article(kind)} {kind} message the SDK cannot read ({error})")]
    return [*reported, data]


def _screen_blocks(data: dict[str, Any], kind: str) -> tuple[dict[str, Any], str] | str:
    """`data` without unknown blocks, and the first unknown type ("" if none); or the problem."""
    content = data["message"]["content"]
    if isinstance(content, str):
        return data, ""
    kept: list[dict[str, Any]] = []
    unknown = ""
    for index, block in enumerate(content):
        block_type = block.get("type")
        shape = _BLOCKS.get(block_type) if isinstance(block_type, str) else None
        if shape is None:
            if block_type not in _SILENT_BLOCKS and not unknown:
                unknown = str(block_type)
            continue
        try:
            shape.model_validate(block)
        except ValidationError as error:
            return f"{_article(kind)} {kind} message whose block {index} {_first_problem(error)}"
        kept.append(block)
    if len(kept) == len(content):
        return data, unknown
    return {**data, "message": {**data["message"], "content": kept}}, unknown


def malformed(data: object, problem: str) -> dict[str, Any]:
    """The stand-in for `data`, which has `problem`; logged with the raw message."""
    _report(data, problem)
    if isinstance(data, dict) and data.get("type") == "result":
        session_id = data.get("session_id")
        return {
            "type": "result",
            "subtype": "error_during_execution",
            "duration_ms": 0,
            "duration_api_ms": 0,
            "is_error": True,
            "num_turns": 0,
            "session_id": session_id if isinstance(session_id, str) else "",
            "errors": [f"Claude Code sent {problem}"],
        }
    return {"type": "system", "subtype": MALFORMED, "problem": problem}


def _report(data: object, problem: str) -> None:
    try:
        raw = json.dumps(data, default=repr)
    except (TypeError, ValueError):
        raw = repr(data)
    logger.warning("claude_message_malformed", problem=problem, raw=raw[:_RAW_LOG_CHARS])


def _first_problem(error: ValidationError) -> str:
    problem = error.errors(include_url=False)[0]
    where = ".".join(str(part) for part in problem.get("loc", ())) or "the message"
    message = str(problem.get("msg", "is invalid"))
    if problem.get("type") == "missing":
        return f"without {where}"
    return f"whose {where} is wrong ({message.lower()}, got {_json_kind(problem.get('input'))})"


def _json_kind(value: object) -> str:
    """The JSON name of what was sent: what a person reading the line would call it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"
