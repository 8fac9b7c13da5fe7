"""ClaudeCodeAgent: Claude Code, driven through claude-agent-sdk, with every tool call gated.

One `ClaudeSDKClient` (one `claude` process) per Tether session, kept between
messages so a conversation stays warm; it is started again, resuming Claude's
conversation id, when it died, when the session's directory or mode changed,
or after Tether restarted. See docs/agents.md for the settings it reads and
how it keeps the gate in front of every tool call.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from collections import OrderedDict, deque
from pathlib import Path

from claude_agent_sdk import ClaudeSDKClient, ClaudeSDKError
from claude_agent_sdk.types import PermissionMode
from pydantic import BaseModel, ConfigDict, Field

from tether.agents.base import AgentResponse, CanUseTool, OnText, OnToolActivity
from tether.agents.claude_errors import (
    ClaudeCodeError,
    FailureKind,
    failure_from_exception,
    failure_from_result,
    result_text,
)
from tether.agents.claude_gate import ToolGate
from tether.agents.claude_messages import TurnReader, deliver_text
from tether.agents.claude_options import build_options, check_allowed_tools, permission_mode
from tether.agents.claude_transport import OwnSessionTransport
from tether.core.config import TetherConfig
from tether.core.types import Session
from tether.exceptions import AgentError
from tether.log import get_logger

__all__ = ["ClaudeCodeAgent", "RetryPolicy"]

logger = get_logger(__name__)

# Room for the gate's own work on top of the longest approval wait.
_HOOK_TIMEOUT_MARGIN_SECONDS = 60.0
_STDERR_LINES_KEPT = 20
_LAST_WORDS_SECONDS = 1.0
_RETRY_NOTE = "\n\n(Claude Code stopped unexpectedly; trying again.)\n\n"


class RetryPolicy(BaseModel):
    """How often a transient failure is retried: `attempts` in all, waits doubling."""

    model_config = ConfigDict(frozen=True)

    attempts: int = Field(default=3, ge=1)
    base_delay_seconds: float = Field(default=1.0, ge=0)
    max_delay_seconds: float = Field(default=10.0, ge=0)

    def delay(self, failures: int) -> float:
        """The wait after the `failures`-th failure in a row."""
        return float(min(self.base_delay_seconds * 2 ** (failures - 1), self.max_delay_seconds))


class _Run:
    """One `execute` in progress: its callbacks and whether it was asked to stop."""

    def __init__(self, on_text: OnText | None, on_tool_activity: OnToolActivity | None) -> None:
        self.on_text = on_text
        self.on_tool_activity = on_tool_activity
        self.cancel_requested = asyncio.Event()


class _Conversation:
    """What the agent keeps for one Tether session: its client and Claude's conversation id."""

    def __init__(self) -> None:
        self.gate = ToolGate()
        self.lock = asyncio.Lock()
        self.stderr: deque[str] = deque(maxlen=_STDERR_LINES_KEPT)
        self.client: ClaudeSDKClient | None = None
        self.transport: OwnSessionTransport | None = None
        self.key: tuple[Path, PermissionMode] | None = None
        self.claude_session_id: str | None = None
        self.run: _Run | None = None
        self.callers = 0
        """`execute` calls running or waiting for the lock."""

    def keep_stderr(self, line: str) -> None:
        self.stderr.append(line)
        logger.debug("claude_stderr", line=line)


