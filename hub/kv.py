"""A tiny shared key-value port: short-lived values every process of the hub sees.

For state that is neither a conversation nor a customer but must be shared by every
process on the same store — a provider's access token and the lease that says who is
refreshing it. Keys expire; `put_new` is the atomic "set if absent" a lease needs.

`hub.beside` opens the port beside the store the hub already uses: a table of its own
in the same SQLite file, or keys under the store's prefix in the same Redis.
"""

from __future__ import annotations

import asyncio
import secrets
import sqlite3
import time
from pathlib import Path
from typing import Any, Protocol

from hub.store_redis_connect import RedisClient, connect


class KeyValue(Protocol):
    async def get(self, key: str) -> str | None:
        """The value, or None when absent or expired."""

    async def put(self, key: str, value: str, *, ttl: float) -> None:
        """Set `key` for `ttl` seconds, replacing any value."""

    async def put_new(self, key: str, value: str, *, ttl: float) -> bool:
        """Set `key` only when absent (or expired); whether this call set it."""

    async def delete(self, key: str, *, only_if: str | None = None) -> None:
        """Remove `key` (only while it still holds `only_if`, when given)."""

    async def close(self) -> None: ...


# A secret made for the deployment outlives any message it signed (no port keeps keys
# without an expiry, so a century stands for "never").
SECRET_TTL = 100 * 365 * 86400.0


async def shared_secret(kv: KeyValue, name: str, *, offer: str = "") -> bytes:
    """A secret made once for every process on the store: the first to ask makes it (random,
    256 bits, or the secret it `offer`s: one it kept before the store did), every other (and
    every later start) reads that one. For what one process signs and another checks (a
    web chat visitor's token, an email's bounce address) when no secret is configured."""
    key = f"secret:{name}"
    for _ in range(3):
        await kv.put_new(key, offer or secrets.token_hex(32), ttl=SECRET_TTL)
        value = await kv.get(key)
        if value:  # None only if the key went between the two calls (deleted, evicted)
            return value.encode()
    raise RuntimeError(f"the shared secret {name!r} cannot be kept in the store")


class SQLiteKeyValue:
    """A ``kv`` table in the store's SQLite file, on a connection of its own (the
    store's connection belongs to its own transactions)."""

    _SCHEMA = "CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT, expires REAL)"

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._db: sqlite3.Connection | None = None
        self._lock = asyncio.Lock()  # one connection: one statement at a time

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            # isolation_level=None: each BEGIN IMMEDIATE below is the whole transaction.
            # check_same_thread=False: calls run in worker threads, one at a time (`_lock`).
            db = sqlite3.connect(
                self.path, timeout=10, isolation_level=None, check_same_thread=False
            )
            db.execute(self._SCHEMA)
            self._db = db
        return self._db

    async def _run(self, sql: str, *args: object, write: bool = False) -> tuple[list[Any], int]:
        """The rows and the changed-row count of one statement (a write in its own
        transaction, after dropping expired keys)."""

        def run() -> tuple[list[Any], int]:
            db = self._conn()
            if not write:
                return db.execute(sql, args).fetchall(), 0
            db.execute("BEGIN IMMEDIATE")
            try:
                db.execute("DELETE FROM kv WHERE expires <= ?", (time.time(),))
                changed = db.execute(sql, args).rowcount
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
            return [], changed

        async with self._lock:
            return await asyncio.to_thread(run)

    async def get(self, key: str) -> str | None:
        rows, _ = await self._run(
            "SELECT value FROM kv WHERE key = ? AND expires > ?", key, time.time()
        )
        return str(rows[0][0]) if rows else None

    async def put(self, key: str, value: str, *, ttl: float) -> None:
        await self._run(
            "INSERT OR REPLACE INTO kv (key, value, expires) VALUES (?, ?, ?)",
            key,
            value,
            time.time() + ttl,
            write=True,
        )

    async def put_new(self, key: str, value: str, *, ttl: float) -> bool:
        # Expired rows were deleted in the same transaction, so "absent" is exact.
        _, changed = await self._run(
            "INSERT OR IGNORE INTO kv (key, value, expires) VALUES (?, ?, ?)",
            key,
            value,
            time.time() + ttl,
            write=True,
        )
        return changed == 1

    async def delete(self, key: str, *, only_if: str | None = None) -> None:
        if only_if is None:
            await self._run("DELETE FROM kv WHERE key = ?", key, write=True)
        else:
            await self._run("DELETE FROM kv WHERE key = ? AND value = ?", key, only_if, write=True)

    async def close(self) -> None:
        async with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None


class MemoryKeyValue:
    """In this process only: for a connector used without a store (and unit tests)."""

    def __init__(self) -> None:
        self._items: dict[str, tuple[str, float]] = {}

    async def get(self, key: str) -> str | None:
        value, expires = self._items.get(key, ("", 0.0))
        return value if expires > time.time() else None

    async def put(self, key: str, value: str, *, ttl: float) -> None:
        self._items[key] = (value, time.time() + ttl)

    async def put_new(self, key: str, value: str, *, ttl: float) -> bool:
        if await self.get(key) is not None:
            return False
        await self.put(key, value, ttl=ttl)
        return True

    async def delete(self, key: str, *, only_if: str | None = None) -> None:
        if only_if is None or await self.get(key) == only_if:
            self._items.pop(key, None)

    async def close(self) -> None:
        self._items.clear()


# Delete only while the key still holds the value: a lease or token someone else has
# replaced since is not ours to remove.
_DELETE_IF = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class RedisKeyValue:
    """Keys under ``<prefix>kv:`` in the store's Redis (a single server or a cluster: the
    same URL and connection rules as the store); expiry is Redis's own."""

    def __init__(self, url: str, *, prefix: str = "fd:") -> None:
        self.url = url
        self.prefix = f"{prefix}kv:"
        self._redis: RedisClient | None = None
        self._connecting = asyncio.Lock()

    async def _client(self) -> RedisClient:
        if self._redis is None:
            async with self._connecting:
                if self._redis is None:
                    self._redis = await connect(self.url)
        return self._redis

    async def get(self, key: str) -> str | None:
        value = await (await self._client()).get(self.prefix + key)
        return None if value is None else str(value)

    async def put(self, key: str, value: str, *, ttl: float) -> None:
        await (await self._client()).set(self.prefix + key, value, px=max(1, int(ttl * 1000)))

    async def put_new(self, key: str, value: str, *, ttl: float) -> bool:
        client = await self._client()
        done = await client.set(self.prefix + key, value, px=max(1, int(ttl * 1000)), nx=True)
        return bool(done)

    async def delete(self, key: str, *, only_if: str | None = None) -> None:
        client = await self._client()
        if only_if is None:
            await client.delete(self.prefix + key)
        else:
            await client.eval(_DELETE_IF, 1, self.prefix + key, only_if)

    async def close(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None


__all__ = ["KeyValue", "MemoryKeyValue", "RedisKeyValue", "SQLiteKeyValue", "shared_secret"]
