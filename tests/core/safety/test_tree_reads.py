"""Reads of a whole tree, checked against the real file system: spellings, bounds, cache."""

from __future__ import annotations

import ast
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tether.app import build_safety_pipeline
from tether.core.config import ConfigError, load_config
from tether.core.safety import tree_reads
from tether.core.safety.analyzer import PathAnalyzer
from tether.core.safety.pipeline import SafetyPipeline, Verdict
from tether.core.safety.registry import REGISTRY
from tether.core.safety.tree_reads import TreeReads, Walk, may_walk, walk_of

_OLD = 1_000_000_000  # 2001: directories this old are cacheable


def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def _age(root: Path) -> None:
    """Set every directory's mtime far in the past, so a walk of it may be cached."""
    for directory, _, _ in os.walk(root):
        os.utime(directory, (_OLD, _OLD))


def _pipeline(project: Path, state: Path, **settings: object) -> SafetyPipeline:
    config = load_config(
        approved_directories=(project,),
        policy_files=("default",),
        audit_log_path=state / "audit.jsonl",
        storage_path=state / "tether.db",
        **settings,
    )
    return build_safety_pipeline(config)


@pytest.fixture(scope="module")
def _approved(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, SafetyPipeline]:
    """One approved directory and pipeline for the module: building a pipeline is not free."""
    base = tmp_path_factory.mktemp("tree-reads")
    approved = base / "approved"
    approved.mkdir()
    return approved, _pipeline(approved, base / "state")


@pytest.fixture
def project(_approved: tuple[Path, SafetyPipeline]) -> Path:
    """A fresh project for each test, inside the shared approved directory."""
    root = Path(tempfile.mkdtemp(dir=_approved[0]))
    return _tree(
        root,
        {"src/app.py": "x = 1  # TODO\n", "src/pkg/core.py": "y = 2\n", "README.md": "# r\n"},
    )


@pytest.fixture
def pipeline(_approved: tuple[Path, SafetyPipeline]) -> SafetyPipeline:
    return _approved[1]


def _bash(pipeline: SafetyPipeline, project: Path, command: str) -> Verdict:
    return pipeline.decide("Bash", {"command": command}, cwd=str(project))


