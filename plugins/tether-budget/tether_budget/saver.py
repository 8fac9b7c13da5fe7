"""Saving the ledger off the event loop: the latest state wins, one write at a time."""

from __future__ import annotations

import asyncio
from pathlib import Path

import structlog

from tether_budget.ledger import LedgerState
from tether_budget.ledger_file import write_ledger

__all__ = ["LedgerSaver"]

logger = structlog.get_logger(__name__)


class LedgerSaver:
    """Writes the ledger's latest state to its file in a worker thread.

    `submit` returns at once; the write (an fsync) happens in a thread, so a
    slow disk never holds up the gate. Writes never overlap: states submitted
    while one is being written are folded into one write of the newest. A
    write that fails is logged (`budget_ledger_not_saved`, once until one
    succeeds again, `budget_ledger_saved_again`) and remembered in `error`;
    nothing is raised: the ledger in memory stays right.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.error: str | None = None
        """Why the last write failed; None once one succeeds."""
        self._pending: LedgerState | None = None
        self._task: asyncio.Task[None] | None = None

    def submit(self, state: LedgerState) -> None:
        """Save `state` soon (called from the event loop)."""
        self._pending = state
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._drain())

    async def flush(self) -> None:
        """Wait until every state submitted so far is written (or has failed)."""
        while self._task is not None and not self._task.done():
            await asyncio.shield(self._task)

    async def _drain(self) -> None:
        while self._pending is not None:
            state, self._pending = self._pending, None
            try:
                await asyncio.to_thread(write_ledger, self.path, state)
            except OSError as error:
                reason = f"{error.strerror or type(error).__name__}"
                if self.error is None:
                    logger.warning("budget_ledger_not_saved", path=str(self.path), error=reason)
                self.error = reason
            else:
                if self.error is not None:
                    logger.info("budget_ledger_saved_again", path=str(self.path))
                self.error = None
