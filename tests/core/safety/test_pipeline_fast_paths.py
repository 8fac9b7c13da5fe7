"""The pipeline's shortcuts decide exactly as the full steps do.

- `_resolve` does not ask about a name below one whose lookup failed: held to
  the plain resolution (one `probe` per component) over generated file-system
  states, lookups recorded included.
- `_check_paths` checks a call of one plain part without the part-by-part
  machinery (`_check_one`): held to `_check_parts` over every corpus command,
  the file tools, and generated trees of files and symlinks.
- `_check_parts` checks a part's one plain path without `_check_uses`: held to
  `_check_uses` over every corpus command and generated trees and lines.
- `PolicyEngine.evaluate` decides a call of one part without its loop: held to
  the loop's choice over every corpus command and preset.
- `_fact_kinds` takes the one part with facts as it is: held to the general pass
  over generated parts' kinds (repeats across parts, the call's own part last).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from itertools import chain
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.core.safety.conftest import reference_resolve
from tether.core.safety import sandbox as sandbox_module
from tether.core.safety.analyzer import PathAnalyzer
from tether.core.safety.classify import Classification, Classifier
from tether.core.safety.pipeline import SafetyPipeline, Verdict, _fact_kinds, _names_handed_on
from tether.core.safety.policy import Action, Policy, PolicyDecision, PolicyEngine, _rule_list
from tether.core.safety.sandbox import SandboxEnforcer
from tether.core.safety.tree_reads import may_walk

_CORPUS = Path(__file__).parent / "corpus"
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _corpus_commands() -> list[str]:
    commands: list[str] = []
    for path in sorted(_CORPUS.glob("*.yaml")):
        for case in yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)["cases"]:
            if "cmd" in case:
                commands.append(case["cmd"])
            elif case.get("tool") == "Bash" and isinstance(case.get("input"), dict):
                commands.append(str(case["input"].get("command", "")))
    return list(dict.fromkeys(commands))


COMMANDS = _corpus_commands()


def test_the_corpus_is_read() -> None:
    assert len(COMMANDS) > 1500


# -- resolution ---------------------------------------------------------------------


_NAMES = ["a", "b", "c", "d"]
_NODE = st.one_of(
    st.just(("dir", None)),
    st.just(("file", None)),
    st.tuples(
        st.just("link"),
        st.lists(st.sampled_from([*_NAMES, "..", ".", "nowhere", "@"]), min_size=1, max_size=4),
    ),
)
_TREE = st.dictionaries(
    st.lists(st.sampled_from(_NAMES), min_size=1, max_size=3).map("/".join),
    _NODE,
    max_size=8,
)
_PATHS = st.lists(
    st.sampled_from([*_NAMES, "..", ".", "", "nowhere", "x"]), min_size=1, max_size=6
).map("/".join)


def _build(root: Path, tree: dict[str, tuple[str, Any]]) -> None:
    """Make the generated tree under `root` (what cannot be made is skipped: a state too)."""
    for name, (kind, target) in sorted(tree.items(), key=lambda item: item[0].count("/")):
        where = root / name
        try:
            where.parent.mkdir(parents=True, exist_ok=True)
            if kind == "dir":
                where.mkdir()
            elif kind == "file":
                where.write_text("x")
            else:
                words = [str(root) if w == "@" else w for w in target]
                where.symlink_to("/".join(words))
        except OSError:
            continue


def _clear(root: Path) -> None:
    for entry in sorted(root.rglob("*"), key=lambda p: -len(p.parts)):
        if entry.is_symlink() or entry.is_file():
            entry.unlink()
        elif entry.is_dir():
            entry.rmdir()


@settings(
    max_examples=250,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(tree=_TREE, paths=st.lists(_PATHS, min_size=1, max_size=4), absolute=st.booleans())
def test_resolution_is_the_plain_walk_over_generated_trees(
    tmp_path: Path, tree: dict[str, tuple[str, Any]], paths: list[str], absolute: bool
) -> None:
    root = tmp_path / "t"
    root.mkdir(exist_ok=True)
    _clear(root)
    _build(root, tree)
    base = os.path.realpath(root)
    for path in paths:
        spelled = f"{base}/{path}" if absolute else path
        got: list[tuple[str, str | None]] = []
        want: list[tuple[str, str | None]] = []
        assert sandbox_module._resolve(base, spelled, got) == reference_resolve(
            base, spelled, want
        ), spelled
        assert got == want, spelled


def test_a_name_below_a_missing_one_is_recorded_as_the_lookup_would_answer(
    tmp_path: Path,
) -> None:
    probes: list[tuple[str, str | None]] = []
    base = os.path.realpath(tmp_path)
    assert sandbox_module._resolve(base, "gone/deeper/../x/../../here", probes) == f"{base}/here"
    assert probes == [
        (f"{base}/gone", None),
        (f"{base}/gone/deeper", None),
        (f"{base}/gone/x", None),
        (f"{base}/here", None),
    ]


def test_a_symlink_reached_by_climbing_back_from_a_missing_name_is_followed(
    tmp_path: Path,
) -> None:
    base = os.path.realpath(tmp_path)
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to("real")
    for path in ("gone/../link/x", "gone/a/b/../../../link", "gone/a/../../link/../link/x"):
        probes: list[tuple[str, str | None]] = []
        want: list[tuple[str, str | None]] = []
        resolved = sandbox_module._resolve(base, path, probes)
        assert resolved == reference_resolve(base, path, want), path
        assert resolved is not None and resolved.startswith(f"{base}/real"), path
        assert probes == want, path


def test_a_name_below_a_missing_one_is_asked_again_by_a_kept_verdict(
    make_pipeline: Any, project_dir: Path, tmp_path: Path
) -> None:
    """A directory and a symlink made under a once-missing name change the decision."""
    pipeline: SafetyPipeline = make_pipeline()
    outside = tmp_path / "outside"
    outside.mkdir()
    call = ("Bash", {"command": "cat gone/link/secret.txt"})
    first = pipeline.decide(*call)
    assert first.decision is not Action.DENY or first.layer != "sandbox"
    (project_dir / "gone").mkdir()
    (project_dir / "gone" / "link").symlink_to(outside)
    again = pipeline.decide(*call)
    pipeline.clear_caches()
    assert again == pipeline.decide(*call)
    assert again.decision is Action.DENY and again.violation_type == "sandbox"


# -- one plain part -----------------------------------------------------------------


def _both(
    pipeline: SafetyPipeline, classification: Classification
) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    """What `_check_paths` and the part-by-part steps give, with what each recorded."""
    start = pipeline.sandbox.working_directory(None).resolved
    assert start is not None
    file_tool = classification.kind in {"read", "write"}
    results = []
    for check in (
        lambda: pipeline._check_paths(classification, None),
        lambda: pipeline._check_parts(classification, start, file_tool),
    ):
        probes: list[tuple[str, str | None]] = []
        pipeline._rechecks = []
        pipeline._volatile = False
        pipeline.sandbox.record_probes(probes)
        try:
            checked, verdict = check()
        finally:
            pipeline.sandbox.record_probes(None)
        findings = [finding for _, finding in pipeline._rechecks]
        results.append((checked, verdict, probes, findings, pipeline._volatile))
    return results[0], results[1]


@pytest.fixture(scope="module")
def tricky_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project with symlinks out, to a credential, in a loop, and dangling."""
    root = tmp_path_factory.mktemp("fast")
    project = root / "project"
    (project / "src").mkdir(parents=True)
    (project / "src" / "app.py").write_text("x")
    (project / "build").mkdir()
    (root / "outside").mkdir()
    (root / "outside" / "id_rsa").write_text("key")
    (project / "out").symlink_to(root / "outside")
    (project / "key").symlink_to(root / "outside" / "id_rsa")
    (project / "env").symlink_to(".env")
    (project / ".env").write_text("A=1")
    (project / "loop").symlink_to("loop")
    (project / "dangling").symlink_to("nowhere/else")
    (project / "src" / "up").symlink_to("..")
    return project


