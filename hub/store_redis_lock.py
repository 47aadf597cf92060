"""Conversation ownership across processes: a Redis lease lock behind a process-local lock.

The process-local `KeyedLock` comes first, so coroutines of one process queue on an
`asyncio.Lock` instead of polling Redis against each other. The Redis lock is
``SET key "fence token" NX PX ttl`` (in Lua, so that a resent SET finds its own token);
while it is held the process's keeper extends the lease every third of the ttl, so a
long turn never loses it, and a process that dies loses it after one ttl at most. Release and
extension compare the value first (Lua), so a process never frees or prolongs a lock
someone else has taken since. One keeper task per process extends every lease it holds
(not a task per lease: a turn holds its lease for milliseconds, and creating, cancelling
and awaiting a task for each one cost more than the turn's lock bookkeeping otherwise).

The fence comes from ``INCR key:fence`` at each acquisition, so it only grows. A holder
that stalls past the ttl (a long GC pause, a stopped VM) cannot tell it lost the lock;
its commit names its fence and the store refuses it unless the lock still holds it.

A turn runner's lease is taken by the script that reads its turn context
(`RedisCore.turn_lease`), and freed by its last commit (`COMMIT_TURN`), which finds
nothing pending any more: a turn then costs Redis no round trip for the lock itself.

The script that stores the message starting a turn may take the lease too, when nobody
holds it (`RedisCore.record_inbound_and_lease`). The lock is then already ours in Redis
before any holder of this process asks for it: it waits here (`taken`) for this process's
next holder of the key to adopt it instead of taking it; normally the turn runner that the
message started, but any holder will do, so one already waiting for the lock (a turn
runner between two tries, an agent's reply) is never left waiting for a lease nobody uses.
An adopted lease is the same lease: same fence, kept alive and freed like any other.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import TypeVar

from redis.commands.core import AsyncScript
from redis.exceptions import RedisError

from hub.locks import KeyedLock
from hub.store_redis_connect import RedisClient
from hub.store_redis_scripts import LOCK_ACQUIRE, LOCK_EXTEND, LOCK_RELEASE, LOCK_RELEASE_TOKEN

log = logging.getLogger(__name__)

_FIRST_BACKOFF = 0.005
_MAX_BACKOFF = 0.25

T = TypeVar("T")
# Takes the lock in one call: (its Redis key, our token, ttl in ms) → (fence, whatever else
# the call read), or None while someone else holds it.
Take = Callable[[str, str, int], Awaitable[tuple[int, T] | None]]
# What a holder makes of a lease taken for it beforehand (`RedisLeaseLocks.taken`): from what
# was read with it, what `Take` would have read.
Adopt = Callable[[object], Awaitable[T]]


@dataclass(frozen=True, slots=True)
class Taken:
    """A lock taken in Redis for this process's next holder of its key (not held yet)."""

    fence: int
    token: str
    read: object  # what the taking call read with it
    at: float  # time.monotonic() when it was taken


@dataclass
class Held:
    """A lock this process holds. A commit may free it (`releasable`: the holder will not
    commit again under it once nothing is pending); `released` then spares the release."""

    fence: int
    value: str  # "fence token": what the lock holds while it is ours
    releasable: bool = False
    released: bool = False


