"""Reading Tether's entries out of a `.env` file, in time linear in its size.

A `.env` is often shared with other programs and can be long. python-dotenv's
parser slows down quadratically with the file (50,000 lines: minutes), so the
file is first scanned line by line and only the entries whose name starts
with the prefix are handed to it. Quoted values that span lines are followed,
so a line inside another program's multi-line value is never read as an entry.

Bounds, each refused with one line naming the file: the file's size (a `.env`
is a few kilobytes; 16 MiB is far past any real one and still scans in well
under a second) and the number of prefixed entries (Tether has a few dozen
settings).
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from pathlib import Path

from dotenv import dotenv_values
from pydantic_settings.sources.utils import parse_env_vars

from tether.exceptions import ConfigError

__all__ = ["MAX_ENTRIES", "MAX_FILE_BYTES", "read_tether_lines"]

MAX_FILE_BYTES = 16 * 1024 * 1024
MAX_ENTRIES = 1_000

_ENTRY = re.compile(r"\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*(.*)", re.DOTALL)


def read_tether_lines(
    path: Path, *, prefix: str, encoding: str = "utf-8", ignore_empty: bool = False
) -> Mapping[str, str | None]:
    """The entries of the `.env` at `path` whose names start with `prefix` (any case).

    Raises:
        ConfigError: the file is larger than `MAX_FILE_BYTES`, or holds more
            than `MAX_ENTRIES` prefixed entries.
        UnicodeDecodeError: the file is not text in `encoding`.
    """
    with path.open("rb") as file:
        data = file.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise ConfigError(
            f"{path} is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB; a .env file holds "
            f"settings, not data: keep only the {prefix} lines Tether needs in it"
        )
    kept = _prefixed_lines(data.decode(encoding), prefix.upper(), path)
    values = dotenv_values(stream=io.StringIO("".join(kept)))
    return parse_env_vars(values, False, ignore_empty, None)


def _prefixed_lines(text: str, prefix: str, path: Path) -> list[str]:
    kept: list[str] = []
    entries = 0
    closing: str | None = None  # the quote that ends the multi-line value being read
    keep = False
    for line in text.splitlines(keepends=True):
        if closing is not None:
            if keep:
                kept.append(line)
            if _closes(line, closing):
                closing = None
            continue
        match = _ENTRY.match(line)
        if match is None:
            continue
        keep = match.group(1).upper().startswith(prefix)
        if keep:
            entries += 1
            if entries > MAX_ENTRIES:
                raise ConfigError(
                    f"{path} has more than {MAX_ENTRIES} {prefix} entries; Tether has a few "
                    "dozen settings, so the file is not what it should be"
                )
            kept.append(line if line.endswith(("\n", "\r")) else line + "\n")
        value = match.group(2)
        if value[:1] in ("'", '"') and not _closes(value[1:], value[0]):
            closing = value[0]
    return kept


def _closes(text: str, quote: str) -> bool:
    """Whether `text` holds the quote that ends a value (a `"` may be escaped)."""
    if quote == "'":
        return "'" in text
    escaped = False
    for char in text:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == '"':
            return True
    return False
