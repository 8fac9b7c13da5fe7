"""ConnectorGroup: several connectors on one engine (the terminal or Telegram, and the web).

The engine sees one connector. Outgoing calls go to the member whose chats
they concern: a chat id `name:…` belongs to the member called `name` (the web
connector's chats are `web:…`), any other id to the first member. Approvals of
the local owner's chats (the terminal's and the web's) are shown on every
local member; the first answer wins and the others are closed with the
outcome. Other chats (Telegram) keep their approvals to themselves.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from tether.connectors.base import (
    ApprovalAnswer,
    ApprovalHandler,
    BaseConnector,
    Button,
    CommandHandler,
    CommandMenu,
    IncomingMessage,
    MessageHandler,
    ReplyStream,
    is_settled_outcome,
)
from tether.core.types import ApprovalPreview, ChatId
from tether.exceptions import ConnectorError
from tether.log import get_logger

__all__ = ["ConnectorGroup"]

logger = get_logger(__name__)

_CLOSE_TIMEOUT = 5.0


@runtime_checkable
class _PromptShower(Protocol):
    """A member that can show the agent's questions and plans."""

    async def request_prompt(self, chat_id: ChatId, approval_id: str, prompt: Any) -> str: ...


@runtime_checkable
class _ScopeOfferer(Protocol):
    """A member that can offer the scopes an "always" may learn."""

    async def offer_scopes(
        self, chat_id: ChatId, approval_id: str, labels: Sequence[str]
    ) -> None: ...


@dataclass(frozen=True)
class _Shown:
    member: BaseConnector
    chat_id: ChatId
    message_id: str


