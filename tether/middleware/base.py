"""The middleware seam: the checks every incoming message passes before it is handled.

Everything a person sends becomes a `MessageContext`: a message for the
agent, a `/command`, or the answer to an approval (a pressed button, a typed
y/n). The engine puts each one to its `MiddlewareChain` before anything else
runs; a middleware either lets it through or refuses it with a `Refusal`,
which carries the short reply to show (or none, to keep quiet) and why.

The design: a middleware is a gate, `async check(context) -> Refusal | None`,
and the chain asks each one in order until one refuses. Not an onion of
`call_next` wrappers, on purpose:

- "Was it refused?" has one typed answer. A quiet refusal (`reply=None`) can
  never be mistaken for a message that passed.
- A middleware cannot forget to call the handler, call it twice, or run it
  after refusing: the chain alone decides, after every gate said yes.
- A refused message stops the chain, so later gates are not charged for it
  (a stranger's message does not spend a rate-limit token).
- A middleware that raises stops everything: the exception reaches the
  caller and nothing is handled (fail closed).

Watching what happens after a message passed (replies, timings) is the
EventBus's job (`message.in`, `message.out`), not a middleware's.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Annotated, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field, PlainValidator

from tether.core.types import ChatId, UserId

__all__ = [
    "Handler",
    "MessageContext",
    "MessageKind",
    "Middleware",
    "MiddlewareChain",
    "Refusal",
]

MessageKind = Literal["message", "command", "approval"]
"""A prompt for the agent, a `/command`, or the answer to an approval request."""


def _now() -> datetime:
    return datetime.now(UTC)


def _as_given(value: object) -> UserId:
    # Kept exactly as the connector gave it: pydantic's lax mode would turn
    # True into 1 and let it pass the allow-list as user 1. Comparisons use
    # `user_key`, which tells them apart.
    if not isinstance(value, (int, str)):
        raise ValueError(f"a user id is an int or a str, not {type(value).__name__}")
    return value


class MessageContext(BaseModel):
    """One thing a person sent, as the middleware sees it."""

    model_config = ConfigDict(frozen=True)

    user_id: Annotated[UserId, PlainValidator(_as_given)]
    chat_id: ChatId
    text: str
    kind: MessageKind = "message"
    local: bool = False
    """True only for the local owner: the terminal on this machine, or a browser logged in
    with the web access token. Only the CLI and web connectors set it."""
    username: str | None = None
    message_id: str | None = None
    received_at: datetime = Field(default_factory=_now)

    @property
    def command(self) -> str | None:
        """The command's name for a `/command` (`/cancel@my_bot now` -> `cancel`), else None."""
        if self.kind != "command":
            return None
        word = self.text.strip().split(maxsplit=1)[0] if self.text.strip() else ""
        name = word.removeprefix("/").split("@", 1)[0].lower()
        return name or None


class Refusal(BaseModel):
    """A middleware's "no": why (`reason`, e.g. `rate_limited`) and what to tell the person.

    `reply` is None when the person should hear nothing this time (they were
    told moments ago); the message is refused all the same.
    """

    model_config = ConfigDict(frozen=True)

    reason: str
    reply: str | None = None


@runtime_checkable
class Middleware(Protocol):
    """A check every incoming message passes before it is handled.

    `check` returns None to let the context through, or a `Refusal`. It must
    not handle the message itself. An exception is not a "yes": it reaches
    the caller and the message is not handled.
    """

    async def check(self, context: MessageContext) -> Refusal | None:
        """Let `context` through (None) or refuse it."""
        ...


Handler = Callable[[MessageContext], Awaitable[str]]
"""Handles a context that passed every middleware; returns the reply text."""


class MiddlewareChain:
    """Middlewares asked in order; the first refusal wins and the rest are not asked.

    A chain is itself a `Middleware`, so chains nest. An empty chain lets
    everything through.
    """

    def __init__(self, middlewares: Sequence[Middleware] = ()) -> None:
        self._middlewares = tuple(middlewares)

    @property
    def middlewares(self) -> tuple[Middleware, ...]:
        return self._middlewares

    async def check(self, context: MessageContext) -> Refusal | None:
        """The first middleware's refusal of `context`, or None if every one lets it through."""
        for middleware in self._middlewares:
            refusal = await middleware.check(context)
            if refusal is not None:
                return refusal
        return None

    async def run(self, context: MessageContext, handler: Handler) -> str | None:
        """Check `context`, then hand it to `handler` and return its reply.

        A refused context never reaches `handler`; the refusal's reply is
        returned instead (None: nothing to send).
        """
        refusal = await self.check(context)
        if refusal is not None:
            return refusal.reply
        return await handler(context)
