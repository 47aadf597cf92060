"""Every script of the Redis store is handed (in KEYS) every key it touches (issue 15: a
cluster routes a call by its keys): watched under MONITOR on a private redis-server and on
the private cluster's masters, each command a script runs names only keys its call declared,
for every store operation (`RECORD_INBOUND` too: the customer an identity names, their open
sets and the conversations in them are the caller's guesses, which the script checks)."""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import cast

import pytest
from redis.asyncio import Redis
from redis.asyncio.client import Monitor

from hub import store_redis_scripts as lua
from hub.abc import Elsewhere, TurnResult
from hub.model import ConversationStatus, Inbound, NewEvent, Outbound
from hub.store_redis import RedisStore
from hub.store_redis_core import _SCRIPTS
from tests.redis_cluster import RedisTestCluster

SCRIPTS = {
    hashlib.sha1(text.encode()).hexdigest(): name
    for name, text in vars(lua).items()
    if name.isupper() and isinstance(text, str)
}
ARG = re.compile(r'"((?:[^"\\]|\\.)*)"')
DONE = "watched-done"


@dataclass
class Call:
    """One script call as MONITOR showed it: its declared keys, the commands it ran."""

    script: str
    declared: list[str]
    ran: list[list[str]] = field(default_factory=list)

    def undeclared(self) -> set[str]:
        return {key for keys in self.ran for key in keys} - set(self.declared)


def arguments(line: str) -> list[str]:
    """A MONITOR line's quoted arguments (keys here are plain ASCII)."""
    return [re.sub(r"\\(.)", r"\1", arg) for arg in ARG.findall(line.split("] ", 1)[1])]


async def watched(node_urls: list[str], work: Callable[[], Awaitable[None]]) -> list[Call]:
    """The script calls `work` makes, under MONITOR on each of `node_urls` (a single Redis,
    or every master of a cluster)."""
    clients = [Redis.from_url(url, decode_responses=True) for url in node_urls]
    calls: list[list[Call]] = [[] for _ in clients]
    try:
        async with AsyncExitStack() as stack:
            monitors = [await stack.enter_async_context(c.monitor()) for c in clients]
            watchers = [
                asyncio.create_task(watch(monitor, into))
                for monitor, into in zip(monitors, calls, strict=True)
            ]
            await asyncio.sleep(0.1)  # MONITOR is on before the first call
            await work()
            for client in clients:  # MONITOR shows it after all of `work`
                await client.echo(DONE)
            await asyncio.wait_for(asyncio.gather(*watchers), 30)
        for client, node_calls in zip(clients, calls, strict=True):
            for call in node_calls:  # which arguments are keys: Redis says (`COMMAND GETKEYS`)
                call.ran = [
                    [str(key) for key in await client.command_getkeys(*args)] for args in call.ran
                ]
    finally:
        for client in clients:
            await client.aclose()
    return [call for node_calls in calls for call in node_calls]


async def watch(monitor: Monitor, calls: list[Call]) -> None:
    """Read one node's MONITOR lines into `calls` until our marker."""
    connection = monitor.connection
    assert connection is not None
    while True:
        line = str(await connection.read_response())
        args = arguments(line)
        if args == ["ECHO", DONE]:
            return
        if " lua] " in line and calls:
            calls[-1].ran.append(args)
        elif args and args[0].upper() == "EVALSHA" and args[1] in SCRIPTS:
            declared = args[3 : 3 + int(args[2])]
            if calls and calls[-1].declared == declared:
                calls.pop()  # a first try redis-py resent after loading it
            calls.append(Call(script=SCRIPTS[args[1]], declared=declared))


@pytest.fixture(params=["redis", "redis-cluster"])
def nodes(request: pytest.FixtureRequest) -> tuple[str, list[str]]:
    """(the store URL, the URL of each node that may hold its keys)."""
    if request.param == "redis":
        url = str(request.getfixturevalue("redis_url"))
        return url, [url]
    url = str(request.getfixturevalue("redis_cluster_url"))
    cluster = cast(RedisTestCluster, request.getfixturevalue("redis_cluster"))
    return url, [f"redis://127.0.0.1:{port}" for port in cluster.ports]


async def a_turn(
    store: RedisStore, text: str, message_id: str, *replies: str, **result: object
) -> None:
    """A message, its turn (lease adopted or taken), its first reply's receipt."""
    inbound = Inbound(channel="api", sender="ana", message_id=message_id, text=text)
    got = await store.record_inbound_and_lease(inbound, now=1.0, limit=10)
    async with store.turn_lease(got.conversation.id, limit=10) as (lease, context):
        assert context is not None
        commit = await store.commit_turn(
            got.conversation.id,
            handled_seq=got.event.seq,
            result=TurnResult(
                replies=tuple(Outbound(text=t) for t in (replies or (text,))),
                **result,  # type: ignore[arg-type]
            ),
            now=2.0,
            lease=30,
            known=context[0],
            fence=lease.fence,
        )
    assert commit.lead is not None
    await store.delivery_succeeded(commit.lead, receipt={}, now=3.0)


