"""The access token: made once, kept 0600, compared in constant time."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from tether.app import build_safety_pipeline
from tether.connectors.web.token import default_state_dir, load_or_create_token, token_matches
from tether.core.config import TetherConfig
from tether.exceptions import ConfigError


def test_first_start_creates_a_private_token(tmp_path: Path) -> None:
    token = load_or_create_token(tmp_path / "state")
    assert token.created
    assert len(token.value) >= 40
    assert stat.S_IMODE(token.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(token.path.parent.stat().st_mode) == 0o700


def test_later_starts_reuse_the_token_and_do_not_show_it_again(tmp_path: Path) -> None:
    first = load_or_create_token(tmp_path)
    again = load_or_create_token(tmp_path)
    assert again.value == first.value
    assert not again.created


def test_two_installs_get_different_tokens(tmp_path: Path) -> None:
    assert load_or_create_token(tmp_path / "a").value != load_or_create_token(tmp_path / "b").value


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_a_token_others_can_read_is_refused(tmp_path: Path, mode: int) -> None:
    token = load_or_create_token(tmp_path)
    token.path.chmod(mode)
    with pytest.raises(ConfigError, match="chmod 600"):
        load_or_create_token(tmp_path)


@pytest.mark.parametrize(
    "content", [b"", b"short\n", "é".encode() * 40], ids=["empty", "short", "not-ascii"]
)
def test_a_damaged_token_file_is_refused(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "web-token"
    path.write_bytes(content)
    path.chmod(0o600)
    with pytest.raises(ConfigError, match="delete it"):
        load_or_create_token(tmp_path)


def test_an_unwritable_state_directory_names_the_setting(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(ConfigError, match="TETHER_WEB_STATE_DIR"):
        load_or_create_token(blocker / "state")


@pytest.mark.parametrize(
    ("given", "matches"),
    [
        pytest.param("secret-token-value", True, id="same"),
        pytest.param("secret-token-valuf", False, id="last-char"),
        pytest.param("secret-token-valu", False, id="prefix"),
        pytest.param("secret-token-value ", False, id="trailing-space"),
        pytest.param("", False, id="empty"),
        pytest.param("sécret-token-value", False, id="non-ascii"),
        pytest.param(None, False, id="none"),
        pytest.param(12345, False, id="number"),
        pytest.param(["secret-token-value"], False, id="list"),
    ],
)
def test_token_comparison(given: object, matches: bool) -> None:
    assert token_matches("secret-token-value", given) is matches


@pytest.mark.parametrize(
    ("xdg", "expected"),
    [
        pytest.param("/srv/state", Path("/srv/state/tether"), id="absolute"),
        pytest.param("relative/state", None, id="relative-ignored"),
        pytest.param("", None, id="empty-ignored"),
    ],
)
def test_state_directory_follows_xdg(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, xdg: str, expected: Path | None
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", xdg)
    monkeypatch.setenv("HOME", str(tmp_path))
    fallback = tmp_path / ".local" / "state" / "tether"
    assert default_state_dir() == (expected or fallback)
    assert os.environ["XDG_STATE_HOME"] == xdg


@pytest.mark.parametrize(
    ("tool_name", "tool_input"),
    [
        pytest.param("Read", {"file_path": "{token}"}, id="read"),
        pytest.param("Write", {"file_path": "{token}", "content": "x" * 43}, id="write"),
        pytest.param("Bash", {"command": "cat {token}"}, id="cat"),
        pytest.param("Bash", {"command": "cp {token} /tmp/t"}, id="copy"),
        pytest.param("Grep", {"pattern": ".", "path": "{token}"}, id="grep"),
    ],
)
def test_the_agent_may_not_touch_the_token_even_inside_the_project(
    project_dir: Path, tool_name: str, tool_input: dict[str, str]
) -> None:
    state = project_dir / ".state"
    token = load_or_create_token(state)
    config = TetherConfig(approved_directories=(project_dir,), web_state_dir=state)
    filled = {k: v.replace("{token}", str(token.path)) for k, v in tool_input.items()}
    verdict = build_safety_pipeline(config).decide(tool_name, filled, cwd=project_dir)
    assert verdict.decision.value == "deny"
    assert "Tether's own records" in verdict.reason