class ClaudeCodeAgent:
    """A `BaseAgent` running Claude Code through claude-agent-sdk.

    Args:
        config: reads `claude_cli_path`, `claude_model`, `claude_max_turns`,
            `claude_system_prompt` (appended to Claude Code's own),
            `claude_allowed_tools` (which tools exist; never auto-approved),
            `claude_disallowed_tools` and `approval_timeout_seconds`.
        retry: how transient failures are retried.
        interrupt_grace_seconds: how long a cancelled request may take to stop
            before its process is ended.
        max_idle_clients: Claude Code processes kept alive for idle sessions;
            beyond that the least recently used is stopped (its conversation
            resumes on its next message).

    Raises:
        ConfigError: `claude_allowed_tools` holds something that is not a tool name.
    """

    def __init__(
        self,
        config: TetherConfig,
        *,
        retry: RetryPolicy | None = None,
        interrupt_grace_seconds: float = 5.0,
        max_idle_clients: int = 8,
    ) -> None:
        check_allowed_tools(config)
        self._config = config
        self._retry = retry or RetryPolicy()
        self._interrupt_grace = interrupt_grace_seconds
        self._max_idle_clients = max_idle_clients
        self._hook_timeout = config.approval_timeout_seconds + _HOOK_TIMEOUT_MARGIN_SECONDS
        self._conversations: OrderedDict[str, _Conversation] = OrderedDict()
        self._closed = False

    async def execute(
        self,
        prompt: str,
        session: Session,
        *,
        can_use_tool: CanUseTool,
        on_text: OnText | None = None,
        on_tool_activity: OnToolActivity | None = None,
    ) -> AgentResponse:
        """Run `prompt` in the session's conversation; see `BaseAgent.execute`.

        A cancelled request returns `is_error=True, cancelled=True` with the text
        written before the cancel. A conversation Claude Code no longer knows
        is started afresh, and `notice` says so.

        Raises:
            AgentError: Claude Code is missing, not logged in or too old, or
                failed `RetryPolicy.attempts` times in a row.
        """
        if self._closed:
            raise AgentError("the Claude Code agent was shut down; start Tether again")
        conversation = self._conversations.get(session.session_id)
        if conversation is None:
            conversation = self._conversations[session.session_id] = _Conversation()
        self._conversations.move_to_end(session.session_id)
        conversation.callers += 1
        try:
            async with conversation.lock:
                if self._closed:
                    raise AgentError("the Claude Code agent was shut down; start Tether again")
                run = _Run(on_text, on_tool_activity)
                conversation.run = run
                conversation.gate.open(can_use_tool)
                try:
                    return await self._execute(conversation, run, prompt, session)
                except asyncio.CancelledError:
                    # The caller gave up (a timeout, Ctrl-C): the CLI would go
                    # on with the turn, so its process goes.
                    await asyncio.shield(self._disconnect(conversation))
                    raise
                finally:
                    conversation.gate.close()
                    conversation.run = None
                    if self._closed:
                        await self._disconnect(conversation)
        finally:
            conversation.callers -= 1
            await self._stop_idle_clients()

    async def cancel(self, session_id: str) -> bool:
        """Stop the request running in `session_id` with Claude Code's interrupt.

        Returns at once; the `execute` in progress returns within
        `interrupt_grace_seconds`. False when no request is running there.
        """
        conversation = self._conversations.get(session_id)
        if conversation is None or conversation.run is None:
            return False
        conversation.run.cancel_requested.set()
        logger.info("claude_cancel_requested", session_id=session_id)
        return True

    async def shutdown(self) -> None:
        """Stop every Claude Code process; running requests return as cancelled."""
        self._closed = True
        conversations = list(self._conversations.values())
        for conversation in conversations:
            if conversation.run is not None:
                conversation.run.cancel_requested.set()
        await asyncio.gather(*(self._disconnect(c) for c in conversations))
        logger.info("claude_agent_stopped", sessions=len(conversations))

    async def _execute(
        self,
        conversation: _Conversation,
        run: _Run,
        prompt: str,
        session: Session,
    ) -> AgentResponse:
        log = logger.bind(session_id=session.session_id)
        started = time.monotonic()
        resume = session.claude_session_id or conversation.claude_session_id
        notice: str | None = None
        failures = 0
        reader = TurnReader()
        while True:
            try:
                client = await self._connect(conversation, session, resume)
                if run.cancel_requested.is_set():
                    return _cancelled(reader, conversation, started, notice)
                reader = TurnReader(
                    on_text=run.on_text,
                    on_tool_activity=run.on_tool_activity,
                    cwd=session.working_directory,
                )
                interrupted = await self._run_turn(conversation, client, run, reader, prompt)
                return await self._respond(conversation, reader, interrupted, started, notice)
            except ClaudeCodeError as failure:
                await self._disconnect(conversation)
                if run.cancel_requested.is_set():
                    return _cancelled(reader, conversation, started, notice)
                if failure.kind is FailureKind.STALE_RESUME and resume is not None:
                    log.warning("claude_resume_unknown", claude_session_id=resume)
                    notice = (
                        "Claude Code no longer had this conversation, so a fresh one "
                        "was started: earlier messages are not in its context."
                    )
                    resume = None
                    continue
                failures += 1
                if failure.kind is not FailureKind.TRANSIENT or failures >= self._retry.attempts:
                    log.warning("claude_failed", kind=failure.kind.value, detail=failure.detail)
                    cli_path = self._config.claude_cli_path
                    advice = failure.advice(cli_path=cli_path, attempts=failures)
                    raise AgentError(advice) from failure
                delay = self._retry.delay(failures)
                log.warning("claude_retrying", detail=failure.detail, attempt=failures, delay=delay)
                if reader.text:
                    # Keep the streamed reply readable: the next attempt starts over.
                    await deliver_text(run.on_text, _RETRY_NOTE)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(run.cancel_requested.wait(), delay)

    async def _connect(
        self, conversation: _Conversation, session: Session, resume: str | None
    ) -> ClaudeSDKClient:
        key = (session.working_directory, permission_mode(session))
        client, transport = conversation.client, conversation.transport
        if (
            client is not None
            and transport is not None
            and not transport.exited
            and conversation.key == key
            and resume == conversation.claude_session_id
        ):
            return client
        await self._disconnect(conversation)
        options = build_options(
            self._config,
            session,
            gate=conversation.gate,
            resume=resume,
            hook_timeout_seconds=self._hook_timeout,
            stderr=conversation.keep_stderr,
        )
        # The SDK routes can_use_tool over stdio only on a transport it builds
        # itself; this one is built here, so it is told the same.
        transport = OwnSessionTransport(
            prompt="",
            options=dataclasses.replace(options, permission_prompt_tool_name="stdio"),
        )
        client = ClaudeSDKClient(options, transport=transport)
        conversation.stderr.clear()
        try:
            await client.connect()
        # Broad on purpose: besides its own errors, the SDK raises a bare
        # Exception when the CLI does not answer `initialize` in time.
        except Exception as error:
            raise failure_from_exception(error, "\n".join(conversation.stderr)) from error
        conversation.client, conversation.transport = client, transport
        conversation.key = key
        conversation.claude_session_id = resume
        logger.info(
            "claude_started",
            session_id=session.session_id,
            pid=transport.pid,
            resume=resume,
            cwd=str(session.working_directory),
        )
        return client

    async def _run_turn(
        self,
        conversation: _Conversation,
        client: ClaudeSDKClient,
        run: _Run,
        reader: TurnReader,
        prompt: str,
    ) -> bool:
        """Send `prompt` and read the turn; True if it had to be interrupted."""
        try:
            await client.query(prompt)
        except (ClaudeSDKError, OSError) as error:
            # The process ended before it took the prompt; its last words say why
            # (an unknown conversation, a lost login) better than a broken pipe.
            with contextlib.suppress(Exception):  # whatever the read meets, the cause stays
                async with asyncio.timeout(_LAST_WORDS_SECONDS):
                    await reader.read(client.receive_response())
            said = reader.result and failure_from_result(reader.result, reader.assistant_errors)
            stderr = "\n".join(conversation.stderr)
            raise said or failure_from_exception(error, stderr) from error
        reading = asyncio.create_task(reader.read(client.receive_response()))
        stopping = asyncio.create_task(run.cancel_requested.wait())
        interrupted = False
        try:
            await asyncio.wait((reading, stopping), return_when=asyncio.FIRST_COMPLETED)
            if not reading.done():
                interrupted = True
                await self._interrupt(client, reading)
        finally:
            stopping.cancel()
            if not reading.done():
                reading.cancel()
            await asyncio.gather(reading, stopping, return_exceptions=True)
        if reading.cancelled():
            # Cut off after a cancel that the CLI did not confirm in time.
            return interrupted
        problem = reading.exception()
        if problem is not None:
            raise failure_from_exception(problem, "\n".join(conversation.stderr)) from problem
        if reader.result is None and not interrupted:
            raise ClaudeCodeError(FailureKind.TRANSIENT, "Claude Code ended without finishing")
        return interrupted

    async def _interrupt(self, client: ClaudeSDKClient, reading: asyncio.Task[None]) -> None:
        """Ask the CLI to stop the turn, and give it the grace period to end it.

        The turn ends with a result after the interrupt, or with the end of
        the stream if the process goes (a shutdown disconnects it meanwhile).
        """
        interrupting = asyncio.create_task(client.interrupt())
        try:
            await asyncio.wait((reading,), timeout=self._interrupt_grace)
        finally:
            if not interrupting.done():
                interrupting.cancel()
            (outcome,) = await asyncio.gather(interrupting, return_exceptions=True)
        if isinstance(outcome, Exception):
            logger.warning("claude_interrupt_failed", error=str(outcome) or type(outcome).__name__)

    async def _respond(
        self,
        conversation: _Conversation,
        reader: TurnReader,
        interrupted: bool,
        started: float,
        notice: str | None,
    ) -> AgentResponse:
        result = reader.result
        if result is None:
            # Cancelled before the CLI reported the turn's end: it may still be
            # working, so its process goes; the conversation resumes next time.
            await self._disconnect(conversation)
            conversation.claude_session_id = reader.session_id or conversation.claude_session_id
            return _cancelled(reader, conversation, started, notice)
        conversation.claude_session_id = result.session_id or conversation.claude_session_id
        notice = _with_malformed(notice, reader.malformed)
        aborted = (result.terminal_reason or "").startswith("aborted")
        if interrupted or (result.is_error and aborted):
            return _cancelled(reader, conversation, started, notice, result.total_cost_usd)
        failure = failure_from_result(result, reader.assistant_errors)
        if failure is not None:
            raise failure
        content = reader.text or (result.result or "")
        if result.is_error:
            # The CLI ends an errored run by exiting; the next message starts
            # it again, resuming the conversation.
            await self._disconnect(conversation)
            content = _error_content(reader.text, result_text(result), result.subtype, self._config)
        return AgentResponse(
            content=content,
            session_id=conversation.claude_session_id,
            cost=result.total_cost_usd or 0.0,
            duration_ms=_elapsed_ms(started),
            num_turns=result.num_turns,
            tools_used=conversation.gate.tools_used,
            is_error=result.is_error,
            notice=notice,
        )

    async def _disconnect(self, conversation: _Conversation) -> None:
        client = conversation.client
        conversation.client = conversation.transport = None
        conversation.key = None
        if client is None:
            return
        try:
            await client.disconnect()
        except Exception as error:  # noqa: BLE001 - stopping goes on whatever the SDK raises
            logger.warning("claude_disconnect_failed", error=str(error))

    async def _stop_idle_clients(self) -> None:
        """Keep at most `max_idle_clients` idle processes, and forget idle sessions without one.

        A forgotten session resumes from `Session.claude_session_id` next time.
        """
        idle = [c for c in self._conversations.values() if c.callers == 0 and c.client is not None]
        for conversation in idle[: max(0, len(idle) - self._max_idle_clients)]:
            # Checked again: a request may have come in while another stopped.
            if conversation.callers == 0:
                await self._disconnect(conversation)
        for session_id, conversation in list(self._conversations.items()):
            if conversation.client is None and conversation.callers == 0:
                del self._conversations[session_id]


