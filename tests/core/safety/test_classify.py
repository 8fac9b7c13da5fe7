"""Classification: the parts of a call, with their facts and paths."""

from __future__ import annotations

from typing import Any

import pytest

from tether.core.safety.classify import Classifier
from tether.core.safety.tools import ToolKind

P = pytest.param


def test_bash_has_one_part_per_command(classifier: Classifier) -> None:
    result = classifier.classify("Bash", {"command": "ls && rm -rf build"})
    assert result.kind is ToolKind.SHELL
    assert [p.program for p in result.parts] == ["ls", "rm"]
    assert result.parts[1].fact_kinds == {"recursive_delete"}
    assert result.command == "ls && rm -rf build"


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
