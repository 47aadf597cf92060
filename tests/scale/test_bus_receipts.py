"""A delivery receipt is published on the event bus as its conversation's batch, so the
next batch of that conversation follows on at every process: no gap, no log read. On one
redis-server and on the cluster, with replies in English and in Chinese."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from hub.bus_redis import RedisBus
from hub.hub import Hub
from hub.model import Event, EventType
from hub.store_redis import RedisStore
from tests.hub.test_delivery import FAST, FlakyChannel, TwoReplies, message, until
from tests.support import channel_links


async def no_log_read(conversation_id: str, after: int, limit: int) -> Sequence[Event]:
    raise AssertionError(f"the bus read {conversation_id}'s log after seq {after}")


async def test_a_receipt_reaches_another_process_without_a_log_read(
    shared_store_url: str, tmp_path: Path
) -> None:
    store = RedisStore(shared_store_url)
    await store.open()

    async def read_log(conversation_id: str, after: int, limit: int) -> Sequence[Event]:
        return await store.events(conversation_id, after_seq=after, limit=limit)

    # Process A runs the turns and delivers; process B only listens. Neither may need the
    # log: every event of the conversation is announced, the receipts too.
    own = RedisBus(shared_store_url, read_log=read_log)
    other = RedisBus(shared_store_url, read_log=no_log_read)
    seen: list[Event] = []
    other.subscribe(seen.extend)
    await other.start()
    sent: list[str] = []
    hub = Hub(store=store, bot=TwoReplies(), retry=FAST, bus=own)
    hub.add_connector(FlakyChannel(links=channel_links(hub, tmp_path), sent=sent))
    await own.start()
    await hub.start()
    try:
        for number, text in enumerate(("Where is my parcel?", "我的包裹在哪里？", "Thanks!")):
            await hub.ingest(message(text, f"m{number}"))
            await until(lambda: len(sent) == 2 * (number + 1))  # noqa: B023 (awaited here)
        # The last receipt is logged after its send: wait until B has it.
        await until(lambda: sum(e.type == EventType.DELIVERED for e in seen) == 6)
        conversation = await hub.latest_conversation("flaky:ana")
        assert conversation is not None
        logged = await store.events(conversation.id)
        # B saw the whole log from the first message on (`conversation.opened` goes with
        # no announcement of its own), in order, each event once, receipts as logged; and
        # neither bus filled a gap.
        assert logged[0].type == EventType.OPENED
        assert seen == logged[1:]
        assert other.sequencer.gaps_filled == 0 and own.sequencer.gaps_filled == 0
        replies = [e.data["outbound"]["text"] for e in seen if e.type == EventType.MESSAGE_OUT]
        assert replies == sent
    finally:
        await hub.stop()
        await own.stop()
        await other.stop()
        await store.close()
