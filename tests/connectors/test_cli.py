"""The terminal REPL, driven through a pseudo-terminal as a person would use it.

`tether` runs as a real process with the real Claude Code adapter; only the
`claude` executable is the scripted fake from tests/agents.
"""

from __future__ import annotations

import io
import os
import stat
import sys
from pathlib import Path

import pexpect
import pytest

from tether.connectors.cli import LOCAL_CHAT_ID, CliConnector
from tether.core.safety.audit import read_audit_log
from tether.core.safety.preview import ApprovalPreview

FAKE_CLAUDE = Path(__file__).parents[1] / "agents" / "fake_claude.py"
TIMEOUT = 30


@pytest.fixture
def repl_env(tmp_path: Path, project_dir: Path) -> dict[str, str]:
    launcher = tmp_path / "bin" / "claude"
    launcher.parent.mkdir()
    launcher.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{FAKE_CLAUDE}" "$@"\n')
    launcher.chmod(launcher.stat().st_mode | stat.S_IXUSR)
    fake_home = tmp_path / "fake-claude"
    fake_home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TETHER_")}
    env.update(
        TETHER_CLAUDE_CLI_PATH=str(launcher),
        TETHER_AUDIT_LOG_PATH=str(tmp_path / "audit.jsonl"),
        FAKE_CLAUDE_DIR=str(fake_home),
        PYTHONUNBUFFERED="1",
        TERM="dumb",
    )
    return env


def _spawn(project_dir: Path, env: dict[str, str], cwd: Path) -> pexpect.spawn:
    child = pexpect.spawn(
        sys.executable,
        ["-m", "tether", "--dir", str(project_dir)],
        env=env,
        cwd=str(cwd),
        encoding="utf-8",
        timeout=TIMEOUT,
        dimensions=(50, 200),
    )
    child.expect("Tether is running")
    child.expect("› ")
    return child


def test_full_exchange_with_an_inline_approval(
    project_dir: Path, repl_env: dict[str, str], tmp_path: Path
) -> None:
    """A request runs, the edit asks y/n/a inline, 'y' lets it through, the reply arrives."""
    child = _spawn(project_dir, repl_env, tmp_path)
    child.sendline("everything")
    child.expect("Approval needed")
    child.expect("Edit")
    child.expect(
        r"Allow\? \[y\]es / \[n\]o / \[r\]eject with a reason / \[a\]lways \(then choose what\): "
    )
    child.sendline("y")
    child.expect("Approved")
    child.expect("All done.")
    child.expect("› ")
    child.sendeof()
    child.expect("Bye.")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0

    entries = read_audit_log(tmp_path / "audit.jsonl")
    gated = [e["tool_name"] for e in entries if e["event_type"] == "tool_attempt"]
    assert {"Read", "Bash", "Edit", "Agent", "Glob"} <= set(gated)
    approvals = [e for e in entries if e["event_type"] == "approval"]
    assert [(a["tool_name"], a["approved"]) for a in approvals] == [("Edit", True)]


def test_always_offers_numbered_scopes_and_learns_the_chosen_one(
    project_dir: Path, repl_env: dict[str, str], tmp_path: Path
) -> None:
    child = _spawn(project_dir, repl_env, tmp_path)
    child.sendline("everything")
    child.expect(r"Allow\? ")
    child.sendline("a")
    child.expect("Allow from now on:")
    child.expect(r"1\. Edit on ")
    child.expect(r"Choose 1-\d+")
    child.sendline("1")
    child.expect("Learned rule")
    child.sendeof()
    child.expect(pexpect.EOF)
    child.close()
    entries = read_audit_log(tmp_path / "audit.jsonl")
    learned = [e for e in entries if e["event_type"] == "rule_learned"]
    assert [(e["scope"], e["lifetime"]) for e in learned] == [("exact", "chat")]


def test_rejecting_an_approval_denies_the_tool(
    project_dir: Path, repl_env: dict[str, str], tmp_path: Path
) -> None:
    child = _spawn(project_dir, repl_env, tmp_path)
    child.sendline("everything")
    child.expect(r"Allow\? ")
    child.sendline("n")
    child.expect("Rejected")
    child.expect("All done.")
    child.sendeof()
    child.expect(pexpect.EOF)
    child.close()
    entries = read_audit_log(tmp_path / "audit.jsonl")
    approvals = [e for e in entries if e["event_type"] == "approval"]
    assert [(a["tool_name"], a["approved"]) for a in approvals] == [("Edit", False)]


