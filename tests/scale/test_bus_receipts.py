"""A delivery receipt is published on the event bus as its conversation's batch, so the
next batch of that conversation follows on at every process: no gap, no log read. On one
redis-server and on the cluster, with replies in English and in Chinese."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from hub.bus_redis import RedisBus
from hub.delivery import RetryPolicy
from hub.hub import Hub
from hub.model import Event, EventType
from hub.store_redis import RedisStore
from tests.hub.test_delivery import FAST, FlakyChannel, TwoReplies, message, until
from tests.support import channel_links


async def no_log_read(conversation_id: str, after: int, limit: int) -> Sequence[Event]:
    raise AssertionError(f"the bus read {conversation_id}'s log after seq {after}")


@dataclass
class Processes:
    """Process A runs the turns and delivers; process B only listens, and may not read the
    log (its `read_log` fails the test): every event must be announced."""

    hub: Hub
    store: RedisStore
    own: RedisBus
    other: RedisBus
    seen: list[Event]  # what B's listeners got
    sent: list[str]  # what the customer received


@asynccontextmanager
async def two_processes(
    url: str, tmp_path: Path, *, policy: RetryPolicy, fail: int = 0
) -> AsyncIterator[Processes]:
    store = RedisStore(url)
    await store.open()

    async def read_log(conversation_id: str, after: int, limit: int) -> list[Event]:
        return await store.events(conversation_id, after_seq=after, limit=limit)

    own = RedisBus(url, read_log=read_log)
    other = RedisBus(url, read_log=no_log_read)
    seen: list[Event] = []
    other.subscribe(seen.extend)
    await other.start()
    sent: list[str] = []
    hub = Hub(store=store, bot=TwoReplies(), retry=policy, bus=own)
    hub.add_connector(FlakyChannel(links=channel_links(hub, tmp_path), sent=sent, fail=fail))
    await own.start()
    await hub.start()
    try:
        yield Processes(hub=hub, store=store, own=own, other=other, seen=seen, sent=sent)
    finally:
        await hub.stop()
        await own.stop()
        await other.stop()
        await store.close()


async def the_whole_log_reached_b(
    p: Processes, delivered: int, conversation_id: str = ""
) -> list[Event]:
    """Wait until `delivered` receipts are logged in the conversation (Ana's latest by
    default) and B has all of its log (a guard against hanging: a batch B could not order
    never arrives); the log."""
    if not conversation_id:
        conversation = await p.hub.latest_conversation("flaky:ana")
        assert conversation is not None
        conversation_id = conversation.id

    async def receipts_logged() -> list[Event]:
        while True:
            logged = await p.store.events(conversation_id)
            if sum(e.type == EventType.DELIVERED for e in logged) >= delivered:
                return logged
            await asyncio.sleep(0.01)

    def seen() -> list[Event]:
        return [e for e in p.seen if e.conversation_id == conversation_id]

    logged = await asyncio.wait_for(receipts_logged(), 20)
    await until(lambda: len(seen()) >= len(logged) - 1)
    # B saw the whole log from the first message on (`conversation.opened` goes with no
    # announcement of its own), in order, each event once; neither bus filled a gap.
    assert logged[0].type == EventType.OPENED
    assert seen() == logged[1:]
    assert p.other.sequencer.gaps_filled == 0 and p.own.sequencer.gaps_filled == 0
    return logged


async def test_a_receipt_reaches_another_process_without_a_log_read(
    shared_store_url: str, tmp_path: Path
) -> None:
    async with two_processes(shared_store_url, tmp_path, policy=FAST) as p:
        for number, text in enumerate(("Where is my parcel?", "我的包裹在哪里？", "Thanks!")):
            await p.hub.ingest(message(text, f"m{number}"))
            await until(lambda: len(p.sent) == 2 * (number + 1))  # noqa: B023 (awaited here)
        # The last receipt is logged after its send: wait until B has it.
        await until(lambda: sum(e.type == EventType.DELIVERED for e in p.seen) == 6)
        conversation = await p.hub.latest_conversation("flaky:ana")
        assert conversation is not None
        logged = await p.store.events(conversation.id)
        # B saw the whole log from the first message on (`conversation.opened` goes with
        # no announcement of its own), in order, each event once, receipts as logged; and
        # neither bus filled a gap.
        assert logged[0].type == EventType.OPENED
        assert p.seen == logged[1:]
        assert p.other.sequencer.gaps_filled == 0 and p.own.sequencer.gaps_filled == 0
        replies = [e.data["outbound"]["text"] for e in p.seen if e.type == EventType.MESSAGE_OUT]
        assert replies == p.sent
