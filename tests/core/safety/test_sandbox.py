"""The sandbox allows a path only if it resolves inside an approved directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from tether.core.safety.sandbox import SandboxEnforcer

P = pytest.param


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    (path / ".claude" / "plans").mkdir(parents=True)
    (path / ".ssh").mkdir()
    return path


@pytest.fixture
def sandbox(project_dir: Path, home: Path) -> SandboxEnforcer:
    return SandboxEnforcer([project_dir], home=home)


def base(sandbox: SandboxEnforcer) -> str:
    return sandbox.approved_directories[0]


@pytest.mark.parametrize(
    "path",
    [
        P("src/app.py", id="relative"),
        P("./src/../README.md", id="dot-segments"),
        P("src", id="directory"),
        P(".", id="the-project"),
        P("new/file/not/yet/there.txt", id="not-existing"),
        P("src/../src/./app.py", id="climb-and-return"),
    ],
)
def test_paths_inside_are_allowed(sandbox: SandboxEnforcer, path: str) -> None:
    assert sandbox.check(path, base(sandbox)).allowed


@pytest.mark.parametrize(
    "path",
    [
        P("/etc/passwd", id="absolute"),
        P("..", id="parent"),
        P("../other", id="sibling"),
        P("src/../../x", id="climbing-out"),
        P("~/.ssh/id_rsa", id="home"),
        P("~", id="home-itself"),
        P("~root/.ssh/id_rsa", id="other-users-home"),
        P("/", id="root"),
        P("//etc", id="double-slash"),
    ],
)
def test_paths_outside_are_denied(sandbox: SandboxEnforcer, path: str) -> None:
    verdict = sandbox.check(path, base(sandbox))
    assert not verdict.allowed
    assert verdict.reason


def test_absolute_path_inside_is_allowed(sandbox: SandboxEnforcer, project_dir: Path) -> None:
    assert sandbox.check(str(project_dir / "src" / "app.py"), base(sandbox)).allowed


def test_sibling_with_a_common_prefix_is_outside(tmp_path: Path, project_dir: Path) -> None:
    (tmp_path / "project-evil").mkdir()
    sandbox = SandboxEnforcer([project_dir])
    assert not sandbox.check(str(tmp_path / "project-evil"), base(sandbox)).allowed


def test_symlink_out_of_the_project_is_denied(sandbox: SandboxEnforcer, project_dir: Path) -> None:
    (project_dir / "link").symlink_to("/etc")
    verdict = sandbox.check("link/passwd", base(sandbox))
    assert not verdict.allowed
    assert verdict.resolved == str(Path("/etc/passwd").resolve())


def test_symlink_chain_is_followed(sandbox: SandboxEnforcer, project_dir: Path) -> None:
    (project_dir / "a").symlink_to("b")
    (project_dir / "b").symlink_to("/etc/hosts")
    assert not sandbox.check("a", base(sandbox)).allowed


def test_symlink_loop_is_denied(sandbox: SandboxEnforcer, project_dir: Path) -> None:
    (project_dir / "loop1").symlink_to("loop2")
    (project_dir / "loop2").symlink_to("loop1")
    assert not sandbox.check("loop1/x", base(sandbox)).allowed


def test_relative_symlink_inside_is_allowed(sandbox: SandboxEnforcer, project_dir: Path) -> None:
    (project_dir / "alias").symlink_to("src")
    assert sandbox.check("alias/app.py", base(sandbox)).allowed


def test_symlink_changed_between_checks_is_seen(
    sandbox: SandboxEnforcer, project_dir: Path
) -> None:
    link = project_dir / "data"
    link.symlink_to("src")
    assert sandbox.check("data/app.py", base(sandbox)).allowed
    link.unlink()
    link.symlink_to("/etc")
    assert not sandbox.check("data/app.py", base(sandbox)).allowed


def test_dotdot_after_symlink_uses_the_real_parent(
    sandbox: SandboxEnforcer, project_dir: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside" / "deep"
    outside.mkdir(parents=True)
    (project_dir / "jump").symlink_to(outside)
    # The kernel applies `..` to the link's target: /outside, not the project.
    assert not sandbox.check("jump/../x", base(sandbox)).allowed


@pytest.mark.parametrize(
    "device",
    ["/dev/null", "/dev/stdout", "/dev/stderr", "/dev/stdin", "/dev/tty", "/dev/fd/2"],
)
def test_harmless_devices_are_allowed_for_shell_commands(
    sandbox: SandboxEnforcer, device: str
) -> None:
    assert sandbox.check(device, base(sandbox)).allowed
    assert not sandbox.check(device, base(sandbox), file_tool=True).allowed


@pytest.mark.parametrize("device", ["/dev/sda", "/dev/tcp/1.2.3.4/80", "/dev/mem"])
def test_other_devices_are_denied(sandbox: SandboxEnforcer, device: str) -> None:
    assert not sandbox.check(device, base(sandbox)).allowed


def test_plan_directory_is_open_to_file_tools_only(sandbox: SandboxEnforcer) -> None:
    assert sandbox.check("~/.claude/plans/plan.md", base(sandbox), file_tool=True).allowed
    assert not sandbox.check("~/.claude/plans/plan.md", base(sandbox)).allowed
    assert not sandbox.check("~/.claude/settings.json", base(sandbox), file_tool=True).allowed
    assert not sandbox.check("~/.claude/plans/../../.ssh/x", base(sandbox), file_tool=True).allowed


def test_plan_directory_symlinked_elsewhere_is_not_open(project_dir: Path, tmp_path: Path) -> None:
    home = tmp_path / "other-home"
    (home / ".claude").mkdir(parents=True)
    (home / ".claude" / "plans").symlink_to("/etc")
    sandbox = SandboxEnforcer([project_dir], home=home)
    assert not sandbox.check("/etc/passwd", base(sandbox), file_tool=True).allowed


def test_working_directory_must_be_inside(sandbox: SandboxEnforcer, project_dir: Path) -> None:
    assert sandbox.working_directory(project_dir / "src").allowed
    assert sandbox.working_directory(None).resolved == base(sandbox)
    assert not sandbox.working_directory("/tmp").allowed


def test_the_default_working_directory_is_the_first_approved_whenever_asked(
    tmp_path: Path,
) -> None:
    """Asked first, or after a given directory, or again (the kept answer): the same."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    for first in (None, str(tmp_path / "b")):
        fresh = SandboxEnforcer([tmp_path / "a", tmp_path / "b"])
        if first is not None:
            assert fresh.working_directory(first).resolved == str(tmp_path / "b")
        answers = [fresh.working_directory(None) for _ in range(2)]
        expected = (str(tmp_path / "a"), str(tmp_path / "a"), True, None)
        assert [tuple(answer) for answer in answers] == [expected, expected]


