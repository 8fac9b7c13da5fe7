"""Every endpoint, fed bad input: a clear 4xx, nothing executed, nothing lost.

The server is real (uvicorn on loopback) and so is the engine; only the agent
is the in-process script, which records every prompt it is given.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.connectors.web.support import ServedTether, scenarios
from tether.core.config import TetherConfig
from tether.core.safety.audit import read_audit_log

STATE_CHANGING = (
    ("/api/message", {"chat": "main", "text": "hello"}),
    ("/api/approval", {"approval_id": "abc", "choice": "approve"}),
    ("/api/cancel", {"chat": "main"}),
    ("/api/logout", {}),
)
READS = ("/api/state", "/api/session?chat=main", "/api/audit")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedTether]:
    """One server for the module: starting one per case would cost more than the cases."""
    root = tmp_path_factory.mktemp("web-api")
    project = root / "project"
    project.mkdir()
    config = TetherConfig(
        approved_directories=(project,),
        audit_log_path=root / "audit.jsonl",
        web_enabled=True,
        web_port=0,
        web_state_dir=root / "state",
    )
    with ServedTether(config, scenarios(project)) as tether:
        yield tether


@pytest.fixture(autouse=True)
def _calls_before(served: ServedTether) -> Iterator[None]:
    served.agent.calls.clear()
    yield


def _nothing_ran(served: ServedTether) -> None:
    time.sleep(0.05)  # a request that slipped through would have reached the agent by now
    assert served.agent.calls == []


def _post(
    served: ServedTether,
    client: httpx.Client,
    path: str,
    body: Any,
    headers: dict[str, str],
) -> httpx.Response:
    """A POST with the client's cookie but exactly these headers (no defaults merged in)."""
    return httpx.post(served.url + path, json=body, headers=headers, cookies=client.cookies)


def _wait_for(predicate: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.02)


def test_page_is_served_with_a_strict_policy(served: ServedTether) -> None:
    response = httpx.get(served.url + "/")
    assert response.status_code == 200
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "<script" in response.text and "<script>" not in response.text  # no inline script


@pytest.mark.parametrize(
    "path", ["/app.js", "/app.css", "/sw.js", "/manifest.webmanifest", "/icon-192.png"]
)
def test_static_shell_files_are_served(served: ServedTether, path: str) -> None:
    response = httpx.get(served.url + path)
    assert response.status_code == 200
    assert response.content


def test_login_sets_a_strict_http_only_cookie(served: ServedTether) -> None:
    response = httpx.post(
        served.url + "/api/login", json={"token": served.token}, headers={"origin": served.url}
    )
    assert response.status_code == 200
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=strict" in cookie
    assert "secure" not in cookie  # plain http on loopback: a Secure cookie would never be sent
    assert response.json()["csrf"]


def test_a_logged_in_message_reaches_the_agent(served: ServedTether, client: httpx.Client) -> None:
    response = client.post("/api/message", json={"chat": "main", "text": "hello there"})
    assert response.status_code == 202
    _wait_for(lambda: served.agent.calls)
    assert served.agent.calls[0].prompt == "hello there"
    assert served.agent.calls[0].session.chat_id == "web:main"


@pytest.mark.parametrize(("path", "body"), [pytest.param(p, b, id=p) for p, b in STATE_CHANGING])
def test_state_changes_without_a_session_are_refused(
    served: ServedTether, path: str, body: dict[str, Any]
) -> None:
    response = httpx.post(served.url + path, json=body, headers={"origin": served.url})
    assert response.status_code == 401
    assert "log in" in response.json()["error"]
    _nothing_ran(served)


@pytest.mark.parametrize("path", READS)
def test_reads_without_a_session_are_refused(served: ServedTether, path: str) -> None:
    response = httpx.get(served.url + path)
    assert response.status_code == 401


@pytest.mark.parametrize(
    "origin",
    [
        pytest.param(None, id="no-origin"),
        pytest.param("http://evil.example", id="other-site"),
        pytest.param("null", id="null-origin"),
        pytest.param("https://127.0.0.1:{port}", id="other-scheme"),
        pytest.param("http://127.0.0.1:1", id="other-port"),
        pytest.param("http://127.0.0.1:{port}.evil.example", id="suffix"),
        pytest.param("http://localhost:{port}", id="other-loopback-name"),
        pytest.param("http://127.0.0.1:{port}/path", id="with-path"),
    ],
)
@pytest.mark.parametrize(("path", "body"), [STATE_CHANGING[0]], ids=["message"])
def test_cross_site_messages_are_refused(
    served: ServedTether,
    client: httpx.Client,
    origin: str | None,
    path: str,
    body: dict[str, Any],
) -> None:
    headers = {"x-tether-csrf": client.headers["x-tether-csrf"]}
    if origin is not None:
        headers["origin"] = origin.format(port=served.web.port if served.web else 0)
    response = _post(served, client, path, body, headers)
    assert response.status_code == 403
    assert "cross-site" in response.json()["error"]
    _nothing_ran(served)
    entries = read_audit_log(served.config.audit_log_path)
    assert any(e["event_type"] == "web_request_refused" for e in entries)


