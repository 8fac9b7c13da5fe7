"""Several connectors on one engine: the terminal or a chat platform, and the web page.

Approvals of the local owner (terminal and browser) show on both and the first
answer wins; a chat platform's approvals stay in that chat; chat ids never cross.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from tests.connectors.web.support import scenarios
from tests.fakes.agent import ScriptedAgent
from tests.fakes.connector import RecordingConnector
from tether.app import build_engine
from tether.connectors.base import ApprovalAnswer, ApprovalChoice, IncomingMessage
from tether.connectors.cli import CliConnector
from tether.connectors.group import ConnectorGroup
from tether.connectors.web import WebConnector, WebSettings
from tether.connectors.web.api import ApprovalBody
from tether.core.config import TetherConfig
from tether.core.engine import Engine
from tether.exceptions import ConnectorError


async def _until(predicate: Callable[[], object]) -> None:
    """Wait until `predicate` holds: the state lives in several connectors, no one event says so."""
    async with asyncio.timeout(5.0):
        while not predicate():  # noqa: ASYNC110 - polling state kept by several objects
            await asyncio.sleep(0.01)


@pytest.fixture
def web(tmp_path: Path) -> WebConnector:
    return WebConnector(WebSettings(port=0, state_dir=tmp_path / "state"))


@pytest.fixture
def terminal() -> CliConnector:
    return CliConnector(stdin=io.StringIO(), stdout=io.StringIO())


def _output(terminal: CliConnector) -> str:
    stdout = terminal._stdout
    assert isinstance(stdout, io.StringIO)
    return stdout.getvalue()


@pytest.fixture
async def desk(
    config: TetherConfig, project_dir: Path, terminal: CliConnector, web: WebConnector
) -> AsyncIterator[tuple[Engine, ScriptedAgent]]:
    agent = scenarios(project_dir)
    group = ConnectorGroup([terminal, web], local=("cli", "web"))
    engine = build_engine(config, agent=agent, connector=group)
    async with engine:
        yield engine, agent


async def test_a_browser_request_asks_in_the_terminal_too_and_the_page_answer_wins(
    desk: tuple[Engine, ScriptedAgent], terminal: CliConnector, web: WebConnector
) -> None:
    _, agent = desk
    await web.submit("main", "write the notes")
    await _until(lambda: web.hub.snapshot("web:main")["approvals"])
    approval = web.hub.snapshot("web:main")["approvals"][0]
    await _until(lambda: "Approval needed" in _output(terminal))
    assert {"kind": "code", "text": "shopping list: milk, eggs, tea"} in approval["blocks"]

    status, outcome = await web.answer(
        ApprovalBody(approval_id=approval["approval_id"], choice="approve")
    )
    assert (status, outcome) == (200, "✅ Approved by you")
    await _until(lambda: agent.calls and agent.calls[0].decisions)
    assert agent.calls[0].decisions[0][1].allowed
    # The terminal no longer waits for a y/n: the request is settled there too.
    assert "✅ Approved by you" in _output(terminal)
    assert terminal.pending_approvals == ()


async def test_a_terminal_answer_settles_the_page(
    desk: tuple[Engine, ScriptedAgent], terminal: CliConnector, web: WebConnector
) -> None:
    _, agent = desk
    await web.submit("phone", "deploy now")
    await _until(lambda: terminal.pending_approvals)
    await terminal._dispatch("n")
    await _until(lambda: agent.calls and agent.calls[0].decisions)
    assert not agent.calls[0].decisions[0][1].allowed
    approval = web.hub.snapshot("web:phone")["approvals"][0]
    assert approval["state"] == "settled"
    assert approval["outcome"].startswith("❌")
    status, _ = await web.answer(
        ApprovalBody(approval_id=approval["approval_id"], choice="approve")
    )
    assert status == 409  # the second answer changes nothing


async def test_always_from_the_terminal_applies_to_the_browser_chat(
    desk: tuple[Engine, ScriptedAgent], terminal: CliConnector, web: WebConnector
) -> None:
    engine, _ = desk
    await web.submit("main", "deploy it")
    await _until(lambda: terminal.pending_approvals)
    await terminal._dispatch("a")
    await _until(lambda: terminal._scope_offer is not None)
    await terminal._dispatch("1")  # the narrowest scope, for this chat
    await _until(lambda: not engine.is_busy("web:main"))
    learned = engine.gatekeeper.learned
    assert [rule.chat_id for rule in learned.rules("web:main")] == ["web:main"]
    assert learned.rules("local") == ()


async def test_chat_platform_approvals_stay_in_their_chat(
    config: TetherConfig, project_dir: Path, web: WebConnector
) -> None:
    platform = RecordingConnector()
    group = ConnectorGroup([platform, web], local=("cli", "web"))
    allowing = config.model_copy(update={"allowed_user_ids": (42,)})
    engine = build_engine(allowing, agent=scenarios(project_dir), connector=group)
    async with engine:
        assert platform.on_message is not None
        task = asyncio.create_task(
            platform.on_message(IncomingMessage(user_id=42, chat_id="123", text="deploy"))
        )
        request = await platform.next_approval()
        assert request.chat_id == "123"
        assert web.hub.snapshot("web:main")["approvals"] == []
        status, _ = await web.answer(
            ApprovalBody(approval_id=request.approval_id, choice="approve")
        )
        assert status == 404  # the page cannot answer what it was never shown
        await engine.cancel("123")
        await task


@pytest.mark.parametrize(
    ("chat_id", "local"),
    [
        pytest.param("local", True, id="terminal-chat"),
        pytest.param("123", False, id="platform-chat"),
        pytest.param("cli:local", True, id="other-prefix"),
    ],
)
async def test_a_member_may_speak_only_in_its_own_chats(
    config: TetherConfig, project_dir: Path, web: WebConnector, chat_id: str, local: bool
) -> None:
    platform = RecordingConnector()
    group = ConnectorGroup([platform, web], local=("web",))
    engine = build_engine(config, agent=ScriptedAgent(), connector=group)
    async with engine:
        handler = web._on_message
        assert handler is not None
        with pytest.raises(ConnectorError, match="delivered a message"):
            await handler(IncomingMessage(user_id="local", chat_id=chat_id, text="hi", local=local))


async def test_a_remote_member_may_not_claim_to_be_local(
    config: TetherConfig, web: WebConnector
) -> None:
    platform = RecordingConnector()
    group = ConnectorGroup([platform, web], local=("web",))
    engine = build_engine(config, agent=ScriptedAgent(), connector=group)
    async with engine:
        assert platform.on_message is not None and platform.on_approval is not None
        with pytest.raises(ConnectorError, match="local owner"):
            await platform.on_message(
                IncomingMessage(user_id="local", chat_id="1", text="hi", local=True)
            )
        with pytest.raises(ConnectorError, match="local owner"):
            await platform.on_approval(
                ApprovalAnswer(
                    approval_id="x",
                    choice=ApprovalChoice.APPROVE,
                    user_id="local",
                    chat_id="1",
                    local=True,
                )
            )


def test_a_group_needs_distinct_members(web: WebConnector) -> None:
    with pytest.raises(ValueError, match="differ"):
        ConnectorGroup([web, web])
    with pytest.raises(ValueError, match="at least one"):
        ConnectorGroup([])


async def test_a_failed_start_stops_the_members_already_started(
    config: TetherConfig, tmp_path: Path
) -> None:
    platform = RecordingConnector()
    blocker = tmp_path / "file"
    blocker.write_text("x")
    broken = WebConnector(WebSettings(port=0, state_dir=blocker / "state"))
    group = ConnectorGroup([platform, broken])
    with pytest.raises(Exception, match="TETHER_WEB_STATE_DIR"):
        await group.start()
    assert platform.started and platform.stopped


async def test_a_terminal_request_can_be_approved_from_the_page(
    desk: tuple[Engine, ScriptedAgent], terminal: CliConnector, web: WebConnector
) -> None:
    _, agent = desk
    await terminal._dispatch("write from the desk")
    await _until(lambda: web.hub.snapshot("web:main")["approvals"])
    approval = web.hub.snapshot("web:main")["approvals"][0]
    assert approval["chat"] == "local"
    status, outcome = await web.answer(
        ApprovalBody(approval_id=approval["approval_id"], choice="approve")
    )
    assert status == 200
    await _until(lambda: agent.calls and agent.calls[0].decisions)
    assert agent.calls[0].decisions[0][1].allowed
    assert terminal.pending_approvals == ()
    assert outcome in _output(terminal)


async def test_an_approval_nobody_answers_expires_everywhere(
    config: TetherConfig, project_dir: Path, terminal: CliConnector, web: WebConnector
) -> None:
    quick = config.model_copy(update={"approval_timeout_seconds": 0.3})
    group = ConnectorGroup([terminal, web], local=("cli", "web"))
    agent = scenarios(project_dir)
    async with build_engine(quick, agent=agent, connector=group):
        await web.submit("main", "deploy now")
        await _until(lambda: agent.calls and agent.calls[0].decisions)
        assert not agent.calls[0].decisions[0][1].allowed
        approval = web.hub.snapshot("web:main")["approvals"][0]
        assert approval["state"] == "settled"
        assert approval["outcome"].startswith("⌛")
        assert "⌛" in _output(terminal)
        assert terminal.pending_approvals == ()
        status, _ = await web.answer(
            ApprovalBody(approval_id=approval["approval_id"], choice="approve")
        )
        assert status == 409


class _Asker(RecordingConnector):
    """A member that can also show the agent's questions (as the terminal and Telegram do)."""

    name = "cli"

    def __init__(self) -> None:
        super().__init__()
        self.prompts: list[tuple[str, str, object]] = []
        self.closed: list[tuple[str, str]] = []

    async def request_prompt(self, chat_id: str, approval_id: str, prompt: object) -> str:
        self.prompts.append((chat_id, approval_id, prompt))
        return f"prompt-{approval_id}"

    async def close_approval(self, chat_id: str, message_id: str, outcome: str) -> None:
        self.closed.append((message_id, outcome))


async def test_questions_go_to_the_members_that_can_show_them(web: WebConnector) -> None:
    asker = _Asker()
    group = ConnectorGroup([asker, web], local=("cli", "web"))
    prompt = object()
    assert await group.request_prompt("web:main", "q1", prompt) == "q1"
    assert asker.prompts == [("web:main", "q1", prompt)]
    await group.close_approval("web:main", "q1", "⌛ Expired")
    assert asker.closed == [("prompt-q1", "⌛ Expired")]  # the member's own message id


async def test_a_question_nobody_can_show_is_refused(web: WebConnector) -> None:
    group = ConnectorGroup([RecordingConnector(), web], local=("web",))
    with pytest.raises(ConnectorError, match="no connector could show"):
        await group.request_prompt("web:main", "q1", object())


def test_the_group_hands_the_command_menu_to_every_member_that_shows_one(
    web: WebConnector,
) -> None:
    terminal = CliConnector(stdin=io.StringIO(), stdout=io.StringIO())
    group = ConnectorGroup([terminal, web], local=("cli", "web"))
    menu = [("status", "Mode and cost"), ("deploys", "Running deploys")]
    group.set_command_menu(menu)
    assert web.commands == tuple(menu)  # what the page's /api/state lists
