"""Who a request comes from and whether it may act: sessions, CSRF, Host and Origin.

- A browser logs in once with the access token and gets a session cookie
  (HttpOnly, SameSite=Strict, Secure over TLS) plus a CSRF token it must echo
  in a header on every state-changing request (and in the WebSocket URL).
- The Host header must name this server (a loopback name, the bound address or
  one listed in TETHER_WEB_ALLOWED_HOSTS): a DNS-rebinding page at another name
  is refused before anything else.
- The Origin of every state-changing request and WebSocket must be this
  server's own: a cross-site page can neither post nor open a socket.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

__all__ = [
    "CSP",
    "SECURITY_HEADERS",
    "SESSION_SECONDS",
    "HostPolicy",
    "WebSession",
    "WebSessions",
    "is_loopback",
]

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; manifest-src 'self'; worker-src 'self'; font-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'; object-src 'none'"
)
"""No inline script or style, nothing from another origin, never framed."""

SECURITY_HEADERS: tuple[tuple[str, str], ...] = (
    ("content-security-policy", CSP),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("x-frame-options", "DENY"),
    ("cross-origin-opener-policy", "same-origin"),
    ("cross-origin-resource-policy", "same-origin"),
    ("permissions-policy", "camera=(), microphone=(), geolocation=()"),
)

_LOOPBACK_NAMES = frozenset({"localhost", "localhost.", "ip6-localhost"})
_MAX_SESSIONS = 64
SESSION_SECONDS = 7 * 24 * 3600.0
"""How long a browser stays logged in."""


def is_loopback(host: str) -> bool:
    """True for a loopback address or name (`127.0.0.1`, `::1`, `localhost`)."""
    name = host.strip("[]").lower()
    if name in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


class HostPolicy:
    """Which Host headers and Origins name this server.

    Args:
        bound_host: the address the server listens on.
        allowed_hosts: further names people reach it by (a VPN name, a LAN address).
        scheme: `https` when served over TLS, else `http`.
    """

    def __init__(self, bound_host: str, allowed_hosts: Iterable[str], scheme: str) -> None:
        extra = {h.strip().lower().strip("[]") for h in allowed_hosts if h.strip()}
        bound = bound_host.lower().strip("[]")
        wildcard = bound in {"0.0.0.0", "::", ""}
        self._names = frozenset(extra | (set() if wildcard else {bound}))
        self.scheme = scheme

    def host_allowed(self, host_header: str | None) -> bool:
        """True when the Host header (`name[:port]`) names this server."""
        if not host_header:
            return False
        name = _host_name(host_header)
        if name is None:
            return False
        return is_loopback(name) or name in self._names

    def origin_allowed(self, origin: str | None, host_header: str | None) -> bool:
        """True when `origin` is exactly this server as the browser reached it."""
        if not origin or not host_header or not self.host_allowed(host_header):
            return False
        try:
            parts = urlsplit(origin)
        except ValueError:
            return False
        if parts.scheme != self.scheme or parts.path or parts.query or parts.fragment:
            return False
        return parts.netloc.lower() == host_header.strip().lower()


def _host_name(host_header: str) -> str | None:
    value = host_header.strip().lower()
    if not value or any(c in value for c in "/@?# \t"):
        return None
    if value.startswith("["):
        end = value.find("]")
        if end < 0:
            return None
        name, rest = value[1:end], value[end + 1 :]
    else:
        name, _, port = value.partition(":")
        rest = f":{port}" if port else ""
    if rest and not (rest.startswith(":") and rest[1:].isdigit()):
        return None
    return name or None


@dataclass
class WebSession:
    """A logged-in browser: its cookie value, its CSRF token, when it expires."""

    session_id: str
    csrf: str
    expires: float

    def csrf_matches(self, given: object) -> bool:
        return isinstance(given, str) and hmac.compare_digest(
            self.csrf.encode(), given.encode("utf-8", "replace")
        )


class WebSessions:
    """Logged-in browsers, bounded (the oldest session ends first)."""

    def __init__(
        self,
        *,
        lifetime: float = SESSION_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._lifetime = lifetime
        self._clock = clock
        self._sessions: OrderedDict[str, WebSession] = OrderedDict()

    def __len__(self) -> int:
        return len(self._sessions)

    def create(self) -> WebSession:
        session = WebSession(
            session_id=secrets.token_urlsafe(32),
            csrf=secrets.token_urlsafe(24),
            expires=self._clock() + self._lifetime,
        )
        self._sessions[session.session_id] = session
        while len(self._sessions) > _MAX_SESSIONS:
            self._sessions.popitem(last=False)
        return session

    def get(self, session_id: str | None) -> WebSession | None:
        """The live session with this cookie value, or None (unknown, expired)."""
        if not session_id or len(session_id) > 128:
            return None
        session = self._sessions.get(session_id)
        if session is None:
            return None
        if session.expires <= self._clock():
            self._sessions.pop(session_id, None)
            return None
        return session

    def end(self, session_id: str) -> None:
        self._sessions.pop(session_id, None)
