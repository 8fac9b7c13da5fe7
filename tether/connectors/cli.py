"""CliConnector: Tether in a terminal — a REPL with streamed replies and inline approvals.

One reader takes every line typed. While an approval is waiting, the next line
answers it (y / n / r / a); otherwise a line is a message or a /command.
Approvals asked within a short window (the agent's parallel calls) are shown
as one numbered list, answered all at once (y / n) or per item (`1y 2n 3r`),
each answer still going to the engine on its own. An
approval shows the shared approval view (`approval_view.py`): a coloured diff
when the terminal supports colour and `NO_COLOR` is not set, plain otherwise.
"r" rejects with a reason: the next line typed is the reason the agent gets. Messages
run in the background so the reader stays free to take an approval answer or
Ctrl-C (which cancels the running request). Ctrl-D ends the session cleanly.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import signal
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from tether.connectors.approval_view import (
    approval_view,
    render_terminal,
    terminal_wants_colour,
)
from tether.connectors.base import (
    ApprovalAnswer,
    ApprovalChoice,
    ApprovalHandler,
    Button,
    CommandHandler,
    IncomingMessage,
    MessageHandler,
    ReplyStream,
    awaits_reason,
)
from tether.core.safety.prompts import AgentPrompt, PromptQuestion
from tether.core.types import ApprovalPreview, ChatId
from tether.log import get_logger

__all__ = ["LOCAL_CHAT_ID", "LOCAL_USER_ID", "CliConnector"]

logger = get_logger(__name__)

LOCAL_USER_ID = "local"
LOCAL_CHAT_ID = "local"

_PROMPT = "› "
_LATE_ANSWER_SECONDS = 120.0
_ANSWERS = {
    "y": ApprovalChoice.APPROVE,
    "yes": ApprovalChoice.APPROVE,
    "n": ApprovalChoice.REJECT,
    "no": ApprovalChoice.REJECT,
    "": ApprovalChoice.REJECT,
    "r": ApprovalChoice.REJECT_WITH_REASON,
    "reason": ApprovalChoice.REJECT_WITH_REASON,
    "a": ApprovalChoice.ALWAYS,
    "always": ApprovalChoice.ALWAYS,
}


_PLAN_CHOICES = (
    "1) Approve, and work on in default mode   2) Approve, in edit mode   "
    "3) Keep planning (you say what to change)\nYour choice: "
)
_NUMBERS = re.compile(r"[0-9,\s]+")
_PLAN_ANSWERS = {
    "1": ApprovalChoice.APPROVE,
    "2": ApprovalChoice.APPROVE_EDIT,
    "3": ApprovalChoice.KEEP_PLANNING,
}


def _is_number(text: str) -> bool:
    # str.isdigit() is true for superscript and other scripts' digits, which int()
    # refuses or reads as another number.
    return text.isascii() and text.isdigit()


def _picked(question: PromptQuestion, line: str) -> str | None:
    """The labels `line` picks by number ("2", "1,3"), or None if it is not numbers."""
    numbers = [part.strip() for part in line.replace(" ", ",").split(",") if part.strip()]
    if not numbers or not all(_is_number(n) for n in numbers):
        return None
    chosen = sorted({int(n) for n in numbers})
    if not all(1 <= n <= len(question.options) for n in chosen):
        return None
    if len(chosen) > 1 and not question.multi_select:
        return None
    return ", ".join(question.options[n - 1].label for n in chosen)


def _approval_choices() -> str:
    return "y (yes), n (no), r (reject with a reason) or a (always, then choose what)"


def _approval_question() -> str:
    return "Allow? [y]es / [n]o / [r]eject with a reason / [a]lways (then choose what): "


_BATCH_ALL = {"y": ApprovalChoice.APPROVE, "yes": ApprovalChoice.APPROVE}
_BATCH_ALL |= {"n": ApprovalChoice.REJECT, "no": ApprovalChoice.REJECT, "": ApprovalChoice.REJECT}
_BATCH_ITEM = re.compile(r"([0-9]+)\s*([ynr])")  # ASCII digits only
_BATCH_LETTERS = {
    "y": ApprovalChoice.APPROVE,
    "n": ApprovalChoice.REJECT,
    "r": ApprovalChoice.REJECT_WITH_REASON,
}


def _batch_question(numbers: Sequence[int]) -> str:
    waiting = ", ".join(str(n) for n in numbers)
    return (
        f"Waiting: {waiting}. [y] approve all / [n] reject all, or per item "
        "(e.g. 1y 2n 3r; r: reject with a reason): "
    )


def _batch_answers(
    line: str, open_numbers: Sequence[int]
) -> list[tuple[int, ApprovalChoice]] | None:
    """Per-item answers in `line` ("1y 2n", "3r"), or None when it is not that.

    At most one item may be rejected with a reason: the next line typed is it.
    """
    tokens = [t for t in re.split(r"[\s,;]+", line) if t]
    found: dict[int, ApprovalChoice] = {}
    for token in tokens:
        match = _BATCH_ITEM.fullmatch(token)
        if match is None or int(match.group(1)) not in open_numbers:
            return None
        number = int(match.group(1))
        if number in found:
            return None
        found[number] = _BATCH_LETTERS[match.group(2)]
    with_reason = [n for n, c in found.items() if c is ApprovalChoice.REJECT_WITH_REASON]
    if not found or len(with_reason) > 1:
        return None
    # The one rejected with a reason goes last: the line after it is its reason.
    return sorted(found.items(), key=lambda pair: pair[1] is ApprovalChoice.REJECT_WITH_REASON)


@dataclass(frozen=True)
class _Asked:
    """An approval to show: its id, the chat it belongs to, and what it shows."""

    approval_id: str
    chat_id: ChatId
    description: str
    preview: ApprovalPreview | None


class _TerminalReply:
    """Prints the agent's text as it grows, and tool activity on lines of its own."""

    def __init__(self, connector: CliConnector) -> None:
        self._connector = connector
        self._shown = ""
        self._mid_line = False
        self._activities: set[str] = set()

    async def update(self, text: str) -> None:
        # A text that no longer extends what is shown (rewritten) is shown again in full.
        delta = text[len(self._shown) :] if text.startswith(self._shown) else "\n" + text
        self._shown = text
        if delta:
            self._connector.write(delta)
            self._mid_line = not delta.endswith("\n")

    async def activity(self, line: str | None) -> None:
        if line is None:
            return
        prefix = "\n" if self._mid_line else ""
        self._activities.add(line.strip())
        self._connector.write(f"{prefix}  {line}\n", dim=True)
        self._mid_line = False

    async def finish(self, text: str) -> None:
        # Lines already printed as activity (a denial) are not printed twice.
        kept = [line for line in text.split("\n") if line.strip() not in self._activities]
        final, shown = "\n".join(kept).strip(), self._shown.strip()
        if shown.endswith(final):
            pass  # everything was streamed (a retry may have streamed more)
        elif final.startswith(shown):
            self._connector.write(final[len(shown) :])
        elif shown and final.endswith(shown):
            # Something came before the streamed text (a notice): show it after.
            self._connector.write("\n" + final[: -len(shown)].strip())
        else:
            self._connector.write(("\n" if self._mid_line else "") + final)
        self._connector.write("\n\n")
        if self._connector.requests_in_flight() <= 1:
            # Another request queued behind this one will print next: a prompt now
            # would sit above its reply.
            self._connector.show_prompt()


