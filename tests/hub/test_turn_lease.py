"""The turn runner's lease (`Leases.turn_lease`): the lease with the turn context read under
it, on every backend; on Redis, taken by the script that reads the context and freed by the
commit that leaves nothing pending, so a turn's lease costs no round trip of its own."""

from __future__ import annotations

import asyncio
import hashlib
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, cast

import pytest
from redis.asyncio import Redis

from hub import store_redis_scripts as lua
from hub.abc import ConversationHandler, Turn, TurnResult
from hub.delivery import RetryPolicy
from hub.errors import LeaseLost
from hub.hub import Hub
from hub.model import Conversation, EventType, Inbound, InboundKind, Outbound
from hub.ports import Backend, TurnCommit
from hub.store_redis import RedisStore
from hub.store_redis_connect import RedisClient, connect
from hub.store_redis_keys import Sender
from tests.support import RecordingConnector, channel_links

TEXTS = [("Where is my order?", "It left today."), ("我的订单在哪里？", "今天已发出。")]


def message(
    text: str, message_id: str = "m1", *, sender: str = "ana", channel: str = "api", **kw: Any
) -> Inbound:
    return Inbound(channel=channel, sender=sender, message_id=message_id, text=text, **kw)


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


# ---------------------------------------------------------------- a turn in three calls


@pytest.fixture
async def shared_observer(shared_store_url: str) -> AsyncIterator[RedisClient]:
    """A client of its own on the Redis or the cluster (looking costs the store nothing)."""
    client = await connect(shared_store_url)
    yield client
    await client.aclose()


SCRIPTS = {
    hashlib.sha1(text.encode()).hexdigest(): name
    for name, text in vars(lua).items()
    if name.isupper() and isinstance(text, str)
}


def count_calls(store: RedisStore) -> list[str]:
    """What the store sends Redis from now on, one entry per round trip: a script call by
    its name (`RECORD_INBOUND` …), any other command by itself."""
    sent: list[str] = []
    original: Callable[..., Awaitable[Any]] = store.redis.execute_command

    async def counted(*args: Any, **options: Any) -> Any:
        command = str(args[0]).upper()
        sent.append(SCRIPTS.get(str(args[1]), command) if command == "EVALSHA" else command)
        return await original(*args, **options)

    store.redis.execute_command = counted  # type: ignore[method-assign]
    return sent


class Answers(ConversationHandler):
    """Answers each question of `TEXTS` in its language."""

    async def handle(self, turn: Turn) -> TurnResult:
        return TurnResult(replies=(Outbound(text=dict(TEXTS).get(turn.inbound.text, "ok")),))


class Phone(RecordingConnector):
    """What the hub delivered to `ana`, as texts."""

    def texts(self) -> list[str]:
        return [outbound.text for outbound in self.sent.get("ana", [])]


@asynccontextmanager
async def running_hub(store: RedisStore, files: Path) -> AsyncIterator[tuple[Hub, Phone]]:
    """A started hub on `store` whose background work (outbox poll, pending sweep) runs
    once at start and then not while the test counts; and its channel."""
    await store.open()
    hub = Hub(store=store, bot=Answers(), retry=RetryPolicy(poll_interval=3600.0))
    hub.sweep_interval = 3600.0
    phone = Phone(links=channel_links(hub, files))
    hub.add_connector(phone)
    await hub.start()
    try:
        yield hub, phone
    finally:
        await hub.stop()
        await store.close()


def to_phone(text: str, message_id: str = "m1") -> Inbound:
    return message(text, message_id, channel=Phone.name)


async def until(condition: Callable[[], bool | Awaitable[bool]]) -> None:
    """Wait until `condition()` holds (a guard against hanging, not a timing assertion)."""

    async def poll() -> None:
        while True:
            held = condition()
            if await held if inspect.isawaitable(held) else held:
                return
            await asyncio.sleep(0.01)

    await asyncio.wait_for(poll(), 30)


