"""One contract, every store: the same tests run against SQLite and a real redis-server."""

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


async def test_outbox_lease_retry_park_and_redrive(store: Backend) -> None:
    got = await store.record_inbound(inbound(), now=100.0)
    commit = await store.commit_turn(
        got.conversation.id,
        handled_seq=got.event.seq,
        result=TurnResult(replies=(Outbound(text="hi"),)),
        now=100.0,
        lease=30,
    )
    (delivery,) = commit.deliveries
    # Leased to the committing process: nobody else may claim it yet.
    assert await store.claim_deliveries(now=110.0, limit=10, lease=30) == []
    claimed = await store.claim_deliveries(now=131.0, limit=10, lease=30)
    assert [d.id for d in claimed] == [delivery.id]
    assert await store.claim_deliveries(now=132.0, limit=10, lease=30) == []

    retried = await store.delivery_failed(delivery, error="503", retry_at=200.0, now=140.0)
    assert retried.attempts == 1 and retried.last_error == "503"
    assert await store.claim_deliveries(now=199.0, limit=10, lease=30) == []
    (again,) = await store.claim_deliveries(now=200.0, limit=10, lease=30)
    assert again.attempts == 1

    await store.delivery_failed(again, error="gone", retry_at=None, now=201.0)
    assert await store.claim_deliveries(now=10_000.0, limit=10, lease=30) == []
    parked = await store.dead_letters(limit=10)
    assert [(d.id, d.attempts, d.last_error) for d in parked.items] == [(delivery.id, 2, "gone")]

    redriven = await store.redrive(delivery.id, now=300.0)
    assert redriven is not None and redriven.attempts == 0
    assert (await store.dead_letters(limit=10)).items == []
    assert await store.redrive(delivery.id, now=301.0) is None
    (back,) = await store.claim_deliveries(now=300.0, limit=10, lease=30)
    await store.delivery_succeeded(back, receipt={"status": 204}, now=302.0)
    await store.delivery_succeeded(back, receipt={"status": 204}, now=303.0)  # a duplicate
    assert await store.claim_deliveries(now=10_000.0, limit=10, lease=30) == []
    types = [e.type for e in await store.events(got.conversation.id, after_seq=3)]
    assert types == [
        EventType.DELIVERY_FAILED,
        EventType.DELIVERY_PARKED,
        EventType.DELIVERY_REDRIVEN,
        EventType.DELIVERED,
    ]


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


async def test_conversation_lock_is_exclusive(store: Backend) -> None:
    order: list[str] = []

    async def hold(name: str) -> None:
        async with store.conversation_lock("con_x"):
            order.append(f"{name} in")
            await asyncio.sleep(0.05)
            order.append(f"{name} out")

    await asyncio.gather(hold("a"), hold("b"))
    assert order in (["a in", "a out", "b in", "b out"], ["b in", "b out", "a in", "a out"])


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


async def _turn(store: Backend, text: str, *texts: str, message_id: str, now: float):
    got = await store.record_inbound(inbound(text, message_id=message_id), now=now)
    replies = tuple(Outbound(text=t) for t in texts)
    return await store.commit_turn(
        got.conversation.id,
        handled_seq=got.event.seq,
        result=TurnResult(replies=replies),
        now=now,
        lease=30,
    )


async def test_outbox_hands_out_one_conversations_replies_strictly_in_order(
    store: Backend,
) -> None:
    first = await _turn(store, "hi", "Hello!", "你好！", message_id="m1", now=100.0)
    one, two = first.deliveries
    assert first.lead == one and first.lead.next_attempt_at == 130.0  # leased to us
    # The second reply is due, but it is not the head: nobody may take it yet.
    assert await store.claim_deliveries(now=100.0, limit=10, lease=30) == []
    assert await store.claim_next(one.conversation_id, now=100.0, lease=30) is None

    # The first fails and waits for its retry: the second still waits behind it, and so
    # does the next turn's answer.
    await store.delivery_failed(one, error="429", retry_at=110.0, now=101.0, throttled=True)
    later = await _turn(store, "again", "Still here. 还在。", message_id="m2", now=102.0)
    assert later.lead is None
    assert await store.claim_deliveries(now=109.0, limit=10, lease=30) == []
    (retried,) = await store.claim_deliveries(now=110.0, limit=10, lease=30)
    assert (retried.id, retried.attempts, retried.throttled) == (one.id, 1, 1)
    assert retried.failing_since == 101.0
    assert await store.claim_next(one.conversation_id, now=111.0, lease=30) is None  # in flight

    # Delivered: recording it hands out the next one at once (leased to us) …
    following = await store.delivery_succeeded(retried, receipt={}, now=111.0, lease=30)
    assert following is not None and following.id == two.id
    assert await store.claim_deliveries(now=112.0, limit=10, lease=30) == []
    # … and without a lease it is left to whoever claims first.
    assert await store.delivery_succeeded(following, receipt={}, now=112.0) is None
    (answer,) = await store.claim_deliveries(now=112.0, limit=10, lease=30)
    assert answer.outbound.text == "Still here. 还在。"
    await store.delivery_succeeded(answer, receipt={}, now=113.0)
    assert await store.claim_next(one.conversation_id, now=113.0, lease=30) is None
    fresh = await _turn(store, "bye", "Bye! 再见！", message_id="m3", now=114.0)
    assert fresh.lead is not None  # nothing outstanding: leased to us again


