"""The typing signals' rate limit and listeners (`hub.signals`), on a clock moved by hand."""

from __future__ import annotations

import logging

import pytest

from hub.signals import Side, Typing, TypingSignals
from tests.handoff.console.helpers import FakeClock


def on(conversation: str = "c1", side: Side = Side.AGENT) -> Typing:
    return Typing(conversation_id=conversation, side=side, on=True)


def off(conversation: str = "c1", side: Side = Side.AGENT) -> Typing:
    return Typing(conversation_id=conversation, side=side, on=False)


def test_one_on_per_interval_and_an_off_only_after_an_on() -> None:
    clock = FakeClock(100.0)
    signals = TypingSignals(interval=4.0, clock=clock)
    assert signals.admit(off()) is False  # nothing to stop
    assert signals.admit(on()) is True
    clock.now += 1
    assert signals.admit(on()) is False  # keystrokes: still the same "typing"
    assert signals.admit(off()) is True
    assert signals.admit(off()) is False
    assert signals.admit(on()) is False  # on, off, on … in a burst stays two signals
    clock.now += 3
    assert signals.admit(on()) is True


def test_sides_and_conversations_are_limited_apart() -> None:
    signals = TypingSignals(clock=FakeClock())
    assert signals.admit(on("c1", Side.AGENT)) is True
    assert signals.admit(on("c1", Side.CUSTOMER)) is True
    assert signals.admit(on("c2", Side.AGENT)) is True
    assert signals.admit(on("c1", Side.AGENT)) is False


def test_a_failing_listener_does_not_stop_the_others(caplog: pytest.LogCaptureFixture) -> None:
    signals = TypingSignals()
    got: list[Typing] = []

    def broken(signal: Typing) -> None:
        raise RuntimeError("boom")

    signals.add_listener(broken)
    signals.add_listener(got.append)
    with caplog.at_level(logging.ERROR):
        signals.publish(on())
    assert got == [on()]
    assert "typing listener failed" in caplog.text


def test_old_entries_are_forgotten_when_many_pile_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("hub.signals._PRUNE_ABOVE", 3)
    clock = FakeClock()
    signals = TypingSignals(interval=4.0, clock=clock)
    for name in ("a", "b", "c"):
        assert signals.admit(on(name))
    clock.now += 5
    assert signals.admit(on("d"))  # over the bound: a, b and c are stale and dropped
    assert len(signals._last) == 1
    assert signals.admit(on("a"))


def test_a_signal_from_another_process_is_read_back_or_refused() -> None:
    signal = off("c9", Side.CUSTOMER)
    assert Typing.from_json(signal.to_json()) == signal
    for bad in (
        {},
        {"conversation_id": "c9", "side": "robot", "on": True},
        {"conversation_id": "", "side": "agent", "on": True},
        {"conversation_id": "c9", "side": "agent", "on": "yes"},
        {"conversation_id": 7, "side": "agent", "on": True},
    ):
        with pytest.raises(ValueError):
            Typing.from_json(bad)
