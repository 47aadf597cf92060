"""The dispatcher: offers waiting hand-offs to the best free agents.

Routing itself is the queue index's (`handoff.queue.Queue.choose_agent`); this decides
*when* to run it (coalesced: one dispatch at a time, once more if asked meanwhile) and
makes each offer a claim: written through the hub only if the conversation is still
queued, under the agent's capacity lease (`handoff.capacity`), so two processes never
offer one conversation twice nor an agent more than their capacity.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from handoff.capacity import CapacityGuard
from handoff.hub_link import HubLink
from handoff.messages import Texts
from handoff.queue import Presence, Queue, Ticket
from handoff.settings import HandoffSettings
from hub.model import Conversation, ConversationStatus, NewEvent

log = logging.getLogger("frontdesk.handoff")


class Dispatcher:
    """Offers the queue's waiting tickets to online agents with free capacity."""

    def __init__(
        self,
        hub: HubLink,
        queue: Queue,
        settings: HandoffSettings,
        *,
        texts: Texts,
        capacity: CapacityGuard,
        clock: Callable[[], float],
        catch_up: Callable[[str], Awaitable[None]],
    ) -> None:
        self.hub = hub
        self.queue = queue
        self.settings = settings
        self.texts = texts
        self.capacity = capacity
        self.clock = clock
        # Reads what other processes wrote into a conversation (an offer lost to one).
        self.catch_up = catch_up
        self.task: asyncio.Task[None] | None = None
        self._again = False

    def kick(self) -> None:
        """Run a dispatch soon (coalesced: one at a time, once more if asked meanwhile)."""
        if self.task is not None and not self.task.done():
            self._again = True
            return
        # Without a running loop (an index built in a benchmark) the next tick dispatches.
        with contextlib.suppress(RuntimeError):
            self.task = asyncio.get_running_loop().create_task(self._loop())

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)

    async def _loop(self) -> None:
        try:
            while True:
                self._again = False
                await self.dispatch()
                if not self._again:
                    return
        except Exception:
            log.exception("hand-off dispatch failed")

    async def dispatch(self) -> int:
        """Offer waiting conversations to the best free agents; returns how many."""
        offered = 0
        for ticket in self.queue.waiting():
            if not any(
                a.presence == Presence.ONLINE and a.free > 0 for a in self.queue.agents.values()
            ):
                break
            # Business hours shape SLA clocks and what the customer is told, never whether
            # an online agent is offered work.
            agent = self.queue.choose_agent(ticket, prefer_skill=self._preferred_skill(ticket))
            if agent is not None and await self.offer(ticket, agent.id):
                offered += 1
        return offered

    def _preferred_skill(self, ticket: Ticket) -> str:
        return self.settings.routing.vip_skill if "vip" in ticket.reasons else ""

    async def offer(self, ticket: Ticket, agent_id: str) -> bool:
        """Claim `ticket` for `agent_id`: written only if the conversation is still queued
        and the agent still has a free slot, counted across every process."""
        async with self.capacity.hold(agent_id):
            agent = self.queue.agents[agent_id]
            if agent.presence != Presence.ONLINE or agent.free <= 0:
                return False
            return await self._offer(ticket, agent_id)

    async def _offer(self, ticket: Ticket, agent_id: str) -> bool:
        agent = self.queue.agents[agent_id]
        auto = self.settings.routing.accept_timeout <= 0
        now = self.clock()
        data = {
            "agent_id": agent_id,
            "agent_name": agent.spec.name,
            "accepted": auto,
            "expires_at": now + self.settings.routing.accept_timeout,
            # What the customer's channel may show: an offer is still waiting.
            "status": "assigned" if auto else "offered",
        }
        replies = (
            (self.texts.say("joined", ticket.language, agent=agent.spec.name),) if auto else ()
        )

        async def still_queued(conversation: Conversation) -> bool:
            return conversation.status == ConversationStatus.QUEUED

        won = await self.hub.send(
            ticket.conversation_id,
            replies,
            events=(NewEvent(type="handoff.offered", data=data),),
            status=ConversationStatus.ASSIGNED,
            when=still_queued,
        )
        if won:
            self.hub.metrics.inc("frontdesk_handoff_assignments_total")
        else:
            self.hub.metrics.inc("frontdesk_handoff_claims_lost_total")
            await self.catch_up(ticket.conversation_id)  # someone else took it: learn who
        return won


__all__ = ["Dispatcher"]
