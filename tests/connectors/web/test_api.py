"""Every endpoint, fed bad input: a clear 4xx, nothing executed, nothing lost.

The server is real (uvicorn on loopback) and so is the engine; only the agent
is the in-process script, which records every prompt it is given.
"""

from __future__ import annotations

import time
import uuid
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


@pytest.fixture
def chat(client: httpx.Client) -> Iterator[str]:
    """A chat of its own (the server is shared by the module); its request is cancelled after."""
    name = f"t{uuid.uuid4().hex[:12]}"
    yield name
    client.post("/api/cancel", json={"chat": name})


def _pending(served: ServedTether, client: httpx.Client, chat: str, prompt: str) -> dict[str, Any]:
    """Send `prompt` in `chat`; the request it raises (an approval, questions, a plan)."""
    assert client.post("/api/message", json={"chat": chat, "text": prompt}).status_code == 202
    assert served.web is not None
    hub = served.web.hub

    def waiting() -> list[dict[str, Any]]:
        return [
            a
            for a in hub.snapshot(f"web:{chat}")["approvals"]
            if a["state"] == "pending" and a["chat"] == f"web:{chat}"
        ]

    _wait_for(waiting)
    return waiting()[0]


def _answer(client: httpx.Client, approval: dict[str, Any], **body: Any) -> httpx.Response:
    return client.post("/api/approval", json={"approval_id": approval["approval_id"], **body})


@pytest.mark.parametrize(
    ("prompt", "body", "names"),
    [
        pytest.param(
            "write it",
            {"choice": "option", "question": 0, "option": 0},
            "choice",
            id="option-on-approval",
        ),
        pytest.param(
            "write it", {"choice": "approve_edit"}, "choice", id="plan-answer-on-approval"
        ),
        pytest.param("plan it", {"choice": "always"}, "choice", id="always-on-plan"),
        pytest.param("ask it", {"choice": "approve"}, "choice", id="approve-on-questions"),
        pytest.param(
            "ask it",
            {"choice": "option", "question": 2, "option": 0},
            "question",
            id="no-such-question",
        ),
        pytest.param(
            "ask it",
            {"choice": "option", "question": 0, "option": 2},
            "option",
            id="no-such-option",
        ),
        pytest.param("ask it", {"choice": "option", "question": 0}, "option", id="option-missing"),
        pytest.param(
            "ask it", {"choice": "answer", "question": 0, "text": "   "}, "text", id="blank-words"
        ),
        pytest.param("ask it", {"choice": "done"}, "question", id="done-without-question"),
    ],
)
def test_an_answer_that_does_not_fit_the_request_changes_nothing(
    served: ServedTether,
    client: httpx.Client,
    chat: str,
    prompt: str,
    body: dict[str, Any],
    names: str,
) -> None:
    approval = _pending(served, client, chat, prompt)
    response = _answer(client, approval, **body)
    assert response.status_code == 422
    assert response.json()["outcome"].startswith(names)
    assert served.web is not None
    assert served.web.hub.approval(approval["approval_id"])["state"] == "pending"
    assert served.agent.calls[-1].decisions == []


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"choice": "option", "question": -1, "option": 0}, id="negative-question"),
        pytest.param({"choice": "option", "question": "0", "option": 0}, id="question-text"),
        pytest.param({"choice": "option", "question": 0.0, "option": 0}, id="question-float"),
        pytest.param({"choice": "answer", "question": 0, "text": "t" * 1001}, id="text-long"),
        pytest.param({"choice": "always", "scope": 0}, id="scope-zero"),
        pytest.param({"choice": "always", "scope": True}, id="scope-bool"),
        pytest.param({"choice": "always", "remember": "yes"}, id="remember-text"),
        pytest.param({"choice": "approve", "extra": 1}, id="unknown-field"),
    ],
)
def test_badly_typed_answers_are_refused_by_field(
    served: ServedTether, client: httpx.Client, body: dict[str, Any]
) -> None:
    response = client.post("/api/approval", json={"approval_id": "abc", **body})
    assert response.status_code == 422
    assert response.json()["error"]


