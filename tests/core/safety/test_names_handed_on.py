"""A listing whose names become another program's arguments reads the whole tree.

`find . | xargs cat` prints every file `find` lists, so the walk checks what is
there (`tree_reads`). Whether the names are handed on is read from what the shell
model made of the line, never from its text: every spelling of `xargs`, and
`parallel`, hand them on alike.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.core.safety.test_tree_reads import _pipeline
from tether.core.safety.pipeline import SafetyPipeline


@pytest.fixture
def projects(tmp_path: Path) -> tuple[SafetyPipeline, Path, Path]:
    """One approved directory holding a project with `.env` and one without."""
    approved = tmp_path / "approved"
    holding, clean = approved / "holding", approved / "clean"
    for project in (holding, clean):
        (project / "src").mkdir(parents=True)
        (project / "src" / "app.py").write_text("print(1)\n")
        (project / "README.md").write_text("# r\n")
    (holding / "src" / ".env").write_text("KEY=v\n")
    return _pipeline(approved, tmp_path / "state"), holding, clean


_HANDED_ON = [
    "find . -type f | xargs cat",
    "find . -type f | xa''rgs cat",
    'find . -type f | xa""rgs cat',
    "find . -type f | x\\args cat",
    'find . -type f | "x"args cat',
    "find . -type f | 'xargs' cat",
    "find . -type f | xarg\\s cat",
    "find . -type f | xa${u}rgs cat",
    "find . -type f | env xa''rgs cat",
    "find . -type f | command xa''rgs cat",
    "find . -type f | nice xa''rgs -0 cat",
    "find . -type f | parallel cat",
    "find . -type f | parallel -X cat",
    "find . -type f | parallel cat {}",
    "find . -type f | p''arallel cat",
    "find . -print0 | sort -z | xa''rgs -0 cat",
    "git ls-files | xa''rgs cat",
    "git ls-files | parallel cat",
    "find . | xa''rgs grep -H .",
    "find src -type f | parallel head",
]


@pytest.mark.parametrize("command", _HANDED_ON)
def test_names_handed_on_in_any_spelling_are_walked(
    projects: tuple[SafetyPipeline, Path, Path], command: str
) -> None:
    pipeline, holding, clean = projects
    verdict = pipeline.decide("Bash", {"command": command}, cwd=str(holding))
    assert verdict.decision.value != "allow", verdict.reason
    assert "tree_read" in verdict.risk_facts or verdict.decision.value == "deny", verdict.reason
    # The walk is what decides: the same line over a clean tree is not refused for it.
    clean_verdict = pipeline.decide("Bash", {"command": command}, cwd=str(clean))
    assert "tree_read" not in clean_verdict.risk_facts, clean_verdict.reason


@pytest.mark.parametrize(
    "command",
    [
        "find . -name '*.py'",
        "find . -type f | wc -l",
        "find . -type f | sort | head -20",
        "git ls-files | grep -c py",
        "find src -name '*.py' | head",
    ],
)
def test_listings_whose_names_are_not_read_stay_allowed(
    projects: tuple[SafetyPipeline, Path, Path], command: str
) -> None:
    pipeline, holding, _ = projects
    verdict = pipeline.decide("Bash", {"command": command}, cwd=str(holding))
    assert verdict.decision.value == "allow", verdict.reason
