"""StreamingReply and split_message: live replies by editing chat messages."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from structlog.testing import capture_logs

from tether.connectors.base import ReplyStream
from tether.connectors.streaming import StreamingReply, split_message, text_units
from tether.core.types import ChatId
from tether.exceptions import ConnectorError


@dataclass
class RecordingWriter:
    """An in-memory chat: what a stream sent, edited and deleted, in order."""

    messages: dict[str, str] = field(default_factory=dict)
    log: list[tuple[str, str, str]] = field(default_factory=list)
    typing: int = 0
    delay: float = 0.0
    fail_edits: int = 0
    _next: int = 0

    async def send_message_with_id(self, chat_id: ChatId, text: str) -> str:
        await asyncio.sleep(self.delay)
        self._next += 1
        message_id = str(self._next)
        self.messages[message_id] = text
        self.log.append(("send", message_id, text))
        return message_id

    async def edit_message(self, chat_id: ChatId, message_id: str, text: str) -> None:
        await asyncio.sleep(self.delay)
        if self.fail_edits:
            self.fail_edits -= 1
            raise ConnectorError("Telegram could not be reached (editMessageText)")
        self.messages[message_id] = text
        self.log.append(("edit", message_id, text))

    async def delete_message(self, chat_id: ChatId, message_id: str) -> None:
        del self.messages[message_id]
        self.log.append(("delete", message_id, ""))

    async def send_typing_indicator(self, chat_id: ChatId) -> None:
        self.typing += 1

    def shown(self) -> list[str]:
        return [self.messages[key] for key in sorted(self.messages, key=int)]


async def eventually(condition: Callable[[], bool], within: float = 2.0) -> None:
    async with asyncio.timeout(within):
        while True:
            if condition():
                return
            await asyncio.sleep(0.005)


# -- split_message ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        pytest.param("short", 100, ["short"], id="fits"),
        pytest.param("", 100, [""], id="empty"),
        pytest.param(
            "a" * 60 + "\n\n" + "b" * 60 + "\nc",
            100,
            ["a" * 60, "b" * 60 + "\nc"],
            id="cut-at-paragraph",
        ),
        pytest.param(
            "a" * 60 + "\n" + "b" * 60,
            100,
            ["a" * 60, "b" * 60],
            id="cut-at-line",
        ),
        pytest.param(
            "word " * 30,
            64,
            ["word " * 11 + "word", "word " * 11 + "word", "word " * 6],
            id="cut-at-word",
        ),
        pytest.param("x" * 150, 64, ["x" * 60, "x" * 60, "x" * 30], id="hard-cut-without-spaces"),
    ],
)
def test_split_message_cuts_at_the_best_boundary(
    text: str, limit: int, expected: list[str]
) -> None:
    assert split_message(text, limit) == expected


def test_split_message_closes_a_code_block_and_reopens_it_with_its_language() -> None:
    code = "\n".join(f"line_{n} = {n}" for n in range(40))
    chunks = split_message(f"Here:\n```python\n{code}\n```\nDone.", 200)
    assert len(chunks) > 1
    for chunk in chunks:
        fences = [line for line in chunk.splitlines() if line.startswith("```")]
        assert len(fences) % 2 == 0, chunk
    assert chunks[1].startswith("```python\n")
    assert chunks[-1].endswith("```\nDone.")


def test_split_message_counts_emoji_as_two_units() -> None:
    chunks = split_message("😀" * 100, 64)
    assert all(text_units(chunk) <= 64 for chunk in chunks)
    assert "".join(chunks) == "😀" * 100


def test_split_message_refuses_a_limit_too_small_for_a_fence() -> None:
    with pytest.raises(ValueError, match="at least 64"):
        split_message("text", 10)


@settings(max_examples=200, deadline=None)
@given(
    text=st.text(alphabet=st.sampled_from(["a", "b", " ", "\n", "`", "😀", "é"]), max_size=600),
    limit=st.integers(min_value=64, max_value=200),
)
def test_split_message_chunks_always_fit(text: str, limit: int) -> None:
    chunks = split_message(text, limit)
    assert all(text_units(chunk) <= limit for chunk in chunks)
    # Nothing but the separators cut at (and fences added) goes missing.
    letters = [char for char in text if char not in " \n`"]
    assert [char for char in "".join(chunks) if char not in " \n`"] == letters


# -- StreamingReply -----------------------------------------------------------


def test_streaming_reply_is_a_reply_stream() -> None:
    assert isinstance(StreamingReply(RecordingWriter(), 1), ReplyStream)


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        pytest.param("throttle_seconds", -1.0, "throttle_seconds", id="negative-throttle"),
        pytest.param("max_length", 10, "max_length", id="tiny-limit"),
    ],
)
def test_streaming_reply_refuses_bad_settings(option: str, value: float, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        StreamingReply(RecordingWriter(), 1, **{option: value})  # type: ignore[arg-type]


async def test_first_text_is_shown_at_once() -> None:
    writer = RecordingWriter()
    reply = StreamingReply(writer, 1, throttle_seconds=10.0)
    await reply.update("Hello")
    await eventually(lambda: writer.shown() == ["Hello"])


async def test_updates_within_the_throttle_become_one_edit_with_the_latest_text() -> None:
    writer = RecordingWriter()
    reply = StreamingReply(writer, 1, throttle_seconds=0.2)
    await reply.update("H")
    await eventually(lambda: writer.log == [("send", "1", "H")])
    for text in ("He", "Hel", "Hello"):
        await reply.update(text)
    await asyncio.sleep(0.05)
    assert writer.log == [("send", "1", "H")]
    await eventually(lambda: writer.shown() == ["Hello"])
    assert writer.log == [("send", "1", "H"), ("edit", "1", "Hello")]


async def test_edits_are_spaced_by_the_throttle() -> None:
    writer = RecordingWriter()
    reply = StreamingReply(writer, 1, throttle_seconds=0.1)
    times: list[float] = []
    original = writer.edit_message

    async def timed_edit(chat_id: ChatId, message_id: str, text: str) -> None:
        times.append(time.monotonic())
        await original(chat_id, message_id, text)

    writer.edit_message = timed_edit  # type: ignore[method-assign]
    await reply.update("0")
    for n in range(1, 8):
        await asyncio.sleep(0.03)
        await reply.update("0" * (n + 1))
    await eventually(lambda: writer.shown() == ["0" * 8])
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert gaps and min(gaps) >= 0.09


async def test_unchanged_text_is_not_edited_again() -> None:
    writer = RecordingWriter()
    reply = StreamingReply(writer, 1, throttle_seconds=0.0)
    await reply.update("same")
    await eventually(lambda: writer.shown() == ["same"])
    await reply.update("same")
    await asyncio.sleep(0.05)
    await reply.finish("same")
    assert writer.log == [("send", "1", "same")]


async def test_activity_line_shows_under_the_text_and_goes_when_cleared() -> None:
    writer = RecordingWriter()
    reply = StreamingReply(writer, 1, throttle_seconds=0.0)
    await reply.update("Running the tests.")
    await reply.activity("🔧 Bash: pytest -q")
    await eventually(lambda: writer.shown() == ["Running the tests.\n\n🔧 Bash: pytest -q"])
    await reply.activity(None)
    await eventually(lambda: writer.shown() == ["Running the tests."])


async def test_activity_before_any_text_is_shown_alone_and_kept_until_text_comes() -> None:
    writer = RecordingWriter()
    reply = StreamingReply(writer, 1, throttle_seconds=0.0)
    await reply.activity("🔧 Read: src/app.py\nsecond line is dropped")
    await eventually(lambda: writer.shown() == ["🔧 Read: src/app.py"])
    await reply.activity(None)
    await asyncio.sleep(0.05)
    assert writer.shown() == ["🔧 Read: src/app.py"]
    await reply.finish("It prints hello.")
    assert writer.shown() == ["It prints hello."]


async def test_long_reply_is_split_and_a_shorter_final_text_removes_the_extra_messages() -> None:
    writer = RecordingWriter()
    reply = StreamingReply(writer, 1, throttle_seconds=0.0, max_length=100)
    long_text = "\n".join(f"line {n:03d} of the reply" for n in range(12))
    await reply.update(long_text)
    await eventually(lambda: len(writer.shown()) == 3)
    assert all(len(text) <= 100 for text in writer.shown())
    await reply.finish("Short summary.")
    assert writer.shown() == ["Short summary."]
    assert [kind for kind, _, _ in writer.log].count("delete") == 2


@pytest.mark.usefixtures("no_collector_pauses")
async def test_update_does_not_wait_for_a_slow_chat() -> None:
    writer = RecordingWriter(delay=0.3)
    reply = StreamingReply(writer, 1, throttle_seconds=0.0)
    started = time.monotonic()
    for n in range(5):
        await reply.update("x" * (n + 1))
    assert time.monotonic() - started < 0.1
    await reply.finish("done")
    assert writer.shown() == ["done"]


async def test_finish_shows_the_final_text_at_once_despite_the_throttle() -> None:
    writer = RecordingWriter()
    reply = StreamingReply(writer, 1, throttle_seconds=10.0)
    await reply.update("thinking")
    await eventually(lambda: writer.shown() == ["thinking"])
    await reply.update("thinking harder")
    await reply.finish("The answer is 42.")
    assert writer.shown() == ["The answer is 42."]
    assert reply.closed


async def test_nothing_changes_after_finish() -> None:
    writer = RecordingWriter()
    reply = StreamingReply(writer, 1, throttle_seconds=0.0)
    await reply.finish("final")
    await reply.update("late text")
    await reply.activity("🔧 late")
    await reply.finish("another final")
    await asyncio.sleep(0.02)
    assert writer.shown() == ["final"]


async def test_a_failed_edit_is_logged_and_the_final_text_still_arrives() -> None:
    writer = RecordingWriter(fail_edits=1)
    reply = StreamingReply(writer, 1, throttle_seconds=0.0)
    await reply.update("one")
    await eventually(lambda: writer.shown() == ["one"])
    with capture_logs() as logs:
        await reply.update("one two")
        await eventually(lambda: any(e["event"] == "reply_update_failed" for e in logs))
    await reply.finish("one two three")
    assert writer.shown() == ["one two three"]


async def test_finish_raises_when_the_final_text_cannot_be_shown() -> None:
    writer = RecordingWriter(fail_edits=5)
    reply = StreamingReply(writer, 1, throttle_seconds=10.0)
    await reply.update("partial")
    await eventually(lambda: writer.shown() == ["partial"])
    with pytest.raises(ConnectorError, match="could not be reached"):
        await reply.finish("final")


async def test_finish_waits_for_an_edit_in_flight_instead_of_orphaning_a_message() -> None:
    writer = RecordingWriter(delay=0.1)
    reply = StreamingReply(writer, 1, throttle_seconds=0.0)
    await reply.update("first")
    await asyncio.sleep(0.02)  # the send of "first" is now in flight
    await reply.finish("final")
    assert writer.shown() == ["final"]
    assert reply.message_ids == ("1",)


async def test_typing_indicator_repeats_while_open_and_stops_at_finish() -> None:
    writer = RecordingWriter()
    reply = StreamingReply(writer, 1, throttle_seconds=0.0, typing_interval=0.02)
    reply.start_typing()
    await eventually(lambda: writer.typing >= 3)
    await reply.finish("done")
    count = writer.typing
    await asyncio.sleep(0.06)
    assert writer.typing == count


async def test_typing_indicator_gives_up_after_its_limit() -> None:
    writer = RecordingWriter()
    reply = StreamingReply(writer, 1, typing_interval=0.01, typing_limit=0.03)
    reply.start_typing()
    await asyncio.sleep(0.1)
    count = writer.typing
    await asyncio.sleep(0.05)
    assert 1 <= count == writer.typing
    await reply.close()


async def test_close_stops_without_showing_pending_text() -> None:
    writer = RecordingWriter()
    reply = StreamingReply(writer, 1, throttle_seconds=10.0, typing_interval=0.01)
    reply.start_typing()
    await reply.update("shown")
    await eventually(lambda: writer.shown() == ["shown"])
    await reply.update("never shown")
    await reply.close()
    await asyncio.sleep(0.03)
    assert writer.shown() == ["shown"]
    assert reply.closed


async def test_an_empty_final_text_keeps_what_was_streamed() -> None:
    writer = RecordingWriter()
    reply = StreamingReply(writer, 1, throttle_seconds=0.0)
    await reply.update("Partial answer")
    await reply.activity("🔧 Bash: make")
    await eventually(lambda: writer.shown() == ["Partial answer\n\n🔧 Bash: make"])
    await reply.finish("")
    assert writer.shown() == ["Partial answer"]


async def test_flush_shows_the_latest_state_at_once_despite_the_throttle() -> None:
    writer = RecordingWriter()
    reply = StreamingReply(writer, 1, throttle_seconds=10.0)
    await reply.update("Let me check.")
    await eventually(lambda: writer.shown() == ["Let me check."])
    await reply.activity("🔧 Bash: make")
    await reply.flush()
    assert writer.shown() == ["Let me check.\n\n🔧 Bash: make"]
    await reply.flush()
    assert len(writer.log) == 2


async def test_flush_waits_for_an_edit_in_flight_then_shows_what_came_after() -> None:
    writer = RecordingWriter(delay=0.05)
    reply = StreamingReply(writer, 1, throttle_seconds=0.0)
    await reply.update("one")
    await asyncio.sleep(0.01)  # "one" is being sent
    await reply.update("one two")
    await reply.flush()
    assert writer.shown() == ["one two"]
    assert reply.message_ids == ("1",)
