"""An agent is never offered more conversations than their capacity, across processes.

Every process derives an agent's open conversations from the log (`handoff.queue`), and
each could see a free slot at the same moment and fill it. So an offer (and a take) is
decided under the agent's own lease lock, the same cross-process lock that orders a
conversation's turns, after the event bus has settled: the index then holds every offer
any process committed before, and the holder's own offer reaches the bus before the lock
passes on.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from hub.bus import EventBus
from hub.ports import Leases


class CapacityGuard:
    """Serialises the offers to one agent across every process sharing the store."""

    def __init__(self, leases: Leases, bus: EventBus) -> None:
        self.leases = leases
        self.bus = bus

    @asynccontextmanager
    async def hold(self, agent_id: str) -> AsyncIterator[None]:
        async with self.leases.conversation_lock(f"agent:{agent_id}"):
            await self.bus.settled()
            try:
                yield
            finally:
                await self.bus.settled()  # the next holder sees what this one wrote


__all__ = ["CapacityGuard"]
