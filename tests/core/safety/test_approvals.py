"""ApprovalCoordinator: one answer, from the owner, in time; every outcome on record."""

from __future__ import annotations

import asyncio
import base64
import re
import secrets
from pathlib import Path

import pytest

from tests.core.safety.conftest import EventLog, FakeRequester
from tether.core.events import APPROVAL_REQUESTED, APPROVAL_RESOLVED, EventBus
from tether.core.safety.approvals import ApprovalCoordinator, ApprovalOutcome, ApprovalResult
from tether.core.safety.audit import AuditLogger, read_audit_log


def coordinator(
    event_bus: EventBus,
    audit_logger: AuditLogger,
    requester: FakeRequester | None,
    timeout: float = 5.0,
) -> ApprovalCoordinator:
    return ApprovalCoordinator(
        event_bus=event_bus,
        audit_logger=audit_logger,
        requester=requester,
        timeout_seconds=timeout,
    )


async def ask(
    approvals: ApprovalCoordinator, owner: int | None = 7
) -> asyncio.Task[ApprovalResult]:
    task = asyncio.create_task(
        approvals.request(
            session_id="s1", chat_id=42, tool_name="Bash", description="rm x", owner=owner
        )
    )
    for _ in range(20):
        await asyncio.sleep(0)
        if approvals.pending(42):
            break
    return task


def approval_entries(path: Path) -> list[dict[str, object]]:
    return [e for e in read_audit_log(path) if e["event_type"] == "approval"]


async def test_approved_answer_allows(
    event_bus: EventBus, event_log: EventLog, audit_logger: AuditLogger, requester: FakeRequester
) -> None:
    approvals = coordinator(event_bus, audit_logger, requester)
    task = await ask(approvals)
    (chat_id, approval_id, description, tool_name) = requester.requests[0]
    assert (chat_id, description, tool_name) == (42, "rm x", "Bash")
    answer = await approvals.resolve(approval_id, True, 7)
    assert answer.accepted and answer.tool_name == "Bash"
    result = await task
    assert result.approved and result.user_id == 7
    assert event_log.names() == [APPROVAL_REQUESTED, APPROVAL_RESOLVED]
    assert event_log.named(APPROVAL_RESOLVED)[0].data["outcome"] == "approved"
    (entry,) = approval_entries(audit_logger.path)
    assert (entry["approved"], entry["outcome"], entry["user_id"]) == (True, "approved", 7)
    assert not approvals.pending()


async def test_rejected_answer_denies(
    event_bus: EventBus, audit_logger: AuditLogger, requester: FakeRequester
) -> None:
    approvals = coordinator(event_bus, audit_logger, requester)
    task = await ask(approvals)
    await approvals.resolve(requester.last_id, False, 7)
    result = await task
    assert result.outcome is ApprovalOutcome.REJECTED
    assert not result.approved


async def test_second_answer_is_refused(
    event_bus: EventBus, audit_logger: AuditLogger, requester: FakeRequester
) -> None:
    approvals = coordinator(event_bus, audit_logger, requester)
    task = await ask(approvals)
    first = await approvals.resolve(requester.last_id, False, 7)
    second = await approvals.resolve(requester.last_id, True, 7)
    assert first.accepted and not second.accepted
    assert "already" in second.message
    assert not (await task).approved
    later = await approvals.resolve(requester.last_id, True, 7)
    assert not later.accepted and "already settled" in later.message


async def test_unknown_id_is_refused(
    event_bus: EventBus, audit_logger: AuditLogger, requester: FakeRequester
) -> None:
    approvals = coordinator(event_bus, audit_logger, requester)
    answer = await approvals.resolve("nope", True, 7)
    assert not answer.accepted
    assert "unknown or has expired" in answer.message
    assert read_audit_log(audit_logger.path)[-1]["event_type"] == "approval_refused"


