"""What a slash command may use: the narrow services `build_engine()` hands to commands.

A command (built in, or contributed by a plugin) gets a `CommandServices`,
never the engine: it can read and switch the chat's session, stop the chat's
request, list and revoke learned rules and list plugins, and nothing else.
This module is a seam: it imports only `tether.core.types`, so a plugin that
defines a command imports nothing of the engine, the gate or the stores.

Every method may raise a `TetherError` (a store that fails, say); the engine
turns it into a one-line reply.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

from tether.core.types import ChatId, Session, SessionMode, UserId

__all__ = ["CommandServices", "PluginView", "RuleView"]


class RuleView(Protocol):
    """A learned rule as a command shows it (`/rules`)."""

    @property
    def id(self) -> str: ...
    @property
    def label(self) -> str: ...
    @property
    def lifetime(self) -> str:
        """`chat` (gone with /clear) or `remembered` (kept in the learned-rules file)."""
        ...

    @property
    def uses(self) -> int: ...
    @property
    def granted_by(self) -> str: ...
    @property
    def granted_at(self) -> str: ...


class PluginView(Protocol):
    """A plugin as a command shows it (`/plugins`)."""

    @property
    def name(self) -> str: ...
    @property
    def version(self) -> str: ...
    @property
    def source(self) -> str:
        """Where it came from: `builtin`, `code` or `entry_point`."""
        ...

    @property
    def state(self) -> str: ...
    @property
    def error(self) -> str | None: ...
    @property
    def hooks(self) -> tuple[str, ...]:
        """The contribution hooks it implements."""
        ...

    @property
    def calls(self) -> int:
        """Calls into its hooks and event handlers."""
        ...

    @property
    def errors(self) -> int: ...
    @property
    def timeouts(self) -> int: ...


@runtime_checkable
class CommandServices(Protocol):
    """The services a slash command receives. See the module docstring."""

    @property
    def audit_log_path(self) -> Path:
        """Where the audit log is written."""
        ...

    @property
    def learned_rules_path(self) -> Path | None:
        """The file remembered rules are kept in; None when they live in memory only."""
        ...

    async def session(self, user_id: UserId, chat_id: ChatId) -> Session:
        """The chat's current session, created if it has none."""
        ...

    async def reset_session(self, user_id: UserId, chat_id: ChatId) -> Session:
        """Archive the chat's session and start a new conversation (`/clear`); the new session."""
        ...

    async def set_mode(self, user_id: UserId, chat_id: ChatId, mode: SessionMode) -> Session:
        """Put the chat's session in `mode` and record the change in the audit log."""
        ...

    def is_busy(self, chat_id: ChatId) -> bool:
        """True while a request of the chat runs."""
        ...

    async def cancel(self, chat_id: ChatId) -> bool:
        """Stop the chat's running request and deny its pending approvals; False if none ran."""
        ...

    def learned_rules(self, chat_id: ChatId) -> Sequence[RuleView]:
        """The learned rules that apply in the chat, in the order `/rules` numbers them."""
        ...

    async def revoke_rules(
        self, rule_ids: tuple[str, ...], *, user_id: UserId, chat_id: ChatId
    ) -> Sequence[RuleView]:
        """Revoke learned rules by id (each revocation is audited); those removed."""
        ...

    def forget_chat_rules(self, chat_id: ChatId) -> int:
        """Drop the rules learned for this chat only (on `/clear`); how many."""
        ...

    def plugins(self) -> Sequence[PluginView]:
        """Every registered plugin, in registration order, with its counters."""
        ...
