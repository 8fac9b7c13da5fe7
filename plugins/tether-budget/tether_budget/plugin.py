"""BudgetPlugin: watches what requests cost, asks before every call past a limit."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

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
from tether_budget.ledger import BudgetSettings, Ledger, utc_today

__all__ = ["EXCEEDED", "RESET", "BudgetPlugin"]

EXCEEDED = "plugin.budget.exceeded"
"""Emitted once when a limit is crossed: `reason`, `spent_usd`."""

RESET = "plugin.budget.reset"
"""Emitted when someone resets the budget with `/budget reset`: `user_id`, `chat_id`."""


class BudgetPlugin(TetherPlugin):
    """A daily and a per-request spending limit, from the cost the agent reports.

    It watches `message.out` (each request's cost) and, once a limit is
    crossed, its gate hook asks a person before every further tool call. A
    limit crossed during a request takes effect from the next gated call where
    the cost so far is known, otherwise (Claude Code reports the cost when the
    request ends) from the next request. `/budget` shows the spending,
    `/budget reset` clears it.
    """

    meta = PluginMeta(
        name="budget",
        version="0.1.0",
        description="Daily and per-request spending limits; past one, every tool call asks",
    )

    def __init__(self, *, today: Callable[[], date] = utc_today) -> None:
        self._today = today
        self._ledger: Ledger | None = None
        self._bus: PluginEventBus | None = None

    @hook
    def settings(self) -> type[BaseModel]:
        return BudgetSettings

    async def initialize(self, context: PluginContext) -> None:
        settings = context.settings
        if not isinstance(settings, BudgetSettings):
            settings = BudgetSettings()  # registered without Tether's settings hook run
        self._ledger = Ledger(settings, self._today)
        if isinstance(context.event_bus, PluginEventBus):
            self._bus = context.event_bus
        context.event_bus.subscribe(MESSAGE_OUT, self._on_reply)

    @property
    def ledger(self) -> Ledger | None:
        return self._ledger

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
        return Tighten(action="ask", reason=f"Over budget: {reason}")

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
        return self._ledger.summary()
