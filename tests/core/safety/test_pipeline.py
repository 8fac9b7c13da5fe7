"""SafetyPipeline: input, sandbox, policy in order; fresh path checks; never raises."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tether.core.safety.pipeline import Layer, SafetyPipeline, Verdict
from tether.core.safety.policy import Action
from tether.core.safety.sandbox import PathVerdict

MakePipeline = Callable[..., SafetyPipeline]


def bash(pipeline: SafetyPipeline, command: str, cwd: Path | str | None = None) -> Verdict:
    return pipeline.decide("Bash", {"command": command}, cwd=cwd)


def test_input_check_comes_first(make_pipeline: MakePipeline) -> None:
    verdict = make_pipeline().decide("Bash", {"command": 42})
    assert (verdict.decision, verdict.layer, verdict.violation_type) == (
        Action.DENY,
        Layer.INPUT,
        "invalid_input",
    )
    assert "Bash.command" in verdict.reason


def test_sandbox_comes_before_policy(make_pipeline: MakePipeline) -> None:
    verdict = bash(make_pipeline("permissive"), "cat /etc/hostname")
    assert (verdict.decision, verdict.layer, verdict.violation_type) == (
        Action.DENY,
        Layer.SANDBOX,
        "sandbox",
    )
    assert "outside the approved directories" in verdict.reason


def test_policy_decides_the_rest(make_pipeline: MakePipeline) -> None:
    verdict = bash(make_pipeline(), "git push --force")
    expected = (Layer.POLICY, "floor:force_push", "built-in floor")
    assert (verdict.layer, verdict.rule, verdict.policy) == expected
    assert verdict.risk_level.value == "critical"
    assert "force_push" in verdict.risk_facts


def test_symlink_to_a_secret_inside_the_project_is_a_credential(
    make_pipeline: MakePipeline, project_dir: Path
) -> None:
    (project_dir / ".env").write_text("KEY=1\n")
    (project_dir / "notes.txt").symlink_to(project_dir / ".env")
    verdict = bash(make_pipeline(), "cat notes.txt")
    assert verdict.decision is Action.DENY
    assert "credential_access" in verdict.risk_facts
    read = make_pipeline().decide("Read", {"file_path": "notes.txt"})
    assert read.decision is Action.DENY


def test_glob_matching_a_secret_on_disk_is_a_credential(
    make_pipeline: MakePipeline, project_dir: Path
) -> None:
    (project_dir / "conf").mkdir()
    (project_dir / "conf" / ".env").write_text("KEY=1\n")
    assert bash(make_pipeline(), "cat conf/.*").decision is Action.DENY


def test_path_checks_are_fresh_on_every_call(
    make_pipeline: MakePipeline, project_dir: Path
) -> None:
    pipeline = make_pipeline()
    link = project_dir / "data"
    link.symlink_to("src")
    assert bash(pipeline, "cat data/app.py").decision is Action.ALLOW
    link.unlink()
    link.symlink_to("/etc")
    assert bash(pipeline, "cat data/app.py").decision is Action.DENY


def test_working_directory_outside_is_denied(make_pipeline: MakePipeline) -> None:
    verdict = bash(make_pipeline(), "ls", cwd="/")
    assert verdict.layer is Layer.SANDBOX
    assert "working directory" in verdict.reason


def test_working_directory_moves_relative_paths(
    make_pipeline: MakePipeline, project_dir: Path
) -> None:
    pipeline = make_pipeline()
    assert bash(pipeline, "cat ../README.md", cwd=project_dir / "src").decision is Action.ALLOW
    assert bash(pipeline, "cat ../README.md").decision is Action.DENY


@pytest.mark.parametrize(
    ("command", "decision"),
    [
        pytest.param("cd src && cat ../README.md", Action.ALLOW, id="cd-then-climb-back"),
        pytest.param("cd src && cat ../../x", Action.DENY, id="cd-then-climb-out"),
        pytest.param("(cd src); cat ../x", Action.DENY, id="subshell-cd-does-not-last"),
        pytest.param("pushd src; popd; cat ../x", Action.DENY, id="popd-returns"),
        pytest.param("cd src; cd ..; ls", Action.ALLOW, id="cd-there-and-back"),
        pytest.param('cd "$X" && cat y', Action.REQUIRE_APPROVAL, id="cd-unknown"),
    ],
)
def test_cd_is_followed(make_pipeline: MakePipeline, command: str, decision: Action) -> None:
    assert bash(make_pipeline(), command).decision is decision


def test_unresolvable_path_asks(make_pipeline: MakePipeline) -> None:
    verdict = bash(make_pipeline("permissive"), 'cat "$FILE"')
    assert verdict.decision is Action.REQUIRE_APPROVAL
    assert "unresolved_path" in verdict.risk_facts


def test_unexpected_field_asks_even_when_allowed(make_pipeline: MakePipeline) -> None:
    verdict = make_pipeline().decide("Bash", {"command": "ls", "_host": "other"})
    assert verdict.decision is Action.REQUIRE_APPROVAL
    assert verdict.layer is Layer.INPUT
    assert "_host" in verdict.reason


def test_plan_files_are_writable_outside_the_project(
    make_pipeline: MakePipeline, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    (home / ".claude" / "plans").mkdir(parents=True)
    pipeline = make_pipeline(home=home)
    write = pipeline.decide("Write", {"file_path": "~/.claude/plans/p.md", "content": "x"})
    assert write.decision is Action.REQUIRE_APPROVAL
    assert bash(pipeline, "cat ~/.claude/plans/p.md").decision is Action.DENY


def test_an_internal_failure_is_a_deny(
    make_pipeline: MakePipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    pipeline = make_pipeline()

    def broken(*args: object) -> object:
        raise RuntimeError("boom")

    monkeypatch.setattr(pipeline.policy, "classify", broken)
    verdict = bash(pipeline, "ls")
    assert verdict.decision is Action.DENY
    assert verdict.violation_type == "error"
    assert "RuntimeError" in verdict.reason


def test_verdict_carries_the_parts(make_pipeline: MakePipeline) -> None:
    verdict = bash(make_pipeline(), "ls && python evil.py")
    assert verdict.policy_decision is not None
    assert [(p.text, p.action) for p in verdict.policy_decision.parts] == [
        ("ls", Action.ALLOW),
        ("python evil.py", Action.REQUIRE_APPROVAL),
    ]


def test_listing_a_secret_shows_only_its_name(
    make_pipeline: MakePipeline, project_dir: Path
) -> None:
    (project_dir / ".env").write_text("KEY=1\n")
    assert bash(make_pipeline(), "ls -a .*").decision is Action.ALLOW
    assert bash(make_pipeline(), "cat .*").decision is Action.DENY


def test_a_path_named_twice_in_a_call_is_looked_up_once(
    make_pipeline: MakePipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    pipeline = make_pipeline()
    checked: list[str] = []
    check = pipeline.sandbox.check

    def counted(path: str, base: str, *, file_tool: bool = False) -> PathVerdict:
        checked.append(path)
        return check(path, base, file_tool=file_tool)

    monkeypatch.setattr(pipeline.sandbox, "check", counted)
    assert pipeline.decide("Bash", {"command": "cat src/app.py src/app.py"}).decision is (
        Action.ALLOW
    )
    assert checked == ["src/app.py"]


@pytest.mark.parametrize(
    ("command", "decision", "layer"),
    [
        pytest.param("cat src/*", Action.DENY, "sandbox", id="a-glob-match-escapes"),
        pytest.param("cat *.md", Action.ALLOW, None, id="a-glob-inside"),
        pytest.param("cat /etc/*", Action.DENY, "sandbox", id="a-glob-outside"),
        pytest.param("cd src && cat ../README.md", Action.ALLOW, None, id="relative-after-cd"),
        pytest.param("cat $X", Action.REQUIRE_APPROVAL, "policy", id="a-path-known-at-run-time"),
    ],
)
def test_every_path_of_a_call_is_checked(
    make_pipeline: MakePipeline,
    project_dir: Path,
    command: str,
    decision: Action,
    layer: str | None,
) -> None:
    (project_dir / "src" / "escape").symlink_to("/etc/passwd")
    verdict = make_pipeline().decide("Bash", {"command": command})
    assert verdict.decision is decision, verdict.reason
    if layer is not None:
        assert verdict.layer == layer


def test_a_symlink_changed_between_two_calls_changes_the_decision(
    make_pipeline: MakePipeline, project_dir: Path, tmp_path: Path
) -> None:
    """Nothing of a call's path checks outlives the call: the next call looks again."""
    pipeline = make_pipeline()
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    link = project_dir / "link"
    link.symlink_to(project_dir / "src")
    command = {"command": "cat link/app.py && head link/app.py"}
    assert pipeline.decide("Bash", command).decision is Action.ALLOW
    link.unlink()
    link.symlink_to(outside)
    pipeline.clear_caches()
    verdict = pipeline.decide("Bash", command)
    assert verdict.decision is Action.DENY
    assert verdict.layer is Layer.SANDBOX


