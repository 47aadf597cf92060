"""The leases port (`hub.ports.Leases`), on every backend: a conversation's lease is
exclusive; a holder that stalled past its lease while another process took the
conversation cannot commit afterwards (fencing); and through a real hub, a turn whose
lease ran out while it stalled sends nothing."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

import pytest

from hub.abc import ConversationHandler, Turn, TurnResult
from hub.errors import LeaseLost
from hub.hub import Hub
from hub.model import EventType, Inbound, Outbound
from hub.ports import Backend
from hub.store_redis import RedisStore
from tests.hub.conftest import StoreFactory
from tests.hub.test_delivery import FAST, FlakyChannel, until
from tests.support import channel_links

LEASE_TTL = 0.3  # seconds; the Redis lease of the stalled holder runs out during its pause


async def test_conversation_lock_is_exclusive(store: Backend) -> None:
    order: list[str] = []

    async def hold(name: str) -> None:
        async with store.conversation_lock("con_x"):
            order.append(f"{name} in")
            await asyncio.sleep(0.05)
            order.append(f"{name} out")

    await asyncio.gather(hold("a"), hold("b"))
    assert order in (["a in", "a out", "b in", "b out"], ["b in", "b out", "a in", "a out"])


def opened_with_short_lease(make_store: StoreFactory) -> Backend:
    store = make_store()
    if isinstance(store, RedisStore):
        store.lock_ttl = LEASE_TTL
    return store


def stall_past_the_lease(store: Backend) -> None:
    """Block the whole event loop, as a GC pause or a stopped VM would: not even the task
    that extends the Redis lease runs. (SQLite leases do not expire: one process owns
    the file, and a second one opening it takes the conversation at once.)"""
    if isinstance(store, RedisStore):
        time.sleep(LEASE_TTL * 4)


@pytest.mark.parametrize(
    ("question", "late", "answer"),
    [
        ("Where is my order?", "A's late answer", "B's answer"),
        ("我的订单在哪里？", "A 迟到的回答", "B 的回答"),
    ],
)
async def test_a_holder_that_lost_its_lease_cannot_commit(
    make_store: StoreFactory, question: str, late: str, answer: str
) -> None:
    a, b = opened_with_short_lease(make_store), opened_with_short_lease(make_store)
    await a.open()
    await b.open()
    try:
        got = await a.record_inbound(
            Inbound(channel="api", sender="ana", message_id="m1", text=question), now=1.0
        )
        conversation_id, seq = got.conversation.id, got.event.seq
        async with a.conversation_lock(conversation_id) as stale:
            stall_past_the_lease(a)
            async with b.conversation_lock(conversation_id) as fresh:
                assert fresh.fence > stale.fence
                await b.commit_turn(
                    conversation_id,
                    handled_seq=seq,
                    result=TurnResult(replies=(Outbound(text=answer),), state={"by": "b"}),
                    now=2.0,
                    lease=30,
                    fence=fresh.fence,
                )
            with pytest.raises(LeaseLost):
                await a.commit_turn(
                    conversation_id,
                    handled_seq=seq,
                    result=TurnResult(replies=(Outbound(text=late),), state={"by": "a"}),
                    now=3.0,
                    lease=30,
                    fence=stale.fence,
                )
        # Nothing of A's: no message.out, no state, nothing in the outbox.
        events = await b.events(conversation_id)
        said = [e.data["outbound"]["text"] for e in events if e.type == EventType.MESSAGE_OUT]
        assert said == [answer]
        conversation = await b.get_conversation(conversation_id)
        assert conversation is not None and dict(conversation.state) == {"by": "b"}
        claimed = await b.claim_deliveries(now=100.0, limit=10, lease=30)
        assert [d.outbound.text for d in claimed] == [answer]
    finally:
        await a.close()
        await b.close()


async def test_fences_only_grow_across_holders_and_restarts(make_store: StoreFactory) -> None:
    store = make_store()
    await store.open()
    try:
        async with store.conversation_lock("con_x") as first:
            pass
        async with store.conversation_lock("con_x") as second:
            pass
        async with store.conversation_lock("con_y") as other:
            pass
    finally:
        await store.close()
    again = make_store()
    await again.open()
    try:
        async with again.conversation_lock("con_x") as after_restart:
            pass
    finally:
        await again.close()
    assert first.fence < second.fence < after_restart.fence
    assert other.fence >= 1


async def test_a_commit_with_the_current_fence_goes_through(make_store: StoreFactory) -> None:
    store = make_store()
    await store.open()
    try:
        got = await store.record_inbound(
            Inbound(channel="api", sender="li", message_id="m1", text="你好"), now=1.0
        )
        async with store.conversation_lock(got.conversation.id) as lease:
            commit = await store.commit_turn(
                got.conversation.id,
                handled_seq=got.event.seq,
                result=TurnResult(replies=(Outbound(text="您好！"),)),
                now=2.0,
                lease=30,
                fence=lease.fence,
            )
        assert [d.outbound.text for d in commit.deliveries] == ["您好！"]
        assert await store.pending_conversations() == []
    finally:
        await store.close()


class StallsOnce(ConversationHandler):
    """Answers each message; the first time, the process stalls past its lease first (the
    whole event loop blocks, as in a long GC pause), so that answer must never be sent."""

    def __init__(self) -> None:
        self.stalled = False

    async def handle(self, turn: Turn) -> TurnResult:
        if not self.stalled:
            self.stalled = True
            time.sleep(LEASE_TTL * 4)
            return TurnResult(replies=(Outbound(text=f"late: {turn.inbound.text}"),))
        return TurnResult(replies=(Outbound(text=f"answer: {turn.inbound.text}"),))


@pytest.mark.parametrize(("first", "second"), [("hello", "anyone?"), ("你好", "有人吗？")])
async def test_a_hub_that_stalled_past_its_lease_sends_nothing_of_that_turn(
    shared_store_url: str,
    caplog: pytest.LogCaptureFixture,
    first: str,
    second: str,
    tmp_path: Path,
) -> None:
    store = RedisStore(shared_store_url, lock_ttl=LEASE_TTL)
    await store.open()
    bot = StallsOnce()
    hub = Hub(store=store, bot=bot, retry=FAST)
    sent: list[str] = []
    hub.add_connector(FlakyChannel(links=channel_links(hub, tmp_path), sent=sent))
    await hub.start()
    try:
        with caplog.at_level(logging.WARNING, logger="frontdesk.hub"):
            await hub.ingest(Inbound(channel="flaky", sender="ana", message_id="m1", text=first))
            await until(lambda: "conversation lease lost mid-turn" in caplog.text)
        # The refused turn is still pending; the next message answers both, in order.
        await hub.ingest(Inbound(channel="flaky", sender="ana", message_id="m2", text=second))
        await until(lambda: len(sent) == 2)
        assert sent == [f"answer: {first}", f"answer: {second}"]
        customer = await store.find_customer("flaky:ana")
        assert customer is not None
        conversation = await store.latest_conversation(customer.id)
        assert conversation is not None
        texts = [
            e.data["outbound"]["text"]
            for e in await store.events(conversation.id)
            if e.type == EventType.MESSAGE_OUT
        ]
        assert texts == sent  # nothing of the stalled attempt was logged either
    finally:
        await hub.stop()
        await store.close()
