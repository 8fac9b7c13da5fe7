"""StreamingReply: a reply shown while it is written, by editing chat messages.

Any chat connector that can send, edit and delete messages gets live replies
from this class: it keeps the latest text and tool activity line, and shows
them at most once per throttle interval, editing only the messages whose text
changed. Text longer than the platform allows is split across messages (code
blocks are closed at the cut and reopened in the next message).

`update` and `activity` never wait for the network: a background task shows
the latest state, so a slow or rate-limited chat never holds the agent back.
`finish` shows the final text and waits for it.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from typing import Protocol

from tether.core.types import ChatId
from tether.exceptions import ConnectorError
from tether.log import get_logger

__all__ = ["ChatWriter", "StreamingReply", "split_message", "text_units"]

logger = get_logger(__name__)

_MIN_LENGTH = 64
# A chat that just failed (after the connector's own retries) is left alone this long.
_PAUSE_AFTER_FAILURE = 1.0
_ACTIVITY_MAX = 200
# Room kept at the end of a chunk to close a code block cut in half ("\n```").
_FENCE_CLOSE = "\n```"
_FENCE_LINE = re.compile(r"^[ \t]*```[^\n`]*$", re.MULTILINE)


class ChatWriter(Protocol):
    """What a stream needs from a connector: messages it can send, edit and delete."""

    async def send_message_with_id(self, chat_id: ChatId, text: str) -> str: ...

    async def edit_message(self, chat_id: ChatId, message_id: str, text: str) -> None: ...

    async def delete_message(self, chat_id: ChatId, message_id: str) -> None: ...

    async def send_typing_indicator(self, chat_id: ChatId) -> None: ...


def text_units(text: str) -> int:
    """Length as chat platforms count it: UTF-16 code units (an emoji may count as 2)."""
    return len(text.encode("utf-16-le")) // 2


def _prefix_within(text: str, units: int) -> int:
    """How many characters of `text` fit in `units` UTF-16 code units."""
    head = text[:units]
    if text_units(head) == len(head):
        # No character outside the BMP (the usual case): one unit per character.
        return len(head)
    used = 0
    for index, char in enumerate(text):
        used += 2 if ord(char) > 0xFFFF else 1
        if used > units:
            return index
    return len(text)


def _cut_point(text: str, room: int) -> tuple[int, int]:
    """Where to end this chunk and where the next one starts, preferring to cut
    at a paragraph, then a line, then a word; never before half of `room`."""
    window = text[: room + 1]
    floor = room // 2
    for separator in ("\n\n", "\n", " "):
        position = window.rfind(separator, 0, room + 1)
        if position >= floor:
            return position, position + len(separator)
    return room, room


def _open_fence(text: str) -> str | None:
    """The opening fence line when `text` ends inside a code block, else None."""
    opening: str | None = None
    for match in _FENCE_LINE.finditer(text):
        opening = match.group(0).strip() if opening is None else None
    return opening


def split_message(text: str, limit: int) -> list[str]:
    """Split `text` into chunks of at most `limit` UTF-16 code units.

    Cuts fall at paragraph, line or word boundaries where possible. A code
    block cut in two is closed at the end of one chunk and reopened (with its
    language) at the start of the next, so each chunk reads on its own.

    Raises:
        ValueError: `limit` is too small to hold a code fence and some text.
    """
    if limit < _MIN_LENGTH:
        raise ValueError(f"limit must be at least {_MIN_LENGTH}, got {limit}")
    chunks: list[str] = []
    rest = text
    while text_units(rest) > limit:
        room = _prefix_within(rest, limit - len(_FENCE_CLOSE))
        end, start = _cut_point(rest, room)
        head, rest = rest[:end], rest[start:]
        fence = _open_fence(head)
        if fence is not None:
            head = head.rstrip("\n") + _FENCE_CLOSE
            # A long fence line (an odd "language") must not eat the room for text.
            rest = f"{fence if len(fence) <= limit // 4 else '```'}\n{rest}"
        chunks.append(head)
    chunks.append(rest)
    return chunks


def _one_line(line: str) -> str:
    first = line.strip().splitlines()[0] if line.strip() else ""
    return first if len(first) <= _ACTIVITY_MAX else first[: _ACTIVITY_MAX - 1] + "…"


class StreamingReply:
    """A `ReplyStream` that edits chat messages as the reply grows.

    Args:
        writer: the connector that sends, edits and deletes messages.
        chat_id: the chat the reply goes to.
        throttle_seconds: the least time between two rounds of edits
            (`TETHER_STREAMING_THROTTLE_SECONDS`); 0 shows every change.
        max_length: the platform's message length limit, in UTF-16 code units.
        typing_interval: seconds between typing indicators while the reply is
            open (chat platforms clear the indicator after a few seconds);
            None sends none.
        typing_limit: seconds after which typing indicators stop even if
            `finish` never comes, so a lost reply cannot type forever.
        clock: monotonic seconds; tests pass their own.
    """

    def __init__(
        self,
        writer: ChatWriter,
        chat_id: ChatId,
        *,
        throttle_seconds: float = 1.5,
        max_length: int = 4096,
        typing_interval: float | None = 4.0,
        typing_limit: float = 1800.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if throttle_seconds < 0:
            raise ValueError(f"throttle_seconds must be 0 or more, got {throttle_seconds!r}")
        if max_length < _MIN_LENGTH:
            raise ValueError(f"max_length must be at least {_MIN_LENGTH}, got {max_length!r}")
        self._writer = writer
        self._chat_id = chat_id
        self._throttle = throttle_seconds
        self._max_length = max_length
        self._typing_interval = typing_interval
        self._typing_limit = typing_limit
        self._clock = clock
        self._text = ""
        self._activity: str | None = None
        self._ids: list[str] = []
        self._shown: list[str] = []
        self._next_flush = 0.0
        self._lock = asyncio.Lock()
        self._flusher: asyncio.Task[None] | None = None
        self._typing: asyncio.Task[None] | None = None
        self._closed = False

    @property
    def chat_id(self) -> ChatId:
        return self._chat_id

    @property
    def message_ids(self) -> tuple[str, ...]:
        """The ids of the messages showing the reply, in order."""
        return tuple(self._ids)

    @property
    def closed(self) -> bool:
        """True after `finish` or `close`."""
        return self._closed

    def start_typing(self) -> None:
        """Show the typing indicator until the reply is finished. Needs a running loop."""
        if self._typing is None and self._typing_interval is not None and not self._closed:
            self._typing = asyncio.get_running_loop().create_task(self._keep_typing())

    async def update(self, text: str) -> None:
        """Record the whole reply text so far; it is shown within the throttle interval."""
        if self._closed:
            return
        self._text = text
        self._schedule()

    async def activity(self, line: str | None) -> None:
        """Record the tool activity line shown under the text (None clears it)."""
        if self._closed:
            return
        self._activity = _one_line(line) if line else None
        self._schedule()

    async def finish(self, text: str) -> None:
        """Show the final `text` (no activity line) and close the stream.

        An empty `text` keeps what was streamed.

        Raises:
            ConnectorError: the final text could not be shown.
        """
        if self._closed:
            return
        if text.strip():
            self._text = text
        self._activity = None
        await self._stop_background()
        async with self._lock:
            await self._sync(self._render())

    async def flush(self) -> None:
        """Show the latest text and activity now, throttle or not, and wait until shown.

        For a connector about to post something else in the chat (an approval
        request), so that the reply that led to it reads above it.

        Raises:
            ConnectorError: the text could not be shown.
        """
        if self._closed:
            return
        flusher = self._flusher
        if flusher is not None and not flusher.done() and not self._lock.locked():
            # Only waiting out the throttle: this flush does its work now.
            flusher.cancel()
            await asyncio.wait([flusher])
        async with self._lock:
            wanted = self._render()
            if wanted and wanted != self._shown:
                await self._sync(wanted)
                self._next_flush = self._clock() + self._throttle

    async def close(self) -> None:
        """Stop without showing anything more (the connector is stopping)."""
        if self._closed:
            return
        self._closed = True
        for task in (self._typing, self._flusher):
            if task is not None and not task.done():
                task.cancel()
                await asyncio.wait([task])

    async def _stop_background(self) -> None:
        self._closed = True
        if self._typing is not None and not self._typing.done():
            self._typing.cancel()
            await asyncio.wait([self._typing])
        flusher = self._flusher
        if flusher is None or flusher.done():
            return
        if not self._lock.locked():
            # Only waiting for its turn: nothing is in flight, so it can go.
            flusher.cancel()
        # A round of edits under way is let finish (and the flusher then sees the
        # stream closed): cut short, a message could be sent without its id being
        # kept, and would be left behind.
        await asyncio.wait([flusher])

    def _schedule(self) -> None:
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.get_running_loop().create_task(self._flush_when_allowed())

    async def _flush_when_allowed(self) -> None:
        # Loops until what is shown matches the latest state: changes that arrive
        # during a round of edits are picked up by the next round.
        while not self._closed:
            delay = self._next_flush - self._clock()
            if delay > 0:
                await asyncio.sleep(delay)
            async with self._lock:
                wanted = self._render()
                # Nothing new, or nothing to show yet (an activity line cleared before
                # any text): what is on screen stays rather than flicker away.
                if self._closed or not wanted or wanted == self._shown:
                    return
                pause = self._throttle
                try:
                    await self._sync(wanted)
                except ConnectorError as error:
                    logger.warning("reply_update_failed", chat_id=self._chat_id, error=str(error))
                    pause = max(pause, _PAUSE_AFTER_FAILURE)
                except Exception as error:
                    # A background task has no caller to raise to.
                    pause = max(pause, _PAUSE_AFTER_FAILURE)
                    logger.error(
                        "reply_update_crashed",
                        chat_id=self._chat_id,
                        error=repr(error),
                        exc_info=error,
                    )
                self._next_flush = self._clock() + pause

    def _render(self) -> list[str]:
        chunks = split_message(self._text, self._max_length) if self._text.strip() else []
        if self._activity:
            line = self._activity
            if chunks and text_units(chunks[-1]) + 2 + text_units(line) <= self._max_length:
                chunks[-1] = f"{chunks[-1]}\n\n{line}"
            else:
                chunks.append(line)
        return chunks

    async def _sync(self, wanted: list[str]) -> None:
        for index, chunk in enumerate(wanted):
            if index < len(self._ids):
                if self._shown[index] != chunk:
                    await self._writer.edit_message(self._chat_id, self._ids[index], chunk)
                    self._shown[index] = chunk
            else:
                message_id = await self._writer.send_message_with_id(self._chat_id, chunk)
                self._ids.append(message_id)
                self._shown.append(chunk)
        while len(self._ids) > len(wanted):
            message_id = self._ids.pop()
            self._shown.pop()
            await self._writer.delete_message(self._chat_id, message_id)

    async def _keep_typing(self) -> None:
        assert self._typing_interval is not None
        deadline = self._clock() + self._typing_limit
        while self._clock() < deadline:
            try:
                await self._writer.send_typing_indicator(self._chat_id)
            except Exception as error:  # noqa: BLE001 - a typing indicator is cosmetic
                logger.debug("typing_indicator_failed", chat_id=self._chat_id, error=repr(error))
            await asyncio.sleep(self._typing_interval)
