"""The store's Redis connection pool leaves room for the turns beside the bus's gap fills."""

from __future__ import annotations

from redis.asyncio import Redis

from hub.bus_redis import MAX_FILLS
from hub.store_redis_connect import POOL_SIZE, connect


def test_the_bus_gap_fills_can_take_at_most_half_the_pool() -> None:
    # Every fill is a log read on a pooled connection; with the pool no larger than the
    # fills, 64 busy conversations' turns queued behind them (p99 3-5x, benchmarks.md).
    assert MAX_FILLS <= POOL_SIZE // 2


async def test_a_single_server_pool_has_the_default_size_and_the_url_can_change_it(
    redis_url: str,
) -> None:
    for url, size in ((redis_url, POOL_SIZE), (f"{redis_url}?max_connections=300", 300)):
        client = await connect(url)
        try:
            assert isinstance(client, Redis)
            assert client.connection_pool.max_connections == size
            assert await client.ping()
        finally:
            await client.aclose()
