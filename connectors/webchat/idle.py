"""When a socket has been silent too long: one timer per socket, not one per frame.

A timeout around each `receive()` builds a timeout context and a timer for every frame a
client sends (aiohttp's own comment puts it at about half of what a receive costs). Here the
reader only notes when it last heard from the client; the timer is re-armed when it fires
early, so a socket that keeps talking costs one timer every `timeout` seconds.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

# A timer may fire a hair before its time (the loop's clock resolution): that is due.
_SLACK = 0.01


class IdleWatch:
    """Calls `on_idle` once `timeout` seconds pass with no `heard()` in between."""

    def __init__(
        self,
        timeout: float,
        on_idle: Callable[[], None],
        *,
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        self.timeout = timeout
        self.on_idle = on_idle
        self._loop = loop or asyncio.get_running_loop()
        self._last = self._loop.time()
        self._timer: asyncio.TimerHandle | None = self._loop.call_at(
            self._last + timeout, self._check
        )

    def heard(self) -> None:
        """The client said something: the silence starts again from now."""
        self._last = self._loop.time()

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _check(self) -> None:
        due = self._last + self.timeout
        if due - self._loop.time() > _SLACK:  # heard from since the timer was armed
            self._timer = self._loop.call_at(due, self._check)
            return
        self._timer = None
        self.on_idle()


__all__ = ["IdleWatch"]
