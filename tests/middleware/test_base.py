"""MessageContext and MiddlewareChain: gates asked in order, the first refusal wins."""

from __future__ import annotations

from datetime import UTC

import pytest

from tether.middleware.base import (
    MessageContext,
    MessageKind,
    Middleware,
    MiddlewareChain,
    Refusal,
)


class _Gate:
    """Records what it was asked and answers with `refusal`."""

    def __init__(self, name: str, log: list[str], refusal: Refusal | None = None) -> None:
        self.name = name
        self.log = log
        self.refusal = refusal

    async def check(self, context: MessageContext) -> Refusal | None:
        self.log.append(self.name)
        return self.refusal


class _Broken:
    async def check(self, context: MessageContext) -> Refusal | None:
        raise RuntimeError("gate crashed")


def _context(text: str = "hello", kind: MessageKind = "message") -> MessageContext:
    return MessageContext(user_id=1, chat_id=10, text=text, kind=kind)


class TestMessageContext:
    def test_defaults_describe_a_remote_message(self) -> None:
        context = MessageContext(user_id=1, chat_id=10, text="hi")
        assert context.kind == "message"
        assert context.local is False
        assert context.received_at.tzinfo is UTC

    def test_an_unknown_kind_is_refused(self) -> None:
        with pytest.raises(ValueError, match="kind"):
            MessageContext.model_validate({"user_id": 1, "chat_id": 1, "text": "x", "kind": "poke"})

    def test_contexts_are_frozen(self) -> None:
        with pytest.raises(ValueError, match="frozen"):
            _context().local = True  # type: ignore[misc]

    @pytest.mark.parametrize(
        ("text", "kind", "command"),
        [
            pytest.param("/cancel", "command", "cancel", id="plain"),
            pytest.param("/Cancel@tether_bot now please", "command", "cancel", id="bot-suffix"),
            pytest.param("  /status  ", "command", "status", id="spaces"),
            pytest.param("/", "command", None, id="bare-slash"),
            pytest.param("", "command", None, id="empty"),
            pytest.param("/cancel", "message", None, id="not-a-command-kind"),
            pytest.param("approve", "approval", None, id="approval"),
        ],
    )
    def test_command_names_the_command(
        self, text: str, kind: MessageKind, command: str | None
    ) -> None:
        assert _context(text, kind).command == command


class TestChain:
    async def test_an_empty_chain_lets_everything_through(self) -> None:
        assert await MiddlewareChain().check(_context()) is None

    async def test_middlewares_are_asked_in_order(self) -> None:
        log: list[str] = []
        chain = MiddlewareChain([_Gate("auth", log), _Gate("rate", log)])
        assert await chain.check(_context()) is None
        assert log == ["auth", "rate"]

    async def test_the_first_refusal_wins_and_the_rest_are_not_asked(self) -> None:
        log: list[str] = []
        no = Refusal(reason="access_denied", reply="go away")
        chain = MiddlewareChain(
            [_Gate("auth", log, no), _Gate("rate", log, Refusal(reason="rate_limited"))]
        )
        assert await chain.check(_context()) == no
        assert log == ["auth"]

    async def test_run_hands_a_passing_context_to_the_handler(self) -> None:
        seen: list[MessageContext] = []

        async def handler(context: MessageContext) -> str:
            seen.append(context)
            return "the reply"

        context = _context()
        assert await MiddlewareChain([_Gate("a", [])]).run(context, handler) == "the reply"
        assert seen == [context]

    @pytest.mark.parametrize(
        "reply",
        [pytest.param("Slow down.", id="with-reply"), pytest.param(None, id="quiet")],
    )
    async def test_a_refused_context_never_reaches_the_handler(self, reply: str | None) -> None:
        """A quiet refusal is a refusal too: nothing to send, and nothing handled."""
        handled: list[MessageContext] = []

        async def handler(context: MessageContext) -> str:
            handled.append(context)
            return "handled"

        chain = MiddlewareChain([_Gate("rate", [], Refusal(reason="rate_limited", reply=reply))])
        assert await chain.run(_context(), handler) == reply
        assert handled == []

    async def test_a_failing_middleware_stops_the_message(self) -> None:
        handled: list[MessageContext] = []

        async def handler(context: MessageContext) -> str:
            handled.append(context)
            return "handled"

        log: list[str] = []
        chain = MiddlewareChain([_Broken(), _Gate("later", log)])
        with pytest.raises(RuntimeError, match="gate crashed"):
            await chain.run(_context(), handler)
        assert handled == []
        assert log == []

    async def test_chains_nest(self) -> None:
        log: list[str] = []
        inner = MiddlewareChain([_Gate("b", log), _Gate("c", log, Refusal(reason="no"))])
        outer = MiddlewareChain([_Gate("a", log), inner, _Gate("d", log)])
        assert isinstance(inner, Middleware)
        refusal = await outer.check(_context())
        assert refusal is not None
        assert refusal.reason == "no"
        assert log == ["a", "b", "c"]

    def test_the_chain_keeps_its_middlewares_in_order(self) -> None:
        gates = [_Gate("a", []), _Gate("b", [])]
        assert MiddlewareChain(gates).middlewares == tuple(gates)


@pytest.mark.parametrize(
    "user_id",
    [pytest.param(True, id="bool"), pytest.param(7, id="int"), pytest.param("07", id="text")],
)
def test_a_context_keeps_the_user_id_exactly_as_given(user_id: object) -> None:
    context = MessageContext(user_id=user_id, chat_id=1, text="hi")  # type: ignore[arg-type]
    assert context.user_id == user_id
    assert type(context.user_id) is type(user_id)


@pytest.mark.parametrize("user_id", [pytest.param(7.0, id="float"), pytest.param(None, id="none")])
def test_a_context_refuses_a_user_id_that_is_neither_int_nor_text(user_id: object) -> None:
    with pytest.raises(ValueError, match="a user id is an int or a str"):
        MessageContext(user_id=user_id, chat_id=1, text="hi")  # type: ignore[arg-type]
