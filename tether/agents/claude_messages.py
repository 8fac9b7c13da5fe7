"""Read one turn of Claude Code's messages: stream its text and tool activity, keep the result.

With partial messages on, the CLI sends each text delta as a `StreamEvent`
and then the finished `AssistantMessage`; without them, only the finished
message. `TurnReader` streams whichever comes first and never the same text
twice, and separates the text blocks of a turn with a blank line, so the text
it streamed and the text it keeps are the same. Sub-agents' text stays out of
the reply; their tool calls are reported like any other.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

from claude_agent_sdk import (
    AssistantMessage,
    Message,
    ResultMessage,
    StreamEvent,
    SystemMessage,
    TextBlock,
    ToolUseBlock,
)

from tether.agents.base import OnText, OnToolActivity, ToolActivity
from tether.agents.claude_wire import MALFORMED
from tether.log import get_logger

__all__ = ["TurnReader", "deliver_text", "summarize_tool_call"]

logger = get_logger(__name__)

_SUMMARY_LIMIT = 80

# The input field that best says what a call does, per tool.
_DETAIL_FIELDS: dict[str, tuple[str, ...]] = {
    "Bash": ("command",),
    "Read": ("file_path",),
    "Write": ("file_path",),
    "Edit": ("file_path",),
    "MultiEdit": ("file_path",),
    "NotebookEdit": ("notebook_path",),
    "NotebookRead": ("notebook_path",),
    "Glob": ("pattern",),
    "Grep": ("pattern",),
    "LS": ("path",),
    "WebFetch": ("url",),
    "WebSearch": ("query",),
    "Task": ("description", "prompt"),
    "Agent": ("description", "prompt"),
    "Skill": ("skill", "command"),
}
_PATH_FIELDS = frozenset({"file_path", "notebook_path", "path"})


def summarize_tool_call(
    tool_name: str, tool_input: Mapping[str, Any], cwd: Path | None = None
) -> str:
    """One short line saying what a tool call does: `Bash: pytest -q`, `Read: src/app.py`.

    Paths inside `cwd` are shown relative to it; long details are cut with `…`.
    """
    detail = ""
    for field in _DETAIL_FIELDS.get(tool_name, ()):
        value = tool_input.get(field)
        if isinstance(value, str) and value.strip():
            detail = _relative(value, cwd) if field in _PATH_FIELDS else value
            break
    if not detail and tool_name == "TodoWrite":
        todos = tool_input.get("todos")
        if isinstance(todos, list):
            detail = f"{len(todos)} item" + ("" if len(todos) == 1 else "s")
    if not detail and tool_name not in _DETAIL_FIELDS:
        detail = next(
            (value for value in tool_input.values() if isinstance(value, str) and value.strip()),
            "",
        )
    detail = " ".join(detail.split())
    if len(detail) > _SUMMARY_LIMIT:
        detail = detail[: _SUMMARY_LIMIT - 1] + "…"
    return f"{tool_name}: {detail}" if detail else tool_name


def _relative(path: str, cwd: Path | None) -> str:
    if cwd is None:
        return path
    try:
        return str(Path(path).relative_to(cwd))
    except ValueError:
        return path


class TurnReader:
    """Reads the messages of one turn, passing text and tool activity to the callbacks.

    Afterwards `text` is everything streamed, `result` the turn's result (None
    if the stream ended without one), `session_id` Claude's conversation id as
    soon as the CLI names it, and `assistant_errors` the errors the CLI marked
    on assistant messages (`authentication_failed`, `rate_limit`, ...).
    """

    def __init__(
        self,
        *,
        on_text: OnText | None = None,
        on_tool_activity: OnToolActivity | None = None,
        cwd: Path | None = None,
    ) -> None:
        self._on_text = on_text
        self._on_tool_activity = on_tool_activity
        self._cwd = cwd
        # The reply's pieces, joined when the text is read: adding each streamed
        # piece to one string copied the whole reply so far, once per piece.
        self._pieces: list[str] = []
        self.result: ResultMessage | None = None
        self.session_id: str | None = None
        self.assistant_errors: tuple[str, ...] = ()
        self.malformed: tuple[str, ...] = ()
        """What was wrong with each message Claude Code sent malformed (they were skipped)."""
        self._streamed_messages: set[str] = set()
        self._tool_uses: set[str] = set()
        self._break_pending = False

    @property
    def text(self) -> str:
        """The reply's text so far, as the person saw it streamed."""
        if len(self._pieces) > 1:
            self._pieces[:] = ["".join(self._pieces)]
        return self._pieces[0] if self._pieces else ""

    async def read(self, messages: AsyncIterator[Message]) -> None:
        """Feed every message of `messages` (which ends after the result)."""
        async for message in messages:
            await self.feed(message)

    async def feed(self, message: Message) -> None:
        """Take one message from the CLI."""
        if isinstance(message, StreamEvent):
            if message.parent_tool_use_id is None:
                await self._on_stream_event(message.event)
        elif isinstance(message, AssistantMessage):
            await self._on_assistant(message)
        elif isinstance(message, ResultMessage):
            self.result = message
            self.session_id = message.session_id or self.session_id
        elif isinstance(message, SystemMessage) and message.subtype == MALFORMED:
            self.malformed = (*self.malformed, str(message.data.get("problem", "")))
        elif isinstance(message, SystemMessage) and message.subtype == "init":
            session_id = message.data.get("session_id")
            if isinstance(session_id, str) and session_id:
                self.session_id = session_id

    async def _on_stream_event(self, event: Mapping[str, Any]) -> None:
        kind = event.get("type")
        if kind == "message_start":
            message = event.get("message")
            if isinstance(message, Mapping) and isinstance(message.get("id"), str):
                self._streamed_messages.add(message["id"])
        elif kind == "content_block_start":
            block = event.get("content_block")
            if isinstance(block, Mapping) and block.get("type") == "text":
                self._break_pending = bool(self._pieces)
        elif kind == "content_block_delta":
            delta = event.get("delta")
            if isinstance(delta, Mapping) and delta.get("type") == "text_delta":
                text = delta.get("text")
                if isinstance(text, str) and text:
                    await self._emit(text)

    async def _on_assistant(self, message: AssistantMessage) -> None:
        if message.error is not None:
            self.assistant_errors = (*self.assistant_errors, message.error)
        streamed = message.message_id is not None and message.message_id in self._streamed_messages
        for block in message.content:
            if isinstance(block, ToolUseBlock):
                await self._on_tool_use(block, message.parent_tool_use_id)
            elif (
                isinstance(block, TextBlock)
                and message.parent_tool_use_id is None
                and not streamed
                and block.text
            ):
                self._break_pending = bool(self._pieces)
                await self._emit(block.text)

    async def _on_tool_use(self, block: ToolUseBlock, parent_tool_use_id: str | None) -> None:
        if block.id in self._tool_uses:
            return
        self._tool_uses.add(block.id)
        if self._on_tool_activity is None:
            return
        activity = ToolActivity(
            tool_name=block.name,
            summary=summarize_tool_call(block.name, block.input, self._cwd),
            tool_use_id=block.id,
            parent_tool_use_id=parent_tool_use_id,
        )
        try:
            await self._on_tool_activity(activity)
        except Exception:  # a display that fails must not stop the agent
            logger.exception("tool_activity_callback_failed", tool_name=block.name)

    async def _emit(self, text: str) -> None:
        if self._break_pending:
            text = "\n\n" + text
            self._break_pending = False
        self._pieces.append(text)
        await deliver_text(self._on_text, text)


async def deliver_text(on_text: OnText | None, text: str) -> None:
    """Pass `text` to `on_text`, if any; a callback that raises is logged, not raised."""
    if on_text is None:
        return
    try:
        await on_text(text)
    except Exception:  # a display that fails must not stop the agent
        logger.exception("text_callback_failed")
