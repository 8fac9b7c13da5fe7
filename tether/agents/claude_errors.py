"""What went wrong with Claude Code, and what the person can do about it.

Claude Code reports trouble three ways: an SDK exception (the executable is
missing, the process died, its output was garbled), an error `result` at the
end of a turn (rate limit, turn limit, an unknown conversation to resume), or
an `error` on an assistant message (authentication failed). `ClaudeCodeError`
sorts them into the kinds the agent acts on: retry, start a fresh
conversation, or stop with one message that says how to fix it.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from claude_agent_sdk import (
    CLIConnectionError,
    CLINotFoundError,
    ProcessError,
    ResultError,
    ResultMessage,
)

from tether.exceptions import AgentError

__all__ = [
    "ClaudeCodeError",
    "FailureKind",
    "failure_from_exception",
    "failure_from_result",
    "result_text",
]


class FailureKind(StrEnum):
    TRANSIENT = "transient"
    """Worth another try: the process died, the API was busy or rate-limited."""
    STALE_RESUME = "stale_resume"
    """Claude Code does not know the conversation it was asked to resume."""
    NOT_LOGGED_IN = "not_logged_in"
    CLI_MISSING = "cli_missing"
    CLI_OUTDATED = "cli_outdated"
    FATAL = "fatal"


class ClaudeCodeError(AgentError):
    """A failure of Claude Code, sorted by what to do about it."""

    def __init__(self, kind: FailureKind, detail: str) -> None:
        super().__init__(detail)
        self.kind = kind
        self.detail = detail

    def advice(self, *, cli_path: Path | None, attempts: int) -> str:
        """The one message a person sees for this failure, with the way out."""
        if self.kind is FailureKind.CLI_MISSING:
            if cli_path is not None:
                return (
                    "Claude Code could not be started from "
                    f"TETHER_CLAUDE_CLI_PATH={str(cli_path)!r} ({self.detail}): point it at "
                    "the `claude` executable, or unset it to use the one bundled with "
                    "claude-agent-sdk."
                )
            return (
                f"Claude Code was not found ({self.detail}): reinstall claude-agent-sdk, "
                "which bundles it, or set TETHER_CLAUDE_CLI_PATH to a `claude` executable."
            )
        if self.kind is FailureKind.NOT_LOGGED_IN:
            return (
                f"Claude Code has no credentials ({self.detail}): set ANTHROPIC_API_KEY, "
                "or run `claude login` once as the user running Tether, then send your "
                "message again."
            )
        if self.kind is FailureKind.CLI_OUTDATED:
            where = f"at {cli_path}" if cli_path is not None else "in use"
            return (
                f"Claude Code {where} is too old for Tether: it cannot be told to refuse a "
                "tool call when Tether's gate fails. Update it (`claude update`) or unset "
                "TETHER_CLAUDE_CLI_PATH to use the one bundled with claude-agent-sdk."
            )
        if self.kind is FailureKind.TRANSIENT:
            return (
                f"Claude Code failed {attempts} times in a row ({self.detail}); "
                "try again in a minute."
            )
        return f"Claude Code failed: {self.detail}"


_AUTH_MARKERS = (
    "not logged in",
    "please run /login",
    "invalid api key",
    "authentication_error",
    "authentication_failed",
    "authentication required",
    "failed to authenticate",
    "oauth token has expired",
    "invalid bearer token",
)
_STALE_RESUME_MARKERS = ("no conversation found with session id",)
_OUTDATED_MARKERS = ("does not honor on_failure",)
# Connection errors that another try would meet again.
_LASTING_MARKERS = ("working directory does not exist",)
_BUSY_MARKERS = ("overloaded", "rate limit", "rate_limit", "too many requests")
_BUSY_STATUSES = frozenset({408, 429, 500, 502, 503, 504, 529})
_BUSY_ASSISTANT_ERRORS = frozenset({"rate_limit", "server_error"})


def _kind_from_text(text: str) -> FailureKind | None:
    lowered = text.lower()
    if any(marker in lowered for marker in _STALE_RESUME_MARKERS):
        return FailureKind.STALE_RESUME
    if any(marker in lowered for marker in _AUTH_MARKERS):
        return FailureKind.NOT_LOGGED_IN
    if any(marker in lowered for marker in _OUTDATED_MARKERS):
        return FailureKind.CLI_OUTDATED
    return None


def failure_from_exception(error: BaseException, stderr: str = "") -> ClaudeCodeError:
    """Sort an exception from the SDK (or the OS) into a `ClaudeCodeError`.

    `stderr` is the CLI's last error output: it often names the real cause of a
    bare "exit code 1".
    """
    detail = _one_line(str(error)) or type(error).__name__
    if isinstance(error, CLINotFoundError):
        return ClaudeCodeError(FailureKind.CLI_MISSING, detail)
    if isinstance(error, ResultError):
        kind = _kind_from_text(f"{error} {stderr}")
        if kind is None and _is_busy(error.api_error_status, str(error), ()):
            kind = FailureKind.TRANSIENT
        return ClaudeCodeError(kind or FailureKind.FATAL, detail)
    kind = _kind_from_text(f"{error} {stderr}")
    if kind is not None:
        return ClaudeCodeError(kind, detail)
    if isinstance(error, CLIConnectionError) and _is_spawn_failure(error):
        return ClaudeCodeError(FailureKind.CLI_MISSING, detail)
    if any(marker in detail.lower() for marker in _LASTING_MARKERS):
        return ClaudeCodeError(FailureKind.FATAL, detail)
    if isinstance(error, (CLIConnectionError, ProcessError, OSError)):
        if stderr:
            detail = f"{detail}; it said: {_one_line(stderr)}"
        return ClaudeCodeError(FailureKind.TRANSIENT, detail)
    return ClaudeCodeError(FailureKind.FATAL, detail)


def failure_from_result(
    result: ResultMessage, assistant_errors: tuple[str, ...]
) -> ClaudeCodeError | None:
    """The failure an error result stands for, or None when it is the model's own stop.

    A turn limit or an execution error is the conversation's outcome, reported
    to the person as an error reply; a rate limit, a lost login or an unknown
    conversation is Claude Code's trouble, and the agent acts on it.
    """
    if not result.is_error:
        return None
    text = result_text(result)
    if "authentication_failed" in assistant_errors:
        return ClaudeCodeError(FailureKind.NOT_LOGGED_IN, text)
    kind = _kind_from_text(text)
    if kind is not None:
        return ClaudeCodeError(kind, text)
    if _is_busy(result.api_error_status, text, assistant_errors):
        return ClaudeCodeError(FailureKind.TRANSIENT, text)
    return None


def result_text(result: ResultMessage) -> str:
    """The most telling text of an error result."""
    errors = [error.strip() for error in result.errors or () if error.strip()]
    if errors:
        return _one_line("; ".join(errors))
    if result.result and result.result.strip():
        return _one_line(result.result)
    if result.api_error_status is not None:
        return f"API error (HTTP {result.api_error_status})"
    return result.subtype


def _is_busy(status: int | None, text: str, assistant_errors: tuple[str, ...]) -> bool:
    if status in _BUSY_STATUSES:
        return True
    if _BUSY_ASSISTANT_ERRORS.intersection(assistant_errors):
        return True
    lowered = text.lower()
    return any(marker in lowered for marker in _BUSY_MARKERS)


def _is_spawn_failure(error: CLIConnectionError) -> bool:
    # The SDK reports an executable it may not run (permissions, not a binary)
    # as a generic connection error; retrying would fail the same way.
    return str(error).startswith("Failed to start Claude Code") and isinstance(
        error.__cause__, OSError
    )


def _one_line(text: str, limit: int = 300) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"
