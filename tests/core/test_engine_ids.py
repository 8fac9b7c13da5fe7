"""The engine lets a listed user in however the id is typed, and keeps the id as given."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.agent import Say, ScriptedAgent
from tether.app import build_engine
from tether.core.config import TetherConfig, load_config
from tether.core.engine import Engine
from tether.core.events import MESSAGE_IN, Event
from tether.core.safety.audit import read_audit_log

CHAT = 5000


@pytest.fixture
async def engine(
    monkeypatch: pytest.MonkeyPatch, project_dir: Path, tmp_path: Path
) -> AsyncIterator[Engine]:
    # The allow-list comes from the environment, as an operator writes it.
    monkeypatch.setenv("TETHER_ALLOWED_USER_IDS", "1001,1002,1003")
    monkeypatch.setenv("TETHER_APPROVED_DIRECTORY", str(project_dir))
    monkeypatch.setenv("TETHER_AUDIT_LOG_PATH", str(tmp_path / "audit.jsonl"))
    config: TetherConfig = load_config()
    built = build_engine(config, agent=ScriptedAgent([Say("hello")]))
    await built.startup()
    yield built
    await built.shutdown()


@pytest.mark.parametrize("user_id", [pytest.param(1003, id="int"), pytest.param("1003", id="text")])
async def test_a_listed_user_is_served_as_int_or_text(engine: Engine, user_id: Any) -> None:
    seen: list[Event] = []

    async def record(event: Event) -> None:
        seen.append(event)

    engine.event_bus.subscribe(MESSAGE_IN, record)
    assert await engine.handle_message(user_id, "hi", CHAT) == "hello"
    # The event keeps the id exactly as the caller gave it.
    assert seen[0].data["user_id"] == user_id
    assert type(seen[0].data["user_id"]) is type(user_id)


@pytest.mark.parametrize(
    "user_id",
    [
        pytest.param("+1003", id="plus"),
        pytest.param("01003", id="leading-zero"),
        pytest.param("1003.0", id="float-text"),
        pytest.param(" 1003", id="space"),
        pytest.param(True, id="bool"),
        pytest.param("10031", id="longer"),
    ],
)
async def test_another_spelling_is_refused_and_audited_as_given(
    engine: Engine, user_id: Any
) -> None:
    reply = await engine.handle_message(user_id, "hi", CHAT)
    assert "TETHER_ALLOWED_USER_IDS" in reply
    denied = [
        e
        for e in read_audit_log(engine.config.audit_log_path)
        if e["event_type"] == "access_denied"
    ]
    assert denied[-1]["user_id"] == user_id
