"""The Redis lease table keeps every lease this process holds alive with one keeper task,
not a task per lease (a turn's lease is held for milliseconds; a task of its own cost
more than the rest of its bookkeeping), and a lease held for several ttls stays ours."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from hub.store_redis import RedisStore
from hub.store_redis_connect import connect

# Seconds. The keeper extends every third of it, so the event loop (or a Redis node) may stall
# for two thirds of it before a lease lapses: 1.3 s. A busy two-core CI running a Redis Cluster
# beside a browser test stalled 0.2 s (at a 0.3 s ttl) and later more than 0.7 s (at 1 s).
LEASE_TTL = 2.0
# Long enough that a lease never extended would have lapsed (once and a quarter of the ttl),
# no longer: the test proves the extension, not the keeper's endurance.
HELD_FOR = LEASE_TTL * 1.25


def keepers() -> list[asyncio.Task[object]]:
    return [
        task
        for task in asyncio.all_tasks()
        if getattr(task.get_coro(), "__qualname__", "").startswith("RedisLeaseLocks._keep")
    ]


async def longest_stall(seconds: float) -> float:
    """The longest this event loop went without running a 50 ms timer, over `seconds`: what
    to look at first if a lease lapses on a loaded machine."""
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    longest = 0.0
    while (now := loop.time()) < end:
        await asyncio.sleep(0.05)
        longest = max(longest, loop.time() - now - 0.05)
    return longest


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
    # Without extensions the leases would have run out by now.
    stalls = asyncio.create_task(longest_stall(HELD_FOR))
    await asyncio.sleep(HELD_FOR)
    stalled = await stalls
    redis = await connect(shared_store_url)
    try:
        locks = store._locks
        assert locks is not None
        for n in range(3):
            held = locks.held(f"conv:con_keep{n}")
            assert held is not None
            in_redis = await redis.get(locks.redis_key(f"conv:con_keep{n}"))
            assert in_redis == held.value, f"lease lost; the loop stalled up to {stalled:.2f} s"
    finally:
        await redis.aclose()
    release.set()
    await asyncio.gather(*holders)
    await asyncio.sleep(0)
    assert keepers() == []
