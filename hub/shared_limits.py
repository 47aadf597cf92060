"""Rate limits every hub process draws on together: token buckets by key.

A limit counted per process is N times the limit with N processes behind a load balancer.
`RateLimiter.take(key, rate=, burst=)` is one shared bucket: `burst` at once, refilled at
`rate` per second, whichever process asks.

- `LocalRateLimiter`: in memory (SQLite: one process). Buckets that would be full again
  are forgotten, so a flood of keys cannot grow memory without bound.
- `RedisRateLimiter`: one Lua script per take on ``fd:{fd:limit:<key>}`` (a hash: tokens,
  updated), on Redis's own clock (``TIME``) so machines with skewed clocks agree; the key
  expires once the bucket would be full again.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from hub.ports.limits import RateLimiter
from hub.store_redis_connect import RedisClient, own_tag

MAX_TRACKED = 10_000  # buckets kept in memory before idle ones are forgotten


@dataclass(slots=True, kw_only=True)
class TokenBucket:
    """`burst` at once, refilled at `rate` per second."""

    rate: float
    burst: float
    tokens: float
    updated: float = field(default_factory=time.monotonic)

    def take(self, now: float) -> float:
        """0 when one may go now (and counts it); else seconds until one may."""
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


class Buckets:
    """Token buckets of one rate by key, forgetting those that would be full again (they
    carry no information)."""

    def __init__(self, *, rate: float, burst: float, clock: Callable[[], float]) -> None:
        self.rate = rate
        self.burst = burst
        self.clock = clock
        self._buckets: dict[str, TokenBucket] = {}

    def take(self, key: str) -> float:
        """0 when `key` may go now (and it is counted); else the seconds to wait."""
        now = self.clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= MAX_TRACKED:
                self._forget_idle(now)
            bucket = TokenBucket(rate=self.rate, burst=self.burst, tokens=self.burst, updated=now)
            self._buckets[key] = bucket
        return bucket.take(now)

    def _forget_idle(self, now: float) -> None:
        refill = self.burst / self.rate
        for key, bucket in list(self._buckets.items()):
            if now - bucket.updated >= refill:
                del self._buckets[key]


class LocalRateLimiter:
    """Shared by the callers of one process."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._by_rate: dict[tuple[float, float], Buckets] = {}

    async def take(self, key: str, *, rate: float, burst: float) -> float:
        buckets = self._by_rate.get((rate, burst))
        if buckets is None:
            buckets = self._by_rate[(rate, burst)] = Buckets(
                rate=rate, burst=burst, clock=self.clock
            )
        return buckets.take(key)


_TAKE = """
local now = redis.call('TIME')
now = tonumber(now[1]) + tonumber(now[2]) / 1000000
local rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local held = redis.call('HMGET', KEYS[1], 'tokens', 'updated')
local tokens = tonumber(held[1]) or burst
local updated = tonumber(held[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - updated) * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = (1 - tokens) / rate end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'updated', tostring(now))
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return tostring(wait)
"""


class RedisRateLimiter:
    """Shared by every process on one Redis; `redis` is called once the store is open."""

    def __init__(self, redis: Callable[[], RedisClient], *, prefix: str = "fd:") -> None:
        self._redis = redis
        self.prefix = prefix

    async def take(self, key: str, *, rate: float, burst: float) -> float:
        # Gone once it would be full again: an idle key costs nothing.
        ttl_ms = math.ceil(burst / rate * 1000) + 1000
        wait = await self._redis().eval(
            _TAKE, 1, own_tag(self.prefix, f"limit:{key}"), rate, burst, ttl_ms
        )
        return float(wait)


__all__ = [
    "Buckets",
    "LocalRateLimiter",
    "RateLimiter",
    "RedisRateLimiter",
    "TokenBucket",
]
