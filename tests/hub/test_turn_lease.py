"""The turn runner's lease (`Leases.turn_lease`): the lease with the turn context read under
it, on every backend; on Redis, taken by the script that reads the context and freed by the
commit that leaves nothing pending, so a turn's lease costs no round trip of its own."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from redis.asyncio import Redis

from hub.abc import TurnResult
from hub.errors import LeaseLost
from hub.model import Conversation, Inbound, InboundKind, Outbound
from hub.ports import Backend, TurnCommit
from hub.store_redis import RedisStore

TEXTS = [("Where is my order?", "It left today."), ("我的订单在哪里？", "今天已发出。")]


def message(text: str, message_id: str = "m1", *, sender: str = "ana", **kw: Any) -> Inbound:
    return Inbound(channel="api", sender=sender, message_id=message_id, text=text, **kw)


async def commit_reply(
    store: Backend,
    conversation_id: str,
    handled_seq: int,
    text: str,
    *,
    now: float,
    fence: int,
    known: Conversation | None = None,
) -> TurnCommit:
    """Commit a turn answering `handled_seq` with one reply, under `fence`."""
    return await store.commit_turn(
        conversation_id,
        handled_seq=handled_seq,
        result=TurnResult(replies=(Outbound(text=text),)),
        now=now,
        lease=30,
        known=known,
        fence=fence,
    )


@pytest.mark.parametrize(("question", "answer"), TEXTS)
async def test_turn_lease_reads_the_context_under_an_exclusive_lease(
    store: Backend, question: str, answer: str
) -> None:
    got = await store.record_inbound(message(question), now=1.0)
    conversation_id = got.conversation.id
    order: list[str] = []

    async def other_holder() -> None:
        async with store.conversation_lock(conversation_id):
            order.append("other")

    async with store.turn_lease(conversation_id, limit=10) as (lease, context):
        waiting = asyncio.create_task(other_holder())
        await asyncio.sleep(0.05)  # the other holder gets every chance to cut in
        order.append("turn")
        assert context == await store.turn_context(conversation_id, limit=10)
        assert context is not None
        conversation, events, customer = context
        assert events[-1].seq == got.event.seq
        assert Inbound.from_json(events[-1].data).text == question
        assert customer == got.customer
        await commit_reply(
            store,
            conversation_id,
            got.event.seq,
            answer,
            now=2.0,
            fence=lease.fence,
            known=conversation,
        )
    await waiting
    assert order == ["turn", "other"]
    async with store.turn_lease("con_missing", limit=10) as (_, missing):
        assert missing is None


# ---------------------------------------------------------------- Redis: round trips


@pytest.fixture
async def redis_store(redis_url: str) -> AsyncIterator[RedisStore]:
    store = RedisStore(redis_url)
    await store.open()
    yield store
    await store.close()


@pytest.fixture
async def observer(redis_url: str) -> AsyncIterator[Redis]:
    """A client of its own, so looking at the lock costs the store nothing."""
    client = Redis.from_url(redis_url, decode_responses=True)
    yield client
    await client.aclose()


def count_commands(store: RedisStore) -> list[str]:
    """The commands the store sends from now on, one per round trip (no pipeline here)."""
    sent: list[str] = []
    original: Callable[..., Awaitable[Any]] = store.redis.execute_command

    async def counted(*args: Any, **options: Any) -> Any:
        sent.append(str(args[0]))
        return await original(*args, **options)

    store.redis.execute_command = counted  # type: ignore[method-assign]
    return sent


def lock_key(store: RedisStore, conversation_id: str) -> str:
    return f"{store.prefix}lock:conv:{conversation_id}"


async def warm_up(store: RedisStore) -> None:
    """One whole turn first, so redis-py has loaded every script (a first call may cost a
    `SCRIPT LOAD` more) and holds its connection."""
    got = await store.record_inbound(message("warm up", "warm-1", sender="warm"), now=0.5)
    async with store.turn_lease(got.conversation.id, limit=10) as (lease, _):
        await commit_reply(
            store, got.conversation.id, got.event.seq, "ok", now=0.6, fence=lease.fence
        )
    async with store.conversation_lock("warm"):
        pass


@pytest.mark.parametrize(("question", "answer"), TEXTS)
async def test_a_turn_takes_its_lease_with_the_context_and_frees_it_with_the_commit(
    redis_store: RedisStore, observer: Redis, question: str, answer: str
) -> None:
    await warm_up(redis_store)
    got = await redis_store.record_inbound(message(question), now=1.0)
    conversation_id = got.conversation.id
    sent = count_commands(redis_store)
    async with redis_store.turn_lease(conversation_id, limit=10) as (lease, context):
        assert context is not None
        assert await observer.get(lock_key(redis_store, conversation_id)) is not None
        commit = await commit_reply(
            redis_store,
            conversation_id,
            got.event.seq,
            answer,
            now=2.0,
            fence=lease.fence,
            known=context[0],
        )
        # Nothing is pending: the commit freed the lease.
        assert await observer.get(lock_key(redis_store, conversation_id)) is None
    assert sent == ["EVALSHA", "EVALSHA"]  # lease + context, commit + release
    assert [d.outbound.text for d in commit.deliveries] == [answer]
    # The freed lease fences its holder out like an expired one.
    with pytest.raises(LeaseLost):
        await commit_reply(
            redis_store, conversation_id, got.event.seq, answer, now=3.0, fence=lease.fence
        )
    async with redis_store.turn_lease(conversation_id, limit=10) as (after, _):
        assert after.fence > lease.fence


async def test_a_commit_that_leaves_a_message_pending_keeps_the_lease(
    redis_store: RedisStore, observer: Redis
) -> None:
    await warm_up(redis_store)
    first = await redis_store.record_inbound(message("hello", "m1"), now=1.0)
    await redis_store.record_inbound(message("你好", "m2"), now=1.5)
    conversation_id = first.conversation.id
    sent = count_commands(redis_store)
    async with redis_store.turn_lease(conversation_id, limit=10) as (lease, context):
        assert context is not None
        await commit_reply(
            redis_store,
            conversation_id,
            first.event.seq,
            "hi",
            now=2.0,
            fence=lease.fence,
            known=context[0],
        )
        held = await observer.get(lock_key(redis_store, conversation_id))
        assert held is not None
        assert str(held).split(" ")[0] == str(lease.fence)  # "fence token": still ours
    assert await observer.get(lock_key(redis_store, conversation_id)) is None
    assert sent == ["EVALSHA", "EVALSHA", "EVALSHA"]  # lease + context, commit, release


async def test_a_full_context_keeps_the_lease_for_the_next_read(
    redis_store: RedisStore, observer: Redis
) -> None:
    """The runner reads on after a context of `limit` events, so its commits must not free
    the lease even when nothing is pending."""
    first = await redis_store.record_inbound(message("hello"), now=1.0)
    await redis_store.record_inbound(
        message("hello again", "m1-edit", kind=InboundKind.EDIT), now=1.5
    )
    conversation_id = first.conversation.id
    async with redis_store.turn_lease(conversation_id, limit=2) as (lease, context):
        assert context is not None and len(context[1]) == 2
        await commit_reply(
            redis_store, conversation_id, first.event.seq, "您好", now=2.0, fence=lease.fence
        )
        assert await observer.get(lock_key(redis_store, conversation_id)) is not None
    assert await observer.get(lock_key(redis_store, conversation_id)) is None
