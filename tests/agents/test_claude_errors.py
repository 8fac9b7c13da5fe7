"""How Claude Code's failures are sorted, and the advice each one gets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from claude_agent_sdk import (
    CLIConnectionError,
    CLIJSONDecodeError,
    CLINotFoundError,
    ProcessError,
    ResultError,
    ResultMessage,
)

from tether.agents.claude_errors import (
    ClaudeCodeError,
    FailureKind,
    failure_from_exception,
    failure_from_result,
    result_text,
)


def _spawn_error(cause: OSError) -> CLIConnectionError:
    error = CLIConnectionError(f"Failed to start Claude Code: {cause}")
    error.__cause__ = cause
    return error


@pytest.mark.parametrize(
    ("error", "stderr", "kind"),
    [
        pytest.param(
            CLINotFoundError("Claude Code not found"), "", FailureKind.CLI_MISSING, id="not-found"
        ),
        pytest.param(
            _spawn_error(PermissionError(13, "Permission denied")),
            "",
            FailureKind.CLI_MISSING,
            id="not-executable",
        ),
        pytest.param(
            ProcessError("Command failed", exit_code=1), "", FailureKind.TRANSIENT, id="died"
        ),
        pytest.param(
            CLIConnectionError("Cannot write to terminated process"),
            "",
            FailureKind.TRANSIENT,
            id="gone",
        ),
        pytest.param(BrokenPipeError(), "", FailureKind.TRANSIENT, id="broken-pipe"),
        pytest.param(
            ProcessError("Command failed", exit_code=1),
            "No conversation found with session ID: abc",
            FailureKind.STALE_RESUME,
            id="stale-resume-on-stderr",
        ),
        pytest.param(
            ResultError(
                "Claude Code returned an error result: No conversation found with session ID: abc",
                data={"subtype": "error_during_execution"},
                exit_code=1,
            ),
            "",
            FailureKind.STALE_RESUME,
            id="stale-resume-result",
        ),
        pytest.param(
            ResultError("Claude Code returned an error result: Not logged in · Please run /login"),
            "",
            FailureKind.NOT_LOGGED_IN,
            id="not-logged-in",
        ),
        pytest.param(
            ResultError("error result: API Error: 529", data={"api_error_status": 529}),
            "",
            FailureKind.TRANSIENT,
            id="overloaded",
        ),
        pytest.param(
            ResultError("error result: Reached maximum budget"),
            "",
            FailureKind.FATAL,
            id="other-result",
        ),
        pytest.param(
            CLIConnectionError(
                "The process answering initialize does not honor on_failure on hook matchers"
            ),
            "",
            FailureKind.CLI_OUTDATED,
            id="outdated",
        ),
        pytest.param(
            CLIJSONDecodeError("{oops", ValueError("bad")), "", FailureKind.FATAL, id="garbled"
        ),
        pytest.param(
            Exception("Control request timeout: initialize"),
            "",
            FailureKind.FATAL,
            id="no-answer-to-initialize",
        ),
        pytest.param(
            CLIConnectionError("Working directory does not exist: /gone"),
            "",
            FailureKind.FATAL,
            id="no-working-directory",
        ),
    ],
)
def test_an_exception_is_sorted_by_what_to_do_about_it(
    error: BaseException, stderr: str, kind: FailureKind
) -> None:
    assert failure_from_exception(error, stderr).kind is kind


def _result(**fields: Any) -> ResultMessage:
    values: dict[str, Any] = {
        "subtype": "success",
        "duration_ms": 1,
        "duration_api_ms": 1,
        "is_error": True,
        "num_turns": 1,
        "session_id": "s",
    }
    values.update(fields)
    return ResultMessage(**values)


@pytest.mark.parametrize(
    ("result", "assistant_errors", "kind"),
    [
        pytest.param(_result(is_error=False), (), None, id="success"),
        pytest.param(
            _result(subtype="error_max_turns", errors=["Reached maximum number of turns (3)"]),
            (),
            None,
            id="turn-limit-is-an-outcome",
        ),
        pytest.param(
            _result(result="Invalid API key · Fix external API key"),
            (),
            FailureKind.NOT_LOGGED_IN,
            id="bad-key",
        ),
        pytest.param(
            _result(result="whatever"),
            ("authentication_failed",),
            FailureKind.NOT_LOGGED_IN,
            id="auth-flag",
        ),
        pytest.param(
            _result(result="API Error", api_error_status=429), (), FailureKind.TRANSIENT, id="429"
        ),
        pytest.param(
            _result(result="API Error"), ("server_error",), FailureKind.TRANSIENT, id="server-error"
        ),
        pytest.param(
            _result(
                subtype="error_during_execution",
                errors=["No conversation found with session ID: x"],
            ),
            (),
            FailureKind.STALE_RESUME,
            id="stale",
        ),
    ],
)
def test_an_error_result_is_sorted_or_left_to_the_reply(
    result: ResultMessage, assistant_errors: tuple[str, ...], kind: FailureKind | None
) -> None:
    failure = failure_from_result(result, assistant_errors)

    assert (failure.kind if failure else None) is kind


def test_result_text_prefers_errors_then_result_then_status() -> None:
    assert result_text(_result(errors=[" a ", "", "b"], result="r")) == "a; b"
    assert result_text(_result(result="  the\nresult ")) == "the result"
    assert result_text(_result(api_error_status=503)) == "API error (HTTP 503)"
    assert result_text(_result(subtype="error_during_execution")) == "error_during_execution"


@pytest.mark.parametrize(
    ("kind", "cli_path", "expected"),
    [
        pytest.param(
            FailureKind.CLI_MISSING,
            Path("/opt/claude"),
            ("TETHER_CLAUDE_CLI_PATH='/opt/claude'", "unset it"),
            id="bad-path",
        ),
        pytest.param(
            FailureKind.CLI_MISSING,
            None,
            ("reinstall claude-agent-sdk", "TETHER_CLAUDE_CLI_PATH"),
            id="no-path",
        ),
        pytest.param(
            FailureKind.NOT_LOGGED_IN, None, ("ANTHROPIC_API_KEY", "claude login"), id="login"
        ),
        pytest.param(
            FailureKind.CLI_OUTDATED,
            Path("/opt/claude"),
            ("/opt/claude", "claude update"),
            id="outdated",
        ),
        pytest.param(
            FailureKind.TRANSIENT, None, ("failed 3 times in a row", "try again"), id="transient"
        ),
        pytest.param(FailureKind.FATAL, None, ("Claude Code failed: detail",), id="fatal"),
    ],
)
def test_each_failure_says_how_to_fix_it(
    kind: FailureKind, cli_path: Path | None, expected: tuple[str, ...]
) -> None:
    advice = ClaudeCodeError(kind, "detail").advice(cli_path=cli_path, attempts=3)

    for part in expected:
        assert part in advice