@pytest.mark.parametrize(
    ("command", "once"),
    [
        ("grep -r foo . && grep -r bar src", True),
        ("grep -r foo . | grep -r bar .", True),
        ("grep -r a . ; grep -r b src/deep ; grep -r c src", True),
        # A wider walk after a narrower one lists the narrower tree again; walks of
        # different kinds (what they skip differs) share nothing.
        ("grep -r foo src | grep -r bar .", False),
        ("git ls-files | xargs wc -l && grep -r x src", False),
    ],
)
def test_a_tree_two_parts_read_is_listed_once_per_call_and_afresh_by_the_next(
    make_pipeline: MakePipeline,
    project_dir: Path,
    listed_directories: list[str],
    command: str,
    once: bool,
) -> None:
    # A tree read again, or inside a clean tree already walked, in the same call is
    # answered from that walk; the next call walks afresh, so a credential file
    # written between the two calls is found.
    (project_dir / "src" / "deep").mkdir(parents=True, exist_ok=True)
    (project_dir / "src" / "deep" / "notes.txt").write_text("x\n")
    listed = listed_directories
    pipeline = make_pipeline()
    assert bash(pipeline, command).decision is Action.ALLOW
    assert (len(listed) == len(set(listed))) is once, listed
    (project_dir / "src" / "deep" / ".env").write_text("KEY=1\n")
    pipeline.clear_caches()
    verdict = bash(pipeline, command)
    assert verdict.decision is not Action.ALLOW
    assert "tree_read" in verdict.risk_facts
