"""Conversation ownership across processes: a Redis lease lock behind a process-local lock.

The process-local `KeyedLock` comes first, so coroutines of one process queue on an
`asyncio.Lock` instead of polling Redis against each other. The Redis lock is
``SET key "fence token" NX PX ttl`` (in Lua, so that a resent SET finds its own token);
while it is held a background task extends the lease every third of the ttl, so a long
turn never loses it, and a process that dies loses it after one ttl at most. Release and
extension compare the value first (Lua), so a process never frees or prolongs a lock
someone else has taken since.

The fence comes from ``INCR key:fence`` at each acquisition, so it only grows. A holder
that stalls past the ttl (a long GC pause, a stopped VM) cannot tell it lost the lock;
its commit names its fence and the store refuses it unless the lock still holds it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from redis.commands.core import AsyncScript
from redis.exceptions import RedisError

from hub.locks import KeyedLock, Lease
from hub.store_redis_connect import RedisClient
from hub.store_redis_scripts import LOCK_ACQUIRE, LOCK_EXTEND, LOCK_RELEASE, LOCK_RELEASE_TOKEN

log = logging.getLogger(__name__)

_FIRST_BACKOFF = 0.005
_MAX_BACKOFF = 0.25


class RedisLeaseLocks:
    """Keyed exclusive locks shared by every process using the same Redis."""

    def __init__(self, redis: RedisClient, *, prefix: str, ttl: float) -> None:
        self._redis = redis
        self._prefix = prefix
        self._ttl_ms = max(int(ttl * 1000), 10)
        self._local = KeyedLock()
        self._acquire_script: AsyncScript = redis.register_script(LOCK_ACQUIRE)
        self._release: AsyncScript = redis.register_script(LOCK_RELEASE)
        self._release_token: AsyncScript = redis.register_script(LOCK_RELEASE_TOKEN)
        self._extend: AsyncScript = redis.register_script(LOCK_EXTEND)

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[Lease]:
        async with self._local.hold(key):
            redis_key = f"{self._prefix}lock:{key}"
            token = os.urandom(16).hex()
            fence = await self._acquire(redis_key, token)
            held = f"{fence} {token}"  # what the lock holds while it is ours
            keeper = asyncio.create_task(self._keep(redis_key, held))
            try:
                yield Lease(fence=fence)
            finally:
                keeper.cancel()
                try:
                    await self._release_shielded(redis_key, held)
                finally:
                    # asyncio.wait never raises the keeper's CancelledError, so a
                    # cancellation of *this* task is not swallowed here.
                    await asyncio.wait([keeper])

    async def _acquire(self, key: str, token: str) -> int:
        """Wait for the lock; its fence."""
        delay = _FIRST_BACKOFF
        fence_key = f"{key}:fence"
        try:
            while True:
                fence = int(
                    await self._acquire_script(keys=[key, fence_key], args=[token, self._ttl_ms])
                )
                if fence:
                    return fence
                # Jitter keeps waiters of several processes from retrying in lockstep.
                await asyncio.sleep(delay * random.uniform(0.5, 1.5))
                delay = min(delay * 2, _MAX_BACKOFF)
        except BaseException:
            # Cancelled or failed while SET may have gone through: free it if it is ours.
            await self._release_shielded(key, token, by_token=True)
            raise

    async def _keep(self, key: str, held: str) -> None:
        interval = self._ttl_ms / 3000
        while True:
            await asyncio.sleep(interval)
            try:
                kept = await self._extend(keys=[key], args=[held, self._ttl_ms])
            except RedisError:
                log.warning("could not extend conversation lock", extra={"lock": key})
                continue
            if not kept:
                log.error("conversation lock lost to its lease expiring", extra={"lock": key})
                return

    async def _release_shielded(self, key: str, value: str, *, by_token: bool = False) -> None:
        """Free the lock if it holds `value` ("fence token"), or any fence with our token
        (`by_token`: acquiring was interrupted before we learnt the fence)."""
        release = self._release_token if by_token else self._release
        try:
            await asyncio.shield(release(keys=[key], args=[value]))
        except RedisError:
            # It expires by itself after one ttl; nothing else to do.
            log.warning("could not release conversation lock", extra={"lock": key})