_CONTENT_READS = [
    pytest.param("grep -rn TODO src", id="grep-r"),
    pytest.param("grep -Rn TODO src", id="grep-R"),
    pytest.param("grep -nr TODO src", id="grep-bundle-r-last"),
    pytest.param("grep --recursive TODO src", id="grep-long"),
    pytest.param("grep --dereference-recursive TODO src", id="grep-deref-long"),
    pytest.param("grep --directories=recurse TODO src", id="grep-directories-recurse"),
    pytest.param("grep -r TODO", id="grep-r-no-path"),
    pytest.param("egrep -r TODO src", id="egrep"),
    pytest.param("rg TODO src", id="rg"),
    pytest.param("rg TODO", id="rg-no-path"),
    pytest.param("rg -L TODO src", id="rg-follow"),
    pytest.param("find src -type f -exec cat {} +", id="find-exec"),
    pytest.param("find src -execdir cat {} ;", id="find-execdir"),
    pytest.param("find src -type f | xargs cat", id="find-xargs"),
    pytest.param("find src -name '*.py' -print0 | xargs -0 grep -n x", id="find-xargs-grep"),
    pytest.param("cd src && grep -rn TODO .", id="after-cd"),
    pytest.param("fd -t f . src | xargs cat", id="fd-xargs"),
    # grep's -d/--directories in every spelling: any value but read or skip recurses.
    pytest.param("grep -d recurse TODO src", id="grep-d-recurse"),
    pytest.param("grep -drecurse TODO src", id="grep-d-attached"),
    pytest.param("grep -i -drecurse TODO src", id="grep-d-attached-after-option"),
    pytest.param("grep -id recurse TODO src", id="grep-bundle-d-next-word"),
    pytest.param("grep -idrecurse TODO src", id="grep-bundle-d-attached"),
    pytest.param("grep -Hnd recurse TODO src", id="grep-bundle-d-last"),
    pytest.param("grep --directories recurse TODO src", id="grep-directories-next-word"),
    pytest.param("grep -d rec TODO src", id="grep-d-abbreviated"),
    pytest.param("grep -d read -d recurse TODO src", id="grep-d-twice"),
    pytest.param("grep -d recurse TODO", id="grep-d-no-path"),
    pytest.param("grep -d recurse TODO -- src", id="grep-d-after-dashes"),
    pytest.param("egrep -d recurse TODO src", id="egrep-d"),
    pytest.param("fgrep -drecurse TODO src", id="fgrep-d"),
    pytest.param("zgrep -r TODO src", id="zgrep-r"),
    # Other programs that walk a tree.
    pytest.param("diff -r src/pkg src", id="diff-r"),
    pytest.param("diff -r . src/pkg", id="diff-r-second-root"),
    pytest.param("diff --recursive src src/pkg", id="diff-long"),
    pytest.param("diff -Nur src src/pkg", id="diff-bundle"),
    pytest.param("colordiff -r src src/pkg", id="colordiff"),
    pytest.param("git grep -e TODO", id="git-grep-tracked"),
    pytest.param("git grep TODO -- src", id="git-grep-pathspec"),
    pytest.param("git grep --no-index TODO src", id="git-grep-no-index"),
    pytest.param("git grep --untracked -e TODO", id="git-grep-untracked"),
    pytest.param("git --no-pager -C src grep --untracked -e TODO", id="git-grep-after-globals"),
    pytest.param("git diff --no-index src/pkg src", id="git-diff-no-index"),
    pytest.param("git diff src/pkg src", id="git-diff-two-paths"),
    pytest.param("ack TODO", id="ack-no-path"),
    pytest.param("ack TODO src", id="ack"),
    pytest.param("ack -n TODO src", id="ack-no-recurse-still-reads-the-top"),
    pytest.param("ag TODO", id="ag-no-path"),
    pytest.param("ag TODO src", id="ag"),
    # Names git lists, read by xargs.
    pytest.param("git ls-files | xargs cat", id="git-ls-files-xargs"),
    pytest.param("git ls-files -o -z | xargs -0 grep -n x", id="git-ls-files-others-xargs"),
    pytest.param("git diff --name-only | xargs cat", id="git-diff-names-xargs"),
    pytest.param("git -C src log --name-only --format= | xargs cat", id="git-log-names-xargs"),
]


@pytest.mark.parametrize("command", _CONTENT_READS)
def test_a_clean_tree_is_read_freely(pipeline: SafetyPipeline, project: Path, command: str) -> None:
    assert _bash(pipeline, project, command).decision.value == "allow"


@pytest.mark.parametrize("secret", ["src/pkg/id_ed25519", "src/pkg/deep/er/prod.tfvars"])
@pytest.mark.parametrize("command", _CONTENT_READS)
def test_a_credential_file_in_the_tree_asks_and_is_named(
    pipeline: SafetyPipeline, project: Path, command: str, secret: str
) -> None:
    _tree(project, {secret: "k\n"})
    verdict = _bash(pipeline, project, command)
    assert verdict.decision.value == "require_approval"
    assert Path(secret).name in verdict.reason
    assert "tree_read" in verdict.risk_facts


@pytest.mark.parametrize(
    ("command", "decision"),
    [
        pytest.param("rg TODO src", "allow", id="rg-skips-hidden"),
        pytest.param("rg --hidden TODO src", "require_approval", id="rg-hidden"),
        pytest.param("rg -uu TODO src", "require_approval", id="rg-uu"),
        pytest.param("rg -uuu TODO src", "require_approval", id="rg-uuu"),
        pytest.param("grep -rn TODO src", "require_approval", id="grep-reads-hidden"),
        pytest.param("grep -rn --include='*.py' TODO src", "allow", id="grep-include"),
        pytest.param("grep -rn --exclude='.env' TODO src", "allow", id="grep-exclude"),
        pytest.param("grep -rn --exclude-dir=conf TODO src", "allow", id="grep-exclude-dir"),
        pytest.param("grep -n TODO src/app.py", "allow", id="not-recursive"),
        pytest.param("grep -d read TODO src", "allow", id="grep-d-read"),
        pytest.param("grep -dskip TODO src", "allow", id="grep-d-skip"),
        pytest.param("grep --directories=read TODO src", "allow", id="grep-directories-read"),
        pytest.param("grep -e -d recurse src", "allow", id="grep-d-is-the-pattern"),
        pytest.param("grep -er TODO src", "allow", id="grep-r-is-e-value"),
        pytest.param("grep -d recurse --exclude=.env TODO src", "allow", id="grep-d-exclude"),
        pytest.param("ag TODO src", "allow", id="ag-skips-hidden"),
        pytest.param("ag -u TODO src", "require_approval", id="ag-u"),
        pytest.param("ag --hidden TODO src", "require_approval", id="ag-hidden"),
        pytest.param("ack TODO src", "require_approval", id="ack-reads-hidden"),
        pytest.param("diff src/app.py src/pkg/core.py", "allow", id="diff-two-files"),
        pytest.param(
            "git diff --no-index src/app.py src/pkg/core.py", "allow", id="git-diff-files"
        ),
    ],
)
def test_what_the_program_skips_is_not_held_against_it(
    pipeline: SafetyPipeline, project: Path, command: str, decision: str
) -> None:
    _tree(project, {"src/conf/.env": "API_KEY=x\n"})
    assert _bash(pipeline, project, command).decision.value == decision


