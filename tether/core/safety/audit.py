"""AuditLogger: the append-only JSON Lines record of every safety decision.

Each entry is one line: `seq` (one more than the entry before it, across
restarts), `timestamp` (ISO 8601, UTC), `event_type`, and the entry's fields.
A log call returns only once its line is handed to the OS (with `fsync`, once
it is on disk): the gate records a decision before the tool runs.

A single entry is one `write` of a few hundred bytes to the page cache, done in
place. Anything slower (an fsync, a backlog) goes to a worker thread, and the
calls that arrive meanwhile are written together in its next write (group
commit), so the event loop never waits on the disk and lines stay whole and in
`seq` order.

A crash or power cut can leave the last line torn (cut short, NUL-filled or
not UTF-8). On opening, such a tail is moved to a sibling file
(`audit.jsonl.torn-<UTC time>`, mode 0600) and the log is cut back to its last
whole line, so it stays valid JSON Lines; the first entry written then is an
`audit_torn_tail` entry saying how many bytes went where, and `seq` continues
from the last whole entry. Only the tail is read, however large the log.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import stat
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from tether.exceptions import AuditError
from tether.log import get_logger

__all__ = [
    "MAX_STRING_LENGTH",
    "AuditLogger",
    "JSONText",
    "attempt_body",
    "encode_entry",
    "fields_text",
    "json_string",
    "read_audit_log",
    "truncate_strings",
]

logger = get_logger(__name__)

MAX_STRING_LENGTH = 500
_TAIL_CHUNK = 64 * 1024
# A tail longer than this is no entry Tether wrote: it is torn whatever it holds.
_MAX_ENTRY_BYTES = 4 * 1024 * 1024
# Set by the log on every entry; a caller's field of the same name would break `seq`.
_RESERVED_FIELDS = frozenset({"seq", "timestamp", "event_type"})


def truncate_strings(value: Any, limit: int = MAX_STRING_LENGTH) -> Any:
    """A copy of `value` with every string longer than `limit` cut, marked with what was cut."""
    if isinstance(value, str):
        if len(value) <= limit:
            return value
        return f"{value[:limit]}…[truncated {len(value) - limit} chars]"
    if isinstance(value, Mapping):
        return {str(key): truncate_strings(item, limit) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [truncate_strings(item, limit) for item in value]
    if isinstance(value, BaseModel):
        return truncate_strings(value.model_dump(mode="json"), limit)
    if isinstance(value, (bytes, bytearray)):
        return truncate_strings(bytes(value).decode("utf-8", "backslashreplace"), limit)
    return value


class _NotPlainError(Exception):
    """A value JSON cannot write as it is (a model, bytes, an object): take the careful path."""


def _plain_only(value: Any) -> Any:
    raise _NotPlainError


# A run of characters without a quote, longer than the limit. Once the escaped
# backslashes and quotes are blanked out (same length), every quote in an encoded
# entry delimits a string, and each character of a string takes at least one
# place (`\n` two, `\u00e9` six): a string longer than the limit always leaves
# such a run. What else does (a long list of numbers) only sends the entry down
# the careful path, which writes the same.
_LONG_RUN = re.compile(f'[^"]{{{MAX_STRING_LENGTH + 1}}}')
# The same run, looked for only where one can start: at the text's start (`match`)
# or just after a quote. The search then jumps from quote to quote and reads each
# run once; searching for `_LONG_RUN` anywhere would read each run again from
# every one of its characters (about 50 µs for an entry of 1,400 characters).
_LONG_RUN_AFTER_QUOTE = re.compile(f'"[^"]{{{MAX_STRING_LENGTH + 1}}}')


# Built once: `json.dumps` with any option builds an encoder per call.
_PLAIN_ENCODER = json.JSONEncoder(default=_plain_only, ensure_ascii=False)


def _plain_encoder() -> Callable[[Any], str]:
    """`_PLAIN_ENCODER.encode`, without what it redoes on every call.

    `JSONEncoder.encode` builds the C encoder anew for each call and has it
    keep a table of the containers it is inside (to report a cycle). Built
    once, with the same options and no table, the C encoder writes the same
    text in half the time; a cycle then ends in a RecursionError, which sends
    the entry down the careful path as the cycle's ValueError did. Without
    the C encoder (another interpreter), the encoder's own `encode` is used.
    """
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:
        return _PLAIN_ENCODER.encode
    encoder = make(
        None,  # no table of the containers being encoded
        _plain_only,
        json.encoder.encode_basestring,  # the C function `ensure_ascii=False` picks
        None,  # indent
        _PLAIN_ENCODER.key_separator,
        _PLAIN_ENCODER.item_separator,
        False,  # sort_keys
        False,  # skipkeys
        True,  # allow_nan
    )

    def encode(value: Any) -> str:
        return "".join(encoder(value, 0))

    return encode


_encode_plain = _plain_encoder()


class _Stamper:
    """The current UTC time as `datetime.isoformat(timespec="microseconds")` writes it.

    The date and time of day are formatted once per second; entries within the
    second share them (a tenth of what `datetime.now().isoformat()` costs). The
    microseconds are counted from the start of that second, kept in nanoseconds:
    the clock's reading less it is a small number, cheap to divide, where the
    reading itself takes several of Python's digits.
    """

    def __init__(self) -> None:
        # The first nanosecond of the second `_prefix` spells (none yet: any reading
        # is out of range and formats its own second).
        self._second_ns = -(10**18)
        self._prefix = ""

    def now(self) -> str:
        nanos = _time_ns()
        micros = (nanos - self._second_ns) // 1000
        if micros >= 1_000_000 or micros < 0:  # another second (or the clock stepped back)
            seconds = nanos // 1_000_000_000
            self._second_ns = seconds * 1_000_000_000
            micros = (nanos - self._second_ns) // 1000
            self._prefix = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S.")
        # Six digits, zero-padded, from two table entries (a format spec costs more).
        return f"{self._prefix}{_DIGITS[micros // 1000]}{_DIGITS[micros % 1000]}+00:00"


# 000 to 999, for the timestamp's six digits of microseconds.
_DIGITS = tuple(f"{number:03d}" for number in range(1000))
_time_ns = time.time_ns


def _may_hold_a_long_string(text: str) -> bool:
    if len(text) <= MAX_STRING_LENGTH:
        return False
    if "\\" in text:
        text = text.replace("\\\\", "..").replace('\\"', "..")
    return _LONG_RUN.match(text) is not None or _LONG_RUN_AFTER_QUOTE.search(text) is not None


json_string: Callable[[str], str] = json.encoder.encode_basestring
"""A string as a JSON string, as every entry writes one (`ensure_ascii=False`)."""


class JSONText(str):
    """A field's value already written as JSON text, put into the entry as it is.

    The text must be what the entry would hold for the value otherwise: JSON as
    `json.dumps(value, ensure_ascii=False)` writes it, strings by `json_string`.
    A caller that writes the same shape for every call (the gate's summary of a
    decision) writes its keys as literals, instead of building objects for the
    log to encode key by key. A string longer than `MAX_STRING_LENGTH` in it is
    cut as in any other field (the entry is then written from the decoded value).

    Only an entry's own fields are read this way: one nested in another value is
    an ordinary string there. A `str` (built in C, without a Python call) rather
    than a wrapper, as the gate makes two for every call.
    """

    __slots__ = ()


def encode_entry(timestamp: str, event_type: str, fields: Mapping[str, Any]) -> str:
    """An entry as a JSON object without its `seq` (the writer puts it first).

    The same text as truncating every field (`truncate_strings`) and then
    writing the result, built once: most entries hold only plain JSON values
    and no long string, and are written straight away; the rest take the copy.
    """
    if JSONText in map(type, fields.values()):
        fields = {
            key: json.loads(value) if type(value) is JSONText else value
            for key, value in fields.items()
        }
    record = {"timestamp": timestamp, "event_type": event_type, **fields}
    try:
        text = _encode_plain(record)
    except (_NotPlainError, TypeError, ValueError, RecursionError):
        text = None  # the careful path writes it, or raises what it always raised
    if text is None or _may_hold_a_long_string(text):
        record = {"timestamp": timestamp, "event_type": event_type}
        record.update(truncate_strings(fields))
        text = json.dumps(record, default=_jsonable, ensure_ascii=False)
    return text


# What the top-level keys of most entries encode to, looked up instead of encoded each time.
_KEYS = {
    key: json_string(key)
    for key in (
        "session_id",
        "tool_name",
        "tool_input",
        "classification",
        "decision",
        "cwd",
        "approved_directories",
        "input_truncated",
        "chat_id",
        "user_id",
        "approval_id",
        "approved",
        "outcome",
    )
}
_SCALARS: dict[Any, str] = {True: "true", False: "false", None: "null"}


def _field_text(value: Any) -> str | None:
    """A field's value as an entry writes it; None when the careful path must write it
    (a value that is not plain JSON, or may hold a string longer than the limit)."""
    kind = type(value)
    if kind is str:
        return json_string(value) if len(value) <= MAX_STRING_LENGTH else None
    if kind is bool or value is None:
        return _SCALARS[value]
    if kind is JSONText:
        text: str = value
    else:
        try:
            text = _encode_plain(value)
        except (_NotPlainError, TypeError, ValueError, RecursionError):
            return None
    # A long string lies within one value's text: its own scan finds it.
    if len(text) > MAX_STRING_LENGTH and _may_hold_a_long_string(text):
        return None
    return text


def _judged_texts(classification: Any, decision: Any) -> tuple[str | None, str | None]:
    """The `classification` and `decision` fields' text (`_field_text`), the gate's own
    `JSONText` of a bounded length taken as it is, without a call per field."""
    limit = MAX_STRING_LENGTH
    summary = (
        classification
        if type(classification) is JSONText and len(classification) <= limit
        else _field_text(classification)
    )
    verdict = (
        decision if type(decision) is JSONText and len(decision) <= limit else _field_text(decision)
    )
    return summary, verdict


def attempt_body(classification: JSONText, decision: JSONText) -> str | None:
    """A `tool_attempt` entry's `classification` and `decision` fields as the entry
    writes them after its `tool_input` (`, "classification": ..., "decision": ...`),
    for `write_attempt`; None when either needs the careful path (`_judged_texts`).

    The gate writes it once per verdict: every call the verdict decides shares it.
    """
    summary, verdict = _judged_texts(classification, decision)
    if summary is None or verdict is None:
        return None
    return f', "classification": {summary}, "decision": {verdict}'


def _tool_attempt_text(
    timestamp: str,
    session_id: Any,
    tool_name: Any,
    tool_input: Any,
    classification: Any,
    decision: Any,
    extra: Mapping[str, Any],
) -> str | None:
    """A `tool_attempt` entry written field by field, from literal keys.

    The same text `encode_entry` writes for it (the same keys in the same order,
    the same separators, each value as the encoder writes it), without a dict
    to encode key by key; None when a value needs the careful path. The
    timestamp is the log's own (`_Stamper`): digits and `-:.+T`, nothing to escape.
    """
    # What the gate passes (short text, and JSONText short enough to need no
    # scan) is taken here; anything else as `_field_text` takes it.
    limit = MAX_STRING_LENGTH
    session = (
        json_string(session_id)
        if type(session_id) is str and len(session_id) <= limit
        else _field_text(session_id)
    )
    tool = (
        json_string(tool_name)
        if type(tool_name) is str and len(tool_name) <= limit
        else _field_text(tool_name)
    )
    call = _field_text(tool_input)
    summary, verdict = _judged_texts(classification, decision)
    if session is None or tool is None or call is None or summary is None or verdict is None:
        return None
    tail = fields_text(extra)
    if tail is None:
        return None
    return (
        f'{{"timestamp": "{timestamp}", "event_type": "tool_attempt", "session_id": {session}, '
        f'"tool_name": {tool}, "tool_input": {call}, "classification": {summary}, '
        f'"decision": {verdict}{tail}}}'
    )


def fields_text(fields: Mapping[str, Any]) -> JSONText | None:
    """Fields as an entry writes them after others: `, "key": value` for each, in order.

    None when a value needs the careful path (see `_field_text`). The gate writes
    the fields every call of a session ends with (its directory, the approved
    directories) once with this, and hands the text to `write_tool_attempt`.
    """
    limit = MAX_STRING_LENGTH
    text = ""
    for key, value in fields.items():
        kind = type(value)
        if kind is JSONText and len(value) <= limit:
            value_text: str | None = value
        elif kind is bool:
            value_text = "true" if value else "false"
        else:
            value_text = _field_text(value)
            if value_text is None:
                return None
        text += f", {_KEYS.get(key) or json_string(key)}: {value_text}"
    return JSONText(text)


def _jsonable(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if hasattr(value, "value") and isinstance(getattr(value, "value", None), str):
        return value.value  # enums
    return repr(value)


def _reserved_error(event_type: str, fields: Mapping[str, Any]) -> AuditError:
    clashing = sorted(_RESERVED_FIELDS.intersection(fields))
    return AuditError(
        f"audit entry {event_type!r} has fields {clashing} that the log sets "
        f"itself; rename them (reserved: {', '.join(sorted(_RESERVED_FIELDS))})"
    )


def _last_sequence(fd: int) -> tuple[int, bool]:
    """The last whole entry's `seq` and whether the file ends mid-line (a crash during a write)."""
    size = os.fstat(fd).st_size
    if size == 0:
        return 0, False
    offset = size
    carry = b""
    ends_mid_line = os.pread(fd, 1, size - 1) != b"\n"
    while offset > 0:
        start = max(0, offset - _TAIL_CHUNK)
        chunk = os.pread(fd, offset - start, start) + carry
        lines = chunk.split(b"\n")
        # The first piece may be a line cut by the chunk boundary: keep it for the next round.
        carry = lines[0] if start > 0 else b""
        candidates = lines[1:] if start > 0 else lines
        for raw in reversed(candidates):
            if not raw.strip():
                continue
            try:
                sequence = json.loads(raw)["seq"]
            except (ValueError, KeyError, TypeError):
                continue  # a torn or foreign line: keep looking further back
            if isinstance(sequence, int):
                return sequence, ends_mid_line
        offset = start
    return 0, ends_mid_line


