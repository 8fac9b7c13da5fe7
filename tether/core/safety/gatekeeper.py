"""ToolGatekeeper: runs sandbox, policy and approval for every tool call.

(Contract stub: the safety pipeline issue fills this module in.)
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

__all__ = ["GateDecision"]


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
