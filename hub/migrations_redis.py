"""Schema versions of the Redis store, migrated forward when a store opens.

The version is the integer at `<keyspace>schema` (`fd:{fd}:schema`); a Redis without it
is at version 0. Each migration is idempotent and may be
interrupted: the version moves only after it finished, and running it again carries on.
Processes starting together take turns through a short lease (`<keyspace>migrating`).
A version newer than this code knows refuses to start: an older Frontdesk must not write
into a layout it does not understand.

Versions:

0. Keys `fd:<name>` without a hash tag (up to the release that added Redis Cluster), or
   nothing at all (a new store).
1. Every key `fd:{fd}:<name>`: one hash tag, so a Redis Cluster keeps the store on one slot.
   Fencing counters (`fd:{fd}:lock:<name>:fence`) start at 0 when first needed.
2. What is not the store's own scripts' gets a hash tag of its own, so a cluster spreads it
   over other masters: the event bus's stream (`fd:{fd:events}:stream`), leader leases and
   their fencing counters (`fd:{fd:lease:<name>}`), rate-limit buckets
   (`fd:{fd:limit:<key>}`), send pacing (`fd:{fd:pace:<group>}:…`). Fencing counters move
   (a token never goes back); the stream and lease holders of the stopped processes are
   dropped (the logs hold every event; a lease is taken again at start); old buckets are
   left to expire within their refill time.
3. The search index leaves the store's slot for one of its own, across the slot space
   (`fd:{fd}:{search}:…` → `fd:{fd:search:4}:…`, see `hub.search_redis`), and rate-limit
   counters get a tag per key (`fd:{fd}:hits:<key>:<window>` → `fd:{fd:hits:<key>}:…`).
   Each key is copied with DUMP/RESTORE (a RENAME cannot cross slots on a cluster), expiry
   included, and then deleted, one at a time, so a run that stops half way carries on
   where it stopped.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from redis.asyncio.cluster import RedisCluster

from hub import search_redis
from hub.errors import ConfigError
from hub.store_redis_connect import RedisClient, own_tag

log = logging.getLogger("frontdesk.store.redis")

# The store's top-level names in the version-0 layout (see `hub.store_redis_scripts`):
# exact names, and names followed by ":". Anything else under the prefix (the console's
# `fd:console:` keys, other applications') is left alone.
_V0_NAMES = frozenset({"customers", "conversations", "pending", "outbox", "dead"})
_V0_PREFIXES = (
    *("dedupe:", "identity:", "customer:", "conversations:", "conv:", "delivery:"),
    *("lock:", "op:", "merge:", "challenge:", "hits:"),
)

# RENAME keeps the value and its expiry; skipping a key another process renamed already.
_RENAME_IF_PRESENT = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('RENAME', KEYS[1], KEYS[2])
return 1
"""

_LEASE_SECONDS = 60
_WAIT_SECONDS = 120


@dataclass(frozen=True, slots=True, kw_only=True)
class Migration:
    """Brings the store from `version - 1` to `version`."""

    version: int
    summary: str
    apply: Callable[[RedisClient, str, str], Awaitable[None]]


def _is_v0_name(rest: str) -> bool:
    return rest in _V0_NAMES or rest.startswith(_V0_PREFIXES)


async def _hash_tag_every_key(redis: RedisClient, base: str, keyspace: str) -> None:
    if isinstance(redis, RedisCluster):
        return  # Redis Cluster was not supported before version 1: nothing to rename.
    rename = redis.register_script(_RENAME_IF_PRESENT)
    moved = 0
    async for key in redis.scan_iter(match=f"{base}*", count=1000):
        rest = str(key)[len(base) :]
        if str(key).startswith(keyspace) or not _is_v0_name(rest):
            continue
        moved += int(await rename(keys=[key, f"{keyspace}{rest}"]))
    log.info("redis store: %d keys moved under the hash tag %s", moved, keyspace)


