"""The event bus: every event appended on any hub process reaches every process that cares.

    Hub.append / send / turn ─► bus.publish(events) ─► every process's subscribers
                                                        (web chat push, console feed,
                                                         queue index, customer history)

Two kinds of message travel on it:

- **events**: batches of one conversation's log entries, delivered to subscribers in log
  order per conversation, each at most once per process. The log is the truth; the bus only
  says "this was appended", so a subscriber that missed something can always read it back.
- **signals**: small facts that are not part of any conversation's log (an agent's presence,
  a dialog reload) on a named topic. A signal's receiver must also be able to read the
  current value from the store (a new process never saw the signals sent before it started).

`LocalBus` is the in-process bus (SQLite: one process); `hub.bus_redis.RedisBus` carries
the same to every process sharing one Redis. Both satisfy `EventBus`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Protocol

from hub.model import Event

log = logging.getLogger("frontdesk.bus")

EventListener = Callable[[Sequence[Event]], None]
SignalListener = Callable[[Mapping[str, Any]], None]
GapListener = Callable[[], Awaitable[None]]


class EventBus(Protocol):
    """What the hub and its consumers need from a bus, whatever carries it."""

    def subscribe(self, listener: EventListener) -> None:
        """Call `listener` with every batch of events appended anywhere (must not block)."""

    def on_signal(self, topic: str, listener: SignalListener) -> None:
        """Call `listener` with the data of every signal sent on `topic` (here too)."""

    def on_gap(self, listener: GapListener) -> None:
        """Call `listener` after this process may have missed messages (a lost connection):
        it should rebuild what it derives from the log."""

    def publish(self, events: Sequence[Event]) -> None:
        """Events just appended to one conversation's log by this process, in order
        (never blocks)."""

    def signal(self, topic: str, data: Mapping[str, Any]) -> None:
        """Tell the other processes something that is not in a log (the sender has
        already applied it itself, at once)."""

    async def settled(self) -> None:
        """Return once everything published on any process before this call has been
        dispatched to this process's subscribers: read-your-writes across processes."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class Subscribers:
    """The listeners of one process, called without letting one failure stop the others."""

    def __init__(self) -> None:
        self.events: list[EventListener] = []
        self.signals: dict[str, list[SignalListener]] = {}
        self.gaps: list[GapListener] = []

    def dispatch(self, events: Sequence[Event]) -> None:
        for listener in self.events:
            try:
                listener(events)
            except Exception:
                log.exception("event listener failed")

    def dispatch_signal(self, topic: str, data: Mapping[str, Any]) -> None:
        for listener in self.signals.get(topic, ()):
            try:
                listener(data)
            except Exception:
                log.exception("signal listener failed", extra={"topic": topic})

    async def dispatch_gap(self) -> None:
        for listener in self.gaps:
            try:
                await listener()
            except Exception:
                log.exception("catch-up after a bus gap failed")


class LocalBus:
    """One process: subscribers are called at once, in the publisher's order. Everything is
    appended by this process, so there is nothing to catch up with."""

    def __init__(self) -> None:
        self.subscribers = Subscribers()

    def subscribe(self, listener: EventListener) -> None:
        self.subscribers.events.append(listener)

    def on_signal(self, topic: str, listener: SignalListener) -> None:
        self.subscribers.signals.setdefault(topic, []).append(listener)

    def on_gap(self, listener: GapListener) -> None:
        self.subscribers.gaps.append(listener)

    def publish(self, events: Sequence[Event]) -> None:
        if events:
            self.subscribers.dispatch(events)

    def signal(self, topic: str, data: Mapping[str, Any]) -> None:
        return None  # there is no other process

    async def settled(self) -> None:
        return None

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None


__all__ = ["EventBus", "EventListener", "GapListener", "LocalBus", "SignalListener", "Subscribers"]
