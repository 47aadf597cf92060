"""The Redis search index in rounds: the conversations the hub's listener names are indexed
together, one script call for all of them, from their logs behind their watermarks; a
search first runs the round, so it finds what was stored at once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from hub.model import Event, Inbound
from hub.search_redis import RedisSearch
from hub.search_text import parse_query
from hub.store_redis import RedisStore

TEXTS = [
    ("ana", "my parcel never arrived", "parcel"),
    ("bo", "我的包裹还没到", "包裹"),
]


@pytest.fixture
async def index(redis_store: RedisStore) -> AsyncIterator[RedisSearch]:
    started = RedisSearch(redis_store)
    await started.start()  # its catch-up finds nothing: everything is written afterwards
    yield started
    await started.stop()


async def stored(store: RedisStore, sender: str, text: str, n: int = 1) -> list[Event]:
    got = await store.record_inbound(
        Inbound(channel="api", sender=sender, message_id=f"{sender}{n}", text=text), now=10.0 + n
    )
    return await store.events(got.conversation.id)


def counting(monkeypatch: pytest.MonkeyPatch, target: object, name: str) -> list[tuple[Any, ...]]:
    """The arguments of every call of `target.name` from now on."""
    calls: list[tuple[Any, ...]] = []
    real = getattr(target, name)

    async def wrapped(*args: Any, **kw: Any) -> Any:
        calls.append(args)
        return await real(*args, **kw)

    monkeypatch.setattr(target, name, wrapped)
    return calls


async def found(index: RedisSearch, word: str) -> list[str]:
    hits = await index.search(parse_query(word), kind="conversation", scope=None, limit=10)
    return [hit.conversation_id for hit in hits.items]


async def test_the_conversations_of_a_round_are_indexed_in_one_script_call(
    index: RedisSearch, redis_store: RedisStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    logs = [await stored(redis_store, sender, text) for sender, text, _ in TEXTS]
    script_calls = counting(monkeypatch, index, "_add_many")
    for events in logs:
        index.on_events(events)  # as the bus hands them over
    # The search runs the round first: both conversations' messages in one call.
    for (_, _, word), events in zip(TEXTS, logs, strict=True):
        assert await found(index, word) == [events[0].conversation_id]
    conversations = [[group[0] for group in call[0]] for call in script_calls if call[0]]
    assert conversations == [sorted(events[0].conversation_id for events in logs)]


@pytest.mark.parametrize(("sender", "text", "word"), TEXTS)
async def test_a_round_indexes_the_log_behind_the_watermark_not_just_what_was_named(
    index: RedisSearch, redis_store: RedisStore, sender: str, text: str, word: str
) -> None:
    events = await stored(redis_store, sender, text)
    later = await stored(redis_store, sender, f"{text} 2", n=2)
    index.on_events(later[len(events) :])  # only the second message handed over
    assert await found(index, word) == [events[0].conversation_id] * 2
    watermark = await redis_store.redis.hget(index.keys.of("seen"), events[0].conversation_id)
    assert watermark == str(later[-1].seq)


@pytest.mark.parametrize(("name", "word"), [("Ana Lima", "lima"), ("李安娜", "李安娜")])
async def test_a_round_checks_only_the_customers_whose_record_changed(
    index: RedisSearch,
    redis_store: RedisStore,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    word: str,
) -> None:
    first = await stored(redis_store, "ana", "my parcel never arrived")
    index.on_events(first)
    await found(index, "parcel")  # the first round indexes the customer as well
    checks = counting(monkeypatch, index, "_index_customer")
    second = await stored(redis_store, "ana", "我的包裹还没到", n=2)
    index.on_events(second[len(first) :])
    assert await found(index, "包裹") == [first[0].conversation_id]
    assert checks == []  # the record reads as it was indexed: no document check
    customer = await redis_store.find_customer("api:ana")
    assert customer is not None
    # Another process edits the profile (no event in any log), then ana writes again.
    await redis_store.update_customer(customer.id, attributes={"name": name}, now=50.0)
    third = await stored(redis_store, "ana", "still waiting for it", n=3)
    index.on_events(third[len(second) :])
    await found(index, "waiting")
    assert checks == [(customer.id,)]
    hits = await index.search(parse_query(word), kind="customer", scope=None, limit=5)
    assert [hit.customer_id for hit in hits.items] == [customer.id]


@pytest.mark.parametrize(("sender", "text", "word"), TEXTS)
async def test_a_search_finds_what_its_process_wrote_before_the_round_wait_is_over(
    redis_store: RedisStore, sender: str, text: str, word: str
) -> None:
    """However long a round waits for more (`ROUND_WAIT`), a search runs the round first."""
    index = RedisSearch(redis_store, round_wait=3600.0)  # no background round in this test
    await index.start()
    try:
        await asyncio.sleep(0.1)  # the start's catch-up is over: it finds nothing
        events = await stored(redis_store, sender, text)
        conversation_id = events[0].conversation_id
        index.wrote(events)  # this process appended them
        assert await redis_store.redis.hget(index.keys.of("seen"), conversation_id) is None
        assert await found(index, word) == [conversation_id]
    finally:
        await index.stop()
