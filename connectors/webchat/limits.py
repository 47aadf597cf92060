"""Per-address limits of the web chat: what one client address may hold open and send.

A visitor token is free to mint, so limits per visitor alone stop nobody: one address can
ask for 250 fresh tokens and send 8 messages on each. These limits are keyed on the client
address (`hub.edge.client_address`: the peer, or the `X-Forwarded-For` entry a trusted
proxy vouched for) and bound:

- open connections (WebSockets and waiting long-polls), per hub process (a connection is
  held by one process),
- new visitor tokens per minute, across every process (a shared token bucket),
- messages per second, across all the address's visitors and every process (a shared
  token bucket with a burst).

The buckets are `hub.shared_limits` buckets: the hub's limiter (Redis-backed when the
store is Redis, so N processes behind a load balancer still allow the configured rate, not
N times it).

An office behind one NAT address shares them, so the defaults leave room for a floor of
people chatting at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from hub.shared_limits import Buckets, LocalRateLimiter, RateLimiter, TokenBucket


@dataclass(frozen=True, slots=True, kw_only=True)
class AddressPolicy:
    max_connections: int = 50
    new_visitors_per_minute: int = 30
    messages_per_second: float = 5.0
    message_burst: int = 20


class AddressLimits:
    """The three per-address limits of one web chat connector."""

    def __init__(
        self,
        policy: AddressPolicy,
        *,
        clock: Callable[[], float] = time.monotonic,
        limiter: RateLimiter | None = None,
        prefix: str = "webchat",
    ) -> None:
        self.policy = policy
        self._open: dict[str, int] = {}
        self.limiter: RateLimiter = limiter or LocalRateLimiter(clock)
        self.prefix = prefix  # the connector's name, keying its shared buckets

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

    async def new_visitor(self, address: str) -> float:
        """0 when `address` may get a new visitor token now; else the seconds to wait."""
        minute = self.policy.new_visitors_per_minute
        key = f"{self.prefix}:new:{address}"
        return await self.limiter.take(key, rate=minute / 60.0, burst=minute)

    async def message(self, address: str) -> float:
        """0 when `address` may send a message now; else the seconds to wait."""
        policy = self.policy
        key = f"{self.prefix}:msg:{address}"
        return await self.limiter.take(
            key, rate=policy.messages_per_second, burst=policy.message_burst
        )


__all__ = ["AddressLimits", "AddressPolicy", "Buckets", "TokenBucket"]
