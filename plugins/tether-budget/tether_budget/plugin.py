"""BudgetPlugin: watches what requests cost, asks before every call past a limit."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date
from pathlib import Path

import structlog
from pydantic import BaseModel

from tether.plugins import (
    MESSAGE_OUT,
    CommandCall,
    Event,
    GateCall,
    PluginContext,
    PluginEventBus,
    PluginMeta,
    SlashCommand,
    TetherPlugin,
    Tighten,
    hook,
)
from tether_budget.ledger import Change, Ledger, LedgerState, utc_today
from tether_budget.ledger_file import LedgerFileError, read_ledger
from tether_budget.saver import LedgerSaver
from tether_budget.settings import BudgetSettings

__all__ = ["EXCEEDED", "RESET", "BudgetPlugin"]

EXCEEDED = "plugin.budget.exceeded"
"""Emitted once when a limit is crossed: `reason`, `spent_usd`."""

RESET = "plugin.budget.reset"
"""Emitted when someone resets the budget with `/budget reset`: `user_id`, `chat_id`."""

logger = structlog.get_logger(__name__)


_SHOWN_PATH_CHARS = 120
"""A path in a reason or a reply is cut to its end past this: Tether bounds both
(a gate hook's reason and a command's reply, 500 characters each)."""


def _shown(path: Path) -> str:
    text = str(path)
    return text if len(text) <= _SHOWN_PATH_CHARS else "…" + text[-_SHOWN_PATH_CHARS:]


def _reason_limit() -> int:
    for constraint in Tighten.model_fields["reason"].metadata:
        limit = getattr(constraint, "max_length", None)
        if isinstance(limit, int):
            return limit
    return 500


_REASON_LIMIT = _reason_limit()
"""The longest reason a `Tighten` takes: a longer one would fail the hook."""


class BudgetPlugin(TetherPlugin):
    """A daily and a per-request spending limit, from the cost the agent reports.

    It watches `message.out` (each request's cost) and, once a limit is
    crossed, its gate hook asks a person before every further tool call. A
    limit crossed during a request takes effect from the next gated call where
    the cost so far is known, otherwise (Claude Code reports the cost when the
    request ends) from the next request. `/budget` shows the spending,
    `/budget reset` clears it.

    The ledger is read from its file (`ledger_path`) at start-up and saved
    there after every change, off the event loop. A file that cannot be read
    as a ledger fails closed: the budget counts as crossed, saying why, until
    `/budget reset` (or the next UTC day) starts over, and the file is left
    as it was until then. A file that cannot be written is logged and shown
    by `/budget`; the ledger in memory goes on.
    """

    meta = PluginMeta(
        name="budget",
        version="0.1.0",
        description="Daily and per-request spending limits; past one, every tool call asks",
    )

    def __init__(self, *, today: Callable[[], date] = utc_today) -> None:
        self._today = today
        self._ledger: Ledger | None = None
        self._saver: LedgerSaver | None = None
        self._keep_file = False
        self._bus: PluginEventBus | None = None

    @hook
    def settings(self) -> type[BaseModel]:
        return BudgetSettings

    async def initialize(self, context: PluginContext) -> None:
        settings = context.settings
        if not isinstance(settings, BudgetSettings):
            settings = BudgetSettings()  # registered without Tether's settings hook run
        self._saver = LedgerSaver(settings.ledger_path)
        state = await self._load(settings)
        self._ledger = Ledger(settings, self._today, state=state, on_change=self._changed)
        if isinstance(context.event_bus, PluginEventBus):
            self._bus = context.event_bus
        context.event_bus.subscribe(MESSAGE_OUT, self._on_reply)

    async def stop(self) -> None:
        if self._saver is not None:
            await self._saver.flush()

    async def _load(self, settings: BudgetSettings) -> LedgerState | None:
        path = settings.ledger_path
        try:
            return await asyncio.to_thread(read_ledger, path)
        except LedgerFileError as error:
            logger.warning("budget_ledger_unreadable", path=str(path), error=str(error))
            # Fail closed: what was spent today is unknown. The file stays as it
            # is (for a person to look at) until a reset or a new day replaces it.
            self._keep_file = True
            reason = (
                f"the budget ledger at {_shown(path)} could not be read: {error}; "
                "/budget reset starts over"
            )
            return LedgerState(
                version=1, day=self._today(), spent_usd=0.0, requests=0, crossed=reason
            )

    def _changed(self, state: LedgerState, change: Change) -> None:
        if self._keep_file:
            if change == "record":
                return
            self._keep_file = False
        if self._saver is not None:
            self._saver.submit(state)

    @property
    def ledger(self) -> Ledger | None:
        return self._ledger

    @property
    def saver(self) -> LedgerSaver | None:
        """Where the ledger is saved, and why the last save failed, if it did."""
        return self._saver

    async def _on_reply(self, event: Event) -> None:
        if self._ledger is None:
            return
        crossed = self._ledger.record(event.data.get("cost"))
        if crossed is not None and self._bus is not None:
            await self._bus.emit(
                Event(name=EXCEEDED, data={"reason": crossed, "spent_usd": self._ledger.spent})
            )

    @hook
    async def gate(self, call: GateCall) -> Tighten | None:
        if self._ledger is None:
            return None
        reason = self._ledger.blocking(call.request_cost)
        if reason is None:
            return None
        text = f"Over budget: {reason}"
        if len(text) > _REASON_LIMIT:
            text = text[: _REASON_LIMIT - 1] + "…"
        return Tighten(action="ask", reason=text)

    @hook
    def commands(self) -> list[SlashCommand]:
        return [
            SlashCommand(
                name="budget",
                help="Spending today and the limits; /budget reset clears them",
                handler=self._command,
            )
        ]

    async def _command(self, call: CommandCall) -> str:
        if self._ledger is None:
            return "The budget is not running."
        if call.args[:1] == ("reset",):
            self._ledger.reset()
            if self._bus is not None:
                data = {"user_id": call.user_id, "chat_id": call.chat_id}
                await self._bus.emit(Event(name=RESET, data=data))
            return "💰 Budget reset: today's spending is $0 and tool calls no longer ask for it."
        if call.args:
            return "Usage: /budget, or /budget reset"
        return f"{self._ledger.summary()}\n{self._where_saved()}"

    def _where_saved(self) -> str:
        saver = self._saver
        if saver is None:
            return "Ledger: not saved"
        if self._keep_file:
            return "Ledger: left as it is until /budget reset"
        if saver.error is not None:
            return (
                f"Ledger: ⚠️ not saved to {_shown(saver.path)} ({saver.error}); "
                "a restart would forget today's spending"
            )
        return f"Ledger: {_shown(saver.path)}"