def test_an_edit_shows_a_coloured_diff_and_a_reason_steers_the_agent(
    project_dir: Path, repl_env: dict[str, str], tmp_path: Path
) -> None:
    """On a colour terminal the diff is green and red; "r" then a line rejects with that reason."""
    child = _spawn(project_dir, {**repl_env, "TERM": "xterm-256color"}, tmp_path)
    child.sendline("edit")
    child.expect("Approval needed")
    child.expect_exact("Edit src/app.py")
    child.expect_exact("\x1b[31m-print('hello')\x1b[0m")
    child.expect_exact("\x1b[32m+print('bye')\x1b[0m")
    child.expect(r"\[r\]eject with a reason")
    child.sendline("r")
    child.expect("Type the reason for the agent")
    child.sendline("keep the greeting, add a farewell instead")
    child.expect("Rejected; the agent is told")
    child.expect("who says: keep the greeting, add a farewell instead")
    child.expect("1 asked · 1 blocked")
    child.sendeof()
    child.expect(pexpect.EOF)
    child.close()
    approvals = [
        e for e in read_audit_log(tmp_path / "audit.jsonl") if e["event_type"] == "approval"
    ]
    assert [(a["approved"], a["note"]) for a in approvals] == [
        (False, "keep the greeting, add a farewell instead")
    ]


class _ColourTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("no_color", "coloured"),
    [pytest.param(None, True, id="colour-terminal"), pytest.param("1", False, id="NO_COLOR")],
)
async def test_no_color_gives_a_plain_diff(
    monkeypatch: pytest.MonkeyPatch, no_color: str | None, coloured: bool
) -> None:
    monkeypatch.setenv("TERM", "xterm-256color")
    if no_color is None:
        monkeypatch.delenv("NO_COLOR", raising=False)
    else:
        monkeypatch.setenv("NO_COLOR", no_color)
    out = _ColourTerminal()
    connector = CliConnector(stdin=io.StringIO(), stdout=out)
    preview = ApprovalPreview(
        tool_name="Edit", kind="diff", subject="a.py", body="--- a/a.py\n+++ b/a.py\n-x\n+y"
    )
    await connector.request_approval(LOCAL_CHAT_ID, "k1", "Edit a.py", "Edit", preview=preview)
    assert ("\x1b[" in out.getvalue()) is coloured
    assert "+y" in out.getvalue()


def test_the_agent_s_questions_are_numbered_choices_and_the_answers_reach_it(
    project_dir: Path, repl_env: dict[str, str], tmp_path: Path
) -> None:
    child = _spawn(project_dir, repl_env, tmp_path)
    child.sendline("ask")
    child.expect("The agent asks")
    child.expect_exact("(1/2) Which package manager should I use?")
    child.expect_exact("1) uv — Fast, with a lock file")
    child.expect("or type your own answer: ")
    child.sendline("7")
    child.expect("Please give one number from 1 to 2: ")
    child.sendline("poetry, sadly")  # an answer in the person's own words
    child.expect_exact("(2/2) Which checks should run in CI?")
    child.expect("numbers, e.g. 1,3")
    child.sendline("1,3")
    child.expect_exact('"Which package manager should I use?"="poetry, sadly"')
    child.expect_exact('"Which checks should run in CI?"="tests, lint"')
    child.expect("› ")
    child.sendeof()
    child.expect(pexpect.EOF)
    child.close()
    entries = read_audit_log(tmp_path / "audit.jsonl")
    (asked,) = [e for e in entries if e["event_type"] == "approval"]
    assert (asked["tool_name"], asked["kind"], asked["answers"]) == (
        "AskUserQuestion",
        "questions",
        ["poetry, sadly", "tests, lint"],
    )


def test_an_approved_plan_leaves_plan_mode_for_the_chosen_mode(
    project_dir: Path, repl_env: dict[str, str], tmp_path: Path
) -> None:
    child = _spawn(project_dir, repl_env, tmp_path)
    child.sendline("/plan")
    child.expect("Plan mode")
    child.expect("› ")
    child.sendline("plan")
    child.expect("The agent's plan")
    child.expect_exact("1. Add `greet(name)` to **src/app.py**.")
    child.expect("Your choice: ")
    child.sendline("2")
    child.expect("Edit mode")
    child.expect("User has approved your plan")
    child.expect_exact("Then the edit: ok: Edit")
    child.expect("› ")
    child.sendline("/status")
    child.expect("Mode: edit")
    child.sendeof()
    child.expect(pexpect.EOF)
    child.close()


def test_malformed_questions_are_refused_and_keep_planning_sends_feedback(
    project_dir: Path, repl_env: dict[str, str], tmp_path: Path
) -> None:
    child = _spawn(project_dir, repl_env, tmp_path)
    child.sendline("ask-bad")
    child.expect("AskUserQuestion.questions must be a non-empty list")
    child.expect("› ")
    child.sendline("plan")
    child.expect("Your choice: ")
    child.sendline("3")
    child.expect("Type your feedback for the agent")
    child.sendline("also update the README")
    child.expect("Back to planning; the agent is told")
    child.expect("keep planning and says: also update the README")
    child.sendeof()
    child.expect(pexpect.EOF)
    child.close()


