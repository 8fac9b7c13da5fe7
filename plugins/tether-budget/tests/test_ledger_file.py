"""The ledger's file: written atomically and privately, read back only in its exact shape."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from tether_budget.ledger import MAX_REASON_CHARS, LedgerState
from tether_budget.ledger_file import MAX_LEDGER_BYTES, LedgerFileError, read_ledger, write_ledger

STATE = LedgerState(version=1, day=date(2026, 12, 3), spent_usd=0.75, requests=3, crossed=None)

GOOD = {"version": 1, "day": "2026-12-03", "spent_usd": 0.75, "requests": 3, "crossed": None}


def _with(**changes: object) -> str:
    return json.dumps({**GOOD, **changes})


def _without(key: str) -> str:
    return json.dumps({k: v for k, v in GOOD.items() if k != key})


def test_a_written_ledger_reads_back_the_same(tmp_path: Path) -> None:
    path = tmp_path / "state" / "tether" / "budget.json"
    write_ledger(path, STATE)
    assert read_ledger(path) == STATE
    crossed = STATE.model_copy(update={"crossed": "a request cost $2.0000, over …"})
    write_ledger(path, crossed)
    assert read_ledger(path) == crossed


def test_the_file_is_private_and_its_missing_directory_is_made(tmp_path: Path) -> None:
    path = tmp_path / "new" / "deeper" / "budget.json"
    write_ledger(path, STATE)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert [p.name for p in path.parent.iterdir()] == ["budget.json"]  # no temporary left


def test_a_rewrite_replaces_the_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    path = tmp_path / "budget.json"
    path.write_text("an old, damaged ledger")
    path.chmod(0o644)
    write_ledger(path, STATE)
    assert read_ledger(path) == STATE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["budget.json"]


def test_no_file_yet_is_no_ledger(tmp_path: Path) -> None:
    assert read_ledger(tmp_path / "budget.json") is None
    assert read_ledger(tmp_path / "missing-directory" / "budget.json") is None
    (tmp_path / "a-file").write_text("")
    assert read_ledger(tmp_path / "a-file" / "budget.json") is None  # nor can there be one


MALFORMED = [
    pytest.param(b"", "it is empty", id="empty"),
    pytest.param(b" \n\t\n", "it is empty", id="blank"),
    pytest.param(b'{"version": 1, "day": "2026-12-03", "spe', "not JSON", id="truncated"),
    pytest.param(b'{"version": 1, "day": "2026-12-03",', "not JSON", id="truncated-after-comma"),
    pytest.param(_with()[:-1].encode(), "not JSON", id="missing-closing-brace"),
    pytest.param((_with() + "}").encode(), "not JSON (Extra data", id="trailing-brace"),
    pytest.param((_with() + _with()).encode(), "not JSON (Extra data", id="two-objects"),
    pytest.param(b"{'version': 1}", "not JSON", id="single-quotes"),
    pytest.param(("// the ledger\n" + _with()).encode(), "not JSON", id="comment"),
    pytest.param(b"\xef\xbb\xbf" + _with().encode(), "not JSON", id="utf8-bom"),
    pytest.param(b"\xff\xfe{\x00}\x00", "not UTF-8 text", id="utf16"),
    pytest.param(b"\x00" * 16, "not JSON", id="nul-bytes"),
    pytest.param(b"[1, 2, 3]", "the file: Input should be an object", id="list"),
    pytest.param(json.dumps([GOOD]).encode(), "Input should be an object", id="list-of-ledger"),
    pytest.param(b'"2026-12-03"', "Input should be an object", id="string"),
    pytest.param(b"0.75", "Input should be an object", id="number"),
    pytest.param(b"null", "Input should be an object", id="null"),
    pytest.param(b"{}", "Field required", id="empty-object"),
    pytest.param(_without("spent_usd").encode(), "spent_usd: Field required", id="no-spent"),
    pytest.param(_without("requests").encode(), "requests: Field required", id="no-requests"),
    pytest.param(_without("day").encode(), "day: Field required", id="no-day"),
    pytest.param(_without("crossed").encode(), "crossed: Field required", id="no-crossed"),
    pytest.param(_without("version").encode(), "version: Field required", id="no-version"),
    pytest.param(_with(version=2).encode(), "version: Input should be 1", id="version-2"),
    pytest.param(_with(version="1").encode(), "version: Input should be 1", id="version-text"),
    pytest.param(_with(spent_usd="0.75").encode(), "spent_usd: Input should be", id="spent-text"),
    pytest.param(_with(spent_usd="$0.75").encode(), "spent_usd", id="spent-dollars"),
    pytest.param(_with(requests="3").encode(), "requests: Input should be", id="requests-text"),
    pytest.param(_with(requests=3.0).encode(), "requests: Input should be", id="requests-float"),
    pytest.param(_with(requests=3.5).encode(), "requests: Input should be", id="requests-frac"),
    pytest.param(_with(requests=True).encode(), "requests: Input should be", id="requests-bool"),
    pytest.param(_with(spent_usd=True).encode(), "spent_usd: Input should be", id="spent-bool"),
    pytest.param(_with(spent_usd=None).encode(), "spent_usd: Input should be", id="spent-null"),
    pytest.param(_with(spent_usd=[1]).encode(), "spent_usd: Input should be", id="spent-list"),
    pytest.param(_with(spent_usd={"usd": 1}).encode(), "spent_usd", id="spent-object"),
    pytest.param(
        _with().replace("0.75", "NaN").encode(), "spent_usd: Input should be a finite", id="nan"
    ),
    pytest.param(_with().replace("0.75", "Infinity").encode(), "finite number", id="infinity"),
    pytest.param(_with().replace("0.75", "-Infinity").encode(), "finite number", id="minus-inf"),
    pytest.param(_with().replace("0.75", "1e400").encode(), "finite number", id="overflowing"),
    pytest.param(
        _with(spent_usd=-0.01).encode(), "spent_usd: Input should be greater", id="negative"
    ),
    pytest.param(
        _with(requests=-1).encode(), "requests: Input should be greater", id="neg-requests"
    ),
    pytest.param(
        _with(requests=10**13).encode(), "requests: Input should be less", id="huge-requests"
    ),
    pytest.param(
        _with().replace('"requests": 3', '"requests": 1' + "0" * 5000).encode(),
        "not a ledger",
        id="requests-5000-digits",
    ),
    pytest.param(
        _with(day="yesterday").encode(), "day: Input should be a valid date", id="day-word"
    ),
    pytest.param(
        _with(day="2026-13-45").encode(), "day: Input should be a valid date", id="day-bad"
    ),
    pytest.param(_with(day="2026-12-03T09:00:00").encode(), "day: Input should be", id="day-time"),
    pytest.param(
        _with(day=20261203).encode(), "day: Input should be a valid date", id="day-number"
    ),
    pytest.param(_with(day=None).encode(), "day: Input should be a valid date", id="day-null"),
    pytest.param(_with(crossed=5).encode(), "crossed: Input should be", id="crossed-number"),
    pytest.param(_with(crossed=["a"]).encode(), "crossed: Input should be", id="crossed-list"),
    pytest.param(
        _with(crossed="x" * (MAX_REASON_CHARS + 1)).encode(),
        "crossed: String should",
        id="crossed-long",
    ),
    pytest.param(_with(owner="someone").encode(), "owner: Extra inputs", id="extra-key"),
    pytest.param(
        _with().replace('"requests": 3', '"requests": 3, "requests": 0').encode(),
        "'requests' appears twice",
        id="duplicate-key",
    ),
    pytest.param(b"[" * 50_000, "not a ledger", id="deeply-nested"),
    pytest.param((_with() + " " * MAX_LEDGER_BYTES).encode(), "larger than 64 KiB", id="huge-file"),
]


@pytest.mark.parametrize(("content", "fragment"), MALFORMED)
def test_a_file_that_is_not_a_ledger_is_refused_with_one_line(
    tmp_path: Path, content: bytes, fragment: str
) -> None:
    path = tmp_path / "budget.json"
    path.write_bytes(content)
    with pytest.raises(LedgerFileError) as raised:
        read_ledger(path)
    message = str(raised.value)
    assert fragment in message
    assert "\n" not in message and len(message) < 300


def _fifo(path: Path) -> None:
    os.mkfifo(path)


def _directory(path: Path) -> None:
    path.mkdir()


def _symlink_loop(path: Path) -> None:
    path.symlink_to(path.name)


@pytest.mark.parametrize(
    ("make", "name", "fragment"),
    [
        pytest.param(_directory, "budget.json", "it is a directory, not a file", id="directory"),
        pytest.param(_fifo, "budget.json", "it is a special file", id="fifo"),
        pytest.param(_symlink_loop, "budget.json", "symbolic links", id="symlink-loop"),
    ],
)
def test_a_path_that_holds_no_file_is_refused(
    tmp_path: Path, make: Callable[[Path], None], name: str, fragment: str
) -> None:
    path = tmp_path / name
    make(path)
    with pytest.raises(LedgerFileError, match=fragment):
        read_ledger(path)


def test_a_device_is_refused_without_reading_it() -> None:
    with pytest.raises(LedgerFileError, match="special file"):
        read_ledger(Path("/dev/zero"))


def test_a_file_its_owner_cannot_read_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "budget.json"
    write_ledger(path, STATE)
    path.chmod(0)
    if os.access(path, os.R_OK):
        pytest.skip("this user reads any file (root): the permission cannot bind")
    with pytest.raises(LedgerFileError, match="Permission denied"):
        read_ledger(path)


# Writing where it cannot be done: each case leaves the previous ledger (if
# any) as it was, and no temporary behind.


def test_a_write_under_a_regular_file_fails_with_an_os_error(tmp_path: Path) -> None:
    (tmp_path / "not-a-directory").write_text("")
    with pytest.raises(OSError, match=r"exists|Not a directory"):
        write_ledger(tmp_path / "not-a-directory" / "state" / "budget.json", STATE)


def test_a_write_onto_a_directory_fails_and_leaves_no_temporary(tmp_path: Path) -> None:
    (tmp_path / "budget.json").mkdir()
    with pytest.raises(IsADirectoryError):
        write_ledger(tmp_path / "budget.json", STATE)
    assert [p.name for p in tmp_path.iterdir()] == ["budget.json"]


def test_a_write_into_a_read_only_directory_keeps_the_old_ledger(tmp_path: Path) -> None:
    path = tmp_path / "state" / "budget.json"
    write_ledger(path, STATE)
    path.parent.chmod(0o500)
    try:
        if os.access(path.parent, os.W_OK):
            pytest.skip("this user writes anywhere (root): the permission cannot bind")
        with pytest.raises(PermissionError):
            write_ledger(path, STATE.model_copy(update={"spent_usd": 9.0}))
        assert read_ledger(path) == STATE
    finally:
        path.parent.chmod(0o700)


def test_a_full_disk_fails_the_write_and_keeps_the_old_ledger(
    small_disk: Path, fill_disk: Callable[[Path], None]
) -> None:
    path = small_disk / "budget.json"
    write_ledger(path, STATE)
    fill_disk(small_disk)
    with pytest.raises(OSError, match="No space left"):
        write_ledger(path, STATE.model_copy(update={"spent_usd": 9.0}))
    assert read_ledger(path) == STATE
    assert sorted(p.name for p in small_disk.iterdir()) == ["budget.json", "filler"]
