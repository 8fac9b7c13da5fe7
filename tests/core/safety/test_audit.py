"""AuditLogger: entry format, sequence across restarts, file safety, concurrency, failures."""

# The tests inspect small files in their own tmp_path between awaits; a blocking
# stat or read of a few bytes there is what the assertion is about, not a hazard.
# ruff: noqa: ASYNC230, ASYNC240

from __future__ import annotations

import asyncio
import errno
import json
import os
import resource
import stat
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
import structlog
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict

from tether.core.safety import audit as audit_module
from tether.core.safety.audit import (
    MAX_STRING_LENGTH,
    AuditLogger,
    JSONText,
    _jsonable,
    _may_hold_a_long_string,
    encode_entry,
    read_audit_log,
    truncate_strings,
)
from tether.exceptions import AuditError, SafetyError


@pytest.fixture
def log_path(tmp_path: Path) -> Path:
    return tmp_path / "audit" / "audit.jsonl"


@pytest.fixture
async def audit(log_path: Path) -> AsyncIterator[AuditLogger]:
    logger = AuditLogger(log_path)
    yield logger
    await logger.close()


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


@pytest.fixture
def capture() -> Iterator[list[dict[str, Any]]]:
    with structlog.testing.capture_logs() as logs:
        yield logs


async def _write_entries(path: Path, count: int) -> None:
    logger = AuditLogger(path)
    for _ in range(count):
        await logger.log("before")
    await logger.close()


class _Risk(StrEnum):
    HIGH = "high"


class _Classification(BaseModel):
    model_config = ConfigDict(frozen=True)

    risk: _Risk
    reasons: tuple[str, ...]


class TestEntries:
    async def test_tool_attempt_entry(self, audit: AuditLogger, log_path: Path) -> None:
        seq = await audit.log_tool_attempt(
            session_id="s1",
            tool_name="Bash",
            tool_input={"command": "ls -la"},
            classification=_Classification(risk=_Risk.HIGH, reasons=("lists files",)),
            decision="allow",
        )
        (entry,) = read_audit_log(log_path)
        assert seq == 1
        assert entry["seq"] == 1
        assert entry["event_type"] == "tool_attempt"
        assert entry["session_id"] == "s1"
        assert entry["tool_name"] == "Bash"
        assert entry["tool_input"] == {"command": "ls -la"}
        assert entry["classification"] == {"risk": "high", "reasons": ["lists files"]}
        assert entry["decision"] == "allow"

    async def test_tool_attempt_accepts_extra_fields(
        self, audit: AuditLogger, log_path: Path
    ) -> None:
        await audit.log_tool_attempt(
            "s1", "Read", {"file_path": "a.py"}, None, "deny", layer="sandbox"
        )
        (entry,) = read_audit_log(log_path)
        assert entry["layer"] == "sandbox"
        assert entry["classification"] is None

    async def test_approval_entry(self, audit: AuditLogger, log_path: Path) -> None:
        await audit.log_approval(session_id="s2", tool_name="Write", approved=False, user_id=42)
        (entry,) = read_audit_log(log_path)
        assert entry["event_type"] == "approval"
        assert (entry["session_id"], entry["tool_name"]) == ("s2", "Write")
        assert entry["approved"] is False
        assert entry["user_id"] == 42

    async def test_security_violation_entry(self, audit: AuditLogger, log_path: Path) -> None:
        await audit.log_security_violation(
            session_id="s3", tool_name="Read", reason="/etc/shadow is outside", risk_level="high"
        )
        (entry,) = read_audit_log(log_path)
        assert entry["event_type"] == "security_violation"
        assert entry["reason"] == "/etc/shadow is outside"
        assert entry["risk_level"] == "high"

    async def test_timestamp_is_iso_8601_utc_and_current(
        self, audit: AuditLogger, log_path: Path
    ) -> None:
        before = datetime.now(UTC)
        await audit.log("custom", detail="x")
        (entry,) = read_audit_log(log_path)
        stamp = datetime.fromisoformat(entry["timestamp"])
        assert stamp.utcoffset() == timedelta(0)
        assert before - timedelta(seconds=1) <= stamp <= datetime.now(UTC)
        assert entry["event_type"] == "custom"

    async def test_each_entry_is_one_json_line(self, audit: AuditLogger, log_path: Path) -> None:
        await audit.log_tool_attempt("s", "Bash", {"command": "echo 'a\nb'"}, None, "ask")
        await audit.log_approval("s", "Bash", True, "123")
        lines = _lines(log_path)
        assert len(lines) == 2
        assert [json.loads(line)["seq"] for line in lines] == [1, 2]
        assert json.loads(lines[0])["tool_input"]["command"] == "echo 'a\nb'"

    async def test_non_json_values_are_recorded_not_rejected(
        self, audit: AuditLogger, log_path: Path
    ) -> None:
        await audit.log_tool_attempt(
            "s", "Bash", {"path": Path("/tmp/x"), "n": {1, 2}}, None, "deny"
        )
        (entry,) = read_audit_log(log_path)
        assert entry["tool_input"]["path"].endswith("/tmp/x')")
        assert "1" in entry["tool_input"]["n"]

    @pytest.mark.parametrize(
        "field", [pytest.param(name, id=name) for name in ("seq", "timestamp", "event_type")]
    )
    async def test_a_field_the_log_sets_itself_is_refused(
        self, audit: AuditLogger, log_path: Path, field: str
    ) -> None:
        with pytest.raises(AuditError, match=f"'{field}'"):
            await audit.log_tool_attempt("s", "Bash", {}, None, "allow", **{field: 99})
        assert audit.last_sequence == 0


