"""Session: one conversation between a user and the agent, in one chat."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from uuid import uuid4

from pydantic import BaseModel, ConfigDict, Field

from tether.core.types import ChatId, UserId

__all__ = ["Session", "SessionMode"]


def _now() -> datetime:
    return datetime.now(UTC)


def _new_id() -> str:
    return uuid4().hex


class SessionMode(StrEnum):
    """How the agent works in a session: `/plan` asks it to plan only, `/edit` lets it edit."""

    DEFAULT = "default"
    PLAN = "plan"
    EDIT = "edit"


class Session(BaseModel):
    """One conversation, keyed by user and chat. Changed with `model_copy(update=...)`."""

    model_config = ConfigDict(frozen=True)

    session_id: str = Field(default_factory=_new_id)
    user_id: UserId
    chat_id: ChatId
    working_directory: Path
    claude_session_id: str | None = None
    mode: SessionMode = SessionMode.DEFAULT
    total_cost: float = 0.0
    message_count: int = 0
    created_at: datetime = Field(default_factory=_now)
    updated_at: datetime = Field(default_factory=_now)