def _with_malformed(notice: str | None, problems: tuple[str, ...]) -> str | None:
    """The notice, plus one line for the messages Claude Code sent malformed, if any."""
    if not problems:
        return notice
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    line = (
        f"Claude Code sent {problems[0]}{more}; Tether skipped it and went on "
        "(details are in Tether's log)."
    )
    return f"{notice} {line}" if notice else line


def _elapsed_ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _cancelled(
    reader: TurnReader,
    conversation: _Conversation,
    started: float,
    notice: str | None,
    cost: float | None = None,
) -> AgentResponse:
    text = reader.text.rstrip()
    return AgentResponse(
        content=f"{text}\n\n(Request cancelled.)" if text else "Request cancelled.",
        session_id=conversation.claude_session_id,
        cost=cost or 0.0,
        duration_ms=_elapsed_ms(started),
        tools_used=conversation.gate.tools_used,
        is_error=True,
        cancelled=True,
        notice=notice,
    )


def _error_content(text: str, error: str, subtype: str, config: TetherConfig) -> str:
    if subtype == "error_max_turns":
        why = (
            f"Claude Code stopped after {config.claude_max_turns} turns, the limit "
            "(TETHER_CLAUDE_MAX_TURNS); send a follow-up to let it go on."
        )
    else:
        why = f"Claude Code stopped with an error: {error}"
    return f"{text.rstrip()}\n\n{why}" if text.strip() else why
