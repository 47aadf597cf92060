"""Per-address limits of the web chat: what one client address may hold open and send.

A visitor token is free to mint, so limits per visitor alone stop nobody: one address can
ask for 250 fresh tokens and send 8 messages on each. These limits are keyed on the client
address (`hub.edge.client_address`: the peer, or the `X-Forwarded-For` entry a trusted
proxy vouched for) and bound, per hub process:

- open connections (WebSockets and waiting long-polls),
- new visitor tokens per minute,
- messages per second, across all the address's visitors (a token bucket with a burst).

An office behind one NAT address shares them, so the defaults leave room for a floor of
people chatting at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

MAX_TRACKED = 10_000  # buckets kept before idle ones are forgotten


@dataclass(slots=True, kw_only=True)
class TokenBucket:
    """`burst` messages at once, refilled at `rate` per second."""

    rate: float
    burst: float
    tokens: float
    updated: float = field(default_factory=time.monotonic)

    def take(self, now: float) -> float:
        """0 when a message may go now (and counts it); else seconds until one may."""
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


class Buckets:
    """Token buckets by key, forgetting those that would be full again (they carry no
    information), so a flood of addresses cannot grow memory without bound."""

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


@dataclass(frozen=True, slots=True, kw_only=True)
class AddressPolicy:
    max_connections: int = 50
    new_visitors_per_minute: int = 30
    messages_per_second: float = 5.0
    message_burst: int = 20


class AddressLimits:
    """The three per-address limits of one web chat connector."""

    def __init__(self, policy: AddressPolicy, *, clock: Callable[[], float] = time.monotonic):
        self.policy = policy
        self._open: dict[str, int] = {}
        minute = policy.new_visitors_per_minute
        self._visitors = Buckets(rate=minute / 60.0, burst=minute, clock=clock)
        self._messages = Buckets(
            rate=policy.messages_per_second, burst=policy.message_burst, clock=clock
        )

    def connect(self, address: str) -> bool:
        """Count one more open connection; False (and nothing counted) when at the limit."""
        count = self._open.get(address, 0)
        if count >= self.policy.max_connections:
            return False
        self._open[address] = count + 1
        return True

    def disconnect(self, address: str) -> None:
        count = self._open.get(address, 0) - 1
        if count > 0:
            self._open[address] = count
        else:
            self._open.pop(address, None)

    def connections(self, address: str) -> int:
        return self._open.get(address, 0)

    def new_visitor(self, address: str) -> float:
        """0 when `address` may get a new visitor token now; else the seconds to wait."""
        return self._visitors.take(address)

    def message(self, address: str) -> float:
        """0 when `address` may send a message now; else the seconds to wait."""
        return self._messages.take(address)


__all__ = ["AddressLimits", "AddressPolicy", "Buckets", "TokenBucket"]
