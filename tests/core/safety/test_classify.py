"""Classification: the parts of a call, with their facts and paths."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from tether.core.safety.classify import CallPart, Classification, Classifier
from tether.core.safety.tools import ToolKind

P = pytest.param


def test_bash_has_one_part_per_command(classifier: Classifier) -> None:
    result = classifier.classify("Bash", {"command": "ls && rm -rf build"})
    assert result.kind is ToolKind.SHELL
    assert [p.program for p in result.parts] == ["ls", "rm"]
    assert result.parts[1].fact_kinds == {"recursive_delete"}
    assert result.command == "ls && rm -rf build"


@pytest.mark.parametrize(
    ("tool_name", "tool_input"),
    [
        P("Bash", {"command": "cat .env > out && rm -rf build"}, id="shell"),
        P("Bash", {"command": "ls (("}, id="not-understood"),
        P("Read", {"file_path": "~/.ssh/id_rsa"}, id="read"),
        P("WebFetch", {"url": "file:///etc/passwd"}, id="fetch-file"),
    ],
)
def test_a_classification_serialises_its_lean_parts_whole(
    classifier: Classifier, tool_name: str, tool_input: dict[str, Any]
) -> None:
    """Parts, facts and paths are plain dataclasses inside the model handed on: its JSON
    dump still carries every field of each, as the audit log and `--json` read it."""
    result = classifier.classify(tool_name, tool_input)
    dumped = result.model_dump(mode="json")
    assert dumped["tool_name"] == tool_name
    assert [f["kind"] for f in dumped["facts"]] == [f.kind for f in result.facts]
    assert len(dumped["parts"]) == len(result.parts)
    for part, original in zip(dumped["parts"], result.parts, strict=True):
        assert part["text"] == original.text
        assert part["facts"] == [
            {"kind": f.kind, "level": f.level.value, "detail": f.detail} for f in original.facts
        ]
        assert part["paths"] == [
            {"path": u.path, "access": u.access, "dynamic": u.dynamic, "glob": u.glob}
            for u in original.paths
        ]


def test_lean_parts_are_immutable_values(classifier: Classifier) -> None:
    first = classifier.classify("Bash", {"command": "rm -rf build"})
    second = classifier.classify("Bash", {"command": "rm -rf build"})
    assert first.parts == second.parts
    assert hash(first.parts[0]) == hash(second.parts[0])
    with pytest.raises(AttributeError):
        first.parts[0].text = "ls"  # type: ignore[misc]


@pytest.mark.parametrize(
    "command", [P("cd src && pytest -q", id="plain"), P("ls ((", id="not-understood")]
)
def test_a_shell_classification_is_the_validated_one(classifier: Classifier, command: str) -> None:
    """Every field counts as set, as validating all five would, in a set of its own."""
    ours = classifier.classify("Bash", {"command": command})
    theirs = Classification(
        tool_name="Bash",
        kind=ToolKind.SHELL,
        command=command,
        parts=ours.parts,
        facts=ours.facts,
    )
    assert ours == theirs
    assert ours.model_fields_set == theirs.model_fields_set == set(Classification.model_fields)
    assert type(ours.model_fields_set) is set
    again = classifier.classify("Bash", {"command": command})
    assert ours.model_fields_set is not again.model_fields_set


def test_bare_assignment_is_not_a_part(classifier: Classifier) -> None:
    result = classifier.classify("Bash", {"command": "X=1; ls"})
    assert [p.program for p in result.parts] == ["ls"]


def test_whole_call_facts_are_kept_apart(classifier: Classifier) -> None:
    result = classifier.classify("Bash", {"command": "ls (("})
    assert [f.kind for f in result.facts] == ["not_understood"]
    assert "not_understood" in result.fact_kinds


@pytest.mark.parametrize(
    ("tool_name", "tool_input", "facts", "paths"),
    [
        P("Read", {"file_path": "src/a.py"}, {"file_read"}, [("src/a.py", "read")], id="read"),
        P("Read", {"file_path": ".env"}, {"file_read", "credential_access"}, None, id="read-env"),
        P("Write", {"file_path": "x", "content": ""}, {"file_write"}, [("x", "write")], id="write"),
        P(
            "Edit",
            {"file_path": "~/.ssh/config", "old_string": "a", "new_string": "b"},
            {"file_write", "credential_access"},
            None,
            id="edit-ssh",
        ),
        P(
            "Write",
            {"file_path": ".git/hooks/pre-commit", "content": "x"},
            {"file_write", "git_hooks"},
            None,
            id="write-hook",
        ),
        P(
            "NotebookEdit",
            {"notebook_path": "n.ipynb", "new_source": ""},
            {"file_write"},
            [("n.ipynb", "write")],
            id="notebook",
        ),
        P("Glob", {"pattern": "**/*.py"}, {"file_read"}, [(".", "list"), (".", "list")], id="glob"),
        P(
            "Glob",
            {"pattern": "../../**", "path": "src"},
            {"file_read"},
            [("src", "list"), ("src/../..", "list")],
            id="glob-climbing",
        ),
        P(
            "Glob",
            {"pattern": "/etc/*.conf"},
            {"file_read"},
            [(".", "list"), ("/etc", "list")],
            id="glob-absolute",
        ),
        P(
            "Grep",
            {"pattern": "x", "glob": ".env*"},
            {"file_read", "credential_access"},
            None,
            id="grep-env-filter",
        ),
        P(
            "Grep",
            {"pattern": "x", "file_path": "/etc/passwd"},
            {"file_read"},
            [("/etc/passwd", "read"), (".", "read")],
            id="grep-file-path-field",
        ),
        P("LS", {"path": "/tmp"}, {"file_read"}, [("/tmp", "list")], id="ls"),
        P(
            "WebFetch",
            {"url": "file:///etc/passwd", "prompt": "x"},
            {"network"},
            [("/etc/passwd", "read")],
            id="webfetch-file-url",
        ),
        P("WebSearch", {"query": "x"}, {"web_search"}, [], id="websearch"),
        P("TodoWrite", {"todos": []}, {"agent_internal"}, [], id="todo"),
        P("mcp__a__b", {}, {"mcp_tool"}, [], id="mcp"),
        P("Skill", {"skill": "x"}, {"skill"}, [], id="skill"),
        P("Nope", {}, {"unknown_tool"}, [], id="unknown"),
    ],
)
def test_other_tools(
    classifier: Classifier,
    tool_name: str,
    tool_input: dict[str, Any],
    facts: set[str],
    paths: list[tuple[str, str]] | None,
) -> None:
    result = classifier.classify(tool_name, tool_input)
    (part,) = result.parts
    assert part.fact_kinds == facts
    if paths is not None:
        assert [(u.path, u.access) for u in part.paths] == paths
    # Built without validation: what validation of the given fields would make.
    validated = Classification(
        tool_name=result.tool_name, kind=result.kind, parts=result.parts, facts=result.facts
    )
    assert result == validated
    assert result.model_fields_set == validated.model_fields_set - {"facts"}
    assert set(result.__dict__) == set(Classification.model_fields)
    assert Classification.model_validate(result.model_dump()) == result
    assert result.model_dump() == Classification(**dict(result)).model_dump()


@pytest.mark.parametrize(
    "command",
    [
        P("git status", id="one"),
        P("cd src && pytest -q | tail -3", id="several"),
        P("ls $DIR *.py", id="opaque"),
        P("rm -rf /", id="facts-and-paths"),
    ],
)
def test_a_part_filled_in_is_a_callpart_as_its_constructor_builds_it(
    classifier: Classifier, command: str
) -> None:
    for part in classifier.classify("Bash", {"command": command}).parts:
        built = CallPart(**{name: getattr(part, name) for name in CallPart.__dataclass_fields__})
        assert type(part) is CallPart
        assert part == built
        assert part.__getstate__() == built.__getstate__()
        assert hash(part) == hash(built)
        with pytest.raises(dataclasses.FrozenInstanceError):
            part.text = "changed"  # type: ignore[misc]


def test_a_file_tool_part_is_a_callpart_as_its_constructor_builds_it(
    classifier: Classifier,
) -> None:
    (part,) = classifier.classify("Read", {"file_path": "src/app.py"}).parts
    built = CallPart(**{name: getattr(part, name) for name in CallPart.__dataclass_fields__})
    assert type(part) is CallPart
    assert part.__getstate__() == built.__getstate__()
