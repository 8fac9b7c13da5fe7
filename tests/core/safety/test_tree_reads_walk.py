"""The walk itself: what one call's tree reads share, against walks made afresh.

Within one call a tree is listed once (`CallWalks`): a second read of it, or a root
inside a tree a plain walk already listed and found clean, is answered from that walk.
Every answer must be the one a fresh walk of each root would give.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tether.core.safety.analyzer import PathAnalyzer
from tether.core.safety.tree_reads import CallWalks, TreeReads, Walk

_CREDENTIAL = PathAnalyzer().credential_reason

_NONE = Walk(contents=True, follow="none")  # grep -r
_ALL = Walk(contents=True, follow="all")  # grep -R
_FILES = Walk(contents=True, follow="files")  # git ls-files | xargs cat
_HIDDEN_SKIPPED = Walk(contents=True, follow="none", hidden=False)  # rg
_VENDOR_SKIPPED = Walk(contents=True, follow="none", exclude_dirs=("vendor",))
_NAMES_ONLY = Walk(contents=False, follow="all")  # Glob
_WALKS = [_NONE, _ALL, _FILES, _HIDDEN_SKIPPED, _VENDOR_SKIPPED, _NAMES_ONLY]


def _files(root: Path, names: Sequence[str]) -> Path:
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x\n", encoding="utf-8")
    return root


@pytest.fixture
def base(tmp_path: Path) -> Path:
    """The approved directory: a project in it, and `outside` beside it (not approved)."""
    _files(tmp_path / "outside", ["secret.txt"])
    project = tmp_path / "approved" / "project"
    return _files(project, ["src/app.py", "src/pkg/core.py", "docs/index.md", "README.md"])


def _approved(project: Path) -> list[str]:
    return [str(project.parent)]


@pytest.fixture
def listed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The directories the walks list, in order."""
    seen: list[str] = []
    real = os.scandir

    def counting(path: str) -> Iterator[os.DirEntry[str]]:
        seen.append(path)
        return real(path)

    monkeypatch.setattr(os, "scandir", counting)  # the module calls `os.scandir`
    return seen


def _fresh(walk: Walk, roots: Sequence[str], approved: Sequence[str]) -> str | None:
    """The answer of walking each root by itself, with nothing kept from another walk."""
    for root in roots:
        finding = TreeReads(_CREDENTIAL).check(walk, [root], approved)
        if finding is not None:
            return finding
    return None


def test_a_tree_two_parts_read_is_listed_once_in_a_call(base: Path, listed: list[str]) -> None:
    trees = TreeReads(_CREDENTIAL)
    approved = _approved(base)
    call = CallWalks()
    assert trees.check(_FILES, [str(base)], approved, call) is None
    once = len(listed)
    assert once == 4  # project, src, src/pkg, docs
    assert trees.check(_FILES, [str(base), str(base / "src")], approved, call) is None
    assert len(listed) == once
    # The next call walks again: the tree may have changed in between.
    assert trees.check(_FILES, [str(base)], approved, CallWalks()) is None
    assert len(listed) == 2 * once


def test_a_root_inside_a_walked_tree_is_not_listed_again(base: Path, listed: list[str]) -> None:
    trees = TreeReads(_CREDENTIAL)
    roots = [str(base), str(base / "src" / "pkg"), str(base / "src")]
    assert trees.check(_NONE, roots, _approved(base)) is None
    assert sorted(listed) == sorted({*listed})  # each directory once
    assert len(listed) == 4


def test_a_root_above_a_walked_tree_is_walked_whole(base: Path, listed: list[str]) -> None:
    trees = TreeReads(_CREDENTIAL)
    _files(base, ["docs/deep/er/.env"])
    roots = [str(base / "src"), str(base)]
    finding = trees.check(_NONE, roots, _approved(base))
    assert finding == _fresh(_NONE, roots, _approved(base))
    assert finding is not None and ".env" in finding


@pytest.mark.parametrize("walk", [_NONE, _ALL, _FILES, _VENDOR_SKIPPED])
@pytest.mark.parametrize("order", ["deep-first", "project-first", "two-calls"])
def test_a_credential_file_deep_in_the_tree_is_found_by_every_route(
    base: Path, walk: Walk, order: str
) -> None:
    _files(base, ["src/pkg/a/b/c/d/e/id_ed25519"])
    deep = str(base / "src" / "pkg" / "a" / "b")
    project = str(base)
    trees = TreeReads(_CREDENTIAL)
    approved = _approved(base)
    if order == "two-calls":
        call = CallWalks()
        first = trees.check(walk, [project], approved, call)
        second = trees.check(walk, [deep], approved, call)
        assert first == _fresh(walk, [project], approved)
        assert second == _fresh(walk, [deep], approved)
        assert second is not None and "id_ed25519" in second
        return
    roots = [deep, project] if order == "deep-first" else [project, deep]
    finding = trees.check(walk, roots, approved)
    assert finding == _fresh(walk, roots, approved)
    assert finding is not None and "id_ed25519" in finding