async def _own_tags(redis: RedisClient, base: str, keyspace: str) -> None:
    leases = f"{keyspace}{{lease:"
    async for key in redis.scan_iter(match=f"{leases}*}}:fence", count=1000):
        name = str(key)[len(leases) : -len("}:fence")]
        target = f"{own_tag(base, f'lease:{name}')}:fence"
        # Fencing tokens only ever grow: the new counter goes on from the old one.
        old, new = int(await redis.get(key) or 0), int(await redis.get(target) or 0)
        if old > new:
            await redis.set(target, old)
        await redis.delete(key)
    stale = [f"{keyspace}{{bus}}:events"]
    async for key in redis.scan_iter(match=f"{leases}*}}", count=1000):
        stale.append(str(key))  # a holder's lease; every process stopped for the upgrade
    for key in stale:
        await redis.delete(key)  # one by one: on a cluster they may sit on other slots
    log.info("redis store: bus, leases and limits moved to hash tags of their own")


async def _move_key(redis: RedisClient, key: str, target: str) -> bool:
    """Copy `key` (value and expiry) to `target`, on any slot, then delete it; False when
    it is gone already. A copy interrupted before the delete is made again from `key`."""
    value = await redis.dump(key)  # redis-py never decodes a DUMP
    ttl = int(await redis.pttl(key))
    if value is None or ttl == -2:
        return False
    await redis.restore(target, max(ttl, 0), value, replace=True)
    await redis.delete(key)
    return True


async def _search_apart(redis: RedisClient, base: str, keyspace: str) -> None:
    old, new = f"{keyspace}{{search}}:", search_redis.keyspace(base)
    moved = 0
    async for key in redis.scan_iter(match=f"{old}*", count=1000):
        moved += await _move_key(redis, str(key), new + str(key)[len(old) :])
    log.info("redis store: %d search index keys moved under %s", moved, new)
    # A counter moves too: restarting a window at the upgrade would let through one more
    # window's worth of what it limits (verification codes …).
    hits, moved = f"{keyspace}hits:", 0
    async for key in redis.scan_iter(match=f"{hits}*", count=1000):
        name, _, window = str(key)[len(hits) :].rpartition(":")
        moved += await _move_key(redis, str(key), f"{own_tag(base, f'hits:{name}')}:{window}")
    log.info("redis store: %d rate-limit counters moved to tags of their own", moved)


MIGRATIONS: tuple[Migration, ...] = (
    Migration(version=1, summary="every key under one hash tag", apply=_hash_tag_every_key),
    Migration(version=2, summary="bus, leases, limits under their own tags", apply=_own_tags),
    Migration(
        version=3, summary="search index and counters under their own tags", apply=_search_apart
    ),
)
CURRENT = MIGRATIONS[-1].version


async def schema_version(redis: RedisClient, keyspace: str) -> int:
    stored = await redis.get(f"{keyspace}schema")
    return int(stored) if stored is not None else 0


async def migrate(redis: RedisClient, *, base: str, keyspace: str) -> int:
    """Bring the store to `CURRENT` (or refuse a newer one); returns the version found."""
    lease, token = f"{keyspace}migrating", os.urandom(8).hex()
    deadline = time.monotonic() + _WAIT_SECONDS
    while True:
        found = await schema_version(redis, keyspace)
        if found > CURRENT:
            raise ConfigError(
                f"the Redis store has schema version {found}, newer than this Frontdesk "
                f"knows ({CURRENT}); run the newer Frontdesk, or restore a backup",
                key="store.url",
            )
        if found == CURRENT:
            return found
        if await redis.set(lease, token, nx=True, ex=_LEASE_SECONDS):
            break
        if time.monotonic() > deadline:
            raise ConfigError(
                f"another process has been migrating the Redis store for over {_WAIT_SECONDS}"
                f" s; if none is running, delete the key {lease}",
                key="store.url",
            )
        await asyncio.sleep(0.1)
    try:
        # A new store runs them too: each finds nothing to change.
        found = await schema_version(redis, keyspace)
        for migration in MIGRATIONS:
            if migration.version <= found:
                continue
            log.info(
                "redis store: migrating to version %d (%s)", migration.version, migration.summary
            )
            await migration.apply(redis, base, keyspace)
            await redis.set(f"{keyspace}schema", migration.version)
        return found
    finally:
        if await redis.get(lease) == token:
            await redis.delete(lease)
