"""Host and Origin checks (CSRF, DNS rebinding) and browser sessions."""

from __future__ import annotations

import pytest

from tether.connectors.web.security import HostPolicy, WebSessions, is_loopback


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.1.2.3", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("LOCALHOST", True),
        ("0.0.0.0", False),
        ("192.168.1.5", False),
        ("localhost.evil.example", False),
        ("127.0.0.1.nip.io", False),
        ("::ffff:10.0.0.1", False),
    ],
)
def test_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


@pytest.mark.parametrize(
    ("header", "allowed"),
    [
        pytest.param("127.0.0.1:8765", True, id="loopback-port"),
        pytest.param("localhost:9000", True, id="tunnel-port"),
        pytest.param("[::1]:8765", True, id="ipv6"),
        pytest.param("tether.vpn:8765", True, id="listed-name"),
        pytest.param("TETHER.VPN", True, id="listed-name-case"),
        pytest.param("evil.example:8765", False, id="rebinding"),
        pytest.param("tether.vpn.evil.example", False, id="suffix"),
        pytest.param("127.0.0.1:80x", False, id="bad-port"),
        pytest.param("127.0.0.1@evil.example", False, id="userinfo"),
        pytest.param("[::1", False, id="open-bracket"),
        pytest.param("", False, id="empty"),
        pytest.param(None, False, id="missing"),
        pytest.param("127.0.0.1 :1", False, id="space"),
    ],
)
def test_host_header(header: str | None, allowed: bool) -> None:
    policy = HostPolicy("127.0.0.1", ["tether.vpn"], "http")
    assert policy.host_allowed(header) is allowed


@pytest.mark.parametrize(
    ("origin", "host", "allowed"),
    [
        pytest.param("http://127.0.0.1:8765", "127.0.0.1:8765", True, id="same"),
        pytest.param("http://127.0.0.1:8765", "127.0.0.1:9999", False, id="port-differs"),
        pytest.param("https://127.0.0.1:8765", "127.0.0.1:8765", False, id="scheme-differs"),
        pytest.param("http://localhost:8765", "127.0.0.1:8765", False, id="name-differs"),
        pytest.param("null", "127.0.0.1:8765", False, id="null"),
        pytest.param("http://127.0.0.1:8765/", "127.0.0.1:8765", False, id="path"),
        pytest.param("http://evil.example", "evil.example", False, id="rebinding"),
        pytest.param(None, "127.0.0.1:8765", False, id="missing"),
        pytest.param("http://[::1", "[::1]", False, id="malformed"),
    ],
)
def test_origin(origin: str | None, host: str, allowed: bool) -> None:
    assert HostPolicy("127.0.0.1", [], "http").origin_allowed(origin, host) is allowed


def test_a_wildcard_bind_accepts_only_listed_names() -> None:
    policy = HostPolicy("0.0.0.0", [], "https")
    assert not policy.host_allowed("0.0.0.0:8765")
    assert not policy.host_allowed("192.168.1.5:8765")
    assert HostPolicy("0.0.0.0", ["192.168.1.5"], "https").host_allowed("192.168.1.5:8765")


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


def test_sessions_expire_and_are_bounded() -> None:
    clock = Clock()
    sessions = WebSessions(lifetime=10, clock=clock)
    first = sessions.create()
    assert sessions.get(first.session_id) is first
    clock.now = 11
    assert sessions.get(first.session_id) is None
    for _ in range(200):
        sessions.create()
    assert len(sessions) <= 64


@pytest.mark.parametrize("cookie", [None, "", "x" * 500, "nosuch"])
def test_unknown_cookies_are_no_session(cookie: str | None) -> None:
    assert WebSessions().get(cookie) is None


@pytest.mark.parametrize("given", [None, "", "wrong", 5, "é"])
def test_csrf_mismatch(given: object) -> None:
    session = WebSessions().create()
    assert not session.csrf_matches(given)
    assert session.csrf_matches(session.csrf)
