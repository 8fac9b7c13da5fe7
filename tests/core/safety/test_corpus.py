"""Tether's own adversarial corpus: every case in `corpus/*.yaml` through the real pipeline.

Each case is a tool call and the outcome it must get from `tether check`'s
pipeline (`build_safety_pipeline` with the default preset): `allow`, `ask`,
`deny`, or `not_allow` (ask or deny). A case the analyser still gets wrong
carries `xfail: <reason>` and runs as a strict xfail, so fixing it fails the
suite until the mark is removed. `corpus/README.md` describes the format.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from tether.app import build_safety_pipeline
from tether.core.config import load_config
from tether.core.safety.pipeline import SafetyPipeline

_CORPUS = Path(__file__).parent / "corpus"
# The C loader when libyaml is there: the corpus is large and read at collection.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_OUTCOMES = {"allow", "ask", "deny", "not_allow"}
_DECISIONS = {"allow": "allow", "ask": "require_approval", "deny": "deny"}
_CASE_KEYS = {"cmd", "tool", "input", "expect", "why", "xfail", "tree", "cwd", "id", "reason"}

# The project every case without its own `tree` runs in: an ordinary repository.
_SHARED_TREE: tuple[dict[str, str], ...] = (
    {"path": "src/app.py", "text": "print('hello')\n"},
    {"path": "src/pkg/__init__.py", "text": ""},
    {"path": "src/pkg/core.py", "text": "def f():\n    return 1\n"},
    {"path": "tests/test_app.py", "text": "def test_x():\n    assert True\n"},
    {"path": "docs/index.md", "text": "# docs\n"},
    {"path": "README.md", "text": "# demo\n"},
    {"path": "pyproject.toml", "text": "[project]\nname = 'demo'\n"},
    {"path": "package.json", "text": '{"name": "demo", "version": "1.0.0"}\n'},
    {"path": "Makefile", "text": "test:\n\tpytest -q\n"},
    {"path": "justfile", "text": "test:\n    pytest -q\n"},
    {"path": "Cargo.toml", "text": "[package]\nname = 'demo'\n"},
    {"path": "go.mod", "text": "module demo\n"},
    {"path": "data.json", "text": '{"x": 1, "items": [1, 2]}\n'},
    {"path": "app.log", "text": "INFO start\nERROR boom\n"},
    {"path": "notes.txt", "text": "b\na\nb\n"},
    {"path": "build/out.txt", "text": "built\n"},
)


@dataclass(frozen=True)
class Case:
    """One corpus entry, read from YAML."""

    source: str
    number: int
    tool: str
    tool_input: Any
    expect: str
    why: str
    xfail: str | None = None
    tree: tuple[dict[str, str], ...] | None = None
    cwd: str | None = None
    reason: str | None = None
    """Text the verdict's reason must contain (case-insensitive), when it matters."""
    ident: str = field(default="")


def _load() -> Iterator[Case]:
    for path in sorted(_CORPUS.glob("*.yaml")):
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
        if not isinstance(document, dict) or not isinstance(document.get("cases"), list):
            raise ValueError(f"{path.name}: needs a mapping with a 'cases' list")
        trees = document.get("trees") or {}
        for number, raw in enumerate(document["cases"], start=1):
            yield _case(path.stem, number, raw, trees)


def _case(source: str, number: int, raw: Any, trees: dict[str, Any]) -> Case:
    where = f"{source}.yaml case {number}"
    if not isinstance(raw, dict):
        raise ValueError(f"{where}: a case is a mapping")
    unknown = set(raw) - _CASE_KEYS
    if unknown:
        raise ValueError(f"{where}: unknown keys {sorted(unknown)}")
    if raw.get("expect") not in _OUTCOMES:
        raise ValueError(f"{where}: expect must be one of {sorted(_OUTCOMES)}")
    if not raw.get("why"):
        raise ValueError(f"{where}: every case says why")
    if "cmd" in raw:
        tool, tool_input = "Bash", {"command": raw["cmd"]}
    elif "tool" in raw and "input" in raw:
        tool, tool_input = raw["tool"], raw["input"]
    else:
        raise ValueError(f"{where}: give 'cmd', or 'tool' and 'input'")
    tree = raw.get("tree")
    if isinstance(tree, str):
        if tree not in trees:
            raise ValueError(f"{where}: tree {tree!r} is not in the file's 'trees'")
        tree = trees[tree]
    return Case(
        source=source,
        number=number,
        tool=tool,
        tool_input=tool_input,
        expect=raw["expect"],
        why=raw["why"],
        xfail=raw.get("xfail"),
        tree=tuple(tree) if tree is not None else None,
        cwd=raw.get("cwd"),
        reason=raw.get("reason"),
        ident=str(raw.get("id", "")),
    )