async def the_turn_path(store: RedisStore) -> str:
    """A new conversation, its status changed (the customer's open sets), with an answer
    logged in another conversation (`TurnResult.elsewhere`); the same customer's next
    message continues it; a runner that reads on, and one that takes the lease itself.
    → the other conversation's id."""
    other = await store.record_inbound(
        Inbound(channel="api", sender="bo", message_id="b1", text="你好"), now=0.5
    )
    score = NewEvent(type="csat.answered", data={"score": 5})
    elsewhere = (Elsewhere(conversation_id=other.conversation.id, events=(score,)),)
    await a_turn(
        store, "Where is my order?", "m1", status=ConversationStatus.QUEUED, elsewhere=elsewhere
    )
    await a_turn(store, "我的订单在哪里？", "m2", status=ConversationStatus.BOT)
    conversation = await store.latest_conversation((await customer_id(store)) or "")
    assert conversation is not None
    async with store.turn_lease(conversation.id, limit=10) as (_, context):
        assert context is not None and context[2] is not None
        assert await store.turn_context(conversation.id, limit=10) == context
    return other.conversation.id


async def the_outbox(store: RedisStore, stranger: RedisStore) -> None:
    """A turn of three replies: the first fails and waits, the poller claims it, its
    receipt claims the second, which is parked, so the third is claimed next; the parked
    one is listed and redriven ahead of it. `stranger`, a process that committed none of
    them, records the third's receipt (it guesses no head), which claims the redriven one,
    and that one's receipt."""
    got = await store.record_inbound(
        Inbound(channel="api", sender="cy", message_id="c1", text="Three answers, please"),
        now=10.0,
    )
    commit = await store.commit_turn(
        got.conversation.id,
        handled_seq=got.event.seq,
        result=TurnResult(replies=tuple(Outbound(text=t) for t in ("一", "two", "三"))),
        now=11.0,
        lease=30,
    )
    assert commit.lead is not None
    await store.delivery_progress(commit.lead.id, ["part 1"])
    waiting = await store.delivery_failed(commit.lead, error="busy", retry_at=12.0, now=11.5)
    assert waiting.attempts == 1
    [claimed] = await store.claim_deliveries(now=12.0, limit=10, lease=30)
    assert claimed.id == commit.lead.id and claimed.parts_sent == ("part 1",)
    second = await store.delivery_succeeded(claimed, receipt={}, now=13.0, lease=30)
    assert second is not None and second.id == commit.deliveries[1].id
    await store.delivery_failed(second, error="refused", retry_at=None, now=14.0)
    third = await store.claim_next(got.conversation.id, now=15.0, lease=30)
    assert third is not None and third.id == commit.deliveries[2].id
    page = await store.dead_letters(limit=1)
    assert [d.id for d in page.items] == [second.id] and page.next_cursor is None
    redriven = await store.redrive(second.id, now=16.0)
    assert redriven is not None
    again = await stranger.delivery_succeeded(third, receipt={}, now=17.0, lease=30)
    assert again is not None and again.id == second.id
    assert await stranger.delivery_succeeded(again, receipt={}, now=18.0, lease=30) is None
    assert await store.claim_next(got.conversation.id, now=19.0, lease=30) is None


