"""DecisionCache: a repeated identical call decides exactly as an uncached one would.

Each case decides a call, changes the file system, and decides the same call
again on the same pipeline; the second verdict must equal a fresh pipeline's
(nothing kept) and differ from the first.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tether.core.safety.decision_cache import DecisionCache
from tether.core.safety.pipeline import SafetyPipeline, Verdict
from tether.core.safety.policy import Action

MakePipeline = Callable[..., SafetyPipeline]
Change = Callable[[Path, Path], None]


def _seen(verdict: Verdict) -> tuple[Any, ...]:
    """Everything of a verdict the gate and the audit log read."""
    return (
        verdict.decision,
        verdict.layer,
        verdict.reason,
        verdict.rule,
        verdict.risk_level,
        verdict.risk_facts,
        verdict.violation_type,
        verdict.classification,
        verdict.policy_decision,
        verdict.problems,
    )


def _relink(link: Path, target: Path | str) -> None:
    link.unlink()
    link.symlink_to(target)


def _replace_with_link(path: Path, target: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        for child in path.iterdir():
            child.unlink()
        path.rmdir()
    else:
        path.unlink()
    path.symlink_to(target)


@pytest.fixture
def outside(tmp_path_factory: pytest.TempPathFactory) -> Path:
    place = tmp_path_factory.mktemp("outside")
    (place / "secret.txt").write_text("s3cret\n")
    return place


def _prepare(project: Path, outside: Path) -> None:
    (project / "src").mkdir(exist_ok=True)
    (project / "src" / "app.py").write_text("print(1)\n")
    (project / "src" / "real.txt").write_text("real\n")
    (project / "src" / "link.txt").symlink_to(project / "src" / "real.txt")
    (project / "sub").mkdir()
    (project / "sub" / "notes.txt").write_text("notes\n")
    (project / "work").mkdir()
    (project / "here").symlink_to(project / "work")
    (project / ".env").write_text("KEY=1\n")


CASES = [
    pytest.param(
        "Read",
        {"file_path": "src/link.txt"},
        None,
        lambda p, o: _relink(p / "src" / "link.txt", o / "secret.txt"),
        id="read-symlink-repointed-outside",
    ),
    pytest.param(
        "Read",
        {"file_path": "src/missing.txt"},
        None,
        lambda p, o: (p / "src" / "missing.txt").symlink_to(o / "secret.txt"),
        id="read-missing-file-becomes-symlink-outside",
    ),
    pytest.param(
        "Read",
        {"file_path": "src/link.txt"},
        None,
        lambda p, o: _relink(p / "src" / "link.txt", p / ".env"),
        id="read-symlink-repointed-at-a-secret-inside",
    ),
    pytest.param(
        "Read",
        {"file_path": "src/link.txt"},
        None,
        lambda p, o: _relink(p / "src" / "link.txt", "../../" + "x" * 3),
        id="read-symlink-repointed-relative-climb",
    ),
    pytest.param(
        "Write",
        {"file_path": "sub/notes.txt", "content": "x"},
        None,
        lambda p, o: _replace_with_link(p / "sub", o),
        id="write-directory-replaced-by-symlink-outside",
    ),
    pytest.param(
        "Bash",
        {"command": "cat src/link.txt"},
        None,
        lambda p, o: _relink(p / "src" / "link.txt", o / "secret.txt"),
        id="bash-cat-symlink-repointed-outside",
    ),
    pytest.param(
        "Bash",
        {"command": "cd sub && cat notes.txt"},
        None,
        lambda p, o: _replace_with_link(p / "sub", o),
        id="bash-cd-target-becomes-symlink-outside",
    ),
    pytest.param(
        "Bash",
        {"command": "cat notes.txt"},
        "here",
        lambda p, o: _relink(p / "here", o),
        id="bash-working-directory-symlink-repointed",
    ),
    pytest.param(
        "Bash",
        {"command": "cat src/*.txt"},
        None,
        lambda p, o: (p / "src" / "z.txt").symlink_to(o / "secret.txt"),
        id="bash-glob-gains-a-symlink-outside",
    ),
    pytest.param(
        "Bash",
        {"command": "grep -r needle src"},
        None,
        lambda p, o: (
            (p / "src" / "nested").mkdir() or (p / "src" / "nested" / ".env").write_text("K=1")
        ),
        id="bash-tree-read-gains-a-secret",
    ),
    pytest.param(
        "Grep",
        {"pattern": "needle", "path": "src"},
        None,
        lambda p, o: (
            (p / "src" / "deeper").mkdir() or (p / "src" / "deeper" / "id_rsa").write_text("k")
        ),
        id="grep-tool-tree-gains-a-key",
    ),
    pytest.param(
        "Bash",
        {"command": "cd src && grep -r needle ../docs"},
        None,
        lambda p, o: (p / "docs").mkdir() or (p / "docs" / ".env").write_text("K=1"),
        id="bash-tree-read-root-comes-to-exist",
    ),
    pytest.param(
        "Read",
        {"file_path": "src/loop.txt"},
        None,
        lambda p, o: (
            (p / "src" / "loop.txt").symlink_to(p / "src" / "loop2.txt"),
            (p / "src" / "loop2.txt").symlink_to(p / "src" / "loop.txt"),
        ),
        id="read-missing-file-becomes-symlink-loop",
    ),
]


@pytest.mark.parametrize(("tool_name", "tool_input", "cwd", "change"), CASES)
def test_a_file_system_change_changes_the_decision_as_an_uncached_call_would(
    make_pipeline: MakePipeline,
    project_dir: Path,
    outside: Path,
    tool_name: str,
    tool_input: dict[str, Any],
    cwd: str | None,
    change: Change,
) -> None:
    _prepare(project_dir, outside)
    where = None if cwd is None else str(project_dir / cwd)
    kept = make_pipeline()
    before = kept.decide(tool_name, tool_input, cwd=where)
    assert _seen(before) == _seen(make_pipeline().decide(tool_name, tool_input, cwd=where))
    assert kept.decide(tool_name, tool_input, cwd=where) == before
    change(project_dir, outside)
    after = kept.decide(tool_name, tool_input, cwd=where)
    fresh = make_pipeline().decide(tool_name, tool_input, cwd=where)
    assert _seen(after) == _seen(fresh)
    assert _seen(after) != _seen(before), "the change should have changed the decision"


def test_an_unchanged_repeat_is_answered_from_the_cache(make_pipeline: MakePipeline) -> None:
    pipeline = make_pipeline()
    first = pipeline.decide("Read", {"file_path": "src/app.py"})
    assert pipeline.decide("Read", {"file_path": "src/app.py"}) is first


@pytest.mark.parametrize(
    ("first", "second"),
    [
        pytest.param(
            {"command": "ls", "timeout": 1}, {"command": "ls", "timeout": True}, id="1-vs-True"
        ),
        pytest.param(
            {"command": "ls", "timeout": 1}, {"command": "ls", "timeout": 1.0}, id="1-vs-1.0"
        ),
        pytest.param({"command": "ls"}, {"command": "ls", "extra": None}, id="extra-field"),
        pytest.param({"command": "ls"}, {"command": "ls "}, id="trailing-space"),
    ],
)
def test_inputs_that_compare_equal_in_python_are_different_keys(
    first: dict[str, Any], second: dict[str, Any]
) -> None:
    cache = DecisionCache()
    assert cache.key("Bash", first, None, "/home/u") != cache.key("Bash", second, None, "/home/u")


def _reference_key(tool_input: dict[str, Any]) -> tuple[Any, ...]:
    """Each field as its name, its value's type and its value: what makes two inputs one."""
    return tuple((name, type(value), value) for name, value in tool_input.items())


