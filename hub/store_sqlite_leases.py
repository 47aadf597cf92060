"""Turn leases taken with the message, on the embedded store.

On Redis the script that stores a customer's message also takes the conversation's turn
lease when nobody holds it and reads the turn context under it, so the turn the message
starts costs no round trip of its own for either (`Leases.record_inbound_and_lease`). Here
the same: the write that stored the message already has the conversation and the customer
in hand, and knows whether the message is the only one waiting for a turn; so right after
it, the conversation's lock is taken (when free) and the context kept, and the turn
runner's `turn_lease` adopts both instead of taking the lock and reading the context
(a join and a read of the log: about 7 % of a web chat turn, `docs/performance.md`).

What keeps the kept context true:
- **Nothing changed the conversation in between.** The lock is taken on the write's return,
  and another write of the conversation may have been committed in the same batch or
  run since (an agent's message, a receipt, a merge). Every write of a conversation row
  goes through the store's row memo (`DecodedRows.keep`), so the memo still holding the
  very object this write made proves there was none; otherwise the lock is let go and
  the turn runner reads, as without this. From then on the lock is held: a writer that
  needs it waits for the turn.
- **Only a message alone gets one.** A message behind another still waiting for its turn
  (a runner that failed, a restart) is left to the runner's read of the log, which
  answers them all in order.
- **A lease nobody adopts is let go** after `ADOPT_WITHIN` seconds (the hub starts the
  runner at once; this only guards against a runner that never came), with a warning,
  as a Redis lease expires.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass

from hub.locks import KeyedLock, Lease
from hub.model import Conversation, Event
from hub.ports import Ingested
from hub.ports.leases import TurnContext
from hub.store_sqlite_rows import DecodedRows

log = logging.getLogger("frontdesk.store.sqlite")

ADOPT_WITHIN = 30.0  # seconds an offered lease waits for its turn runner


@dataclass(slots=True)
class _Offered:
    lease: Lease
    context: TurnContext
    expiry: asyncio.TimerHandle


class AdoptedLeases:
    """The leases and contexts `offer`ed by message writes, until `turn_lease` adopts one."""

    def __init__(
        self,
        locks: KeyedLock,
        conversations: DecodedRows[Conversation],
        next_fence: Callable[[], int],
        *,
        adopt_within: float = ADOPT_WITHIN,
    ) -> None:
        self._locks = locks
        self._conversations = conversations
        self._next_fence = next_fence
        self.adopt_within = adopt_within
        self._offered: dict[str, _Offered] = {}
        self.adopted = 0  # leases the turn runner adopted (tests, benches)

    async def offer(self, ingested: Ingested, unanswered: list[Event]) -> None:
        """Take the conversation's lock for the turn `ingested` starts, with its context,
        if nobody holds it and nothing wrote the conversation since (see the module)."""
        conversation = ingested.conversation
        key = conversation.id
        if key in self._offered or not await self._locks.take(key):
            return
        if self._conversations.kept(key) is not conversation:
            self._locks.release(key)  # written since: the runner reads, under the lock
            return
        expiry = asyncio.get_running_loop().call_later(self.adopt_within, self._expire, key)
        context = (conversation, unanswered, ingested.customer)
        self._offered[key] = _Offered(Lease(fence=self._next_fence()), context, expiry)

    def adopt(
        self, conversation_id: str, *, limit: int
    ) -> AbstractAsyncContextManager[tuple[Lease, TurnContext]] | None:
        """The lease and context offered for the conversation's turn, held until the
        context manager exits; None when there is none (the caller locks and reads)."""
        offered = self._offered.pop(conversation_id, None)
        if offered is None:
            return None
        offered.expiry.cancel()
        if offered.context is not None and len(offered.context[1]) >= limit:
            self._locks.release(conversation_id)  # a runner reading less: it reads itself
            return None
        self.adopted += 1
        return self._adopt(conversation_id, offered)

    @asynccontextmanager
    async def _adopt(
        self, conversation_id: str, offered: _Offered
    ) -> AsyncIterator[tuple[Lease, TurnContext]]:
        try:
            yield offered.lease, offered.context
        finally:
            self._locks.release(conversation_id)

    def _expire(self, conversation_id: str) -> None:
        offered = self._offered.pop(conversation_id, None)
        if offered is not None:
            log.warning(
                "a turn lease taken with its message was never adopted; released",
                extra={"conversation_id": conversation_id},
            )
            self._locks.release(conversation_id)

    def close(self) -> None:
        for conversation_id in list(self._offered):
            offered = self._offered.pop(conversation_id)
            offered.expiry.cancel()
            self._locks.release(conversation_id)