async def test_a_parked_reply_lets_the_next_go_and_others_are_not_held_up(store: Backend) -> None:
    ana = await _turn(store, "hi", "Hello", "Second", message_id="m1", now=100.0)
    bo_got = await store.record_inbound(inbound("你好", sender="bo", message_id="b1"), now=100.0)
    bo = await store.commit_turn(
        bo_got.conversation.id,
        handled_seq=bo_got.event.seq,
        result=TurnResult(replies=(Outbound(text="您好！"),)),
        now=100.0,
        lease=30,
    )
    head, second = ana.deliveries
    await store.delivery_failed(head, error="503", retry_at=500.0, now=101.0)
    assert bo.lead is not None
    await store.delivery_failed(bo.lead, error="503", retry_at=102.0, now=101.0)
    # Ana's conversation waits for its head; Bo's is not held up by it.
    claimed = await store.claim_deliveries(now=200.0, limit=10, lease=30)
    assert [d.outbound.text for d in claimed] == ["您好！"]
    await store.delivery_succeeded(claimed[0], receipt={}, now=201.0)

    (again,) = await store.claim_deliveries(now=500.0, limit=10, lease=30)
    await store.delivery_failed(again, error="gave up", retry_at=None, now=501.0)
    # Parked: visible, and no longer blocking the conversation.
    assert [d.id for d in (await store.dead_letters(limit=10)).items] == [head.id]
    nxt = await store.claim_next(head.conversation_id, now=501.0, lease=30)
    assert nxt is not None and nxt.id == second.id

    # Redriven, the parked reply goes back in front of whatever is still waiting.
    await _turn(store, "more", "Third", message_id="m2", now=502.0)
    await store.delivery_succeeded(nxt, receipt={}, now=503.0)
    redriven = await store.redrive(head.id, now=504.0)
    assert redriven is not None and (redriven.attempts, redriven.failing_since) == (0, 0.0)
    order = []
    for _ in range(2):
        (claimed_one,) = await store.claim_deliveries(now=600.0, limit=10, lease=30)
        order.append(claimed_one.outbound.text)
        await store.delivery_succeeded(claimed_one, receipt={}, now=601.0)
    assert order == ["Hello", "Third"]


async def test_split_progress_is_kept_with_the_delivery(make_store: StoreFactory) -> None:
    first = make_store()
    await first.open()
    commit = await _turn(first, "long", "x" * 9000, message_id="m1", now=100.0)
    (delivery,) = commit.deliveries
    await first.delivery_progress(delivery.id, ["1001"])
    await first.delivery_progress(delivery.id, ["1001", "1002"])
    # Recording the failure (which rewrites the entry) keeps what went out.
    await first.delivery_failed(delivery, error="502", retry_at=200.0, now=101.0)
    await first.close()

    second = make_store()  # a restart
    await second.open()
    try:
        (again,) = await second.claim_deliveries(now=200.0, limit=10, lease=30)
        assert again.parts_sent == ("1001", "1002")
        await second.delivery_failed(again, error="403", retry_at=None, now=201.0)
        (parked,) = (await second.dead_letters(limit=10)).items
        assert parked.parts_sent == ("1001", "1002")
        redriven = await second.redrive(delivery.id, now=300.0)
        assert redriven is not None and redriven.parts_sent == ("1001", "1002")
        (back,) = await second.claim_deliveries(now=300.0, limit=10, lease=30)
        await second.delivery_succeeded(back, receipt={}, now=301.0)
        await second.delivery_progress(delivery.id, ["late"])  # gone: nothing to do
        assert await second.claim_deliveries(now=10_000.0, limit=10, lease=30) == []
    finally:
        await second.close()