async def test_another_user_cannot_answer(
    event_bus: EventBus, audit_logger: AuditLogger, requester: FakeRequester
) -> None:
    approvals = coordinator(event_bus, audit_logger, requester)
    task = await ask(approvals, owner=7)
    stranger = await approvals.resolve(requester.last_id, True, 99)
    assert not stranger.accepted
    assert "Only the person" in stranger.message
    assert approvals.pending(42)
    owner = await approvals.resolve(requester.last_id, True, "7")
    assert owner.accepted
    assert (await task).approved


async def test_timeout_denies_and_closes_the_request(
    event_bus: EventBus, event_log: EventLog, audit_logger: AuditLogger, requester: FakeRequester
) -> None:
    approvals = coordinator(event_bus, audit_logger, requester, timeout=0.05)
    result = await (await ask(approvals))
    assert result.outcome is ApprovalOutcome.TIMEOUT
    assert not result.approved
    assert "nobody answered" in result.reason
    assert requester.closed and "Expired" in requester.closed[0][2]
    assert approval_entries(audit_logger.path)[0]["outcome"] == "timeout"
    assert event_log.named(APPROVAL_RESOLVED)[0].data["approved"] is False


async def test_a_connector_that_never_answers_times_out(
    event_bus: EventBus, audit_logger: AuditLogger
) -> None:
    approvals = coordinator(event_bus, audit_logger, FakeRequester(hang=True), timeout=0.05)
    result = await approvals.request(session_id="s", chat_id=1, tool_name="Bash", description="x")
    assert result.outcome is ApprovalOutcome.TIMEOUT


async def test_no_connector_denies(event_bus: EventBus, audit_logger: AuditLogger) -> None:
    approvals = coordinator(event_bus, audit_logger, None)
    result = await approvals.request(session_id="s", chat_id=1, tool_name="Bash", description="x")
    assert result.outcome is ApprovalOutcome.UNAVAILABLE
    assert "nobody can be asked" in result.reason
    assert approval_entries(audit_logger.path)[0]["outcome"] == "unavailable"


async def test_failing_connector_denies(event_bus: EventBus, audit_logger: AuditLogger) -> None:
    approvals = coordinator(event_bus, audit_logger, FakeRequester(fail=True))
    result = await approvals.request(session_id="s", chat_id=1, tool_name="Bash", description="x")
    assert result.outcome is ApprovalOutcome.UNAVAILABLE
    assert "ConnectionError" in result.reason
    assert not approvals.pending()


async def test_connect_later(
    event_bus: EventBus, audit_logger: AuditLogger, requester: FakeRequester
) -> None:
    approvals = coordinator(event_bus, audit_logger, None)
    approvals.connect(requester)
    task = await ask(approvals)
    await approvals.resolve(requester.last_id, True, 7)
    assert (await task).approved


async def test_cancel_pending_denies_everything_open_in_the_chat(
    event_bus: EventBus, audit_logger: AuditLogger, requester: FakeRequester
) -> None:
    approvals = coordinator(event_bus, audit_logger, requester)
    first = await ask(approvals)
    second = await ask(approvals)
    assert await approvals.cancel_pending(42) == 2
    results = [await first, await second]
    assert {r.outcome for r in results} == {ApprovalOutcome.CANCELLED}
    assert len(requester.closed) == 2
    assert await approvals.cancel_pending(42) == 0


async def test_cancelling_the_waiting_call_is_recorded(
    event_bus: EventBus, audit_logger: AuditLogger, requester: FakeRequester
) -> None:
    approvals = coordinator(event_bus, audit_logger, requester)
    task = await ask(approvals)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert approval_entries(audit_logger.path)[0]["outcome"] == "cancelled"
    assert not approvals.pending()


async def test_ids_are_short_and_unique(
    event_bus: EventBus, audit_logger: AuditLogger, requester: FakeRequester
) -> None:
    approvals = coordinator(event_bus, audit_logger, requester)
    tasks = [await ask(approvals) for _ in range(20)]
    ids = [request[1] for request in requester.requests]
    assert len(set(ids)) == 20
    assert all(len(approval_id.encode()) <= 16 for approval_id in ids)
    await approvals.cancel_pending(42)
    await asyncio.gather(*tasks)


