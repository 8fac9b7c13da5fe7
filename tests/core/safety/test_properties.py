"""Properties over generated input: nothing crashes the pipeline, nothing escapes the sandbox."""

from __future__ import annotations

import os
import posixpath
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tether.core.safety.analyzer import CommandAnalyzer, PathAnalyzer
from tether.core.safety.classify import Classifier
from tether.core.safety.pipeline import SafetyPipeline, Verdict
from tether.core.safety.policy import Action, Policy, PolicyEngine
from tether.core.safety.sandbox import SandboxEnforcer
from tether.core.safety.shell import ShellParser

SETTINGS = settings(
    max_examples=250,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    database=None,
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
tool_names = (
    st.sampled_from(
        [
            "Bash",
            "Read",
            "Write",
            "Edit",
            "MultiEdit",
            "Glob",
            "Grep",
            "LS",
            "NotebookEdit",
            "WebFetch",
            "WebSearch",
            "TodoWrite",
            "Task",
            "mcp__x__y",
            "Unknown",
        ]
    )
    | st.text(max_size=12)
    | st.none()
    | st.integers()
)
field_names = st.sampled_from(
    [
        "command",
        "file_path",
        "path",
        "pattern",
        "glob",
        "content",
        "old_string",
        "new_string",
        "edits",
        "notebook_path",
        "url",
        "timeout",
        "_host",
    ]
)
shell_text = st.text(
    alphabet=st.sampled_from([*"abcrmls -/.~$(){}[]|&;<>'\"\\`*?!=#\n\t0123456789", "\x00"]),
    max_size=60,
)
segments = st.sampled_from(
    ["..", ".", "", "src", "app.py", "out", "in", "loop", "~", "etc", "passwd", ".env", "*"]
)
paths = st.lists(segments, min_size=1, max_size=6).map("/".join) | st.builds(
    lambda parts: "/" + "/".join(parts), st.lists(segments, max_size=4)
)


@pytest.fixture(scope="module")
def sandboxed(
    tmp_path_factory: pytest.TempPathFactory, presets: dict[str, Policy]
) -> tuple[SafetyPipeline, Path]:
    """A project with symlinks pointing in and out, and a permissive pipeline over it."""
    root = tmp_path_factory.mktemp("props")
    project = root / "project"
    (project / "src").mkdir(parents=True)
    (project / "src" / "app.py").write_text("x\n")
    outside = root / "outside"
    outside.mkdir()
    (outside / "secret").write_text("s\n")
    (project / "out").symlink_to(outside)
    (project / "in").symlink_to(project / "src")
    (project / "loop").symlink_to(project / "loop")
    parser = ShellParser()
    paths_analyzer = PathAnalyzer()
    classifier = Classifier(parser, CommandAnalyzer(parser, paths_analyzer), paths_analyzer)
    engine = PolicyEngine([presets["permissive"]], classifier)
    sandbox = SandboxEnforcer([project], home=root / "home")
    return SafetyPipeline(engine, sandbox, paths_analyzer), project.resolve()


def _valid(verdict: Verdict) -> None:
    assert isinstance(verdict, Verdict)
    assert verdict.decision in set(Action)
    assert verdict.reason


@SETTINGS
@given(tool_name=tool_names, tool_input=json_values)
def test_no_input_crashes_the_pipeline(
    shared_pipelines: dict[str, SafetyPipeline], tool_name: Any, tool_input: Any
) -> None:
    _valid(shared_pipelines["default"].decide(tool_name, tool_input))


@SETTINGS
@given(
    tool_name=tool_names,
    tool_input=st.dictionaries(field_names, json_values | shell_text | paths, max_size=5),
)
def test_no_field_combination_crashes_the_pipeline(
    shared_pipelines: dict[str, SafetyPipeline], tool_name: Any, tool_input: dict[str, Any]
) -> None:
    verdict = shared_pipelines["permissive"].decide(tool_name, tool_input)
    _valid(verdict)
    malformed_bash = tool_name == "Bash" and not isinstance(tool_input.get("command"), str)
    if not isinstance(tool_name, str) or malformed_bash:
        assert verdict.decision is not Action.ALLOW


@SETTINGS
@given(command=shell_text)
def test_no_shell_text_crashes_and_what_is_not_understood_is_never_allowed(
    shared_pipelines: dict[str, SafetyPipeline], shell_parser: ShellParser, command: str
) -> None:
    verdict = shared_pipelines["permissive"].decide("Bash", {"command": command})
    _valid(verdict)
    if "\x00" in command or not command.strip():
        assert verdict.decision is Action.DENY
    elif not shell_parser.parse(command).understood:
        assert verdict.decision is not Action.ALLOW


def _inside(project: Path, path: str, base: Path) -> bool:
    expanded = str(Path(path).expanduser()) if path.startswith("~") else path
    real = os.path.realpath(posixpath.join(str(base), expanded))
    return real == str(project) or real.startswith(str(project) + "/")


@SETTINGS
@given(path=paths, tool=st.sampled_from(["Read", "Write", "Edit", "LS", "NotebookEdit"]))
def test_file_tools_never_allow_a_path_outside(
    sandboxed: tuple[SafetyPipeline, Path], path: str, tool: str
) -> None:
    pipeline, project = sandboxed
    field = {"LS": "path", "NotebookEdit": "notebook_path"}.get(tool, "file_path")
    tool_input: dict[str, Any] = {field: path}
    if tool == "Write":
        tool_input["content"] = ""
    if tool == "Edit":
        tool_input.update(old_string="a", new_string="b")
    if tool == "NotebookEdit":
        tool_input["new_source"] = ""
    verdict = pipeline.decide(tool, tool_input)
    if verdict.decision is Action.ALLOW:
        assert _inside(project, path, project), path


@SETTINGS
@given(path=paths, program=st.sampled_from(["cat", "ls", "rm", "cp x", "frob", "head -n 1"]))
def test_shell_commands_never_allow_a_path_outside(
    sandboxed: tuple[SafetyPipeline, Path], path: str, program: str
) -> None:
    pipeline, project = sandboxed
    if "*" in path:
        return  # globs are checked by their matches; see test_sandbox
    verdict = pipeline.decide("Bash", {"command": f"{program} '{path}'"})
    if verdict.decision is Action.ALLOW:
        assert _inside(project, path, project), path


@SETTINGS
@given(pattern=paths, base=st.sampled_from(["", ".", "src", "out", "/etc"]))
def test_glob_never_lists_outside(
    sandboxed: tuple[SafetyPipeline, Path], pattern: str, base: str
) -> None:
    pipeline, project = sandboxed
    tool_input = {"pattern": pattern, **({"path": base} if base else {})}
    verdict = pipeline.decide("Glob", tool_input)
    if verdict.decision is Action.ALLOW:
        assert _inside(project, base or ".", project)
