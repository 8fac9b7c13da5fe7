"""The payload of each core event, as a frozen model: the one place its keys are documented.

`event.data` stays a plain dict (reading it is free, and every existing
handler reads it); `payload_of(event)` validates it into the event's model
when a handler wants types. Nothing is validated on emit: the emit path stays
as fast as it was, and a test drives every emitter through real flows and
checks each event it captures against its model (keys missing or extra fail).

docs/events.md's payload table is `payload_table()`'s output, checked by a test.
"""

from __future__ import annotations

from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from tether.core.events import (
    APPROVAL_REQUESTED,
    APPROVAL_RESOLVED,
    ENGINE_STARTED,
    ENGINE_STOPPED,
    MESSAGE_IN,
    MESSAGE_OUT,
    SAFETY_VIOLATION,
    TOOL_ALLOWED,
    TOOL_DENIED,
    TOOL_GATED,
    Event,
)
from tether.core.types import ChatId, UserId

__all__ = [
    "PAYLOAD_MODELS",
    "ApprovalRequested",
    "ApprovalResolved",
    "EnginePayload",
    "EventPayload",
    "MessageIn",
    "MessageOut",
    "SafetyViolation",
    "ToolAllowed",
    "ToolDenied",
    "ToolGated",
    "payload_of",
    "payload_table",
]


class EventPayload(BaseModel):
    """Base of every payload model: frozen, strict, and no key it does not name."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


# -- the fields several events share -----------------------------------------------------

_USER = Field(description="who sent the message, as the connector knows them")
_CHAT = Field(description="the chat, as the connector knows it")
_SESSION = Field(description="the Tether session of that user and chat")
_TOOL = Field(description="the agent's tool name as Claude Code gives it (`Bash`, `Read`, …)")
_INPUT = Field(description="the tool's input as the agent sent it (normally a dict; untrusted)")
_RULE = Field(description="the policy rule that decided, if one did")
_LAYER = Field(description="the layer that decided (`sandbox`, `policy`, `approval`, …)")
_RISK = Field(description="the risk the analyser saw (`low`, `medium`, `high`, …), if known")


class MessageIn(EventPayload):
    """`message.in`: a message arrived, before anything else looked at it."""

    user_id: UserId = _USER
    chat_id: ChatId = _CHAT
    text: str = Field(description="the message as typed")


class MessageOut(EventPayload):
    """`message.out`: the reply is ready, before it is sent."""

    user_id: UserId = _USER
    chat_id: ChatId = _CHAT
    text: str = Field(description="the reply")
    cost: float | None = Field(
        description="what the request cost in US dollars, as the agent reported it; "
        "None for a command, a refusal, or a request that ended without a report"
    )


class ToolGated(EventPayload):
    """`tool.gated`: a tool call entered the gate."""

    session_id: str = _SESSION
    chat_id: ChatId = _CHAT
    tool_name: str = _TOOL
    tool_input: Any = _INPUT


class ToolAllowed(EventPayload):
    """`tool.allowed`: the call may run."""

    session_id: str = _SESSION
    chat_id: ChatId = _CHAT
    tool_name: str = _TOOL
    tool_input: Any = _INPUT
    rule: str | None = _RULE
    layer: str | None = _LAYER
    risk_level: str | None = _RISK
    approval: str | None = Field(
        description="how a person was involved: `approved`, `auto` (Always), or None (not asked)"
    )


class ToolDenied(EventPayload):
    """`tool.denied`: the call is refused."""

    session_id: str = _SESSION
    chat_id: ChatId = _CHAT
    tool_name: str = _TOOL
    rule: str | None = _RULE
    layer: str | None = _LAYER
    risk_level: str | None = _RISK
    reason: str | None = Field(description="one line a person can read, as the agent is told")
    violation_type: str = Field(
        description=(
            "which layer refused: `sandbox`, `policy`, `plan_mode`, `approval`, "
            "`plugin`, `invalid_input` or `error`"
        )
    )


class SafetyViolation(ToolDenied):
    """`safety.violation`: the sandbox refused a call; the keys of its `tool.denied`."""


class ApprovalRequested(EventPayload):
    """`approval.requested`: a person is asked to approve a call."""

    approval_id: str = Field(description="the request's id, as its buttons carry it")
    session_id: str = _SESSION
    chat_id: ChatId = _CHAT
    tool_name: str = _TOOL
    description: str = Field(description="what the person is shown")


class ApprovalResolved(EventPayload):
    """`approval.resolved`: the request was answered, timed out or was cancelled."""

    approval_id: str = Field(description="the request's id")
    session_id: str = _SESSION
    chat_id: ChatId = _CHAT
    tool_name: str = _TOOL
    approved: bool = Field(description="whether the call may run")
    outcome: Literal["approved", "rejected", "timeout", "cancelled", "unavailable"] = Field(
        description="how it ended"
    )
    user_id: UserId | None = Field(description="who answered; None when nobody did")
    reason: str = Field(description="why, in one line")


class EnginePayload(EventPayload):
    """`engine.started`, `engine.stopped`: no keys."""


PAYLOAD_MODELS: dict[str, type[EventPayload]] = {
    MESSAGE_IN: MessageIn,
    MESSAGE_OUT: MessageOut,
    TOOL_GATED: ToolGated,
    TOOL_ALLOWED: ToolAllowed,
    TOOL_DENIED: ToolDenied,
    SAFETY_VIOLATION: SafetyViolation,
    APPROVAL_REQUESTED: ApprovalRequested,
    APPROVAL_RESOLVED: ApprovalResolved,
    ENGINE_STARTED: EnginePayload,
    ENGINE_STOPPED: EnginePayload,
}
"""The payload model of every core event, by event name."""

_P = TypeVar("_P", bound=EventPayload)


def payload_of(event: Event, model: type[_P] | None = None) -> Any:
    """`event.data` validated into its event's payload model (a new frozen object).

    `payload_of(event, ToolDenied)` is typed as a `ToolDenied` for the type
    checker; the model must be the one of `event.name`.

    Raises:
        ValueError: the event is not a core event, `model` is not its model,
            or its data does not fit the model (a `pydantic.ValidationError`).
    """
    expected = PAYLOAD_MODELS.get(event.name)
    if expected is None:
        raise ValueError(f"{event.name!r} is not a core event: it has no payload model")
    if model is not None and model is not expected:
        raise ValueError(
            f"the payload of {event.name!r} is a {expected.__name__}, not a {model.__name__}"
        )
    return expected.model_validate(event.data)


def _type_name(annotation: Any) -> str:
    text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", None)
    # A "|" would end the Markdown cell.
    return str(text if text is not None else annotation).replace("typing.", "").replace("|", "or")


def payload_table() -> str:
    """The Markdown table of every core event's payload, as docs/events.md shows it."""
    lines = ["| event | model | key | type | meaning |", "|---|---|---|---|---|"]
    for name, model in PAYLOAD_MODELS.items():
        if not model.model_fields:
            lines.append(f"| `{name}` | `{model.__name__}` | — | | no keys |")
        for key, field in model.model_fields.items():
            kind = _type_name(field.annotation)
            lines.append(
                f"| `{name}` | `{model.__name__}` | `{key}` | `{kind}` | {field.description} |"
            )
    return "\n".join(lines)