def test_a_walk_that_found_something_answers_for_no_other_root(base: Path) -> None:
    """A walk stops at its first finding: the rest of what it listed was not all judged."""
    _files(base, ["src/pkg/.env", "src/pkg/id_rsa", "docs/prod.tfvars"])
    trees = TreeReads(_CREDENTIAL)
    approved = _approved(base)
    call = CallWalks()
    assert trees.check(_NONE, [str(base)], approved, call) is not None
    for root in (base / "src", base / "src" / "pkg", base / "docs"):
        assert trees.check(_NONE, [str(root)], approved, call) == _fresh(
            _NONE, [str(root)], approved
        )
        assert trees.check(_NONE, [str(root)], approved, call) is not None


def test_a_directory_reached_by_two_routes_is_walked_again_from_its_own_root(
    base: Path, listed: list[str]
) -> None:
    """A walk that followed a link to a directory is not plain: each root walks itself."""
    (base / "src" / "to_docs").symlink_to(base / "docs")
    trees = TreeReads(_CREDENTIAL)
    approved = _approved(base)
    call = CallWalks()
    assert trees.check(_ALL, [str(base)], approved, call) is None
    walked = len(listed)
    assert trees.check(_ALL, [str(base / "docs")], approved, call) is None
    assert len(listed) == walked + 1
    # And a credential file there is found from either route, in either order.
    _files(base, ["docs/.env"])
    for roots in ([str(base), str(base / "docs")], [str(base / "src"), str(base)]):
        finding = TreeReads(_CREDENTIAL).check(_ALL, roots, approved)
        assert finding == _fresh(_ALL, roots, approved)
        assert finding is not None and ".env" in finding


def test_a_directory_listed_twice_in_one_walk_is_not_plain(base: Path) -> None:
    (base / "src" / "pkg" / "loop").symlink_to(base / "src")
    record = TreeReads(_CREDENTIAL)._walk(_ALL, str(base), _approved(base))
    assert record.finding is None and not record.plain
    plain = TreeReads(_CREDENTIAL)._walk(_NONE, str(base), _approved(base))
    assert plain.finding is None and plain.plain


@pytest.mark.parametrize(
    ("walk", "skipped", "secret"),
    [
        pytest.param(_HIDDEN_SKIPPED, ".cache", ".cache/id_rsa", id="hidden"),
        pytest.param(_VENDOR_SKIPPED, "vendor", "vendor/lib/.env", id="exclude-dir"),
    ],
)
def test_what_a_walk_skipped_is_walked_when_it_is_a_root(
    base: Path, walk: Walk, skipped: str, secret: str
) -> None:
    _files(base, [secret])
    trees = TreeReads(_CREDENTIAL)
    approved = _approved(base)
    call = CallWalks()
    assert trees.check(walk, [str(base)], approved, call) is None
    finding = trees.check(walk, [str(base / skipped)], approved, call)
    assert finding is not None and Path(secret).name in finding


@pytest.mark.parametrize(
    ("walk", "target"),
    [
        pytest.param(_ALL, "outside", id="all-to-a-directory"),
        pytest.param(_FILES, "outside/secret.txt", id="files-to-a-file"),
        pytest.param(_NAMES_ONLY, "outside", id="names-only"),
    ],
)
def test_a_link_out_is_found_after_a_clean_walk_of_the_same_call(
    base: Path, walk: Walk, target: str
) -> None:
    """A walk that does not follow links finds nothing; one that does, in the same call,
    still finds the link out (walks of different kinds share nothing)."""
    (base / "src" / "pkg" / "ext").symlink_to(base.parent.parent / target)
    trees = TreeReads(_CREDENTIAL)
    approved = _approved(base)
    call = CallWalks()
    assert trees.check(_NONE, [str(base)], approved, call) is None
    finding = trees.check(walk, [str(base / "src")], approved, call)
    assert finding is not None and "outside the approved directories" in finding
    assert finding == _fresh(walk, [str(base / "src")], approved)


