"""One conversation's gap fill (a log read) holds up that conversation only: the bus's other
conversations, and signals about nothing held, are dispatched meanwhile; the held one's
events arrive complete and in log order once the read returns, and `settled()` waits for
them. On one redis-server and on the cluster."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from hub.bus_redis import RedisBus
from hub.model import Event

GUARD = 20.0  # seconds a wait may take before the test gives up (never reached when green)


def event(seq: int, conversation_id: str, text: str) -> Event:
    return Event(
        conversation_id=conversation_id, seq=seq, type="message.in", at=0.0, data={"text": text}
    )


class HeldLog:
    """A conversation log whose reads of `held` wait until the test releases them."""

    def __init__(self, held: str) -> None:
        self.held = held
        self.events: dict[str, list[Event]] = {}
        self.release = asyncio.Event()
        self.reading = asyncio.Event()  # a read of the held conversation has started

    async def read(self, conversation_id: str, after: int, limit: int) -> Sequence[Event]:
        if conversation_id == self.held:
            self.reading.set()
            await self.release.wait()
        return [e for e in self.events.get(conversation_id, []) if e.seq > after][:limit]


class Seen:
    """What a bus dispatched, in order; `wait_for` returns once `what` has been."""

    def __init__(self) -> None:
        self.items: list[tuple[str, int, str]] = []
        self._changed = asyncio.Event()

    def record(self, events: Sequence[Event]) -> None:
        self.items.extend((e.conversation_id, e.seq, str(e.data["text"])) for e in events)
        self._changed.set()

    def note(self, item: tuple[str, int, str]) -> None:
        self.items.append(item)
        self._changed.set()

    def of(self, conversation_id: str) -> list[tuple[str, int, str]]:
        return [item for item in self.items if item[0] == conversation_id]

    async def wait_for(self, what: tuple[str, int, str]) -> None:
        async def seen() -> None:
            while what not in self.items:
                self._changed.clear()
                await self._changed.wait()

        await asyncio.wait_for(seen(), GUARD)


async def _buses(url: str, log: HeldLog, seen: Seen) -> tuple[RedisBus, RedisBus]:
    async def read_all(conversation_id: str, after: int, limit: int) -> Sequence[Event]:
        return [e for e in log.events.get(conversation_id, []) if e.seq > after][:limit]

    a = RedisBus(url, read_log=read_all)  # the process that appends
    b = RedisBus(url, read_log=log.read)  # the one whose gap fill is held
    b.subscribe(seen.record)
    await a.start()
    await b.start()
    return a, b


async def test_a_held_gap_fill_holds_up_its_own_conversation_only(shared_store_url: str) -> None:
    en = ["Where is my order?", "It was due on Monday.", "Order 1234.", "Thanks!"]
    zh = ["我的订单在哪里？", "应该周一到。", "订单号1234。", "谢谢！"]
    log = HeldLog("held")
    log.events["held"] = [event(n + 1, "held", text) for n, text in enumerate(en)]
    log.events["other"] = [event(n + 1, "other", text) for n, text in enumerate(zh)]
    seen = Seen()
    a, b = await _buses(shared_store_url, log, seen)
    try:
        held, other = log.events["held"], log.events["other"]
        a.publish([held[0]])
        a.publish([other[0]])
        await seen.wait_for(("other", 1, zh[0]))
        a.publish([held[2]])  # seq 3 announced before seq 2: b reads 2 from the log …
        await asyncio.wait_for(log.reading.wait(), GUARD)  # … and that read is held
        a.publish([held[3]])  # queues behind the held read
        a.publish([other[2]])  # a gap of its own, which nothing holds
        a.publish([other[3]])
        await seen.wait_for(("other", 4, zh[3]))
        assert seen.of("other") == [("other", n + 1, text) for n, text in enumerate(zh)]
        assert seen.of("held") == [("held", 1, en[0])]

        settled = asyncio.create_task(b.settled())
        # A settle that did not wait for the held conversation would end here.
        await asyncio.wait([settled], timeout=0.5)
        at_settle: list[tuple[str, int, str]] = []
        settled.add_done_callback(lambda _: at_settle.extend(seen.of("held")))
        log.release.set()
        await asyncio.wait_for(settled, GUARD)
        expected = [("held", n + 1, text) for n, text in enumerate(en)]
        assert at_settle == expected  # settled() returned after the held events, not before
        assert seen.of("held") == expected  # complete, in log order, once each
    finally:
        for bus in (a, b):
            await bus.stop()


async def test_signals_keep_their_place_behind_a_held_conversation(shared_store_url: str) -> None:
    """A signal about the held conversation (typing) waits behind its events; one about
    nothing held (an agent's presence) goes out meanwhile; a lost connection's catch-up
    runs after every batch read before it, the held one included."""
    en, zh = "Can I change the address?", "可以改地址吗？"
    log = HeldLog("held")
    log.events["held"] = [event(1, "held", en), event(2, "held", zh), event(3, "held", en)]
    seen = Seen()
    a, b = await _buses(shared_store_url, log, seen)
    b.on_signal("typing", lambda data: seen.note(("typing", 0, str(data["conversation_id"]))))
    b.on_signal("presence", lambda data: seen.note(("presence", 0, str(data["agent_id"]))))

    async def caught_up() -> None:
        seen.note(("gap", 0, ""))

    b.on_gap(caught_up)
    try:
        a.publish([log.events["held"][0]])
        await seen.wait_for(("held", 1, en))
        a.publish([log.events["held"][2]])
        await asyncio.wait_for(log.reading.wait(), GUARD)
        a.signal("typing", {"conversation_id": "held", "side": "agent", "on": True})
        a.signal("presence", {"agent_id": "李娜", "presence": "online"})
        await seen.wait_for(("presence", 0, "李娜"))
        assert ("typing", 0, "held") not in seen.items
        b._inbox.put_nowait(("gap", None, None))  # what the reader queues after an outage
        log.release.set()
        await seen.wait_for(("gap", 0, ""))
        assert seen.items == [
            ("held", 1, en),
            ("presence", 0, "李娜"),
            ("held", 2, zh),
            ("held", 3, en),
            ("typing", 0, "held"),
            ("gap", 0, ""),
        ]
    finally:
        for bus in (a, b):
            await bus.stop()