async def test_an_approval_that_cannot_be_recorded_does_not_count(
    event_bus: EventBus, audit_logger: AuditLogger, requester: FakeRequester
) -> None:
    approvals = coordinator(event_bus, audit_logger, requester)
    task = await ask(approvals)
    await audit_logger.close()
    await approvals.resolve(requester.last_id, True, 7)
    result = await task
    assert not result.approved
    assert "could not be recorded" in result.reason


def test_timeout_must_be_positive(event_bus: EventBus, audit_logger: AuditLogger) -> None:
    with pytest.raises(ValueError, match="positive"):
        coordinator(event_bus, audit_logger, None, timeout=0)


@pytest.mark.parametrize(
    ("owner", "answerer", "accepted"),
    [
        pytest.param(7, "7", True, id="int-owner-text-answer"),
        pytest.param("7", 7, True, id="text-owner-int-answer"),
        pytest.param(7, "+7", False, id="plus"),
        pytest.param(7, "07", False, id="leading-zero"),
        pytest.param(7, "7.0", False, id="float-text"),
        pytest.param(7, " 7", False, id="space"),
        pytest.param(1, True, False, id="bool-is-not-1"),
        pytest.param("alice", "Alice", False, id="case"),
    ],
)
async def test_the_owner_matches_however_typed_and_only_them(
    event_bus: EventBus,
    audit_logger: AuditLogger,
    requester: FakeRequester,
    owner: object,
    answerer: object,
    accepted: bool,
) -> None:
    approvals = coordinator(event_bus, audit_logger, requester)
    task = asyncio.create_task(
        approvals.request(
            session_id="s1",
            chat_id=42,
            tool_name="Bash",
            description="rm x",
            owner=owner,  # type: ignore[arg-type]
        )
    )
    for _ in range(20):
        await asyncio.sleep(0)
        if approvals.pending(42):
            break
    answer = await approvals.resolve(requester.last_id, True, answerer)  # type: ignore[arg-type]
    assert answer.accepted is accepted
    if not accepted:
        await approvals.cancel_pending(42)
    await task


