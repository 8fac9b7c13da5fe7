"""The lines that end a reply: every denial, short, and what the request did."""

from __future__ import annotations

import pytest

from tether.core.request_summary import RequestTally, denial_line
from tether.core.safety.gatekeeper import GateDecision


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        pytest.param(
            "Denied: deletes your home directory [floor]: rm -rf ~",
            "⛔ Bash denied: deletes your home directory",
            id="rule-detail-dropped",
        ),
        pytest.param(
            "Denied: outside the approved directories",
            "⛔ Bash denied: outside the approved directories",
            id="plain",
        ),
        pytest.param("Denied:  a\n\nb", "⛔ Bash denied: a b", id="whitespace-folded"),
    ],
)
def test_a_denial_is_one_short_line(reason: str, expected: str) -> None:
    assert denial_line("Bash", reason) == expected


def test_a_long_denial_is_cut() -> None:
    line = denial_line("Bash", "Denied: " + "x" * 500)
    assert len(line) < 200 and line.endswith("…") and "\n" not in line


def test_the_summary_counts_commands_files_asks_and_blocks() -> None:
    tally = RequestTally()
    tally.count("Bash", {"command": "ls"}, GateDecision(allowed=True))
    tally.count("Bash", {"command": "pytest"}, GateDecision(allowed=True, approval="approved"))
    tally.count("Edit", {"file_path": "a.py"}, GateDecision(allowed=True, approval="auto"))
    tally.count("Write", {"file_path": "a.py"}, GateDecision(allowed=True))
    tally.count("Bash", {"command": "rm -rf ~"}, GateDecision(allowed=False))
    tally.count("Read", {"file_path": "b.py"}, GateDecision(allowed=True))
    assert tally.summary() == (
        "📋 6 tool calls: 2 commands run · 1 file changed · 1 asked · 1 blocked"
    )


def test_no_tool_call_no_summary() -> None:
    assert RequestTally().close("Hello.") == "Hello."


def test_denials_are_kept_after_the_reply_once_each() -> None:
    tally = RequestTally()
    tally.count("Bash", {"command": "rm -rf ~"}, GateDecision(allowed=False))
    line = denial_line("Bash", "Denied: deletes your home directory")
    tally.denials.extend([line, line])
    closed = tally.close("I could not do that.")
    assert closed.count(line) == 1
    assert closed.startswith("I could not do that.\n\n⛔ Bash denied")
    assert closed.endswith("0 asked · 1 blocked")
