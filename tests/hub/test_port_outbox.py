"""The outbox port (`hub.ports.Outbox`): claim in per-conversation order, receipt, retry,
park, redrive and split progress, on SQLite, a real redis-server and a Redis Cluster."""

from __future__ import annotations

import pytest

from hub.abc import TurnResult
from hub.model import (
    Event,
    EventType,
    Outbound,
    Route,
)
from hub.ports import Backend, Delivered, Rescheduled
from tests.hub.conftest import StoreFactory
from tests.hub.test_port_log import inbound


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


async def test_a_receipt_returns_the_event_it_logged_as_a_log_read_gives_it(
    store: Backend,
) -> None:
    """What the caller publishes on the event bus is exactly the logged receipt."""
    commit = await _turn(store, "hi", "Hello!", "你好！", message_id="m1", now=100.0)
    one, two = commit.deliveries
    assert commit.lead == one
    receipt = {"message_ids": ["501"], "text": "已送达 delivered"}
    done = await store.record_delivered(one, receipt=receipt, now=101.0, lease=30)
    assert done.following is not None and done.following.id == two.id  # leased to us
    assert done.event is not None
    (logged,) = await store.events(one.conversation_id, after_seq=done.event.seq - 1, limit=1)
    assert done.event == logged
    assert (logged.type, logged.at, logged.data["receipt"]) == (EventType.DELIVERED, 101.0, receipt)
    assert logged.data["delivery_id"] == one.id

    # Without a lease: the event alone. A duplicate receipt logs nothing and says so.
    last = await store.record_delivered(two, receipt={}, now=102.0)
    assert last.following is None and last.event is not None
    assert last.event.seq == done.event.seq + 1
    assert await store.record_delivered(two, receipt={}, now=103.0, lease=30) == Delivered()
    conversation = await store.get_conversation(one.conversation_id)
    assert conversation is not None and conversation.last_seq == last.event.seq


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("Your parcel is on its way.", "503 Service Unavailable"),
        ("您的包裹已发出。", "503 服务不可用"),
    ],
)
async def test_a_failure_a_parking_and_a_redrive_return_the_events_they_logged(
    store: Backend, text: str, error: str
) -> None:
    """What the delivery worker publishes on the event bus is exactly what was logged."""
    lead = (await _turn(store, "hi", text, message_id="m1", now=100.0)).lead
    assert lead is not None

    async def logged_at(seq: int) -> Event:
        (event,) = await store.events(lead.conversation_id, after_seq=seq - 1, limit=1)
        return event

    failed = await store.record_failure(lead, error=error, retry_at=200.0, now=101.0)
    assert failed.delivery is not None and failed.delivery.last_error == error
    assert failed.event is not None and failed.event == await logged_at(failed.event.seq)
    assert (failed.event.type, failed.event.data["error"]) == (EventType.DELIVERY_FAILED, error)

    parked = await store.record_failure(failed.delivery, error=error, retry_at=None, now=201.0)
    assert parked.event is not None and parked.event == await logged_at(parked.event.seq)
    assert parked.event.type == EventType.DELIVERY_PARKED
    assert parked.event.seq == failed.event.seq + 1

    redriven = await store.record_redrive(failed.delivery.id, now=300.0)
    assert redriven.delivery is not None and redriven.delivery.outbound.text == text
    assert redriven.event is not None and redriven.event == await logged_at(redriven.event.seq)
    assert redriven.event.type == EventType.DELIVERY_REDRIVEN
    assert redriven.event.seq == parked.event.seq + 1
    # Nothing parked under that id any more: nothing done, nothing logged.
    assert await store.record_redrive(failed.delivery.id, now=301.0) == Rescheduled()
    conversation = await store.get_conversation(lead.conversation_id)
    assert conversation is not None and conversation.last_seq == redriven.event.seq


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


async def test_replies_to_a_channel_read_from_the_log_are_logged_but_never_queued(
    store: Backend,
) -> None:
    """The web chat's clients read replies from the log: its replies are delivered by the
    commit, so nothing of them waits in the outbox; a reply routed elsewhere still does."""
    got = await store.record_inbound(inbound("hi 你好", message_id="m1"), now=100.0)
    commit = await store.commit_turn(
        got.conversation.id,
        handled_seq=got.event.seq,
        result=TurnResult(replies=(Outbound(text="Hello!"), Outbound(text="你好！"))),
        now=100.0,
        lease=30,
        read_from_log={"api"},  # the channel `inbound()` writes on
    )
    assert (commit.deliveries, commit.lead) == ((), None)
    replies = [e for e in commit.events if e.type == EventType.MESSAGE_OUT]
    assert [e.data["outbound"]["text"] for e in replies] == ["Hello!", "你好！"]
    assert all(e.data["delivery_id"] and e.data["channel"] == "api" for e in replies)
    assert await store.events(got.conversation.id, after_seq=got.event.seq) == list(commit.events)
    assert await store.claim_deliveries(now=10_000.0, limit=10, lease=30) == []
    assert await store.claim_next(got.conversation.id, now=10_000.0, lease=30) is None
    assert (await store.dead_letters(limit=10)).items == []
    conversation = await store.get_conversation(got.conversation.id)
    assert conversation is not None and conversation.handled_seq == got.event.seq

    # Routed to a channel that is not read from the log, the same commit queues its reply.
    routed = await store.commit_turn(
        got.conversation.id,
        handled_seq=got.event.seq,
        result=TurnResult(replies=(Outbound(text="By mail. 邮件已发。"),)),
        now=101.0,
        lease=30,
        route=Route(channel="email", address="ana@example.com"),
        read_from_log={"api"},
    )
    (mailed,) = routed.deliveries
    assert routed.lead == mailed and mailed.channel == "email"
    assert mailed.outbound.text == "By mail. 邮件已发。"
