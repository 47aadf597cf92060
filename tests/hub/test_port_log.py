"""The conversation log port (`hub.ports.EventLog`): append, read, the handled-turn
watermark. The same tests run on SQLite, a real redis-server and a Redis Cluster."""

from __future__ import annotations

import asyncio

from hub.abc import TurnResult
from hub.model import (
    ConversationStatus,
    EventType,
    Inbound,
    InboundKind,
    NewEvent,
    Outbound,
)
from hub.ports import Backend
from tests.hub.conftest import StoreFactory


def inbound(text: str = "hello", *, sender: str = "ana", message_id: str = "m1", **kw) -> Inbound:
    kw.setdefault("timestamp", 1.0)
    return Inbound(channel="api", sender=sender, message_id=message_id, text=text, **kw)


async def test_first_message_opens_customer_and_conversation(store: Backend) -> None:
    got = await store.record_inbound(inbound(), now=100.0)
    assert not got.duplicate
    assert got.customer.identities == ("api:ana",)
    assert got.conversation.status == ConversationStatus.BOT
    assert (got.conversation.channel, got.conversation.address) == ("api", "ana")
    events = await store.events(got.conversation.id)
    assert [(e.seq, e.type) for e in events] == [(1, EventType.OPENED), (2, EventType.MESSAGE_IN)]
    assert Inbound.from_json(events[1].data) == inbound()
    assert got.event == events[1]


async def test_duplicate_message_is_stored_once(store: Backend) -> None:
    first = await store.record_inbound(inbound(), now=100.0)
    again = await store.record_inbound(inbound("changed text"), now=101.0)
    assert again.duplicate
    assert again.event == first.event
    assert again.conversation.id == first.conversation.id
    assert len(await store.events(first.conversation.id)) == 2


async def test_same_sender_continues_and_other_sender_is_someone_else(store: Backend) -> None:
    a1 = await store.record_inbound(inbound(message_id="1"), now=1.0)
    a2 = await store.record_inbound(inbound(message_id="2"), now=2.0)
    b1 = await store.record_inbound(inbound(sender="bo", message_id="1b"), now=3.0)
    assert a1.conversation.id == a2.conversation.id
    assert a2.event.seq == 3
    assert b1.customer.id != a1.customer.id
    assert b1.conversation.id != a1.conversation.id
    found = await store.find_customer("api:ana")
    assert found is not None and found.id == a1.customer.id
    assert await store.get_customer(b1.customer.id) == b1.customer
    assert await store.find_customer("api:nobody") is None


async def test_thread_hint_scopes_the_conversation(store: Backend) -> None:
    plain = await store.record_inbound(inbound(message_id="1"), now=1.0)
    thread_a = await store.record_inbound(inbound(message_id="2", thread_hint="A"), now=2.0)
    thread_a2 = await store.record_inbound(inbound(message_id="3", thread_hint="A"), now=3.0)
    thread_b = await store.record_inbound(inbound(message_id="4", thread_hint="B"), now=4.0)
    assert len({plain.conversation.id, thread_a.conversation.id, thread_b.conversation.id}) == 3
    assert thread_a2.conversation.id == thread_a.conversation.id
    assert thread_a2.conversation.thread_hint == "A"


async def test_edits_are_logged_without_a_turn(store: Backend) -> None:
    got = await store.record_inbound(inbound(), now=1.0)
    await store.commit_turn(
        got.conversation.id, handled_seq=got.event.seq, result=TurnResult(), now=2.0, lease=30
    )
    edit = await store.record_inbound(
        inbound("hello!", message_id="m1-edit", kind=InboundKind.EDIT), now=3.0
    )
    assert edit.event.type == EventType.MESSAGE_EDITED
    assert await store.pending_conversations() == []


async def test_commit_turn_appends_in_order_and_queues_replies(store: Backend) -> None:
    got = await store.record_inbound(inbound(), now=10.0)
    assert await store.pending_conversations() == [got.conversation.id]
    result = TurnResult(
        replies=(Outbound(text="one"), Outbound(text="two")),
        events=(NewEvent(type=EventType.BOT_TURN, data={"intent": "greet", "score": 0.25}),),
        state={"flow": "hello", "slots": {"empty": [], "n": 1.5}},
        status=ConversationStatus.QUEUED,
        priority=1,
    )
    commit = await store.commit_turn(
        got.conversation.id, handled_seq=got.event.seq, result=result, now=11.0, lease=30
    )
    assert [e.type for e in commit.events] == [
        EventType.BOT_TURN,
        EventType.STATUS_CHANGED,
        EventType.MESSAGE_OUT,
        EventType.MESSAGE_OUT,
    ]
    assert [e.seq for e in commit.events] == [3, 4, 5, 6]
    assert commit.events[1].data == {"from": "bot", "to": "queued"}
    assert [d.seq for d in commit.deliveries] == [5, 6]
    assert [d.outbound.text for d in commit.deliveries] == ["one", "two"]
    assert commit.deliveries[0].address == "ana"
    conversation = await store.get_conversation(got.conversation.id)
    assert conversation is not None
    assert conversation.state == {"flow": "hello", "slots": {"empty": [], "n": 1.5}}
    assert (conversation.status, conversation.priority) == (ConversationStatus.QUEUED, 1)
    assert (conversation.handled_seq, conversation.last_seq) == (2, 6)
    assert await store.pending_conversations() == []
    assert await store.events(got.conversation.id, after_seq=2) == list(commit.events)


