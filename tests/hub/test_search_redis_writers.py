"""Which process indexes what on a shared Redis (`hub.search_redis`): the process that
appended events indexes them; another process's events, which the bus brings to every
process, are left to their writer and looked at only after a grace (the writer died or fell
behind) or before a search (so a search still finds what any process stored)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from hub.model import Event, Inbound
from hub.search_redis import RedisSearch
from hub.search_text import parse_query
from hub.store_redis import RedisStore

TEXTS = {
    "en": ("ana", "my parcel never arrived", "parcel"),
    "zh": ("bo", "我的包裹还没到", "包裹"),
}
GRACE = 0.3  # seconds, instead of REMOTE_GRACE's 5 …
ROUND = 0.1  # … and ROUND_WAIT's 0.5: a writer's round comes well within the others' grace


@pytest.fixture(params=sorted(TEXTS))
def said(request: pytest.FixtureRequest) -> tuple[str, str, str]:
    """A customer's message in each language: (sender, text, a word of it to search)."""
    return TEXTS[request.param]


@pytest.fixture
async def processes(redis_url: str) -> AsyncIterator[tuple[RedisStore, RedisSearch, RedisSearch]]:
    """Two processes' search indexes on one Redis (each with its own store connection)."""
    store_a, store_b = RedisStore(redis_url), RedisStore(redis_url)
    await store_a.open()
    await store_b.open()
    a, b = (RedisSearch(s, remote_grace=GRACE, round_wait=ROUND) for s in (store_a, store_b))
    await a.start()
    await b.start()
    yield store_a, a, b
    for index in (a, b):
        await index.stop()
    await store_a.close()
    await store_b.close()


async def appended(store: RedisStore, sender: str, text: str) -> list[Event]:
    got = await store.record_inbound(
        Inbound(channel="api", sender=sender, message_id=f"{sender}-1", text=text), now=10.0
    )
    return await store.events(got.conversation.id)


def rounds_of(index: RedisSearch, monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The conversations of every indexing round `index` runs from now on."""
    calls: list[list[str]] = []
    real = index._index_round

    async def counted(ids: list[str]) -> Any:
        calls.append(list(ids))
        return await real(ids)

    monkeypatch.setattr(index, "_index_round", counted)
    return calls


async def watermark(index: RedisSearch, conversation_id: str) -> int:
    return int(await index.store.redis.hget(index.keys.of("seen"), conversation_id) or 0)


async def until_indexed(index: RedisSearch, conversation_id: str, seq: int) -> int:
    """The conversation's watermark once it reached `seq`, or after about 5 s."""
    for _ in range(100):
        if await watermark(index, conversation_id) == seq:
            break
        await asyncio.sleep(0.05)
    return await watermark(index, conversation_id)


async def found(index: RedisSearch, word: str) -> list[str]:
    hits = await index.search(parse_query(word), kind="conversation", scope=None, limit=10)
    return [hit.conversation_id for hit in hits.items]


async def test_the_writer_indexes_and_the_other_process_leaves_it(
    processes: tuple[RedisStore, RedisSearch, RedisSearch],
    monkeypatch: pytest.MonkeyPatch,
    said: tuple[str, str, str],
) -> None:
    store, a, b = processes
    sender, text, word = said
    events = await appended(store, sender, text)
    conversation_id = events[0].conversation_id
    b_rounds = rounds_of(b, monkeypatch)
    a.wrote(events)  # A appended them and publishes them …
    a.on_events(events)  # … the bus brings them back to A …
    b.on_events(events)  # … and to B
    assert await until_indexed(a, conversation_id, events[-1].seq) == events[-1].seq
    assert not a._work or not a._work.remote  # its own events are not another's
    await asyncio.sleep(GRACE + 0.3)  # B looks once the grace is over: nothing is behind
    assert b_rounds == []
    assert await found(b, word) == [conversation_id]
    assert b_rounds == []  # the search found it indexed: B read no log


async def test_a_writer_that_died_before_its_round_is_indexed_by_another_after_the_grace(
    processes: tuple[RedisStore, RedisSearch, RedisSearch],
    monkeypatch: pytest.MonkeyPatch,
    said: tuple[str, str, str],
) -> None:
    store, a, b = processes
    sender, text, word = said
    await a.stop()  # A appends, publishes, and dies before it indexes anything
    events = await appended(store, sender, text)
    conversation_id = events[0].conversation_id
    b_rounds = rounds_of(b, monkeypatch)
    b.on_events(events)
    await asyncio.sleep(GRACE / 2)  # past the round wait a woken round waits
    assert b_rounds == []  # within the grace, left to its writer
    assert await until_indexed(b, conversation_id, events[-1].seq) == events[-1].seq
    assert b_rounds == [[conversation_id]]
    assert await found(b, word) == [conversation_id]


async def test_a_search_finds_what_another_process_stored_before_its_writer_indexed_it(
    processes: tuple[RedisStore, RedisSearch, RedisSearch], said: tuple[str, str, str]
) -> None:
    store, a, b = processes
    sender, text, word = said
    await a.stop()  # the writer has not indexed it (and will not)
    events = await appended(store, sender, text)
    b.on_events(events)  # the bus told B a moment ago, well within the grace
    assert await found(b, word) == [events[0].conversation_id]