async def receipts_logged(
    observer: RedisClient, store: RedisStore, conversation_id: str, count: int = 1
) -> bool:
    """Whether the conversation's log holds `count` delivery receipts (the last write of a
    turn), as another client reads it."""
    events = await observer.lrange(f"{store.prefix}conv:{conversation_id}:events", 0, -1)
    return sum(f'"{EventType.DELIVERED.value}"' in str(event) for event in events) == count


@pytest.fixture(params=TEXTS, ids=["en", "zh"])
def qa(request: pytest.FixtureRequest) -> tuple[str, str]:
    """A question and its answer, in English and in Chinese."""
    return cast(tuple[str, str], request.param)


async def test_a_plain_turn_is_three_store_calls(
    shared_store_url: str, shared_observer: RedisClient, tmp_path: Path, qa: tuple[str, str]
) -> None:
    """Store the message (and take the lease, and read the turn), commit (and free the
    lease), record the receipt: on one Redis and on the cluster."""
    question, answer = qa
    store = RedisStore(shared_store_url)
    async with running_hub(store, tmp_path) as (hub, phone):
        warm = await hub.ingest(to_phone("warm up", "m0"))  # redis-py loads every script
        await until(lambda: receipts_logged(shared_observer, store, warm.conversation_id))
        calls = count_calls(store)
        receipt = await hub.ingest(to_phone(question))
        await until(lambda: receipts_logged(shared_observer, store, receipt.conversation_id, 2))
        assert calls == ["RECORD_INBOUND", "COMMIT_TURN", "DELIVERY_SUCCEEDED"]
        assert phone.texts() == ["ok", answer]
        # The commit freed the lease the message took; each turn took a fence of its own.
        lock = lock_key(store, receipt.conversation_id)
        assert await shared_observer.get(lock) is None
        assert await shared_observer.get(f"{lock}:fence") == "2"


async def test_a_lease_held_elsewhere_is_waited_for_then_taken_with_the_context(
    shared_store_url: str, shared_observer: RedisClient, tmp_path: Path, qa: tuple[str, str]
) -> None:
    """Another process holds the conversation (an agent's reply there): storing the message
    does not take the lease; the turn runner waits for it and takes it with its context."""
    question, answer = qa
    store = RedisStore(shared_store_url)
    other = RedisStore(shared_store_url)
    await other.open()
    try:
        async with running_hub(store, tmp_path) as (hub, phone):
            first = await hub.ingest(to_phone("warm up", "m0"))
            await until(lambda: receipts_logged(shared_observer, store, first.conversation_id))
            conversation_id = first.conversation_id
            calls = count_calls(store)
            async with other.conversation_lock(conversation_id) as elsewhere:
                await hub.ingest(to_phone(question))
                held = await shared_observer.get(lock_key(store, conversation_id))
                assert str(held).split(" ")[0] == str(elsewhere.fence)  # not taken from them
                await asyncio.sleep(0.05)  # the turn runner gets every chance to cut in
                answered_while_held = phone.texts()[1:]
            await until(lambda: receipts_logged(shared_observer, store, conversation_id, 2))
            assert answered_while_held == [] and phone.texts()[1] == answer
            assert calls[0] == "RECORD_INBOUND"
            assert "TURN_LEASE" in calls and calls[-2:] == ["COMMIT_TURN", "DELIVERY_SUCCEEDED"]
    finally:
        await other.close()


