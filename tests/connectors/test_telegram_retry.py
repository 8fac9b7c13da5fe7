"""call_with_retry and FloodControl: network errors back off, flood control pauses the chat."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import pytest
from structlog.testing import capture_logs
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from tether.connectors.telegram_retry import (
    FloodControl,
    RetryPolicy,
    call_with_retry,
    retry_after_seconds,
)
from tether.exceptions import ConnectorError

# These tests time things: a collector pause would be charged to them (`no_collector_pauses`).
pytestmark = pytest.mark.usefixtures("no_collector_pauses")

FAST = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.02)


class Flaky:
    """Raises the given errors in turn, then returns "ok"."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls: list[float] = []

    async def __call__(self) -> str:
        self.calls.append(time.monotonic())
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


@pytest.mark.parametrize(
    ("attempt", "delay"),
    [
        pytest.param(1, 0.5, id="first"),
        pytest.param(3, 2.0, id="doubles"),
        pytest.param(10, 30.0, id="capped"),
    ],
)
def test_backoff_doubles_up_to_the_cap(attempt: int, delay: float) -> None:
    assert RetryPolicy().backoff(attempt) == delay


@pytest.mark.parametrize(
    "value",
    [pytest.param(2, id="int"), pytest.param(timedelta(seconds=2), id="timedelta")],
)
def test_retry_after_is_read_in_seconds(value: int | timedelta) -> None:
    assert retry_after_seconds(RetryAfter(value)) == 2.0


async def test_network_errors_are_retried_until_the_call_succeeds() -> None:
    call = Flaky(NetworkError("connection reset"), TimedOut())
    result = await call_with_retry(
        call, method="sendMessage", chat_id=1, policy=FAST, flood=FloodControl()
    )
    assert result == "ok"
    assert len(call.calls) == 3


async def test_giving_up_says_what_failed_and_how_often() -> None:
    call = Flaky(*(NetworkError("connection refused") for _ in range(3)))
    with capture_logs() as logs, pytest.raises(ConnectorError) as raised:
        await call_with_retry(call, method="getMe", chat_id=None, policy=FAST, flood=FloodControl())
    assert str(raised.value) == (
        "Telegram could not be reached (getMe: connection refused); tried 3 times"
    )
    assert [entry["event"] for entry in logs] == ["telegram_network_error"] * 2


@pytest.mark.parametrize(
    "error",
    [
        pytest.param(BadRequest("Message text is empty"), id="bad-request"),
        pytest.param(Forbidden("bot was blocked by the user"), id="forbidden"),
    ],
)
async def test_refusals_are_not_retried(error: Exception) -> None:
    call = Flaky(error)
    with pytest.raises(type(error)):
        await call_with_retry(
            call, method="sendMessage", chat_id=1, policy=FAST, flood=FloodControl()
        )
    assert len(call.calls) == 1


async def test_flood_control_waits_as_long_as_telegram_asks() -> None:
    call = Flaky(RetryAfter(timedelta(seconds=0.2)))
    await call_with_retry(
        call, method="editMessageText", chat_id=1, policy=FAST, flood=FloodControl()
    )
    assert call.calls[1] - call.calls[0] >= 0.19


async def test_flood_control_pauses_every_call_for_that_chat_only() -> None:
    flood = FloodControl()
    flood.pause(1, 0.2)
    started = time.monotonic()
    other_chat = asyncio.create_task(flood.wait(2))
    same_chat = asyncio.create_task(flood.wait(1))
    await other_chat
    assert time.monotonic() - started < 0.05
    await same_chat
    assert time.monotonic() - started >= 0.19
    assert flood.remaining(1) == 0.0


async def test_a_pause_that_grows_while_waiting_is_waited_out() -> None:
    flood = FloodControl()
    flood.pause(None, 0.05)
    started = time.monotonic()
    waiting = asyncio.create_task(flood.wait(None))
    await asyncio.sleep(0.02)
    flood.pause(None, 0.1)
    await waiting
    assert time.monotonic() - started >= 0.11


async def test_endless_flood_control_gives_up_with_a_clear_error() -> None:
    call = Flaky(*(RetryAfter(timedelta(seconds=0.01)) for _ in range(3)))
    with pytest.raises(ConnectorError, match="kept asking to slow down"):
        await call_with_retry(
            call, method="sendMessage", chat_id=1, policy=FAST, flood=FloodControl()
        )
