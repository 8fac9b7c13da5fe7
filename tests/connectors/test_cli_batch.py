"""Parallel asks in the terminal: one numbered list, answered all at once or per item."""

from __future__ import annotations

import asyncio
import io
import os
from collections.abc import AsyncIterator, Callable

import pytest

from tether.connectors.base import (
    REASON_MARK,
    ApprovalAnswer,
    ApprovalChoice,
    IncomingMessage,
)
from tether.connectors.cli import LOCAL_CHAT_ID, CliConnector


class _Typist:
    """A terminal whose lines are typed while the REPL runs (a pipe as its stdin)."""

    def __init__(self) -> None:
        read, self._write = os.pipe()
        self.stdin = os.fdopen(read, "r")
        self.out = io.StringIO()
        self.answers: list[ApprovalAnswer] = []
        self.messages: list[str] = []
        self.connector = CliConnector(stdin=self.stdin, stdout=self.out, batch_seconds=0.05)

        async def on_message(message: IncomingMessage) -> None:
            self.messages.append(message.text)

        async def on_command(message: IncomingMessage, name: str, args: tuple[str, ...]) -> None:
            return None

        async def on_approval(answer: ApprovalAnswer) -> str:
            self.answers.append(answer)
            if answer.choice is ApprovalChoice.REJECT_WITH_REASON:
                return f"{REASON_MARK} send the reason"
            return "✅ Approved" if answer.choice is ApprovalChoice.APPROVE else "❌ Rejected"

        self.connector.set_handlers(
            on_message=on_message, on_command=on_command, on_approval=on_approval
        )

    def type(self, line: str) -> None:
        os.write(self._write, (line + "\n").encode())

    def end(self) -> None:
        if self._write >= 0:
            os.close(self._write)
            self._write = -1

    async def until(self, text: str) -> None:
        await _eventually(lambda: text in self.out.getvalue(), f"{text!r} shown")

    async def answered(self, count: int) -> None:
        await _eventually(lambda: len(self.answers) >= count, f"{count} answers")

    def picked(self) -> dict[str, ApprovalChoice]:
        return {answer.approval_id: answer.choice for answer in self.answers}


async def _eventually(check: Callable[[], bool], what: str) -> None:
    for _ in range(500):
        if check():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"not within 5 s: {what}")


@pytest.fixture
async def typist() -> AsyncIterator[_Typist]:
    typing = _Typist()
    try:
        yield typing
    finally:
        # The reader thread ends only with its input: never leave it blocked.
        typing.end()
        await asyncio.sleep(0.05)
        typing.stdin.close()


async def _three(typist: _Typist) -> asyncio.Task[None]:
    repl = asyncio.create_task(typist.connector.serve())
    await asyncio.gather(
        *(
            typist.connector.request_approval(LOCAL_CHAT_ID, f"k{n}", f"Write {n}.md", "Write")
            for n in (1, 2, 3)
        )
    )
    await typist.until("Waiting: 1, 2, 3.")
    return repl


async def _finish(typist: _Typist, repl: asyncio.Task[None]) -> None:
    typist.end()
    async with asyncio.timeout(5):
        await repl


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        pytest.param("y", dict.fromkeys(("k1", "k2", "k3"), ApprovalChoice.APPROVE), id="y-all"),
        pytest.param("YES", dict.fromkeys(("k1", "k2", "k3"), ApprovalChoice.APPROVE), id="yes"),
        pytest.param("n", dict.fromkeys(("k1", "k2", "k3"), ApprovalChoice.REJECT), id="n-all"),
        pytest.param("", dict.fromkeys(("k1", "k2", "k3"), ApprovalChoice.REJECT), id="enter"),
        pytest.param(
            "1y 2n 3y",
            {
                "k1": ApprovalChoice.APPROVE,
                "k2": ApprovalChoice.REJECT,
                "k3": ApprovalChoice.APPROVE,
            },
            id="per-item",
        ),
        pytest.param(
            "3n,1y",
            {"k3": ApprovalChoice.REJECT, "k1": ApprovalChoice.APPROVE},
            id="comma-and-space",
        ),
    ],
)
async def test_a_list_is_answered_all_at_once_or_per_item(
    typist: _Typist, line: str, expected: dict[str, ApprovalChoice]
) -> None:
    repl = await _three(typist)
    assert typist.out.getvalue().count("approvals needed at once") == 1
    typist.type(line)
    await typist.answered(len(expected))
    assert typist.picked() == expected
    await _finish(typist, repl)


