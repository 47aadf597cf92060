"""The key-value port's contract, on SQLite, a real redis-server and a Redis Cluster: values expire,
`put_new` is set-if-absent (a lease), `delete(only_if=…)` spares a value replaced since."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hub.kv import KeyValue, MemoryKeyValue, RedisKeyValue, SQLiteKeyValue, shared_secret


@pytest.fixture(params=["sqlite", "redis", "redis-cluster", "memory"])
async def kv(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[KeyValue]:
    port: KeyValue
    if request.param == "sqlite":
        port = SQLiteKeyValue(tmp_path / "kv.db")
    elif request.param == "redis":
        port = RedisKeyValue(request.getfixturevalue("redis_url"), prefix="test:")
    elif request.param == "redis-cluster":
        port = RedisKeyValue(request.getfixturevalue("redis_cluster_url"), prefix="test:{t}:")
    else:
        port = MemoryKeyValue()
    yield port
    await port.close()


async def test_put_get_and_expiry(kv: KeyValue) -> None:
    assert await kv.get("k") is None
    await kv.put("k", "v1", ttl=60)
    assert await kv.get("k") == "v1"
    await kv.put("k", "v2", ttl=0.05)
    assert await kv.get("k") == "v2"
    for _ in range(500):
        if await kv.get("k") is None:
            break
        await asyncio.sleep(0.01)
    assert await kv.get("k") is None


async def test_put_new_is_a_lease_only_one_caller_gets(kv: KeyValue) -> None:
    won = await asyncio.gather(*(kv.put_new("lease", f"p{i}", ttl=60) for i in range(8)))
    assert sum(won) == 1
    owner = await kv.get("lease")
    assert owner == f"p{won.index(True)}"
    await kv.delete("lease", only_if="someone-else")
    assert await kv.get("lease") == owner
    await kv.delete("lease", only_if=owner)
    assert await kv.put_new("lease", "next", ttl=60)


async def test_an_expired_lease_can_be_taken_again(kv: KeyValue) -> None:
    assert await kv.put_new("lease", "crashed", ttl=0.05)
    for _ in range(500):
        if await kv.put_new("lease", "next", ttl=60):
            break
        await asyncio.sleep(0.01)
    assert await kv.get("lease") == "next"


async def test_two_sqlite_connections_to_one_file_share_one_lease(tmp_path: Path) -> None:
    first, second = SQLiteKeyValue(tmp_path / "kv.db"), SQLiteKeyValue(tmp_path / "kv.db")
    try:
        results = await asyncio.gather(
            *(port.put_new("lease", "x", ttl=60) for port in (first, second) for _ in range(4))
        )
        assert sum(results) == 1
        await first.delete("lease")
        assert await second.get("lease") is None
    finally:
        await first.close()
        await second.close()


async def test_a_shared_secret_is_made_once_for_every_caller(kv: KeyValue) -> None:
    # Eight processes starting together ask at once: one secret, kept (a century's ttl).
    made = await asyncio.gather(*(shared_secret(kv, "email:verp") for _ in range(8)))
    assert len(set(made)) == 1 and len(made[0]) == 64
    assert await shared_secret(kv, "email:verp") == made[0]
    assert await shared_secret(kv, "other") != made[0]


async def test_the_first_secret_offered_is_the_one_kept(kv: KeyValue) -> None:
    # Machines that each generated a file before the store kept one: the first offer wins.
    assert await shared_secret(kv, "webchat", offer="a" * 64) == b"a" * 64
    assert await shared_secret(kv, "webchat", offer="b" * 64) == b"a" * 64
