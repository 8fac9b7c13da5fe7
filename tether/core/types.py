"""The values the seams share: the bottom of Tether's imports.

Agents, connectors, stores, the gate and the engine pass these between each
other. They live here, below every component, so that a seam (`agents/base.py`,
`storage/base.py`, `connectors/base.py`) imports only this module and never
the component on the other side of it: importing the agent seam must not load
the gatekeeper and the shell parser, and no two seams import each other.
This module imports nothing from Tether; the old homes (`tether.core.session`,
`tether.agents.base`, `tether.core.safety.gatekeeper`,
`tether.core.safety.preview`) still re-export each name.

Chat platforms disagree on identifier types (Telegram uses integers, a terminal
has one local chat), so ids are accepted as either and compared as given.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal
from uuid import uuid4

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "AgentResponse",
    "ApprovalPreview",
    "ChatId",
    "GateDecision",
    "MessageRecord",
    "PreviewKind",
    "PreviewPart",
    "Session",
    "SessionMode",
    "ToolActivity",
    "UserId",
]

UserId = int | str
ChatId = int | str


def _now() -> datetime:
    return datetime.now(UTC)


def _new_id() -> str:
    return uuid4().hex


# -- sessions ------------------------------------------------------------------------------


class SessionMode(StrEnum):
    """How the agent works in a session: `/plan` asks it to plan only, `/edit` lets it edit."""

    DEFAULT = "default"
    PLAN = "plan"
    EDIT = "edit"


class Session(BaseModel):
    """One conversation, keyed by user and chat. Changed with `model_copy(update=...)`.

    `claude_session_id` is the agent's own conversation id, kept so the next
    message (or the next run of Tether) resumes the conversation. `archived_at`
    is set once the session is no longer its chat's current one (`/clear`).
    """

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
    archived_at: datetime | None = None

    @property
    def archived(self) -> bool:
        """True once the session was replaced (`/clear`) or archived."""
        return self.archived_at is not None


class MessageRecord(BaseModel):
    """One exchange in a session's history: the prompt, the reply and what it cost."""

    model_config = ConfigDict(frozen=True)

    session_id: str
    prompt: str
    reply: str
    cost: float = Field(default=0.0, ge=0)
    duration_ms: int = Field(default=0, ge=0)
    tools_used: tuple[str, ...] = ()
    is_error: bool = False
    timestamp: datetime = Field(default_factory=_now)


# -- what an agent reports -----------------------------------------------------------------


class ToolActivity(BaseModel):
    """A tool the agent is using, for a live activity line (`🔧 Bash: pytest -q`)."""

    model_config = ConfigDict(frozen=True)

    tool_name: str
    summary: str
    tool_use_id: str | None = None
    parent_tool_use_id: str | None = None
    """Set when a sub-agent makes the call: the id of the tool call that started it."""


class AgentResponse(BaseModel):
    """What one `execute` produced."""

    model_config = ConfigDict(frozen=True)

    content: str
    session_id: str | None = None
    """The agent's own conversation id (Claude's session id), kept for resume."""
    cost: float = 0.0
    """What the request cost in US dollars, as the agent reports it (0.0 when it does not)."""
    duration_ms: int = 0
    num_turns: int = 0
    tools_used: tuple[str, ...] = ()
    """Tools the gate allowed during this request, in the order first used."""
    is_error: bool = False
    cancelled: bool = False
    """True when `cancel` stopped the request; `content` holds what came before."""
    notice: str | None = None
    """Something the person should know besides the reply ("started a fresh conversation")."""


# -- what the gate decides and what an approval shows --------------------------------------


class GateDecision(BaseModel):
    """The gate's verdict on one tool call.

    `allowed` is final; `reason` says why (shown to the model on a deny);
    `updated_input` replaces the tool input when the gate rewrote it.
    """

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    allowed: bool
    reason: str | None = None
    updated_input: dict[str, Any] | None = None
    classification: Any = None
    decision: str | None = None
    """What the pipeline decided before any person: allow, deny or require_approval."""
    layer: str | None = None
    """input, sandbox, policy (or approval when a person or auto-approval decided)."""
    rule: str | None = None
    risk_level: str | None = None
    risk_facts: tuple[str, ...] = ()
    violation_type: str | None = None
    """For a deny: invalid_input, sandbox, policy, approval or error."""
    approval: str | None = None
    """How an approval ended: approved, rejected, timeout, cancelled, unavailable, auto."""
    approval_id: str | None = None
    next_mode: str | None = None
    """For an approved plan (ExitPlanMode): the mode the person chose (default, edit)."""

    learned_rules: tuple[str, ...] = ()
    """The ids of the learned rules that approved the call."""


PreviewKind = Literal["diff", "new_file", "command", "url", "input", "note"]


class PreviewPart(BaseModel):
    """One simple command of a shell call and the facts that made it ask."""

    model_config = ConfigDict(frozen=True)

    text: str
    facts: tuple[str, ...] = ()


class ApprovalPreview(BaseModel):
    """What an approval shows: the call, its change or command, and why it asks.

    `kind` says how to read `body`: a unified diff (`diff`), a new file's first
    lines (`new_file`), a shell command (`command`), a URL (`url`), the input
    as compact JSON (`input`), or nothing (`note`: only `note` is shown).
    """

    model_config = ConfigDict(frozen=True)

    tool_name: str
    kind: PreviewKind
    subject: str = ""
    """The path relative to the project, the command's first line, or the URL."""
    body: str = ""
    parts: tuple[PreviewPart, ...] = ()
    note: str = ""
    """One line about the body: a new file's size, or why there is no diff."""
    reason: str = ""
    rule: str | None = None
    risk_level: str = "none"
    facts: tuple[str, ...] = ()