class TestTruncation:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            pytest.param("a" * 500, "a" * 500, id="at-the-limit"),
            pytest.param("a" * 501, "a" * 500 + "…[truncated 1 chars]", id="one-over"),
            pytest.param("é" * 800, "é" * 500 + "…[truncated 300 chars]", id="counts-characters"),
            pytest.param(
                {"k": "b" * 600}, {"k": "b" * 500 + "…[truncated 100 chars]"}, id="nested-dict"
            ),
            pytest.param(["c" * 700, 3], ["c" * 500 + "…[truncated 200 chars]", 3], id="in-a-list"),
            pytest.param(("short",), ["short"], id="tuple-becomes-list"),
            pytest.param(b"d" * 510, "d" * 500 + "…[truncated 10 chars]", id="bytes"),
            pytest.param(12345, 12345, id="number-untouched"),
            pytest.param(None, None, id="none-untouched"),
        ],
    )
    def test_truncate_strings(self, value: Any, expected: Any) -> None:
        assert truncate_strings(value) == expected

    def test_the_limit_is_500(self) -> None:
        assert MAX_STRING_LENGTH == 500

    async def test_long_inputs_are_truncated_in_the_log(
        self, audit: AuditLogger, log_path: Path
    ) -> None:
        command = "x" * 10_000
        await audit.log_tool_attempt("s", "Bash", {"command": command}, None, "deny")
        (entry,) = read_audit_log(log_path)
        assert entry["tool_input"]["command"] == "x" * 500 + "…[truncated 9500 chars]"
        assert log_path.stat().st_size < 1_000

    async def test_the_callers_input_is_not_modified(self, audit: AuditLogger) -> None:
        tool_input = {"content": "y" * 900}
        await audit.log_tool_attempt("s", "Write", tool_input, None, "ask")
        assert tool_input == {"content": "y" * 900}


class TestSequence:
    async def test_seq_increases_by_one(self, audit: AuditLogger, log_path: Path) -> None:
        returned = [await audit.log("e", n=n) for n in range(5)]
        assert returned == [1, 2, 3, 4, 5]
        assert [entry["seq"] for entry in read_audit_log(log_path)] == [1, 2, 3, 4, 5]
        assert audit.last_sequence == 5

    async def test_seq_continues_across_restarts(self, log_path: Path) -> None:
        first = AuditLogger(log_path)
        for _ in range(3):
            await first.log("before")
        await first.close()

        second = AuditLogger(log_path)
        assert await second.log("after") == 4
        await second.close()
        assert [entry["seq"] for entry in read_audit_log(log_path)] == [1, 2, 3, 4]

    async def test_seq_continues_from_a_log_larger_than_one_read_chunk(
        self, log_path: Path
    ) -> None:
        first = AuditLogger(log_path)
        for n in range(400):
            await first.log("bulk", payload=f"{n:05d}" * 60)
        await first.close()
        assert log_path.stat().st_size > 128 * 1024

        second = AuditLogger(log_path)
        assert await second.log("after") == 401
        await second.close()

    async def test_a_whole_last_entry_without_newline_stays(self, log_path: Path) -> None:
        await _write_entries(log_path, 3)
        with open(log_path, "ab") as handle:
            handle.write(b'{"seq": 4, "event_type": "x"}')

        second = AuditLogger(log_path)
        assert await second.log("after") == 5
        await second.close()

        assert [e["seq"] for e in read_audit_log(log_path)] == [1, 2, 3, 4, 5]
        assert not list(log_path.parent.glob("*.torn-*"))

    async def test_a_trailing_foreign_line_is_skipped_when_finding_seq(
        self, log_path: Path
    ) -> None:
        first = AuditLogger(log_path)
        await first.log("before")
        await first.close()
        with open(log_path, "a", encoding="utf-8") as handle:
            handle.write("edited by hand\n[1, 2]\n\n")

        second = AuditLogger(log_path)
        assert await second.log("after") == 2
        await second.close()


