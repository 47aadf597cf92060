"""Mapping long button payloads back from the short tokens Telegram carries.

The token is a hash of the payload (see `render.callback_data`), so nothing has to be
written anywhere for the mapping to survive a restart: the payload is in the conversation's
own log, in the `message.out` event of the reply that showed the button. A bounded cache
answers the common case (a press soon after the reply) without reading the log.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Mapping

from connectors.telegram.render import callback_data
from hub.model import Event, EventType, split_question


class CallbackCache:
    """Recently rendered tokens → payloads, least recently used out first."""

    def __init__(self, capacity: int = 10_000) -> None:
        self.capacity = capacity
        self._items: OrderedDict[str, str] = OrderedDict()

    def remember(self, mapping: Mapping[str, str]) -> None:
        for token, payload in mapping.items():
            self._items[token] = payload
            self._items.move_to_end(token)
        while len(self._items) > self.capacity:
            self._items.popitem(last=False)

    def get(self, token: str) -> str | None:
        payload = self._items.get(token)
        if payload is not None:
            self._items.move_to_end(token)
        return payload


def payload_from_events(token: str, events: Iterable[Event]) -> str | None:
    """The payload of the newest button in these `message.out` events whose token is `token`."""
    for event in reversed(list(events)):
        if event.type != EventType.MESSAGE_OUT:
            continue
        for payload in _payloads(event):
            if callback_data(payload) == token:
                return payload
    return None


def newest_question(events: Iterable[Event]) -> int | None:
    """The highest question number on the buttons of these `message.out` events."""
    numbers = [
        number
        for event in events
        if event.type == EventType.MESSAGE_OUT
        for payload in _payloads(event)
        if (number := split_question(payload)[1]) is not None
    ]
    return max(numbers, default=None)


def _payloads(event: Event) -> list[str]:
    outbound = event.data.get("outbound")
    buttons = outbound.get("buttons", ()) if isinstance(outbound, Mapping) else ()
    return [
        b["payload"]
        for b in buttons
        if isinstance(b, Mapping) and isinstance(b.get("payload"), str)
    ]


__all__ = ["CallbackCache", "newest_question", "payload_from_events"]