@pytest.mark.parametrize(
    "line",
    [
        pytest.param("4y", id="no-such-item"),
        pytest.param("0y", id="item-zero"),
        pytest.param("1a", id="always-is-not-per-item"),
        pytest.param("1y 1n", id="same-item-twice"),
        pytest.param("1r 2r", id="two-reasons"),
        pytest.param("yy", id="not-a-word"),
        pytest.param("1", id="number-alone"),
        pytest.param("-1y", id="negative"),
        pytest.param("1y; rm -rf ~", id="trailing-words"),
        pytest.param("１y", id="fullwidth-digit"),
    ],
)
async def test_an_unreadable_answer_answers_nothing_and_asks_again(
    typist: _Typist, line: str
) -> None:
    repl = await _three(typist)
    typist.type(line)
    await typist.until("Please answer y (all), n (all), or per item")
    assert typist.answers == []
    typist.type("n")
    await typist.answered(3)
    await _finish(typist, repl)


async def test_a_reason_in_a_list_is_the_next_line_and_the_rest_stay_open(typist: _Typist) -> None:
    repl = await _three(typist)
    typist.type("1r")
    await typist.until("[1] Type the reason")
    typist.type("use uv instead of pip")
    await typist.until("Waiting: 2, 3.")
    assert typist.messages == ["use uv instead of pip"]
    typist.type("2y 3y")
    await typist.answered(3)
    assert typist.picked()["k1"] is ApprovalChoice.REJECT_WITH_REASON
    await _finish(typist, repl)


async def test_an_item_settled_elsewhere_leaves_the_list_and_one_left_is_asked_alone(
    typist: _Typist,
) -> None:
    repl = await _three(typist)
    await typist.connector.close_approval(LOCAL_CHAT_ID, "k2", "⏱ Expired")
    await typist.until("[2] ⏱ Expired")
    await typist.until("Waiting: 1, 3.")
    await typist.connector.close_approval(LOCAL_CHAT_ID, "k1", "✅ Approved on the page")
    await typist.until("[3] Allow?")
    typist.type("y")
    await typist.answered(1)
    assert typist.picked() == {"k3": ApprovalChoice.APPROVE}
    await _finish(typist, repl)


async def test_a_request_settled_within_the_window_is_never_shown(typist: _Typist) -> None:
    first = asyncio.create_task(
        typist.connector.request_approval(LOCAL_CHAT_ID, "k1", "Write 1.md", "Write")
    )
    await asyncio.sleep(0)
    await typist.connector.request_approval(LOCAL_CHAT_ID, "k2", "Write 2.md", "Write")
    await typist.connector.close_approval(LOCAL_CHAT_ID, "k2", "cancelled")
    await first
    shown = typist.out.getvalue()
    assert "Write 1.md" in shown and "Write 2.md" not in shown
    assert "Approval needed" in shown  # one left: asked alone


async def test_when_the_first_request_is_cancelled_the_others_are_still_shown(
    typist: _Typist,
) -> None:
    first = asyncio.create_task(
        typist.connector.request_approval(LOCAL_CHAT_ID, "k1", "Write 1.md", "Write")
    )
    await asyncio.sleep(0)
    await typist.connector.request_approval(LOCAL_CHAT_ID, "k2", "Write 2.md", "Write")
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    assert "Write 2.md" in typist.out.getvalue()