class TestFile:
    async def test_directory_is_created(self, tmp_path: Path) -> None:
        path = tmp_path / "deep" / "er" / "audit.jsonl"
        logger = AuditLogger(path)
        await logger.log("first")
        await logger.close()
        assert path.is_file()

    async def test_file_mode_is_0600_whatever_the_umask(self, log_path: Path) -> None:
        previous = os.umask(0)
        try:
            logger = AuditLogger(log_path)
            await logger.log("first")
            await logger.close()
        finally:
            os.umask(previous)
        assert stat.S_IMODE(log_path.stat().st_mode) == 0o600

    async def test_an_existing_readable_log_is_tightened_to_0600(self, log_path: Path) -> None:
        log_path.parent.mkdir(parents=True)
        log_path.write_text("")
        log_path.chmod(0o644)
        logger = AuditLogger(log_path)
        await logger.log("first")
        await logger.close()
        assert stat.S_IMODE(log_path.stat().st_mode) == 0o600

    async def test_a_home_relative_path_is_expanded(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        monkeypatch.setenv("HOME", str(tmp_path / "home"))
        logger = AuditLogger("~/tether/audit.jsonl")
        await logger.log("first")
        await logger.close()
        assert (tmp_path / "home" / "tether" / "audit.jsonl").is_file()
        assert logger.path == tmp_path / "home" / "tether" / "audit.jsonl"

    async def test_nothing_is_touched_before_the_first_entry(self, log_path: Path) -> None:
        AuditLogger(log_path)
        assert not log_path.parent.exists()

    async def test_appends_to_an_existing_log(self, log_path: Path) -> None:
        first = AuditLogger(log_path)
        await first.log("one")
        await first.close()
        original = log_path.read_bytes()
        second = AuditLogger(log_path)
        await second.log("two")
        await second.close()
        assert log_path.read_bytes().startswith(original)


class TestConcurrency:
    @pytest.mark.parametrize(
        "fsync", [pytest.param(False, id="page-cache"), pytest.param(True, id="fsync")]
    )
    async def test_ten_thousand_concurrent_calls_give_ten_thousand_whole_lines_in_order(
        self, log_path: Path, fsync: bool
    ) -> None:
        logger = AuditLogger(log_path, fsync=fsync)

        async def writer(task: int) -> list[int]:
            return [
                await logger.log_tool_attempt(
                    f"session-{task}", "Bash", {"command": f"echo {task}-{call}"}, None, "allow"
                )
                for call in range(100)
            ]

        returned = await asyncio.gather(*(writer(task) for task in range(100)))
        await logger.close()

        lines = _lines(log_path)
        assert len(lines) == 10_000
        entries = [json.loads(line) for line in lines]
        assert [entry["seq"] for entry in entries] == list(range(1, 10_001))
        assert sorted(seq for seqs in returned for seq in seqs) == list(range(1, 10_001))
        # Each task's own calls were recorded in the order it made them.
        by_session: dict[str, list[str]] = {}
        for entry in entries:
            by_session.setdefault(entry["session_id"], []).append(entry["tool_input"]["command"])
        assert by_session["session-7"] == [f"echo 7-{call}" for call in range(100)]

    @pytest.mark.parametrize(
        "fsync", [pytest.param(False, id="page-cache"), pytest.param(True, id="fsync")]
    )
    async def test_logging_never_stalls_the_event_loop(self, log_path: Path, fsync: bool) -> None:
        """The loop turns between log calls, whatever the machine's load.

        Counted, not timed: a ticker that yields to the loop notes how many entries
        were written each time it runs. A logger that held the loop for a whole
        writer's run (or the whole batch) would show it only a few distinct counts.
        """
        logger = AuditLogger(log_path, fsync=fsync)
        await logger.log("open the file first")
        written = 0
        seen: set[int] = set()
        done = asyncio.Event()

        async def ticker() -> None:
            while not done.is_set():
                seen.add(written)
                await asyncio.sleep(0)

        async def writer(task: int) -> None:
            nonlocal written
            for call in range(100):
                await logger.log_tool_attempt(f"s{task}", "Bash", {"n": call}, None, "allow")
                written += 1

        ticking = asyncio.create_task(ticker())
        await asyncio.sleep(0)
        await asyncio.gather(*(writer(task) for task in range(100)))
        done.set()
        await ticking
        await logger.close()

        assert len(_lines(log_path)) == 10_001
        # Between one writer's consecutive calls the ticker runs: it sees the count
        # grow in steps no larger than one round of the 100 writers.
        assert len(seen) >= 10_000 // 100
        ordered = sorted(seen)
        assert max(b - a for a, b in pairwise(ordered)) <= 100

    async def test_a_caller_cancelled_while_waiting_does_not_lose_the_entry(
        self, log_path: Path
    ) -> None:
        logger = AuditLogger(log_path, fsync=True)
        await logger.log("open")
        calls = [asyncio.create_task(logger.log("batched", n=n)) for n in range(20)]
        await asyncio.sleep(0)
        calls[5].cancel()
        await asyncio.gather(*calls, return_exceptions=True)
        await logger.close()
        assert len(read_audit_log(log_path)) == 21


@pytest.fixture
def file_size_limit() -> Iterator[Callable[[int], None]]:
    """Set the process's file-size limit (RLIMIT_FSIZE) for one test, then restore it.

    Writes past the limit fail with EFBIG, or are cut short, as on a full disk.
    Python ignores SIGXFSZ, so the process is not killed.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)

    def limit(size: int) -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, hard))

    yield limit
    resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))


class TestFailures:
    async def test_a_directory_where_the_file_should_be_is_an_audit_error(
        self, tmp_path: Path
    ) -> None:
        (tmp_path / "audit.jsonl").mkdir()
        logger = AuditLogger(tmp_path / "audit.jsonl")
        with pytest.raises(AuditError, match=r"cannot open audit log .*audit\.jsonl") as caught:
            await logger.log_tool_attempt("s", "Bash", {}, None, "allow")
        assert isinstance(caught.value.__cause__, OSError)
        assert "TETHER_AUDIT_LOG_PATH" in str(caught.value)

    async def test_a_file_where_the_directory_should_be_is_an_audit_error(
        self, tmp_path: Path
    ) -> None:
        (tmp_path / "not-a-dir").write_text("")
        logger = AuditLogger(tmp_path / "not-a-dir" / "audit.jsonl")
        with pytest.raises(AuditError, match="cannot open audit log"):
            await logger.log("x")

    @pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
    @pytest.mark.parametrize(
        "fsync", [pytest.param(False, id="page-cache"), pytest.param(True, id="fsync")]
    )
    async def test_a_full_disk_is_an_audit_error(self, fsync: bool) -> None:
        mode_before = Path("/dev/full").stat().st_mode
        logger = AuditLogger("/dev/full", fsync=fsync)
        with structlog.testing.capture_logs() as logs:
            with pytest.raises(AuditError, match="No space left on device") as caught:
                await logger.log_security_violation("s", "Read", "outside", "high")
            with pytest.raises(AuditError):
                await logger.log("again")
        await logger.close()
        assert isinstance(caught.value.__cause__, OSError)
        assert caught.value.__cause__.errno == errno.ENOSPC
        assert isinstance(caught.value, SafetyError)
        assert [entry["event"] for entry in logs].count("audit_write_failed") == 2
        # A device is never chmod-ed, even when Tether runs as root.
        assert Path("/dev/full").stat().st_mode == mode_before

    async def test_a_failed_write_leaves_only_whole_lines_and_skips_no_seq(
        self, log_path: Path, file_size_limit: Callable[[int], None]
    ) -> None:
        logger = AuditLogger(log_path)
        for n in range(20):
            await logger.log("fits", n=n)
        size = log_path.stat().st_size

        file_size_limit(size + 40)  # room for part of the next line, not all of it
        try:
            with (
                structlog.testing.capture_logs(),
                pytest.raises(AuditError, match="writing 1 entries failed"),
            ):
                await logger.log("too big", payload="z" * 200)
        finally:
            file_size_limit(resource.RLIM_INFINITY)

        assert log_path.stat().st_size == size
        assert await logger.log("after the disk was freed") == 21
        await logger.close()
        assert [entry["seq"] for entry in read_audit_log(log_path)] == list(range(1, 22))

    async def test_a_failed_batch_fails_every_caller_in_it(
        self, log_path: Path, file_size_limit: Callable[[int], None]
    ) -> None:
        logger = AuditLogger(log_path, fsync=True)
        await logger.log("open")
        size = log_path.stat().st_size

        file_size_limit(size + 10)
        try:
            with structlog.testing.capture_logs():
                results = await asyncio.gather(
                    *(logger.log("batched", n=n) for n in range(10)), return_exceptions=True
                )
        finally:
            file_size_limit(resource.RLIM_INFINITY)

        assert all(isinstance(result, AuditError) for result in results)
        assert log_path.stat().st_size == size
        assert await logger.log("next") == 2
        await logger.close()

    async def test_logging_after_close_is_an_audit_error(self, log_path: Path) -> None:
        logger = AuditLogger(log_path)
        await logger.log("one")
        await logger.close()
        with pytest.raises(AuditError, match="closed"):
            await logger.log("two")
        assert len(read_audit_log(log_path)) == 1

    async def test_close_is_idempotent_and_safe_before_any_entry(self, log_path: Path) -> None:
        logger = AuditLogger(log_path)
        await logger.close()
        await logger.close()
        assert not log_path.exists()


_TORN_TAILS = [
    pytest.param(b'{"seq": 4, "timestamp": "2026-01-', id="cut-mid-entry"),
    pytest.param(b'{"seq": 4, "event_type": "x"', id="cut-before-the-brace"),
    pytest.param(b"\x00" * 4096, id="nul-filled-block"),
    pytest.param(b'{"seq": 4, "x": "\xff\xfe\xc3"}', id="not-utf-8"),
    pytest.param(b'{"seq": 4, "x": "caf\xc3', id="utf-8-cut-mid-character"),
    pytest.param(b"[1, 2]", id="json-but-not-an-object"),
    pytest.param(b'{"seq": 4, "ti' + b"\x00" * 512, id="cut-entry-then-nul-fill"),
    pytest.param(b"x" * (5 * 1024 * 1024), id="tail-longer-than-any-entry"),
]


class TestTornTail:
    """A crash or power cut mid-write leaves a torn last line: it is moved aside on opening."""

    @pytest.mark.parametrize("tail", _TORN_TAILS)
    async def test_a_torn_tail_is_moved_aside_and_the_log_stays_whole(
        self, log_path: Path, tail: bytes, capture: list[dict[str, Any]]
    ) -> None:
        await _write_entries(log_path, 3)
        with open(log_path, "ab") as handle:
            handle.write(tail)
        torn_part = tail

        second = AuditLogger(log_path)
        assert await second.log("after") == 5
        await second.close()

        entries = read_audit_log(log_path)
        assert [e["seq"] for e in entries] == [1, 2, 3, 4, 5]
        note = entries[3]
        assert (note["event_type"], note["bytes"]) == ("audit_torn_tail", len(torn_part))
        sibling = Path(note["moved_to"])
        assert sibling.parent == log_path.parent
        assert sibling.name.startswith("audit.jsonl.torn-")
        assert sibling.read_bytes() == torn_part
        assert stat.S_IMODE(sibling.stat().st_mode) == 0o600
        # Every line is a JSON object again: the file is valid JSON Lines.
        raw_lines = log_path.read_bytes().split(b"\n")
        assert raw_lines[-1] == b""
        assert all(isinstance(json.loads(line), dict) for line in raw_lines[:-1])
        moved = [e for e in capture if e["event"] == "audit_torn_tail_moved"]
        assert moved and moved[0]["bytes"] == len(torn_part)
        assert moved[0]["log_level"] == "warning"

    async def test_a_file_of_only_a_torn_line_starts_again_at_one(self, log_path: Path) -> None:
        log_path.parent.mkdir(parents=True)
        log_path.write_bytes(b'{"seq": 1, "times')

        logger = AuditLogger(log_path)
        assert await logger.log("after") == 2
        await logger.close()

        entries = read_audit_log(log_path)
        assert [(e["seq"], e["event_type"]) for e in entries] == [
            (1, "audit_torn_tail"),
            (2, "after"),
        ]
        assert Path(entries[0]["moved_to"]).read_bytes() == b'{"seq": 1, "times'

    async def test_an_empty_file_is_left_alone(self, log_path: Path) -> None:
        log_path.parent.mkdir(parents=True)
        log_path.write_bytes(b"")

        logger = AuditLogger(log_path)
        assert await logger.log("first") == 1
        await logger.close()

        assert [e["event_type"] for e in read_audit_log(log_path)] == ["first"]
        assert not list(log_path.parent.glob("*.torn-*"))

    async def test_a_whole_log_is_not_touched(self, log_path: Path) -> None:
        await _write_entries(log_path, 2)
        before = log_path.read_bytes()

        logger = AuditLogger(log_path)
        await logger.open()
        await logger.close()

        assert log_path.read_bytes() == before
        assert not list(log_path.parent.glob("*.torn-*"))

    async def test_a_huge_log_is_not_read_whole(
        self, log_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        log_path.parent.mkdir(parents=True)
        line = json.dumps({"seq": 1, "event_type": "bulk", "pad": "x" * 900}).encode() + b"\n"
        with open(log_path, "wb") as handle:
            handle.write(line * 40_000)  # ~37 MB
            handle.write(b'{"seq": 2, "torn')
        read_sizes: list[int] = []
        real_pread = os.pread

        def counting_pread(fd: int, length: int, offset: int) -> bytes:
            read_sizes.append(length)
            return real_pread(fd, length, offset)

        monkeypatch.setattr(os, "pread", counting_pread)
        logger = AuditLogger(log_path)
        assert await logger.log("after") == 3
        await logger.close()
        monkeypatch.undo()

        assert sum(read_sizes) < 1024 * 1024
        assert log_path.read_bytes().endswith(b'"event_type": "after"}\n')

    async def test_two_torn_tails_in_the_same_instant_keep_both(self, log_path: Path) -> None:
        for n in range(2):
            await _write_entries(log_path, 1)
            with open(log_path, "ab") as handle:
                handle.write(f"torn {n}".encode())
            logger = AuditLogger(log_path)
            await logger.open()
            await logger.close()

        kept = sorted(p.read_bytes() for p in log_path.parent.glob("*.torn-*"))
        assert kept == [b"torn 0", b"torn 1"]

    async def test_a_torn_line_mid_file_is_left_and_skipped_by_the_reader(
        self, log_path: Path, capture: list[dict[str, Any]]
    ) -> None:
        """An old log torn before this fix: the damaged line stays, the reader skips it."""
        await _write_entries(log_path, 2)
        with open(log_path, "ab") as handle:
            handle.write(b'{"seq": 3, "tim\n\xff\xfe not utf-8\n')
        await _write_entries(log_path, 1)

        entries = read_audit_log(log_path)

        assert [e["seq"] for e in entries] == [1, 2, 3]
        unreadable = [e for e in capture if e["event"] == "audit_line_unreadable"]
        assert [e["line"] for e in unreadable] == [3, 4]
        assert not list(log_path.parent.glob("*.torn-*"))

    async def test_the_log_file_keeps_its_mode_and_appends_after_recovery(
        self, log_path: Path
    ) -> None:
        await _write_entries(log_path, 1)
        with open(log_path, "ab") as handle:
            handle.write(b"\x00" * 10)
        first = AuditLogger(log_path)
        await first.log("a")
        await first.close()
        second = AuditLogger(log_path)
        await second.log("b")
        await second.close()

        assert [e["event_type"] for e in read_audit_log(log_path)] == [
            "before",
            "audit_torn_tail",
            "a",
            "b",
        ]
        assert stat.S_IMODE(log_path.stat().st_mode) == 0o600


# -- one encoding per entry ---------------------------------------------------------


def _truncated_then_written(fields: dict[str, Any]) -> str:
    """What an entry's text is by definition: every field truncated, then written."""
    record: dict[str, Any] = {"timestamp": "t", "event_type": "e"}
    record.update(truncate_strings(fields))
    return json.dumps(record, default=_jsonable, ensure_ascii=False)


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({"a": "x" * MAX_STRING_LENGTH}, id="at-the-limit"),
        pytest.param({"a": "x" * (MAX_STRING_LENGTH + 1)}, id="one-over"),
        pytest.param({"a": '"' * (MAX_STRING_LENGTH // 2 + 10)}, id="escaped-quotes-under"),
        pytest.param({"a": '"' * (MAX_STRING_LENGTH + 1)}, id="escaped-quotes-over"),
        pytest.param({"a": "\\" * (MAX_STRING_LENGTH + 1)}, id="backslashes-over"),
        pytest.param({"a": '\\"' * 200}, id="backslash-quote-pairs"),
        pytest.param({"a": "\n" * (MAX_STRING_LENGTH + 1)}, id="newlines-over"),
        pytest.param({"a": "\u2028" * (MAX_STRING_LENGTH + 1)}, id="line-separators-over"),
        pytest.param({"a": ["é" * (MAX_STRING_LENGTH - 1) + "\\"]}, id="non-ascii-under"),
        pytest.param({"a": {"b": {"c": "y" * 2000}}}, id="nested-long"),
        pytest.param({"a": (1, "two")}, id="tuple"),
        pytest.param({"a": b"\xff bytes"}, id="bytes"),
        pytest.param({"n": list(range(300)), "s": "q"}, id="long-run-without-strings"),
        pytest.param({"k" * 600: "v"}, id="long-key"),
        pytest.param({"a": "\ud800 lone surrogate"}, id="lone-surrogate"),
        pytest.param(
            {"f": [float("nan"), float("inf"), -float("inf"), -0.0, 1e300, 2**70]},
            id="numbers",
        ),
        pytest.param({"a": [[[[[[[[[["deep"]]]]]]]]]]}, id="nested-lists"),
        pytest.param({"a": {"b": 1, "c": [{"d": None, "e": True}]}, "f": "g"}, id="nested-mix"),
    ],
)
def test_an_entry_is_written_as_its_truncated_fields(fields: dict[str, Any]) -> None:
    assert encode_entry("t", "e", fields) == _truncated_then_written(fields)


class _Model(BaseModel):
    text: str


def test_a_model_field_is_truncated_like_any_other() -> None:
    fields = {"model": _Model(text="z" * 900)}
    assert encode_entry("t", "e", fields) == _truncated_then_written(fields)


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet=st.sampled_from('ab"\\\n é')),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=8,
)