def _params() -> list[Any]:
    params = []
    for case in _load():
        marks = (
            [pytest.mark.xfail(strict=True, reason=case.xfail)] if case.xfail is not None else []
        )
        ident = f"{case.source}-{case.number:03d}" + (f"-{case.ident}" if case.ident else "")
        params.append(pytest.param(case, id=ident, marks=marks))
    return params


def _build_tree(root: Path, entries: tuple[dict[str, str], ...], outside: Path) -> None:
    """Make the files, directories and symlinks a case describes, under `root`."""
    root.mkdir(parents=True, exist_ok=True)
    for entry in entries:
        target = root / entry["path"]
        target.parent.mkdir(parents=True, exist_ok=True)
        if "symlink" in entry:
            target.symlink_to(_substitute(entry["symlink"], root, outside))
        elif entry.get("dir"):
            target.mkdir(parents=True, exist_ok=True)
        else:
            target.write_text(entry.get("text", "x\n"), encoding="utf-8")


def _substitute(value: Any, project: Path, outside: Path) -> Any:
    """Put the real directories in for `$PROJECT` and `$OUTSIDE`, anywhere in the input."""
    if isinstance(value, str):
        return value.replace("$PROJECT", str(project)).replace("$OUTSIDE", str(outside))
    if isinstance(value, dict):
        return {key: _substitute(item, project, outside) for key, item in value.items()}
    if isinstance(value, list):
        return [_substitute(item, project, outside) for item in value]
    return value


def _pipeline(project: Path, state: Path) -> SafetyPipeline:
    # As `tether check --dir PROJECT --policy default` builds it.
    config = load_config(
        approved_directories=(project,),
        policy_files=("default",),
        audit_log_path=state / "audit.jsonl",
        storage_path=state / "tether.db",
    )
    return build_safety_pipeline(config)


@pytest.fixture(scope="module")
def _corpus_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("corpus-home")


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, _corpus_home: Path) -> None:
    """The suite-wide isolation, without a fresh directory per case.

    It replaces the conftest fixture of the same name for this module only:
    the corpus has well over a thousand cases, and a temporary directory for
    each would cost more than the decisions themselves. No TETHER_* variable
    leaks in, and `.env` is looked for in an empty directory.
    """
    for name in list(os.environ):
        if name.startswith("TETHER_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(_corpus_home)


@dataclass(frozen=True)
class _World:
    project: Path
    outside: Path
    pipeline: SafetyPipeline


@pytest.fixture(scope="module")
def worlds(tmp_path_factory: pytest.TempPathFactory) -> tuple[_World, _World]:
    """The shared project, and the approved directory that holds each `tree` case's project.

    Cases with their own tree get a fresh project under one approved directory
    (`trees/`), so one pipeline serves them all; the outside directory is
    outside both.
    """
    base = tmp_path_factory.mktemp("corpus")
    outside = base / "outside"
    _build_tree(outside, ({"path": "secret.txt", "text": "s\n"},), outside)
    project = base / "project"
    _build_tree(project, _SHARED_TREE, outside)
    trees = base / "trees"
    trees.mkdir()
    return (
        _World(project, outside, _pipeline(project, base / "state")),
        _World(trees, outside, _pipeline(trees, base / "trees-state")),
    )


_CASES = _params()


@pytest.mark.parametrize("case", _CASES)
def test_corpus_case(case: Case, worlds: tuple[_World, _World]) -> None:
    world, trees = worlds
    if case.tree is not None:
        project = trees.project / f"{case.source}-{case.number:03d}"
        _build_tree(project, case.tree, trees.outside)
        world = _World(project, trees.outside, trees.pipeline)
    tool_input = _substitute(case.tool_input, world.project, world.outside)
    # Tree cases run in their own project; the shared one is the first approved directory.
    cwd = str(world.project / (case.cwd or "")) if case.cwd or case.tree is not None else None
    verdict = world.pipeline.decide(case.tool, tool_input, cwd=cwd)
    got = verdict.decision.value
    wanted = (
        {"require_approval", "deny"} if case.expect == "not_allow" else {_DECISIONS[case.expect]}
    )
    if case.reason is not None and case.reason.lower() not in verdict.reason.lower():
        pytest.fail(
            f"{case.source}.yaml #{case.number}: the reason should say {case.reason!r}, "
            f"it says {verdict.reason[:200]!r}: {case.why}",
            pytrace=False,
        )
    if got not in wanted:
        # A one-line failure: hundreds of strict xfails must stay cheap to report.
        pytest.fail(
            f"{case.source}.yaml #{case.number}: expected {case.expect}, got {got} "
            f"(rule {verdict.rule}, facts {list(verdict.risk_facts)}, "
            f"reason {verdict.reason[:300]!r}): {case.why}",
            pytrace=False,
        )


def test_corpus_is_large_and_covers_every_outcome() -> None:
    cases = [param.values[0] for param in _CASES]
    assert len(cases) >= 600
    assert {case.expect for case in cases} >= {"allow", "ask", "deny", "not_allow"}
    assert len({case.source for case in cases}) >= 14
