"""The leases port: exclusive, fenced ownership of a key across every process.

A conversation's turns run under its lease (`conversation_lock(conversation_id)`), and so do
the offers to one agent (`handoff.capacity`, key ``agent:<id>``). The `Lease` handed over
carries a fencing token: a holder that stalled past its lease cannot commit any more
(`EventLog.commit_turn(fence=...)` raises `LeaseLost`).

Singletons (the hand-off clock, IMAP polling) take a leader lease instead
(`hub.leader.Lease`); both grow their fence with every new holder.
"""

from __future__ import annotations

import abc
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Protocol

from hub.locks import Lease
from hub.model import Conversation, Customer, Event, Inbound
from hub.ports.log import EventLog, Ingested

# What the turn runner reads under its lease: the conversation, events after its
# `handled_seq`, its customer (`EventLog.turn_context`); None for an unknown conversation.
# A context taken with the message (`record_inbound_and_lease`) may hold only what the turn
# answers of those events: the customer messages (and a new conversation's opening).
TurnContext = tuple[Conversation, list[Event], Customer | None] | None


class Leases(Protocol):
    """Exclusive ownership with fencing tokens (across processes for shared backends)."""

    @abc.abstractmethod
    def conversation_lock(self, conversation_id: str) -> AbstractAsyncContextManager[Lease]:
        """Exclusive ownership of a conversation's turns (or of any other key, such as
        ``agent:<id>``), with a fencing token to commit under (`commit_turn(fence=...)`)."""

    def turn_lease(
        self: _LeasedLog, conversation_id: str, *, limit: int
    ) -> AbstractAsyncContextManager[tuple[Lease, TurnContext]]:
        """The turn runner's lease and its first `turn_context(limit=limit)`, read under it.

        A shared backend may take the lease and read in one round trip, and may free the
        lease in the commit (under its fence) that leaves the conversation with nothing
        pending, when the context held fewer than `limit` events: its holder then reads
        and commits nothing more under it. Here: the lock, then the read."""
        return _lock_then_read(self, conversation_id, limit)

    async def record_inbound_and_lease(
        self: _LeasedLog, inbound: Inbound, *, now: float, limit: int
    ) -> Ingested:
        """`record_inbound`, by the process that runs the turn the message starts (the hub).

        A shared backend may take the conversation's turn lease in the same round trip when
        the message starts a turn and nobody holds the lease, and read the turn context
        (`limit` events) under it; this process's next `turn_lease` (or
        `conversation_lock`) of the conversation then adopts that lease instead of taking
        one. A lease never adopted expires like the lease of a holder that died. Here: the
        message alone; the turn runner takes the lease."""
        return await self.record_inbound(inbound, now=now)


class _LeasedLog(Leases, EventLog, Protocol):
    """A backend with both, and customers to read: what the default `turn_lease` needs."""

    async def get_customer(self, customer_id: str) -> Customer | None: ...


@asynccontextmanager
async def _lock_then_read(
    store: _LeasedLog, conversation_id: str, limit: int
) -> AsyncIterator[tuple[Lease, TurnContext]]:
    async with store.conversation_lock(conversation_id) as lease:
        yield lease, await store.turn_context(conversation_id, limit=limit)


__all__ = ["Lease", "Leases", "TurnContext"]