def test_a_link_not_followed_is_never_judged(base: Path) -> None:
    for name, target in [("dangling", "nowhere"), ("self", "self"), ("out", "/")]:
        (base / "src" / name).symlink_to(target)
    assert TreeReads(_CREDENTIAL).check(_NONE, [str(base)], _approved(base)) is None


def test_the_entry_bound_still_fails_closed_in_a_shared_call(base: Path) -> None:
    _files(base, [f"docs/many/f{n}.md" for n in range(40)])
    trees = TreeReads(_CREDENTIAL, max_entries=30)
    approved = _approved(base)
    call = CallWalks()
    assert trees.check(_NONE, [str(base / "src")], approved, call) is None
    finding = trees.check(_NONE, [str(base / "src"), str(base)], approved, call)
    assert finding is not None and "more than 30 entries" in finding
    # What went past the bound answers for no root inside it.
    inner = trees.check(_NONE, [str(base / "docs" / "many")], approved, call)
    assert inner is not None and "more than 30 entries" in inner


def test_the_time_bound_still_fails_closed_in_a_shared_call(base: Path) -> None:
    trees = TreeReads(_CREDENTIAL, max_seconds=0.0)
    call = CallWalks()
    for root in (base, base / "src"):
        finding = trees.check(_NONE, [str(root)], _approved(base), call)
        assert finding is not None and "longer than 0 ms" in finding


_ODD_NAMES = [
    os.fsdecode(b"caf\xe9"),  # not UTF-8: a surrogate escape
    "caf\u00e9",
    "cafe\u0301",  # the same word, decomposed
    "new\nline",
    "tab\there",
    " lead",
    "-dash",
    "\u202ertl",
]


@pytest.mark.parametrize("directory", _ODD_NAMES)
@pytest.mark.parametrize("secret", [".env", "\uff0eenv", "id_rsa"])
def test_names_in_odd_encodings_are_walked_and_judged(
    base: Path, directory: str, secret: str
) -> None:
    _files(base, [f"src/{directory}/deeper/{secret}"])
    odd = str(base / "src" / directory)
    approved = _approved(base)
    for roots in (
        [str(base), odd],
        [odd, str(base)],
        [odd, str(base / "src" / directory / "deeper")],
    ):
        call = CallWalks()
        trees = TreeReads(_CREDENTIAL)
        finding = trees.check(_NONE, roots, approved, call)
        assert finding == _fresh(_NONE, roots, approved)
        assert finding is not None


_TREE_NAMES = ["a", "b", ".h", "vendor", ".env", "id_rsa", "x.py", "\uff0eenv", "caf\udce9"]
_KINDS = ["dir", "dir", "file", "link-dir", "link-out", "link-file", "dangling"]


@settings(max_examples=120, deadline=None, database=None)
@given(
    nodes=st.lists(
        st.tuples(st.integers(0, 30), st.sampled_from(_TREE_NAMES), st.sampled_from(_KINDS)),
        max_size=14,
    ),
    parts=st.lists(st.lists(st.integers(0, 30), min_size=1, max_size=3), min_size=1, max_size=3),
    walk=st.sampled_from(_WALKS),
)
def test_a_call_answers_as_fresh_walks_would(
    nodes: list[tuple[int, str, str]], parts: list[list[int]], walk: Walk
) -> None:
    """Random trees (links in and out, loops, hidden, skipped and credential names) and
    random roots: each part's answer in a shared call is the answer of fresh walks."""
    with tempfile.TemporaryDirectory() as temporary:
        base = Path(temporary)
        outside = _files(base / "outside", ["notes.txt"])
        project = base / "approved" / "project"
        project.mkdir(parents=True)
        directories = [project]
        files: list[Path] = []
        for parent_at, name, kind in nodes:
            path = directories[parent_at % len(directories)] / name
            if os.path.lexists(path):
                continue
            if kind == "dir":
                path.mkdir()
                directories.append(path)
            elif kind == "file":
                path.write_text("x\n", encoding="utf-8")
                files.append(path)
            elif kind == "link-dir":
                path.symlink_to(directories[(parent_at * 7) % len(directories)])
            elif kind == "link-out":
                path.symlink_to(outside)
            elif kind == "link-file":
                path.symlink_to(files[-1] if files else outside / "notes.txt")
            else:
                path.symlink_to(base / "gone")
        approved = [str(project.parent)]
        trees = TreeReads(_CREDENTIAL)
        call = CallWalks()
        for part in parts:
            roots = [str(directories[at % len(directories)]) for at in part]
            assert trees.check(walk, roots, approved, call) == _fresh(walk, roots, approved)