class _TornTail(BaseModel):
    """A torn last line moved out of the log on opening."""

    model_config = ConfigDict(frozen=True)

    length: int
    moved_to: str


def _last_newline_end(fd: int, size: int) -> int:
    """The offset just past the file's last newline (0 when it has none), reading backwards."""
    offset = size
    while offset > 0:
        start = max(0, offset - _TAIL_CHUNK)
        found = os.pread(fd, offset - start, start).rfind(b"\n")
        if found >= 0:
            return start + found + 1
        offset = start
    return 0


def _is_whole_entry(raw: bytes) -> bool:
    """A line Tether could have written: one UTF-8 JSON object."""
    try:
        return isinstance(json.loads(raw.decode("utf-8")), dict)
    except ValueError:  # UnicodeDecodeError is a ValueError too
        return False


def _move_torn_tail(fd: int, path: Path) -> _TornTail | None:
    """Move the log's unfinished last line to a sibling file and cut the log before it.

    A last line that is a whole entry without its newline stays (the next write
    adds the newline). The tail is copied and synced before the log is cut, so a
    crash in between loses nothing.
    """
    size = os.fstat(fd).st_size
    cut = _last_newline_end(fd, size)
    length = size - cut
    if length == 0:
        return None
    if length <= _MAX_ENTRY_BYTES and _is_whole_entry(os.pread(fd, length, cut)):
        return None
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    for attempt in range(100):
        suffix = f".torn-{stamp}" + (f"-{attempt}" if attempt else "")
        sibling = path.with_name(path.name + suffix)
        try:
            out = os.open(sibling, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            break
        except FileExistsError:
            continue
    else:
        raise OSError(17, f"no free name for the torn tail of {path}")
    try:
        offset = cut
        while offset < size:
            chunk = os.pread(fd, min(_TAIL_CHUNK, size - offset), offset)
            if not chunk:
                break
            os.write(out, chunk)
            offset += len(chunk)
        os.fsync(out)
    finally:
        os.close(out)
    os.ftruncate(fd, cut)
    os.fsync(fd)
    return _TornTail(length=length, moved_to=str(sibling))


class AuditLogger:
    """Append-only JSON Lines audit log at `path`, created with mode 0600.

    Args:
        path: the log file; its directory is created if missing.
        fsync: flush each write to the disk before the call returns. Off, each
            entry is handed to the OS before the call returns: it survives a crash
            of Tether, not a power cut.

    Every `log_*` method raises `AuditError` when its entry could not be written;
    the entry is then not in the file, and nothing after it is skipped.
    """

    def __init__(self, path: Path | str, *, fsync: bool = False) -> None:
        self._path = Path(path).expanduser()
        self._fsync = fsync
        self._fd: int | None = None
        self._sequence = 0
        self._needs_newline = False
        self._open_lock = asyncio.Lock()
        self._pending: list[tuple[str, asyncio.Future[int]]] = []
        self._writer: asyncio.Task[None] | None = None
        self._closed = False
        # The bound method, not the object: calling an object goes through its type's
        # call slot, a method is called as a plain function.
        self._stamp = _Stamper().now
        # The session and tool `write_attempt` last wrote, and their fields' text from
        # `"event_type"` to `"tool_input": ` (a session's calls mostly name both again).
        self._named: tuple[str | None, str | None, str] = (None, None, "")

    @property
    def path(self) -> Path:
        return self._path

    @property
    def last_sequence(self) -> int:
        """The `seq` of the last entry written (0 before the first)."""
        return self._sequence

    async def log_tool_attempt(
        self,
        session_id: str,
        tool_name: str,
        tool_input: Any,
        classification: Any,
        decision: Any,
        *,
        in_place: bool = False,
        **extra: Any,
    ) -> int:
        """Record a tool call and the gate's decision; returns the entry's `seq`.

        `in_place` writes it as `log_now` does, without a turn of the event loop.
        """
        if in_place and self._writes_in_place():
            # Only `extra` can hold a name the log sets itself.
            if extra and not _RESERVED_FIELDS.isdisjoint(extra):
                raise _reserved_error("tool_attempt", extra)
            timestamp = self._stamp()
            text = _tool_attempt_text(
                timestamp, session_id, tool_name, tool_input, classification, decision, extra
            )
            if text is not None:
                return self._write_text(text)
        fields = {
            "session_id": session_id,
            "tool_name": tool_name,
            "tool_input": tool_input,
            "classification": classification,
            "decision": decision,
            **extra,
        }
        return await self._log("tool_attempt", fields, checkpoint=not in_place)

    def write_tool_attempt(
        self,
        session_id: str,
        tool_name: str,
        tool_input: Any,
        classification: Any,
        decision: Any,
        tail: JSONText,
        *,
        first: tuple[str, Mapping[str, Any]] | None = None,
    ) -> int | None:
        """`log_tool_attempt(..., in_place=True)` in one pass, for the gate; returns the `seq`.

        `tail` is the entry's last fields as `fields_text` writes them (the same
        for every call a session makes, so the gate writes them once). The line
        is the one `log_tool_attempt` writes, built with its `seq` at once and
        handed to the OS here. `first` (an event type and its fields) is an entry
        `log_now` would write just before, written with it in the same write: the
        gate's refusal of an ask nobody can answer writes its `approval` entry so.
        None, and nothing written, when the entries cannot be written in place
        (see `log_now`) or a value needs the careful path: the caller then logs
        them one by one.

        Raises:
            AuditError: the entries could not be written (neither is in the file).
        """
        if not self._writes_in_place():
            return None
        limit = MAX_STRING_LENGTH
        if type(session_id) is not str or len(session_id) > limit:
            return None
        if type(tool_name) is not str or len(tool_name) > limit:
            return None
        call = _field_text(tool_input)
        summary, verdict = _judged_texts(classification, decision)
        if call is None or summary is None or verdict is None:
            return None
        sequence = self._sequence + 1
        timestamp = self._stamp()
        before = ""
        if first is not None:
            event_type, fields = first
            if not _RESERVED_FIELDS.isdisjoint(fields):
                return None
            # What `_write_one` writes for it, then this entry with the next seq.
            before = f'{{"seq": {sequence}, {encode_entry(timestamp, event_type, fields)[1:]}\n'
            sequence += 1
        text = (
            f'{before}{{"seq": {sequence}, "timestamp": "{timestamp}", '
            '"event_type": "tool_attempt", '
            f'"session_id": {json_string(session_id)}, "tool_name": {json_string(tool_name)}, '
            f'"tool_input": {call}, "classification": {summary}, "decision": {verdict}{tail}}}\n'
        )
        try:
            return self._write_lines(text, sequence)
        except OSError as error:
            raise self._write_error(1, error) from error

    def write_attempt(
        self, session_id: str, tool_name: str, call: str, body: str, tail: str
    ) -> int | None:
        """`write_tool_attempt` for the gate's every allow and deny; returns the `seq`.

        `call` is the entry's `tool_input` as JSON text, as the entry writes it
        (no string in it longer than `MAX_STRING_LENGTH`: the gate writes it for
        the flat inputs agents send), `body` its judged fields as `attempt_body`
        writes them (once per verdict) and `tail` its last fields as
        `fields_text` writes them (once per directory): nothing is encoded here
        but the names. The line is the one `log_tool_attempt` writes. None, and
        nothing written, when the entry cannot be written in place or at once
        (see `log_now`; a line to end first) or a name needs the careful path:
        the caller then logs it so.

        Raises:
            AuditError: the entry could not be written (it is not in the file).
        """
        fd = self._fd
        if fd is None or self._fsync or self._closed or self._needs_newline:
            return None
        writer = self._writer
        if writer is not None and not writer.done():
            return None
        if type(session_id) is not str or type(tool_name) is not str:
            return None
        named = self._named
        if session_id == named[0] and tool_name == named[1]:  # a session's calls in a row
            head = named[2]
        else:
            limit = MAX_STRING_LENGTH
            if len(session_id) > limit or len(tool_name) > limit:
                return None
            head = (
                f'"event_type": "tool_attempt", "session_id": {json_string(session_id)}, '
                f'"tool_name": {json_string(tool_name)}, "tool_input": '
            )
            self._named = (session_id, tool_name, head)
        sequence = self._sequence + 1
        data = (
            f'{{"seq": {sequence}, "timestamp": "{self._stamp()}", {head}{call}{body}{tail}}}\n'
        ).encode("utf-8", "backslashreplace")
        written = 0
        try:
            written = os.write(fd, data)
            if written != len(data):
                raise OSError(28, "short write (disk full?)")
        except OSError as error:
            self._cut(fd, written)
            raise self._write_error(1, error) from error
        self._sequence = sequence
        return sequence

    async def log_approval(
        self, session_id: str, tool_name: str, approved: bool, user_id: int | str | None
    ) -> int:
        """Record a person's answer (or the timeout) to an approval request."""
        return await self.log(
            "approval",
            session_id=session_id,
            tool_name=tool_name,
            approved=approved,
            user_id=user_id,
        )

    async def log_security_violation(
        self, session_id: str, tool_name: str, reason: str, risk_level: str
    ) -> int:
        """Record a sandbox escape attempt or another security violation.

        Written as `log_now` writes an entry, without a turn of the event loop:
        the AuditPlugin records one for every sandbox denial, from its
        `tool.denied` handler, and a handler that finishes without suspending
        costs the bus no task and no timer (`EventBus.emit`). The line, built
        here from literal keys when every value is short text, is the one `log`
        writes.

        Raises:
            AuditError: the entry could not be written.
        """
        if self._writes_in_place():
            limit = MAX_STRING_LENGTH
            if (
                type(session_id) is str
                and type(tool_name) is str
                and type(reason) is str
                and type(risk_level) is str
                and len(session_id) <= limit
                and len(tool_name) <= limit
                and len(reason) <= limit
                and len(risk_level) <= limit
            ):
                sequence = self._sequence + 1
                text = (
                    f'{{"seq": {sequence}, "timestamp": "{self._stamp()}", '
                    f'"event_type": "security_violation", "session_id": {json_string(session_id)}, '
                    f'"tool_name": {json_string(tool_name)}, "reason": {json_string(reason)}, '
                    f'"risk_level": {json_string(risk_level)}}}\n'
                )
                try:
                    return self._write_lines(text, sequence)
                except OSError as error:
                    raise self._write_error(1, error) from error
        fields = {
            "session_id": session_id,
            "tool_name": tool_name,
            "reason": reason,
            "risk_level": risk_level,
        }
        return await self._log("security_violation", fields, checkpoint=False)

    async def log(self, event_type: str, /, **fields: Any) -> int:
        """Record an entry of `event_type` with `fields`; returns its `seq`.

        Raises:
            AuditError: the entry could not be written.
        """
        return await self._log(event_type, fields, checkpoint=True)

    async def log_now(self, event_type: str, fields: Mapping[str, Any]) -> int:
        """`log` for a caller whose own I/O gives the event loop back.

        The entry is written before the call returns, as with `log`; the call
        suspends only when it waits for the disk (an fsync, a backlog), never
        just to give the loop a turn after a write in place. The gate records
        every tool call with it: a call reaches the gate through the agent's
        pipe, so the loop turns between calls anyway, and a turn per call costs
        more than the write itself. `fields` is encoded at once and not kept.

        Raises:
            AuditError: the entry could not be written.
        """
        if self._writes_in_place():
            if not _RESERVED_FIELDS.isdisjoint(fields):
                raise _reserved_error(event_type, fields)
            return self._write_one(event_type, fields)
        return await self._log(event_type, fields, checkpoint=False)

    @property
    def writes_in_place(self) -> bool:
        """Whether an entry logged now is written at once, in place: the log is open,
        no fsync is asked for and no backlog is being written (see `log_now`)."""
        return self._writes_in_place()

    def _writes_in_place(self) -> bool:
        """Whether an entry logged now is written at once, in place, by `_write_one`:
        the log is open, no fsync is asked for and no backlog is being written."""
        if self._fd is None or self._fsync or self._closed:
            return False
        writer = self._writer
        return writer is None or writer.done()

    def _write_one(self, event_type: str, fields: Mapping[str, Any]) -> int:
        """Encode and write one entry now (when `_writes_in_place`); returns its `seq`."""
        # One small write to the OS page cache takes microseconds: doing it
        # here spares the thread hand-off (~100 µs) on the gate's path.
        record = encode_entry(self._stamp(), event_type, fields)
        sequence = self._sequence + 1
        try:
            # What `_write_batch` writes for this one record.
            return self._write_lines(f'{{"seq": {sequence}, {record[1:]}\n', sequence)
        except OSError as error:
            raise self._write_error(1, error) from error

    def _write_text(self, record: str) -> int:
        """Write one encoded entry now; returns its `seq`."""
        try:
            return self._write_batch([record])
        except OSError as error:
            raise self._write_error(1, error) from error

    async def _log(self, event_type: str, fields: Mapping[str, Any], *, checkpoint: bool) -> int:
        if self._closed:
            raise AuditError(f"audit log {self._path} is closed; entry {event_type!r} not written")
        if not _RESERVED_FIELDS.isdisjoint(fields):
            raise _reserved_error(event_type, fields)
        if self._fd is None:
            await self._open()
        writer = self._writer
        writer_busy = writer is not None and not writer.done()
        if not self._fsync and not writer_busy:
            sequence = self._write_one(event_type, fields)
            if checkpoint:
                # Without this yield a task logging in a loop would never give the
                # event loop back: each call is a checkpoint, as a real write would be.
                await asyncio.sleep(0)
            return sequence
        # Encoded now, on the caller's side: the entry is what the fields were at
        # this call, whatever happens to them while a backlog is written.
        record = encode_entry(self._stamp(), event_type, fields)
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._pending.append((record, future))
        if not writer_busy:
            self._writer = asyncio.create_task(self._write_pending())
        # Shielded: a caller cancelled while waiting must not cancel a write that
        # carries other callers' entries.
        return await asyncio.shield(future)

    async def open(self) -> None:
        """Open (or create) the log now, so a bad path fails at start-up, not at the first
        tool call. Logging opens it on demand too.

        Raises:
            AuditError: the file cannot be opened; the message names the path.
        """
        if self._fd is None:
            await self._open()

    async def flush(self) -> None:
        """Wait until every entry logged so far is written."""
        while self._writer is not None and not self._writer.done():
            await asyncio.shield(self._writer)

    async def close(self) -> None:
        """Write what is pending and close the file; later log calls raise AuditError."""
        self._closed = True
        await self.flush()
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    async def _open(self) -> None:
        async with self._open_lock:
            if self._fd is not None:
                return
            try:
                self._fd, self._sequence, self._needs_newline, torn = await asyncio.to_thread(
                    self._open_file
                )
            except OSError as error:
                raise AuditError(
                    f"cannot open audit log {self._path}: {error.strerror or error}; "
                    "check TETHER_AUDIT_LOG_PATH and the directory's permissions"
                ) from error
            logger.debug("audit_log_opened", path=str(self._path), last_seq=self._sequence)
            if torn is not None:
                await self._record_torn_tail(torn)

    async def _record_torn_tail(self, torn: _TornTail) -> None:
        """Say in the log and in the audit itself that a torn tail was moved aside."""
        logger.warning(
            "audit_torn_tail_moved",
            path=str(self._path),
            bytes=torn.length,
            moved_to=torn.moved_to,
            last_seq=self._sequence,
        )
        record = encode_entry(
            self._stamp(),
            "audit_torn_tail",
            {"bytes": torn.length, "moved_to": torn.moved_to},
        )
        try:
            await asyncio.to_thread(self._write_batch, [record])
        except OSError as error:
            raise self._write_error(1, error) from error

    def _open_file(self) -> tuple[int, int, bool, _TornTail | None]:
        self._path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self._path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
        torn = None
        try:
            # Tighten an existing log file, but never a device: as root, a log
            # pointed at /dev/null must not make /dev/null unusable for others.
            if stat.S_ISREG(os.fstat(fd).st_mode):
                os.fchmod(fd, 0o600)
                torn = _move_torn_tail(fd, self._path)
            sequence, needs_newline = _last_sequence(fd)
        except BaseException:
            os.close(fd)
            raise
        return fd, sequence, needs_newline, torn

    async def _write_pending(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, []
            try:
                last = await asyncio.to_thread(self._write_batch, [record for record, _ in batch])
            except OSError as error:
                failure = self._write_error(len(batch), error)
                failure.__cause__ = error
                for _, future in batch:
                    if not future.done():
                        future.set_exception(failure)
                continue
            first = last - len(batch) + 1
            for offset, (_, future) in enumerate(batch):
                if not future.done():
                    future.set_result(first + offset)

    def _write_error(self, count: int, error: OSError) -> AuditError:
        logger.error("audit_write_failed", path=str(self._path), error=repr(error))
        return AuditError(
            f"audit log {self._path}: writing {count} entries failed: "
            f"{error.strerror or error}; check the disk space and TETHER_AUDIT_LOG_PATH"
        )

    def _write_batch(self, records: list[str]) -> int:
        """Write encoded entries (`encode_entry`), each given the next `seq` as its first field."""
        sequence = self._sequence
        # `{"seq": N, ` then the entry's own fields: what json.dumps writes for
        # {"seq": N, **entry}, without encoding the entry a second time.
        if len(records) == 1:  # the common case, on the gate's path
            sequence += 1
            text = f'{{"seq": {sequence}, {records[0][1:]}\n'
        else:
            lines = []
            for record in records:
                sequence += 1
                lines.append(f'{{"seq": {sequence}, {record[1:]}')
            text = "\n".join(lines) + "\n"
        return self._write_lines(text, sequence)

    def _write_lines(self, text: str, sequence: int) -> int:
        """Write whole lines ending with entry `sequence`; returns it."""
        fd = self._fd
        assert fd is not None
        if self._needs_newline:
            text = "\n" + text
        data = text.encode("utf-8", "backslashreplace")
        written = 0
        try:
            written = os.write(fd, data)
            if written != len(data):
                raise OSError(28, "short write (disk full?)")
            if self._fsync:
                os.fsync(fd)
        except OSError:
            self._cut(fd, written)
            raise
        self._needs_newline = False
        self._sequence = sequence
        return sequence

    def _cut(self, fd: int, written: int) -> None:
        """Leave only whole lines behind after a failed write: cut what it managed to
        write (a write that raised wrote nothing; an fsync that failed follows a
        whole write). The size is asked only now, off the common path."""
        try:
            os.ftruncate(fd, os.fstat(fd).st_size - written)
        except OSError:
            self._needs_newline = True


def read_audit_log(path: Path | str) -> list[dict[str, Any]]:
    """Every entry of the audit log at `path`, oldest first (for tests and tools).

    A line that is not a JSON object (torn by a crash in an old log, not UTF-8,
    edited by hand) is skipped with an `audit_line_unreadable` warning naming
    its line number, so one damaged line never hides the entries around it.
    """
    entries = []
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            try:
                entry = json.loads(raw.decode("utf-8"))
            except ValueError as error:
                entry, reason = None, str(error)
            else:
                reason = f"a JSON {type(entry).__name__}, not an object"
            if isinstance(entry, dict):
                entries.append(entry)
            else:
                logger.warning(
                    "audit_line_unreadable", path=str(path), line=number, reason=reason[:200]
                )
    return entries
