"""The sandbox's shortcuts check paths exactly as its plain order of tests does.

When no protected path overlaps an approved directory, `SandboxEnforcer.check`
allows a path inside an approved directory without testing it against the
protected paths (it cannot be one of them). Held to the plain order (the
protected test first) over layouts where the two are apart, nested either way,
equal, and at the root, for generated paths.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tether.core.safety.sandbox import SandboxEnforcer

# (approved, protected), relative to a temporary root; "/" is the file system's root.
_LAYOUTS = [
    pytest.param(["p"], ["audit.jsonl", "state"], id="apart"),
    pytest.param(["p"], ["p/audit.jsonl", "state"], id="protected-file-inside"),
    pytest.param(["p"], ["p/state"], id="protected-directory-inside"),
    pytest.param(["p/inner"], ["p"], id="approved-inside-protected"),
    pytest.param(["p"], ["p"], id="the-same-directory"),
    pytest.param(["p", "q"], ["q/x"], id="inside-the-second-approved"),
    pytest.param(["p"], ["pp", "p-state"], id="a-shared-name-prefix-is-apart"),
    pytest.param(["p"], [], id="nothing-protected"),
    pytest.param(["/"], ["state"], id="approved-root"),
]
_NAMES = ["p", "q", "pp", "p-state", "inner", "audit.jsonl", "state", "x", "..", "."]
_PATHS = st.lists(st.sampled_from(_NAMES), min_size=1, max_size=4).map("/".join)


def _sandbox(root: Path, approved: list[str], protected: list[str]) -> SandboxEnforcer:
    return SandboxEnforcer(
        [d if d == "/" else root / d for d in approved],
        protected=[root / p for p in protected],
        home=root / "home",
    )


@pytest.mark.parametrize(("approved", "protected"), _LAYOUTS)
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(paths=st.lists(_PATHS, min_size=1, max_size=6), absolute=st.booleans())
def test_a_path_is_checked_as_the_plain_order_checks_it(
    tmp_path_factory: pytest.TempPathFactory,
    approved: list[str],
    protected: list[str],
    paths: list[str],
    absolute: bool,
) -> None:
    root = tmp_path_factory.mktemp("layout")
    for name in ("p/inner", "q", "pp", "state", "p/state"):
        (root / name).mkdir(parents=True, exist_ok=True)
    (root / "audit.jsonl").write_text("x")
    (root / "p" / "audit.jsonl").write_text("x")
    fast = _sandbox(root, approved, protected)
    plain = _sandbox(root, approved, protected)
    plain.approved_directories  # noqa: B018 - resolves the directories
    plain._protected_apart = False  # the plain order: the protected test first
    base = os.path.realpath(root)
    for path in paths:
        spelled = f"{base}/{path}" if absolute else path
        for file_tool in (False, True):
            assert fast.check(spelled, base, file_tool=file_tool) == plain.check(
                spelled, base, file_tool=file_tool
            ), spelled


@pytest.mark.parametrize(
    ("approved", "protected", "apart"),
    [
        pytest.param(["p"], ["audit.jsonl"], True, id="apart"),
        pytest.param(["p"], ["p/audit.jsonl"], False, id="inside"),
        pytest.param(["p/inner"], ["p"], False, id="around"),
        pytest.param(["p"], ["pp"], True, id="shared-name-prefix"),
        pytest.param(["/"], ["audit.jsonl"], False, id="root"),
    ],
)
def test_overlap_is_recognised(
    tmp_path: Path, approved: list[str], protected: list[str], apart: bool
) -> None:
    (tmp_path / "p" / "inner").mkdir(parents=True)
    sandbox = _sandbox(tmp_path, approved, protected)
    sandbox.approved_directories  # noqa: B018 - resolves the directories
    assert sandbox._protected_apart is apart


# -- home -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spelled",
    [
        pytest.param("{root}/a", id="plain"),
        pytest.param("{root}/a/", id="trailing-slash"),
        pytest.param("{root}//a/./b/..", id="unnormalised"),
    ],
)
def test_home_follows_the_environment_on_every_call(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, spelled: str
) -> None:
    sandbox = SandboxEnforcer([tmp_path])
    for name in ("a", "b"):
        value = spelled.format(root=tmp_path).replace("/a", f"/{name}")
        monkeypatch.setenv("HOME", value)
        assert sandbox.home == str(Path.home())
        assert sandbox.home == sandbox.home  # asked again, the same value
    monkeypatch.delenv("HOME")
    assert sandbox.home == str(Path.home())
    monkeypatch.setenv("HOME", str(tmp_path / "a"))
    assert sandbox.home == str(tmp_path / "a")


def test_a_kept_verdict_is_not_reused_under_another_home(
    monkeypatch: pytest.MonkeyPatch, make_pipeline: object, project_dir: Path, tmp_path: Path
) -> None:
    from tether.core.safety.pipeline import SafetyPipeline

    pipeline = make_pipeline()  # type: ignore[operator]
    assert isinstance(pipeline, SafetyPipeline)
    (project_dir / "notes.txt").write_text("x")
    call = ("Bash", {"command": "cat ~/notes.txt"})
    monkeypatch.setenv("HOME", str(project_dir))
    inside = pipeline.decide(*call)
    assert inside.violation_type != "sandbox"
    monkeypatch.setenv("HOME", str(tmp_path / "elsewhere"))
    outside = pipeline.decide(*call)
    assert outside.violation_type == "sandbox"
    monkeypatch.setenv("HOME", str(project_dir))
    assert pipeline.decide(*call) == inside