_SCALAR = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-2, max_value=2),
    st.sampled_from([0.0, -0.0, 1.0, 2.0]),
    st.sampled_from(["", "0", "1", "ls", "True", "None"]),
)
_INPUT = st.dictionaries(st.sampled_from(["command", "timeout", "a"]), _SCALAR, max_size=3)


@settings(max_examples=400, deadline=None)
@given(first=_INPUT, second=_INPUT)
def test_two_inputs_share_a_key_only_when_each_field_is_the_same_value_of_the_same_type(
    first: dict[str, Any], second: dict[str, Any]
) -> None:
    cache = DecisionCache()
    same = cache.key("Bash", first, None, "/h") == cache.key("Bash", second, None, "/h")
    assert same == (_reference_key(first) == _reference_key(second)), (first, second)


@pytest.mark.parametrize(
    ("tool_input", "cwd", "home"),
    [
        pytest.param({"command": "ls", "list": ["a"]}, None, "/h", id="list-value"),
        pytest.param({"command": "ls", "map": {"a": 1}}, None, "/h", id="dict-value"),
        pytest.param({"file_path": "x", "content": "y" * 5000}, None, "/h", id="large-input"),
        pytest.param({1: "ls"}, None, "/h", id="non-string-field-name"),
    ],
)
def test_inputs_that_are_not_small_plain_values_are_never_kept(
    tool_input: dict[Any, Any], cwd: str | None, home: str
) -> None:
    assert DecisionCache().key("Bash", tool_input, cwd, home) is None