@given(
    st.dictionaries(st.text(max_size=5), _json_values | st.text(min_size=480, max_size=560)),
)
@settings(max_examples=200, deadline=None)
def test_any_plain_entry_is_written_as_its_truncated_fields(fields: dict[str, Any]) -> None:
    assert encode_entry("t", "e", fields) == _truncated_then_written(fields)


async def test_timestamps_are_written_as_isoformat_writes_them(log_path: Path) -> None:
    audit = AuditLogger(log_path)
    before = datetime.now(UTC)
    for _ in range(3):
        await audit.log("tick")
    after = datetime.now(UTC)
    await audit.close()
    for entry in read_audit_log(log_path):
        stamp = datetime.fromisoformat(entry["timestamp"])
        assert stamp.isoformat(timespec="microseconds") == entry["timestamp"]
        assert before - timedelta(milliseconds=1) <= stamp <= after + timedelta(milliseconds=1)


_SECOND = 10**9


@pytest.mark.parametrize(
    "readings",
    [
        pytest.param([1_767_225_600 * _SECOND + 123_456_789], id="mid-second"),
        pytest.param(
            [
                1_767_225_600 * _SECOND,
                1_767_225_600 * _SECOND + 999_999_999,
                1_767_225_601 * _SECOND,
                1_767_225_601 * _SECOND + 1_000,
            ],
            id="across-a-second",
        ),
        pytest.param(
            [1_767_225_601 * _SECOND + 5_000, 1_767_225_600 * _SECOND + 999_999_000],
            id="clock-stepped-back",
        ),
        pytest.param(
            [1_767_225_600 * _SECOND + 7, 1_767_225_609 * _SECOND + 999],
            id="seconds-apart",
        ),
    ],
)
def test_the_stamp_is_the_clock_reading_as_isoformat_writes_it(
    readings: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every reading, in any order, is written as `datetime.isoformat` writes its
    microsecond (the stamper formats a second once and counts from its start)."""
    clock = iter(readings)
    monkeypatch.setattr(audit_module, "_time_ns", lambda: next(clock))
    stamp = audit_module._Stamper().now
    for nanos in readings:
        expected = datetime.fromtimestamp(nanos // _SECOND, UTC).replace(
            microsecond=nanos // 1000 % 1_000_000
        )
        assert stamp() == expected.isoformat(timespec="microseconds")


_run_alphabet = st.sampled_from(['"', "\\", "a", "é", "\n", " "])


@given(
    st.lists(
        st.tuples(_run_alphabet, st.integers(min_value=1, max_value=MAX_STRING_LENGTH + 40)),
        max_size=12,
    ),
)
@settings(max_examples=300, deadline=None)
def test_a_long_run_is_found_wherever_it_starts(pieces: list[tuple[str, int]]) -> None:
    """The check finds a run of more than the limit without quotes exactly when one is
    there (after the escaped quotes and backslashes are blanked), at the start too."""
    text = "".join(char * count for char, count in pieces)
    blanked = text.replace("\\\\", "..").replace('\\"', "..") if "\\" in text else text
    expected = len(text) > MAX_STRING_LENGTH and any(
        len(run) > MAX_STRING_LENGTH for run in blanked.split('"')
    )
    assert _may_hold_a_long_string(text) is expected


class TestLogNow:
    """`log_now`: the same entry as `log`, written before it returns, without a turn of the loop."""

    async def test_it_writes_the_same_line_as_log(self, tmp_path: Path) -> None:
        fields = {"session_id": "s", "tool_input": {"command": "é " + "x" * 600}, "n": [1, 2]}
        one, two = AuditLogger(tmp_path / "one.jsonl"), AuditLogger(tmp_path / "two.jsonl")
        assert await one.log("tool_attempt", **fields) == 1
        assert await two.log_now("tool_attempt", fields) == 1
        await one.close()
        await two.close()
        (a,), (b,) = read_audit_log(one.path), read_audit_log(two.path)
        del a["timestamp"], b["timestamp"]
        assert a == b
        assert json.dumps(a, ensure_ascii=False) == json.dumps(b, ensure_ascii=False)

    async def test_the_entry_is_written_when_it_returns_and_the_loop_did_not_turn(
        self, audit: AuditLogger, log_path: Path
    ) -> None:
        await audit.log("open")
        turned = asyncio.Event()
        asyncio.get_running_loop().call_soon(turned.set)
        for n in range(5):
            assert await audit.log_now("tick", {"n": n}) == n + 2
            assert len(_lines(log_path)) == n + 2
        assert not turned.is_set()

    async def test_log_still_gives_the_loop_a_turn(self, audit: AuditLogger) -> None:
        await audit.log("open")
        turned = asyncio.Event()
        asyncio.get_running_loop().call_soon(turned.set)
        await audit.log("tick")
        assert turned.is_set()

    async def test_with_fsync_it_waits_for_the_disk(self, log_path: Path) -> None:
        logger = AuditLogger(log_path, fsync=True)
        calls = [asyncio.create_task(logger.log_now("batched", {"n": n})) for n in range(10)]
        assert sorted(await asyncio.gather(*calls)) == list(range(1, 11))
        await logger.close()
        assert [e["n"] for e in read_audit_log(log_path)] == list(range(10))

    @pytest.mark.parametrize("field", ["seq", "timestamp", "event_type"])
    async def test_reserved_fields_are_refused(self, audit: AuditLogger, field: str) -> None:
        with pytest.raises(AuditError, match=f"\\['{field}'\\]"):
            await audit.log_now("x", {field: 1})

    async def test_a_closed_log_refuses(self, audit: AuditLogger) -> None:
        await audit.close()
        with pytest.raises(AuditError, match="closed"):
            await audit.log_now("x", {})

    async def test_a_failed_write_is_an_audit_error_and_leaves_no_line(
        self, log_path: Path, file_size_limit: Callable[[int], None]
    ) -> None:
        logger = AuditLogger(log_path)
        await logger.log("open")
        size = log_path.stat().st_size
        # The log line saying so goes to a capture: pytest's own files obey the limit too.
        with structlog.testing.capture_logs() as logs:
            file_size_limit(size + 10)
            try:
                with pytest.raises(AuditError, match="writing 1 entries failed"):
                    await logger.log_now("too_long", {"text": "y" * 200})
            finally:
                file_size_limit(resource.RLIM_INFINITY)
        assert [log["event"] for log in logs] == ["audit_write_failed"]
        assert await logger.log_now("after", {}) == 2
        await logger.close()
        assert [e["event_type"] for e in read_audit_log(log_path)] == ["open", "after"]


def test_an_entry_that_holds_itself_is_refused_as_before() -> None:
    """A cycle cannot be written: the error is what truncating it always raised."""
    looped: dict[str, Any] = {}
    looped["self"] = looped
    with pytest.raises(RecursionError):
        encode_entry("t", "e", {"looped": looped})
    with pytest.raises(RecursionError):
        truncate_strings({"looped": looped})


# -- fields written as JSON text, and a tool_attempt written in place --------------


def _as_json(value: Any) -> JSONText:
    return JSONText(json.dumps(value, ensure_ascii=False))


_LONG = "L" * (MAX_STRING_LENGTH + 1)


@pytest.mark.parametrize(
    "value",
    [
        pytest.param({"risk_level": "none", "parts": [{"command": "ls", "facts": []}]}, id="dict"),
        pytest.param(["a", "b"], id="list"),
        pytest.param("plain", id="string"),
        pytest.param({"reason": _LONG}, id="long-string-inside"),
        pytest.param({"k" * 600: 1}, id="long-key-inside"),
        pytest.param({"a": 'é "quoted" \\ \n \ud800'}, id="escapes"),
        pytest.param([1.5, float("nan"), 2**70, None, True], id="numbers"),
    ],
)
def test_a_field_given_as_json_text_is_written_as_its_value(value: Any) -> None:
    fields = {"before": "x", "field": _as_json(value), "after": [1]}
    plain = {"before": "x", "field": value, "after": [1]}
    assert encode_entry("t", "e", fields) == _truncated_then_written(plain)


def _attempt_fields(entry_line: str) -> tuple[str, str]:
    """A written tool_attempt line without its `seq`, and its timestamp."""
    entry = json.loads(entry_line)
    prefix = f'{{"seq": {entry["seq"]}, '
    assert entry_line.startswith(prefix)
    return "{" + entry_line[len(prefix) :].rstrip("\n"), entry["timestamp"]


def _as_written(text: str) -> str:
    """The text as the log's line holds it (a lone surrogate is written escaped)."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _decoded(value: Any) -> Any:
    return json.loads(value) if type(value) is JSONText else value


class _Subclassed(str):
    __slots__ = ()


class _Plain(BaseModel):
    a: int


_ATTEMPTS = [
    pytest.param({}, id="plain"),
    pytest.param({"session_id": _LONG}, id="long-session-id"),
    pytest.param({"tool_name": _LONG}, id="long-tool-name"),
    pytest.param({"tool_input": {"command": _LONG}}, id="long-input"),
    pytest.param({"tool_input": {"a": [{"b": _LONG}]}}, id="long-nested-input"),
    pytest.param({"tool_input": {"k" * 600: "v"}}, id="long-input-key"),
    pytest.param({"tool_input": {"a": b"\xff"}}, id="bytes-input"),
    pytest.param({"tool_input": {3: "int key", "f": float("nan")}}, id="odd-input"),
    pytest.param({"tool_input": {"a": '\ud800 é \\ " \x00'}}, id="escapes-input"),
    pytest.param({"classification": _as_json({"parts": [{"command": _LONG}]})}, id="long-json"),
    pytest.param({"decision": _as_json({"reason": 'é "q" ' + _LONG})}, id="long-decision"),
    pytest.param({"decision": {"allowed": True, "reason": "plain dict"}}, id="dict-decision"),
    pytest.param({"classification": None}, id="no-classification"),
    pytest.param({"session_id": 17, "tool_name": _Subclassed("Bash")}, id="odd-scalars"),
    pytest.param({"cwd": _LONG}, id="long-extra"),
    pytest.param({"cwd": None, "input_truncated": True}, id="scalar-extras"),
    pytest.param({"approved_directories": _as_json(["/p", _LONG])}, id="long-json-extra"),
    pytest.param({"extra_model": _Plain(a=1)}, id="model-extra"),
]


@pytest.mark.parametrize("changes", _ATTEMPTS)
async def test_a_tool_attempt_written_in_place_is_the_entry_by_definition(
    tmp_path: Path, changes: dict[str, Any]
) -> None:
    fields: dict[str, Any] = {
        "session_id": "s1",
        "tool_name": "Bash",
        "tool_input": {"command": "git status"},
        "classification": _as_json({"risk_level": "none", "risk_facts": []}),
        "decision": _as_json({"allowed": True, "rule": None, "learned_rules": []}),
        "cwd": "/project",
        "approved_directories": _as_json(["/project"]),
        "input_truncated": False,
        **changes,
    }
    log = AuditLogger(tmp_path / "audit.jsonl")
    await log.open()
    await log.log_tool_attempt(in_place=True, **fields)
    await log.close()
    written, timestamp = _attempt_fields((tmp_path / "audit.jsonl").read_text("utf-8"))
    plain = {key: _decoded(value) for key, value in fields.items()}
    record: dict[str, Any] = {"timestamp": timestamp, "event_type": "tool_attempt"}
    record.update(truncate_strings(plain))
    assert written == _as_written(json.dumps(record, default=_jsonable, ensure_ascii=False))


@given(
    st.dictionaries(
        st.sampled_from(["session_id", "tool_name", "tool_input", "classification", "cwd"]),
        _json_values | st.text(min_size=480, max_size=560),
    ),
    st.booleans(),
)
@settings(max_examples=100, deadline=None)
def test_any_tool_attempt_written_in_place_is_the_entry_by_definition(
    tmp_path_factory: pytest.TempPathFactory, changes: dict[str, Any], as_text: bool
) -> None:
    fields: dict[str, Any] = {
        "session_id": "s",
        "tool_name": "t",
        "tool_input": {},
        "classification": None,
        "decision": {"allowed": False},
        "cwd": "/",
        **changes,
    }
    if as_text:
        fields["classification"] = _as_json(fields["classification"])
    path = tmp_path_factory.mktemp("log") / "audit.jsonl"

    async def write() -> None:
        log = AuditLogger(path)
        await log.open()
        await log.log_tool_attempt(in_place=True, **fields)
        await log.close()

    asyncio.run(write())
    written, timestamp = _attempt_fields(path.read_text("utf-8"))
    record: dict[str, Any] = {"timestamp": timestamp, "event_type": "tool_attempt"}
    record.update(truncate_strings({key: _decoded(value) for key, value in fields.items()}))
    assert written == _as_written(json.dumps(record, default=_jsonable, ensure_ascii=False))


async def test_a_tool_attempt_with_a_reserved_extra_is_refused_in_place(tmp_path: Path) -> None:
    log = AuditLogger(tmp_path / "audit.jsonl")
    await log.open()
    with pytest.raises(AuditError, match=r"fields \['seq'\] that the log sets itself"):
        await log.log_tool_attempt("s", "t", {}, None, {}, in_place=True, seq=3)
    await log.close()
    assert (tmp_path / "audit.jsonl").read_text() == ""
