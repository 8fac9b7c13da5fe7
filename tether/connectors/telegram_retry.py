"""Calling the Bot API through network errors and flood control.

Network errors and timeouts are retried with exponential backoff. A 429
(`RetryAfter`) pauses every call for that chat for as long as Telegram asks,
then the call is tried again: Telegram's limits are per chat, so an edit that
goes ahead while another waits would only be refused in turn. Other refusals
(a bad request, a bot blocked by the user, a bad token) are not retried: the
caller decides what they mean.
"""

from __future__ import annotations

import asyncio
import time
import warnings
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field
from telegram.error import BadRequest, NetworkError, RetryAfter
from telegram.warnings import PTBDeprecationWarning

from tether.core.types import ChatId
from tether.exceptions import ConnectorError
from tether.log import get_logger

__all__ = ["FloodControl", "RetryPolicy", "call_with_retry", "retry_after_seconds"]

logger = get_logger(__name__)

_T = TypeVar("_T")

_GLOBAL = "*"
"""The pause key for calls that belong to no chat (getMe, setMyCommands, callbacks)."""


class RetryPolicy(BaseModel):
    """How often and how patiently a Bot API call is retried.

    The n-th retry after a network error waits `base_delay * 2**(n-1)`, at most
    `max_delay`; a flood-control pause waits what Telegram asked. After
    `attempts` tries in all, the call fails with `ConnectorError`.
    """

    model_config = ConfigDict(frozen=True)

    attempts: int = Field(default=5, ge=1)
    base_delay: float = Field(default=0.5, ge=0)
    max_delay: float = Field(default=30.0, ge=0)

    def backoff(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based)."""
        return min(self.max_delay, self.base_delay * 2.0 ** (attempt - 1))


def retry_after_seconds(error: RetryAfter) -> float:
    """The pause Telegram asked for, in seconds, whichever type the library reports."""
    with warnings.catch_warnings():
        # python-telegram-bot warns that `retry_after` will become a timedelta; we
        # accept both, so the warning says nothing we need to act on.
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class FloodControl:
    """The pauses Telegram imposed, per chat: calls for a paused chat wait them out."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._until: dict[ChatId, float] = {}

    def pause(self, chat_id: ChatId | None, seconds: float) -> None:
        """Hold every call for `chat_id` (None: calls of no chat) for `seconds`."""
        key = _GLOBAL if chat_id is None else chat_id
        until = self._clock() + seconds
        self._until[key] = max(until, self._until.get(key, 0.0))

    def remaining(self, chat_id: ChatId | None) -> float:
        """Seconds left on the pause for `chat_id`; 0 when none."""
        key = _GLOBAL if chat_id is None else chat_id
        left = self._until.get(key, 0.0) - self._clock()
        if left <= 0:
            self._until.pop(key, None)
            return 0.0
        return left

    async def wait(self, chat_id: ChatId | None) -> None:
        """Return once `chat_id` is not paused (a pause may grow while waiting)."""
        while True:
            left = self.remaining(chat_id)
            if left <= 0:
                return
            await asyncio.sleep(left)


async def call_with_retry(
    call: Callable[[], Awaitable[_T]],
    *,
    method: str,
    chat_id: ChatId | None,
    policy: RetryPolicy,
    flood: FloodControl,
) -> _T:
    """Await `call()` until it succeeds, retrying network errors and flood control.

    Raises:
        ConnectorError: it still failed after `policy.attempts` tries.
        telegram.error.TelegramError: Telegram refused the call for a reason that
            retrying cannot fix (bad request, forbidden, bad token).
    """
    last: Exception | None = None
    for attempt in range(1, policy.attempts + 1):
        await flood.wait(chat_id)
        try:
            return await call()
        except RetryAfter as error:
            seconds = retry_after_seconds(error)
            flood.pause(chat_id, seconds)
            logger.warning(
                "telegram_flood_control",
                method=method,
                chat_id=chat_id,
                retry_after=seconds,
                attempt=attempt,
            )
            last = error
        except BadRequest:
            raise
        except NetworkError as error:
            last = error
            if attempt < policy.attempts:
                delay = policy.backoff(attempt)
                logger.warning(
                    "telegram_network_error",
                    method=method,
                    chat_id=chat_id,
                    error=str(error),
                    attempt=attempt,
                    retry_in=delay,
                )
                await asyncio.sleep(delay)
    assert last is not None
    if isinstance(last, RetryAfter):
        raise ConnectorError(
            f"Telegram kept asking to slow down ({method}); tried {policy.attempts} times"
        ) from last
    raise ConnectorError(
        f"Telegram could not be reached ({method}: {last}); tried {policy.attempts} times"
    ) from last
