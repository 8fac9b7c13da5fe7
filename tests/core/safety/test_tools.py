"""Tool input is checked where Tether reads it: types, presence, bytes, size, nesting."""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tether.core.safety import tools
from tether.core.safety.tools import (
    MAX_COMMAND_CHARS,
    MAX_PATH_CHARS,
    TOOLS,
    ToolKind,
    tool_kind,
    validate_input,
)

P = pytest.param


@pytest.mark.parametrize(
    ("tool_name", "tool_input", "field"),
    [
        P(None, {}, None, id="tool-name-none"),
        P("", {}, None, id="tool-name-empty"),
        P(3, {}, None, id="tool-name-number"),
        P("Ba\x00sh", {}, None, id="tool-name-nul"),
        P("Bash", None, None, id="input-none"),
        P("Bash", "ls", None, id="input-text"),
        P("Bash", ["ls"], None, id="input-list"),
        P("Bash", {}, "command", id="missing-command"),
        P("Bash", {"command": None}, "command", id="command-none"),
        P("Bash", {"command": 5}, "command", id="command-number"),
        P("Bash", {"command": ["ls"]}, "command", id="command-list"),
        P("Bash", {"command": "   "}, "command", id="command-blank"),
        P("Bash", {"command": "ls\x00-la"}, "command", id="command-nul"),
        P("Bash", {"command": "ls \ud800"}, "command", id="command-surrogate"),
        P("Bash", {"command": "x" * (MAX_COMMAND_CHARS + 1)}, "command", id="command-huge"),
        P("Bash", {"command": "ls", "timeout": "5"}, "timeout", id="timeout-text"),
        P("Bash", {"command": "ls", "timeout": True}, "timeout", id="timeout-bool"),
        P("Bash", {"command": "ls", "timeout": float("nan")}, "timeout", id="timeout-nan"),
        P("Bash", {"command": "ls", "run_in_background": "yes"}, "run_in_background", id="bool"),
        P("Read", {"file_path": 7}, "file_path", id="read-path-number"),
        P("Read", {"file_path": "a\x00b"}, "file_path", id="read-path-nul"),
        P("Read", {"file_path": "x" * 5000}, "file_path", id="read-path-huge"),
        P("Write", {"file_path": "x"}, "content", id="write-no-content"),
        P("Edit", {"file_path": "x", "old_string": "a"}, "new_string", id="edit-missing"),
        P("MultiEdit", {"file_path": "x", "edits": "no"}, "edits", id="edits-text"),
        P("MultiEdit", {"file_path": "x", "edits": []}, "edits", id="edits-empty"),
        P("MultiEdit", {"file_path": "x", "edits": [{"old_string": 1}]}, "edits", id="edit-item"),
        P("Glob", {"pattern": None}, "pattern", id="glob-pattern-none"),
        P("Grep", {"pattern": "x", "-A": "3"}, "-A", id="grep-context-text"),
    ],
)
def test_malformed_input_is_refused_naming_the_field(
    tool_name: Any, tool_input: Any, field: str | None
) -> None:
    problems = validate_input(tool_name, tool_input)
    assert problems, "expected a problem"
    assert problems[0].action == "deny"
    assert problems[0].field == field
    if field is not None:
        assert field in problems[0].message


def test_non_text_field_names_are_refused() -> None:
    (problem,) = validate_input("Read", {1: "x"})
    assert problem.action == "deny"


def test_deep_nesting_is_refused() -> None:
    value: Any = "x"
    for _ in range(100):
        value = {"a": value}
    (problem,) = validate_input("TodoWrite", {"todos": value})
    assert "nested" in problem.message


def test_unexpected_field_asks() -> None:
    (problem,) = validate_input("Bash", {"command": "ls", "_host": "box"})
    assert problem.action == "require_approval"
    assert problem.field == "_host"


def test_loose_tools_take_any_object() -> None:
    assert validate_input("TodoWrite", {"todos": [{"content": "x", "status": "pending"}]}) == ()
    assert validate_input("mcp__github__create_issue", {"title": "x", "n": 1}) == ()


