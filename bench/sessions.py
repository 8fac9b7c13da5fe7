"""What sessions, storage and middleware add to each message.

Per message the engine runs the middleware chain (auth, rate limit), gets the
chat's session and records the exchange. This times those steps alone:

- the middleware chain for an allowed user (no refusal, no audit write);
- `get_or_create` + `record_message` on the memory and the SQLite store, for
  one chat at a time, and for 100 chats at once (messages per second).

Each figure is the median over 5 rounds; latencies are p50 and p99 per message.

    python bench/sessions.py
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from tether.agents.base import AgentResponse
from tether.core.safety.audit import AuditLogger
from tether.core.session import SessionManager
from tether.log import configure_logging
from tether.middleware.auth import AuthMiddleware
from tether.middleware.base import MessageContext, MiddlewareChain
from tether.middleware.rate_limit import RateLimitMiddleware
from tether.storage.base import SessionStore
from tether.storage.memory import MemorySessionStore
from tether.storage.sqlite import SqliteSessionStore

ROUNDS = 5
MESSAGES = 500
CHATS = 100
RESPONSE = AgentResponse(
    content="done", session_id="claude-1", cost=0.01, duration_ms=900, tools_used=("Read",)
)


def _percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def _middleware_round(directory: Path) -> list[float]:
    audit = AuditLogger(directory / "audit.jsonl")
    chain = MiddlewareChain([AuthMiddleware((1,), audit), RateLimitMiddleware(10**9, 10**9, audit)])
    context = MessageContext(user_id=1, chat_id=1, text="run the tests")
    samples = []
    for _ in range(MESSAGES):
        start = time.perf_counter()
        await chain.check(context)
        samples.append(time.perf_counter() - start)
    await audit.close()
    return samples


async def _one_chat_round(make_store: Callable[[], SessionStore], directory: Path) -> list[float]:
    store = make_store()
    await store.initialize()
    manager = SessionManager(store, default_directory=directory)
    samples = []
    for _ in range(MESSAGES):
        start = time.perf_counter()
        session = await manager.get_or_create(1, 1)
        await manager.record_message(session, "run the tests", response=RESPONSE)
        samples.append(time.perf_counter() - start)
    await store.close()
    return samples


async def _many_chats_round(make_store: Callable[[], SessionStore], directory: Path) -> float:
    store = make_store()
    await store.initialize()
    manager = SessionManager(store, default_directory=directory)
    per_chat = MESSAGES // CHATS

    async def chat(chat_id: int) -> None:
        for _ in range(per_chat):
            session = await manager.get_or_create(chat_id, chat_id)
            await manager.record_message(session, "run the tests", response=RESPONSE)

    start = time.perf_counter()
    await asyncio.gather(*(chat(n) for n in range(CHATS)))
    elapsed = time.perf_counter() - start
    await store.close()
    return per_chat * CHATS / elapsed


async def main() -> None:
    with tempfile.TemporaryDirectory() as temp:
        base = Path(temp)
        counter = iter(range(10**6))

        def memory() -> SessionStore:
            return MemorySessionStore()

        def sqlite() -> SessionStore:
            return SqliteSessionStore(base / f"bench-{next(counter)}.db")

        p50s, p99s = [], []
        for n in range(ROUNDS):
            round_dir = base / f"mw-{n}"
            round_dir.mkdir()
            samples = await _middleware_round(round_dir)
            p50s.append(_percentile(samples, 0.5))
            p99s.append(_percentile(samples, 0.99))
        p50, p99 = statistics.median(p50s) * 1e6, statistics.median(p99s) * 1e6
        print(f"middleware (auth + rate limit, allowed): p50 {p50:.1f} µs, p99 {p99:.1f} µs")

        for name, make_store in (("memory", memory), ("sqlite", sqlite)):
            p50s, p99s, rates = [], [], []
            for _ in range(ROUNDS):
                samples = await _one_chat_round(make_store, base)
                p50s.append(_percentile(samples, 0.5))
                p99s.append(_percentile(samples, 0.99))
                rates.append(await _many_chats_round(make_store, base))
            print(
                f"{name:>6}: get_or_create + record_message, 1 chat: "
                f"p50 {statistics.median(p50s) * 1e6:.0f} µs, "
                f"p99 {statistics.median(p99s) * 1e6:.0f} µs; "
                f"{CHATS} chats at once: {statistics.median(rates):,.0f} messages/s"
            )


if __name__ == "__main__":
    configure_logging("WARNING")
    asyncio.run(main())
