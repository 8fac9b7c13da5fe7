"""The classification cache key comes from the tool specs: the fields each spec interprets."""

from __future__ import annotations

from typing import Any

import pytest

from tether.core.safety import tools
from tether.core.safety.classify import Classifier
from tether.core.safety.tools import TOOLS, ToolKind, ToolSpec, classification_key

P = pytest.param

# A value of the right type for every field type, and a second one that differs.
_VALUES: dict[str, tuple[Any, Any]] = {
    "str": ("a", "src/other.py"),
    "number": (1, 7),
    "bool": (False, True),
    "list": ([], [{"old_string": "a", "new_string": "b"}]),
    "dict": ({}, {"k": "v"}),
    "any": (None, 1),
}
_BASE: dict[str, dict[str, Any]] = {
    "Bash": {"command": "ls src"},
    "Read": {"file_path": "src/app.py"},
    "Write": {"file_path": "src/app.py", "content": "x"},
    "Edit": {"file_path": "src/app.py", "old_string": "a", "new_string": "b"},
    "MultiEdit": {"file_path": "src/app.py", "edits": []},
    "NotebookEdit": {"notebook_path": "n.ipynb"},
    "NotebookRead": {"notebook_path": "n.ipynb"},
    "Glob": {"pattern": "*.py", "path": "src"},
    "Grep": {"pattern": "x", "path": "src"},
    "LS": {"path": "src"},
    "WebFetch": {"url": "https://example.com"},
    "WebSearch": {"query": "x"},
}


def _variations() -> list[Any]:
    cases = []
    for spec in TOOLS.values():
        for field, (kind, _) in spec.fields.items():
            if field not in spec.interpreted:
                cases.append(P(spec, field, kind, id=f"{spec.name}.{field}"))
    return cases


def test_every_spec_has_a_base_input() -> None:
    assert set(_BASE) == set(TOOLS)


@pytest.mark.parametrize(("spec", "field", "kind"), _variations())
def test_fields_outside_the_key_never_change_the_classification(
    classifier: Classifier, spec: ToolSpec, field: str, kind: str
) -> None:
    """What the key leaves out is what the classification does not read."""
    first, second = _VALUES[kind]
    one = {**_BASE[spec.name], field: first}
    two = {**_BASE[spec.name], field: second}
    assert classification_key(spec.name, one) == classification_key(spec.name, two)
    assert classifier.classify(spec.name, one) == classifier.classify(spec.name, two)


@pytest.mark.parametrize("spec", [P(s, id=s.name) for s in TOOLS.values()])
def test_every_interpreted_field_is_in_the_key(spec: ToolSpec) -> None:
    base = _BASE[spec.name]
    for field in spec.interpreted:
        changed = {**base, field: "elsewhere/" + str(base.get(field, ""))}
        assert classification_key(spec.name, changed) != classification_key(spec.name, base)


@pytest.mark.parametrize(
    ("tool_name", "tool_input"),
    [
        P("Read", {"file_path": "src/app.py", "notebook_path": "/etc/shadow"}, id="read-notebook"),
        P("Write", {"file_path": "x", "content": "", "path": "/etc"}, id="write-path"),
        P("Bash", {"command": "ls", "_host": "elsewhere"}, id="bash-host"),
    ],
)
def test_a_field_the_spec_does_not_know_is_in_the_key(
    tool_name: str, tool_input: dict[str, Any]
) -> None:
    """Such a call is still classified (it asks), and the field may be one classify reads."""
    known = {k: v for k, v in tool_input.items() if k in TOOLS[tool_name].fields}
    assert classification_key(tool_name, tool_input) != classification_key(tool_name, known)


def test_a_stale_classification_is_never_reused_for_an_unexpected_path(
    classifier: Classifier,
) -> None:
    read = classifier.classify("Read", {"file_path": "a.py", "notebook_path": "/etc/shadow"})
    assert "credential_access" in read.fact_kinds
    assert classification_key("Read", {"file_path": "a.py", "notebook_path": "ok.ipynb"}) != (
        classification_key("Read", {"file_path": "a.py", "notebook_path": "/etc/shadow"})
    )


@pytest.mark.parametrize(
    "tool_name", [P("mcp__github__create_issue", id="mcp"), P("TodoWrite", id="internal")]
)
def test_a_tool_without_a_spec_is_keyed_by_its_name(tool_name: str) -> None:
    assert classification_key(tool_name, {"title": "x"}) == (tool_name,)
    assert classification_key(tool_name, {"title": "y", "n": 2}) == (tool_name,)


def test_a_spec_naming_a_field_it_does_not_have_is_an_error() -> None:
    with pytest.raises(ValueError, match="interpreted fields"):
        tools._spec("X", ToolKind.READ, "file_path path", file_path=("str", True))
