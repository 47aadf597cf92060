"""Choose a store from its URL."""

from __future__ import annotations

import sqlite3

from redis.exceptions import (
    BusyLoadingError,
    ClusterDownError,
    ReadOnlyError,
    SlotNotCoveredError,
    TryAgainError,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from hub.abc import Store
from hub.errors import ConfigError, LeaseLost

# One server, or any node of a Redis Cluster (`hub.store_redis_connect` tells them apart).
REDIS_SCHEMES = ("redis://", "rediss://", "unix://", "redis+cluster://", "rediss+cluster://")


def store_from_url(url: str) -> Store:
    """`sqlite:///relative/or//absolute/path.db`, `redis://host:port/db` (also `rediss://`,
    `unix://`) or `redis+cluster://host:port` (also `rediss+cluster://`: any node of a
    Redis Cluster)."""
    if url.startswith("sqlite:///"):
        from hub.store_sqlite import SQLiteStore

        path = url.removeprefix("sqlite:///")
        if not path:
            raise ConfigError("sqlite URL needs a file path", key="store.url")
        return SQLiteStore(path)
    if url.startswith(REDIS_SCHEMES):
        from hub.store_redis import RedisStore

        return RedisStore(url)
    raise ConfigError(f"unknown store URL {url!r}", key="store.url")


# SQLite's words for "the database cannot take this now" (as opposed to a bug in a query).
_SQLITE_OUTAGES = (
    "database is locked",
    "database or disk is full",
    "readonly database",
    "disk i/o error",
    "unable to open database",
)


def is_outage(error: BaseException) -> bool:
    """Whether `error` (or what caused it) says the store is unreachable or cannot write,
    rather than that the request or the code is wrong: then the client should retry."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(
            current, RedisConnectionError | RedisTimeoutError | BusyLoadingError | ReadOnlyError
        ):
            return True
        # A Redis Cluster failing over or moving slots, or this process having stalled past
        # a conversation's lease: the same request succeeds later.
        if isinstance(current, ClusterDownError | TryAgainError | SlotNotCoveredError | LeaseLost):
            return True
        if isinstance(current, sqlite3.OperationalError) and any(
            words in str(current).lower() for words in _SQLITE_OUTAGES
        ):
            return True
        current = current.__cause__ or current.__context__
    return False
