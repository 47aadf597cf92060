"""A socket's idle timeout is one timer per socket, re-armed when it fires early: a client
that keeps talking is never closed, a silent one is, once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from connectors.webchat.idle import IdleWatch
from tests.connectors.webchat.helpers import HandTimer


class HandLoop:
    """A loop's clock and timers, moved by the test."""

    def __init__(self) -> None:
        self.now = 100.0
        self.timers: list[HandTimer] = []

    def time(self) -> float:
        return self.now

    def call_at(self, when: float, callback: Callable[[], None]) -> HandTimer:
        self.timers.append(HandTimer(callback, when))
        return self.timers[-1]

    def run_due(self, now: float) -> None:
        """Move the clock to `now` and fire the timers due by then (as the loop does)."""
        self.now = now
        for timer in [t for t in self.timers if not t.cancelled and t.when <= now]:
            timer.cancelled = True
            timer.callback()


def watch(loop: HandLoop, idle: list[str]) -> IdleWatch:
    return IdleWatch(30.0, lambda: idle.append("idle"), loop=cast(Any, loop))


def test_a_silent_socket_is_idle_once_the_timeout_is_over() -> None:
    loop, idle = HandLoop(), list[str]()
    watch(loop, idle)
    loop.run_due(129.0)
    assert idle == []
    loop.run_due(130.0)
    loop.run_due(500.0)
    assert idle == ["idle"]


def test_a_talking_socket_costs_one_timer_per_timeout_not_one_per_frame() -> None:
    loop, idle = HandLoop(), list[str]()
    socket = watch(loop, idle)
    for second in range(101, 160):  # a frame every second for a minute
        loop.now = float(second)
        socket.heard()
    assert len(loop.timers) == 1
    loop.run_due(130.0)  # the first timer: heard since, so it is put back, not fired
    assert idle == [] and len(loop.timers) == 2 and loop.timers[-1].when == 189.0
    loop.run_due(189.0)
    assert idle == ["idle"]


def test_a_stopped_watch_says_nothing() -> None:
    loop, idle = HandLoop(), list[str]()
    watch(loop, idle).stop()
    loop.run_due(1000.0)
    assert idle == [] and all(t.cancelled for t in loop.timers)
