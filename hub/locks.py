"""Per-key asyncio locks that are forgotten once nobody holds or waits for them, and the
`Lease` a store's conversation lock hands its holder."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Lease:
    """Ownership of one conversation's turns, with its fencing token.

    `fence` grows with every lease of the same conversation (across processes and
    restarts). A holder that paused past its lease's expiry, while someone else took the
    conversation, still believes it holds it; the store refuses its commit because a
    later fence has been handed out since (`LeaseLost`), so nothing of it is written."""

    fence: int


class KeyedLock:
    """One asyncio.Lock per key; memory stays bounded by the keys in use."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (None, 0))
        if lock is None:
            lock = asyncio.Lock()
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users <= 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)

    async def take(self, key: str) -> bool:
        """Hold `key` if nobody holds it or waits for it, without waiting; False otherwise.
        The lock then outlives this call: `release(key)` frees it, from any task."""
        if key in self._locks:
            return False
        lock = asyncio.Lock()
        self._locks[key] = (lock, 1)
        await lock.acquire()  # a new lock nobody else can see: taken at once
        return True

    def release(self, key: str) -> None:
        """Free a lock `take` took (its next waiter, if any, gets it)."""
        lock, users = self._locks[key]
        lock.release()
        if users <= 1:
            del self._locks[key]
        else:
            self._locks[key] = (lock, users - 1)

    def __len__(self) -> int:
        return len(self._locks)
