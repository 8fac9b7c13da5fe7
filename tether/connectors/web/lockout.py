"""Failed logins back off exponentially per client address, up to 15 minutes.

After the n-th failure in a row an address waits 2**(n-1) seconds (1, 2, 4, …)
before it may try again, capped at `MAX_LOCK_SECONDS`. A success clears the
address. Guessing a 256-bit token is hopeless anyway; the lock makes a flood
of attempts cheap for Tether and visible in the audit log.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["MAX_LOCK_SECONDS", "LoginLimiter"]

MAX_LOCK_SECONDS = 900.0
_REMEMBERED = 4096


@dataclass
class _Failures:
    count: int
    locked_until: float


class LoginLimiter:
    """Tracks failed logins per address; bounded (the oldest addresses are forgotten)."""

    def __init__(
        self,
        *,
        base_seconds: float = 1.0,
        max_seconds: float = MAX_LOCK_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._base = base_seconds
        self._max = max_seconds
        self._clock = clock
        self._failures: OrderedDict[str, _Failures] = OrderedDict()

    def retry_after(self, address: str) -> float:
        """Seconds until `address` may try again (0: it may try now)."""
        entry = self._failures.get(address)
        if entry is None:
            return 0.0
        return max(0.0, entry.locked_until - self._clock())

    def failed(self, address: str) -> tuple[int, float]:
        """Record a failure; returns the failures in a row and the new lock in seconds."""
        entry = self._failures.pop(address, None)
        count = 1 if entry is None else entry.count + 1
        # Past 2**30 the float would only grow; the cap applies long before.
        lock = min(self._base * 2 ** min(count - 1, 30), self._max)
        self._failures[address] = _Failures(count, self._clock() + lock)
        while len(self._failures) > _REMEMBERED:
            self._failures.popitem(last=False)
        return count, lock

    def succeeded(self, address: str) -> None:
        self._failures.pop(address, None)
