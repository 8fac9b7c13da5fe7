"""Resolution from a resolved directory gives what a careful walk from the root gives.

`sandbox._resolve` trusts the directory it starts from (the session's working
directory, resolved on its own) and looks up only the names of the path, with
the root spelled as the empty string while it walks. The careful walk here
starts at `/` and looks up every component of the whole path, the directory's
included, with nothing skipped and nothing kept. They must agree on the result
and on the lookups below the directory, for the inputs that break resolvers:
symlinks changed between two identical calls, loops, `..` through links,
`/proc/self`, names and paths too long for the system, names that are not UTF-8,
and NUL.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.core.safety.conftest import reference_resolve
from tether.core.safety.sandbox import SandboxEnforcer, _resolve

P = pytest.param
Probes = list[tuple[str, str | None]]


def _components(directory: str) -> int:
    """How many lookups the careful walk makes to reach the resolved `directory`."""
    return len([name for name in directory.split("/") if name])


def _assert_same(base: str, path: str) -> str | None:
    """`_resolve(base, path)` against the careful walk of the whole path: the same result,
    and the same lookups once past `base` (the careful walk looks up `base` too)."""
    fast: Probes = []
    careful: Probes = []
    resolved = _resolve(base, path, fast)
    absolute = path if path.startswith("/") else f"{base}/{path}"
    assert resolved == reference_resolve("/", absolute, careful), path
    skipped = 0 if path.startswith("/") else _components(base)
    assert fast == careful[skipped:], path
    return resolved


@pytest.fixture
def root(tmp_path: Path) -> str:
    real = os.path.realpath(tmp_path)
    for directory in ("project/src/deep", "outside/deep"):
        Path(real, directory).mkdir(parents=True)
    Path(real, "project/src/app.py").write_text("x")
    Path(real, "outside/secret").write_text("x")
    return real


# -- a symlink changed between two identical calls ----------------------------------


@pytest.mark.parametrize(
    ("before", "after"),
    [
        P("src", "../outside", id="link-re-pointed-out"),
        P(None, "../outside", id="directory-replaced-by-a-link"),
        P("../outside", "src", id="link-re-pointed-in"),
        P("src", None, id="link-replaced-by-a-directory"),
        P("src", "missing", id="link-left-dangling"),
    ],
)
def test_a_symlink_changed_between_two_identical_calls_is_seen(
    root: str, before: str | None, after: str | None
) -> None:
    base = f"{root}/project"
    sandbox = SandboxEnforcer([base])
    node = Path(base, "node")

    def make(target: str | None) -> None:
        if node.is_symlink():
            node.unlink()
        elif node.is_dir():
            node.rmdir()
        if target is None:
            node.mkdir()
        else:
            node.symlink_to(target)

    answers = []
    for target in (before, after):
        make(target)
        for path in ("node/app.py", f"{node}/app.py", "node/../src/app.py"):
            _assert_same(base, path)
        answers.append(sandbox.check("node/app.py", base))
    assert answers[0] != answers[1]
    fresh = SandboxEnforcer([base])
    assert answers[1] == fresh.check("node/app.py", base)


def test_a_kept_verdict_is_not_reused_when_a_directory_becomes_a_link(
    make_pipeline: Callable[..., object], project_dir: Path, tmp_path: Path
) -> None:
    """The same Read decided three times: before, after `src` turns into a link out of the
    project, and after the caches are cleared: the last two alike and denied."""
    from tether.core.safety.pipeline import SafetyPipeline

    pipeline = make_pipeline()
    assert isinstance(pipeline, SafetyPipeline)
    (project_dir / "src").mkdir(exist_ok=True)
    (project_dir / "src" / "app.py").write_text("x")
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "app.py").write_text("x")
    call = ("Read", {"file_path": "src/app.py"})
    assert pipeline.decide(*call).violation_type != "sandbox"
    (project_dir / "src" / "app.py").unlink()
    (project_dir / "src").rmdir()
    (project_dir / "src").symlink_to(outside)
    kept = pipeline.decide(*call)
    pipeline.clear_caches()
    assert kept == pipeline.decide(*call)
    assert kept.violation_type == "sandbox"


# -- loops, chains, `..` through links ------------------------------------------------


@pytest.mark.parametrize(
    ("links", "path"),
    [
        P({"a": "a"}, "a", id="a-link-to-itself"),
        P({"a": "b", "b": "a"}, "a/x", id="two-links-in-a-circle"),
        P({"a": "./a/x"}, "a", id="a-link-into-itself"),
        P({"up": ".."}, "up/up/up/project/src/app.py", id="a-link-to-its-parent"),
        P({"jump": "../outside/deep"}, "jump/../secret", id="dotdot-after-a-link"),
        P({"jump": "../outside/deep"}, "jump/../../project/src", id="dotdot-back-inside"),
        P({"l": "src/deep/../.."}, "l/project", id="dotdots-inside-a-target"),
        P({"abs": "/"}, "abs/tmp/../etc", id="a-link-to-the-root"),
        P({"dangling": "gone/deeper"}, "dangling/../x", id="a-dangling-link"),
        P({"dangling": "gone/deeper"}, "dangling/x/../../../src", id="climbing-out-of-nothing"),
        P({"empty": "."}, "empty/empty/src/./app.py/", id="links-to-dot"),
    ],
)
def test_links_resolve_as_the_careful_walk(root: str, links: dict[str, str], path: str) -> None:
    base = f"{root}/project"
    for name, target in links.items():
        Path(base, name).symlink_to(target)
    _assert_same(base, path)
    _assert_same(base, f"{base}/{path}")
    _assert_same("/", f"{base}/{path}".lstrip("/"))


@pytest.mark.parametrize(("count", "resolves"), [(40, True), (41, False)])
def test_a_chain_of_links_resolves_up_to_forty(root: str, count: int, resolves: bool) -> None:
    base = f"{root}/project"
    Path(base, "link0").symlink_to("src")
    for index in range(1, count):
        Path(base, f"link{index}").symlink_to(f"link{index - 1}")
    last = f"link{count - 1}/app.py"
    resolved = _assert_same(base, last)
    assert (resolved == f"{base}/src/app.py") is resolves
    verdict = SandboxEnforcer([base]).check(last, base)
    assert verdict.allowed is resolves


# -- /proc/self, long and deep paths, names that are not UTF-8, NUL --------------------


@pytest.mark.parametrize(
    "path",
    [
        P("/proc/self/root/etc/passwd", id="proc-root"),
        P("/proc/self/cwd/x", id="proc-cwd"),
        P("/proc/self/fd/0", id="proc-fd"),
        P("/proc/thread-self/../self/exe", id="proc-thread-self"),
        P("/proc/self/../../proc/self/root", id="proc-climbing"),
    ],
)
def test_proc_self_resolves_as_the_careful_walk(root: str, path: str) -> None:
    _assert_same(f"{root}/project", path)
    _assert_same("/", path)


def test_paths_through_proc_self_leave_the_project(root: str) -> None:
    base = f"{root}/project"
    sandbox = SandboxEnforcer([base])
    for path in ("/proc/self/root/etc/passwd", "/proc/self/root" + base + "/../outside/secret"):
        assert not sandbox.check(path, base).allowed, path
    assert sandbox.check(f"/proc/self/root{base}/src/app.py", base).allowed


@pytest.mark.parametrize(
    "path",
    [
        P("x" * 256 + "/../src/app.py", id="a-name-longer-than-the-system-allows"),
        P("src/" + "d/" * 2100 + "../" * 2100 + "app.py", id="longer-than-PATH_MAX"),
        P("src/" + "../src/" * 1000 + "app.py", id="a-thousand-climbs"),
        P("/" * 5000 + "etc", id="five-thousand-slashes"),
        P("./" * 3000, id="only-dots"),
    ],
)
def test_long_paths_resolve_as_the_careful_walk(root: str, path: str) -> None:
    _assert_same(f"{root}/project", path)


def test_a_deep_tree_resolves_as_the_careful_walk(root: str) -> None:
    base = f"{root}/project"
    deep = "/".join(["d"] * 60)
    Path(base, deep).mkdir(parents=True)
    Path(base, deep, "out").symlink_to("../" * 60 + "../outside")
    assert _assert_same(base, f"{deep}/out/secret") == f"{root}/outside/secret"
    assert _assert_same(base, f"{deep}/x") == f"{base}/{deep}/x"


def test_names_that_are_not_utf8_resolve_as_the_careful_walk(root: str) -> None:
    base = f"{root}/project"
    raw = os.fsdecode(b"\xff\xfe")  # a byte name, kept as escapes in the text
    Path(base, raw).mkdir()
    Path(base, raw, "link").symlink_to("../../outside")
    assert _assert_same(base, f"{raw}/link/secret") == f"{root}/outside/secret"
    # A lone surrogate cannot be given to the system at all: applied as written.
    assert _assert_same(base, "\ud800/../src") == f"{base}/src"
    assert _assert_same(base, "src/\ud800") == f"{base}/src/\ud800"


@pytest.mark.parametrize("path", ["src/\x00app.py", "\x00", "/etc\x00/../tmp", "~/\x00"])
def test_nul_never_resolves(root: str, path: str) -> None:
    base = f"{root}/project"
    verdict = SandboxEnforcer([base], home=base).check(path, base)
    assert verdict.resolved is None
    assert not verdict.allowed


# -- the root as the starting directory ----------------------------------------------


@pytest.mark.parametrize(
    "path", ["", ".", "..", "etc", "etc/..", "../..", "proc/self/root", "tmp/./x/../"]
)
def test_resolving_from_the_root(path: str) -> None:
    _assert_same("/", path)
    _assert_same("/", "/" + path)


def test_the_root_resolves_to_itself(root: str) -> None:
    for path in ("/", "//", "/..", "/./../.", f"{root}/" + "../" * 30):
        assert _resolve(f"{root}/project", path) == "/"
