"""What lives beside a store: the parts every process on the same store shares with the
others (the event bus, rate limits, send slots, leases, short-lived values, the search
index). Each backend family has one `Beside` (`hub.stores.BACKENDS` names it); a store
that belongs to none (a test double) gets `LocalBeside`, which serves one process.

Every part is built when asked for, and a family's modules are imported only then, so a
SQLite deployment never imports the Redis client's scripts and the reverse.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from hub.bus import EventBus
    from hub.kv import KeyValue
    from hub.leader import Lease
    from hub.model import Event
    from hub.ports.limits import RateLimiter
    from hub.search import SearchIndex
    from hub.shared_pacing import Pacing
    from hub.store_redis_core import RedisCore
    from hub.store_sqlite import SQLiteStore


class Beside(Protocol):
    """The shared parts that go with one store (each call builds a new, unopened one)."""

    def bus(self) -> EventBus:
        """Appended events and signals, to every process on the store."""

    def limiter(self) -> RateLimiter:
        """Rate-limit buckets counted by every process together."""

    def lease(self, name: str, *, ttl: float = 10.0) -> Lease:
        """The lease on a job only one process runs at a time."""

    def pacing(self) -> Pacing:
        """Send slots on a provider's rate limits, booked by every process together."""

    def kv(self) -> KeyValue:
        """Short-lived values (a provider's access token) every process reads."""

    def search(self) -> SearchIndex:
        """The index of customers and conversations the console searches."""


class LocalBeside:
    """One process alone: everything in memory (a store of no registered family)."""

    def bus(self) -> EventBus:
        from hub.bus import LocalBus

        return LocalBus()

    def limiter(self) -> RateLimiter:
        from hub.shared_limits import LocalRateLimiter

        return LocalRateLimiter()

    def lease(self, name: str, *, ttl: float = 10.0) -> Lease:
        from hub.leader import SoleLease

        return SoleLease()  # a single process always leads

    def pacing(self) -> Pacing:
        from hub.shared_pacing import LocalPacing

        return LocalPacing()

    def kv(self) -> KeyValue:
        from hub.kv import MemoryKeyValue

        return MemoryKeyValue()

    def search(self) -> SearchIndex:
        from hub.search import NoSearch

        return NoSearch()


class SQLiteBeside(LocalBeside):
    """The embedded store serves one process: in memory, but for the values and the index,
    which live in the store's file (they outlive a restart)."""

    def __init__(self, store: SQLiteStore) -> None:
        self.store = store

    def kv(self) -> KeyValue:
        from hub.kv import SQLiteKeyValue

        return SQLiteKeyValue(self.store.path)

    def search(self) -> SearchIndex:
        from hub.search_sqlite import SQLiteSearch

        return SQLiteSearch(self.store)


class RedisBeside:
    """Redis (one server or a cluster): every part on the store's server, under its prefix,
    so N processes behind a load balancer act as one."""

    def __init__(self, store: RedisCore) -> None:
        self.store = store

    def bus(self) -> EventBus:
        from hub.bus_redis import RedisBus

        store = self.store

        async def read_log(conversation_id: str, after: int, limit: int) -> Sequence[Event]:
            return await store.events(conversation_id, after_seq=after, limit=limit)

        return RedisBus(store.url, read_log=read_log, prefix=store.base_prefix)

    def limiter(self) -> RateLimiter:
        from hub.shared_limits import RedisRateLimiter

        store = self.store
        return RedisRateLimiter(lambda: store.redis, prefix=store.base_prefix)

    def lease(self, name: str, *, ttl: float = 10.0) -> Lease:
        from hub.leader import RedisLease

        store = self.store
        return RedisLease(lambda: store.redis, name, prefix=store.base_prefix, ttl=ttl)

    def pacing(self) -> Pacing:
        from hub.shared_pacing import RedisPacing

        store = self.store
        return RedisPacing(lambda: store.redis, prefix=store.base_prefix)

    def kv(self) -> KeyValue:
        from hub.kv import RedisKeyValue

        return RedisKeyValue(self.store.url, prefix=self.store.prefix)

    def search(self) -> SearchIndex:
        from hub.search_redis import RedisSearch

        return RedisSearch(self.store)


__all__ = ["Beside", "LocalBeside", "RedisBeside", "SQLiteBeside"]