@pytest.mark.parametrize(
    ("command", "decision"),
    [
        pytest.param("grep -rn x src", "allow", id="grep-r-skips-links"),
        pytest.param("grep -Rn x src", "require_approval", id="grep-R-follows"),
        pytest.param("rg x src", "allow", id="rg-skips-links"),
        pytest.param("rg --follow x src", "require_approval", id="rg-follow"),
        pytest.param("find src -type f -exec cat {} +", "allow", id="find-no-L"),
        pytest.param("find -L src -type f -exec cat {} +", "require_approval", id="find-L"),
    ],
)
def test_a_followed_link_out_of_the_project_asks(
    pipeline: SafetyPipeline, project: Path, tmp_path: Path, command: str, decision: str
) -> None:
    outside = _tree(tmp_path / "outside", {"notes.txt": "n\n"})
    (project / "src" / "pkg" / "ext").symlink_to(outside)
    verdict = _bash(pipeline, project, command)
    assert verdict.decision.value == decision
    if decision != "allow":
        assert "outside the approved directories" in verdict.reason


def test_glob_counts_links_out_but_not_credential_names(
    pipeline: SafetyPipeline, project: Path, tmp_path: Path
) -> None:
    _tree(project, {"src/.env": "K=v\n"})
    glob = {"pattern": "**/*", "path": str(project / "src")}
    assert pipeline.decide("Glob", glob, cwd=str(project)).decision.value == "allow"
    grep = {"pattern": "K", "path": str(project / "src")}
    assert pipeline.decide("Grep", grep, cwd=str(project)).decision.value == "require_approval"
    (project / "src" / "out").symlink_to(_tree(tmp_path / "outside", {"a": "b"}))
    assert pipeline.decide("Glob", glob, cwd=str(project)).decision.value == "require_approval"


def test_a_link_loop_is_walked_once(pipeline: SafetyPipeline, project: Path) -> None:
    (project / "src" / "pkg" / "loop").symlink_to(project / "src")
    (project / "src" / "self").symlink_to(".")
    assert _bash(pipeline, project, "grep -Rn TODO src").decision.value == "allow"
    assert _bash(pipeline, project, "rg -L TODO src").decision.value == "allow"


@pytest.mark.skipif(os.geteuid() == 0, reason="root lists every directory")
def test_a_directory_that_cannot_be_listed_asks(pipeline: SafetyPipeline, project: Path) -> None:
    locked = project / "src" / "locked"
    locked.mkdir()
    locked.chmod(0)
    try:
        verdict = _bash(pipeline, project, "grep -rn TODO src")
    finally:
        locked.chmod(0o755)
    assert verdict.decision.value == "require_approval"
    assert "cannot be listed" in verdict.reason


def test_past_the_entry_bound_it_asks_and_says_why(project: Path, tmp_path: Path) -> None:
    _tree(project, {f"src/many/f{n}.py": "" for n in range(40)})
    pipeline = _pipeline(project, tmp_path / "state", tree_read_max_entries=30)
    verdict = _bash(pipeline, project, "grep -rn TODO src")
    assert verdict.decision.value == "require_approval"
    assert "more than 30 entries" in verdict.reason
    # A call that reads no whole tree never walks, so the bound does not touch it.
    assert _bash(pipeline, project, "grep -n TODO src/app.py").decision.value == "allow"


