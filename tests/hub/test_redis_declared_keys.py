"""The Redis store's scripts on the turn path are handed (in KEYS) every key they touch
(issue 15: a cluster routes a call by its keys): watched under MONITOR on a private
redis-server, each command such a script runs names only keys its call declared.

`RECORD_INBOUND` still reads keys it derives from what it reads (the customer an identity
names, the conversations open for it: docs/architecture.md, "Redis Cluster"); of it, the
turn lease it takes is checked here."""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import cast

import pytest
from redis.asyncio import Redis

from hub import store_redis_scripts as lua
from hub.abc import Elsewhere, TurnResult
from hub.model import ConversationStatus, Inbound, NewEvent, Outbound
from hub.store_redis import RedisStore

SCRIPTS = {
    hashlib.sha1(text.encode()).hexdigest(): name
    for name, text in vars(lua).items()
    if name.isupper() and isinstance(text, str)
}
ARG = re.compile(r'"((?:[^"\\]|\\.)*)"')
# Scripts whose every key must be declared.
WHOLLY = {"TURN_LEASE", "TURN_CONTEXT", "COMMIT_TURN", "DELIVERY_SUCCEEDED"}


@dataclass
class Call:
    """One script call as MONITOR showed it: its declared keys, the commands it ran."""

    script: str
    declared: list[str]
    ran: list[list[str]] = field(default_factory=list)


def arguments(line: str) -> list[str]:
    """A MONITOR line's quoted arguments (keys here are plain ASCII)."""
    return [re.sub(r"\\(.)", r"\1", arg) for arg in ARG.findall(line.split("] ", 1)[1])]


async def watched(redis_url: str, work: Callable[[], Awaitable[None]]) -> list[Call]:
    """The script calls `work` makes, under MONITOR."""
    client = Redis.from_url(redis_url, decode_responses=True)
    calls: list[Call] = []
    done = asyncio.Event()
    try:
        async with client.monitor() as monitor:
            assert monitor.connection is not None
            connection = monitor.connection

            async def watch() -> None:
                while True:
                    line = str(await connection.read_response())
                    args = arguments(line)
                    if args == ["SET", "watched", "done"]:
                        done.set()
                    elif " lua] " in line and calls:
                        calls[-1].ran.append(args)
                    elif args and args[0].upper() == "EVALSHA" and args[1] in SCRIPTS:
                        declared = args[3 : 3 + int(args[2])]
                        if calls and calls[-1].declared == declared:
                            calls.pop()  # a first try redis-py resent after loading it
                        calls.append(Call(script=SCRIPTS[args[1]], declared=declared))

            watcher = asyncio.create_task(watch())
            await asyncio.sleep(0.1)  # MONITOR is on before the first call
            await work()
            await client.set("watched", "done")  # MONITOR shows it after all of `work`
            await asyncio.wait_for(done.wait(), 30)
            watcher.cancel()
            await asyncio.gather(watcher, return_exceptions=True)
        for call in calls:  # which arguments are keys: Redis says (`COMMAND GETKEYS`)
            call.ran = [
                [str(key) for key in await client.command_getkeys(*args)] for args in call.ran
            ]
    finally:
        await client.aclose()
    return calls


async def a_turn(store: RedisStore, text: str, message_id: str, **result: object) -> None:
    """A message, its turn (lease adopted or taken), its reply's receipt."""
    inbound = Inbound(channel="api", sender="ana", message_id=message_id, text=text)
    got = await store.record_inbound_and_lease(inbound, now=1.0, limit=10)
    async with store.turn_lease(got.conversation.id, limit=10) as (lease, context):
        assert context is not None
        commit = await store.commit_turn(
            got.conversation.id,
            handled_seq=got.event.seq,
            result=TurnResult(replies=(Outbound(text=text),), **result),  # type: ignore[arg-type]
            now=2.0,
            lease=30,
            known=context[0],
            fence=lease.fence,
        )
    assert commit.lead is not None
    await store.delivery_succeeded(commit.lead, receipt={}, now=3.0)


async def test_turn_path_scripts_touch_only_the_keys_they_are_handed(
    redis_store: RedisStore, redis_url: str
) -> None:
    store = redis_store
    asked: list[str] = []

    async def work() -> None:
        # A new conversation, its status changed (the customer's open sets); then the
        # same customer's next message continues it; then a runner that reads on, and one
        # that takes the lease itself (nobody took it with a message).
        # The first also logs an answer in another conversation (`TurnResult.elsewhere`).
        other = await store.record_inbound(
            Inbound(channel="api", sender="bo", message_id="b1", text="你好"), now=0.5
        )
        asked.append(other.conversation.id)
        score = NewEvent(type="csat.answered", data={"score": 5})
        elsewhere = (Elsewhere(conversation_id=other.conversation.id, events=(score,)),)
        await a_turn(
            store,
            "Where is my order?",
            "m1",
            status=ConversationStatus.QUEUED,
            elsewhere=elsewhere,
        )
        await a_turn(store, "我的订单在哪里？", "m2", status=ConversationStatus.BOT)
        conversation = await store.latest_conversation((await customer_id(store)) or "")
        assert conversation is not None
        async with store.turn_lease(conversation.id, limit=10) as (_, context):
            assert context is not None and context[2] is not None
            assert await store.turn_context(conversation.id, limit=10) == context

    calls = await watched(redis_url, work)
    assert [e.type for e in await store.events(asked[0])][-1] == "csat.answered"
    seen = {call.script for call in calls}
    assert WHOLLY | {"RECORD_INBOUND"} <= seen
    for call in calls:
        touched = {key for keys in call.ran for key in keys}
        if call.script in WHOLLY:
            assert touched <= set(call.declared), call.script
        if call.script == "RECORD_INBOUND":
            leases = {key for key in touched if ":lock:" in key}
            assert leases <= set(call.declared)
    took = [c for c in calls if any(":lock:" in k for keys in c.ran for k in keys)]
    assert [c.script for c in took if c.script == "RECORD_INBOUND"] == ["RECORD_INBOUND"] * 2


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
    message stores without the lease (the runner takes it), its turn context reads the
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
        assert await second.redis.get(lock) is None  # not declared: not taken
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
