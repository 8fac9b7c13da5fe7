"""Telegram connector cost: formatting, splitting, streaming, and Bot API round trips.

Four measurements, each repeated; medians are printed.

1. `to_telegram_html` on a 4 KB agent reply (prose, bullets, a code block).
2. `split_message` on a 20 KB reply, cut at Telegram's 4096.
3. `StreamingReply.update` on the hot path: the agent streams a piece of text
   while an edit is already scheduled (no network in the call, by design).
4. Against a local fake Bot API (loopback HTTP, the real python-telegram-bot
   client): a sendMessage round trip, and the time from a button press reaching
   the server to the approval handler being called (long polling). The second
   is what a person's "Approve" costs before the agent's tool call can go on.

    python bench/telegram_connector.py
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.connectors.fake_bot_api import TOKEN, FakeBotApi
from tether.connectors.base import ApprovalAnswer, IncomingMessage
from tether.connectors.streaming import StreamingReply, split_message
from tether.connectors.telegram import TelegramConnector
from tether.connectors.telegram_format import to_telegram_html
from tether.core.types import ChatId
from tether.log import configure_logging

ROUNDS = 7
CALLS = 200
ROUND_TRIPS = 50

_PARAGRAPH = (
    "I looked at **src/app.py** and the tests in `tests/test_app.py`. The failure comes "
    "from `parse_config()`, which reads `settings.toml` with a relative path; when "
    "pytest runs from the repository root, the file is not found.\n"
)
_CODE = "```python\ndef parse_config(path: Path) -> Config:\n    return Config.load(path)\n```\n"
_BULLETS = "- fixed the path\n- added a test\n- ran `pytest -q`: 42 passed\n"
REPLY_4K = ((_PARAGRAPH + _BULLETS + _CODE) * 20)[:4096]
REPLY_20K = ((_PARAGRAPH + _BULLETS + _CODE) * 100)[:20_000]


def _median_us(function: object, argument: object, calls: int = CALLS) -> float:
    assert callable(function)
    rounds = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        for _ in range(calls):
            function(argument)
        rounds.append((time.perf_counter() - started) / calls * 1e6)
    return statistics.median(rounds)


class _NullWriter:
    async def send_message_with_id(self, chat_id: ChatId, text: str) -> str:
        return "1"

    async def edit_message(self, chat_id: ChatId, message_id: str, text: str) -> None:
        return None

    async def delete_message(self, chat_id: ChatId, message_id: str) -> None:
        return None

    async def send_typing_indicator(self, chat_id: ChatId) -> None:
        return None


async def _update_cost() -> float:
    rounds = []
    for _ in range(ROUNDS):
        reply = StreamingReply(_NullWriter(), 1, throttle_seconds=60.0, typing_interval=None)
        await reply.update("first")
        await asyncio.sleep(0)  # the first flush runs; the next waits out the throttle
        text = ""
        started = time.perf_counter()
        for n in range(CALLS):
            text += f"word{n} "
            await reply.update(text)
        rounds.append((time.perf_counter() - started) / CALLS * 1e6)
        await reply.close()
    return statistics.median(rounds)


async def _round_trips() -> tuple[float, float]:
    pressed: asyncio.Queue[float] = asyncio.Queue()

    async def on_message(message: IncomingMessage) -> None:
        return None

    async def on_command(message: IncomingMessage, name: str, args: tuple[str, ...]) -> None:
        return None

    async def on_approval(answer: ApprovalAnswer) -> str:
        pressed.put_nowait(time.perf_counter())
        return "This request already expired."  # leave the buttons, press again

    async with FakeBotApi(max_poll_seconds=30.0) as api:
        connector = TelegramConnector(TOKEN, base_url=api.url, typing_interval=None)
        connector.set_handlers(
            on_message=on_message, on_command=on_command, on_approval=on_approval
        )
        await connector.start()
        try:
            sends = []
            for n in range(ROUND_TRIPS):
                started = time.perf_counter()
                await connector.send_message(42, f"message {n}")
                sends.append((time.perf_counter() - started) * 1e3)
            message_id = int(await connector.request_approval(42, "k1", "`make`", "Bash"))
            presses = []
            for _ in range(ROUND_TRIPS):
                await asyncio.sleep(0.01)  # the poll is back at the server, waiting
                started = time.perf_counter()
                api.press(message_id, "✅")
                presses.append((await pressed.get() - started) * 1e3)
        finally:
            await connector.stop()
    return statistics.median(sends), statistics.median(presses)


async def main() -> None:
    configure_logging("WARNING")
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs; medians of {ROUNDS} rounds")
    html_us = _median_us(to_telegram_html, REPLY_4K)
    print(f"to_telegram_html, 4 KB reply:        {html_us:8.1f} µs")
    split_us = _median_us(lambda text: split_message(text, 4096), REPLY_20K, calls=50)
    size = len(REPLY_20K) // 1000
    chunks = len(split_message(REPLY_20K, 4096))
    print(f"split_message, {size} KB into {chunks} parts:  {split_us:8.1f} µs")
    update_us = await _update_cost()
    print(f"StreamingReply.update (throttled):   {update_us:8.2f} µs")
    send_ms, press_ms = await _round_trips()
    print(f"sendMessage round trip (loopback):   {send_ms:8.2f} ms")
    print(f"button press -> approval handler:    {press_ms:8.2f} ms")


if __name__ == "__main__":
    asyncio.run(main())
