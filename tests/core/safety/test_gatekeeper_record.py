"""ToolGatekeeper's record and previews: written before the decision is returned, whatever
path the call takes; a preview that reads a file stays bounded in time; none is built
for a request nobody can be asked."""

from __future__ import annotations

import asyncio
import json
import math
import threading
import time
from collections import OrderedDict
from enum import IntEnum
from pathlib import Path
from typing import Any

import pytest

from tests.core.safety.conftest import EventLog, FakeRequester
from tether.core.events import TOOL_ALLOWED, TOOL_DENIED, EventBus
from tether.core.safety import gatekeeper as gate_module
from tether.core.safety.approvals import ApprovalCoordinator
from tether.core.safety.audit import AuditLogger, read_audit_log
from tether.core.safety.gatekeeper import GateDecision, ToolGatekeeper
from tether.core.safety.pipeline import SafetyPipeline
from tether.core.safety.preview import ApprovalPreview

from .conftest import MakePipeline


async def check(gate: ToolGatekeeper, tool_name: str, tool_input: Any, **kwargs: Any) -> Any:
    return await gate.check(tool_name, tool_input, "s1", 42, user_id=7, **kwargs)


def attempts(path: Path) -> list[dict[str, Any]]:
    return [e for e in read_audit_log(path) if e["event_type"] == "tool_attempt"]


# -- the logged copy of the input ----------------------------------------------------


class _Text(str):
    __slots__ = ()


class _Number(IntEnum):
    ONE = 1


def _slow_bounded_input(tool_input: Any) -> tuple[Any, bool]:
    """The logged copy as `_bounded` makes it, the way every input was once copied."""
    logged = gate_module._bounded(tool_input)
    try:
        same = logged == tool_input
    except Exception:  # as the gate: an input that cannot be compared was cut
        same = False
    return logged, not same


@pytest.mark.parametrize(
    "tool_input",
    [
        pytest.param({"command": "ls -la"}, id="a-command"),
        pytest.param({}, id="empty"),
        pytest.param({"a": None, "b": True, "c": 3, "d": 1.5}, id="scalars"),
        pytest.param({"x": math.nan}, id="nan"),
        pytest.param({"x": math.inf}, id="infinity"),
        pytest.param({"k" * 100: "v"}, id="key-at-the-limit"),
        pytest.param({"k" * 101: "v"}, id="key-over-the-limit"),
        pytest.param({f"k{n}": n for n in range(50)}, id="items-at-the-limit"),
        pytest.param({f"k{n}": n for n in range(51)}, id="items-over-the-limit"),
        pytest.param({"command": "echo é"}, id="non-ascii"),
        pytest.param({"command": "echo \ud800"}, id="lone-surrogate"),
        pytest.param({"command": _Text("ls")}, id="str-subclass"),
        pytest.param({"n": _Number.ONE}, id="int-subclass"),
        pytest.param({1: "a"}, id="int-key"),
        pytest.param({("a",): "b"}, id="tuple-key"),
        pytest.param({"edits": [{"old_string": "a", "new_string": "b"}]}, id="nested"),
        pytest.param({"data": b"\xff"}, id="bytes"),
        pytest.param({"d": {"e": {"f": {"g": {"h": {"i": {"j": {"k": {"l": 1}}}}}}}}}, id="deep"),
        pytest.param(OrderedDict(command="ls"), id="dict-subclass"),
        pytest.param(["not", "an", "object"], id="a-list"),
        pytest.param("text", id="a-string"),
        pytest.param(None, id="none"),
    ],
)
def test_the_logged_input_is_what_the_bounded_copy_always_was(tool_input: Any) -> None:
    logged, truncated = gate_module._bounded_input(tool_input)
    expected, expected_truncated = _slow_bounded_input(tool_input)
    assert json.dumps(logged, default=repr) == json.dumps(expected, default=repr)
    assert type(logged) is type(expected)
    assert truncated is expected_truncated
    if isinstance(tool_input, dict):
        assert logged is not tool_input  # a copy: changing the input later changes no record


async def test_changing_the_input_after_the_call_changes_no_record(
    gate: ToolGatekeeper, audit_logger: AuditLogger, event_bus: EventBus
) -> None:
    tool_input = {"command": "git status"}

    async def tamper(event: Any) -> None:
        event.data["tool_input"]["command"] = "rm -rf /"

    event_bus.subscribe("tool.gated", tamper)
    decision = await check(gate, "Bash", tool_input)
    assert decision.allowed
    (entry,) = attempts(audit_logger.path)
    assert entry["tool_input"] == {"command": "git status"}