@pytest.mark.parametrize(
    ("tool_name", "tool_input"),
    [
        P("Bash", {"command": "ls", "description": "list", "timeout": 5000}, id="bash"),
        P("Read", {"file_path": "/x", "offset": 1, "limit": 10}, id="read"),
        P("Write", {"file_path": "/x", "content": "a\x00b"}, id="write-binary-content"),
        P("Edit", {"file_path": "/x", "old_string": "a", "new_string": "b"}, id="edit"),
        P("Grep", {"pattern": "x", "-n": True, "output_mode": "content"}, id="grep"),
        P("NotebookEdit", {"notebook_path": "/n.ipynb", "new_source": "x"}, id="notebook"),
        P("WebFetch", {"url": "https://x", "prompt": "p"}, id="webfetch"),
    ],
)
def test_well_formed_input_has_no_problem(tool_name: str, tool_input: dict[str, Any]) -> None:
    assert validate_input(tool_name, tool_input) == ()


@pytest.mark.parametrize(
    ("tool_name", "kind"),
    [
        P("Bash", ToolKind.SHELL, id="bash"),
        P("Read", ToolKind.READ, id="read"),
        P("Write", ToolKind.WRITE, id="write"),
        P("WebFetch", ToolKind.NETWORK, id="webfetch"),
        P("WebSearch", ToolKind.WEB_SEARCH, id="websearch"),
        P("Task", ToolKind.INTERNAL, id="task"),
        P("Agent", ToolKind.INTERNAL, id="agent"),
        P("TodoWrite", ToolKind.INTERNAL, id="todo"),
        P("Skill", ToolKind.SKILL, id="skill"),
        P("mcp__server__tool", ToolKind.MCP, id="mcp"),
        P("ReadMcpResourceTool", ToolKind.MCP, id="mcp-resource"),
        P("Frobnicate", ToolKind.UNKNOWN, id="unknown"),
        P("bash", ToolKind.UNKNOWN, id="case-matters"),
    ],
)
def test_tool_kinds(tool_name: str, kind: ToolKind) -> None:
    assert tool_kind(tool_name) is kind


def _reference_kind(tool_name: str) -> ToolKind:
    """`tool_kind` as the spec, then each named set, then the MCP prefix decide it."""
    spec = TOOLS.get(tool_name)
    if spec is not None:
        return spec.kind
    if tool_name in tools._INTERNAL:
        return ToolKind.INTERNAL
    if tool_name in tools._SKILLS:
        return ToolKind.SKILL
    if tool_name.startswith("mcp__") or tool_name in tools._MCP_BUILTINS:
        return ToolKind.MCP
    return ToolKind.UNKNOWN


def test_every_named_tool_has_the_kind_its_spec_or_set_gives() -> None:
    """The one-lookup table answers as the chain of tests it replaced, named or not."""
    names = [*TOOLS, *tools._INTERNAL, *tools._SKILLS, *tools._MCP_BUILTINS]
    odd = ["mcp__", "mcp_x", "MCP__x", "", " Bash", "Bash ", "task", "mcp__Bash", "Agent\x00"]
    for name in [*names, *odd, *(name.lower() for name in names)]:
        assert tool_kind(name) is _reference_kind(name), name


@pytest.mark.parametrize(
    ("tool_name", "tool_input"),
    [
        P("TodoWrite", {"todos": [{"content": "\ud800"}]}, id="loose-tool-nested"),
        P("mcp__x__y", {"\udc00": 1}, id="field-name"),
        P("Edit", {"file_path": "/x", "old_string": "\ud800", "new_string": ""}, id="edit"),
    ],
)
def test_lone_surrogates_anywhere_deny(tool_name: str, tool_input: dict[str, Any]) -> None:
    problems = validate_input(tool_name, tool_input)
    assert problems and all(p.action == "deny" for p in problems)
    assert "UTF-8" in problems[0].message


@pytest.mark.parametrize(
    ("tool_name", "tool_input"),
    [
        P("Glob", {"pattern": ""}, id="glob-pattern"),
        P("WebFetch", {"url": "  "}, id="webfetch-url"),
        P("WebSearch", {"query": ""}, id="websearch-query"),
    ],
)
def test_empty_required_text_denies(tool_name: str, tool_input: dict[str, Any]) -> None:
    problems = validate_input(tool_name, tool_input)
    assert [p.action for p in problems] == ["deny"]