def test_working_directory_and_home_are_part_of_the_key() -> None:
    cache = DecisionCache()
    call = {"command": "cat ~/x"}
    assert cache.key("Bash", call, "/a", "/h") != cache.key("Bash", call, "/b", "/h")
    assert cache.key("Bash", call, "/a", "/h") != cache.key("Bash", call, "/a", "/g")
    assert cache.key("Bash", call, None, "/h") != cache.key("Bash", call, "None", "/h")


def test_the_cache_is_bounded(make_pipeline: MakePipeline) -> None:
    cache = DecisionCache(size=3)
    pipeline = make_pipeline()
    verdict = pipeline.decide("Bash", {"command": "ls"})
    for index in range(10):
        key = cache.key("Bash", {"command": f"ls {index}"}, None, "/h")
        assert key is not None
        cache.put(key, verdict, [])
    assert len(cache) == 3


def test_a_denial_is_kept_and_reused_too(make_pipeline: MakePipeline) -> None:
    pipeline = make_pipeline()
    first = pipeline.decide("Bash", {"command": "rm -rf /"})
    assert first.decision is Action.DENY
    assert pipeline.decide("Bash", {"command": "rm -rf /"}) is first


@pytest.mark.parametrize("repeats", [1, 2, 5], ids=["one-lookup", "two-lookups", "five-lookups"])
def test_put_missed_keeps_what_put_keeps(
    make_pipeline: MakePipeline, tmp_path: Path, repeats: int
) -> None:
    """`put_missed` (the pipeline's put after a miss) reuses and drops a verdict as
    `put` does, whether its lookups are kept as given or set apart, repeats included."""
    verdict = make_pipeline().decide("Bash", {"command": "ls"})
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "a")
    plain = str(tmp_path / "plain")
    probes: list[tuple[str, str | None]] = [(str(link), str(tmp_path / "a"))]
    probes += [(plain, None)] * (repeats - 1)
    caches = {"put": DecisionCache(), "put_missed": DecisionCache()}
    key = caches["put"].key("Bash", {"command": "cat link"}, None, "/h")
    assert key is not None
    caches["put"].put(key, verdict, list(probes))
    caches["put_missed"].put_missed(key, verdict, list(probes))
    assert [cache.get(key) for cache in caches.values()] == [verdict, verdict]
    _relink(link, tmp_path / "b")
    assert [cache.get(key) for cache in caches.values()] == [None, None]
    assert [len(cache) for cache in caches.values()] == [0, 0]


def test_put_missed_is_bounded_and_drops_the_least_recently_used(
    make_pipeline: MakePipeline,
) -> None:
    cache = DecisionCache(size=2)
    verdict = make_pipeline().decide("Bash", {"command": "ls"})
    keys = [cache.key("Bash", {"command": f"ls {index}"}, None, "/h") for index in range(3)]
    for key in keys[:2]:
        assert key is not None
        cache.put_missed(key, verdict, [])
    assert keys[0] is not None and cache.get(keys[0]) is verdict  # now the most recent
    assert keys[2] is not None
    cache.put_missed(keys[2], verdict, [])
    assert len(cache) == 2
    assert keys[1] is not None and cache.get(keys[1]) is None
    assert cache.get(keys[0]) is verdict


def test_a_call_without_a_tree_read_keeps_no_recheck_and_one_with_keeps_its_own(
    make_pipeline: MakePipeline,
) -> None:
    """A call's rechecks are made with its first tree read: a call after a tree read
    keeps none of that call's rechecks."""
    pipeline = make_pipeline()
    pipeline.decide("Bash", {"command": "grep -r needle ."})
    pipeline.decide("Read", {"file_path": "src/app.py"})
    kept = {key[0]: entry[2] for key, entry in pipeline._decisions._entries.items()}
    assert len(kept["Bash"]) == 1
    assert kept["Read"] == ()
