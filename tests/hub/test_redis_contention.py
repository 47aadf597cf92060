"""A message whose sender keeps changing under it (issue 15): another client of the same
Redis merges and unmerges the sender's customer, or resolves their conversation and opens
another, just before each `RECORD_INBOUND` call of the storing process reaches Redis, so
each of those calls is refused. A burst of such changes longer than the store used to
allow still stores the message, once; an endless one ends in `Contention`, nothing
written, which the HTTP API answers with 503 and Retry-After. The same for a turn's
commit whose conversation keeps changing, and a look-up whose identity keeps moving. The
limit itself is chosen by `bench/contention.py` (docs/benchmarks.md)."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, cast

import pytest

from hub import store_redis_scripts as lua
from hub.abc import TurnResult
from hub.api import HUB
from hub.app import create_app
from hub.echo import EchoBot
from hub.errors import Contention
from hub.model import ConversationStatus, Customer, EventType, Inbound, Outbound
from hub.ports import TurnCommit
from hub.store_redis import RedisStore
from tests.support import channel_auth, hub_config, hub_env

MESSAGE = "/api/v1/channels/api/messages"
# More changes in a row than the three calls a message was allowed before the limit was
# measured, and fewer than it allows now.
BURST = 5
Changer = Callable[[], Awaitable[None]]
TEXTS = ("Where is my order?", "我的订单在哪里？")


@pytest.fixture(params=TEXTS, ids=("en", "zh"))
def question(request: pytest.FixtureRequest) -> str:
    return cast(str, request.param)


def chat(sender: str, message_id: str, text: str) -> Inbound:
    return Inbound(channel="api", sender=sender, message_id=message_id, text=text)


class Churn:
    """Another process's changes to `identity`'s customer, one per call of `change`:
    `merge` merges it into `partner` and unmerges it, in turn (the identity moves to the
    partner and back); `open` resolves its open conversation and writes as the sender,
    which opens another."""

    def __init__(self, other: RedisStore, kind: str, identity: str, partner: str) -> None:
        self.other, self.kind, self.identity, self.partner = other, kind, identity, partner
        self.merges: list[str] = []
        self.made = 0

    async def change(self) -> None:
        self.made += 1
        if self.kind == "merge":
            await self.flip()
        else:
            await self.reopen()

    async def flip(self) -> None:
        if self.merges:
            await self.other.unmerge_customers(self.merges.pop(), now=10.0 + self.made)
            return
        customer = await self.other.find_customer(self.identity)
        assert customer is not None
        merge = await self.other.merge_customers(
            self.partner, customer.id, reason={"by": "agent"}, now=10.0 + self.made
        )
        self.merges.append(merge.id)

    async def reopen(self) -> None:
        customer = await self.other.find_customer(self.identity)
        assert customer is not None
        conversation = await self.other.latest_conversation(customer.id)
        assert conversation is not None
        await self.other.commit_turn(
            conversation.id,
            handled_seq=conversation.last_seq,
            result=TurnResult(status=ConversationStatus.RESOLVED),
            now=10.0 + self.made,
            lease=30,
        )
        sender = self.identity.split(":", 1)[1]
        await self.other.record_inbound(
            chat(sender, f"elsewhere-{self.made}", "还在吗？"), now=10.0 + self.made
        )


def before_each_call(
    monkeypatch: pytest.MonkeyPatch,
    store: RedisStore,
    change: Changer,
    script: str = "RECORD_INBOUND",
) -> list[str]:
    """Run `change` (another client's write) just before each of `store`'s `script` calls
    is sent: between what the call was built from and the script. → the calls made."""
    run = store._run
    calls: list[str] = []

    async def changed_first(name: str, *args: Any, **options: Any) -> Any:
        if name == script:
            calls.append(name)
            await change()
        return await run(name, *args, **options)

    monkeypatch.setattr(store, "_run", changed_first)
    return calls


def at_most(times: int, change: Changer) -> Changer:
    """`change`, for the first `times` calls only."""
    left = itertools.count(times, -1)

    async def limited() -> None:
        if next(left) > 0:
            await change()

    return limited


async def stored(store: RedisStore, message_id: str) -> list[str]:
    """The text of every event that logs message `message_id`, in any conversation."""
    page = await store.list_conversations(limit=1000)
    return [
        str(event.data["text"])
        for conversation in page.items
        for event in await store.events(conversation.id, limit=-1)
        if event.data.get("message_id") == message_id
    ]


@pytest.fixture
async def stores(shared_store_url: str) -> AsyncIterator[tuple[RedisStore, RedisStore]]:
    """The storing process's store and another process's, on one Redis (or the cluster),
    with Ana's customer and conversation, and Bo's, whom Ana may be merged into."""
    mine, other = RedisStore(shared_store_url), RedisStore(shared_store_url)
    await mine.open()
    await other.open()
    await mine.record_inbound(chat("ana", "a1", "hi"), now=1.0)
    await other.record_inbound(chat("bo", "b1", "你好"), now=2.0)
    yield mine, other
    await mine.close()
    await other.close()


async def partner_of(store: RedisStore, identity: str) -> str:
    customer = await store.find_customer(identity)
    assert customer is not None
    return customer.id


@pytest.mark.parametrize("kind", ["merge", "open"])
async def test_a_message_survives_a_burst_of_changes_to_its_sender_but_not_an_endless_one(
    stores: tuple[RedisStore, RedisStore],
    kind: str,
    question: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A burst of changes: each refuses one call, the next stores the message, once (a
    resend is its duplicate). Endless changes: `Contention` at the limit, nothing written."""
    mine, other = stores
    churn = Churn(other, kind, "api:ana", await partner_of(other, "api:bo"))
    with monkeypatch.context() as patched:
        calls = before_each_call(patched, mine, at_most(BURST, churn.change))
        got = await mine.record_inbound_and_lease(chat("ana", "a2", question), now=30.0, limit=10)
    assert len(calls) == BURST + 1
    assert not got.duplicate
    assert await stored(mine, "a2") == [question]
    customer = await mine.find_customer("api:ana")
    assert customer is not None and got.customer.id == customer.id
    again = await mine.record_inbound(chat("ana", "a2", question), now=31.0)  # resent
    assert again.duplicate and again.event.seq == got.event.seq
    assert await stored(mine, "a2") == [question]

    calls = before_each_call(monkeypatch, mine, churn.change)
    with pytest.raises(Contention):
        await mine.record_inbound_and_lease(chat("ana", "a3", question), now=32.0, limit=10)
    assert len(calls) == lua.TURN_PATH_ATTEMPTS  # it ends, and only at the limit
    assert await stored(mine, "a3") == []


async def test_through_http_a_burst_is_stored_and_an_endless_change_is_a_503_to_retry(
    aiohttp_client: Any, tmp_path: Path, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The hub's ingest on Redis, with another process merging and unmerging the
    sender's customer: a burst of changes still gets the message acknowledged; endless
    changes get the client a 503 with Retry-After, nothing stored, and the same message
    sent again once they stop is stored once."""
    env = hub_env(tmp_path, FRONTDESK_STORE_URL=redis_url, FRONTDESK_BOT="echo")
    client = await aiohttp_client(create_app(hub_config(env), environ=env, bot=EchoBot()))
    store = client.app[HUB].store
    assert isinstance(store, RedisStore)
    other = RedisStore(redis_url)
    await other.open()
    try:
        for sender in ("a", "partner"):
            sent = await client.post(
                MESSAGE,
                json={"id": f"{sender}-0", "sender": sender, "text": "hi"},
                headers=channel_auth(),
            )
            assert sent.status == 202, await sent.text()
        churn = Churn(other, "merge", "api:a", await partner_of(other, "api:partner"))
        for number, text in enumerate(TEXTS, start=1):
            body = {"id": f"burst-{number}", "sender": "a", "text": text}
            with monkeypatch.context() as patched:
                before_each_call(patched, store, at_most(BURST, churn.change))
                sent = await client.post(MESSAGE, json=body, headers=channel_auth())
            assert sent.status == 202, await sent.text()
            assert await stored(other, f"burst-{number}") == [text]
        for number, text in enumerate(TEXTS, start=1):
            body = {"id": f"endless-{number}", "sender": "a", "text": text}
            with monkeypatch.context() as patched:
                before_each_call(patched, store, churn.change)
                sent = await client.post(MESSAGE, json=body, headers=channel_auth())
            assert sent.status == 503, await sent.text()
            assert sent.headers["Retry-After"].isdigit()
            assert await stored(other, f"endless-{number}") == []
            sent = await client.post(MESSAGE, json=body, headers=channel_auth())  # resent
            assert sent.status == 202, await sent.text()
            assert await stored(other, f"endless-{number}") == [text]
    finally:
        await other.close()


# ------------------------------------------- the turn's commit and the sender's look-up


async def test_a_commit_whose_conversation_keeps_changing_ends_at_the_limit(
    stores: tuple[RedisStore, RedisStore], question: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process moves the conversation between queued and bot just before each
    commit of a turn reaches Redis: each such commit is refused and rebuilt on a fresh
    read. A burst of it: the turn is committed once; endless: `Contention` at the limit,
    nothing written (the turn stays pending, and the sweep retries it)."""
    mine, other = stores
    got = await mine.record_inbound(chat("ana", "a2", question), now=3.0)
    statuses = itertools.cycle([ConversationStatus.QUEUED, ConversationStatus.BOT])

    async def move() -> None:
        await other.commit_turn(
            got.conversation.id,
            handled_seq=0,
            result=TurnResult(status=next(statuses)),
            now=4.0,
            lease=30,
        )

    async def replies() -> list[str]:
        events = await mine.events(got.conversation.id, limit=-1)
        return [e.data["outbound"]["text"] for e in events if e.type == EventType.MESSAGE_OUT]

    def commit(text: str) -> Awaitable[TurnCommit]:
        return mine.commit_turn(
            got.conversation.id,
            handled_seq=got.event.seq,
            result=TurnResult(replies=(Outbound(text=text),)),
            now=5.0,
            lease=30,
        )

    with monkeypatch.context() as patched:
        calls = before_each_call(patched, mine, at_most(BURST, move), "COMMIT_TURN")
        done = await commit(question)
    assert len(calls) == BURST + 1 and len(done.deliveries) == 1
    assert await replies() == [question]
    calls = before_each_call(monkeypatch, mine, move, "COMMIT_TURN")
    with pytest.raises(Contention):
        await commit(f"{question} (2)")
    assert len(calls) == lua.TURN_PATH_ATTEMPTS
    assert await replies() == [question]


async def test_a_look_up_whose_identity_keeps_moving_ends_at_the_limit(
    stores: tuple[RedisStore, RedisStore], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Just before each read of the customer the identity names, another process merges
    that customer into a newer one (its record goes, the identity moves on): a burst is
    followed to the customer kept; an endless one ends in `Contention` at the limit."""
    mine, other = stores
    read = mine.get_customer
    reads: list[str] = []
    newer = itertools.count()

    async def merge_away(customer_id: str) -> None:
        kept, _ = await other.ensure_customer(f"api:newer-{next(newer)}", now=5.0)
        await other.merge_customers(kept.id, customer_id, reason={"by": "agent"}, now=6.0)

    burst, endless = itertools.count(BURST, -1), False

    async def merged_first(customer_id: str) -> Customer | None:
        reads.append(customer_id)
        if endless or next(burst) > 0:
            await merge_away(customer_id)
        return await read(customer_id)

    monkeypatch.setattr(mine, "get_customer", merged_first)
    found = await mine.find_customer("api:ana")
    assert len(reads) == BURST + 1
    assert found is not None and "api:ana" in found.identities
    assert found == await other.find_customer("api:ana")
    reads.clear()
    endless = True
    with pytest.raises(Contention):
        await mine.find_customer("api:ana")
    assert len(reads) == lua.TURN_PATH_ATTEMPTS
