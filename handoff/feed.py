"""The live feed: queue and conversation changes pushed to every console socket.

Publishing never blocks the hub: each subscriber has a bounded queue, and one that falls
too far behind is dropped (its socket closes; the console reconnects and reloads).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

log = logging.getLogger("frontdesk.handoff.feed")

BACKLOG = 1000
CLOSED: dict[str, Any] = {"type": "closed"}


class Feed:
    def __init__(self) -> None:
        self._subscribers: set[asyncio.Queue[dict[str, Any]]] = set()

    def subscribe(self) -> asyncio.Queue[dict[str, Any]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=BACKLOG)
        self._subscribers.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[dict[str, Any]]) -> None:
        self._subscribers.discard(queue)

    def publish(self, message: dict[str, Any]) -> None:
        for queue in list(self._subscribers):
            try:
                queue.put_nowait(message)
            except asyncio.QueueFull:
                log.warning("dropping a feed subscriber that fell %d messages behind", BACKLOG)
                self._subscribers.discard(queue)
                _replace_last(queue, CLOSED)

    def close(self) -> None:
        for queue in list(self._subscribers):
            _replace_last(queue, CLOSED)
        self._subscribers.clear()

    def __len__(self) -> int:
        return len(self._subscribers)


def _replace_last(queue: asyncio.Queue[dict[str, Any]], message: dict[str, Any]) -> None:
    # Make room for the closing message, so the reader learns it was dropped.
    if queue.full():
        queue.get_nowait()
    queue.put_nowait(message)
