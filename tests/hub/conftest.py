"""The store fixtures every contract test shares: each test runs once per store."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from hub.ports import Backend
from hub.store_redis import RedisStore
from hub.store_sqlite import SQLiteStore

StoreFactory = Callable[[], Backend]


@pytest.fixture(params=["sqlite", "redis", "redis-cluster"])
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> StoreFactory:
    """A factory, so a test can open a second store on the same data (a restart). The
    Redis one is a private redis-server the harness started (`redis_url`), the cluster
    one a private three-master Redis Cluster (`redis_cluster_url`)."""
    if request.param == "sqlite":
        return lambda: SQLiteStore(tmp_path / "contract.db")
    fixture = "redis_url" if request.param == "redis" else "redis_cluster_url"
    url = request.getfixturevalue(fixture)
    return lambda: RedisStore(url)


@pytest.fixture
async def store(make_store: StoreFactory) -> AsyncIterator[Backend]:
    store = make_store()
    await store.open()
    yield store
    await store.close()


#: A question and its answer in each language, for tests of one store's turn writes.
TURN_TEXTS = {
    "en": ("Where is my order?", "It ships today."),
    "zh": ("我的订单在哪里？", "今天发货。"),
}


@pytest.fixture
async def redis_store(redis_url: str) -> AsyncIterator[RedisStore]:
    """An opened store on the private redis-server alone (tests of what only Redis does)."""
    opened = RedisStore(redis_url)
    await opened.open()
    yield opened
    await opened.close()


@pytest.fixture
async def sqlite_store(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    """An opened SQLite store alone, for tests of what only that backend does."""
    opened = SQLiteStore(tmp_path / "frontdesk.db")
    await opened.open()
    yield opened
    await opened.close()