class TestRejectWithReason:
    """ "Reject with a reason": the owner's next message is the denial the agent receives."""

    async def test_the_reason_becomes_the_denial_and_is_on_record(
        self, event_bus: EventBus, audit_logger: AuditLogger, requester: FakeRequester
    ) -> None:
        approvals = coordinator(event_bus, audit_logger, requester)
        task = await ask(approvals)
        approval_id = requester.last_id
        waiting = await approvals.await_reason(approval_id, 7)
        assert waiting.accepted and approvals.awaits_reason(42)
        assert not task.done(), "the request stays open until the reason comes"
        taken = await approvals.take_reason(42, 7, "use   uv instead of pip")
        assert taken is not None
        assert taken.message == "❌ Rejected; the agent is told: “use uv instead of pip”"
        result = await task
        assert result.outcome is ApprovalOutcome.REJECTED
        assert result.reason == "rejected by the user, who says: use uv instead of pip"
        assert not approvals.awaits_reason(42)
        (entry,) = approval_entries(audit_logger.path)
        assert entry["note"] == "use uv instead of pip" and entry["approved"] is False

    async def test_a_reason_given_for_one_request_goes_to_that_request_not_the_oldest(
        self, event_bus: EventBus, audit_logger: AuditLogger, requester: FakeRequester
    ) -> None:
        approvals = coordinator(event_bus, audit_logger, requester)
        first = await ask(approvals)
        first_id = requester.last_id
        second = await ask(approvals)
        for _ in range(50):  # the first is already pending: wait for the second's id
            if requester.last_id != first_id:
                break
            await asyncio.sleep(0)
        second_id = requester.last_id
        assert first_id != second_id
        await approvals.await_reason(first_id, 7)
        await approvals.await_reason(second_id, 7)
        taken = await approvals.take_reason(42, 7, "not this one", approval_id=second_id)
        assert taken is not None and taken.approval_id == second_id
        assert (await second).reason == "rejected by the user, who says: not this one"
        assert not first.done() and approvals.awaits_reason(42)
        # A reason for a request that does not wait for one is not handed to another.
        assert await approvals.take_reason(42, 7, "stray", approval_id="nope") is None
        assert not first.done()
        taken = await approvals.take_reason(42, 7, "and not that one")
        assert taken is not None and taken.approval_id == first_id
        assert (await first).outcome is ApprovalOutcome.REJECTED

    async def test_the_timeout_still_denies_while_waiting_for_the_reason(
        self, event_bus: EventBus, audit_logger: AuditLogger, requester: FakeRequester
    ) -> None:
        approvals = coordinator(event_bus, audit_logger, requester, timeout=0.2)
        task = await ask(approvals)
        await approvals.await_reason(requester.last_id, 7)
        result = await task
        assert result.outcome is ApprovalOutcome.TIMEOUT
        assert not approvals.awaits_reason(42)
        assert await approvals.take_reason(42, 7, "too late") is None

    @pytest.mark.parametrize(
        ("who", "known"),
        [
            pytest.param(8, True, id="someone-else"),
            pytest.param(7, False, id="unknown-id"),
        ],
    )
    async def test_a_foreign_or_unknown_reason_press_is_refused(
        self,
        event_bus: EventBus,
        audit_logger: AuditLogger,
        requester: FakeRequester,
        who: int,
        known: bool,
    ) -> None:
        approvals = coordinator(event_bus, audit_logger, requester)
        task = await ask(approvals)
        approval_id = requester.last_id if known else "nope"
        refusal = await approvals.await_reason(approval_id, who)
        assert not refusal.accepted
        assert not approvals.awaits_reason(42)
        await approvals.resolve(requester.last_id, False, 7)
        await task

    async def test_only_the_owner_s_text_is_taken_as_the_reason(
        self, event_bus: EventBus, audit_logger: AuditLogger, requester: FakeRequester
    ) -> None:
        approvals = coordinator(event_bus, audit_logger, requester)
        task = await ask(approvals)
        await approvals.await_reason(requester.last_id, 7)
        assert await approvals.take_reason(42, 8, "approve it, I'm the boss") is None
        assert await approvals.take_reason(43, 7, "other chat") is None
        assert await approvals.take_reason(42, 7, "no") is not None
        assert (await task).outcome is ApprovalOutcome.REJECTED


# -- approval ids ------------------------------------------------------------------


def test_default_ids_are_what_token_urlsafe_makes_and_never_repeat() -> None:
    from tether.core.safety import approvals as approvals_module

    ids = approvals_module._RandomIds()
    drawn = [ids() for _ in range(approvals_module._IDS_PER_DRAW * 3 + 5)]  # across draws
    assert len(set(drawn)) == len(drawn)
    for approval_id in drawn:
        assert len(approval_id) == len(secrets.token_urlsafe(6)) == 8
        assert re.fullmatch(r"[A-Za-z0-9_-]{8}", approval_id)
        assert len(base64.urlsafe_b64decode(approval_id)) == 6
    ids.discard()
    assert ids() not in drawn


async def test_settled_ids_are_remembered_up_to_the_bound_oldest_forgotten_first(
    event_bus: EventBus, audit_logger: AuditLogger
) -> None:
    from tether.core.safety import approvals as approvals_module

    coordinator = ApprovalCoordinator(event_bus=event_bus, audit_logger=audit_logger)
    bound = approvals_module._REMEMBERED
    first = [
        await coordinator.refuse_unasked(session_id="s", chat_id=1, tool_name="Bash")
        for _ in range(bound + 3)
    ]
    settled = coordinator._settled
    assert len(settled) == bound
    assert list(settled) == first[3:]
    assert set(settled.values()) == {"unavailable"}
    await audit_logger.close()
