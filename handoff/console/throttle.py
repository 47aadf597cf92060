"""What a failed login costs: progressive delays, never a lockout.

Only failures count; a successful login costs nothing, so an office of fifty agents behind
one NAT address never throttles itself. Failures are counted on two keys:

- **(account, address)**: guessing one agent's password from one place. A stranger guessing
  from elsewhere does not slow the agent down at their own desk.
- **address**: one place guessing many accounts (a password spray).

Each key has a number of free failures; after them, every further attempt must wait
`delay * 2**(failures - free)` seconds after the last failure (capped at `max_delay`). An
attempt made before then is refused with 429 and `Retry-After` *without* checking the
password and without counting, so an attacker cannot make the wait longer by hammering.
A streak is forgotten `forget_after` seconds after its last failure; a successful login
clears its (account, address) streak, not the address's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from handoff.console.accounts import AccountStore, Failures


@dataclass(frozen=True, slots=True, kw_only=True)
class ThrottlePolicy:
    free_per_account: int = 5  # failures per (account, address) before delays start
    free_per_address: int = 20  # failures per address, any accounts
    delay: float = 1.0  # the first delay, doubled with each further failure
    max_delay: float = 300.0
    forget_after: float = 900.0  # a quiet streak is forgotten after this

    def wait_after(self, failures: Failures, *, free: int) -> float:
        """Seconds after the last failure before the next attempt is heard (pure)."""
        if failures.count < free:
            return 0.0
        exponent = min(failures.count - free, 32)  # 2**32 seconds is beyond any cap
        return min(self.max_delay, self.delay * float(2**exponent))


class LoginThrottle:
    """The two failure streaks of a login attempt, kept in the account store (so the
    throttle holds across hub processes)."""

    def __init__(
        self, store: AccountStore, policy: ThrottlePolicy, clock: Callable[[], float]
    ) -> None:
        self.store = store
        self.policy = policy
        self.clock = clock

    async def wait(self, account: str, address: str) -> float:
        """Seconds until an attempt on `account` from `address` will be heard; 0 = now."""
        now, policy = self.clock(), self.policy
        pair = await self.store.failures(_pair(account, address), now=now)
        place = await self.store.failures(_place(address), now=now)
        return max(
            0.0,
            pair.last + policy.wait_after(pair, free=policy.free_per_account) - now,
            place.last + policy.wait_after(place, free=policy.free_per_address) - now,
        )

    async def failed(self, account: str, address: str) -> None:
        now, forget = self.clock(), self.policy.forget_after
        await self.store.add_failure(_pair(account, address), now=now, forget_after=forget)
        await self.store.add_failure(_place(address), now=now, forget_after=forget)

    async def succeeded(self, account: str, address: str) -> None:
        await self.store.clear_failures(_pair(account, address))


def _pair(account: str, address: str) -> str:
    return f"login:pair:{account.lower()}|{address}"


def _place(address: str) -> str:
    return f"login:address:{address}"
