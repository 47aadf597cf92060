"""The Redis lease table keeps every lease this process holds alive with one keeper task,
not a task per lease (a turn's lease is held for milliseconds; a task of its own cost
more than the rest of its bookkeeping), and a lease held for several ttls stays ours."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from hub.store_redis import RedisStore
from hub.store_redis_connect import connect

# Seconds. The keeper extends every third of it, so the event loop may stall for two thirds
# (≈ 0.7 s: a busy two-core CI running a Redis Cluster) before a lease lapses; at 0.3 s a
# stall of 0.2 s lost one.
LEASE_TTL = 1.0


def keepers() -> list[asyncio.Task[object]]:
    return [
        task
        for task in asyncio.all_tasks()
        if getattr(task.get_coro(), "__qualname__", "").startswith("RedisLeaseLocks._keep")
    ]


@pytest.fixture
async def short_lease_store(shared_store_url: str) -> AsyncIterator[RedisStore]:
    store = RedisStore(shared_store_url)
    store.lock_ttl = LEASE_TTL
    await store.open()
    yield store
    await store.close()


async def test_several_leases_held_at_once_share_one_keeper_and_stay_held(
    short_lease_store: RedisStore, shared_store_url: str
) -> None:
    store = short_lease_store
    inside = asyncio.Event()
    release = asyncio.Event()
    entered = 0

    async def hold(conversation_id: str) -> None:
        nonlocal entered
        async with store.conversation_lock(conversation_id):
            entered += 1
            if entered == 3:
                inside.set()
            await release.wait()

    holders = [asyncio.create_task(hold(f"con_keep{n}")) for n in range(3)]
    await inside.wait()
    assert len(keepers()) == 1
    # Three ttls: without extensions the leases would have run out twice over.
    await asyncio.sleep(LEASE_TTL * 3)
    redis = await connect(shared_store_url)
    try:
        locks = store._locks
        assert locks is not None
        for n in range(3):
            held = locks.held(f"conv:con_keep{n}")
            assert held is not None
            assert await redis.get(locks.redis_key(f"conv:con_keep{n}")) == held.value
    finally:
        await redis.aclose()
    release.set()
    await asyncio.gather(*holders)
    await asyncio.sleep(0)
    assert keepers() == []