def test_past_the_time_bound_it_asks_and_says_why(project: Path) -> None:
    _tree(project, {f"src/d{n}/f.py": "" for n in range(30)})
    trees = TreeReads(PathAnalyzer().credential_reason, max_seconds=0.0)
    finding = trees.check(Walk(contents=True, follow="none"), [str(project)], [str(project)])
    assert finding is not None and "longer than 0 ms" in finding


@pytest.mark.parametrize(
    ("tool", "tool_input"),
    [
        ("Bash", {"command": "ack API_KEY"}),
        ("Bash", {"command": "grep -rn TODO src"}),
        ("Bash", {"command": "rg -uu TODO"}),
        ("Bash", {"command": "cd src && grep -R TODO ."}),
        ("Grep", {"pattern": "TODO"}),
    ],
)
def test_a_pause_of_the_process_is_not_a_slow_tree(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tool: str, tool_input: dict
) -> None:
    # As a full garbage collection of a large heap pauses it: the clean tree is allowed.
    pipeline = _pipeline(project, tmp_path / "state", tree_read_max_seconds=0.05)
    real, listings = os.scandir, [0]

    def paused_once(path: str) -> object:
        listings[0] += 1
        if listings[0] == 1:
            time.sleep(0.15)
        return real(path)

    monkeypatch.setattr(os, "scandir", paused_once)
    verdict = pipeline.decide(tool, tool_input, cwd=str(project))
    assert verdict.decision.value == "allow", verdict.reason
    # Paused at every listing, the tree is slow: the call asks and says so.
    pipeline.clear_caches()
    monkeypatch.setattr(os, "scandir", lambda path: time.sleep(0.15) or real(path))
    verdict = pipeline.decide(tool, tool_input, cwd=str(project))
    assert verdict.decision.value == "require_approval"
    assert "took longer than 50 ms to check" in verdict.reason


def test_a_huge_tree_is_cut_off_quickly(tmp_path: Path) -> None:
    root = tmp_path / "huge"
    for n in range(50):
        (root / f"d{n}").mkdir(parents=True)
        for m in range(60):
            (root / f"d{n}" / f"f{m}").touch()
    trees = TreeReads(PathAnalyzer().credential_reason, max_entries=500, max_seconds=5)
    finding = trees.check(Walk(contents=True, follow="all"), [str(root)], [str(tmp_path)])
    assert finding is not None and "more than 500 entries" in finding


@pytest.mark.parametrize(
    ("change", "command"),
    [
        pytest.param(lambda p, o: (p / "src/pkg/.env").write_text("K=v\n"), "grep -rn TODO src"),
        pytest.param(lambda p, o: (p / "src/pkg/id_rsa").write_text("k\n"), "rg TODO src"),
        pytest.param(lambda p, o: (p / "src/pkg/ext").symlink_to(o), "grep -Rn TODO src"),
        pytest.param(
            lambda p, o: (
                (p / "src/pkg/new/deeper").mkdir(parents=True)
                or (p / "src/pkg/new/deeper/.env").write_text("K=v\n")
            ),
            "grep -rn TODO src",
        ),
    ],
    ids=["dotenv", "ssh-key", "link-out", "new-subdirectory"],
)
def test_a_change_between_two_identical_calls_changes_the_decision(
    pipeline: SafetyPipeline, project: Path, tmp_path: Path, change: object, command: str
) -> None:
    outside = _tree(tmp_path / "outside", {"secret.txt": "s\n"})
    _age(project)
    assert _bash(pipeline, project, command).decision.value == "allow"
    assert _bash(pipeline, project, command).decision.value == "allow"  # cached now
    change(project, outside)  # type: ignore[operator]
    assert _bash(pipeline, project, command).decision.value == "require_approval"