@pytest.mark.parametrize(("path", "body"), [pytest.param(p, b, id=p) for p, b in STATE_CHANGING])
def test_every_state_change_checks_the_origin(
    served: ServedTether, client: httpx.Client, path: str, body: dict[str, Any]
) -> None:
    headers = {"x-tether-csrf": client.headers["x-tether-csrf"], "origin": "http://evil.example"}
    response = _post(served, client, path, body, headers)
    assert response.status_code == 403
    _nothing_ran(served)


@pytest.mark.parametrize(
    "csrf",
    [
        pytest.param(None, id="missing"),
        pytest.param("x" * 32, id="wrong"),
        pytest.param("", id="empty"),
    ],
)
@pytest.mark.parametrize(("path", "body"), [pytest.param(p, b, id=p) for p, b in STATE_CHANGING])
def test_state_changes_without_the_csrf_header_are_refused(
    served: ServedTether, client: httpx.Client, csrf: str | None, path: str, body: dict[str, Any]
) -> None:
    headers = {"origin": served.url}
    if csrf is not None:
        headers["x-tether-csrf"] = csrf
    response = _post(served, client, path, body, headers)
    assert response.status_code == 403
    assert "x-tether-csrf" in response.json()["error"]
    _nothing_ran(served)


@pytest.mark.parametrize(
    ("body", "status", "names"),
    [
        pytest.param({"chat": "main"}, 422, "text", id="missing-text"),
        pytest.param({"chat": "main", "text": 5}, 422, "text", id="text-not-string"),
        pytest.param({"chat": "main", "text": ["a"]}, 422, "text", id="text-list"),
        pytest.param({"chat": "main", "text": ""}, 422, "text", id="empty-text"),
        pytest.param({"chat": "main", "text": "x" * 16_001}, 422, "text", id="text-too-long"),
        pytest.param({"chat": "../etc", "text": "hi"}, 422, "chat", id="chat-path"),
        pytest.param({"chat": "a:b", "text": "hi"}, 422, "chat", id="chat-colon"),
        pytest.param({"chat": "x" * 33, "text": "hi"}, 422, "chat", id="chat-too-long"),
        pytest.param({"chat": 1, "text": "hi"}, 422, "chat", id="chat-number"),
        pytest.param({"chat": "main", "text": "hi", "local": False}, 422, "local", id="extra"),
        pytest.param(["main", "hi"], 422, "object", id="array"),
    ],
)
def test_bad_messages_are_refused_with_the_field_named(
    served: ServedTether, client: httpx.Client, body: Any, status: int, names: str
) -> None:
    response = client.post("/api/message", json=body)
    assert response.status_code == status
    assert names in response.json()["error"]
    _nothing_ran(served)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"approval_id": "abc"}, id="missing-choice"),
        pytest.param({"approval_id": "abc", "choice": "yes"}, id="unknown-choice"),
        pytest.param({"approval_id": "abc", "choice": True}, id="choice-bool"),
        pytest.param({"approval_id": "a b", "choice": "approve"}, id="id-space"),
        pytest.param({"approval_id": "a" * 65, "choice": "approve"}, id="id-too-long"),
        pytest.param(
            {"approval_id": "a", "choice": "reject", "reason": "r" * 501}, id="reason-long"
        ),
        pytest.param({"approval_id": "a", "choice": "reject", "reason": 3}, id="reason-number"),
    ],
)
def test_bad_approval_answers_are_refused(
    served: ServedTether, client: httpx.Client, body: dict[str, Any]
) -> None:
    response = client.post("/api/approval", json=body)
    assert response.status_code == 422
    assert response.json()["error"]


def test_an_unknown_approval_is_not_found(client: httpx.Client) -> None:
    response = client.post("/api/approval", json={"approval_id": "nosuch", "choice": "approve"})
    assert response.status_code == 404
    assert "unknown" in response.json()["outcome"]


