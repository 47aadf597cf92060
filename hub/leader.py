"""One leader among the hub processes for work that must run once: SLA timers, offer
timeouts, queue-position updates, mail polling, scheduled jobs.

A `Lease` is held by at most one process at a time. On Redis it is
``SET fd:{fd:lease:<name>} <holder> NX PX ttl``, renewed every third of the ttl by a
compare-and-extend script, so a process that dies or stalls loses it after one ttl and
another takes over. Each acquisition also draws a **fencing token** (``INCR`` on
``fd:{fd:lease:<name>}:fence``, same hash tag): it only ever grows, so anything the
leader writes can carry it and a store can refuse a write from a holder that has since
been replaced. A single process (SQLite) is always the leader, with token 1.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Callable
from typing import Protocol

from redis.exceptions import RedisError

from hub.periodic import stop_task
from hub.store_redis_connect import RedisClient, own_tag

log = logging.getLogger("frontdesk.leader")

# Take the lease if free (or already ours: a retried call), and draw a fencing token.
_ACQUIRE = """
local current = redis.call('GET', KEYS[1])
if current == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return tonumber(redis.call('GET', KEYS[2]) or '0')
end
if current then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return redis.call('INCR', KEYS[2])
"""

# Extend only while it is still ours.
_EXTEND = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class Lease(Protocol):
    """Whether this process leads for one named job, and its fencing token while it does."""

    @property
    def leading(self) -> bool: ...

    @property
    def token(self) -> int:
        """The fencing token of the current term (0 when not leading)."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class SoleLease:
    """One process: it always leads."""

    leading = True
    token = 1

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None


class RedisLease:
    """A lease on Redis shared by every process; `redis` is called once the store is open."""

    def __init__(
        self,
        redis: Callable[[], RedisClient],
        name: str,
        *,
        prefix: str = "fd:",
        ttl: float = 10.0,
        on_change: Callable[[bool], None] | None = None,
    ) -> None:
        self._redis = redis
        self.name = name
        self.key = own_tag(prefix, f"lease:{name}")
        self.fence_key = f"{self.key}:fence"
        self.ttl_ms = max(int(ttl * 1000), 100)
        self.holder = os.urandom(12).hex()
        self.on_change = on_change
        self._token = 0
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self.terms = 0  # how many times this process became the leader

    @property
    def leading(self) -> bool:
        return self._token > 0

    @property
    def token(self) -> int:
        return self._token

    async def start(self) -> None:
        await self._try()  # lead at once if nobody does, so start-up work is not delayed
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        self._closing = True  # as well as the cancel, which a redis-py timeout may swallow
        task, self._task = self._task, None
        if task is not None:
            await stop_task(task, f"leader:{self.name}", within=5.0)
        if self.leading:
            with contextlib.suppress(RedisError, OSError, RuntimeError):
                await self._redis().eval(_RELEASE, 1, self.key, self.holder)
            self._set(0)

    async def _run(self) -> None:
        while not self._closing:
            await asyncio.sleep(self.ttl_ms / 3000)
            await self._try()

    async def _try(self) -> None:
        try:
            if self.leading:
                kept = await self._redis().eval(_EXTEND, 1, self.key, self.holder, self.ttl_ms)
                if not kept:
                    log.warning("lease lost", extra={"lease": self.name})
                    self._set(0)
                return
            token = await self._redis().eval(
                _ACQUIRE, 2, self.key, self.fence_key, self.holder, self.ttl_ms
            )
            if token:
                self._set(int(token))
        except (RedisError, OSError) as error:
            # Without Redis we cannot know we still lead; stop before another takes over.
            log.warning("lease check failed", extra={"lease": self.name, "error": repr(error)})
            self._set(0)

    def _set(self, token: int) -> None:
        was = self.leading
        self._token = token
        if token and not was:
            self.terms += 1
            log.info("leading", extra={"lease": self.name, "fencing_token": token})
        if was != self.leading and self.on_change is not None:
            self.on_change(self.leading)


__all__ = ["Lease", "RedisLease", "SoleLease"]
