"""Long polling for Telegram updates, each handled in a task of its own.

Updates are handled concurrently on purpose: the handler of a message can be
waiting for an approval, and the button press that answers it is a later
update. Handled one at a time, the press would be seen only after the wait
gave up, and every approval would time out.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from telegram import Bot, Update
from telegram.error import Conflict, InvalidToken, RetryAfter, TelegramError

from tether.connectors.telegram_retry import RetryPolicy, retry_after_seconds
from tether.log import get_logger

__all__ = ["ALLOWED_UPDATES", "UpdateHandler", "UpdatePoller"]

logger = get_logger(__name__)

ALLOWED_UPDATES = ("message", "callback_query")
"""The update kinds Tether asks Telegram for."""

UpdateHandler = Callable[[Update], Awaitable[None]]

_ACKNOWLEDGE_TIMEOUT = 5.0


class UpdatePoller:
    """Polls `getUpdates` and hands every update to `handle`, each in its own task.

    Args:
        bot: an initialized `telegram.Bot`.
        handle: called once per update; its failures are logged and contained.
        poll_timeout: seconds Telegram may hold a poll open waiting for updates.
        policy: the backoff used after failed polls (polling itself never gives up,
            except on a rejected token).
    """

    def __init__(
        self,
        bot: Bot,
        handle: UpdateHandler,
        *,
        poll_timeout: int = 30,
        policy: RetryPolicy | None = None,
    ) -> None:
        self._bot = bot
        self._handle = handle
        self._poll_timeout = poll_timeout
        self._policy = policy or RetryPolicy()
        self._offset: int | None = None
        self._loop_task: asyncio.Task[None] | None = None
        self._handlers: set[asyncio.Task[None]] = set()

    @property
    def running(self) -> bool:
        return self._loop_task is not None and not self._loop_task.done()

    @property
    def in_flight(self) -> int:
        """How many updates are being handled right now."""
        return len(self._handlers)

    def start(self) -> None:
        """Begin polling in the background. Needs a running event loop."""
        if self._loop_task is None:
            self._loop_task = asyncio.get_running_loop().create_task(self._poll())

    async def stop(self, grace: float = 5.0) -> None:
        """Stop polling, give running handlers `grace` seconds, cancel the rest,
        and tell Telegram which updates were taken so they are not sent again."""
        if self._loop_task is not None:
            self._loop_task.cancel()
            await asyncio.wait([self._loop_task])
            self._loop_task = None
        if self._handlers:
            _, pending = await asyncio.wait(set(self._handlers), timeout=grace)
            for task in pending:
                task.cancel()
            if pending:
                logger.warning("telegram_handlers_cancelled", count=len(pending))
                await asyncio.wait(pending)
        await self._acknowledge()

    async def _poll(self) -> None:
        failures = 0
        while True:
            try:
                updates = await self._bot.get_updates(
                    offset=self._offset,
                    timeout=self._poll_timeout,
                    allowed_updates=ALLOWED_UPDATES,
                )
            except InvalidToken as error:
                # The token was revoked while running: nothing will work until it
                # is replaced, so polling stops rather than hammer Telegram.
                logger.error(
                    "telegram_token_rejected",
                    error=str(error),
                    hint="create a new token with @BotFather and restart Tether",
                )
                return
            except RetryAfter as error:
                await asyncio.sleep(retry_after_seconds(error))
                continue
            except Conflict as error:
                failures += 1
                logger.error(
                    "telegram_polling_conflict",
                    error=str(error),
                    hint="another program is polling this bot or a webhook is set; stop it",
                )
                await asyncio.sleep(self._policy.backoff(failures))
                continue
            except TelegramError as error:
                failures += 1
                delay = self._policy.backoff(failures)
                logger.warning(
                    "telegram_polling_failed", error=str(error), failures=failures, retry_in=delay
                )
                await asyncio.sleep(delay)
                continue
            failures = 0
            for update in updates:
                self._offset = update.update_id + 1
                self._spawn(update)

    def _spawn(self, update: Update) -> None:
        task = asyncio.get_running_loop().create_task(self._handle_contained(update))
        self._handlers.add(task)
        task.add_done_callback(self._handlers.discard)

    async def _handle_contained(self, update: Update) -> None:
        try:
            await self._handle(update)
        except Exception as error:
            # One bad update must not stop the bot.
            logger.error(
                "telegram_update_failed",
                update_id=update.update_id,
                error=repr(error),
                exc_info=error,
            )

    async def _acknowledge(self) -> None:
        # Telegram forgets updates only when a later poll passes their id as the
        # offset; without this, the last updates handled would come back at the
        # next start.
        if self._offset is None:
            return
        try:
            async with asyncio.timeout(_ACKNOWLEDGE_TIMEOUT):
                await self._bot.get_updates(offset=self._offset, timeout=0, limit=1)
        except (TelegramError, TimeoutError) as error:
            logger.warning("telegram_acknowledge_failed", error=str(error))