# -- the record comes before the decision --------------------------------------------


@pytest.fixture
def full_disk_log() -> AuditLogger:
    """An audit log every write to which fails (ENOSPC), as on a full disk."""
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full on this system")
    return AuditLogger("/dev/full")


@pytest.mark.parametrize(
    ("tool_name", "tool_input"),
    [
        pytest.param("Bash", {"command": "git status"}, id="fresh-allow"),
        pytest.param("Read", {"file_path": "README.md"}, id="read-allow"),
    ],
)
async def test_an_allow_that_cannot_be_written_is_a_deny(
    make_pipeline: MakePipeline,
    approvals: ApprovalCoordinator,
    event_bus: EventBus,
    event_log: EventLog,
    full_disk_log: AuditLogger,
    tool_name: str,
    tool_input: dict[str, Any],
) -> None:
    gate = ToolGatekeeper(make_pipeline(), approvals, event_bus, full_disk_log)
    for _ in range(2):  # fresh, then the reused verdict
        decision = await check(gate, tool_name, tool_input)
        assert not decision.allowed
        assert decision.reason == "Denied: the decision could not be written to the audit log."
        assert decision.violation_type == "error"
    assert TOOL_ALLOWED not in event_log.names()
    assert event_log.names().count(TOOL_DENIED) == 2
    await full_disk_log.close()


async def test_a_reused_allow_that_cannot_be_written_is_a_deny(
    make_pipeline: MakePipeline,
    approvals: ApprovalCoordinator,
    event_bus: EventBus,
    tmp_path: Path,
) -> None:
    """The allow kept for a reused verdict is never handed out unrecorded."""
    audit = AuditLogger(tmp_path / "audit.jsonl")
    gate = ToolGatekeeper(make_pipeline(), approvals, event_bus, audit)
    first = await check(gate, "Bash", {"command": "pytest -q"})
    await audit.close()
    second = await check(gate, "Bash", {"command": "pytest -q"})
    third = await check(gate, "Bash", {"command": "pytest -q"})
    assert first.allowed
    assert not second.allowed and not third.allowed
    assert len(attempts(audit.path)) == 1


async def test_the_record_is_on_disk_when_the_decision_is_returned(
    gate: ToolGatekeeper, audit_logger: AuditLogger
) -> None:
    for number, command in enumerate(["git status", "git status", "rm -rf /"], start=1):
        decision = await check(gate, "Bash", {"command": command})
        entries = attempts(audit_logger.path)
        assert len(entries) == number
        assert entries[-1]["decision"]["allowed"] is decision.allowed
        assert entries[-1]["decision"]["reason"] == decision.reason


@pytest.mark.parametrize(
    ("tool_name", "tool_input"),
    [
        pytest.param("Bash", {"command": "git status"}, id="allow"),
        pytest.param("Bash", {"command": "git push --force"}, id="policy-deny"),
        pytest.param("Read", {"file_path": "/etc/shadow"}, id="sandbox-deny"),
        pytest.param("Bash", {"command": "rm -rf build"}, id="ask-nobody"),
        pytest.param("Bash", {"command": "echo 'é ü'", "description": "non-ascii"}, id="utf-8"),
        pytest.param("Bash", {"command": "echo " + "x" * 700}, id="long-command"),
        pytest.param("Write", {"file_path": "a.txt", "content": ["odd"]}, id="odd-input"),
    ],
)
async def test_the_entry_is_the_documented_line(
    make_pipeline: MakePipeline,
    event_bus: EventBus,
    tmp_path: Path,
    tool_name: str,
    tool_input: dict[str, Any],
) -> None:
    """Each entry is `json.dumps` of its fields in the documented order, with strings
    over the limit cut, whichever path wrote it."""
    audit = AuditLogger(tmp_path / "audit.jsonl")
    approvals = ApprovalCoordinator(
        event_bus=event_bus, audit_logger=audit, id_factory=iter(["id-1", "id-2"]).__next__
    )
    gate = ToolGatekeeper(make_pipeline(), approvals, event_bus, audit)
    for _ in range(2):  # fresh, then the reused verdict
        await check(gate, tool_name, tool_input)
    await audit.close()
    lines = [
        line
        for line in (tmp_path / "audit.jsonl").read_text(encoding="utf-8").splitlines()
        if '"event_type": "tool_attempt"' in line
    ]
    assert len(lines) == 2
    for line in lines:
        entry = json.loads(line)
        assert list(entry) == [
            "seq",
            "timestamp",
            "event_type",
            "session_id",
            "tool_name",
            "tool_input",
            "classification",
            "decision",
            "cwd",
            "approved_directories",
            "input_truncated",
        ]
        assert line == json.dumps(entry, ensure_ascii=False)
        assert list(entry["decision"]) == [
            "allowed",
            "decision",
            "layer",
            "rule",
            "reason",
            "approval",
            "approval_id",
            "learned_rules",
        ]
    first, second = (json.loads(line) for line in lines)
    for entry in (first, second):
        del entry["seq"], entry["timestamp"]
        entry["decision"].pop("approval_id")
    assert first == second