def test_a_repeated_call_on_an_unchanged_tree_lists_nothing(
    pipeline: SafetyPipeline, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _age(project)
    listed: list[str] = []
    real = os.scandir

    def counting(path: str) -> object:
        listed.append(path)
        return real(path)

    monkeypatch.setattr(tree_reads.os, "scandir", counting)
    assert _bash(pipeline, project, "grep -rn TODO src").decision.value == "allow"
    first = len(listed)
    assert first >= 2
    assert _bash(pipeline, project, "grep -rn TODO src").decision.value == "allow"
    assert len(listed) == first


def test_a_recently_changed_tree_is_walked_again(
    pipeline: SafetyPipeline, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    listed: list[str] = []
    real = os.scandir
    monkeypatch.setattr(tree_reads.os, "scandir", lambda p: listed.append(p) or real(p))
    _bash(pipeline, project, "grep -rn TODO src")
    first = len(listed)
    _bash(pipeline, project, "grep -rn TODO src")
    assert len(listed) == 2 * first


@pytest.mark.parametrize(
    ("program", "text"),
    [
        ("grep", "grep -n TODO src"),
        ("grep", "grep -e -r src"),
        ("rg", None),
        ("find", "find src -name x"),
        ("tar", "tar -tf a.tar"),
        ("cp", "cp a b"),
        ("cat", "cat src/a"),
        ("zip", "zip a.zip b"),
        ("grep", "grep -d read x src"),
        ("grep", "grep -dskip x src"),
        ("grep", "grep --directories=read x src"),
        ("grep", "grep -e -d recurse src"),
        ("grep", "grep -ed recurse src"),
        ("diff", "diff -u a b"),
        ("diff", "diff -U r a b"),
        ("diff", "diff -Ur a b"),
        ("diff", "diff -x r a b"),
        ("git", "git status"),
        ("git", "git log -p"),
        ("git", "git diff"),
        ("git", "git diff HEAD"),
        ("git", "git diff --cached src"),
        ("git", "git diff -U 3 src"),
        ("git", "git -C grep log"),
        ("git", "git -c grep.x=1 status"),
        ("git", "git --git-dir grep status"),
        ("git", "git show HEAD:grep"),
        ("gzip", "gzip -c a"),
        ("gzip", "gzip -S r a"),
        ("zstd", "zstd -d a.zst"),
    ],
)
def test_calls_that_read_no_whole_tree_are_not_walked(program: str, text: str | None) -> None:
    if text is None:
        assert walk_of("Bash", program, "rg x src", piped=False) is not None
        return
    assert walk_of("Bash", program, text, piped=False) is None


@pytest.mark.parametrize(
    ("program", "text", "follow", "hidden"),
    [
        ("grep", "grep -d recurse x", "none", True),
        ("grep", "grep -drecurse x", "none", True),
        ("grep", "grep -idrecurse x", "none", True),
        ("grep", "grep -id recurse x", "none", True),
        ("grep", "grep --directories recurse x", "none", True),
        ("grep", "grep -dr x", "none", True),  # an ambiguous value: not proven harmless
        ("grep", "grep -R -d recurse x", "all", True),
        ("ggrep", "ggrep -d recurse x", "none", True),
        ("zgrep", "zgrep -r x .", "none", True),
        ("diff", "diff -r a b", "all", True),
        ("diff", "diff -Nur a b", "all", True),
        ("diff", "diff -r --no-dereference a b", "none", True),
        ("gdiff", "gdiff --recursive a b", "all", True),
        ("colordiff", "colordiff -ru a b", "all", True),
        ("git", "git grep x", "none", True),
        ("git", "git -C src --no-pager grep -n x", "none", True),
        ("git", "git grep --no-index x", "all", True),
        ("git", "git grep --untracked x", "all", True),
        ("git", "git diff --no-index a b", "all", True),
        ("git", "git diff a b", "all", True),
        ("git", "git diff -U 3 a b", "all", True),
        ("git", "git diff -- a b", "all", True),
        ("ack", "ack x", "none", True),
        ("ack-grep", "ack-grep -n x", "none", True),
        ("ack", "ack --follow x", "all", True),
        ("ag", "ag x", "none", False),
        ("ag", "ag -u x", "none", True),
        ("ag", "ag --hidden -f x", "all", True),
        ("ripgrep", "ripgrep x", "none", False),
        ("gfind", "gfind . -exec cat {} +", "files", True),
        ("gtar", "gtar -cf a.tar src", "none", True),
        ("gcp", "gcp -r src dst", "none", True),
        ("gzip", "gzip -rc src", "all", True),
        ("gunzip", "gunzip -r --stdout -f src", "all", True),
        ("zstd", "zstd --recursive -c src", "all", True),
        ("git", "git ls-files | xargs cat", "files", True),
        ("git", "git status --porcelain | xargs cat", "files", True),
        ("git", "git grep --no-index -l x | xargs cat", "all", True),
    ],
)
def test_every_spelling_of_a_tree_read_is_walked(
    program: str, text: str, follow: str, hidden: bool
) -> None:
    walk = walk_of("Bash", program, text, piped="xargs" in text)
    assert walk is not None
    assert walk.contents
    assert (walk.follow, walk.hidden) == (follow, hidden)


def test_every_name_of_a_walking_program_walks() -> None:
    """A program the registry knows by several names (`grep`, `ggrep`) walks under each."""
    names: dict[int, list[str]] = {}
    for name, node in REGISTRY.items():
        names.setdefault(id(node), []).append(name)
    for program in tree_reads.WALKING_PROGRAMS:
        if program in REGISTRY:
            assert set(names[id(REGISTRY[program])]) <= tree_reads.WALKING_PROGRAMS, program


@pytest.mark.parametrize(
    ("words", "letters", "values"),
    [
        (["-d", "recurse", "x"], "d", {"-d": "recurse\0"}),
        (["-drecurse", "x"], "d", {"-d": "recurse\0"}),
        (["-idrecurse", "x"], "id", {"-d": "recurse\0"}),
        (["-id", "recurse", "x"], "id", {"-d": "recurse\0"}),
        (["-d", "read", "-d", "recurse"], "dd", {"-d": "read\0recurse\0"}),
        (["-er", "x"], "e", {"-e": "r\0"}),
        (["-e", "-r", "x"], "e", {"-e": "-r\0"}),
        (["-nr", "--directories=skip"], "nr", {"--directories": "skip\0"}),
        (["--directories", "recurse"], "", {"--directories": "recurse\0"}),
        (["--", "-d", "recurse"], "", {}),
        (["-d"], "d", {"-d": "\0"}),
    ],
)
def test_short_options_keep_their_values(
    words: list[str], letters: str, values: dict[str, str]
) -> None:
    valued, valued_longs = tree_reads._valued("grep")
    assert tree_reads._short_flags(words, valued, valued_longs) == (letters, values)


_GREP_WORDS = [
    *("-d", "recurse", "read", "skip", "rec", "-drecurse", "-dskip", "-id", "-r", "-R"),
    *("--directories", "--directories=read", "--directories=rec", "--recursive", "-e", "-i"),
    *("--include=*.py", "--exclude-dir", "vendor", "x", "--"),
]


@settings(max_examples=400, deadline=None, database=None)
@given(words=st.lists(st.sampled_from(_GREP_WORDS), max_size=6))
def test_grep_reads_its_directory_options_only_when_they_are_there(words: list[str]) -> None:
    """`_grep` skips the `-d` values when no `-d` is given: the answer of reading them."""
    letters, longs = tree_reads._short_flags(words, *tree_reads._valued("grep"))
    recurse_all = "R" in letters or "--dereference-recursive" in longs
    directories = (*tree_reads._values(longs, "-d"), *tree_reads._values(longs, "--directories"))
    recursive = (
        recurse_all
        or "r" in letters
        or "--recursive" in longs
        or any(v not in {"read", "skip"} for v in directories)
    )
    expected = (
        Walk(
            contents=True,
            follow="all" if recurse_all else "none",
            include=tree_reads._values(longs, "--include"),
            exclude=tree_reads._values(longs, "--exclude"),
            exclude_dirs=tree_reads._values(longs, "--exclude-dir"),
        )
        if recursive
        else None
    )
    assert tree_reads._grep(words) == expected


_SPECS_READ = [
    ("grep",),
    ("rg",),
    ("fd",),
    ("tar",),
    ("zip",),
    ("diff",),
    ("ack",),
    ("ag",),
    ("git",),
    ("git", "grep"),
    ("git", "diff"),
    ("gzip",),
]


def test_importing_the_module_compiles_no_spec() -> None:
    """The option tables are read when a walk first needs them, not at import."""
    code = (
        "import tether.core.safety.tree_reads\n"
        "from tether.core.safety.registry import REGISTRY\n"
        "print(sorted(n for n, s in REGISTRY.unrealised().items() if s.ready))\n"
    )
    source = str(Path(tree_reads.__file__).resolve().parents[3])  # this checkout's tether
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": source},
    )
    # Only what the registry's own import compiles (find and fd, for wrapper unwrapping).
    assert set(ast.literal_eval(done.stdout)) <= {"find", "fd", "gfind", "fdfind"}


@pytest.mark.parametrize("spec", _SPECS_READ, ids="-".join)
def test_the_tables_read_when_needed_are_the_specs(spec: tuple[str, ...]) -> None:
    """The same tables the module built at import before (each spec's value-taking options)."""
    node = REGISTRY[spec[0]]
    for name in spec[1:]:
        node = node.subs[name]
    tables = tree_reads._valued(*spec)
    assert tables == (node.parsing.short_values, node.parsing.long_values)
    assert tree_reads._valued(*spec) is tables  # read once


def test_the_tables_hold_what_the_walks_rely_on() -> None:
    assert {"d", "e", "f"} <= tree_reads._valued("grep")[0]
    assert {"--include", "--exclude", "--exclude-dir", "--directories"} <= (
        tree_reads._valued("grep")[1]
    )
    assert tree_reads._valued("git") == (
        frozenset({"C", "c"}),
        frozenset({"--git-dir", "--work-tree", "--namespace", "--config-env"}),
    )
    assert "U" in tree_reads._valued("git", "diff")[0]
    assert tree_reads._find_exec() == {"-exec", "-execdir", "-ok", "-okdir"}


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("TETHER_TREE_READ_MAX_ENTRIES", "0"),
        ("TETHER_TREE_READ_MAX_ENTRIES", "many"),
        ("TETHER_TREE_READ_MAX_SECONDS", "inf"),
        ("TETHER_TREE_READ_MAX_SECONDS", "0"),
        ("TETHER_TREE_READ_MAX_SECONDS", "60"),
    ],
)
def test_bad_bounds_are_refused_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=name):
        load_config(approved_directories=(tmp_path,))


