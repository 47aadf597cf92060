"""Pacing for Telegram's send limits, so bursts are queued rather than refused.

Telegram allows about 30 messages a second per bot, about one a second per private chat,
and about 20 a minute per group. python-telegram-bot's `AIORateLimiter` would sleep through
a 429 inside the send, but it does not pace private chats, and a long sleep inside a send
would trip the outbox's timeout. So the connector books a slot here before each send and
either waits for it (short waits) or hands the delivery back to the outbox with
`RetryLater(retry_after=...)` (long waits); a 429's `retry_after` pauses the chat.

Pure bookkeeping on an injected clock: the tests drive it without sleeping. Limits are per
process; several hub processes share Telegram's budget between them.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable


class Pacer:
    """Books send slots: per chat, a minimum spacing; globally, at most one send per
    `1 / per_second` tick. Ticks are booked individually, so a chat waiting for its own
    next second never holds up another chat that could send now."""

    def __init__(
        self,
        *,
        per_second: float,
        chat_interval: float,
        group_interval: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.global_interval = 1.0 / per_second if per_second > 0 else 0.0
        self.chat_interval = chat_interval
        self.group_interval = group_interval
        self.clock = clock
        self._ticks: set[int] = set()  # global ticks already booked
        self._next_chat: dict[int, float] = {}

    def reserve(self, chat_id: int, *, max_wait: float) -> float | None:
        """Book the next slot for `chat_id` and return how long to wait for it, or None
        (nothing booked) when the slot is more than `max_wait` seconds away."""
        now = self.clock()
        earliest = max(now, self._next_chat.get(chat_id, 0.0))
        tick = self._free_tick(earliest)
        slot = tick * self.global_interval if tick is not None else earliest
        if slot - now > max_wait:
            return None
        if tick is not None:
            self._ticks.add(tick)
        self._next_chat[chat_id] = slot + self._interval(chat_id)
        self._forget_idle(now)
        return max(0.0, slot - now)

    def wait_for(self, chat_id: int) -> float:
        """Seconds until `chat_id` could send again (without booking)."""
        now = self.clock()
        earliest = max(now, self._next_chat.get(chat_id, 0.0))
        tick = self._free_tick(earliest)
        slot = tick * self.global_interval if tick is not None else earliest
        return max(0.0, slot - now)

    def pause(self, chat_id: int, seconds: float) -> None:
        """Telegram said 429: nothing more goes to this chat for `seconds`."""
        until = self.clock() + seconds
        self._next_chat[chat_id] = max(self._next_chat.get(chat_id, 0.0), until)

    def _free_tick(self, earliest: float) -> int | None:
        if not self.global_interval:
            return None
        tick = math.ceil(earliest / self.global_interval - 1e-9)  # float noise at boundaries
        while tick in self._ticks:
            tick += 1
        return tick

    def _interval(self, chat_id: int) -> float:
        # Group and channel ids are negative; their limit is per minute, not per second.
        return self.group_interval if chat_id < 0 else self.chat_interval

    def _forget_idle(self, now: float) -> None:
        # Keep memory bounded by the chats that are being paced right now.
        if len(self._next_chat) > 10_000:
            self._next_chat = {c: t for c, t in self._next_chat.items() if t > now}
        if len(self._ticks) > 10_000:
            current = now / self.global_interval
            self._ticks = {tick for tick in self._ticks if tick >= current}


__all__ = ["Pacer"]
