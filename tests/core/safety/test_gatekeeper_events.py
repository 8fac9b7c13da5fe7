"""The gate's events are built without validating them again (`_event`): each is the
Event validation builds, with a data dict of its own."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tether.core.events import SAFETY_VIOLATION, TOOL_ALLOWED, TOOL_DENIED, Event, EventBus
from tether.core.safety import gatekeeper as gate_module
from tether.core.safety.approvals import ApprovalCoordinator
from tether.core.safety.audit import AuditLogger
from tether.core.safety.gatekeeper import ToolGatekeeper

from .conftest import MakePipeline


@pytest.mark.parametrize(
    "data",
    [
        pytest.param({}, id="empty"),
        pytest.param({"session_id": "s1", "chat_id": 42, "tool_name": "Bash"}, id="denied"),
        pytest.param({"tool_input": {"command": "ls"}, "approval": None}, id="nested"),
    ],
)
def test_an_event_is_the_validated_model(data: dict[str, Any]) -> None:
    before = datetime.now(UTC)
    built = gate_module._event(TOOL_DENIED, dict(data))
    validated = Event(name=TOOL_DENIED, data=dict(data))
    assert before <= built.timestamp <= datetime.now(UTC)
    assert built.timestamp.tzinfo is UTC
    assert built == validated.model_copy(update={"timestamp": built.timestamp})
    assert built.model_fields_set == validated.model_fields_set
    assert built.model_dump(exclude={"timestamp"}) == validated.model_dump(exclude={"timestamp"})
    assert (built.__pydantic_extra__, built.__pydantic_private__) == (None, None)


def test_every_event_has_its_own_set_of_given_fields() -> None:
    first, second = (gate_module._event(TOOL_DENIED, {}) for _ in range(2))
    assert first.model_fields_set is not second.model_fields_set


async def test_a_handler_that_changes_tool_denied_changes_no_other_event(
    make_pipeline: MakePipeline, tmp_path: Path
) -> None:
    bus = EventBus()
    audit = AuditLogger(tmp_path / "audit.jsonl")
    seen: list[Event] = []

    async def meddle(event: Event) -> None:
        seen.append(event)
        event.data["violation_type"] = "policy"
        event.data["reason"] = "changed"

    async def listen(event: Event) -> None:
        seen.append(event)

    bus.subscribe(TOOL_DENIED, meddle)
    bus.subscribe(SAFETY_VIOLATION, listen)
    bus.subscribe(TOOL_ALLOWED, listen)
    gate = ToolGatekeeper(
        make_pipeline(), ApprovalCoordinator(event_bus=bus, audit_logger=audit), bus, audit
    )
    decision = await gate.check("Read", {"file_path": "/etc/passwd"}, "s1", 42, user_id=7)
    assert decision.violation_type == "sandbox"
    allowed = await gate.check("Read", {"file_path": "src/app.py"}, "s1", 42, user_id=7)
    assert allowed.allowed
    await audit.close()
    assert [event.name for event in seen] == [TOOL_DENIED, SAFETY_VIOLATION, TOOL_ALLOWED]
    violation = seen[1].data
    assert violation["violation_type"] == "sandbox"
    assert violation["reason"] == decision.reason
    assert seen[0].data is not violation
    assert seen[2].data["tool_input"] == {"file_path": "src/app.py"}