async def the_rest(store: RedisStore) -> None:
    """The log's reads and appends, the directory, the limits and a plain lock."""
    ana = await customer_id(store)
    assert ana is not None
    [conversation] = await store.customer_conversations(ana)
    appended = await store.append_events(
        conversation.id, [NewEvent(type="note", data={"text": "回电话"})], now=20.0
    )
    assert [e.seq for e in await store.events(conversation.id, after_seq=appended[0].seq - 1)] == [
        appended[0].seq
    ]
    assert [e async for e in store.iter_events(conversation.id)][-1] == appended[0]
    assert len(await store.pending_conversations()) == 1  # bo's message had no turn
    found = await store.get_conversation(conversation.id)
    assert found is not None and found.last_seq == appended[0].seq
    first = await store.list_conversations(limit=1)
    rest = await store.list_conversations(limit=10, cursor=first.next_cursor)
    assert len(first.items) + len(rest.items) == 3 and rest.next_cursor is None
    bots = await store.list_conversations(limit=10, status=ConversationStatus.BOT)
    assert conversation.id in {c.id for c in bots.items}
    customers = await store.list_customers(limit=10)
    assert len(customers.items) == 3
    dan, created = await store.ensure_customer("email:dan@example.com", now=21.0)
    assert created
    assert await store.add_identity(dan.id, "api:dan", now=21.0) == dan.id
    updated = await store.update_customer(dan.id, attributes={"name": "丹"}, now=21.0)
    assert updated is not None
    merge = await store.merge_customers(ana, dan.id, reason={"by": "agent"}, now=22.0)
    assert await store.get_merge(merge.id) == merge
    assert await store.find_customer("api:dan") == await store.get_customer(ana)
    assert await store.unmerge_customers(merge.id, now=23.0) is not None
    await store.append_audit(dan.id, {"action": "viewed"}, now=24.0)
    assert len(await store.audit_trail(dan.id)) == 1
    assert await store.count_hit("otp:dan", window=60, now=24.0) == 1
    await store.put_challenge(dan.id, {"code": "123456"}, expires_at=100.0)
    assert await store.attempt_challenge(dan.id, now=25.0) is not None
    await store.drop_challenge(dan.id)
    assert await store.erase_customer(dan.id, now=26.0)
    async with store.conversation_lock(conversation.id) as lease:
        assert lease.fence > 0


async def test_every_store_script_touches_only_the_keys_it_is_handed(
    nodes: tuple[str, list[str]],
) -> None:
    url, node_urls = nodes
    store, stranger = RedisStore(url), RedisStore(url)
    await store.open()
    await stranger.open()
    asked: list[str] = []
    try:

        async def work() -> None:
            asked.append(await the_turn_path(store))
            await the_outbox(store, stranger)
            await the_rest(store)

        calls = await watched(node_urls, work)
        assert [e.type for e in await store.events(asked[0])][-1] == "csat.answered"
    finally:
        await store.close()
        await stranger.close()
    # Every script the store registers ran (and the lease lock's, checked alike).
    assert {*_SCRIPTS, "LOCK_ACQUIRE", "LOCK_RELEASE"} <= {call.script for call in calls}
    for call in calls:
        assert not call.undeclared(), (call.script, call.undeclared())
    took = [c for c in calls if any(":lock:" in k for keys in c.ran for k in keys)]
    assert [c.script for c in took if c.script == "RECORD_INBOUND"] == ["RECORD_INBOUND"] * 2
    # The stranger's receipt guessed no head: it was told the head and called again.
    heads = [c for c in calls if c.script == "DELIVERY_SUCCEEDED"]
    assert any(c.declared[-1] == "fd:{fd}:delivery:" and len(c.ran) <= 3 for c in heads)


async def customer_id(store: RedisStore) -> str | None:
    customer = await store.find_customer("api:ana")
    return customer.id if customer else None


# ------------------------------------------------- a wrong guess costs a read, never a turn


@pytest.fixture(
    params=[("Where is my order?", "It left today."), ("我的订单在哪里？", "今天已发出。")]
)
def qa(request: pytest.FixtureRequest) -> tuple[str, str]:
    return cast(tuple[str, str], request.param)


def mail(message_id: str, text: str) -> Inbound:
    """An email on one thread (its conversation has a thread key)."""
    return Inbound(
        channel="email",
        sender="ana@example.com",
        message_id=message_id,
        text=text,
        thread_hint="<t1@example>",
    )


async def test_a_process_that_never_saw_the_conversation_guesses_wrong_and_stays_correct(
    shared_store_url: str, qa: tuple[str, str]
) -> None:
    """Process B never saw the sender, nor the thread of an email conversation: its
    message is stored once a retry corrected its guess, with the lease, its turn context
    read by a third process reads the
    customer apart, its commit that changes the status retries once it has read the
    conversation, and its next message takes the lease again."""
    question, answer = qa
    first, second = RedisStore(shared_store_url), RedisStore(shared_store_url)
    await first.open()
    await second.open()
    try:
        opened = await first.record_inbound(mail("m1", "hi"), now=1.0)
        conversation_id = opened.conversation.id
        got = await second.record_inbound_and_lease(mail("m2", question), now=2.0, limit=10)
        assert got.conversation.id == conversation_id
        lock = second.keys.lease(conversation_id)[0]
        assert await second.redis.get(lock) is not None  # declared on the retry: taken
        async with second.turn_lease(conversation_id, limit=10):
            pass  # adopted, and released unused
        third, fourth = RedisStore(shared_store_url), RedisStore(shared_store_url)
        await third.open()  # neither has seen anything of it
        await fourth.open()
        try:
            context = await third.turn_context(conversation_id, limit=10)
            assert context is not None and context[2] == opened.customer
            async with third.turn_lease(conversation_id, limit=10) as (lease, leased):
                assert leased == context
                await fourth.commit_turn(  # a thread key it never read: retried
                    conversation_id,
                    handled_seq=got.event.seq,
                    result=TurnResult(
                        replies=(Outbound(text=answer),), status=ConversationStatus.RESOLVED
                    ),
                    now=3.0,
                    lease=30,
                    known=got.conversation,
                    fence=lease.fence,
                )
        finally:
            await third.close()
            await fourth.close()
        assert await first.latest_conversation(opened.customer.id) is not None
        resolved = await first.get_conversation(conversation_id)
        assert resolved is not None and resolved.status == ConversationStatus.RESOLVED
        # Resolved, it is no longer the customer's open one on that thread: a new one opens.
        again = await second.record_inbound_and_lease(mail("m3", question), now=4.0, limit=10)
        assert again.conversation.id != conversation_id
        assert await second.redis.get(second.keys.lease(again.conversation.id)[0]) is not None
    finally:
        await first.close()
        await second.close()