class ConnectorGroup:
    """Members started in order and stopped in reverse; see the module docstring.

    Args:
        members: the connectors; the first one owns chat ids with no member's prefix.
        local: names of the members whose chats are the local owner's.
    """

    def __init__(self, members: Sequence[BaseConnector], *, local: Sequence[str] = ()) -> None:
        if not members:
            raise ValueError("a connector group needs at least one member")
        names = [member.name for member in members]
        if len(set(names)) != len(names):
            raise ValueError(f"connector names must differ, got {names}")
        self.members = tuple(members)
        self.name = "+".join(names)
        self._by_name = {member.name: member for member in members}
        self._local = frozenset(local)
        self._shown: dict[str, list[_Shown]] = {}
        self._started: list[BaseConnector] = []

    def member(self, name: str) -> BaseConnector | None:
        return self._by_name.get(name)

    def owner_of(self, chat_id: ChatId) -> BaseConnector:
        """The member a chat belongs to."""
        prefix, separator, _ = str(chat_id).partition(":")
        if separator and prefix in self._by_name and self._by_name[prefix] is not self.members[0]:
            return self._by_name[prefix]
        return self.members[0]

    # -- lifecycle -------------------------------------------------------------

    def set_handlers(
        self,
        *,
        on_message: MessageHandler,
        on_command: CommandHandler,
        on_approval: ApprovalHandler,
    ) -> None:
        for member in self.members:
            member.set_handlers(
                on_message=self._checked_message(member, on_message),
                on_command=self._checked_command(member, on_command),
                on_approval=self._settling(member, on_approval),
            )

    def set_command_menu(self, commands: Sequence[tuple[str, str]]) -> None:
        for member in self.members:
            if isinstance(member, CommandMenu):
                member.set_command_menu(commands)

    async def start(self) -> None:
        for member in self.members:
            try:
                await member.start()
            except BaseException:
                await self.stop()
                raise
            self._started.append(member)

    async def stop(self) -> None:
        for member in reversed(self._started):
            try:
                await member.stop()
            except Exception as error:  # noqa: BLE001 - the other members still stop
                logger.error("connector_stop_failed", connector=member.name, error=repr(error))
        self._started.clear()

    # -- routing ---------------------------------------------------------------

    async def send_message(
        self, chat_id: ChatId, text: str, buttons: Sequence[Sequence[Button]] | None = None
    ) -> str:
        return await self.owner_of(chat_id).send_message(chat_id, text, buttons)

    async def send_message_with_id(self, chat_id: ChatId, text: str) -> str:
        return await self.owner_of(chat_id).send_message_with_id(chat_id, text)

    async def edit_message(self, chat_id: ChatId, message_id: str, text: str) -> None:
        await self.owner_of(chat_id).edit_message(chat_id, message_id, text)

    async def delete_message(self, chat_id: ChatId, message_id: str) -> None:
        await self.owner_of(chat_id).delete_message(chat_id, message_id)

    async def send_typing_indicator(self, chat_id: ChatId) -> None:
        await self.owner_of(chat_id).send_typing_indicator(chat_id)

    async def send_file(self, chat_id: ChatId, path: Path, caption: str | None = None) -> None:
        await self.owner_of(chat_id).send_file(chat_id, path, caption)

    def open_reply(self, chat_id: ChatId) -> ReplyStream:
        return self.owner_of(chat_id).open_reply(chat_id)

    # -- approvals -------------------------------------------------------------

    async def request_approval(
        self,
        chat_id: ChatId,
        approval_id: str,
        description: str,
        tool_name: str,
        *,
        preview: ApprovalPreview | None = None,
    ) -> str:
        """Ask the chat's member, and every local member when the chat is the local owner's.

        Fails (`ConnectorError`) only when no member could show it: then nobody can answer.
        """

        async def ask(member: BaseConnector) -> str:
            return await member.request_approval(
                chat_id, approval_id, description, tool_name, preview=preview
            )

        return await self._show(chat_id, approval_id, self._targets(chat_id), ask)

    async def offer_scopes(self, chat_id: ChatId, approval_id: str, labels: Sequence[str]) -> None:
        """Offer the scopes to learn on every member of the chat that can show them.

        The terminal shows them for a browser chat of the local owner too, so an
        "always" answered at the desk can be narrowed there.

        Raises:
            ConnectorError: no member of the chat can offer scopes (the engine then
                lists them in its reply).
        """
        able = [m for m in self._targets(chat_id) if isinstance(m, _ScopeOfferer)]
        if not able:
            raise ConnectorError(f"no connector of chat {chat_id!r} can offer scopes")
        for member in able:
            assert isinstance(member, _ScopeOfferer)
            await member.offer_scopes(chat_id, approval_id, labels)

    async def request_prompt(self, chat_id: ChatId, approval_id: str, prompt: object) -> str:
        """Show the agent's questions or plan like an approval, on the members that can.

        Raises:
            ConnectorError: no member that should show it can (the request is then denied).
        """
        able = [m for m in self._targets(chat_id) if isinstance(m, _PromptShower)]

        async def ask(member: BaseConnector) -> str:
            assert isinstance(member, _PromptShower)
            return await member.request_prompt(chat_id, approval_id, prompt)

        return await self._show(chat_id, approval_id, able, ask)

    def _targets(self, chat_id: ChatId) -> list[BaseConnector]:
        """The chat's member, then every other local member when the chat is the local owner's."""
        owner = self.owner_of(chat_id)
        targets = [owner]
        if owner.name in self._local:
            targets += [m for m in self.members if m.name in self._local and m is not owner]
        return targets

    async def _show(
        self,
        chat_id: ChatId,
        approval_id: str,
        targets: Sequence[BaseConnector],
        ask: Callable[[BaseConnector], Awaitable[str]],
    ) -> str:
        shown: list[_Shown] = []
        failures: list[str] = []
        for member in targets:
            try:
                message_id = await ask(member)
            except Exception as error:  # noqa: BLE001 - another member may still show it
                logger.warning("approval_not_shown", connector=member.name, error=repr(error))
                failures.append(f"{member.name}: {error}")
                continue
            shown.append(_Shown(member, chat_id, message_id))
        if not shown:
            raise ConnectorError(
                "no connector could show the request: " + ("; ".join(failures) or "none can")
            )
        self._shown[approval_id] = shown
        return approval_id

    async def close_approval(self, chat_id: ChatId, message_id: str, outcome: str) -> None:
        await self._close(message_id, outcome, except_member=None)

    async def _close(
        self, approval_id: str, outcome: str, except_member: BaseConnector | None
    ) -> None:
        for shown in self._shown.pop(approval_id, ()):
            if shown.member is except_member:
                continue
            try:
                async with asyncio.timeout(_CLOSE_TIMEOUT):
                    await shown.member.close_approval(shown.chat_id, shown.message_id, outcome)
            except Exception as error:  # noqa: BLE001 - showing the outcome is best effort
                logger.warning(
                    "approval_close_failed", connector=shown.member.name, error=repr(error)
                )

    def _settling(self, member: BaseConnector, on_approval: ApprovalHandler) -> ApprovalHandler:
        async def answered(answer: ApprovalAnswer) -> str:
            if answer.local and member.name not in self._local:
                raise ConnectorError(f"connector {member.name!r} may not answer as the local owner")
            outcome = await on_approval(answer)
            if is_settled_outcome(outcome):
                await self._close(answer.approval_id, outcome, except_member=member)
            return outcome

        return answered

    # -- what members deliver ----------------------------------------------------

    def _owns(self, member: BaseConnector, chat_id: ChatId) -> bool:
        return self.owner_of(chat_id) is member

    def _checked_message(self, member: BaseConnector, handler: MessageHandler) -> MessageHandler:
        async def deliver(message: IncomingMessage) -> None:
            self._check(member, message)
            await handler(message)

        return deliver

    def _checked_command(self, member: BaseConnector, handler: CommandHandler) -> CommandHandler:
        async def deliver(message: IncomingMessage, name: str, args: tuple[str, ...]) -> None:
            self._check(member, message)
            await handler(message, name, args)

        return deliver

    def _check(self, member: BaseConnector, message: IncomingMessage) -> None:
        # Fail closed: a member may speak only in its own chats, and only the local
        # members as the local owner.
        if not self._owns(member, message.chat_id):
            raise ConnectorError(
                f"connector {member.name!r} delivered a message for chat {message.chat_id!r}"
            )
        if message.local and member.name not in self._local:
            raise ConnectorError(f"connector {member.name!r} may not speak as the local owner")
