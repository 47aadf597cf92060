"""Typing signals: who is composing a message right now, between a customer and an agent.

A typing signal is ephemeral. It is never appended to the conversation log, never put in
the outbox, never retried, and nothing waits for it: a signal that cannot be shown is
dropped. It is also rate-limited per conversation and side, because it comes from
keystrokes: an "on" passes at most once per `interval` (4 s), which is also how often a
channel such as Telegram needs it renewed (its chat action lasts 5 s); an "off" passes only
right after an "on" did, so flipping the two yields at most two signals per interval.

A signal that passed goes to this process's listeners at once and, on the event bus's
`typing` topic, to every other hub process sharing the store (`Hub`): a console on one
process sees a customer type on another, and an agent's typing reaches a web chat visitor
connected to any process. The rate limit stays with the process where the keystrokes
arrive; the others only pass the signal on.
"""

from __future__ import annotations

import enum
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

log = logging.getLogger("frontdesk.hub.signals")

TYPING_INTERVAL = 4.0
TOPIC = "typing"  # the event bus topic that carries signals to the other processes
_PRUNE_ABOVE = 10_000  # remembered (conversation, side) pairs before old ones are dropped


class Side(enum.StrEnum):
    CUSTOMER = "customer"
    AGENT = "agent"


@dataclass(frozen=True, slots=True, kw_only=True)
class Typing:
    """`side` of `conversation_id` started (`on`) or stopped composing."""

    conversation_id: str
    side: Side
    on: bool = True

    def to_json(self) -> dict[str, object]:
        return {"conversation_id": self.conversation_id, "side": self.side.value, "on": self.on}

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> Typing:
        """A signal from another process; a `ValueError` for anything malformed."""
        conversation_id, side, on = data.get("conversation_id"), data.get("side"), data.get("on")
        if not (isinstance(conversation_id, str) and conversation_id and isinstance(on, bool)):
            raise ValueError(f"not a typing signal: {data!r}")
        return cls(conversation_id=conversation_id, side=Side(str(side)), on=on)


TypingListener = Callable[[Typing], None]


@dataclass(slots=True)
class _Last:
    on: bool  # the last signal that passed
    on_at: float  # when the last "on" passed


class TypingSignals:
    """The rate limit and the listeners (the console's live feed is one)."""

    def __init__(
        self, *, interval: float = TYPING_INTERVAL, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.interval = interval
        self.clock = clock
        self._last: dict[tuple[str, Side], _Last] = {}
        self._listeners: list[TypingListener] = []

    def add_listener(self, listener: TypingListener) -> None:
        self._listeners.append(listener)

    def admit(self, signal: Typing) -> bool:
        """Whether `signal` passes the rate limit (and, if so, count it as passed)."""
        key = (signal.conversation_id, signal.side)
        now = self.clock()
        last = self._last.get(key)
        if signal.on:
            if last is not None and now - last.on_at < self.interval:
                return False
            self._last[key] = _Last(on=True, on_at=now)
        else:
            if last is None or not last.on:
                return False
            last.on = False
        if len(self._last) > _PRUNE_ABOVE:
            self._prune(now)
        return True

    def publish(self, signal: Typing) -> None:
        """Hand an admitted signal to every listener; a failing listener is logged and the
        others still get it."""
        for listener in self._listeners:
            try:
                listener(signal)
            except Exception:
                log.exception("typing listener failed")

    def _prune(self, now: float) -> None:
        stale = [key for key, last in self._last.items() if now - last.on_at >= self.interval]
        for key in stale:
            del self._last[key]