@settings(max_examples=400, deadline=None, database=None)
@given(
    text=st.text(
        alphabet=st.sampled_from(
            list("ab-r =#;|$*\t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0\u2003'\"\\")
        ),
        max_size=16,
    )
)
def test_a_command_is_read_into_the_words_shlex_finds(text: str) -> None:
    """The quick splits of text without quotes or backslashes give shlex's words."""
    try:
        expected: list[str] | None = shlex.split(text)[1:]
    except ValueError:
        expected = None
    assert tree_reads._words(text) == expected


def test_the_quick_split_knows_every_ascii_space_str_split_splits_at() -> None:
    """`str.split` is shlex's split only for ASCII text without the spaces shlex keeps."""
    kept = {chr(c) for c in range(128) if chr(c).isspace()} - set(" \t\r\n")
    assert {c for c in map(chr, range(128)) if tree_reads._QUOTING_OR_ODD_SPACE.match(c)} == {
        *kept,
        *"'\"\\",
    }


_OPTION_WORDS = [
    *("-r", "-R", "-d", "recurse", "read", "skip", "-e", "--recursive", "--directories"),
    *("--directories=recurse", "--dereference-recursive", "-a", "--archive", "-y", "x"),
    *("--recurse-paths", "-", "--", "-ir", "-l", "-Nr", "-L", "-drecurse", "-dskip", "-v"),
    *("-E", "--include=*.py", "'-r'", "\\-r", "-\x0br", "\u00e9-r", "-\u00e9r", "-c", "--x"),
]


