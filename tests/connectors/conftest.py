"""Fixtures for connector tests: the fake Bot API, a connector pointed at it, handlers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from tether.connectors.base import ApprovalAnswer, IncomingMessage
from tether.connectors.telegram import TelegramConnector
from tether.connectors.telegram_retry import RetryPolicy

from .fake_bot_api import TOKEN, FakeBotApi

FAST_RETRY = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.05)


@pytest.fixture(autouse=True)
def _timedelta_periods(monkeypatch: pytest.MonkeyPatch) -> None:
    """Opt in to python-telegram-bot's timedelta periods (its announced default).

    Without it, building a RetryAfter warns that `retry_after` will change type,
    and warnings are errors here.
    """
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@dataclass
class Handlers:
    """The engine's side, played by the test: records what arrives, answers approvals."""

    messages: list[IncomingMessage] = field(default_factory=list)
    commands: list[tuple[IncomingMessage, str, tuple[str, ...]]] = field(default_factory=list)
    answers: list[ApprovalAnswer] = field(default_factory=list)
    outcome: Callable[[ApprovalAnswer], str] = lambda answer: "✅ Approved by @ana"
    on_message_hook: Callable[[IncomingMessage], Any] | None = None
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def on_message(self, message: IncomingMessage) -> None:
        self.messages.append(message)
        self.arrived.set()
        if self.on_message_hook is not None:
            result = self.on_message_hook(message)
            if asyncio.iscoroutine(result):
                await result

    async def on_command(self, message: IncomingMessage, name: str, args: tuple[str, ...]) -> None:
        self.commands.append((message, name, args))
        self.arrived.set()

    async def on_approval(self, answer: ApprovalAnswer) -> str:
        self.answers.append(answer)
        self.arrived.set()
        return self.outcome(answer)


@pytest.fixture
async def bot_api() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi() as api:
        yield api


@pytest.fixture
def handlers() -> Handlers:
    return Handlers()


@pytest.fixture
def make_connector(bot_api: FakeBotApi, handlers: Handlers) -> Callable[..., TelegramConnector]:
    """A connector on the fake Bot API, fast timings, handlers set (not started)."""

    def make(**overrides: Any) -> TelegramConnector:
        options: dict[str, Any] = {
            "base_url": bot_api.url,
            "throttle_seconds": 0.05,
            "poll_timeout": 1,
            "retry": FAST_RETRY,
            "stop_timeout": 1.0,
            "request_timeout": 5.0,
            "typing_interval": None,
        }
        options.update(overrides)
        token = options.pop("token", TOKEN)
        connector = TelegramConnector(token, **options)
        connector.set_handlers(
            on_message=handlers.on_message,
            on_command=handlers.on_command,
            on_approval=handlers.on_approval,
        )
        return connector

    return make


@pytest.fixture
async def connector(
    make_connector: Callable[..., TelegramConnector],
) -> AsyncIterator[TelegramConnector]:
    """A started connector; stopped after the test."""
    started = make_connector()
    await started.start()
    yield started
    await started.stop()
