"""Conversation ownership across processes: a Redis lease lock behind a process-local lock.

The process-local `KeyedLock` comes first, so coroutines of one process queue on an
`asyncio.Lock` instead of polling Redis against each other. The Redis lock is
``SET key token NX PX ttl`` (in Lua, so that a resent SET finds its own token); while it is held a background task extends the lease every
third of the ttl, so a long turn never loses it, and a process that dies loses it after
one ttl at most. Release and extension compare the token first (Lua), so a process never
frees or prolongs a lock someone else has taken since.
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

from hub.locks import KeyedLock
from hub.store_redis_connect import RedisClient
from hub.store_redis_scripts import LOCK_ACQUIRE, LOCK_EXTEND, LOCK_RELEASE

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
        self._extend: AsyncScript = redis.register_script(LOCK_EXTEND)

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        async with self._local.hold(key):
            redis_key = f"{self._prefix}lock:{key}"
            token = os.urandom(16).hex()
            await self._acquire(redis_key, token)
            keeper = asyncio.create_task(self._keep(redis_key, token))
            try:
                yield
            finally:
                keeper.cancel()
                try:
                    await self._release_shielded(redis_key, token)
                finally:
                    # asyncio.wait never raises the keeper's CancelledError, so a
                    # cancellation of *this* task is not swallowed here.
                    await asyncio.wait([keeper])

    async def _acquire(self, key: str, token: str) -> None:
        delay = _FIRST_BACKOFF
        try:
            while not await self._acquire_script(keys=[key], args=[token, self._ttl_ms]):
                # Jitter keeps waiters of several processes from retrying in lockstep.
                await asyncio.sleep(delay * random.uniform(0.5, 1.5))
                delay = min(delay * 2, _MAX_BACKOFF)
        except BaseException:
            # Cancelled or failed while SET may have gone through: free it if it is ours.
            await self._release_shielded(key, token)
            raise

    async def _keep(self, key: str, token: str) -> None:
        interval = self._ttl_ms / 3000
        while True:
            await asyncio.sleep(interval)
            try:
                kept = await self._extend(keys=[key], args=[token, self._ttl_ms])
            except RedisError:
                log.warning("could not extend conversation lock", extra={"lock": key})
                continue
            if not kept:
                log.error("conversation lock lost to its lease expiring", extra={"lock": key})
                return

    async def _release_shielded(self, key: str, token: str) -> None:
        try:
            await asyncio.shield(self._release(keys=[key], args=[token]))
        except RedisError:
            # It expires by itself after one ttl; nothing else to do.
            log.warning("could not release conversation lock", extra={"lock": key})