@pytest.fixture(scope="module")
def tricky_pipeline(
    classifier: Classifier, presets: dict[str, Policy], tricky_project: Path
) -> SafetyPipeline:
    return SafetyPipeline(
        PolicyEngine([presets["default"]], classifier),
        SandboxEnforcer([tricky_project]),
        PathAnalyzer(),
    )


def test_one_plain_part_is_checked_as_part_by_part_over_the_corpus(
    tricky_pipeline: SafetyPipeline,
) -> None:
    compared = 0
    for command in COMMANDS:
        classification = tricky_pipeline.policy.classify("Bash", {"command": command})
        fast, full = _both(tricky_pipeline, classification)
        assert fast == full, command
        compared += len(classification.parts) == 1
    assert compared > 500  # the shortcut was taken


def test_the_one_part_to_check_of_a_line_is_checked_as_part_by_part_over_the_corpus(
    tricky_pipeline: SafetyPipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A line with one part naming a path or walking a tree, and no directory change
    before it (`cd src && pytest -q`), is checked as a call of that part alone: the
    part-by-part steps give the same."""
    general = tricky_pipeline._check_parts
    calls: list[int] = []

    def counted(*args: Any) -> Any:
        calls.append(1)
        return general(*args)

    alone = 0
    for command in COMMANDS:
        classification = tricky_pipeline.policy.classify("Bash", {"command": command})
        if len(classification.parts) < 2:
            continue
        calls.clear()
        with monkeypatch.context() as patch:
            patch.setattr(tricky_pipeline, "_check_parts", counted)
            fast, full = _both(tricky_pipeline, classification)
        assert fast == full, command
        # (The one call is `_both`'s own; a line naming no path has nothing to check.)
        alone += len(calls) == 1 and any(part.paths for part in classification.parts)
    assert alone > 100  # the shortcut was taken


def test_a_call_naming_no_path_and_walking_no_tree_is_checked_as_part_by_part(
    tricky_pipeline: SafetyPipeline,
) -> None:
    """`_check_paths` hands such a call back as it came, before any part-by-part step:
    the steps give the same (a `cd` or `popd` with no path, a recursive delete with
    none, facts of every kind included)."""
    untouched = several = 0
    for command in COMMANDS:
        classification = tricky_pipeline.policy.classify("Bash", {"command": command})
        piped = _names_handed_on(classification)
        if any(
            part.paths or may_walk("Bash", part.program, part.text, piped)
            for part in classification.parts
        ):
            continue
        fast, full = _both(tricky_pipeline, classification)
        assert fast == full, command
        assert fast[0] is classification and fast[1] is None, command
        untouched += 1
        several += len(classification.parts) > 1
    assert untouched > 300 and several > 100  # the shortcut was taken, for lines too


_FILE_PATHS = [
    "src/app.py",
    "./src/../src/app.py",
    "out/id_rsa",
    "key",
    "env",
    ".env",
    "loop",
    "dangling",
    "src/up/up/src/app.py",
    "/etc/passwd",
    "~/.ssh/id_rsa",
    "~other/x",
    "missing/deeper/file",
    "missing/../src/app.py",
    "missing/../out/id_rsa",
    "missing/deeper/../../key",
    "src/app.py/../../out",
    "",
    "/dev/null",
    "build",
]


def _tool_calls(path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    yield "Read", {"file_path": path}
    yield "Write", {"file_path": path, "content": "x"}
    yield "Edit", {"file_path": path, "old_string": "a", "new_string": "b"}
    yield "Grep", {"pattern": "x", "path": path}
    yield "Glob", {"pattern": "*.py", "path": path}
    yield "LS", {"path": path}
    yield "Bash", {"command": f"cat {path}"}
    yield "Bash", {"command": f"rm -rf {path}"}
    yield "Bash", {"command": f"ls {path} {path}"}
    yield "Bash", {"command": f"grep -r x {path}"}
    yield "Bash", {"command": f"cd {path}"}


@pytest.mark.parametrize("path", _FILE_PATHS)
def test_the_file_tools_and_one_command_are_checked_as_part_by_part(
    tricky_pipeline: SafetyPipeline, path: str
) -> None:
    for tool, tool_input in _tool_calls(path):
        classification = tricky_pipeline.policy.classify(tool, tool_input)
        fast, full = _both(tricky_pipeline, classification)
        assert fast == full, (tool, tool_input)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(tree=_TREE, path=_PATHS, which=st.integers(min_value=0, max_value=10))
def test_one_part_over_generated_trees(
    classifier: Classifier,
    presets: dict[str, Policy],
    tmp_path: Path,
    tree: Any,
    path: str,
    which: int,
) -> None:
    root = tmp_path / "p"
    root.mkdir(exist_ok=True)
    _clear(root)
    _build(root, tree)
    pipeline = SafetyPipeline(
        PolicyEngine([presets["default"]], classifier), SandboxEnforcer([root]), PathAnalyzer()
    )
    tool, tool_input = list(_tool_calls(path))[which]
    classification = pipeline.policy.classify(tool, tool_input)
    fast, full = _both(pipeline, classification)
    assert fast == full, (tool, tool_input)


def test_a_symlink_changed_between_identical_calls_is_seen(
    make_pipeline: Any, project_dir: Path, tmp_path: Path
) -> None:
    pipeline: SafetyPipeline = make_pipeline()
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "notes.txt").write_text("x")
    (project_dir / "notes.txt").write_text("x")
    call = ("Read", {"file_path": "notes.txt"})
    before = pipeline.decide(*call)
    assert before.decision is Action.ALLOW
    (project_dir / "notes.txt").unlink()
    (project_dir / "notes.txt").symlink_to(outside / "notes.txt")
    after = pipeline.decide(*call)
    assert after.decision is Action.DENY and after.layer == "sandbox"
    pipeline.clear_caches()
    assert pipeline.decide(*call) == after
    (project_dir / "notes.txt").unlink()
    (project_dir / "notes.txt").write_text("x")
    assert pipeline.decide(*call) == before


# -- one plain path in the part-by-part check ----------------------------------------


def _with_and_without_shortcut(
    pipeline: SafetyPipeline, classification: Classification
) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    """What `_check_parts` gives with its one-path shortcut and without, with what each
    recorded."""
    start = pipeline.sandbox.working_directory(None).resolved
    assert start is not None
    file_tool = classification.kind in {"read", "write"}
    results = []
    for shortcuts in (True, False):
        probes: list[tuple[str, str | None]] = []
        pipeline._rechecks = []
        pipeline._volatile = False
        pipeline._shortcuts = shortcuts
        pipeline.sandbox.record_probes(probes)
        try:
            checked, verdict = pipeline._check_parts(classification, start, file_tool)
        finally:
            pipeline.sandbox.record_probes(None)
            pipeline._shortcuts = True
        findings = [finding for _, finding in pipeline._rechecks]
        results.append((checked, verdict, probes, findings, pipeline._volatile))
    return results[0], results[1]


def test_one_path_of_a_part_is_checked_as_its_uses_are_over_the_corpus(
    tricky_pipeline: SafetyPipeline,
) -> None:
    for command in COMMANDS:
        classification = tricky_pipeline.policy.classify("Bash", {"command": command})
        fast, full = _with_and_without_shortcut(tricky_pipeline, classification)
        assert fast == full, command


_LINES = [
    "cd {p} && cat {q}",
    "(cd {p}); cat {q}",
    "cd {p} | cat {q}; cat {p}",
    "pushd {p} && cat {q} && popd && cat {q}",
    "cd $X && cat {q}",
    "cat {p} {q}; cd {q} && rm -rf {p}",
    "ls {p} && grep -r x {q}",
    "cd {p}; cd {q}; cat ~/{q}",
    # Parts naming no path before the first that does: `_check_paths` starts there.
    "git status && cd && cat {q}",
    "popd; git log | grep -r x; cat {q}",
    "git diff && (cd) && cat {p} {q}",
    "git status; git grep x; cd {p} && cat {q}",
    # One part to check among several: checked as a call of that part alone.
    "cd {p} && pytest -q",
    "git status && cat {p} {q} | head -5",
    "git diff --stat; rm -rf {p} && echo done",
    "git log | grep -r x {p} | wc -l",
    "(cd {p}) && git status",
    "cat {p} && git diff --stat",
    # ... and not: a directory moved before it, a later part naming a path or walking.
    "cd; cat {q} && git status",
    "popd && ls {p}",
    "cat {p}; git grep x",
    "ls {p} | xargs cat",
]


def _pipeline_over(
    tmp_path: Path, tree: Any, classifier: Classifier, presets: dict[str, Policy]
) -> SafetyPipeline:
    """A default-policy pipeline over a project made afresh from the generated `tree`."""
    root = tmp_path / "p"
    root.mkdir(exist_ok=True)
    _clear(root)
    _build(root, tree)
    return SafetyPipeline(
        PolicyEngine([presets["default"]], classifier),
        SandboxEnforcer([root], home=root),
        PathAnalyzer(),
    )


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(tree=_TREE, p=_PATHS, q=_PATHS, line=st.sampled_from(_LINES))
def test_one_path_of_a_part_over_generated_trees(
    classifier: Classifier,
    presets: dict[str, Policy],
    tmp_path: Path,
    tree: Any,
    p: str,
    q: str,
    line: str,
) -> None:
    pipeline = _pipeline_over(tmp_path, tree, classifier, presets)
    command = line.format(p=p or ".", q=q or ".")
    classification = pipeline.policy.classify("Bash", {"command": command})
    fast, full = _with_and_without_shortcut(pipeline, classification)
    assert fast == full, command


# -- evaluate, one part ---------------------------------------------------------------


def _reference_call(engine: PolicyEngine, classification: Classification) -> PolicyDecision:
    """The call's decision as the loop over parts makes it, for any number of parts."""
    decided = [engine._decide_part(classification.tool_name, part) for part in classification.parts]
    decisions = [d for d, _ in decided]
    denied = next((d for d in decisions if d.action is Action.DENY), None)
    asking = None
    for d in decisions:
        if d.action is Action.REQUIRE_APPROVAL and (
            asking is None or ("not_understood" in d.facts and "not_understood" not in asking.facts)
        ):
            asking = d
    chosen = denied or asking or decisions[0]
    reason = chosen.reason
    if chosen.action is Action.ALLOW:
        rules = sorted({d.rule for d in decisions if d.rule})
        reason = f"allowed by {_rule_list(rules)}" if rules else chosen.reason
    return PolicyDecision(
        action=chosen.action,
        rule=chosen.rule,
        policy=chosen.policy,
        reason=reason,
        risk_level=classification.risk_level,
        parts=tuple(decisions),
    )


@pytest.mark.parametrize("preset", ["default", "strict", "permissive", "default+dev-tools"])
def test_a_call_of_one_part_is_evaluated_as_the_loop_would(
    shared_pipelines: dict[str, SafetyPipeline], preset: str
) -> None:
    pipeline = shared_pipelines[preset]
    engine = pipeline.policy
    compared = 0
    for command in COMMANDS:
        classification = engine.classify("Bash", {"command": command})
        if classification.facts or not classification.parts:
            continue
        checked, violation = pipeline._check_paths(classification, None)
        if violation is not None:
            continue
        assert engine.evaluate(checked) == _reference_call(engine, checked), command
        compared += len(checked.parts) == 1
    assert compared > 500


def test_verdicts_of_one_part_calls_are_whole(shared_pipelines: dict[str, SafetyPipeline]) -> None:
    pipeline = shared_pipelines["default"]
    for path in _FILE_PATHS:
        for tool, tool_input in _tool_calls(path):
            pipeline.clear_caches()
            verdict = pipeline.decide(tool, tool_input)
            assert isinstance(verdict, Verdict)
            assert Verdict.model_validate(verdict.model_dump()) == verdict


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(tree=_TREE, p=_PATHS, q=_PATHS, line=st.sampled_from(_LINES))
def test_lines_over_generated_trees_are_checked_as_part_by_part(
    classifier: Classifier,
    presets: dict[str, Policy],
    tmp_path: Path,
    tree: Any,
    p: str,
    q: str,
    line: str,
) -> None:
    """`_check_paths` starts the part-by-part steps at the first part naming a path or
    walking a tree; from the first part, they give the same."""
    pipeline = _pipeline_over(tmp_path, tree, classifier, presets)
    command = line.format(p=p or ".", q=q or ".")
    classification = pipeline.policy.classify("Bash", {"command": command})
    fast, full = _both(pipeline, classification)
    assert fast == full, command


@pytest.mark.parametrize(
    "command",
    ["grep -r x /etc", "grep -r x out", "cat out/id_rsa; grep -r x .", "rm -rf / src"],
)
def test_a_denied_path_is_the_decision_and_no_tree_is_walked_for_it(
    tricky_pipeline: SafetyPipeline, command: str
) -> None:
    """Once a path is denied, what else the call would reveal is never used: no tree is
    walked, so a kept deny asks nothing but its lookups again."""
    tricky_pipeline.clear_caches()
    verdict = tricky_pipeline.decide("Bash", {"command": command})
    assert verdict.decision is Action.DENY and verdict.violation_type == "sandbox"
    assert tricky_pipeline._rechecks == []
    assert tricky_pipeline.decide("Bash", {"command": command}) == verdict


# -- fact kinds ---------------------------------------------------------------------

_KINDS = st.lists(st.sampled_from(["a", "b", "c", "d"]), max_size=3, unique=True).map(tuple)


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.one_of(st.just(()), _KINDS),
        min_size=2,
        max_size=6,
    ),
    st.booleans(),
)
def test_a_calls_fact_kinds_are_the_general_pass(
    kinds: list[tuple[str, ...]], own_facts: bool
) -> None:
    """Each part's kinds without repeats (as the policy lists them), the call's own part
    last when it has facts: the kinds in the order `classification.fact_kinds` gives."""
    parts = tuple(SimpleNamespace(facts=k) for k in kinds)
    classification = SimpleNamespace(facts=("own",) if own_facts else ())
    ordered = (parts[-1], *parts[:-1]) if own_facts else parts
    expected = tuple(dict.fromkeys(chain.from_iterable(p.facts for p in ordered)))
    got = _fact_kinds(classification, SimpleNamespace(parts=parts))  # type: ignore[arg-type]
    assert got == expected