# A pause is not a slow tree. The walk's clock runs while the whole process is paused
# (a full garbage collection of a large heap, a busy machine), so a walk cut by time is
# walked once more before the call is refused; only a tree slow both times is.

_BOUND = 0.05  # seconds: the walks below take well under a millisecond unpaused
_PAUSE = 0.15  # longer than the bound: one pause alone cuts a walk


def _pausing(monkeypatch: pytest.MonkeyPatch, at: Sequence[int] | None) -> list[str]:
    """The directories listed, in order; the listings numbered in `at` (every one when
    None) pause the process for `_PAUSE` seconds first."""
    seen: list[str] = []
    real = os.scandir

    def pausing(path: str) -> Iterator[os.DirEntry[str]]:
        if at is None or len(seen) in at:
            time.sleep(_PAUSE)
        seen.append(path)
        return real(path)

    monkeypatch.setattr(os, "scandir", pausing)
    return seen


_DIRECTORIES = 4  # the project, src, src/pkg and docs


@pytest.mark.parametrize("walk", _WALKS)
@pytest.mark.parametrize("at", [0, 1, _DIRECTORIES - 1])
def test_a_pause_during_a_walk_is_not_a_slow_tree(
    base: Path, monkeypatch: pytest.MonkeyPatch, walk: Walk, at: int
) -> None:
    listed = _pausing(monkeypatch, [at])
    trees = TreeReads(_CREDENTIAL, max_seconds=_BOUND)
    assert trees.check(walk, [str(base)], _approved(base)) is None
    # The first walk was cut after the pause; the second listed the whole tree.
    assert len(listed) == at + 1 + _DIRECTORIES


@pytest.mark.parametrize("at", [0, 1, 2])
def test_the_second_walk_still_finds_what_the_tree_holds(
    base: Path, monkeypatch: pytest.MonkeyPatch, at: int
) -> None:
    _files(base, ["src/pkg/.env"])
    link = base / "docs" / "out"
    link.symlink_to(base.parent.parent / "outside")
    _pausing(monkeypatch, [at])
    trees = TreeReads(_CREDENTIAL, max_seconds=_BOUND)
    found = trees.check(_ALL, [str(base)], _approved(base))
    assert found is not None and "longer than" not in found
    assert found == _fresh(_ALL, [str(base)], _approved(base))


@pytest.mark.parametrize(("first", "second"), [(0, 0), (0, 2), (3, 1)])
def test_a_pause_in_both_walks_asks_and_says_why(
    base: Path, monkeypatch: pytest.MonkeyPatch, first: int, second: int
) -> None:
    # `second` counts listings of the second walk, which starts after `first + 1`.
    _pausing(monkeypatch, [first, first + 1 + second])
    trees = TreeReads(_CREDENTIAL, max_seconds=_BOUND)
    found = trees.check(_NONE, [str(base)], _approved(base))
    assert found is not None and "took longer than 50 ms to check" in found


def test_a_tree_slow_to_list_is_refused_after_two_walks(
    base: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    listed = _pausing(monkeypatch, None)
    trees = TreeReads(_CREDENTIAL, max_seconds=_BOUND)
    found = trees.check(_NONE, [str(base)], _approved(base))
    assert found is not None and "took longer than 50 ms to check" in found
    # Each walk stops at its first listing past the bound: two listings, no third walk.
    assert len(listed) == 2
    # Nothing is kept of a walk cut short: the next call walks (and is refused) again.
    assert trees.check(_NONE, [str(base)], _approved(base)) == found
    assert len(listed) == 4


def test_a_shared_call_answers_from_the_second_walk(
    base: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    listed = _pausing(monkeypatch, [0])
    trees = TreeReads(_CREDENTIAL, max_seconds=_BOUND)
    call = CallWalks()
    roots = [str(base), str(base / "src"), str(base / "docs")]
    assert trees.check(_NONE, roots, _approved(base), call) is None
    # The roots inside the project are answered from its (second) walk: no listing more.
    assert len(listed) == 1 + _DIRECTORIES


def test_the_second_walk_is_kept_like_any_other(
    base: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for directory, _, _ in os.walk(base):
        os.utime(directory, (1_000_000_000, 1_000_000_000))  # old enough to be kept
    listed = _pausing(monkeypatch, [0])
    trees = TreeReads(_CREDENTIAL, max_seconds=_BOUND)
    assert trees.check(_NONE, [str(base)], _approved(base)) is None
    assert trees.check(_NONE, [str(base)], _approved(base)) is None
    assert len(listed) == 1 + _DIRECTORIES  # the second check listed nothing