@settings(max_examples=600, deadline=None, database=None)
@given(
    program=st.sampled_from(sorted(tree_reads._OPTION_MAY_WALK)),
    words=st.lists(st.sampled_from(_OPTION_WORDS), max_size=5),
    gap=st.sampled_from([" ", "  ", "\t", " \n"]),
)
def test_a_program_that_walks_only_when_told_may_walk_only_with_such_an_option(
    program: str, words: list[str], gap: str
) -> None:
    """`grep -v x`, `diff a b`, `cp a b`: no option that recurses, so no walk."""
    text = gap.join([program, *words])
    if may_walk("Bash", program, text, piped=True):
        return
    assert walk_of("Bash", program, text, piped=True) is None, text
    parsed = tree_reads._words(text)
    assert parsed is not None and tree_reads._PROGRAMS[program](parsed, True) is None, text


def test_the_filters_are_ruled_out() -> None:
    for text in ("grep -v ^tests/", "grep -E passed|failed|error", "diff a b", "cp a b"):
        assert not may_walk("Bash", text.split()[0], text, piped=False), text
    for text in ("grep -rn x", "grep -d recurse x", "diff -Nr a b", "cp -a a b", "gzip -r x"):
        assert may_walk("Bash", text.split()[0], text, piped=False), text


_GIT_WORDS = [
    *("grep", "diff", "gr'ep", 'di"ff', "g\\rep", "-C", "src", "-c", "x=1", "--no-index"),
    *("--no-pager", "status", "log", "ls-files", "--", "a", "b", "-e", "'", "-p"),
]


