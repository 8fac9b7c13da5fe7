"""Whole exchanges through the real engine and the real Telegram client, on the fake Bot API.

A message comes in, the reply streams out as edits, the agent's tool call waits
for a button, the press lets it run (or the silence denies it), and the final
reply lands: every part real except the agent (scripted) and Telegram's server.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.agent import Parallel, Say, ScriptedAgent, Step, UseTool
from tether.app import build_engine
from tether.connectors.telegram import DEFAULT_COMMANDS, TelegramConnector
from tether.core.config import TetherConfig
from tether.core.engine import Engine
from tether.core.safety.audit import read_audit_log
from tether.plugins import CommandCall, PluginContext, PluginMeta, SlashCommand, TetherPlugin, hook

from .conftest import FAST_RETRY
from .fake_bot_api import TOKEN, FakeBotApi, StoredMessage

OWNER = 42
STRANGER = 99

Run = Callable[..., Any]


@pytest.fixture
def engine_config(config: TetherConfig) -> TetherConfig:
    return config.model_copy(update={"allowed_user_ids": (OWNER,), "approval_timeout_seconds": 5.0})


@pytest.fixture
async def run(engine_config: TetherConfig, bot_api: FakeBotApi) -> AsyncIterator[Run]:
    """Start an engine with `script` as its agent and Telegram as its connector."""
    engines: list[Engine] = []

    async def start(script: Sequence[Step], **config: Any) -> ScriptedAgent:
        agent = ScriptedAgent(script)
        connector = TelegramConnector(
            TOKEN,
            base_url=bot_api.url,
            throttle_seconds=0.05,
            poll_timeout=1,
            retry=FAST_RETRY,
            typing_interval=0.05,
        )
        engine = build_engine(
            engine_config.model_copy(update=config), agent=agent, connector=connector
        )
        await engine.startup()
        engines.append(engine)
        return agent

    yield start
    for engine in engines:
        await engine.shutdown()


def _write(project_dir: Path) -> UseTool:
    return UseTool("Write", {"file_path": str(project_dir / "notes.md"), "content": "# Notes\n"})


def _approval(bot_api: FakeBotApi) -> StoredMessage | None:
    return next((m for m in bot_api.chat(OWNER) if m.buttons), None)


async def test_message_streamed_reply_approval_press_tool_allowed_final_reply(
    run: Run, bot_api: FakeBotApi, project_dir: Path, engine_config: TetherConfig
) -> None:
    agent = await run(
        [Say("I'll write the notes. "), _write(project_dir), Say("Wrote **notes.md**.")]
    )
    bot_api.push_message("add a notes file", user_id=OWNER, chat_id=OWNER)

    await bot_api.wait_for(lambda: _approval(bot_api) is not None)
    reply, approval = bot_api.chat(OWNER)
    assert reply.visible_text.startswith("I'll write the notes.")
    assert "🔧 Write" in reply.visible_text  # the activity line, while the tool waits
    # The preview: the path relative to the project, and the new file's content.
    assert approval.visible_text.startswith("🔐 Write notes.md")
    assert str(project_dir) not in approval.visible_text
    assert "new file, 1 line" in approval.visible_text and "# Notes" in approval.visible_text
    assert approval.parse_mode == "HTML"

    query_id = bot_api.press(approval.message_id, "✅", user_id=OWNER)
    final = (
        "I'll write the notes. [Write ran]Wrote notes.md.\n\n"
        "📋 1 tool call: 0 commands run · 1 file changed · 1 asked · 0 blocked"
    )
    await bot_api.wait_for(lambda: bot_api.chat(OWNER)[0].visible_text == final)

    assert [(name, d.allowed) for name, d in agent.calls[0].decisions] == [("Write", True)]
    assert "text" not in bot_api.callback_answers[query_id]
    await bot_api.wait_for(lambda: approval.visible_text.endswith("✅ Approved by @ana"))
    assert approval.buttons == []
    # Streamed: sent with the text so far and the activity line, then edited.
    first_send = bot_api.calls_to("sendMessage")[0].params["text"]
    assert first_send.startswith("I'll write the notes.") and "🔧 Write" in first_send
    assert reply.edits >= 1
    assert bot_api.calls_to("sendChatAction")
    approvals = [
        entry
        for entry in read_audit_log(engine_config.audit_log_path)
        if entry["event_type"] == "approval"
    ]
    assert [(entry["approved"], entry["user_id"]) for entry in approvals] == [(True, OWNER)]


async def test_a_press_from_someone_else_is_refused_and_the_owner_still_decides(
    run: Run, bot_api: FakeBotApi, project_dir: Path
) -> None:
    agent = await run([_write(project_dir), Say("Done.")], allowed_user_ids=(OWNER, STRANGER))
    bot_api.push_message("write notes", user_id=OWNER, chat_id=OWNER)
    await bot_api.wait_for(lambda: _approval(bot_api) is not None)
    approval = _approval(bot_api)
    assert approval is not None

    foreign = bot_api.press(approval.message_id, "✅", user_id=STRANGER, username="bob")
    await bot_api.wait_for(lambda: foreign in bot_api.callback_answers)
    assert bot_api.callback_answers[foreign]["text"] == (
        "Only the person who sent the request can answer it."
    )
    assert len(approval.buttons) == 3

    bot_api.press(approval.message_id, "❌", user_id=OWNER)
    await bot_api.wait_for(lambda: "Done." in bot_api.chat(OWNER)[0].visible_text)
    assert [(name, d.allowed) for name, d in agent.calls[0].decisions] == [("Write", False)]
    await bot_api.wait_for(lambda: approval.visible_text.endswith("❌ Rejected by @ana"))


async def test_an_unanswered_approval_expires_denies_the_tool_and_removes_the_buttons(
    run: Run, bot_api: FakeBotApi, project_dir: Path
) -> None:
    agent = await run([_write(project_dir), Say("Could not write.")], approval_timeout_seconds=1.5)
    bot_api.push_message("write notes", user_id=OWNER, chat_id=OWNER)
    await bot_api.wait_for(lambda: _approval(bot_api) is not None)
    approval = _approval(bot_api)
    assert approval is not None
    # The phone still shows the old keyboard until the edit arrives.
    approve_data = approval.buttons[0][0]["callback_data"]
    await bot_api.wait_for(lambda: approval.buttons == [])
    assert "Expired" in approval.visible_text
    await bot_api.wait_for(lambda: "write." in bot_api.chat(OWNER)[0].visible_text)
    assert [(name, d.allowed) for name, d in agent.calls[0].decisions] == [("Write", False)]
    # The denial stays in the final reply, with the summary after it.
    await bot_api.wait_for(lambda: "blocked" in bot_api.chat(OWNER)[0].visible_text)
    final = bot_api.chat(OWNER)[0].visible_text
    assert "⛔ Write denied:" in final and "nobody answered" in final
    assert final.endswith("0 commands run · 0 files changed · 1 asked · 1 blocked")

    late = bot_api.push_callback(approval.message_id, approve_data, user_id=OWNER)
    await bot_api.wait_for(lambda: late in bot_api.callback_answers)
    assert "already settled" in bot_api.callback_answers[late]["text"]


async def test_a_stranger_gets_one_polite_refusal_and_nothing_runs(
    run: Run, bot_api: FakeBotApi, engine_config: TetherConfig
) -> None:
    agent = await run([Say("should not run")])
    bot_api.push_message("hello", user_id=STRANGER, chat_id=STRANGER)
    await bot_api.wait_for(lambda: len(bot_api.chat(STRANGER)) == 1)
    (refusal,) = bot_api.chat(STRANGER)
    assert "Traceback" not in refusal.visible_text
    assert len(refusal.visible_text) < 300
    assert agent.calls == []
    denied = [
        entry
        for entry in read_audit_log(engine_config.audit_log_path)
        if entry["event_type"] == "access_denied"
    ]
    assert len(denied) == 1


async def test_slash_commands_are_answered_in_the_chat(run: Run, bot_api: FakeBotApi) -> None:
    await run([])
    bot_api.push_message("/start", user_id=OWNER, chat_id=OWNER)
    await bot_api.wait_for(lambda: len(bot_api.chat(OWNER)) == 1)
    assert "/status" in bot_api.chat(OWNER)[0].visible_text


async def test_reject_with_a_reason_sends_the_next_message_to_the_agent_as_the_denial(
    run: Run, bot_api: FakeBotApi, project_dir: Path, engine_config: TetherConfig
) -> None:
    agent = await run([_write(project_dir), Say("Understood.")])
    bot_api.push_message("write notes", user_id=OWNER, chat_id=OWNER)
    await bot_api.wait_for(lambda: _approval(bot_api) is not None)
    approval = _approval(bot_api)
    assert approval is not None

    query_id = bot_api.press(approval.message_id, "💬", user_id=OWNER)
    await bot_api.wait_for(lambda: query_id in bot_api.callback_answers)
    assert "next message" in bot_api.callback_answers[query_id]["text"]
    await bot_api.wait_for(lambda: approval.buttons == [])
    assert "send the reason as your next message" in approval.visible_text
    assert agent.calls[0].decisions == [], "the call still waits for the reason"

    bot_api.push_message("put them in docs/ instead", user_id=OWNER, chat_id=OWNER)
    await bot_api.wait_for(lambda: "Understood." in bot_api.chat(OWNER)[0].visible_text)
    ((name, decision),) = agent.calls[0].decisions
    assert (name, decision.allowed) == ("Write", False)
    assert decision.reason is not None
    assert decision.reason.endswith("who says: put them in docs/ instead.")
    await bot_api.wait_for(
        lambda: any(
            m.visible_text.startswith("❌ Rejected; the agent is told") for m in bot_api.chat(OWNER)
        )
    )
    # The request itself no longer asks for a reason: it shows how it ended.
    await bot_api.wait_for(
        lambda: approval.visible_text.endswith(
            "❌ Rejected; the agent is told: “put them in docs/ instead”"
        )
    )
    approvals = [
        entry
        for entry in read_audit_log(engine_config.audit_log_path)
        if entry["event_type"] == "approval"
    ]
    assert [(e["approved"], e.get("note")) for e in approvals] == [
        (False, "put them in docs/ instead")
    ]


async def test_a_long_diff_is_cut_in_the_message_and_sent_whole_as_a_file(
    run: Run, bot_api: FakeBotApi, project_dir: Path
) -> None:
    big = project_dir / "big.py"
    big.write_text("".join(f"value_{n} = {n}\n" for n in range(600)))
    new = "".join(f"value_{n} = {n * 2}\n" for n in range(600))
    await run([UseTool("Write", {"file_path": str(big), "content": new}), Say("Done.")])
    bot_api.push_message("double them", user_id=OWNER, chat_id=OWNER)
    await bot_api.wait_for(lambda: bool(bot_api.documents))
    approval = _approval(bot_api)
    assert approval is not None
    assert "more lines — the full diff is attached as a file" in approval.visible_text
    (document,) = bot_api.documents
    assert document["filename"] == "big.py.diff"
    assert b"+value_599 = 1198" in document["data"]


async def test_approvals_notify_and_streamed_progress_does_not(
    run: Run, bot_api: FakeBotApi, project_dir: Path
) -> None:
    await run([Say("Working on it. "), _write(project_dir), Say("Done.")])
    bot_api.push_message("write notes", user_id=OWNER, chat_id=OWNER)
    await bot_api.wait_for(lambda: _approval(bot_api) is not None)
    streamed, asked = bot_api.calls_to("sendMessage")[:2]
    assert streamed.params.get("disable_notification") in {True, "true"}
    assert asked.params.get("disable_notification") in {None, False, "false"}
    assert asked.params.get("reply_markup")


QUESTIONS = [
    {
        "question": "Which package manager?",
        "header": "Packages",
        "options": [{"label": "uv"}, {"label": "pip"}],
        "multiSelect": False,
    },
    {
        "question": "Which checks?",
        "header": "CI",
        "options": [{"label": "tests"}, {"label": "types"}, {"label": "lint"}],
        "multiSelect": True,
    },
]


def _asked(bot_api: FakeBotApi, start: str) -> StoredMessage | None:
    return next((m for m in bot_api.chat(OWNER) if m.visible_text.startswith(start)), None)


async def test_questions_are_buttons_and_the_answers_go_back_as_updated_input(
    run: Run, bot_api: FakeBotApi, engine_config: TetherConfig
) -> None:
    agent = await run([UseTool("AskUserQuestion", {"questions": QUESTIONS}), Say("Thanks.")])
    bot_api.push_message("set up the project", user_id=OWNER, chat_id=OWNER)
    await bot_api.wait_for(lambda: _asked(bot_api, "❓ The agent asks") is not None)
    asked = _asked(bot_api, "❓ The agent asks")
    assert asked is not None
    labels = [row[0]["text"] for row in asked.buttons]
    assert labels == [
        "1. uv",
        "1. pip",
        "2. tests",
        "2. types",
        "2. lint",
        "☑️ Done with 2",
        "❌ Don't answer",
    ]
    first = bot_api.press(asked.message_id, "1. uv", user_id=OWNER)
    await bot_api.wait_for(lambda: first in bot_api.callback_answers)
    assert bot_api.callback_answers[first]["text"].startswith("Noted (1 of 2 answered)")
    for label in ("2. tests", "2. lint"):
        pressed = bot_api.press(asked.message_id, label, user_id=OWNER)
        await bot_api.wait_for(lambda pressed=pressed: pressed in bot_api.callback_answers)
    assert "Selected: tests, lint" in bot_api.callback_answers[pressed]["text"]
    stranger = bot_api.press(asked.message_id, "☑️", user_id=STRANGER, username="bob")
    await bot_api.wait_for(lambda: stranger in bot_api.callback_answers)
    assert asked.buttons, "a press from someone else changes nothing"
    bot_api.press(asked.message_id, "☑️", user_id=OWNER)
    await bot_api.wait_for(lambda: "Thanks." in bot_api.chat(OWNER)[0].visible_text)

    ((name, decision),) = agent.calls[0].decisions
    assert (name, decision.allowed) == ("AskUserQuestion", True)
    assert decision.updated_input == {
        "questions": QUESTIONS,
        "answers": {"Which package manager?": "uv", "Which checks?": "tests, lint"},
    }
    await bot_api.wait_for(lambda: asked.buttons == [])
    assert "✅ Answered by @ana: uv; tests, lint" in asked.visible_text
    (entry,) = [
        e for e in read_audit_log(engine_config.audit_log_path) if e["event_type"] == "approval"
    ]
    assert entry["answers"] == ["uv", "tests, lint"]


async def test_a_question_answered_in_words_by_a_message(run: Run, bot_api: FakeBotApi) -> None:
    agent = await run([UseTool("AskUserQuestion", {"questions": QUESTIONS[:1]}), Say("Ok.")])
    bot_api.push_message("set up", user_id=OWNER, chat_id=OWNER)
    await bot_api.wait_for(lambda: _asked(bot_api, "❓ The agent asks") is not None)
    bot_api.push_message("poetry, please", user_id=OWNER, chat_id=OWNER)
    await bot_api.wait_for(lambda: "Ok." in bot_api.chat(OWNER)[0].visible_text)
    ((_, decision),) = agent.calls[0].decisions
    assert decision.updated_input is not None
    assert decision.updated_input["answers"] == {"Which package manager?": "poetry, please"}
    asked = _asked(bot_api, "❓ The agent asks")
    assert asked is not None
    await bot_api.wait_for(lambda: asked.buttons == [])
    assert asked.visible_text.endswith("✅ Answered: poetry, please")


async def test_an_unanswered_question_is_refused_at_the_timeout(
    run: Run, bot_api: FakeBotApi
) -> None:
    agent = await run(
        [UseTool("AskUserQuestion", {"questions": QUESTIONS}), Say("No answer.")],
        approval_timeout_seconds=0.3,
    )
    bot_api.push_message("set up", user_id=OWNER, chat_id=OWNER)
    await bot_api.wait_for(lambda: any("No answer." in m.visible_text for m in bot_api.chat(OWNER)))
    ((_, decision),) = agent.calls[0].decisions
    assert not decision.allowed and "nobody answered" in (decision.reason or "")
    asked = _asked(bot_api, "❓ The agent asks")
    assert asked is not None and "Expired" in asked.visible_text


async def test_a_plan_is_shown_as_html_and_keep_planning_sends_feedback(
    run: Run, bot_api: FakeBotApi
) -> None:
    plan = "# Plan\n\n1. Add **greet** to `app.py`\n2. Test it <carefully>"
    agent = await run([UseTool("ExitPlanMode", {"plan": plan}), Say("Replanning.")])
    bot_api.push_message("plan it", user_id=OWNER, chat_id=OWNER)
    await bot_api.wait_for(lambda: _asked(bot_api, "🗺 The agent's plan") is not None)
    shown = _asked(bot_api, "🗺 The agent's plan")
    assert shown is not None and shown.parse_mode == "HTML"
    assert "<b>greet</b>" in shown.text and "&lt;carefully&gt;" in shown.text
    assert [row[0]["text"] for row in shown.buttons] == [
        "✅ Approve plan",
        "✏️ Approve, edit mode",
        "📝 Keep planning",
    ]
    bot_api.press(shown.message_id, "📝", user_id=OWNER)
    await bot_api.wait_for(lambda: shown.buttons == [])
    bot_api.push_message("also update the README", user_id=OWNER, chat_id=OWNER)
    await bot_api.wait_for(lambda: "Replanning." in bot_api.chat(OWNER)[0].visible_text)
    ((_, decision),) = agent.calls[0].decisions
    assert not decision.allowed
    assert (decision.reason or "").endswith("keep planning and says: also update the README.")


async def test_a_long_plan_is_paged(run: Run, bot_api: FakeBotApi) -> None:
    plan = "\n\n".join(f"{n}. " + "step " * 60 for n in range(1, 40))
    await run([UseTool("ExitPlanMode", {"plan": plan}), Say("Done.")])
    bot_api.push_message("plan it", user_id=OWNER, chat_id=OWNER)
    await bot_api.wait_for(lambda: any(m.buttons for m in bot_api.chat(OWNER)))
    pages = [m for m in bot_api.chat(OWNER) if m.visible_text.startswith("🗺 The agent's plan")]
    assert len(pages) >= 3
    assert pages[0].visible_text.startswith("🗺 The agent's plan (1/")
    assert pages[-1].buttons and not pages[0].buttons


async def test_an_approval_telegram_cannot_deliver_is_refused_at_once(
    run: Run, bot_api: FakeBotApi, project_dir: Path
) -> None:
    """Past the retries the call is refused, not left waiting for the timeout."""
    agent = await run([_write(project_dir), Say("Could not ask.")], approval_timeout_seconds=60)
    bot_api.fail("sendMessage", status=502, description="Bad Gateway", times=50)
    bot_api.push_message("write notes", user_id=OWNER, chat_id=OWNER)
    await bot_api.wait_for(lambda: bool(agent.calls and agent.calls[0].decisions), within=10)
    ((_, decision),) = agent.calls[0].decisions
    assert not decision.allowed
    assert decision.approval == "unavailable"


async def test_parallel_asks_are_one_message_with_per_item_and_all_answers(
    run: Run, bot_api: FakeBotApi, project_dir: Path, engine_config: TetherConfig
) -> None:
    writes = tuple(
        UseTool("Write", {"file_path": str(project_dir / f"{name}.md"), "content": name})
        for name in ("a", "b", "c")
    )
    agent = await run([Parallel(writes), Say("Done.")])
    bot_api.push_message("write three notes", user_id=OWNER, chat_id=OWNER)
    # Under load the asks may come apart: the message can show one request before it shows
    # three. Wait for all three; it must still be one message.
    await bot_api.wait_for(
        lambda: (
            (shown := _approval(bot_api)) is not None
            and shown.visible_text.startswith("🔐 3 requests wait for you")
        )
    )
    batch = _approval(bot_api)
    assert batch is not None
    assert batch.visible_text.startswith("🔐 3 requests wait for you")
    for name in ("a.md", "b.md", "c.md"):
        assert name in batch.visible_text
    rows = [[button["text"] for button in row] for row in batch.buttons]
    assert rows[0] == ["✅ Approve all"] and rows[-1] == ["❌ Reject all"]
    assert rows[1:4] == [[f"✅ {n}", f"💬 {n}", f"❌ {n}"] for n in (1, 2, 3)]
    assert len([m for m in bot_api.chat(OWNER) if m.buttons]) == 1, "one message for all"

    # Parallel calls reach the approval in no set order: approve the item that is b.md.
    number = _item_number(batch.visible_text, "b.md")
    bot_api.press(batch.message_id, f"✅ {number}", user_id=OWNER)
    await bot_api.wait_for(
        lambda: [f"✅ {number}", f"💬 {number}", f"❌ {number}"] not in batch_rows(batch)
    )
    assert "→ ✅ Approved by @ana" in batch.visible_text
    stranger = bot_api.press(batch.message_id, "❌ Reject all", user_id=STRANGER, username="bob")
    await bot_api.wait_for(lambda: stranger in bot_api.callback_answers)
    assert bot_api.callback_answers[stranger]["text"], "refused, with the reason"
    assert batch.buttons, "and nothing changed"
    bot_api.press(batch.message_id, "❌ Reject all", user_id=OWNER)
    await bot_api.wait_for(lambda: batch.buttons == [])
    await bot_api.wait_for(lambda: any("Done." in m.visible_text for m in bot_api.chat(OWNER)))

    decided = {d_input: d.allowed for d_input, d in _by_file(agent.calls[0].decisions, writes)}
    assert decided == {"a.md": False, "b.md": True, "c.md": False}
    approvals = [
        e for e in read_audit_log(engine_config.audit_log_path) if e["event_type"] == "approval"
    ]
    assert sorted(e["approved"] for e in approvals) == [False, False, True]


def _item_number(text: str, name: str) -> int:
    """The number of the one item of a batch message whose text names `name`."""
    sections = re.split(r"\n(\d+)\. ", text)
    numbers = [
        int(n) for n, body in zip(sections[1::2], sections[2::2], strict=True) if name in body
    ]
    assert len(numbers) == 1, f"{name} in one item: {text!r}"
    return numbers[0]


def batch_rows(message: StoredMessage) -> list[list[str]]:
    return [[button["text"] for button in row] for row in message.buttons]


def _by_file(
    decisions: list[tuple[str, Any]], writes: tuple[UseTool, ...]
) -> list[tuple[str, Any]]:
    return [
        (Path(tool.input["file_path"]).name, decision)
        for tool, (_, decision) in zip(writes, decisions, strict=True)
    ]


class _MenuPlugin(TetherPlugin):
    meta = PluginMeta(name="deploys", version="1")

    async def initialize(self, context: PluginContext) -> None:
        return None

    @hook
    def commands(self) -> tuple[SlashCommand, ...]:
        async def deploys(call: CommandCall) -> str:
            return "none running"

        return (
            SlashCommand(name="deploys", help="Running deploys", handler=deploys),
            SlashCommand(name="wordy", help="Spread\n   over  lines", handler=deploys),
        )


async def test_the_bot_menu_lists_the_plugins_commands_after_the_built_ins(
    engine_config: TetherConfig, bot_api: FakeBotApi
) -> None:
    connector = TelegramConnector(
        TOKEN, base_url=bot_api.url, poll_timeout=1, retry=FAST_RETRY, typing_interval=None
    )
    engine = build_engine(
        engine_config, agent=ScriptedAgent([]), connector=connector, plugins=[_MenuPlugin()]
    )
    await engine.startup()
    try:
        names = [command["command"] for command in bot_api.commands]
        assert names[:8] == [name for name, _ in DEFAULT_COMMANDS]
        assert names[8:] == ["deploys", "wordy"]
        assert bot_api.commands[8]["description"] == "Running deploys"
        assert bot_api.commands[9]["description"] == "Spread over lines"
        bot_api.push_message("/deploys", user_id=OWNER, chat_id=OWNER)
        await bot_api.wait_for(
            lambda: any("none running" in m.visible_text for m in bot_api.chat(OWNER))
        )
    finally:
        await engine.shutdown()
