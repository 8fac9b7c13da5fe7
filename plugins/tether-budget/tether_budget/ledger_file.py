"""The ledger's file: read it back at start-up, replace it atomically after a change.

The file is one small JSON object (`LedgerState`). Reading accepts exactly
that shape and nothing else: whatever is wrong with the file is raised as a
`LedgerFileError` with one line saying what, for the plugin to fail closed on.
"""

from __future__ import annotations

import json
import os
import stat
import tempfile
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from tether_budget.ledger import LedgerState

__all__ = ["MAX_LEDGER_BYTES", "LedgerFileError", "read_ledger", "write_ledger"]

MAX_LEDGER_BYTES = 64 * 1024
"""A ledger is about a hundred bytes; a file much larger than that is not one."""


class LedgerFileError(Exception):
    """The ledger's file exists but does not hold a ledger; the message says why."""


def read_ledger(path: Path) -> LedgerState | None:
    """The ledger saved at `path`, or None when there is no file there yet.

    Raises:
        LedgerFileError: the path cannot be read, is not a regular file, is
            too large, is not UTF-8 JSON, or is not a ledger (wrong shape,
            strings for numbers, non-finite or negative amounts).
    """
    try:
        # O_NONBLOCK: a FIFO at the path must not hang start-up waiting for a writer.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except (FileNotFoundError, NotADirectoryError):
        # Nothing there, nor can there be (a parent is a file): no ledger yet,
        # as on a first start. Saving it will fail, and say so.
        return None
    except OSError as error:
        raise LedgerFileError(_os_reason(error)) from None
    try:
        kind = os.fstat(fd).st_mode
        if not stat.S_ISREG(kind):
            what = "a directory" if stat.S_ISDIR(kind) else "a special file"
            raise LedgerFileError(f"it is {what}, not a file")
        with os.fdopen(fd, "rb", closefd=False) as stream:
            raw = stream.read(MAX_LEDGER_BYTES + 1)
    except OSError as error:
        raise LedgerFileError(_os_reason(error)) from None
    finally:
        os.close(fd)
    return _parse(raw)


def _parse(raw: bytes) -> LedgerState:
    if len(raw) > MAX_LEDGER_BYTES:
        raise LedgerFileError(f"it is larger than {MAX_LEDGER_BYTES // 1024} KiB")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise LedgerFileError(f"it is not UTF-8 text (byte {error.start})") from None
    if not text.strip():
        raise LedgerFileError("it is empty")
    try:
        # The standard parser first: its errors name the line and column, and it
        # sees duplicate keys, which pydantic's would silently take the last of.
        json.loads(text, object_pairs_hook=_refuse_duplicates)
    except json.JSONDecodeError as error:
        raise LedgerFileError(
            f"it is not JSON ({error.msg} at line {error.lineno} column {error.colno})"
        ) from None
    except (ValueError, RecursionError) as error:
        # A duplicate key, an integer too long to convert, nesting too deep.
        raise LedgerFileError(f"it is not a ledger ({_first_line(error)})") from None
    try:
        return LedgerState.model_validate_json(text)
    except ValidationError as error:
        problem = error.errors(include_url=False)[0]
        where = ".".join(str(part) for part in problem.get("loc", ())) or "the file"
        message = str(problem.get("msg", "invalid"))
        raise LedgerFileError(f"it is not a ledger ({where}: {message})") from None


def _refuse_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    for key in keys:
        if keys.count(key) > 1:
            raise ValueError(f"the key {key!r} appears twice")
    return dict(pairs)


def _os_reason(error: OSError) -> str:
    return error.strerror or type(error).__name__


def _first_line(error: BaseException) -> str:
    return (str(error).splitlines() or [type(error).__name__])[0][:200]


def write_ledger(path: Path, state: LedgerState) -> None:
    """Replace the file at `path` with `state`, atomically, readable by its owner only.

    A temporary file in the same directory is written, flushed to the disk and
    renamed over the old one: a crash leaves either the old ledger or the new,
    never half of one. The directory is made (0700) if missing.

    Raises:
        OSError: the directory or the file cannot be written (read-only, full, ...).
    """
    directory = path.parent
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    body = (state.model_dump_json() + "\n").encode("utf-8")
    # mkstemp creates the file with mode 0600, whatever the umask.
    fd, temporary = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as stream:
            stream.write(body)
            stream.flush()
            os.fsync(stream.fileno())
        Path(temporary).replace(path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    _sync_directory(directory)


def _sync_directory(directory: Path) -> None:
    # The rename is durable only once the directory itself reaches the disk.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some filesystems refuse fsync on a directory; the rename is done anyway
    finally:
        os.close(fd)