async def test_resolved_conversation_is_not_continued(store: Backend) -> None:
    first = await store.record_inbound(inbound(message_id="1"), now=1.0)
    await store.commit_turn(
        first.conversation.id,
        handled_seq=first.event.seq,
        result=TurnResult(status=ConversationStatus.RESOLVED),
        now=2.0,
        lease=30,
    )
    second = await store.record_inbound(inbound(message_id="2"), now=3.0)
    assert second.conversation.id != first.conversation.id
    latest = await store.latest_conversation(first.customer.id)
    assert latest is not None and latest.id == second.conversation.id


async def test_listings_page_newest_first(store: Backend) -> None:
    ids = []
    for n in range(5):
        got = await store.record_inbound(inbound(sender=f"s{n}", message_id=f"m{n}"), now=n)
        ids.append(got.conversation.id)
        await asyncio.sleep(0.002)  # ids are time-sortable at millisecond resolution
    first = await store.list_conversations(limit=2)
    second = await store.list_conversations(limit=2, cursor=first.next_cursor)
    third = await store.list_conversations(limit=2, cursor=second.next_cursor)
    listed = [c.id for page in (first, second, third) for c in page.items]
    assert listed == ids[::-1]
    assert third.next_cursor is None
    customers = await store.list_customers(limit=10)
    assert len(customers.items) == 5 and customers.next_cursor is None
    queued = await store.list_conversations(limit=10, status=ConversationStatus.QUEUED)
    assert queued.items == []


async def test_events_page_by_sequence(store: Backend) -> None:
    got = await store.record_inbound(inbound(), now=1.0)
    for n in range(2, 8):
        await store.record_inbound(inbound(message_id=f"m{n}"), now=n)
    page = await store.events(got.conversation.id, after_seq=3, limit=2)
    assert [e.seq for e in page] == [4, 5]
    everything = [e.seq async for e in store.iter_events(got.conversation.id, batch=3)]
    assert everything == list(range(1, 9))


async def test_concurrent_messages_get_gapless_sequence_numbers(store: Backend) -> None:
    await asyncio.gather(
        *(store.record_inbound(inbound(message_id=f"m{n}"), now=n) for n in range(40))
    )
    got = await store.record_inbound(inbound(message_id="last"), now=99.0)
    seqs = [e.seq for e in await store.events(got.conversation.id, limit=1000)]
    assert seqs == list(range(1, 43))


async def test_data_survives_reopening(make_store: StoreFactory) -> None:
    first = make_store()
    await first.open()
    got = await first.record_inbound(inbound(), now=1.0)
    await first.commit_turn(
        got.conversation.id,
        handled_seq=got.event.seq,
        result=TurnResult(replies=(Outbound(text="kept"),), state={"k": "v"}),
        now=2.0,
        lease=30,
    )
    await first.close()
    second = make_store()
    await second.open()
    try:
        conversation = await second.get_conversation(got.conversation.id)
        assert conversation is not None and conversation.state == {"k": "v"}
        assert len(await second.events(got.conversation.id)) == 3
        assert len(await second.claim_deliveries(now=100.0, limit=10, lease=30)) == 1
        assert (await second.record_inbound(inbound(), now=3.0)).duplicate
    finally:
        await second.close()


async def test_turn_context_reads_what_a_turn_needs(store: Backend) -> None:
    got = await store.record_inbound(inbound(message_id="1"), now=1.0)
    await store.commit_turn(
        got.conversation.id, handled_seq=got.event.seq, result=TurnResult(), now=2.0, lease=30
    )
    second = await store.record_inbound(inbound("again", message_id="2"), now=3.0)
    context = await store.turn_context(got.conversation.id, limit=10)
    assert context is not None
    conversation, events, customer = context
    assert conversation.handled_seq == 2
    assert [e.seq for e in events] == [second.event.seq]
    assert customer == got.customer
    assert await store.turn_context("con_missing", limit=10) is None


async def test_commit_turn_checks_a_stale_known_conversation(store: Backend) -> None:
    from dataclasses import replace

    got = await store.record_inbound(inbound(), now=1.0)
    stale = replace(got.conversation, status=ConversationStatus.QUEUED, channel="email")
    commit = await store.commit_turn(
        got.conversation.id,
        handled_seq=got.event.seq,
        result=TurnResult(replies=(Outbound(text="hi"),), status=ConversationStatus.BOT),
        now=2.0,
        lease=30,
        known=stale,
    )
    # Judged against the stored conversation, not the stale copy: no status change, and
    # the reply goes to the channel the customer really wrote from.
    assert [e.type for e in commit.events] == [EventType.MESSAGE_OUT]
    assert commit.deliveries[0].channel == "api"


async def test_commit_turn_can_route_replies_elsewhere(store: Backend) -> None:
    from hub.model import Route

    got = await store.record_inbound(inbound(), now=1.0)
    commit = await store.commit_turn(
        got.conversation.id,
        handled_seq=got.event.seq,
        result=TurnResult(replies=(Outbound(text="by mail"),)),
        now=2.0,
        lease=30,
        route=Route(channel="email", address="ana@example.com"),
    )
    (delivery,) = commit.deliveries
    assert (delivery.channel, delivery.address) == ("email", "ana@example.com")
    assert commit.events[-1].data["channel"] == "email"
