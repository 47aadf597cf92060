"""The SLA clock: the timers of every open hand-off, run by the leader's tick.

An offer nobody accepted in time goes back to the queue; the pick-up and resolution
deadlines of a ticket (its priority's SLA, shaped by business hours) raise a warning, then
a breach, each once across every process (the write is a check-and-set through the hub,
after catching up with what other processes wrote), bumping the priority when
`sla.bump` says so and posting the alert to the webhook (every process's console feed
hears it from the logged `sla.*` event, `HandoffEngine.on_events`); waiting customers are
told their new place.
The engine's `tick` decides when (on the leader only) and dispatches between them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from handoff.hub_link import HubLink
from handoff.messages import Texts
from handoff.queue import Queue, Ticket
from handoff.settings import HandoffSettings
from handoff.status import StatusReporter
from hub.model import Conversation, ConversationStatus, NewEvent, Outbound

OPEN = (ConversationStatus.QUEUED, ConversationStatus.ASSIGNED)

When = Callable[[Conversation], Awaitable[bool]]


def alert_frame(
    conversation_id: str,
    *,
    level: str,
    kind: str,
    priority: int,
    agent_id: str,
    due: float,
    at: float,
) -> dict[str, Any]:
    """An SLA alert as the webhook and the console's live feed carry it."""
    return {
        "type": "alert",
        "alert": f"sla.{level}",
        "kind": kind,
        "conversation_id": conversation_id,
        "priority": f"P{priority}",
        "agent_id": agent_id,
        "due": due,
        "at": at,
    }


class SlaClock:
    """Offer timeouts, SLA warnings and breaches, queue position updates."""

    def __init__(
        self,
        hub: HubLink,
        queue: Queue,
        settings: HandoffSettings,
        *,
        texts: Texts,
        status: StatusReporter,
        clock: Callable[[], float],
        catch_up: Callable[[str], Awaitable[None]],
        held_by: Callable[..., When],
        leave_button: Callable[[Outbound, Ticket], Outbound],
        announce: Callable[[dict[str, Any]], None],
    ) -> None:
        self.hub = hub
        self.queue = queue
        self.settings = settings
        self.texts = texts
        self.status = status
        self.clock = clock
        # Reads what other processes wrote into a conversation (an alert raised there).
        self.catch_up = catch_up
        self.held_by = held_by  # a `when` check: still offered to / held by that agent
        self.leave_button = leave_button
        self.announce = announce  # an alert for the webhook (the feeds hear the event)

    async def tick_ticket(self, ticket: Ticket, now: float) -> None:
        """The ticket's timers: an unanswered offer expires back to the queue; the pick-up
        and resolution deadlines warn, then breach (bumping the priority when configured)."""
        timeout = self.settings.routing.accept_timeout
        if (
            ticket.agent_id
            and not ticket.accepted
            and timeout > 0
            and now - ticket.offered_at >= timeout
        ):
            expired = NewEvent(
                type="handoff.offer_expired",
                data={"agent_id": ticket.agent_id, "status": "queued"},
            )
            await self.hub.send(
                ticket.conversation_id,
                (),
                events=(expired,),
                status=ConversationStatus.QUEUED,
                when=self.held_by(ticket.conversation_id, ticket.agent_id, accepted=False),
            )
        checks = [("resolve", ticket.resolve_warn, ticket.resolve_due)]
        if not ticket.accepted:
            checks.insert(0, ("pickup", ticket.pickup_warn, ticket.pickup_due))
        for kind, warn_at, due in checks:
            level = "breached" if now >= due else "warning" if now >= warn_at else ""
            if level and f"{kind}.{level}" not in ticket.alerts:
                if level == "breached" and f"{kind}.warning" not in ticket.alerts:
                    await self._alert(ticket, kind, "warning", due)
                await self._alert(ticket, kind, level, due)

    async def _alert(self, ticket: Ticket, kind: str, level: str, due: float) -> None:
        await self.catch_up(ticket.conversation_id)  # another process may have raised it
        if f"{kind}.{level}" in ticket.alerts or ticket.conversation_id not in self.queue.tickets:
            return
        data = {"kind": kind, "due": due, "priority": f"P{ticket.priority}"}
        events = [NewEvent(type=f"sla.{level}", data=data)]
        bumped = None
        if level == "breached" and self.settings.sla.bump and ticket.priority > 1:
            bumped = ticket.priority - 1
            events.append(
                NewEvent(
                    type="handoff.priority_changed",
                    data={"from": ticket.priority, "to": bumped, "why": f"sla.{kind}.breached"},
                )
            )

        async def still_open(conversation: Conversation) -> bool:
            return conversation.status in OPEN

        if not await self.hub.send(
            ticket.conversation_id, (), events=events, priority=bumped, when=still_open
        ):
            return
        self.hub.metrics.inc("frontdesk_handoff_sla_alerts_total", kind=kind, level=level)
        self.announce(
            alert_frame(
                ticket.conversation_id,
                level=level,
                kind=kind,
                priority=bumped or ticket.priority,
                agent_id=ticket.agent_id,
                due=due,
                at=self.clock(),
            )
        )

    async def tell_positions(self, now: float) -> None:
        """Tell waiting customers their new place, at most once per update interval."""
        interval = self.settings.routing.update_interval
        for position, ticket in enumerate(self.queue.waiting(), start=1):
            if (
                ticket.offline
                or position == ticket.told_position
                or now - ticket.told_at < interval
            ):
                continue
            seconds = self.status.expected_wait(position, ticket)
            wait = self.status.wait_text(seconds, ticket.language, waited=now - ticket.requested_at)
            data = {"position": position, "wait": wait, "wait_seconds": seconds or 0.0}
            update = self.leave_button(
                self.texts.say("queue_update", ticket.language, position=position, wait=wait),
                ticket,
            )

            async def still_queued(conversation: Conversation) -> bool:
                return conversation.status == ConversationStatus.QUEUED

            await self.hub.send(
                ticket.conversation_id,
                (update,),
                events=(NewEvent(type="handoff.queue_update", data=data),),
                when=still_queued,
            )


__all__ = ["SlaClock", "alert_frame"]