# ------------------------------------- a wrong guess of a sender's keys: refused, corrected


async def stored_once_corrected(
    nodes: tuple[str, list[str]], store: RedisStore, inbound: Inbound, now: float
) -> str:
    """`inbound` stored by `store` under MONITOR: its first call is refused (nothing
    written), the second, with the corrected keys, stores it; neither touches a key it was
    not handed. → the conversation it went to."""
    got: list[str] = []

    async def work() -> None:
        ingested = await store.record_inbound_and_lease(inbound, now=now, limit=10)
        got.append(ingested.conversation.id)

    calls = await watched(nodes[1], work)
    assert [c.script for c in calls] == ["RECORD_INBOUND"] * 2
    refused = calls[0]
    assert not any(args[0].upper() in {"SET", "HSET", "ZADD", "RPUSH"} for args in refused.ran)
    for call in calls:
        assert not call.undeclared(), call.undeclared()
    return got[0]


def chat(sender: str, message_id: str, text: str) -> Inbound:
    return Inbound(channel="api", sender=sender, message_id=message_id, text=text)


async def test_a_sender_merged_by_another_process_lands_in_the_kept_customers_conversation(
    nodes: tuple[str, list[str]], qa: tuple[str, str]
) -> None:
    """Process A stored Ana's first message; process B then merged Ana into Bo, whose open
    conversation moved last. Ana's next message through A, guessed as Ana's customer, is
    refused, and stored in Bo's conversation: the one the continuation rule picks."""
    question, _ = qa
    a, b = RedisStore(nodes[0]), RedisStore(nodes[0])
    await a.open()
    await b.open()
    try:
        ana = await a.record_inbound(chat("ana", "a1", "hi"), now=1.0)
        bo = await b.record_inbound(chat("bo", "b1", "你好"), now=2.0)
        await b.merge_customers(bo.customer.id, ana.customer.id, reason={"by": "agent"}, now=3.0)
        went_to = await stored_once_corrected(nodes, a, chat("ana", "a2", question), 4.0)
        assert went_to == bo.conversation.id
        [event] = (await a.events(went_to))[-1:]
        assert event.data["text"] == question
        again = await a.record_inbound(chat("ana", "a2", question), now=5.0)  # resent
        assert again.duplicate and again.customer.id == bo.customer.id
    finally:
        await a.close()
        await b.close()


async def test_a_conversation_opened_by_another_process_is_the_one_continued(
    nodes: tuple[str, list[str]], qa: tuple[str, str]
) -> None:
    """Process A stored the first email of a thread; process B resolved that conversation
    and stored the next email, which opened a new one. The third email through A, whose
    guess of the open conversations lacks it, is refused and stored in B's conversation."""
    question, answer = qa
    a, b = RedisStore(nodes[0]), RedisStore(nodes[0])
    await a.open()
    await b.open()
    try:
        first = await a.record_inbound(mail("m1", "hi"), now=1.0)
        await b.commit_turn(
            first.conversation.id,
            handled_seq=first.event.seq,
            result=TurnResult(replies=(Outbound(text=answer),), status=ConversationStatus.RESOLVED),
            now=2.0,
            lease=30,
        )
        second = await b.record_inbound(mail("m2", question), now=3.0)
        assert second.conversation.id != first.conversation.id
        went_to = await stored_once_corrected(nodes, a, mail("m3", question), 4.0)
        assert went_to == second.conversation.id
        texts = [e.data.get("text") for e in await a.events(went_to)]
        assert texts[-2:] == [question, question]
    finally:
        await a.close()
        await b.close()