async def test_each_entry_names_its_own_session_tool_and_directory(
    make_pipeline: MakePipeline, event_bus: EventBus, tmp_path: Path, project_dir: Path
) -> None:
    """Calls in a row that change their session, tool or directory (or keep them) are
    each written with their own: nothing the log or the gate keeps from the call
    before (the names' text, the directory's fields) leaks into the next entry."""
    audit = AuditLogger(tmp_path / "audit.jsonl")
    approvals = ApprovalCoordinator(event_bus=event_bus, audit_logger=audit)
    gate = ToolGatekeeper(make_pipeline(), approvals, event_bus, audit)
    src = project_dir / "src"
    calls: list[tuple[str, str, dict[str, Any], Path | None]] = [
        ("s1", "Bash", {"command": "git status"}, None),
        ("s1", "Bash", {"command": "ls"}, None),
        ("s1", "Read", {"file_path": "src/app.py"}, None),
        ("s2", "Read", {"file_path": "src/app.py"}, project_dir),
        ("s2", "Bash", {"command": "rm -rf /"}, src),
        ("s1", "Bash", {"command": "git status"}, src),
        ("s1", "Bash", {"command": "git status"}, None),
        ("", "Bash", {"command": "ls"}, None),
        ("s1", "", {"command": "ls"}, None),
    ]
    for session_id, tool_name, tool_input, cwd in calls:
        await gate.check(tool_name, tool_input, session_id, 42, user_id=7, cwd=cwd)
    await audit.close()
    lines = (tmp_path / "audit.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(calls)
    approved = [str(project_dir.resolve())]  # noqa: ASYNC240 - a test's own fixture path
    for line, (session_id, tool_name, tool_input, cwd) in zip(lines, calls, strict=True):
        entry = json.loads(line)
        assert line == json.dumps(entry, ensure_ascii=False)
        assert (entry["session_id"], entry["tool_name"], entry["tool_input"]) == (
            session_id,
            tool_name,
            tool_input,
        )
        assert entry["cwd"] == (str(cwd) if cwd is not None else approved[0])
        assert entry["approved_directories"] == approved


# -- previews --------------------------------------------------------------------------


class _Previews:
    """Wraps the gate's `build_preview`: which tool each was built for, and on which thread."""

    def __init__(self, delay: float = 0.0) -> None:
        self.built: list[tuple[str, int]] = []
        self.delay = delay
        self._real = gate_module.build_preview

    def __call__(self, tool_name: str, *args: Any, **kwargs: Any) -> ApprovalPreview:
        self.built.append((tool_name, threading.get_ident()))
        if self.delay:
            time.sleep(self.delay)  # a disk that takes its time
        return self._real(tool_name, *args, **kwargs)


async def _ask(
    gate: ToolGatekeeper,
    requester: FakeRequester,
    approvals: ApprovalCoordinator,
    tool_name: str,
    tool_input: dict[str, Any],
    **kwargs: Any,
) -> GateDecision:
    async def reject() -> None:
        await requester.asked.wait()
        await approvals.resolve(requester.last_id, False, 7)

    answer = asyncio.create_task(reject())
    decision = await check(gate, tool_name, tool_input, **kwargs)
    await answer
    return decision


@pytest.mark.parametrize(
    ("tool_name", "tool_input", "kind"),
    [
        pytest.param("Bash", {"command": "rm -rf build"}, "command", id="command"),
        pytest.param("WebFetch", {"url": "https://example.com", "prompt": "x"}, "url", id="url"),
    ],
)
async def test_a_preview_that_reads_no_file_is_built_on_the_loop(
    gate: ToolGatekeeper,
    requester: FakeRequester,
    approvals: ApprovalCoordinator,
    monkeypatch: pytest.MonkeyPatch,
    tool_name: str,
    tool_input: dict[str, Any],
    kind: str,
) -> None:
    previews = _Previews()
    monkeypatch.setattr(gate_module, "build_preview", previews)
    decision = await _ask(gate, requester, approvals, tool_name, tool_input)
    assert not decision.allowed and decision.approval == "rejected"
    assert previews.built == [(tool_name, threading.get_ident())]
    (preview,) = requester.previews
    assert preview is not None and preview.kind == kind


async def test_a_preview_that_reads_a_file_is_built_in_a_thread(
    gate: ToolGatekeeper,
    requester: FakeRequester,
    approvals: ApprovalCoordinator,
    monkeypatch: pytest.MonkeyPatch,
    project_dir: Path,
) -> None:
    previews = _Previews()
    monkeypatch.setattr(gate_module, "build_preview", previews)
    target = project_dir / "notes.txt"
    target.write_text("old\n")
    await _ask(gate, requester, approvals, "Write", {"file_path": str(target), "content": "new\n"})
    ((tool_name, thread),) = previews.built
    assert tool_name == "Write" and thread != threading.get_ident()
    (preview,) = requester.previews
    assert preview is not None and preview.kind == "diff"


@pytest.mark.parametrize(
    ("tool_name", "tool_input"),
    [
        pytest.param("Write", {"file_path": "slow.txt", "content": "x"}, id="write"),
        pytest.param(
            "Edit", {"file_path": "slow.txt", "old_string": "a", "new_string": "b"}, id="edit"
        ),
    ],
)
async def test_a_preview_that_reads_slowly_is_given_up_and_the_person_still_asked(
    gate: ToolGatekeeper,
    requester: FakeRequester,
    approvals: ApprovalCoordinator,
    monkeypatch: pytest.MonkeyPatch,
    tool_name: str,
    tool_input: dict[str, Any],
) -> None:
    monkeypatch.setattr(gate_module, "_PREVIEW_SECONDS", 0.05)
    monkeypatch.setattr(gate_module, "build_preview", _Previews(delay=0.5))
    started = time.monotonic()
    decision = await _ask(gate, requester, approvals, tool_name, tool_input)
    asked_after = time.monotonic() - started
    assert decision.approval == "rejected"
    (preview,) = requester.previews
    assert preview is not None and preview.kind == "note"
    assert preview.note == "no preview: reading the file took too long"
    assert asked_after < 0.5


@pytest.mark.parametrize(
    ("tool_name", "tool_input"),
    [
        pytest.param("Bash", {"command": "rm -rf build"}, id="command"),
        pytest.param("Write", {"file_path": "new.txt", "content": "x"}, id="write"),
        pytest.param("WebFetch", {"url": "https://example.com", "prompt": "x"}, id="url"),
    ],
)
async def test_nobody_to_ask_builds_no_preview_and_records_the_same(
    make_pipeline: MakePipeline,
    event_bus: EventBus,
    event_log: EventLog,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    tool_name: str,
    tool_input: dict[str, Any],
) -> None:
    previews = _Previews()
    monkeypatch.setattr(gate_module, "build_preview", previews)
    audit = AuditLogger(tmp_path / "audit.jsonl")
    approvals = ApprovalCoordinator(
        event_bus=event_bus, audit_logger=audit, id_factory=lambda: "fixed-id"
    )
    assert not approvals.can_ask
    gate = ToolGatekeeper(make_pipeline(), approvals, event_bus, audit)
    decision = await check(gate, tool_name, tool_input)
    await audit.close()
    assert previews.built == []
    assert (decision.allowed, decision.approval, decision.approval_id) == (
        False,
        "unavailable",
        "fixed-id",
    )
    assert decision.reason is not None
    assert decision.reason.endswith("nobody can be asked to approve it (no chat is connected).")
    approval, attempt = (
        {k: v for k, v in e.items() if k not in {"seq", "timestamp"}}
        for e in read_audit_log(audit.path)
    )
    assert approval == {
        "event_type": "approval",
        "session_id": "s1",
        "tool_name": tool_name,
        "approved": False,
        "user_id": None,
        "approval_id": "fixed-id",
        "chat_id": 42,
        "outcome": "unavailable",
    }
    assert attempt["decision"]["approval"] == "unavailable"
    assert attempt["decision"]["reason"] == decision.reason
    assert event_log.names() == ["tool.gated", "approval.resolved", "tool.denied"]


async def test_a_chat_that_connects_is_asked_with_a_preview(
    make_pipeline: MakePipeline,
    event_bus: EventBus,
    audit_logger: AuditLogger,
    requester: FakeRequester,
) -> None:
    approvals = ApprovalCoordinator(event_bus=event_bus, audit_logger=audit_logger)
    gate = ToolGatekeeper(make_pipeline(), approvals, event_bus, audit_logger)
    unasked = await check(gate, "Bash", {"command": "rm -rf build"})
    approvals.connect(requester)
    assert approvals.can_ask
    asked = await _ask(gate, requester, approvals, "Bash", {"command": "rm -rf build"})
    assert unasked.approval == "unavailable" and asked.approval == "rejected"
    (preview,) = requester.previews
    assert preview is not None and preview.kind == "command"
    approvals.connect(None)
    assert not approvals.can_ask


def test_the_pipeline_fixture_decides(make_pipeline: MakePipeline) -> None:
    """The pipelines these tests use ask about `rm -rf build` and allow `git status`."""
    pipeline: SafetyPipeline = make_pipeline()
    assert pipeline.decide("Bash", {"command": "rm -rf build"}).decision.value == (
        "require_approval"
    )
    assert pipeline.decide("Bash", {"command": "git status"}).decision.value == "allow"


@pytest.mark.parametrize(
    ("tool_name", "tool_input"),
    [
        pytest.param("Bash", {"command": "git status"}, id="allow"),
        pytest.param("Read", {"file_path": "README.md"}, id="read-allow"),
        pytest.param("Bash", {"command": "echo " + "x" * 700}, id="long-allow"),
    ],
)
async def test_an_allow_nobody_hears_that_cannot_be_written_is_a_deny(
    make_pipeline: MakePipeline,
    approvals: ApprovalCoordinator,
    full_disk_log: AuditLogger,
    tool_name: str,
    tool_input: dict[str, Any],
) -> None:
    """The short path (no listener, no hook) records before it answers, as the long one."""
    bus = EventBus(handler_timeout=1.0)
    gate = ToolGatekeeper(make_pipeline(), approvals, bus, full_disk_log)
    assert make_pipeline().decide(tool_name, tool_input).allowed
    for _ in range(2):  # fresh, then the reused verdict
        decision = await check(gate, tool_name, tool_input)
        assert (decision.allowed, decision.violation_type) == (False, "error")
        assert decision.reason == "Denied: the decision could not be written to the audit log."
    await full_disk_log.close()


@pytest.mark.parametrize(
    ("tool_name", "tool_input", "event_name"),
    [
        pytest.param("Bash", {"command": "git status"}, TOOL_ALLOWED, id="allow"),
        pytest.param("Bash", {"command": "rm -rf /"}, TOOL_DENIED, id="deny"),
    ],
)
async def test_a_handler_subscribed_between_calls_hears_the_next_one(
    make_pipeline: MakePipeline,
    approvals: ApprovalCoordinator,
    tmp_path: Path,
    tool_name: str,
    tool_input: dict[str, Any],
    event_name: str,
) -> None:
    """The gate reads which of its events are heard once per change of the bus's
    subscriptions: a subscription made (or dropped) between two calls counts."""
    bus = EventBus(handler_timeout=1.0)
    audit = AuditLogger(tmp_path / "audit.jsonl")
    gate = ToolGatekeeper(make_pipeline(), approvals, bus, audit)
    heard: list[str] = []

    async def hear(event: Any) -> None:
        heard.append(event.data["tool_name"])

    await check(gate, tool_name, tool_input)
    bus.subscribe(event_name, hear)
    await check(gate, tool_name, tool_input)
    bus.unsubscribe(event_name, hear)
    await check(gate, tool_name, tool_input)
    assert heard == [tool_name]
    assert len(attempts(audit.path)) == 3
    await audit.close()
