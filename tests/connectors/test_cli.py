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
    child.expect(r"Allow\? \[y\]es / \[n\]o / \[a\]lways \(then choose what\): ")
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
