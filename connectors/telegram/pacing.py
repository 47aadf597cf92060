"""Pacing for Telegram's send limits, so bursts are queued rather than refused.

Telegram allows about 30 messages a second per bot, about one a second per private chat,
and about 20 a minute per group. python-telegram-bot's `AIORateLimiter` would sleep through
a 429 inside the send, but it does not pace private chats, and a long sleep inside a send
would trip the outbox's timeout. So the connector books a slot here before each send and
either waits for it (short waits) or hands the delivery back to the outbox with
`RetryLater(retry_after=...)` (long waits); a 429's `retry_after` pauses the chat.

The slots are booked on a `hub.shared_pacing.Pacing`: the hub's (Redis-backed beside a
Redis store; in memory when none is given), so several hub processes sending for one bot stay within the bot's limits together, not each on its own.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from hub.shared_pacing import LocalPacing, Pacing


class Pacer:
    """Telegram's limits over a `Pacing`: per chat, a minimum spacing (longer for groups
    and channels); per bot, at most `per_second` sends."""

    def __init__(
        self,
        *,
        per_second: float,
        chat_interval: float,
        group_interval: float,
        clock: Callable[[], float] = time.monotonic,
        bot: str = "telegram",
        pacing: Pacing | None = None,
    ) -> None:
        self.per_second = per_second
        self.chat_interval = chat_interval
        self.group_interval = group_interval
        # The hub's (booked by every process together); alone, this process's own.
        self.pacing: Pacing = pacing or LocalPacing(clock)
        self.bot = bot  # the group the slots are booked in: one bot's budget

    async def reserve(self, chat_id: int, *, max_wait: float) -> float | None:
        """Book the next slot for `chat_id` and return how long to wait for it, or None
        (nothing booked) when the slot is more than `max_wait` seconds away."""
        return await self.pacing.reserve(
            self.bot,
            str(chat_id),
            per_second=self.per_second,
            spacing=self._interval(chat_id),
            max_wait=max_wait,
        )

    async def wait_for(self, chat_id: int) -> float:
        """Seconds until `chat_id` could send again (without booking)."""
        return await self.pacing.wait_for(self.bot, str(chat_id), per_second=self.per_second)

    async def pause(self, chat_id: int, seconds: float) -> None:
        """Telegram said 429: nothing more goes to this chat for `seconds`."""
        await self.pacing.pause(self.bot, str(chat_id), seconds)

    def _interval(self, chat_id: int) -> float:
        # Group and channel ids are negative; their limit is per minute, not per second.
        return self.group_interval if chat_id < 0 else self.chat_interval


__all__ = ["Pacer"]