def test_questions_are_answered_one_by_one_and_the_answers_reach_the_agent(
    served: ServedTether, client: httpx.Client, chat: str
) -> None:
    approval = _pending(served, client, chat, "ask which tools")
    assert [q["question"] for q in approval["questions"]] == [
        "Which package manager should I use?",
        "Which checks should run in CI?",
    ]
    first = _answer(client, approval, choice="answer", question=0, text="poetry, sadly")
    assert first.status_code == 202 and first.json()["outcome"].startswith(
        "Noted (1 of 2 answered)"
    )
    assert served.web is not None
    assert served.web.hub.approval(approval["approval_id"])["answered"] == {
        "0": first.json()["outcome"]
    }
    for option in (0, 2):
        picked = _answer(client, approval, choice="option", question=1, option=option)
        assert picked.status_code == 202 and picked.json()["outcome"].startswith("Selected:")
    done = _answer(client, approval, choice="done", question=1)
    assert done.status_code == 200 and done.json()["outcome"].startswith("✅ Answered")
    _wait_for(lambda: served.agent.calls[-1].decisions)
    decision = served.agent.calls[-1].decisions[-1][1]
    assert decision.allowed
    assert decision.updated_input["answers"] == {
        "Which package manager should I use?": "poetry, sadly",
        "Which checks should run in CI?": "tests, lint",
    }
    again = _answer(client, approval, choice="option", question=0, option=0)
    assert again.status_code == 409


def test_keep_planning_sends_the_feedback_to_the_agent(
    served: ServedTether, client: httpx.Client, chat: str
) -> None:
    approval = _pending(served, client, chat, "plan the greeting")
    assert approval["kind"] == "plan" and "greet(name)" in approval["plan"]
    response = _answer(client, approval, choice="keep_planning", reason="test it first")
    assert response.status_code == 200, response.text
    _wait_for(lambda: served.agent.calls[-1].decisions)
    decision = served.agent.calls[-1].decisions[-1][1]
    assert not decision.allowed
    assert decision.reason is not None and "test it first" in decision.reason


def test_always_offers_scopes_on_the_page_and_learns_the_chosen_one(
    served: ServedTether, client: httpx.Client, chat: str
) -> None:
    approval = _pending(served, client, chat, "deploy the site")
    early = _answer(client, approval, choice="always", scope=1)
    assert early.status_code == 409  # no scope is offered before Always
    assert _answer(client, approval, choice="always").status_code == 200
    assert served.web is not None
    hub = served.web.hub
    _wait_for(lambda: hub.approval(approval["approval_id"]).get("scopes"))
    scopes = hub.approval(approval["approval_id"])["scopes"]
    assert "make deploy" in scopes[0]
    beyond = _answer(client, approval, choice="always", scope=len(scopes) + 1)
    assert beyond.status_code == 422
    learned = _answer(client, approval, choice="always", scope=1)
    assert learned.status_code == 200 and "Learned" in learned.json()["outcome"], learned.text
    assert hub.approval(approval["approval_id"])["scopes"] is None
    assert served.engine is not None
    assert [r.chat_id for r in served.engine.gatekeeper.learned.rules(f"web:{chat}")] == [
        f"web:{chat}"
    ]


@pytest.mark.parametrize(
    ("session", "status"),
    [
        pytest.param("../../etc", 422, id="path"),
        pytest.param("a" * 65, 422, id="too-long"),
        pytest.param("", 422, id="empty"),
        pytest.param("0123456789abcdef", 404, id="not-this-chat-s"),
    ],
)
def test_an_earlier_session_is_read_only_from_its_own_chat(
    served: ServedTether, client: httpx.Client, chat: str, session: str, status: int
) -> None:
    response = client.get(f"/api/session?chat={chat}&session={session}")
    assert response.status_code == status


def test_keep_planning_without_feedback_takes_the_next_message_as_it(
    served: ServedTether, client: httpx.Client, chat: str
) -> None:
    approval = _pending(served, client, chat, "plan the greeting")
    response = _answer(client, approval, choice="keep_planning")
    assert response.status_code == 202
    assert "next message" in response.json()["outcome"]
    assert served.web is not None
    assert served.web.hub.approval(approval["approval_id"])["state"] == "pending"
    sent = client.post("/api/message", json={"chat": chat, "text": "split it in two steps"})
    assert sent.status_code == 202
    _wait_for(lambda: served.agent.calls[-1].decisions)
    decision = served.agent.calls[-1].decisions[-1][1]
    assert not decision.allowed
    assert decision.reason is not None and "split it in two steps" in decision.reason
