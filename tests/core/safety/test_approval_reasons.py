"""A reject may carry the person's reason: it reaches the agent as one bounded, printable line."""

from __future__ import annotations

import pytest

from tests.core.safety.conftest import FakeRequester
from tests.core.safety.test_approvals import ask, coordinator
from tether.core.events import EventBus
from tether.core.safety.audit import AuditLogger


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        pytest.param("not on a Friday", "rejected by the user: not on a Friday", id="plain"),
        pytest.param("line one\nline two", "rejected by the user: line one line two", id="lines"),
        pytest.param(
            "bell\x07 and\x1b[31m escape",
            "rejected by the user: bell and [31m escape",
            id="control-characters",
        ),
        pytest.param("  \n\t ", "rejected by the user", id="blank"),
        pytest.param("", "rejected by the user", id="empty"),
        pytest.param(None, "rejected by the user", id="none"),
    ],
)
async def test_the_reason_of_a_reject_reaches_the_result(
    event_bus: EventBus,
    audit_logger: AuditLogger,
    requester: FakeRequester,
    reason: str | None,
    expected: str,
) -> None:
    approvals = coordinator(event_bus, audit_logger, requester)
    task = await ask(approvals)
    approval_id = requester.requests[0][1]
    await approvals.resolve(approval_id, False, 7, reason=reason)
    result = await task
    assert not result.approved
    assert result.reason == expected


async def test_a_long_reason_is_cut(
    event_bus: EventBus, audit_logger: AuditLogger, requester: FakeRequester
) -> None:
    approvals = coordinator(event_bus, audit_logger, requester)
    task = await ask(approvals)
    await approvals.resolve(requester.requests[0][1], False, 7, reason="x" * 5000)
    result = await task
    assert len(result.reason) < 600
    assert result.reason.endswith("…")


async def test_an_approve_ignores_a_reason(
    event_bus: EventBus, audit_logger: AuditLogger, requester: FakeRequester
) -> None:
    approvals = coordinator(event_bus, audit_logger, requester)
    task = await ask(approvals)
    await approvals.resolve(requester.requests[0][1], True, 7, reason="because")
    result = await task
    assert result.approved and result.reason == "approved"
