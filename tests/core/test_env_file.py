"""The .env file: only Tether's entries are read, in time linear in the file, within bounds."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tether.core.config import load_config
from tether.core.env_file import MAX_ENTRIES, MAX_FILE_BYTES, read_tether_lines
from tether.exceptions import ConfigError


def test_fifty_thousand_unrelated_lines_do_not_slow_loading(tmp_path: Path) -> None:
    lines = [f"UNRELATED_{i}=value{i}\n" for i in range(50_000)]
    lines.insert(25_000, "TETHER_LOG_LEVEL=debug\n")
    (tmp_path / ".env").write_text("".join(lines))
    started = time.perf_counter()
    config = load_config()
    # Before: over a minute. The scan is linear; a generous bound keeps slow machines green.
    assert time.perf_counter() - started < 10
    assert config.log_level == "DEBUG"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("TETHER_A=1\n", {"tether_a": "1"}, id="plain"),
        pytest.param("export TETHER_A=1\n", {"tether_a": "1"}, id="export"),
        pytest.param("  tether_a = 1\n", {"tether_a": "1"}, id="lower-case-and-spaces"),
        pytest.param("TETHER_A='x y'\n", {"tether_a": "x y"}, id="single-quoted"),
        pytest.param('TETHER_A="x\\"y"\n', {"tether_a": 'x"y'}, id="escaped-quote"),
        pytest.param('TETHER_A="line1\nline2"\n', {"tether_a": "line1\nline2"}, id="multi-line"),
        pytest.param(
            'OTHER="start\nTETHER_A=hidden\nend"\nTETHER_B=2\n',
            {"tether_b": "2"},
            id="entry-like-line-inside-another-value",
        ),
        pytest.param(
            "OTHER='a\nTETHER_A=hidden\n'\nTETHER_B=2\n",
            {"tether_b": "2"},
            id="single-quoted-other-value",
        ),
        pytest.param("# TETHER_A=1\nTETHER_B=2", {"tether_b": "2"}, id="comment-no-final-newline"),
        pytest.param("TETHERX=1\nNOT_TETHER_A=1\n", {}, id="near-misses"),
        pytest.param("garbage line\n=\nTETHER_A=1\n", {"tether_a": "1"}, id="junk-lines"),
        pytest.param("TETHER_A=1\r\nTETHER_B=2\r\n", {"tether_a": "1", "tether_b": "2"}, id="crlf"),
    ],
)
def test_only_tether_entries_are_read(tmp_path: Path, text: str, expected: dict[str, str]) -> None:
    env = tmp_path / "x.env"
    env.write_text(text, newline="")
    assert dict(read_tether_lines(env, prefix="TETHER_")) == expected


def test_a_file_past_the_size_bound_is_one_line(tmp_path: Path) -> None:
    (tmp_path / ".env").write_bytes(b"# padding\n" * (MAX_FILE_BYTES // 10 + 1))
    with pytest.raises(ConfigError) as caught:
        load_config()
    assert "larger than 16 MiB" in str(caught.value)
    assert ".env" in str(caught.value)
    assert "\n" not in str(caught.value)


def test_too_many_tether_entries_is_one_line(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("".join(f"TETHER_X{i}=1\n" for i in range(MAX_ENTRIES + 1)))
    with pytest.raises(ConfigError, match=f"more than {MAX_ENTRIES} TETHER_ entries"):
        load_config()


def test_a_file_that_is_not_utf8_is_still_reported(tmp_path: Path) -> None:
    (tmp_path / ".env").write_bytes(b"OTHER=\xff\xfe\nTETHER_LOG_LEVEL=debug\n")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config()
