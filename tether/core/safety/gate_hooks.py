"""What a gate hook sees and may answer: a call the policy would allow or ask about.

A gate hook (a plugin's `gate`) can only tighten: `Tighten("ask", reason)`
turns an allow into a question for a person, `Tighten("deny", reason)` refuses
the call; anything else it returns leaves the decision as it was. The hooks
run after the policy and before learned rules, the chat's mode and the
person: an ask a hook adds goes to a person (a learned rule or edit mode does
not answer it), and a deny is final. A call the policy denies is not shown to
the hooks: there is nothing left to tighten.

`GateReviewer` is the seam the gatekeeper calls; `tether/plugins/gate.py`
implements it over the plugins' hooks (bounded, contained, fail closed).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from tether.core.types import ChatId, UserId

__all__ = ["GateCall", "GateReview", "GateReviewer", "Tighten"]


@dataclass(frozen=True, slots=True)
class GateCall:
    """One tool call as a gate hook sees it, with what the policy decided so far.

    A frozen dataclass rather than a model: one is made for every gated call,
    and a pydantic construction cost a tenth of the gate's time.
    """

    tool_name: str
    tool_input: Any
    """A copy of the agent's input: changing it changes neither the call nor its record."""
    session_id: str
    chat_id: ChatId
    user_id: UserId | None
    decision: Literal["allow", "ask"]
    """What the layers below decided: `allow`, or `ask` (a person would be asked)."""
    reason: str
    risk_facts: tuple[str, ...] = ()
    request_cost: float | None = None
    """What the running request has cost so far, as the agent reported it (None: not known
    until the request ends, which is the case for Claude Code today)."""


class Tighten(BaseModel):
    """A gate hook's answer: ask a person, or deny, with the reason shown to them."""

    model_config = ConfigDict(frozen=True)

    action: Literal["ask", "deny"]
    reason: str = Field(min_length=1, max_length=500)


class GateReview(BaseModel):
    """The strictest answer of the gate hooks, and which plugin gave it."""

    model_config = ConfigDict(frozen=True)

    action: Literal["ask", "deny"]
    reason: str
    plugin: str


class GateReviewer(Protocol):
    """Runs the plugins' gate hooks for one call."""

    @property
    def active(self) -> bool:
        """Whether any gate hook is registered (the gate skips the review when not)."""
        ...

    async def review(self, call: GateCall) -> GateReview | None:
        """The strictest tightening the hooks ask for, or None to leave the decision."""
        ...
