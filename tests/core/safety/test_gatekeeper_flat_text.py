"""The gate writes a flat input's JSON text in the pass that tells it flat (`_flat_text`):
that text is the entry's `tool_input` as the log defines it, it is made only for inputs
the record may read as they are (`_flat`), and an entry written from it is the line the
log's careful path writes."""

from __future__ import annotations

import json
import math
import re
from collections import OrderedDict
from enum import IntEnum
from pathlib import Path
from typing import Any

import pytest

from tether.core.events import EventBus
from tether.core.safety import gatekeeper as gate_module
from tether.core.safety.approvals import ApprovalCoordinator
from tether.core.safety.audit import MAX_STRING_LENGTH, AuditLogger, truncate_strings
from tether.core.safety.gatekeeper import ToolGatekeeper

from .conftest import MakePipeline


class _Text(str):
    __slots__ = ()


class _Number(IntEnum):
    ONE = 1


_INPUTS = [
    pytest.param({"command": "git status"}, id="a-command"),
    pytest.param({"file_path": "src/app.py", "offset": 10, "limit": 20}, id="read-with-ints"),
    pytest.param({}, id="empty"),
    pytest.param({"a": None, "b": True, "c": False, "d": 0, "e": -7}, id="scalars"),
    pytest.param({"x": 1.5}, id="float"),
    pytest.param({"x": math.nan}, id="nan"),
    pytest.param({"x": -math.inf}, id="infinity"),
    pytest.param({"x": 10**18 - 1, "y": -(10**18) + 1}, id="ints-at-the-bound"),
    pytest.param({"x": 10**18}, id="int-over-the-bound"),
    pytest.param({"x": 10**5000}, id="int-past-pythons-digit-limit"),
    pytest.param({"k" * 100: "v"}, id="key-at-the-limit"),
    pytest.param({"k" * 101: "v"}, id="key-over-the-limit"),
    pytest.param({f"k{n}": n for n in range(50)}, id="items-at-the-limit"),
    pytest.param({f"k{n}": n for n in range(51)}, id="items-over-the-limit"),
    pytest.param({"command": "x" * MAX_STRING_LENGTH}, id="string-at-the-limit"),
    pytest.param({"command": "x" * (MAX_STRING_LENGTH + 1)}, id="string-over-the-limit"),
    pytest.param({"command": "\n" * MAX_STRING_LENGTH}, id="escapes-at-the-limit"),
    pytest.param(
        {"a": '"' * MAX_STRING_LENGTH, "b": "\\" * MAX_STRING_LENGTH}, id="quotes-and-backslashes"
    ),
    pytest.param({"command": "echo \"a\\b\" '\\n' \t\x00\x1f\x7f $HOME"}, id="control-chars"),
    pytest.param({'k"\\\n': "v"}, id="key-to-escape"),
    pytest.param({"command": "echo é"}, id="non-ascii"),
    pytest.param({"command": "echo \ud800"}, id="lone-surrogate"),
    pytest.param({"command": _Text("ls")}, id="str-subclass"),
    pytest.param({"n": _Number.ONE}, id="int-subclass"),
    pytest.param({1: "a"}, id="int-key"),
    # Keys of the tools' own fields are written from a table (`_KEY_TEXTS`), others as met.
    pytest.param({_Text("command"): "ls"}, id="str-subclass-of-a-known-key"),
    pytest.param({"command": "ls", "k" * 101: "v"}, id="known-key-then-a-long-one"),
    pytest.param({"file_path": "a", "unknown": 1, "content": "x"}, id="known-and-unknown-keys"),
    pytest.param({"edits": [{"old_string": "a", "new_string": "b"}]}, id="nested"),
    pytest.param({"data": b"\xff"}, id="bytes"),
    pytest.param(OrderedDict(command="ls"), id="dict-subclass"),
    pytest.param(["not", "an", "object"], id="a-list"),
    pytest.param("text", id="a-string"),
    pytest.param(None, id="none"),
]


@pytest.mark.parametrize("tool_input", _INPUTS)
def test_the_text_is_the_logged_input_as_the_log_writes_it(tool_input: Any) -> None:
    text = gate_module._flat_text(tool_input)
    if text is None:
        # Not flat (copied for the record), or a value the log writes itself.
        assert not gate_module._flat(tool_input) or any(
            type(value) is float
            or (type(value) is int and abs(value) >= 10**18)
            or (type(value) is str and len(value) > MAX_STRING_LENGTH)
            for value in tool_input.values()
        )
        return
    assert gate_module._flat(tool_input)  # the record reads the input itself
    assert text == json.dumps(truncate_strings(tool_input), ensure_ascii=False)
    assert text == json.dumps(tool_input, ensure_ascii=False)  # nothing was cut


@pytest.mark.parametrize(
    "tool_input",
    [
        pytest.param({"command": "git status"}, id="a-command"),
        pytest.param({"file_path": "src/app.py", "offset": 10, "limit": 20}, id="read"),
        pytest.param({"command": "\n" * MAX_STRING_LENGTH}, id="escapes-at-the-limit"),
        pytest.param({}, id="empty"),
    ],
)
def test_the_inputs_agents_send_get_their_text(tool_input: dict[str, Any]) -> None:
    assert gate_module._flat_text(tool_input) is not None


_WRITTEN_AS_TEXT = [
    param for param in _INPUTS if gate_module._flat_text(param.values[0]) is not None
]
_SET_BY_THE_LOG = frozenset({"seq", "timestamp", "event_type"})
_SEQ_AND_TIME = re.compile(r'^\{"seq": \d+, "timestamp": "[^"]*", ')


@pytest.mark.parametrize("tool_input", _WRITTEN_AS_TEXT)
@pytest.mark.parametrize("tool_name", ["Bash", "Read", "Mystery"])
async def test_an_entry_is_the_line_the_careful_path_writes(
    make_pipeline: MakePipeline, tmp_path: Path, tool_name: str, tool_input: Any
) -> None:
    """The gate's entry against `log`'s line for the same fields, each encoded by the
    log's general encoder."""
    bus = EventBus()
    audit = AuditLogger(tmp_path / "audit.jsonl")
    approvals = ApprovalCoordinator(event_bus=bus, audit_logger=audit)
    gate = ToolGatekeeper(make_pipeline(), approvals, bus, audit)
    await gate.check(tool_name, tool_input, "s1", 42, user_id=7)
    await audit.close()
    gate_line = (tmp_path / "audit.jsonl").read_text(encoding="utf-8").splitlines()[-1]
    entry = json.loads(gate_line)
    assert entry["event_type"] == "tool_attempt"
    fields = {key: value for key, value in entry.items() if key not in _SET_BY_THE_LOG}
    fields["tool_input"] = tool_input
    reference = AuditLogger(tmp_path / "reference.jsonl")
    await reference.log("tool_attempt", **fields)
    await reference.close()
    reference_line = (tmp_path / "reference.jsonl").read_text(encoding="utf-8").splitlines()[-1]
    assert _SEQ_AND_TIME.sub("", gate_line) == _SEQ_AND_TIME.sub("", reference_line)
