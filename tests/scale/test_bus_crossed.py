"""Crossed notices: two processes append to one conversation one after the other, and the
second one's notice reaches the stream first. Every other process, and the second one
itself, gets the events in log order from the stream, without reading the log; the log is
read only for a notice that never comes (a writer that died between its write and its
notice). On one redis-server and on the cluster, in English and Chinese."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

import pytest

from hub.bus_redis import RedisBus
from hub.model import Event

GUARD = 20.0  # seconds a wait may take before the test gives up (never reached when green)

CONVERSATIONS = {
    "en": ["Where is my parcel?", "Order 1234.", "It says delivered.", "But it is not here."],
    "zh": ["我的包裹在哪里？", "订单号1234。", "显示已签收。", "可是我没收到。"],
}


def event(seq: int, conversation_id: str, text: str) -> Event:
    return Event(
        conversation_id=conversation_id, seq=seq, type="message.in", at=0.0, data={"text": text}
    )


class Log:
    """The conversation log every bus reads its gaps from, counting the reads."""

    def __init__(self, events: Sequence[Event]) -> None:
        self.events = list(events)
        self.reads = 0

    async def read(self, conversation_id: str, after: int, limit: int) -> Sequence[Event]:
        self.reads += 1
        return [e for e in self.events if e.conversation_id == conversation_id and e.seq > after][
            :limit
        ]


class Seen:
    """The seqs a bus dispatched, in order; `wait_for` returns once `seq` has been."""

    def __init__(self) -> None:
        self.seqs: list[int] = []
        self.texts: list[str] = []
        self._changed = asyncio.Event()

    def record(self, events: Sequence[Event]) -> None:
        self.seqs.extend(e.seq for e in events)
        self.texts.extend(str(e.data["text"]) for e in events)
        self._changed.set()

    async def wait_for(self, seq: int) -> None:
        async def seen() -> None:
            while seq not in self.seqs:
                self._changed.clear()
                await self._changed.wait()

        await asyncio.wait_for(seen(), GUARD)


@dataclass
class Processes:
    """Processes a and b append, c only listens; each counts its own reads of the log."""

    buses: list[RedisBus]
    logs: list[Log]
    seen: dict[str, Seen]
    events: list[Event]  # the conversation's log


@contextlib.asynccontextmanager
async def three_processes(
    url: str, conversation_id: str, texts: Sequence[str]
) -> AsyncIterator[Processes]:
    """Three buses on `url`, each of which has seen the conversation's first event."""
    events = [event(n + 1, conversation_id, text) for n, text in enumerate(texts)]
    logs = [Log(events) for _ in range(3)]
    buses = [RedisBus(url, read_log=own.read) for own in logs]
    seen = {name: Seen() for name in "abc"}
    try:
        for bus, name in zip(buses, "abc", strict=True):
            bus.subscribe(seen[name].record)
            await bus.start()
        buses[0].publish([events[0]])
        for name in "abc":
            await seen[name].wait_for(1)
        yield Processes(buses, logs, seen, events)
    finally:
        for bus in buses:
            await bus.stop()


@pytest.mark.parametrize("language", ["en", "zh"])
async def test_a_crossed_notice_is_ordered_from_the_stream(
    shared_store_url: str, language: str
) -> None:
    texts = CONVERSATIONS[language]
    async with three_processes(shared_store_url, "c1", texts) as p:
        (a, b, c), seen = p.buses, p.seen
        _, second, third, fourth = p.events
        # a appended seq 2, then b appended seq 3; b's notice goes out first.
        b.publish([third])
        await b._flush()  # b's notice is on the stream before a's
        a.publish([second])
        for name in "abc":
            await seen[name].wait_for(3)
        a.publish([fourth])
        b.publish([fourth])  # a second notice of the same event changes nothing
        for name in "abc":
            await seen[name].wait_for(4)
            assert seen[name].seqs == [1, 2, 3, 4], name
            assert seen[name].texts == texts, name
        assert [own.reads for own in p.logs] == [0, 0, 0]  # no process read the log
        assert c.stream_filled == 1 and b.stream_filled == 1
        assert c.sequencer.gaps_filled == 0


async def test_crossed_notices_read_together_wait_for_no_log(shared_store_url: str) -> None:
    """Seq 3's notice and then seq 2's in one pipeline (so one read of the stream, where
    seq 2 is queued behind seq 3 before its lane starts waiting): in order, no log read."""
    texts = [*CONVERSATIONS["en"][:2], CONVERSATIONS["zh"][2]]
    async with three_processes(shared_store_url, "c2", texts) as p:
        a = p.buses[0]
        a.publish([p.events[2]])
        a.signal("typing", {"conversation_id": "c2", "side": "customer", "on": True})
        a.publish([p.events[1]])
        await p.seen["c"].wait_for(3)
        assert p.seen["c"].seqs == [1, 2, 3]
        assert p.seen["c"].texts == texts
        assert p.logs[2].reads == 0


@pytest.mark.parametrize("language", ["en", "zh"])
async def test_a_notice_that_never_comes_is_read_from_the_log(
    shared_store_url: str, language: str
) -> None:
    """a appended seq 2 and died before telling anyone: b's seq 3 waits for it, then the
    log gives it, and everything after follows in order."""
    texts = CONVERSATIONS[language]
    async with three_processes(shared_store_url, "c3", texts) as p:
        (_, b, c), seen = p.buses, p.seen
        b.publish([p.events[2]])
        b.publish([p.events[3]])
        await seen["c"].wait_for(4)
        assert seen["c"].seqs == [1, 2, 3, 4]
        assert seen["c"].texts == texts
        assert c.sequencer.gaps_filled == 1 and c.stream_filled == 0
        assert p.logs[2].reads >= 1
        await b.settled()  # b, the writer of seq 3, got seq 2 from the log too
        assert seen["b"].seqs == [1, 2, 3, 4]
