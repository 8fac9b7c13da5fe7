"""Slash commands need only their `CommandServices`: each runs here on an in-memory stand-in."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tether.core.commands import CommandContext, SlashCommands
from tether.core.services import CommandServices
from tether.core.types import ChatId, Session, SessionMode, UserId
from tether.middleware.base import MessageContext


@dataclass(frozen=True)
class _Rule:
    id: str
    label: str
    lifetime: str = "chat"
    uses: int = 0
    granted_by: str = "ana"
    granted_at: str = "2026-12-03T10:00:00Z"


@dataclass(frozen=True)
class _Plugin:
    name: str
    version: str = "1.0"
    source: str = "code"
    state: str = "started"
    error: str | None = None
    hooks: tuple[str, ...] = ()
    calls: int = 0
    errors: int = 0
    timeouts: int = 0


@dataclass
class _Services:
    """Every `CommandServices` member, over plain values; records what was asked."""

    busy: bool = False
    rules: list[_Rule] = field(default_factory=list)
    mode: SessionMode = SessionMode.DEFAULT
    asked: list[str] = field(default_factory=list)

    audit_log_path: Path = Path("/var/log/tether/audit.jsonl")
    learned_rules_path: Path | None = None

    async def session(self, user_id: UserId, chat_id: ChatId) -> Session:
        return Session(
            user_id=user_id, chat_id=chat_id, working_directory=Path("/p"), mode=self.mode
        )

    async def reset_session(self, user_id: UserId, chat_id: ChatId) -> Session:
        self.asked.append("reset")
        return await self.session(user_id, chat_id)

    async def set_mode(self, user_id: UserId, chat_id: ChatId, mode: SessionMode) -> Session:
        self.asked.append(f"mode {mode.value}")
        self.mode = mode
        return await self.session(user_id, chat_id)

    def is_busy(self, chat_id: ChatId) -> bool:
        return self.busy

    async def cancel(self, chat_id: ChatId) -> bool:
        self.asked.append("cancel")
        return self.busy

    def learned_rules(self, chat_id: ChatId) -> Sequence[_Rule]:
        return self.rules

    async def revoke_rules(
        self, rule_ids: tuple[str, ...], *, user_id: UserId, chat_id: ChatId
    ) -> Sequence[_Rule]:
        self.asked.append("revoke " + " ".join(rule_ids))
        return [rule for rule in self.rules if rule.id in rule_ids]

    def forget_chat_rules(self, chat_id: ChatId) -> int:
        self.asked.append("forget")
        return 2

    def plugins(self) -> Sequence[_Plugin]:
        return [
            _Plugin("audit", source="built-in"),
            _Plugin("budget", hooks=("gate", "commands"), calls=3, errors=1),
            _Plugin("metrics", state="failed", error="x"),
        ]


async def _run(services: _Services, text: str) -> str:
    name, *args = text.removeprefix("/").split()
    message = MessageContext(user_id=1, chat_id=1, text=text, kind="command")
    return await SlashCommands().run(
        name, CommandContext(services=services, message=message, args=tuple(args))
    )


def test_the_stand_in_is_a_command_services() -> None:
    assert isinstance(_Services(), CommandServices)


async def test_clear_stops_the_running_request_then_starts_over() -> None:
    services = _Services(busy=True)
    reply = await _run(services, "/clear")
    assert services.asked == ["cancel", "reset", "forget"]
    assert "2 rule(s)" in reply


@pytest.mark.parametrize(
    ("command", "start", "end"),
    [
        pytest.param("/plan", SessionMode.DEFAULT, SessionMode.PLAN, id="plan-on"),
        pytest.param("/plan", SessionMode.PLAN, SessionMode.DEFAULT, id="plan-off"),
        pytest.param("/edit", SessionMode.PLAN, SessionMode.EDIT, id="plan-to-edit"),
    ],
)
async def test_mode_commands_switch_through_the_services(
    command: str, start: SessionMode, end: SessionMode
) -> None:
    services = _Services(mode=start)
    await _run(services, command)
    assert services.asked == [f"mode {end.value}"]


async def test_rules_lists_and_revokes_by_number() -> None:
    services = _Services(rules=[_Rule("r1", "Bash: pytest"), _Rule("r2", "Read: src/**")])
    listed = await _run(services, "/rules")
    assert "1. Bash: pytest — chat, used 0×" in listed
    assert await _run(services, "/rules revoke 2") == "🗑 Revoked 1 learned rule(s)."
    assert services.asked == ["revoke r2"]


async def test_status_and_plugins_read_only_the_services() -> None:
    services = _Services()
    status = await _run(services, "/status")
    assert "Audit log: /var/log/tether/audit.jsonl" in status
    assert "Learned-rules file: none (chat only)" in status
    plugins = await _run(services, "/plugins")
    assert "• budget 1.0 (code, started) hooks: gate, commands; calls 3, errors 1" in plugins
    assert "• metrics 1.0 (code, failed) calls 0, errors 0, timeouts 0 — x" in plugins
    assert services.asked == []