class CliConnector:
    """The terminal on this machine as a chat: one local user, one chat."""

    name = "cli"

    def __init__(
        self,
        *,
        stdin: IO[str] | None = None,
        stdout: IO[str] | None = None,
        user_id: str = LOCAL_USER_ID,
        chat_id: str = LOCAL_CHAT_ID,
        batch_seconds: float = 0.25,
    ) -> None:
        self._stdin = stdin or sys.stdin
        self._stdout = stdout or sys.stdout
        self._user_id = user_id
        self._chat_id = chat_id
        self._color = terminal_wants_colour(bool(getattr(self._stdout, "isatty", lambda: False)()))
        self._on_message: MessageHandler | None = None
        self._on_command: CommandHandler | None = None
        self._on_approval: ApprovalHandler | None = None
        self._batch_seconds = batch_seconds
        # Approvals shown and waiting for an answer, by their number on screen.
        self._open: dict[int, str] = {}
        self._last_number = 0
        # Requests arriving within the batch window, shown together when it ends.
        self._gathering: list[_Asked] | None = None
        self._reason_next = False
        """The next line typed is the reason for a rejection (sent as a message)."""
        self._scope_offer: tuple[str, int, ChatId] | None = None
        """After "always": the approval whose scopes are offered, how many, and its chat."""
        # Approvals shown here may belong to another local chat (a browser's).
        self._approval_chats: dict[str, ChatId] = {}
        # The agent's questions and plans waiting here: (id, prompt, question shown).
        self._prompts: list[list[Any]] = []
        self._requests: set[asyncio.Task[None]] = set()
        self._message_count = 0
        self._approval_closed_at: float | None = None

    # -- BaseConnector -----------------------------------------------------

    def set_handlers(
        self,
        *,
        on_message: MessageHandler,
        on_command: CommandHandler,
        on_approval: ApprovalHandler,
    ) -> None:
        self._on_message = on_message
        self._on_command = on_command
        self._on_approval = on_approval

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        for task in list(self._requests):
            task.cancel()
        if self._requests:
            await asyncio.wait(self._requests, timeout=5)

    async def send_message(
        self, chat_id: ChatId, text: str, buttons: Sequence[Sequence[Button]] | None = None
    ) -> str:
        self.write(text + "\n")
        return self._next_id()

    async def send_message_with_id(self, chat_id: ChatId, text: str) -> str:
        return await self.send_message(chat_id, text)

    async def edit_message(self, chat_id: ChatId, message_id: str, text: str) -> None:
        self.write(text + "\n")

    async def delete_message(self, chat_id: ChatId, message_id: str) -> None:
        return None

    async def send_typing_indicator(self, chat_id: ChatId) -> None:
        return None

    async def request_approval(
        self,
        chat_id: ChatId,
        approval_id: str,
        description: str,
        tool_name: str,
        *,
        preview: ApprovalPreview | None = None,
    ) -> str:
        asked = _Asked(approval_id, chat_id, description, preview)
        if self._gathering is not None:
            self._gathering.append(asked)
            return approval_id
        # The first request of a window waits for the others (the agent's parallel
        # calls arrive within milliseconds), so they read as one list.
        self._gathering = [asked]
        try:
            if self._batch_seconds > 0:
                await asyncio.sleep(self._batch_seconds)
        except asyncio.CancelledError:
            gathered, self._gathering = self._gathering, None
            self._show_approvals([a for a in gathered if a is not asked])
            raise
        gathered, self._gathering = self._gathering, None
        self._show_approvals(gathered)
        return approval_id

    def _show_approvals(self, gathered: Sequence[_Asked]) -> None:
        if not gathered:
            return
        if not self._open:
            self._last_number = 0
        earlier = len(self._open)
        for asked in gathered:
            self._last_number += 1
            self._open[self._last_number] = asked.approval_id
            self._approval_chats[asked.approval_id] = asked.chat_id
        if len(self._open) == 1:
            self.write("\n⚠️  Approval needed\n", bold=True)
            self.write(self._approval_text(gathered[0]) + "\n")
            self.write(_approval_question())
            return
        count = len(gathered)
        head = f"{count} more approvals needed" if earlier else f"{count} approvals needed at once"
        if count == 1 and earlier:
            head = "1 more approval needed"
        self.write(f"\n⚠️  {head}\n", bold=True)
        first = self._last_number - count + 1
        for number, asked in enumerate(gathered, start=first):
            self.write(f"[{number}] ", bold=True)
            self.write(self._approval_text(asked) + "\n")
        self.write(_batch_question(list(self._open)))

    def _approval_text(self, asked: _Asked) -> str:
        if asked.preview is not None:
            return render_terminal(approval_view(asked.preview), colour=self._color)
        return asked.description

    async def offer_scopes(self, chat_id: ChatId, approval_id: str, labels: Sequence[str]) -> None:
        """After "always": the scopes to learn, as numbered choices on the next line."""
        self._scope_offer = (approval_id, len(labels), chat_id)
        lines = [f"  {number}. {label}" for number, label in enumerate(labels, start=1)]
        self.write("\nAllow from now on:\n" + "\n".join(lines) + "\n")
        self.write(
            f"Choose 1-{len(labels)} for this chat, add r to remember it for this project "
            "(e.g. 2r), Enter for nothing: "
        )

    async def request_prompt(self, chat_id: ChatId, approval_id: str, prompt: AgentPrompt) -> str:
        """Show the agent's questions (numbered options) or plan (numbered choices)."""
        self._prompts.append([approval_id, prompt, 0])
        self._approval_chats[approval_id] = chat_id
        if prompt.kind == "plan":
            self.write("\n🗺  The agent's plan\n", bold=True)
            self.write(prompt.plan.rstrip() + "\n")
            self.write(_PLAN_CHOICES)
        else:
            self.write("\n❓ The agent asks\n", bold=True)
            self._show_question(prompt, 0)
        return approval_id

    def _show_question(self, prompt: AgentPrompt, index: int) -> None:
        question = prompt.questions[index]
        count = f"({index + 1}/{len(prompt.questions)}) " if len(prompt.questions) > 1 else ""
        self.write(f"{count}{question.question}\n", bold=True)
        for number, option in enumerate(question.options, start=1):
            extra = f" — {option.description}" if option.description else ""
            self.write(f"  {number}) {option.label}{extra}\n")
        several = "numbers, e.g. 1,3" if question.multi_select else "a number"
        self.write(f"Answer with {several}, or type your own answer: ")

    async def close_approval(self, chat_id: ChatId, message_id: str, outcome: str) -> None:
        for waiting in list(self._prompts):
            if waiting[0] == message_id:
                self._prompts.remove(waiting)
                self._approval_closed_at = time.monotonic()
                self.write(f"\n{outcome}\n")
        if self._gathering is not None:
            # Settled before it was shown (answered on the page, cancelled): never shown.
            self._gathering = [a for a in self._gathering if a.approval_id != message_id]
        for number, approval_id in list(self._open.items()):
            if approval_id == message_id:
                del self._open[number]
                self._approval_chats.pop(message_id, None)
                self._approval_closed_at = time.monotonic()
                label = f"[{number}] " if self._open or number > 1 else ""
                self.write(f"\n{label}{outcome}\n")
                if len(self._open) > 1:
                    self.write(_batch_question(list(self._open)))
                elif self._open:
                    self.write(self._single_question())

    async def send_file(self, chat_id: ChatId, path: Path, caption: str | None = None) -> None:
        self.write(f"📎 {caption + ': ' if caption else ''}{path}\n")

    def open_reply(self, chat_id: ChatId) -> ReplyStream:
        return _TerminalReply(self)

    # -- the REPL ----------------------------------------------------------

    async def serve(self, banner: str = "") -> None:
        """Run the REPL until end of input (Ctrl-D); Ctrl-C cancels the running request."""
        loop = asyncio.get_running_loop()
        if banner:
            self.write(banner + "\n")
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(signal.SIGINT, self._on_interrupt)
        self.show_prompt()
        try:
            while True:
                line = await loop.run_in_executor(None, self._stdin.readline)
                if not line:
                    break
                await self._dispatch(line.rstrip("\n"))
        finally:
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.remove_signal_handler(signal.SIGINT)
            if self._requests:
                self.write("\nWaiting for the running request to stop…\n")
                for task in list(self._requests):
                    task.cancel()
                await asyncio.wait(self._requests, timeout=10)
            self.write("\nBye.\n")

    async def _dispatch(self, line: str) -> None:
        if self._prompts:
            await self._answer_prompt(line.strip())
            return
        if self._reason_next:
            # The reason for a rejection: the engine takes the chat's next message.
            self._reason_next = False
            if line.strip():
                await self._send_line(line.strip(), then=self._ask_again)
                return
        if len(self._open) > 1:
            await self._answer_batch(line.strip().lower())
            return
        if self._open:
            await self._answer_approval(line.strip().lower())
            return
        if self._scope_offer is not None:
            await self._answer_scope(line.strip().lower())
            return
        text = line.strip()
        if not text:
            self.show_prompt()
            return
        if text.lower() in _ANSWERS and self._answer_came_late():
            # A "y" typed just after its approval expired must not reach the agent
            # as a request ("yes, go ahead").
            self.write("That approval has already ended; nothing was sent.\n")
            self.show_prompt()
            return
        await self._send_line(text)

    async def _send_line(self, text: str, then: Callable[[], None] | None = None) -> None:
        message = IncomingMessage(
            user_id=self._user_id, chat_id=self._chat_id, text=text, local=True
        )
        # Commands go the same way as messages: the engine tells them apart
        # (`/etc/hosts is wrong` is a message) and the reply ends with a prompt.
        assert self._on_message is not None
        self._spawn(self._on_message(message), prompt=False, then=then)

    def _ask_again(self) -> None:
        """After a typed reason: the approvals still open are asked again."""
        if self._reason_next:
            return
        if len(self._open) > 1:
            self.write(_batch_question(list(self._open)))
        elif self._open:
            self.write(self._single_question())

    def _single_question(self) -> str:
        ((number, _),) = self._open.items()
        return f"[{number}] {_approval_question()}"

    async def _answer_approval(self, answer: str) -> None:
        choice = _ANSWERS.get(answer)
        if choice is None:
            self.write(f"Please answer {_approval_choices()}: ")
            return
        ((number, _),) = self._open.items()
        await self._settle_item(number, choice)

    async def _answer_batch(self, answer: str) -> None:
        """Approve or reject all (y / n), or answer items by number ("1y 2n 3r")."""
        everything = _BATCH_ALL.get(answer)
        if everything is not None:
            picked = [(number, everything) for number in self._open]
        else:
            found = _batch_answers(answer, list(self._open))
            if found is None:
                self.write(
                    f"Please answer y (all), n (all), or per item like 1y 2n 3r "
                    f"(items {', '.join(str(n) for n in self._open)}): "
                )
                return
            picked = found
        for number, choice in picked:
            if number in self._open:
                await self._settle_item(number, choice, label=f"[{number}] ")
        self._ask_again()

    async def _settle_item(self, number: int, choice: ApprovalChoice, label: str = "") -> None:
        approval_id = self._open.pop(number)
        chat_id = self._approval_chats.pop(approval_id, self._chat_id)
        assert self._on_approval is not None
        outcome = await self._on_approval(
            ApprovalAnswer(
                approval_id=approval_id,
                choice=choice,
                user_id=self._user_id,
                chat_id=chat_id,
                local=True,
            )
        )
        if awaits_reason(outcome):
            self._reason_next = True
            self.write(
                f"{label}Type the reason for the agent and press Enter; it is sent as the "
                "answer to its call.\n",
                bold=True,
            )
            self.show_prompt()
            return
        self.write(f"{label}{outcome}\n", dim=True)

    async def _answer_scope(self, answer: str) -> None:
        assert self._scope_offer is not None
        approval_id, count, chat_id = self._scope_offer
        remember = answer.endswith("r")
        number = answer.removesuffix("r").strip()
        if not answer:
            self._scope_offer = None
            self.write("Nothing learned.\n", dim=True)
            if not self._requests:
                self.show_prompt()
            return
        if not _is_number(number) or not 1 <= int(number) <= count:
            self.write(f"Please answer 1-{count} (add r to remember), or Enter for nothing: ")
            return
        self._scope_offer = None
        assert self._on_approval is not None
        outcome = await self._on_approval(
            ApprovalAnswer(
                approval_id=approval_id,
                choice=ApprovalChoice.ALWAYS,
                user_id=self._user_id,
                chat_id=chat_id,
                local=True,
                scope=int(number),
                remember=remember,
            )
        )
        self.write(f"{outcome}\n", dim=True)
        if not self._requests:
            self.show_prompt()

    async def _answer_prompt(self, line: str) -> None:
        waiting = self._prompts[0]
        approval_id, prompt, index = waiting
        if not line:
            self.write("An answer, please: ")
            return
        if prompt.kind == "plan":
            choice = _PLAN_ANSWERS.get(line.lower())
            if choice is None:
                self.write("Please answer 1, 2 or 3: ")
                return
            self._prompts.pop(0)
            outcome = await self._send_answer(approval_id, choice, None)
        else:
            question = prompt.questions[index]
            text = _picked(question, line)
            if text is None and _NUMBERS.fullmatch(line):
                many = "numbers" if question.multi_select else "one number"
                self.write(f"Please give {many} from 1 to {len(question.options)}: ")
                return
            outcome = await self._send_answer(
                approval_id, ApprovalChoice.ANSWER, f"{index}\n{text or line}"
            )
            if outcome.startswith("Noted"):
                waiting[2] = index + 1
                self._show_question(prompt, index + 1)
                return
            self._prompts.pop(0)
        if awaits_reason(outcome):
            self.write("Type your feedback for the agent and press Enter.\n", bold=True)
            self.show_prompt()
            return
        self.write(f"{outcome}\n", dim=True)

    async def _send_answer(
        self, approval_id: str, choice: ApprovalChoice, value: str | None
    ) -> str:
        assert self._on_approval is not None
        return await self._on_approval(
            ApprovalAnswer(
                approval_id=approval_id,
                choice=choice,
                user_id=self._user_id,
                # A browser chat's question shown here is answered for that chat.
                chat_id=self._approval_chats.get(approval_id, self._chat_id),
                local=True,
                value=value,
            )
        )

    def _answer_came_late(self) -> bool:
        closed = self._approval_closed_at
        return closed is not None and time.monotonic() - closed < _LATE_ANSWER_SECONDS

    def _spawn(self, work: Any, *, prompt: bool, then: Callable[[], None] | None = None) -> None:
        async def run() -> None:
            try:
                await work
            except asyncio.CancelledError:
                raise
            except Exception as error:
                logger.error("cli_request_failed", error=repr(error), exc_info=error)
                self.write(f"\n⚠️ {type(error).__name__}: {error}\n")
            if prompt:
                self.show_prompt()
            if then is not None:
                then()

        task = asyncio.create_task(run())
        self._requests.add(task)
        task.add_done_callback(self._requests.discard)

    def _on_interrupt(self) -> None:
        if not self._on_command or (not self._requests and not self._open and not self._prompts):
            self.write("\n(Ctrl-D to quit)\n")
            self.show_prompt()
            return
        self._open.clear()
        self._reason_next = False
        self._approval_chats.clear()
        self._prompts.clear()
        message = IncomingMessage(
            user_id=self._user_id, chat_id=self._chat_id, text="/cancel", local=True
        )
        self._spawn(self._on_command(message, "cancel", ()), prompt=False)

    # -- output ------------------------------------------------------------

    @property
    def pending_approvals(self) -> tuple[str, ...]:
        """The approvals shown here and waiting for an answer, in their numbered order."""
        return tuple(self._open.values())

    def requests_in_flight(self) -> int:
        """Requests typed in this terminal that have not finished (this one included)."""
        return len(self._requests)

    def show_prompt(self) -> None:
        self.write(_PROMPT)

    def write(self, text: str, *, dim: bool = False, bold: bool = False) -> None:
        if self._color and (dim or bold):
            code = "2" if dim else "1"
            text = f"\033[{code}m{text}\033[0m"
        self._stdout.write(text)
        self._stdout.flush()

    def _next_id(self) -> str:
        self._message_count += 1
        return str(self._message_count)
