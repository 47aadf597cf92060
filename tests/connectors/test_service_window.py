"""The provider-window rule shared by channels with one (pure, and reading a log)."""

from __future__ import annotations

from collections.abc import Sequence

from connectors.service_window import (
    AGENT_REPLY,
    CSAT,
    OTHER,
    ServiceWindow,
    last_inbound_at,
    reply_purpose,
)
from hub.model import Conversation, Event, NewEvent

WINDOW = ServiceWindow(channel="whatsapp", length=24 * 3600.0)


def inbound(seq: int, at: float, *, channel: str = "whatsapp", sender: str = "1") -> Event:
    data = {"channel": channel, "sender": sender, "timestamp": at, "text": "hi"}
    return Event(conversation_id="c", seq=seq, type="message.in", at=at + 1, data=data)


def event(seq: int, kind: str, at: float) -> Event:
    return Event(conversation_id="c", seq=seq, type=kind, at=at)


class Log:
    """A conversation log of `events`, read in pages as the hub serves it."""

    def __init__(self, events: Sequence[Event]) -> None:
        self.items = list(events)
        self.reads = 0

    async def latest_conversation(self, identity: str) -> Conversation | None:
        return None

    async def events(
        self, conversation_id: str, *, after_seq: int = 0, limit: int = 100
    ) -> list[Event]:
        self.reads += 1
        return [e for e in self.items if e.seq > after_seq][:limit]

    async def delivery_progress(self, delivery_id: str, parts_sent: Sequence[str]) -> None:
        return None

    async def append(self, conversation_id: str, events: Sequence[NewEvent]) -> tuple[Event, ...]:
        return ()


def test_the_window_counts_from_the_customers_last_message_on_the_channel() -> None:
    events = [inbound(1, 100.0), inbound(2, 500.0, channel="webchat"), inbound(3, 50.0, sender="2")]
    assert last_inbound_at(events, channel="whatsapp", address="1") == 100.0
    assert WINDOW.is_open(100.0, 100.0 + 24 * 3600 - 1)
    assert not WINDOW.is_open(100.0, 100.0 + 24 * 3600)
    assert not WINDOW.is_open(None, 0.0)  # never wrote: only templates


async def test_the_log_is_read_backwards_in_pages_until_the_last_message() -> None:
    events = [inbound(1, 100.0)] + [event(seq, "message.out", 200.0) for seq in range(2, 700)]
    log = Log(events)
    assert await WINDOW.last_inbound(log, "c", before_seq=699, address="1") == 100.0
    assert log.reads == 4  # 200 events a page
    assert await WINDOW.last_inbound(Log([]), "c", before_seq=0, address="1") is None


def test_the_purpose_of_a_reply_comes_from_its_own_commit() -> None:
    events = [
        event(1, "handoff.agent_message", 10.0),
        event(2, "message.out", 10.0),
        event(3, "handoff.resolved", 20.0),
        event(4, "csat.asked", 20.0),
        event(5, "status.changed", 20.0),
        event(6, "message.out", 20.0),  # "your request is resolved"
        event(7, "message.out", 20.0),  # the rating question
        event(8, "message.out", 30.0),
    ]
    assert [reply_purpose(events, seq) for seq in (2, 6, 7, 8, 99)] == [
        AGENT_REPLY,
        OTHER,
        CSAT,
        OTHER,
        OTHER,
    ]
