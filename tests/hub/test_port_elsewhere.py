"""A turn's events for other conversations (`TurnResult.elsewhere`: a CSAT answer for the
conversation that asked) are part of its commit: written in the same store write as the
turn, or not at all. On SQLite, a real redis-server and a Redis Cluster."""

from __future__ import annotations

import pytest

from hub.abc import Elsewhere, TurnResult
from hub.errors import LeaseLost
from hub.model import EventType, Inbound, NewEvent, Outbound
from hub.ports import Backend, Ingested
from hub.store_redis import RedisStore

SCORE = NewEvent(type="csat.answered", data={"score": 4, "answer_to": "c:2"})
COMMENT = NewEvent(type="csat.comment", data={"text": "很快，谢谢"})


async def two_conversations(store: Backend) -> tuple[Ingested, Ingested]:
    """One customer's conversation that asked (on one thread) and the one they answer in."""
    asked = await store.record_inbound(
        Inbound(channel="api", sender="ana", message_id="m1", text="hi", thread_hint="t1"),
        now=10.0,
    )
    answering = await store.record_inbound(
        Inbound(channel="api", sender="ana", message_id="m2", text="4", thread_hint="t2"),
        now=11.0,
    )
    assert asked.conversation.id != answering.conversation.id
    return asked, answering


def answer(asked: Ingested) -> TurnResult:
    return TurnResult(
        replies=(Outbound(text="Thanks!"),),
        events=(NewEvent(type=EventType.BOT_TURN, data={"intent": "csat"}),),
        elsewhere=(Elsewhere(conversation_id=asked.conversation.id, events=(SCORE, COMMENT)),),
    )


async def test_a_turn_logs_in_another_conversation_in_its_commit(store: Backend) -> None:
    asked, answering = await two_conversations(store)
    commit = await store.commit_turn(
        answering.conversation.id,
        handled_seq=answering.event.seq,
        result=answer(asked),
        now=12.0,
        lease=30,
    )
    there = await store.events(asked.conversation.id, after_seq=asked.event.seq)
    assert [(e.type, dict(e.data)) for e in there] == [
        ("csat.answered", dict(SCORE.data)),
        ("csat.comment", dict(COMMENT.data)),
    ]
    assert list(commit.elsewhere) == there
    assert [e.seq for e in there] == [asked.event.seq + 1, asked.event.seq + 2]
    here = await store.events(answering.conversation.id, after_seq=answering.event.seq)
    assert [e.type for e in here] == [EventType.BOT_TURN, EventType.MESSAGE_OUT]
    assert list(commit.events) == here
    other = await store.get_conversation(asked.conversation.id)
    assert other is not None and other.last_seq == there[-1].seq
    assert await store.pending_conversations() == [asked.conversation.id]  # its own "hi"


async def test_a_refused_commit_logs_nowhere(store: Backend) -> None:
    asked, answering = await two_conversations(store)
    conversation_id = answering.conversation.id
    async with store.conversation_lock(conversation_id) as lease:
        await store.commit_turn(
            conversation_id, handled_seq=0, result=TurnResult(), now=12.0, lease=30,
            fence=lease.fence,
        )  # fmt: skip
    # A holder whose lease is no longer current: nothing of its turn is written, there
    # nor here, so the turn run again by the conversation's holder writes it once.
    with pytest.raises(LeaseLost):
        await store.commit_turn(
            conversation_id, handled_seq=answering.event.seq, result=answer(asked), now=13.0,
            lease=30, fence=lease.fence - 1,
        )  # fmt: skip
    assert await store.events(asked.conversation.id, after_seq=asked.event.seq) == []
    assert await store.events(conversation_id, after_seq=answering.event.seq) == []
    assert conversation_id in await store.pending_conversations()


async def test_a_conversation_gone_is_passed_over(store: Backend) -> None:
    _, answering = await two_conversations(store)
    result = TurnResult(
        replies=(Outbound(text="Thanks!"),),
        elsewhere=(Elsewhere(conversation_id="c_gone", events=(SCORE,)),),
    )
    commit = await store.commit_turn(
        answering.conversation.id, handled_seq=answering.event.seq, result=result, now=12.0,
        lease=30,
    )  # fmt: skip
    assert commit.elsewhere == ()
    assert [e.type for e in commit.events] == [EventType.MESSAGE_OUT]


async def test_its_own_conversation_is_not_elsewhere(store: Backend) -> None:
    _, answering = await two_conversations(store)
    result = TurnResult(
        elsewhere=(Elsewhere(conversation_id=answering.conversation.id, events=(SCORE,)),)
    )
    with pytest.raises(ValueError, match="own conversation"):
        await store.commit_turn(
            answering.conversation.id, handled_seq=answering.event.seq, result=result,
            now=12.0, lease=30,
        )  # fmt: skip
    assert await store.events(answering.conversation.id, after_seq=answering.event.seq) == []


async def test_a_resent_commit_script_appends_nowhere_twice(
    shared_store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """redis-py resends a script after a dropped connection (the reply, not the write, may
    have been lost): the call's idempotency record answers with what the first wrote,
    the other conversation's first seq too."""
    store = RedisStore(shared_store_url)
    await store.open()
    try:
        asked, answering = await two_conversations(store)
        # Both calls named alike: the second is the first one's resend.
        monkeypatch.setattr("hub.store_redis_core.os.urandom", lambda n: b"\x01" * n)
        commits = [
            await store.commit_turn(
                answering.conversation.id,
                handled_seq=answering.event.seq,
                result=answer(asked),
                now=12.0,
                lease=30,
            )
            for _ in range(2)
        ]
        assert commits[0].elsewhere == commits[1].elsewhere != ()
        there = await store.events(asked.conversation.id, after_seq=asked.event.seq)
        assert [e.type for e in there] == ["csat.answered", "csat.comment"]
    finally:
        await store.close()