def test_a_glob_is_checked_match_by_match(sandbox: SandboxEnforcer, project_dir: Path) -> None:
    (project_dir / "src" / "escape").symlink_to("/etc/passwd")
    assert not all(v.allowed for v in sandbox.check_glob("src/*", base(sandbox), file_tool=False))
    assert all(v.allowed for v in sandbox.check_glob("*.md", base(sandbox), file_tool=False))
    assert not all(v.allowed for v in sandbox.check_glob("/etc/*", base(sandbox), file_tool=False))


def test_approved_directory_given_through_a_symlink(tmp_path: Path, project_dir: Path) -> None:
    alias = tmp_path / "alias"
    alias.symlink_to(project_dir)
    sandbox = SandboxEnforcer([alias])
    assert sandbox.check(str(project_dir / "README.md"), base(sandbox)).allowed


def test_nul_byte_never_resolves(sandbox: SandboxEnforcer) -> None:
    assert not sandbox.check("a\x00b", base(sandbox)).allowed


def test_needs_a_directory() -> None:
    with pytest.raises(ValueError, match="at least one"):
        SandboxEnforcer([])


def test_unreadable_directory_on_the_way_is_resolved_lexically(
    sandbox: SandboxEnforcer, project_dir: Path
) -> None:
    locked = project_dir / "locked"
    locked.mkdir()
    locked.chmod(0)
    try:
        assert sandbox.check("locked/x/../y", base(sandbox)).allowed
    finally:
        locked.chmod(0o700)


@pytest.mark.parametrize(
    "target",
    [
        pytest.param("audit.jsonl", id="audit-log"),
        pytest.param("./sub/../audit.jsonl", id="climbing"),
        pytest.param("state/tether.db-wal", id="file-inside-a-protected-directory"),
    ],
)
def test_tethers_own_records_are_off_limits_inside_the_project(tmp_path: Path, target: str) -> None:
    project = tmp_path / "own"
    (project / "sub").mkdir(parents=True)
    (project / "state").mkdir()
    sandbox = SandboxEnforcer([project], protected=[project / "audit.jsonl", project / "state"])
    verdict = sandbox.check(target, str(project.resolve()), file_tool=True)
    assert not verdict.allowed
    assert "Tether's own records" in (verdict.reason or "")
    assert sandbox.check("sub/other.txt", str(project.resolve()), file_tool=True).allowed
