"""Approval previews: diffs against the file as it is, new files, commands, masked secrets."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tether.core.safety.pipeline import SafetyPipeline
from tether.core.safety.preview import (
    FILE_FREE_PREVIEWS,
    MASK,
    ApprovalPreview,
    build_preview,
    mask_secrets,
)

from .conftest import MakePipeline


@pytest.fixture
def pipeline(make_pipeline: MakePipeline) -> SafetyPipeline:
    return make_pipeline("default")


def _preview(
    pipeline: SafetyPipeline, project: Path, tool: str, tool_input: dict[str, object]
) -> ApprovalPreview:
    verdict = pipeline.decide(tool, tool_input, cwd=project)
    return build_preview(tool, tool_input, verdict, project=project)


class TestEdits:
    def test_an_edit_is_a_unified_diff_against_the_file_as_it_is_now(
        self, pipeline: SafetyPipeline, project_dir: Path
    ) -> None:
        target = project_dir / "src" / "app.py"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("".join(f"line {n}\n" for n in range(1, 21)))
        preview = _preview(
            pipeline,
            project_dir,
            "Edit",
            {"file_path": str(target), "old_string": "line 10\n", "new_string": "line ten\n"},
        )
        assert preview.kind == "diff"
        assert preview.subject == "src/app.py"
        lines = preview.body.splitlines()
        assert lines[:3] == ["--- a/src/app.py", "+++ b/src/app.py", "@@ -7,7 +7,7 @@"]
        assert "-line 10" in lines and "+line ten" in lines
        assert " line 7" in lines and " line 13" in lines  # three lines of context each side
        assert str(project_dir) not in preview.body

    def test_replace_all_changes_every_occurrence(
        self, pipeline: SafetyPipeline, project_dir: Path
    ) -> None:
        target = project_dir / "a.txt"
        target.write_text("x\ny\nx\n")
        preview = _preview(
            pipeline,
            project_dir,
            "Edit",
            {"file_path": str(target), "old_string": "x", "new_string": "z", "replace_all": True},
        )
        assert preview.body.count("+z") == 2

    def test_multiedit_applies_the_edits_in_order(
        self, pipeline: SafetyPipeline, project_dir: Path
    ) -> None:
        target = project_dir / "m.py"
        target.write_text("a = 1\nb = 2\n")
        edits = [
            {"old_string": "a = 1", "new_string": "a = 10"},
            {"old_string": "a = 10", "new_string": "a = 100"},
        ]
        preview = _preview(
            pipeline, project_dir, "MultiEdit", {"file_path": str(target), "edits": edits}
        )
        assert "+a = 100" in preview.body and "-a = 1" in preview.body

    def test_an_edit_that_no_longer_matches_says_so(
        self, pipeline: SafetyPipeline, project_dir: Path
    ) -> None:
        target = project_dir / "gone.py"
        target.write_text("hello\n")
        preview = _preview(
            pipeline,
            project_dir,
            "Edit",
            {"file_path": str(target), "old_string": "absent", "new_string": "x"},
        )
        assert "do not match" in preview.note


class TestWrites:
    def test_a_new_file_shows_its_first_lines_and_size(
        self, pipeline: SafetyPipeline, project_dir: Path
    ) -> None:
        content = "".join(f"row {n}\n" for n in range(50))
        preview = _preview(
            pipeline,
            project_dir,
            "Write",
            {"file_path": str(project_dir / "new.txt"), "content": content},
        )
        assert preview.kind == "new_file"
        assert preview.body.splitlines() == [f"row {n}" for n in range(20)]
        assert "new file, 50 lines" in preview.note and "first 20 lines" in preview.note

    def test_overwriting_a_file_is_a_diff(
        self, pipeline: SafetyPipeline, project_dir: Path
    ) -> None:
        target = project_dir / "README.md"
        target.write_text("# old\n")
        preview = _preview(
            pipeline, project_dir, "Write", {"file_path": str(target), "content": "# new\n"}
        )
        assert preview.kind == "diff"
        assert "-# old" in preview.body and "+# new" in preview.body

    def test_a_notebook_cell_is_shown_before_and_after(
        self, pipeline: SafetyPipeline, project_dir: Path
    ) -> None:
        notebook = project_dir / "nb.ipynb"
        cells = [{"id": "c1", "cell_type": "code", "source": ["x = 1\n", "print(x)\n"]}]
        notebook.write_text(json.dumps({"cells": cells}))
        preview = _preview(
            pipeline,
            project_dir,
            "NotebookEdit",
            {"notebook_path": str(notebook), "cell_id": "c1", "new_source": "x = 2\nprint(x)\n"},
        )
        assert preview.kind == "diff"
        assert "-x = 1" in preview.body and "+x = 2" in preview.body
        assert preview.subject == "nb.ipynb, cell c1"


class TestFilesThatCannotBeDiffed:
    """A diff that cannot be produced is a one-line note; the approval is still asked."""

    @pytest.mark.parametrize(
        ("setup", "expected"),
        [
            pytest.param(lambda p: p.write_bytes(b"\x89PNG\x00\x01" * 10), "binary", id="binary"),
            pytest.param(lambda p: p.write_bytes(b"caf\xe9\n"), "not UTF-8", id="latin-1"),
            pytest.param(lambda p: p.mkdir(), "not a regular file", id="directory"),
            pytest.param(lambda p: p.write_bytes(b"x" * 1_100_000), "too large", id="huge"),
            pytest.param(lambda p: None, "does not exist", id="gone"),
        ],
    )
    def test_the_note_says_why(
        self, pipeline: SafetyPipeline, project_dir: Path, setup: object, expected: str
    ) -> None:
        target = project_dir / "thing.bin"
        setup(target)  # type: ignore[operator]
        preview = _preview(
            pipeline,
            project_dir,
            "Edit",
            {"file_path": str(target), "old_string": "a", "new_string": "b"},
        )
        assert expected in preview.note
        assert "\n" not in preview.note

    @pytest.mark.skipif(os.geteuid() == 0, reason="file permissions do not bind the root user")
    def test_an_unreadable_file_is_described(
        self, pipeline: SafetyPipeline, project_dir: Path
    ) -> None:
        target = project_dir / "secret.txt"
        target.write_text("x\n")
        target.chmod(0)
        preview = _preview(
            pipeline,
            project_dir,
            "Edit",
            {"file_path": str(target), "old_string": "x", "new_string": "y"},
        )
        assert "cannot be read" in preview.note

    @pytest.mark.parametrize(
        "tool_input",
        [
            pytest.param({}, id="empty"),
            pytest.param({"file_path": 7, "old_string": None}, id="wrong-types"),
            pytest.param({"file_path": "a\x00b", "old_string": "x"}, id="nul-in-path"),
            pytest.param({"file_path": "x", "edits": "not a list"}, id="edits-not-a-list"),
        ],
    )
    @pytest.mark.parametrize("tool", ["Edit", "MultiEdit", "Write", "NotebookEdit"])
    def test_malformed_input_never_raises(
        self, project_dir: Path, tool: str, tool_input: dict[str, object]
    ) -> None:
        preview = build_preview(tool, tool_input, None, project=project_dir)
        assert preview.tool_name == tool


class TestCommands:
    def test_a_command_lists_each_simple_command_with_the_facts_that_made_it_ask(
        self, pipeline: SafetyPipeline, project_dir: Path
    ) -> None:
        preview = _preview(
            pipeline,
            project_dir,
            "Bash",
            {"command": "pip install requests && rm -rf build"},
        )
        assert preview.kind == "command"
        assert preview.body == "pip install requests && rm -rf build"
        texts = [part.text for part in preview.parts]
        assert any(t.startswith("pip install") for t in texts)
        assert any(t.startswith("rm -rf") for t in texts)
        assert all(part.facts for part in preview.parts if part.text.startswith("rm"))
        assert preview.reason

    def test_a_url_shows_its_host(self, pipeline: SafetyPipeline, project_dir: Path) -> None:
        preview = _preview(
            pipeline,
            project_dir,
            "WebFetch",
            {"url": "https://docs.example.org/a?b=1", "prompt": "summarise"},
        )
        assert preview.kind == "url"
        assert preview.note == "host docs.example.org"

    def test_another_tool_shows_its_input_compact(self, project_dir: Path) -> None:
        preview = build_preview(
            "mcp__db__query",
            {"sql": "select 1", "password": "hunter2", "path": str(project_dir / "x.db")},
            None,
            project=project_dir,
        )
        assert preview.kind == "input"
        assert "select 1" in preview.body and "hunter2" not in preview.body
        assert '"path": "x.db"' in preview.body

    @pytest.mark.parametrize(
        "blob",
        [
            pytest.param("y" * 200_000, id="one-long-word"),
            pytest.param("9" * 200_000, id="long-digits"),
            pytest.param("a://" + "b" * 200_000, id="long-url-userinfo"),
            pytest.param("--x" * 60_000, id="many-options"),
        ],
    )
    def test_a_huge_input_is_cut_quickly(self, project_dir: Path, blob: str) -> None:
        preview = build_preview("Other", {"blob": blob}, None, project=project_dir)
        assert len(preview.body) <= 1500
        command = build_preview("Bash", {"command": blob}, None, project=project_dir)
        assert command.kind == "command"


class TestSecrets:
    @pytest.mark.parametrize(
        ("text", "secret"),
        [
            pytest.param(
                "GITHUB_TOKEN=ghp_abcdefghijklmnopqrstuvwxyz012345 gh pr list",
                "ghp_",
                id="gh-token",
            ),
            pytest.param("export API_KEY='s3cr3t-value'", "s3cr3t", id="export-quoted"),
            pytest.param('DB_PASSWORD: "pa55word"', "pa55word", id="yaml-style"),
            pytest.param("mysql --password=pa55word db", "pa55word", id="option-equals"),
            pytest.param("tool --api-key pa55word", "pa55word", id="option-space"),
            pytest.param(
                'curl -H "Authorization: Bearer abcdefghijkl123"', "abcdefghijkl123", id="bearer"
            ),
            pytest.param(
                "git clone https://me:pa55word@example.com/r.git", "pa55word", id="url-password"
            ),
            pytest.param("echo sk-ant-api03-abcdefghijklmnopqrstuv", "sk-ant", id="anthropic-key"),
            pytest.param("AWS AKIAABCDEFGHIJKLMNOP here", "AKIAABCDEFGHIJKLMNOP", id="aws-key-id"),
            pytest.param("xoxb-1234567890-abcdefghij", "xoxb-", id="slack"),
            pytest.param(
                "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAAB3Nza\n-----END OPENSSH PRIVATE KEY-----",
                "AAAAB3Nza",
                id="private-key",
            ),
        ],
    )
    def test_recognised_credentials_are_masked(self, text: str, secret: str) -> None:
        masked = mask_secrets(text)
        assert secret not in masked
        assert MASK in masked

    @pytest.mark.parametrize(
        "text",
        [
            pytest.param("pytest -k test_token_parsing", id="word-token-in-a-name"),
            pytest.param("echo $API_KEY", id="a-reference-not-a-value"),
            pytest.param("COUNT=3 make", id="not-a-secret-name"),
            pytest.param("ls -la src", id="plain"),
        ],
    )
    def test_ordinary_text_is_left_alone(self, text: str) -> None:
        assert mask_secrets(text) == text

    def test_a_credential_file_shows_names_but_no_values(
        self, pipeline: SafetyPipeline, project_dir: Path
    ) -> None:
        target = project_dir / ".env"
        target.write_text("DEBUG=1\nSTRIPE=sk_live_abc\n")
        preview = build_preview(
            "Write",
            {"file_path": str(target), "content": "DEBUG=0\nSTRIPE=sk_live_xyz\n"},
            None,
            project=project_dir,
        )
        assert "sk_live" not in preview.body
        assert "-STRIPE=" in preview.body and "+STRIPE=" in preview.body

    def test_a_secret_in_an_edit_is_masked_in_the_diff(self, project_dir: Path) -> None:
        target = project_dir / "settings.py"
        target.write_text('DEBUG = True\nSECRET_KEY = "old-value"\n')
        preview = build_preview(
            "Edit",
            {"file_path": str(target), "old_string": "old-value", "new_string": "new-value"},
            None,
            project=project_dir,
        )
        assert "old-value" not in preview.body and "new-value" not in preview.body

    def test_a_secret_in_a_command_is_masked(
        self, pipeline: SafetyPipeline, project_dir: Path
    ) -> None:
        preview = _preview(
            pipeline,
            project_dir,
            "Bash",
            {"command": "curl -H 'Authorization: Bearer abcdefghijklmnop' https://x.org"},
        )
        assert "abcdefghijklmnop" not in preview.body
        assert all("abcdefghijklmnop" not in part.text for part in preview.parts)


@pytest.mark.parametrize(
    ("tool", "tool_input"),
    [
        pytest.param("Bash", {"command": "rm -rf build && cat ~/.ssh/id_rsa"}, id="command"),
        pytest.param(
            "Bash", {"command": "curl -H 'Authorization: Bearer abcdefgh12345' x"}, id="secret"
        ),
        pytest.param("WebFetch", {"url": "https://u:p@example.com/", "prompt": "x"}, id="url"),
    ],
)
def test_a_file_free_preview_touches_no_file(
    pipeline: SafetyPipeline,
    project_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    tool: str,
    tool_input: dict[str, object],
) -> None:
    """What the gate builds on the event loop never waits on the file system."""
    assert tool in FILE_FREE_PREVIEWS
    verdict = pipeline.decide(tool, tool_input, cwd=project_dir)

    def no_file_access(*args: object, **kwargs: object) -> None:
        raise AssertionError("the file system was touched")

    for name in ("stat", "lstat", "open", "listdir", "scandir", "readlink", "access"):
        monkeypatch.setattr(os, name, no_file_access)
    for name in ("resolve", "exists", "is_file", "read_bytes", "read_text", "home", "stat"):
        monkeypatch.setattr(Path, name, no_file_access)
    monkeypatch.setattr("builtins.open", no_file_access)
    preview = build_preview(tool, tool_input, verdict, project=project_dir)
    assert preview.kind in {"command", "url"}
    assert "abcdefgh12345" not in preview.body + preview.subject


@pytest.mark.parametrize("tool", ["Edit", "MultiEdit", "Write", "NotebookEdit", "Read", "Glob"])
def test_a_preview_that_may_read_a_file_is_not_file_free(tool: str) -> None:
    assert tool not in FILE_FREE_PREVIEWS
