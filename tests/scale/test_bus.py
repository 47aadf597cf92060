"""The bus's promises, one at a time: log order per conversation, each event once, gaps
filled from the log, read-your-writes across buses on one real redis-server."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from functools import partial

from hub.bus_order import MAX_HELD, PublishOrder, Sequencer
from hub.bus_redis import RedisBus
from hub.model import Event

LOG: dict[str, list[Event]] = {}


def event(seq: int, conversation_id: str = "c1", text: str = "") -> Event:
    return Event(
        conversation_id=conversation_id, seq=seq, type="message.in", at=0.0, data={"text": text}
    )


async def read_log(conversation_id: str, after: int, limit: int) -> Sequence[Event]:
    return [e for e in LOG.get(conversation_id, []) if e.seq > after][:limit]


async def test_the_sequencer_drops_what_was_seen_and_fills_gaps_from_the_log() -> None:
    LOG["c1"] = [event(n) for n in range(1, 8)]
    sequencer = Sequencer(read_log)
    assert [e.seq for e in await sequencer.order([event(2), event(3)])] == [2, 3]  # first: as is
    assert await sequencer.order([event(3)]) == []  # an echo
    # 6 arrives before 4 and 5 (appended by another process, announced later): read them.
    assert [e.seq for e in await sequencer.order([event(6)])] == [4, 5, 6]
    assert await sequencer.order([event(4), event(5)]) == []
    assert sequencer.gaps_filled == 1


def test_take_passes_what_follows_on_and_refuses_a_gap_without_changing_anything() -> None:
    sequencer = Sequencer(read_log)
    assert [e.seq for e in sequencer.take([event(5)]) or []] == [5]
    assert [e.seq for e in sequencer.take([event(6), event(7)]) or []] == [6, 7]
    assert sequencer.take([event(9)]) is None
    assert sequencer.watermark("c1") == 7


def test_one_process_publishes_a_conversation_in_log_order_whatever_order_its_writes_answer() -> (
    None
):
    """Two writes of c1 under way at once answer the other way round (seq 5 first): the
    bus gets 4 before 5, once no write of c1 is under way; c2 is not held up meanwhile."""
    published: list[tuple[str, int]] = []
    order = PublishOrder(
        lambda events: published.extend((e.conversation_id, e.seq) for e in events)
    )
    receipt = contextlib.ExitStack()
    receipt.enter_context(order.writing("c1"))  # a delivery receipt, logged at seq 4 …
    with order.writing("c1"):  # … and a turn's commit, logged at 5, which answers first
        order.publish([event(5, text="您好"), event(6, text="Hello")])
        order.publish([event(1, "c2")])  # another conversation goes at once
        assert published == [("c2", 1)]
    assert published == [("c2", 1)]  # the receipt's write is still under way
    order.publish([event(4)])
    receipt.close()
    assert published == [("c2", 1), ("c1", 4), ("c1", 5), ("c1", 6)]
    order.publish([event(7, text="再见")])  # an inbound message: no write under way, at once
    assert published[-1] == ("c1", 7)


def test_a_failed_write_still_lets_the_batches_it_held_go() -> None:
    published: list[int] = []
    order = PublishOrder(lambda events: published.extend(e.seq for e in events))
    with contextlib.suppress(ConnectionError), order.writing("c1"):
        order.publish([event(3, text="Where is my order?")])  # another write's, held
        raise ConnectionError("the store went away")
    assert published == [3]


def test_writes_that_keep_overlapping_do_not_keep_a_conversations_notices_back() -> None:
    """One write after another of c1 under way without a pause between them: at
    `MAX_HELD` batches held, they go out (in seq order) without waiting for a quiet
    moment that may not come; a subscriber fills any gap from the log."""
    published: list[int] = []
    order = PublishOrder(lambda events: published.extend(e.seq for e in events))
    texts = ("Is it shipped yet?", "发货了吗？")
    with order.writing("c1"):
        for seq in range(MAX_HELD + 1, 1, -1):
            order.publish([event(seq, text=texts[seq % 2])])
        assert published == list(range(2, MAX_HELD + 2))
        order.publish([event(1, text=texts[1])])
    assert published == [*range(2, MAX_HELD + 2), 1]


def _record(into: list[tuple[int, str]], events: Sequence[Event]) -> None:
    into.extend((e.seq, str(e.data["text"])) for e in events)


async def test_every_bus_sees_every_batch_in_log_order_and_settles(redis_url: str) -> None:
    zh, en = "您好，我想查订单", "Hello, where is my order?"
    LOG["c2"] = [event(1, "c2", en), event(2, "c2", zh), event(3, "c2", en)]
    buses = [RedisBus(redis_url, read_log=read_log) for _ in range(3)]
    seen: list[list[tuple[int, str]]] = [[] for _ in buses]
    for index, bus in enumerate(buses):
        bus.subscribe(partial(_record, seen[index]))
        await bus.start()
    try:
        a, b, c = buses
        a.publish([LOG["c2"][0]])
        await c.settled()  # read your writes: c has dispatched a's batch
        assert seen[2] == [(1, en)]
        b.publish([LOG["c2"][2]])  # seq 3 announced before seq 2: c fills 2 from the log
        a.publish([LOG["c2"][1]])
        for bus in buses:
            await bus.settled()
        expected = [(1, en), (2, zh), (3, en)]
        assert seen[2] == expected
        assert seen[0] == expected and seen[1][-1] == (3, en)
        a.signal("handoff.presence", {"agent_id": "ana", "presence": "online"})
        got: asyncio.Queue[dict[str, str]] = asyncio.Queue()
        b.on_signal("handoff.presence", lambda data: got.put_nowait(dict(data)))
        a.signal("handoff.presence", {"agent_id": "bo", "presence": "away"})
        assert (await asyncio.wait_for(got.get(), 30))["agent_id"] in ("ana", "bo")
    finally:
        for bus in buses:
            await bus.stop()


async def test_a_burst_of_batches_is_one_stream_entry_and_keeps_log_order(redis_url: str) -> None:
    """Batches published one after the other (a busy process's turns) go out as one XADD
    of one entry, and every other process still gets each conversation's in log order."""
    zh, en = "我的包裹到了吗？", "Has my parcel arrived?"
    LOG["c3"] = [event(1, "c3", en), event(2, "c3", zh)]
    LOG["c4"] = [event(1, "c4", zh), event(2, "c4", en)]
    buses = [RedisBus(redis_url, read_log=read_log) for _ in range(2)]
    seen: list[tuple[str, int, str]] = []
    buses[1].subscribe(
        lambda events: seen.extend((e.conversation_id, e.seq, str(e.data["text"])) for e in events)
    )
    for bus in buses:
        await bus.start()
    try:
        a, b = buses
        await a.settled()
        redis = a._client()
        before = int(await redis.xlen(a.key))
        for batch in ([LOG["c3"][0]], [LOG["c4"][0]], [LOG["c3"][1]], [LOG["c4"][1]]):
            a.publish(batch)
        await b.settled()
        assert int(await redis.xlen(a.key)) == before + 1
        assert [s for s in seen if s[0] == "c3"] == [("c3", 1, en), ("c3", 2, zh)]
        assert [s for s in seen if s[0] == "c4"] == [("c4", 1, zh), ("c4", 2, en)]
    finally:
        for bus in buses:
            await bus.stop()
