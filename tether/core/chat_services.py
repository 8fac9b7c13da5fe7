"""ChatServices: the `CommandServices` that `build_engine()` gives slash commands.

Each method is one call on a collaborator (sessions, the gate's learned rules,
the audit log, the plugin registry and the bus's counters, the chats' requests); the class exists so
that a command sees these few operations instead of the engine.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from tether.core.chat_requests import ChatRequests
from tether.core.events import EventBus
from tether.core.safety.audit import AuditLogger
from tether.core.safety.gatekeeper import ToolGatekeeper
from tether.core.services import CommandServices, PluginView, RuleView
from tether.core.session import SessionManager
from tether.core.types import ChatId, Session, SessionMode, UserId
from tether.plugins.registry import PluginRegistry

__all__ = ["ChatServices"]


class ChatServices(CommandServices):
    """`CommandServices` over the engine's collaborators, all received ready-made."""

    def __init__(
        self,
        *,
        sessions: SessionManager,
        gatekeeper: ToolGatekeeper,
        audit_logger: AuditLogger,
        plugins: PluginRegistry,
        event_bus: EventBus,
        requests: ChatRequests,
    ) -> None:
        self._sessions = sessions
        self._gatekeeper = gatekeeper
        self._audit = audit_logger
        self._plugins = plugins
        self._bus = event_bus
        self._requests = requests

    @property
    def audit_log_path(self) -> Path:
        return self._audit.path

    @property
    def learned_rules_path(self) -> Path | None:
        store = self._gatekeeper.learned.store
        return store.path if store is not None else None

    async def session(self, user_id: UserId, chat_id: ChatId) -> Session:
        return await self._sessions.get_or_create(user_id, chat_id)

    async def reset_session(self, user_id: UserId, chat_id: ChatId) -> Session:
        return await self._sessions.reset(user_id, chat_id)

    async def set_mode(self, user_id: UserId, chat_id: ChatId, mode: SessionMode) -> Session:
        session = await self._sessions.get_or_create(user_id, chat_id)
        changed = await self._sessions.set_mode(session, mode)
        # The mode is stored once, in the session; the gate derives what it approves from it.
        await self._audit.log("mode_changed", chat_id=chat_id, user_id=user_id, mode=mode.value)
        return changed

    def is_busy(self, chat_id: ChatId) -> bool:
        return self._requests.is_busy(chat_id)

    async def cancel(self, chat_id: ChatId) -> bool:
        return await self._requests.cancel(chat_id)

    def learned_rules(self, chat_id: ChatId) -> Sequence[RuleView]:
        return self._gatekeeper.learned.rules(str(chat_id))

    async def revoke_rules(
        self, rule_ids: tuple[str, ...], *, user_id: UserId, chat_id: ChatId
    ) -> Sequence[RuleView]:
        return await self._gatekeeper.revoke_rules(rule_ids, user_id=user_id, chat_id=chat_id)

    def forget_chat_rules(self, chat_id: ChatId) -> int:
        return self._gatekeeper.learned.forget_chat(str(chat_id))

    def plugins(self) -> Sequence[PluginView]:
        # The bus's counters add each plugin's event handlers to its own.
        return self._plugins.describe(self._bus.stats())