@pytest.mark.parametrize(
    ("content", "content_type", "status"),
    [
        pytest.param(b"x" * (64 * 1024 + 1), "application/json", 413, id="oversized"),
        pytest.param(b"{not json", "application/json", 400, id="not-json"),
        pytest.param(b'{"chat": "main", "text": "hi"}', "text/plain", 415, id="wrong-type"),
        pytest.param(b"[" * 100_000 + b"]" * 100_000, "application/json", 413, id="deep"),
        pytest.param(b"[" * 5000 + b"]" * 5000, "application/json", 400, id="nested-deep"),
    ],
)
def test_bodies_are_bounded_and_parsed_strictly(
    served: ServedTether, client: httpx.Client, content: bytes, content_type: str, status: int
) -> None:
    response = client.post("/api/message", content=content, headers={"content-type": content_type})
    assert response.status_code == status
    assert response.json()["error"]
    _nothing_ran(served)


def test_an_oversized_body_without_a_length_is_cut_off(
    served: ServedTether, client: httpx.Client
) -> None:
    def chunks() -> Any:
        for _ in range(100):
            yield b"x" * 4096

    response = client.post(
        "/api/message", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    _nothing_ran(served)


@pytest.mark.parametrize(
    "query", ["chat=", "chat=../x", "chat=" + "x" * 40, "", "chat=a%00b"], ids=str
)
def test_session_view_refuses_a_bad_chat(client: httpx.Client, query: str) -> None:
    response = client.get("/api/session?" + query)
    assert response.status_code == 422
    assert "chat" in response.json()["error"]


@pytest.mark.parametrize("limit", ["0", "-1", "201", "abc", "1e3"])
def test_audit_view_refuses_a_bad_limit(client: httpx.Client, limit: str) -> None:
    response = client.get(f"/api/audit?limit={limit}")
    assert response.status_code == 422
    assert "limit" in response.json()["error"]


@pytest.mark.parametrize(
    "host",
    [
        pytest.param("evil.example", id="rebinding-name"),
        pytest.param("evil.example:{port}", id="rebinding-name-port"),
        pytest.param("127.0.0.1.evil.example", id="suffix"),
        pytest.param("", id="empty"),
        pytest.param("user@127.0.0.1", id="userinfo"),
    ],
)
def test_an_unknown_host_is_refused_before_anything_else(served: ServedTether, host: str) -> None:
    port = served.web.port if served.web else 0
    response = httpx.get(served.url + "/", headers={"host": host.format(port=port)})
    assert response.status_code in (400, 421)
    response = httpx.post(
        served.url + "/api/login",
        json={"token": served.token},
        headers={"host": host.format(port=port), "origin": served.url},
    )
    assert response.status_code in (400, 421)
    assert "set-cookie" not in response.headers


def test_a_session_works_over_a_tunnel_on_another_local_port(served: ServedTether) -> None:
    """`ssh -L 9000:127.0.0.1:8765`: the browser says localhost:9000, and that is fine."""
    tunnel = "localhost:9000"
    response = httpx.post(
        served.url + "/api/login",
        json={"token": served.token},
        headers={"host": tunnel, "origin": f"http://{tunnel}"},
    )
    assert response.status_code == 200


def test_logout_ends_the_session(served: ServedTether, client: httpx.Client) -> None:
    assert client.post("/api/logout", json={}).status_code == 200
    assert client.get("/api/state").status_code == 401


def test_the_websocket_refuses_a_foreign_origin(served: ServedTether, client: httpx.Client) -> None:
    csrf = client.headers["x-tether-csrf"]
    handshake = {
        "connection": "Upgrade",
        "upgrade": "websocket",
        "sec-websocket-version": "13",
        "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
        "origin": "http://evil.example",
    }
    response = client.get(f"/api/events?chat=main&csrf={csrf}", headers=handshake)
    assert response.status_code == 403


def test_the_session_view_lists_this_chats_sessions(
    served: ServedTether, client: httpx.Client
) -> None:
    def send(text: str) -> None:
        assert (
            client.post("/api/message", json={"chat": "history", "text": text}).status_code == 202
        )

    send("first question")
    _wait_for(lambda: len(served.agent.calls) == 1)
    _wait_for(lambda: client.get("/api/session?chat=history").json()["history"])
    send("/clear")
    _wait_for(lambda: len(client.get("/api/session?chat=history").json()["sessions"]) == 2)
    send("second question")
    _wait_for(lambda: len(served.agent.calls) == 2)
    _wait_for(lambda: client.get("/api/session?chat=history").json()["history"])
    view = client.get("/api/session?chat=history").json()
    assert [row["current"] for row in view["sessions"]] == [True, False]
    assert view["session"]["session_id"] == view["sessions"][0]["session_id"]
    assert view["history"][0]["prompt"] == "second question"
    other = client.get("/api/session?chat=elsewhere").json()
    assert other == {"session": None, "history": [], "sessions": []}