@settings(max_examples=400, deadline=None, database=None)
@given(
    words=st.lists(
        st.sampled_from(_GIT_WORDS),
        max_size=6,
    )
)
def test_the_quick_answer_for_git_is_the_parsed_one(words: list[str]) -> None:
    """`git` calls without grep, diff or quoting skip the split: the same answer as with it."""
    text = " ".join(["git", *words])
    parsed = tree_reads._words(text)
    expected = (
        tree_reads.Walk(contents=True, follow="all")
        if parsed is None
        else tree_reads._git(parsed, piped=False)
    )
    assert walk_of("Bash", "git", text, piped=False) == expected


_MAY_WALK_TEXTS = (
    "git status",
    "git log --oneline -5",
    "git grep KEY",
    "git -C src grep --no-index KEY",
    "git diff --no-index a b",
    "git diff a b",
    "git 'gr'ep KEY",
    'git "diff" a b',
    "git gr\\ep KEY",
    "git ls-files",
    "git ls-files -o",
    "git show HEAD",
    "grep -r KEY .",
    "grep KEY file",
    "diff -r a b",
    "ack KEY",
    "cat file",
    "find . -exec cat {} +",
)


@pytest.mark.parametrize("text", _MAY_WALK_TEXTS)
@pytest.mark.parametrize("piped", [False, True])
def test_may_walk_is_false_only_where_walk_of_finds_no_walk(text: str, piped: bool) -> None:
    """The pipeline skips its path steps for a part `may_walk` rules out: that part must
    be one `walk_of` finds no walk for, under every tool name and with or without xargs."""
    program = text.split()[0]
    for tool_name in ("Bash", "Grep", "Glob", "Read"):
        for name in (program, None):
            if may_walk(tool_name, name, text, piped):
                continue
            assert walk_of(tool_name, name, text, piped) is None, (tool_name, name, text)
            if name is not None and name in tree_reads._PROGRAMS:
                # The program's own reading of its words, which `walk_of` skips here.
                words = tree_reads._words(text)
                assert words is not None and tree_reads._PROGRAMS[name](words, piped) is None
    # And it does rule out the everyday git calls that name no grep or diff.
    if text in {"git status", "git log --oneline -5", "git show HEAD"} and not piped:
        assert not may_walk("Bash", "git", text, piped)


def test_a_walk_is_kept_while_the_tree_is_unchanged_and_forgotten_by_clear(
    tmp_path: Path, listed_directories: list[str]
) -> None:
    # `clear` is what makes the next call fresh (`SafetyPipeline.clear_caches`): it
    # walks again, as the first call after start-up does, however old the tree is.
    root = tmp_path / "tree"
    (root / "src").mkdir(parents=True)
    (root / "src" / "app.py").write_text("x\n")
    aged = time.time() - 60  # older than the mark below which a directory is not trusted
    for directory in (root, root / "src"):
        os.utime(directory, (aged, aged))
    listed = listed_directories
    trees = TreeReads(PathAnalyzer().credential_reason)
    walk = Walk(contents=True, follow="none")
    assert trees.check(walk, [str(root)], [str(tmp_path)]) is None
    walked = len(listed)
    assert walked >= 2
    assert trees.check(walk, [str(root)], [str(tmp_path)]) is None
    assert len(listed) == walked  # kept: the directories' mtimes are unchanged
    trees.clear()
    assert trees.check(walk, [str(root)], [str(tmp_path)]) is None
    assert len(listed) == 2 * walked
