"""Send pacing every hub process books together: slots on a provider's rate limits.

A provider such as Telegram allows a number of sends per second for the whole bot and one
send per so many seconds to each chat. Counted per process, N processes would send N times
that and be refused. `Pacing.reserve(group, lane, …)` books the next free slot for one
lane (a chat) within its group (a bot): no earlier than the lane's last slot plus its
`spacing`, and on a global tick of `1 / per_second` that no other send of the group holds.
The caller waits for the slot when it is near, or hands the send back to the outbox when it
is further than `max_wait` (nothing is booked then). `pause` keeps a lane quiet after the
provider said "too many requests".

- `LocalPacing`: in memory (SQLite: one process), on an injected clock.
- `RedisPacing`: one Lua script per call on ``fd:{fd:pace:<group>}:…`` keys (the ticks,
  and one key per lane holding its next free time), on Redis's own clock so machines with
  skewed clocks agree. A group's keys share their own hash tag, so on a Redis Cluster a
  call is one slot (apart from the store's); the script names every key it touches.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Protocol

from hub.store_redis_connect import RedisClient, own_tag

MAX_TRACKED = 10_000  # lanes and ticks kept in memory before past ones are forgotten


class Pacing(Protocol):
    async def reserve(
        self, group: str, lane: str, *, per_second: float, spacing: float, max_wait: float
    ) -> float | None:
        """Book the next slot of `lane`; the seconds until it, or None (nothing booked)
        when it is more than `max_wait` away."""

    async def wait_for(self, group: str, lane: str, *, per_second: float) -> float:
        """Seconds until `lane` could send (without booking)."""

    async def pause(self, group: str, lane: str, seconds: float) -> None:
        """Nothing more goes to `lane` for `seconds` (the provider said 429)."""


def _tick(per_second: float) -> float:
    """How long one tick of the bot's rate lasts. The next tick is always a little ahead, so
    it never counts against `max_wait` (`max_wait=0` still sends, on the next tick)."""
    return 1.0 / per_second if per_second > 0 else 0.0


class SlotBook:
    """One group's slots in memory. Ticks are booked one by one, so a lane waiting for its
    own spacing never holds up another lane that could send now."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._ticks: set[int] = set()
        self._next: dict[str, float] = {}

    def reserve(
        self, lane: str, *, per_second: float, spacing: float, max_wait: float
    ) -> float | None:
        now = self.clock()
        tick, slot = self._slot(lane, now, per_second)
        if slot - now > max_wait + _tick(per_second):
            return None
        if tick is not None:
            self._ticks.add(tick)
        self._next[lane] = slot + spacing
        self._forget_past(now, per_second)
        return max(0.0, slot - now)

    def wait_for(self, lane: str, *, per_second: float) -> float:
        now = self.clock()
        return max(0.0, self._slot(lane, now, per_second)[1] - now)

    def pause(self, lane: str, seconds: float) -> None:
        until = self.clock() + seconds
        self._next[lane] = max(self._next.get(lane, 0.0), until)

    def _slot(self, lane: str, now: float, per_second: float) -> tuple[int | None, float]:
        earliest = max(now, self._next.get(lane, 0.0))
        if per_second <= 0:
            return None, earliest
        interval = 1.0 / per_second
        tick = math.ceil(earliest / interval - 1e-9)  # float noise at boundaries
        while tick in self._ticks:
            tick += 1
        return tick, tick * interval

    def _forget_past(self, now: float, per_second: float) -> None:
        # Keep memory bounded by the lanes that are being paced right now.
        if len(self._next) > MAX_TRACKED:
            self._next = {lane: t for lane, t in self._next.items() if t > now}
        if len(self._ticks) > MAX_TRACKED and per_second > 0:
            current = now * per_second
            self._ticks = {tick for tick in self._ticks if tick >= current}


class LocalPacing:
    """Shared by the senders of one process."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._groups: dict[str, SlotBook] = {}

    def _book(self, group: str) -> SlotBook:
        book = self._groups.get(group)
        if book is None:
            book = self._groups[group] = SlotBook(self.clock)
        return book

    async def reserve(
        self, group: str, lane: str, *, per_second: float, spacing: float, max_wait: float
    ) -> float | None:
        return self._book(group).reserve(
            lane, per_second=per_second, spacing=spacing, max_wait=max_wait
        )

    async def wait_for(self, group: str, lane: str, *, per_second: float) -> float:
        return self._book(group).wait_for(lane, per_second=per_second)

    async def pause(self, group: str, lane: str, seconds: float) -> None:
        self._book(group).pause(lane, seconds)


# KEYS[1] the group's booked ticks (zset, score = member = tick), KEYS[2] the lane's next
# free time. ARGV: per_second spacing max_wait book(1/0) → seconds to wait, or '-1' when
# booking and the slot is further than max_wait (nothing booked).
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local per_second, spacing = tonumber(ARGV[1]), tonumber(ARGV[2])
local earliest = math.max(now, tonumber(redis.call('GET', KEYS[2]) or '0'))
local tick, slot = nil, earliest
if per_second > 0 then
  tick = math.ceil(earliest * per_second - 1e-9)
  while redis.call('ZSCORE', KEYS[1], tick) do tick = tick + 1 end
  slot = tick / per_second
end
local wait = math.max(0, slot - now)
if ARGV[4] ~= '1' then return tostring(wait) end
-- The bot's next tick is never "too long a wait": with a rate, some slot is always ahead.
local tick_length = 0
if per_second > 0 then tick_length = 1 / per_second end
if slot - now > tonumber(ARGV[3]) + tick_length then return '-1' end
if tick then
  redis.call('ZADD', KEYS[1], tick, tick)
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', math.floor(now * per_second) - 1)
  redis.call('PEXPIRE', KEYS[1], math.ceil(wait * 1000) + 60000)
end
local free = slot + spacing
redis.call('SET', KEYS[2], string.format('%.6f', free), 'PX', math.ceil((free - now) * 1000) + 1000)
return tostring(wait)
"""

# KEYS[1] the lane's next free time; ARGV[1] seconds of silence.
_PAUSE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local until_ = now + tonumber(ARGV[1])
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if current >= until_ then return 0 end
redis.call('SET', KEYS[1], string.format('%.6f', until_), 'PX', math.ceil(ARGV[1] * 1000) + 1000)
return 1
"""


class RedisPacing:
    """Shared by every process on one Redis; `redis` is called once the store is open."""

    def __init__(self, redis: Callable[[], RedisClient], *, prefix: str = "fd:") -> None:
        self._redis = redis
        self.prefix = prefix

    def _keys(self, group: str, lane: str) -> list[str]:
        base = own_tag(self.prefix, f"pace:{group}")
        return [f"{base}:ticks", f"{base}:lane:{lane}"]

    async def _call(self, group: str, lane: str, *args: float | int) -> float:
        reply = await self._redis().eval(_RESERVE, 2, *self._keys(group, lane), *args)
        return float(reply)

    async def reserve(
        self, group: str, lane: str, *, per_second: float, spacing: float, max_wait: float
    ) -> float | None:
        wait = await self._call(group, lane, per_second, spacing, max_wait, 1)
        return None if wait < 0 else wait

    async def wait_for(self, group: str, lane: str, *, per_second: float) -> float:
        return await self._call(group, lane, per_second, 0, 0, 0)

    async def pause(self, group: str, lane: str, seconds: float) -> None:
        await self._redis().eval(_PAUSE, 1, self._keys(group, lane)[1], seconds)


__all__ = ["LocalPacing", "Pacing", "RedisPacing", "SlotBook"]