async def test_a_lease_taken_with_the_message_and_lost_cannot_commit(
    shared_store_url: str, shared_observer: RedisClient, qa: tuple[str, str]
) -> None:
    """The process that stored the message stalls past its lease; another takes the
    conversation and answers. The first one's commit, under its stale fence, is refused and
    writes nothing."""
    question, answer = qa
    stalled = RedisStore(shared_store_url)
    other = RedisStore(shared_store_url)
    await stalled.open()
    await other.open()
    try:
        got = await stalled.record_inbound_and_lease(message(question), now=1.0, limit=10)
        conversation_id = got.conversation.id
        assert await shared_observer.get(lock_key(stalled, conversation_id)) is not None
        await shared_observer.delete(lock_key(stalled, conversation_id))  # as if expired
        async with other.turn_lease(conversation_id, limit=10) as (theirs, context):
            assert context is not None and context[1][-1].seq == got.event.seq
            await commit_reply(
                other, conversation_id, got.event.seq, answer, now=2.0, fence=theirs.fence
            )
        async with stalled.turn_lease(conversation_id, limit=10) as (ours, adopted):
            assert ours.fence < theirs.fence
            assert adopted is not None and adopted[1][-1].seq == got.event.seq  # as read then
            with pytest.raises(LeaseLost):
                await commit_reply(
                    stalled, conversation_id, got.event.seq, answer, now=3.0, fence=ours.fence
                )
        replies = [
            e for e in await other.events(conversation_id) if e.type == EventType.MESSAGE_OUT
        ]
        assert [Outbound.from_json(e.data["outbound"]).text for e in replies] == [answer]
    finally:
        await stalled.close()
        await other.close()


async def test_a_process_that_died_holding_the_lease_of_a_stored_message_is_taken_over(
    shared_store_url: str, shared_observer: RedisClient, tmp_path: Path, qa: tuple[str, str]
) -> None:
    """A process stores the message (taking the lease with it) and dies before its turn:
    once the lease expires, another process's hub answers the pending turn."""
    question, answer = qa
    died = RedisStore(shared_store_url, lock_ttl=0.3)
    await died.open()
    got = await died.record_inbound_and_lease(to_phone(question), now=1.0, limit=10)
    lock = lock_key(died, got.conversation.id)
    assert await shared_observer.get(lock) is not None
    await died.redis.aclose()  # no release, no commit: gone
    async with running_hub(RedisStore(shared_store_url, lock_ttl=0.3), tmp_path) as (_, phone):
        await until(lambda: len(phone.texts()) == 1)
    assert phone.texts() == [answer]
    assert await shared_observer.get(f"{lock}:fence") == "2"


async def test_a_resent_message_takes_no_lease_and_gets_one_answer(
    shared_store_url: str, shared_observer: RedisClient, tmp_path: Path, qa: tuple[str, str]
) -> None:
    question, answer = qa
    store = RedisStore(shared_store_url)
    async with running_hub(store, tmp_path) as (hub, phone):
        first = await hub.ingest(to_phone(question))
        await until(lambda: receipts_logged(shared_observer, store, first.conversation_id))
        calls = count_calls(store)
        again = await hub.ingest(to_phone(question))
        assert again.duplicate and again.seq == first.seq
        assert calls == ["RECORD_INBOUND"]
        assert await shared_observer.get(lock_key(store, first.conversation_id)) is None
    assert phone.texts() == [answer]


async def test_a_resent_script_call_takes_the_lease_it_took_the_first_time(
    shared_store_url: str,
) -> None:
    """redis-py resends a call whose reply was lost: the resent call finds the message it
    stored and the lease it took, and answers as the first one did (same fence)."""
    store = RedisStore(shared_store_url)
    await store.open()
    try:
        call = f"{store.prefix}op:resent"
        args: list[str | int] = [
            store.prefix,
            *("api", "m1", "api:ana", "cus_1", '{"id": "cus_1", "identities": ["api:ana"]}'),
            *("con_1", "1.0", "ana", "", '{"type": "conversation.opened", "at": 1.0}'),
            *('{"type": "message.in", "at": 1.0, "data": {}}', "", "1", ""),
            *("token-1", 10_000, 10, "", ""),
        ]
        inbound = Inbound(channel="api", sender="ana", message_id="m1", text="")
        # A sender never seen: the new customer's keys, and the new conversation's.
        named = store._inbound_keys(inbound, Sender(), opening="con_1", customer="cus_1")
        keys = [call, *named]
        script = store._scripts["RECORD_INBOUND"]
        first, resent = [await script(keys=keys, args=args) for _ in range(2)]
        assert resent[0] == 0 and resent[1] == first[1]  # not a duplicate: our own write
        assert resent[5] == first[5] == 1 and resent[6] == first[6]
    finally:
        await store.close()