class RedisLeaseLocks:
    """Keyed exclusive locks shared by every process using the same Redis."""

    def __init__(self, redis: RedisClient, *, prefix: str, ttl: float) -> None:
        self._redis = redis
        self._prefix = prefix
        self.ttl_ms = max(int(ttl * 1000), 10)
        self._local = KeyedLock()
        self._held: dict[str, Held] = {}
        self._taken: dict[str, Taken] = {}  # oldest first
        self._kept: dict[str, Held] = {}  # Redis key → a lease held here, which the keeper extends
        self._keeper: asyncio.Task[None] | None = None
        self._acquire_script: AsyncScript = redis.register_script(LOCK_ACQUIRE)
        self._release: AsyncScript = redis.register_script(LOCK_RELEASE)
        self._release_token: AsyncScript = redis.register_script(LOCK_RELEASE_TOKEN)
        self._extend: AsyncScript = redis.register_script(LOCK_EXTEND)

    def held(self, key: str) -> Held | None:
        """The lock on `key` if this process holds it."""
        return self._held.get(key)

    def hold(self, key: str) -> AbstractAsyncContextManager[Held]:
        """The lock alone."""
        return self._just_the_lock(key)

    @asynccontextmanager
    async def _just_the_lock(self, key: str) -> AsyncIterator[Held]:
        async def take(redis_key: str, token: str, ttl_ms: int) -> tuple[int, None] | None:
            fence_key = f"{redis_key}:fence"
            fence = int(
                await self._acquire_script(keys=[redis_key, fence_key], args=[token, ttl_ms])
            )
            return (fence, None) if fence else None

        async def adopt(_: object) -> None:
            return None

        async with self.hold_with(key, take, adopt) as (held, _):
            yield held

    def taken(self, key: str, *, fence: int, token: str, read: object) -> None:
        """A script took the lock on `key` ("fence token" in Redis) for this process: the
        next holder of `key` here adopts it (`hold_with`). One never adopted (its holder
        never came) expires in Redis after one ttl, and is forgotten here then."""
        now = time.monotonic()
        while self._taken:  # oldest first: stop at the first still alive
            oldest = next(iter(self._taken))
            if now - self._taken[oldest].at < self.ttl_ms / 1000:
                break
            del self._taken[oldest]
        self._taken.pop(key, None)
        self._taken[key] = Taken(fence=fence, token=token, read=read, at=now)

    @asynccontextmanager
    async def hold_with(
        self, key: str, take: Take[T], adopt: Adopt[T]
    ) -> AsyncIterator[tuple[Held, T]]:
        """The lock on `key`, taken by `take`, which may read what its holder needs in the
        same round trip; or, when a script took it for this process beforehand (`taken`),
        that lock, with what `adopt` makes of what the script read."""
        async with self._local.hold(key):
            redis_key = self.redis_key(key)
            fence, token, read = await self._acquire(key, take, adopt)
            held = Held(fence=fence, value=f"{fence} {token}")
            self._held[key] = held
            self._kept[redis_key] = held
            if self._keeper is None or self._keeper.done():
                self._keeper = asyncio.create_task(self._keep())
            try:
                yield held, read
            finally:
                del self._held[key]
                self._kept.pop(redis_key, None)
                if not self._kept and self._keeper is not None:
                    # Nothing left to keep: no task outlives the last lease (a store
                    # closed afterwards leaves none pending).
                    self._keeper.cancel()
                    self._keeper = None
                if not held.released:
                    await self._release_shielded(redis_key, held.value)

    def redis_key(self, key: str) -> str:
        return f"{self._prefix}lock:{key}"

    async def _acquire(self, key: str, take: Take[T], adopt: Adopt[T]) -> tuple[int, str, T]:
        """Wait for the lock: its fence, its token, and what was read with it."""
        redis_key = self.redis_key(key)
        token = os.urandom(16).hex()
        delay = _FIRST_BACKOFF
        try:
            while True:
                # Looked at before every try: a lease taken for this process while we
                # waited is the one we are waiting for (nobody else here would adopt it).
                ready = self._taken.pop(key, None)
                if ready is not None:
                    value = f"{ready.fence} {ready.token}"
                    if time.monotonic() - ready.at < self.ttl_ms / 2000:
                        try:
                            return ready.fence, ready.token, await adopt(ready.read)
                        except BaseException:
                            await self._release_shielded(redis_key, value)
                            raise
                    # Half its ttl gone unkept: take a fresh one rather than risk it.
                    await self._release_shielded(redis_key, value)
                taken = await take(redis_key, token, self.ttl_ms)
                if taken is not None:
                    return taken[0], token, taken[1]
                # Jitter keeps waiters of several processes from retrying in lockstep.
                await asyncio.sleep(delay * random.uniform(0.5, 1.5))
                delay = min(delay * 2, _MAX_BACKOFF)
        except BaseException:
            # Cancelled or failed while SET may have gone through: free it if it is ours.
            await self._release_shielded(redis_key, token, by_token=True)
            raise

    async def _keep(self) -> None:
        """Every third of the ttl, extend every lease held here. A lease taken just after
        a round is extended at the next one, a third of its ttl later at most: as soon as
        a task of its own would have."""
        interval = self.ttl_ms / 3000
        while self._kept:
            await asyncio.sleep(interval)
            kept = [(key, held) for key, held in self._kept.items() if not held.released]
            if kept:
                await asyncio.gather(*(self._extend_one(key, held) for key, held in kept))

    async def _extend_one(self, key: str, held: Held) -> None:
        try:
            kept = await self._extend(keys=[key], args=[held.value, self.ttl_ms])
        except RedisError:
            log.warning("could not extend conversation lock", extra={"lock": key})
            return
        if kept or held.released:  # a commit freeing it meanwhile is no loss
            return
        if self._kept.get(key) is held:
            del self._kept[key]  # lost: not extended again
        log.error("conversation lock lost to its lease expiring", extra={"lock": key})

    async def _release_shielded(self, key: str, value: str, *, by_token: bool = False) -> None:
        """Free the lock if it holds `value` ("fence token"), or any fence with our token
        (`by_token`: acquiring was interrupted before we learnt the fence)."""
        release = self._release_token if by_token else self._release
        try:
            await asyncio.shield(release(keys=[key], args=[value]))
        except RedisError:
            # It expires by itself after one ttl; nothing else to do.
            log.warning("could not release conversation lock", extra={"lock": key})
