"""The limits port: counters and budgets shared by every process on the backend.

- `Limits` (a backend implements it): fixed-window hit counters (code requests, login and
  loop-breaker counts) and the one pending verification challenge of a customer, whose
  attempts are counted atomically so parallel guesses cannot exceed the budget.
- `RateLimiter` (`hub.shared_limits` builds one beside the backend): token buckets by key.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from typing import Any, Protocol


class Limits(Protocol):
    """Short-lived counting state: hit counters and verification attempts."""

    @abc.abstractmethod
    async def count_hit(self, key: str, *, window: float, now: float) -> int:
        """Count one hit on `key` in the fixed window containing `now`; the count so far."""

    @abc.abstractmethod
    async def put_challenge(
        self, customer_id: str, challenge: Mapping[str, Any], *, expires_at: float
    ) -> None:
        """Keep the customer's one pending verification (replacing an earlier one)."""

    @abc.abstractmethod
    async def attempt_challenge(self, customer_id: str, *, now: float) -> dict[str, Any] | None:
        """Count one attempt at the pending challenge and return it with its `attempts`
        incremented, atomically (so parallel guesses cannot exceed the budget); None when
        there is none or it has expired."""

    @abc.abstractmethod
    async def drop_challenge(self, customer_id: str) -> None:
        """Forget the customer's pending verification (verified, expired or replaced)."""


class RateLimiter(Protocol):
    """Token buckets by key, one per key for every process (`hub.shared_limits`)."""

    async def take(self, key: str, *, rate: float, burst: float) -> float:
        """0 when one more may go now (and it is counted); else the seconds to wait."""


__all__ = ["Limits", "RateLimiter"]
