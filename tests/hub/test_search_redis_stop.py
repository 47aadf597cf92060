"""The Redis search index's background indexer stops when asked even if a Redis call it is
waiting on swallows the cancel, as redis-py's own timeouts can on Python 3.11."""

from __future__ import annotations

import asyncio

import pytest

from hub.model import Inbound
from hub.search_redis import RedisSearch
from hub.store_redis import RedisStore
from tests.cancels import BOUND, SwallowsFirstCancel, stops


@pytest.mark.parametrize("text", ["Where is my refund?", "我的退款呢？"])
async def test_an_indexer_that_swallows_the_cancel_still_stops(
    redis_store: RedisStore, monkeypatch: pytest.MonkeyPatch, text: str
) -> None:
    index = RedisSearch(redis_store)
    # The start's catch-up runs for real, and is over before indexing is made to hang.
    caught_up = asyncio.Event()
    real_catch_up = index.catch_up

    async def catch_up_and_tell() -> int:
        try:
            return await real_catch_up()
        finally:
            caught_up.set()

    monkeypatch.setattr(index, "catch_up", catch_up_and_tell)
    await index.start()
    await asyncio.wait_for(caught_up.wait(), BOUND)
    indexing = SwallowsFirstCancel()  # a Redis call that does not answer
    monkeypatch.setattr(index, "_index_round", indexing)  # a round's indexing
    got = await redis_store.record_inbound(
        Inbound(channel="webchat", sender="v1", message_id="w1", text=text), now=1.0
    )
    index.on_events([got.event])
    await asyncio.wait_for(indexing.busy.wait(), BOUND)
    task = index._task
    assert task is not None
    await stops(index.stop(), "RedisSearch.stop()")
    assert task.done()  # ended by the flag, not left running past the bounded wait
    assert indexing.rounds == 1
