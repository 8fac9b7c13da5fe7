"""Failed logins back off exponentially per address, capped at 15 minutes, and are audited."""

from __future__ import annotations

import httpx
import pytest

from tests.connectors.web.support import ServedTether
from tether.connectors.web.lockout import MAX_LOCK_SECONDS, LoginLimiter
from tether.core.safety.audit import read_audit_log


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_each_failure_doubles_the_wait_up_to_the_cap() -> None:
    clock = Clock()
    limiter = LoginLimiter(clock=clock)
    locks = [limiter.failed("10.0.0.1")[1] for _ in range(14)]
    assert locks[:5] == [1, 2, 4, 8, 16]
    assert max(locks) == MAX_LOCK_SECONDS == 900
    assert locks[-1] == 900


def test_the_lock_ends_after_its_time() -> None:
    clock = Clock()
    limiter = LoginLimiter(clock=clock)
    limiter.failed("a")
    limiter.failed("a")
    assert limiter.retry_after("a") == pytest.approx(2)
    clock.now += 2
    assert limiter.retry_after("a") == 0


def test_addresses_are_locked_separately_and_success_clears() -> None:
    limiter = LoginLimiter(clock=Clock())
    limiter.failed("a")
    assert limiter.retry_after("b") == 0
    limiter.succeeded("a")
    assert limiter.retry_after("a") == 0


def test_a_flood_of_addresses_stays_bounded() -> None:
    limiter = LoginLimiter(clock=Clock())
    for index in range(10_000):
        limiter.failed(f"10.{index // 256}.{index % 256}.1")
    assert len(limiter._failures) <= 4096


def test_wrong_token_is_refused_then_locked_out_even_with_the_right_one(
    served: ServedTether,
) -> None:
    headers = {"origin": served.url}
    wrong = httpx.post(served.url + "/api/login", json={"token": "guess"}, headers=headers)
    assert wrong.status_code == 401
    assert wrong.json()["error"] == "wrong access token"
    locked = httpx.post(served.url + "/api/login", json={"token": served.token}, headers=headers)
    assert locked.status_code == 429
    assert int(locked.headers["retry-after"]) >= 1
    assert "set-cookie" not in locked.headers
    kinds = [e["event_type"] for e in read_audit_log(served.config.audit_log_path)]
    assert "web_login_failed" in kinds
    assert "web_login_locked" in kinds
