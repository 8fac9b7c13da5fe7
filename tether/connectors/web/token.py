"""The web connector's access token: made once, kept mode 0600 in Tether's state directory.

Whoever holds the token drives the agent, so it is 256 random bits, written
with permissions that let only the owner read it, and compared in constant time.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from tether.exceptions import ConfigError

__all__ = [
    "TOKEN_FILE",
    "AccessToken",
    "default_state_dir",
    "load_or_create_token",
    "token_matches",
]

TOKEN_FILE = "web-token"
"""The token's file name inside the state directory."""
_TOKEN_BYTES = 32
_MIN_LENGTH = 32


def default_state_dir() -> Path:
    """Tether's state directory: `$XDG_STATE_HOME/tether`, else `~/.local/state/tether`.

    The XDG Base Directory rules by hand; one function, so a shared helper can
    replace it in one place.
    """
    base = os.environ.get("XDG_STATE_HOME", "")
    # The spec says a relative value is invalid and must be ignored.
    root = Path(base) if base and Path(base).is_absolute() else Path.home() / ".local" / "state"
    return root / "tether"


class AccessToken(BaseModel):
    """The token, where it is kept, and whether this start created it (show it once)."""

    model_config = ConfigDict(frozen=True)

    value: str
    path: Path
    created: bool


def load_or_create_token(state_dir: Path) -> AccessToken:
    """Read the token from `state_dir`, or make one there (mode 0600) on first start.

    Raises:
        ConfigError: the directory or file cannot be written or read, the file is
            readable by others, or it holds something too short to be a token.
    """
    path = state_dir / TOKEN_FILE
    try:
        state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return AccessToken(value=_read(path), path=path, created=False)
        import secrets  # here: `tether check` imports this module for TOKEN_FILE alone

        value = secrets.token_urlsafe(_TOKEN_BYTES)
        with os.fdopen(fd, "w", encoding="ascii") as file:
            file.write(value + "\n")
        return AccessToken(value=value, path=path, created=True)
    except OSError as error:
        raise ConfigError(
            f"the web access token at {path} cannot be kept: {error.strerror or error}; "
            "set TETHER_WEB_STATE_DIR to a writable directory"
        ) from error


def _read(path: Path) -> str:
    mode = path.stat().st_mode
    if mode & 0o077:
        raise ConfigError(
            f"{path} is readable by other users (mode {mode & 0o777:o}); "
            f"run `chmod 600 {path}` or delete it to make a new token"
        )
    value = path.read_text(encoding="ascii", errors="replace").strip()
    if len(value) < _MIN_LENGTH or not value.isascii():
        raise ConfigError(f"{path} does not hold a valid token; delete it to make a new one")
    return value


def token_matches(expected: str, given: object) -> bool:
    """Constant-time comparison; anything that is not a string never matches."""
    if not isinstance(given, str) or not given.isascii():
        return False
    # Imported here: hmac loads OpenSSL, and `tether check` (which imports this
    # module for TOKEN_FILE alone) never compares a token.
    import hmac

    return hmac.compare_digest(expected.encode("ascii"), given.encode("ascii"))
