"""The hub: bounded conversations, a snapshot for each new page, slow pages dropped."""

from __future__ import annotations

import json

from tether.connectors.web.hub import MAX_CHATS, MAX_ENTRIES, MAX_TEXT, Hub


def _drain(queue: object) -> list[dict[str, object] | None]:
    events = []
    while not queue.empty():  # type: ignore[attr-defined]
        item = queue.get_nowait()  # type: ignore[attr-defined]
        events.append(None if item is None else json.loads(item))
    return events


async def test_a_new_page_gets_a_snapshot_then_changes() -> None:
    hub = Hub()
    entry = hub.add_entry("web:a", {"kind": "reply", "text": "Hel", "done": False})
    page = hub.connect("web:a")
    hub.append_text("web:a", entry["id"], "lo")
    events = _drain(page.queue)
    assert events[0] is not None and events[0]["type"] == "snapshot"
    assert events[0]["entries"][0]["text"] == "Hel"  # as it was when the page connected
    assert events[1] == {"type": "append", "id": entry["id"], "text": "lo"}


async def test_pages_see_only_their_chat_but_every_approval() -> None:
    hub = Hub()
    a, b = hub.connect("web:a"), hub.connect("web:b")
    _drain(a.queue), _drain(b.queue)
    hub.add_entry("web:a", {"kind": "user", "text": "hi"})
    hub.add_approval({"approval_id": "x", "chat": "web:a", "state": "pending"})
    assert [e["type"] for e in _drain(a.queue) if e] == ["entry", "approval"]
    assert [e["type"] for e in _drain(b.queue) if e] == ["approval"]


async def test_conversations_and_chats_are_bounded() -> None:
    hub = Hub()
    for index in range(MAX_ENTRIES + 50):
        hub.add_entry("web:a", {"kind": "user", "text": str(index)})
    assert len(hub.snapshot("web:a")["entries"]) == MAX_ENTRIES
    for index in range(MAX_CHATS + 10):
        hub.add_entry(f"web:c{index}", {"kind": "user", "text": "x"})
    assert hub.snapshot("web:a")["entries"] == []  # the chat idle longest was forgotten


async def test_a_busy_chat_is_never_forgotten() -> None:
    hub = Hub()
    hub.set_busy("web:busy", +1)
    hub.add_entry("web:busy", {"kind": "user", "text": "working"})
    for index in range(MAX_CHATS + 10):
        hub.add_entry(f"web:c{index}", {"kind": "user", "text": "x"})
    assert hub.snapshot("web:busy")["entries"]


async def test_a_page_that_cannot_keep_up_is_dropped_not_waited_for() -> None:
    hub = Hub()
    slow = hub.connect("web:a")
    for index in range(2000):
        hub.add_entry("web:a", {"kind": "user", "text": str(index)})
    assert slow.dropped
    events = _drain(slow.queue)
    assert events[-1] is None  # the sender closes the socket; the page reconnects


async def test_settling_twice_keeps_the_first_outcome() -> None:
    hub = Hub()
    hub.add_approval({"approval_id": "x", "chat": "web:a", "state": "pending"})
    hub.settle_approval("x", "✅ Approved by you")
    hub.settle_approval("x", "🛑 Cancelled — denied.")
    approval = hub.approval("x")
    assert approval is not None and approval["outcome"] == "✅ Approved by you"


async def test_a_huge_reply_is_kept_bounded_however_it_arrives() -> None:
    hub = Hub()
    entry = hub.add_entry("web:a", {"kind": "reply", "text": "x" * (MAX_TEXT + 10)})
    assert len(hub.snapshot("web:a")["entries"][0]["text"]) <= MAX_TEXT
    streamed = hub.add_entry("web:a", {"kind": "reply", "text": ""})
    for _ in range(30):
        hub.append_text("web:a", streamed["id"], "y" * 5000)
    hub.update_entry("web:a", entry["id"], text="z" * (MAX_TEXT * 2))
    for kept in hub.snapshot("web:a")["entries"]:
        assert len(kept["text"]) <= MAX_TEXT
        assert kept["text"].endswith("the page keeps)")