def test_ctrl_c_cancels_the_running_request_and_the_repl_goes_on(
    project_dir: Path, repl_env: dict[str, str], tmp_path: Path
) -> None:
    child = _spawn(project_dir, repl_env, tmp_path)
    child.sendline("slow")
    child.expect("Working on it.")
    child.sendintr()
    child.expect("Cancel")
    child.expect("› ")
    child.sendline("text")
    child.expect("Hello from the fake")
    child.sendeof()
    child.expect("Bye.")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


def test_slash_commands_answer_in_the_terminal(
    project_dir: Path, repl_env: dict[str, str], tmp_path: Path
) -> None:
    child = _spawn(project_dir, repl_env, tmp_path)
    child.sendline("/status")
    child.expect("Mode: default")
    child.expect("› ")
    child.sendline("/help")
    child.expect("/cancel")
    child.sendeof()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return False


@pytest.mark.parametrize(
    ("streamed", "final", "shown_after"),
    [
        pytest.param(["Hello", " world"], "Hello world", "", id="all-streamed"),
        pytest.param(["Starting", "Recovered."], "Recovered.", "", id="retry-streamed-more"),
        pytest.param(
            ["Partial"], "Partial\n\n(Request cancelled.)", "(Request cancelled.)", id="tail"
        ),
        pytest.param(["The answer"], "ℹ️ Fresh start\n\nThe answer", "ℹ️ Fresh start", id="notice"),
        pytest.param([], "⚠️ Claude Code is not logged in", "⚠️ Claude Code", id="nothing-streamed"),
    ],
)
async def test_the_final_reply_adds_only_what_was_not_streamed(
    streamed: list[str], final: str, shown_after: str
) -> None:
    out = _Terminal()
    connector = CliConnector(stdin=io.StringIO(), stdout=out)
    reply = connector.open_reply(LOCAL_CHAT_ID)
    text = ""
    for piece in streamed:
        text += piece
        await reply.update(text)
    before = out.getvalue()
    await reply.finish(final)
    added = out.getvalue()[len(before) :]
    assert added.strip().removesuffix("›").strip().startswith(shown_after)
    assert "".join(streamed) not in added or not streamed


def test_parallel_asks_are_one_list_answered_per_item_and_each_audited(
    project_dir: Path, repl_env: dict[str, str], tmp_path: Path
) -> None:
    """Three Writes asked at once read as one numbered list; '2y' then '1r' + a reason, and
    the last one alone is asked as a single approval."""
    # A window wider than the default, so the three asks are one list on a loaded machine too.
    child = _spawn(project_dir, {**repl_env, "TETHER_APPROVAL_BATCH_SECONDS": "1.5"}, tmp_path)
    child.sendline("parallel")
    child.expect_exact("3 approvals needed at once")
    for number, name in ((1, "a.md"), (2, "b.md"), (3, "c.md")):
        child.expect_exact(f"[{number}] ")
        child.expect_exact(name)
    child.expect_exact("Waiting: 1, 2, 3. [y] approve all / [n] reject all")
    child.sendline("4y")  # no such item: asked again, nothing answered
    child.expect_exact("Please answer y (all), n (all), or per item")
    child.sendline("2y 1r")
    child.expect_exact("[2] ✅ Approved")
    child.expect_exact("[1] Type the reason for the agent")
    child.sendline("keep the notes in one file")
    child.expect_exact("[3] Allow?")
    child.sendline("n")
    child.expect_exact("Parallel: a.md=denied")
    child.expect_exact("keep the notes in one file")
    child.expect_exact("b.md=ran, c.md=denied")
    child.expect("› ")
    child.sendeof()
    child.expect(pexpect.EOF)
    child.close()
    entries = read_audit_log(tmp_path / "audit.jsonl")
    approvals = [e for e in entries if e["event_type"] == "approval"]
    assert sorted(e["approved"] for e in approvals) == [False, False, True]
    writes = [e for e in entries if e["event_type"] == "tool_attempt" and e["tool_name"] == "Write"]
    decided = {Path(e["tool_input"]["file_path"]).name: e["decision"]["allowed"] for e in writes}
    assert decided == {"a.md": False, "b.md": True, "c.md": False}


def test_a_blocked_command_is_one_line_in_the_reply_and_the_request_ends_with_a_summary(
    project_dir: Path, repl_env: dict[str, str], tmp_path: Path
) -> None:
    """The person sees the denial the gate made, even though the agent's text comes after."""
    child = _spawn(project_dir, repl_env, tmp_path)
    child.sendline("danger")
    child.expect_exact("⛔ Bash denied")
    child.expect_exact("I could not clean up.")
    child.expect(r"📋 1 tool call: .*1 blocked")
    child.expect("› ")
    child.sendeof()
    child.expect(pexpect.EOF)
    child.close()
