"""The one registry of store URL schemes, and what a store failure means for a client."""

from __future__ import annotations

import sqlite3
from typing import Protocol

from redis.exceptions import (
    BusyLoadingError,
    ClusterDownError,
    ReadOnlyError,
    SlotNotCoveredError,
    TryAgainError,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from hub.errors import ConfigError, LeaseLost
from hub.ports import Backend
from hub.ports.policy import DAY


class BuildBackend(Protocol):
    """Builds a backend from its URL and the policy settings it applies."""

    def __call__(self, url: str, *, continuity_window: float | None) -> Backend: ...


def _sqlite(url: str, *, continuity_window: float | None) -> Backend:
    """`sqlite:///relative/or//absolute/path.db`: the embedded backend, one process."""
    from hub.store_sqlite import SQLiteStore

    path = url.removeprefix("sqlite:///")
    if not path:
        raise ConfigError("sqlite URL needs a file path", key="store.url")
    return SQLiteStore(path, continuity_window=continuity_window)


def _redis(url: str, *, continuity_window: float | None) -> Backend:
    """One Redis server, or any node of a Redis Cluster (`hub.store_redis_connect` tells
    them apart by scheme): any number of processes and machines."""
    from hub.store_redis import RedisStore

    return RedisStore(url, continuity_window=continuity_window)


#: URL prefix (scheme) → the built-in backend it names. Every backend implements all the
#: ports of `hub.ports`; a backend's module is imported only when its scheme is used.
BACKENDS: dict[str, BuildBackend] = {
    "sqlite:///": _sqlite,  # sqlite:///relative/path.db, sqlite:////absolute/path.db
    "redis://": _redis,  # redis://host:port/db
    "rediss://": _redis,  # the same over TLS
    "unix://": _redis,  # unix:///path/to/redis.sock
    "redis+cluster://": _redis,  # any node of a Redis Cluster
    "rediss+cluster://": _redis,
}

# The prefixes of a Redis backend (the console's accounts and attachments sit beside it).
REDIS_SCHEMES = tuple(prefix for prefix, build in BACKENDS.items() if build is _redis)
# Every prefix a store URL may start with.
STORE_SCHEMES = tuple(BACKENDS)


def store_from_url(url: str, *, continuity_window: float | None = DAY) -> Backend:
    """The backend a store URL names (`BACKENDS`), not yet opened; `ConfigError` for an
    unknown scheme. `continuity_window`: `identity.continuity_window` (`hub.ports.policy`)."""
    for prefix, build in BACKENDS.items():
        if url.startswith(prefix):
            return build(url, continuity_window=continuity_window)
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