# Values chosen to sit on every edge the check draws: types, emptiness, limits, bytes.
_EDGE_TEXT = [
    "",
    " ",
    "\t\n",
    "ls -la",
    "src/app.py",
    "caf\u00e9",
    "\u3000",
    "ls\x00",
    "\ud800",
    "a\udfffb",
    "x" * MAX_PATH_CHARS,
    "x" * (MAX_PATH_CHARS + 1),
    "p" * 10_001,
    "c" * (MAX_COMMAND_CHARS + 1),
]
_values = st.recursive(
    st.sampled_from(_EDGE_TEXT)
    | st.text(max_size=8)
    | st.integers()
    | st.floats()
    | st.booleans()
    | st.none(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=4,
)
_field_names = st.sampled_from(
    [*sorted({field for spec in TOOLS.values() for field in spec.fields}), "_host", "x"]
)


class _Key(str):
    """A field name that is text, but not plain `str`."""

    __slots__ = ()


_BY_TYPE = {
    "str": st.sampled_from(_EDGE_TEXT) | st.text(max_size=6),
    "number": st.integers() | st.floats() | st.sampled_from([float("nan"), float("-inf"), True]),
    "bool": st.booleans() | st.sampled_from([0, 1, "true"]),
    "list": st.lists(_values, max_size=2),
}


@st.composite
def _calls(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    """A call to a known tool, most fields plain values of about the right type."""
    tool_name = draw(st.sampled_from([*TOOLS, "TodoWrite", "mcp__x__y", "Nope"]))
    spec = TOOLS.get(tool_name)
    fields: dict[str, Any] = {}
    for field, (kind, _) in spec.fields.items() if spec is not None else ():
        if draw(st.integers(0, 3)) == 0:
            continue  # left out (required or not)
        fields[field] = draw(_BY_TYPE.get(kind, _values) if draw(st.integers(0, 9)) else _values)
    if draw(st.integers(0, 5)) == 0:
        name = draw(_field_names)
        fields[draw(st.sampled_from([name, _Key(name)]))] = draw(_values)
    return tool_name, fields


@settings(
    max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(call=_calls())
def test_a_plain_object_gets_the_problems_the_full_check_finds(
    call: tuple[str, dict[str, Any]],
) -> None:
    """The quick path for plain objects answers as the full check of the same fields does.

    A mapping that is not a dict always takes the full check.
    """
    tool_name, fields = call
    assert validate_input(tool_name, fields) == validate_input(tool_name, MappingProxyType(fields))


_EDGES: list[Any] = [
    *_EDGE_TEXT,
    0,
    -1.5,
    10**30,
    float("nan"),
    float("inf"),
    True,
    None,
    [],
    ["a"],
    {},
    {"a": "\ud800"},
    _Key("ls"),
]


def test_every_edge_of_every_field_gets_the_problems_the_full_check_finds() -> None:
    """Each field of each tool given each edge value (the others valid): both paths agree."""
    valid = {"str": "ok", "number": 1, "bool": True, "list": []}
    for tool_name, spec in TOOLS.items():
        base = {field: valid[kind] for field, (kind, _) in spec.fields.items()}
        for field in [*spec.fields, "_host", _Key("command")]:
            for value in _EDGES:
                call = {**base, field: value}
                assert validate_input(tool_name, call) == validate_input(
                    tool_name, MappingProxyType(call)
                ), (tool_name, field, value)
            rest = {name: value for name, value in base.items() if name != field}
            assert validate_input(tool_name, rest) == validate_input(
                tool_name, MappingProxyType(rest)
            ), (tool_name, "without", field)


_VALUES = st.one_of(
    st.sampled_from(["", " ", "\t\n", "ls", "a\x00b", "\ud800", "é", "x" * (MAX_PATH_CHARS + 1)]),
    st.text(max_size=20),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(
    tool_name=st.sampled_from(sorted(TOOLS)),
    data=st.data(),
)
def test_the_common_case_shortcut_answers_as_the_full_check(
    tool_name: str, data: st.DataObject
) -> None:
    # A plain dict may take the shortcut; the same fields in a read-only mapping always
    # take the full check. Both must find the same problems (none, or the same ones).
    names = [*TOOLS[tool_name].fields, "unexpected"]
    tool_input = data.draw(st.dictionaries(st.sampled_from(names), _VALUES, max_size=5))
    assert validate_input(tool_name, tool_input) == validate_input(
        tool_name, MappingProxyType(tool_input)
    )
