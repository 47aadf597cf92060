"""The hand-off engine: owner of queued and assigned conversations, and their index.

    Escalation (bot-owned turns) ── handoff.requested ──► log ──► listener ──► Queue index
                                                                              │
    agents (HandoffActions) ── accept/reply/note/transfer/resolve … ──► hub.send ◄┘ dispatch

Every change is an event written through `hub.send` (under the conversation's lock) and
folded into the in-memory index by the hub's listener, so the index can always be rebuilt
from the log. Assignment is a claim: `hub.send(..., when=...)` re-reads the conversation
under its lock (cross-process with Redis) and writes only if it is still queued, so two
processes never assign one conversation twice. While a human owns a conversation the bot
says nothing: `handle()` answers only the status command.

Beside the engine: `handoff.dispatcher` (when to route, and offers as claims under the
agent's capacity lease), `handoff.sla` (offer timeouts, SLA alerts, queue positions) and
`handoff.agent_actions` (what agents do, each a write checked under the lock); the engine
keeps the index, the customer's turns and the tick that runs the clocks.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from handoff.agent_actions import AGENT_SIGNAL, OPEN, PRESENCE_SIGNAL, When
from handoff.capacity import CapacityGuard
from handoff.dispatcher import Dispatcher
from handoff.feed import Feed
from handoff.fold import Fold
from handoff.followups import FollowUps
from handoff.history import WINDOW_90D, History
from handoff.hub_link import HubLink
from handoff.leaving import wants_to_leave
from handoff.messages import LEAVE_PAYLOAD, Texts
from handoff.queue import Presence, Queue, Ticket
from handoff.settings import AgentSpec, HandoffSettings, agent_spec, raw_section
from handoff.sla import SlaClock
from handoff.status import StatusReporter
from handoff.summary import as_text, summarize
from hub.abc import ConversationHandler, Turn, TurnResult
from hub.errors import InputError
from hub.leader import Lease, SoleLease
from hub.model import (
    Conversation,
    ConversationStatus,
    Event,
    NewEvent,
    Outbound,
)
from hub.periodic import Periodic

log = logging.getLogger("frontdesk.handoff")

ASSIGNED = ConversationStatus.ASSIGNED
# What of an agent's JSON a profile signal carries to the other processes.
AGENT_FIELDS = ("id", "name", "skills", "languages", "capacity", "supervisor", "team")


class HandoffEngine(ConversationHandler):
    """The index, with its dispatcher and SLA clock; the hub's `humans` handler. It sees
    the hub only as a `HubLink`; the agents' actions (`HandoffActions`) see it only as a
    `HandoffIndex`."""

    def __init__(
        self,
        hub: HubLink,
        settings: HandoffSettings,
        *,
        clock: Callable[[], float] | None = None,
        alerts: Callable[[dict[str, Any]], None] | None = None,
        leader: Lease | None = None,
        leader_jobs: Sequence[Callable[[float], Awaitable[None]]] = (),
    ) -> None:
        self.hub = hub
        self.settings = settings
        self.clock = clock or hub.clock
        self.queue = Queue({a.id: a for a in settings.agents})
        self.history = History(nps=settings.feedback.nps)
        self.texts = Texts(settings.messages)
        self.status = StatusReporter(self)
        self.feed = Feed()
        # SLA alerts this process has seen raised (on any process), by kind and level.
        self.counters: Counter[str] = Counter()
        # The one way events enter the index, from the bus or from the log (`catch_up`).
        self.fold = Fold(self.queue, self.history, self.feed, self.counters)
        self.alert_sink = alerts  # the webhook notifier (`handoff.alerts`), or a test's list
        self.tick_interval = settings.routing.tick_interval
        self.resync_interval = settings.routing.resync_interval
        self._last_resync = 0.0
        self._ticker: Periodic | None = None
        self._tick_lock = asyncio.Lock()
        # Clocks (offer timeouts, SLA alerts, queue positions) run on one process: the leader.
        self.leader: Lease = leader or SoleLease()
        self.capacity = CapacityGuard(hub.store, hub.bus)
        self.followups = FollowUps(self)
        # Scheduled work beside the clocks (the report email …): run by the leader's tick.
        self.leader_jobs: list[Callable[[float], Awaitable[None]]] = list(leader_jobs)
        self.sla = SlaClock(
            hub,
            self.queue,
            settings,
            texts=self.texts,
            status=self.status,
            clock=self.clock,
            catch_up=self.catch_up,
            held_by=self.held_by,
            leave_button=self._with_leave_button,
            announce=self._announce,
        )
        self.dispatcher = Dispatcher(
            hub,
            self.queue,
            settings,
            texts=self.texts,
            capacity=self.capacity,
            clock=self.clock,
            catch_up=self.catch_up,
        )
        hub.add_listener(self.on_events)
        # Other processes' agents: presence and profile changes arrive as bus signals, and a
        # gap in the bus (a lost connection) is closed by rebuilding the index from the log.
        hub.bus.on_signal(PRESENCE_SIGNAL, self._presence_signal)
        hub.bus.on_signal(AGENT_SIGNAL, self._agent_signal)
        hub.bus.on_gap(self.resync)
        hub.metrics.describe("frontdesk_handoff_sla_alerts_total", "SLA warnings and breaches")
        hub.metrics.describe("frontdesk_handoff_assignments_total", "Conversations offered")
        hub.metrics.describe(
            "frontdesk_handoff_claims_lost_total", "Offers another process had already made"
        )
        hub.metrics.gauge(
            "frontdesk_handoff_clock_leader",
            "1 on the one process that runs offer timeouts, SLA alerts and queue updates",
            lambda: float(self.leader.leading),
        )
        hub.metrics.gauge(
            "frontdesk_handoff_waiting",
            "Hand-offs waiting for an agent",
            lambda: sum(1 for _ in self.queue.waiting()),
        )

    # ------------------------------------------------------------------ turns
    async def handle(self, turn: Turn) -> TurnResult:
        """A customer message while the conversation is with the people: the bot never
        answers it. The status command gets a reply; while nobody has accepted yet, "cancel",
        "算了" or the "Back to the bot" button withdraw the hand-off, and the first other
        message is acknowledged once ("an agent will see this"). Every message is kept for
        the agent. Turns run under the conversation's lock, as agents' actions do, so after
        catching up the index is exact: an accept cannot slip in between."""
        if self.status.is_command(turn.inbound.text):
            return TurnResult(replies=(await self.status.reply(turn),))
        conversation_id = turn.conversation.id
        await self.catch_up(conversation_id)
        ticket = self.queue.tickets.get(conversation_id)
        if ticket is not None and ticket.accepted and turn.inbound.text.strip() == LEAVE_PAYLOAD:
            # An earlier "Back to the bot" button, pressed once a person has joined.
            lang = self.status.language("", ticket)
            return TurnResult(replies=(self.texts.say("leave_too_late", lang),))
        if ticket is None or ticket.accepted:
            return TurnResult()
        if wants_to_leave(self.settings.leave, turn.inbound.text):
            return self._withdraw(turn, ticket)
        if ticket.noted or not self.settings.leave.acknowledge:
            return TurnResult()
        noted = self.texts.say("noted", self.status.language(turn.inbound.text, ticket))
        return TurnResult(
            replies=(self._with_leave_button(noted, ticket),),
            events=(NewEvent(type="handoff.message_noted", data={"message_seq": turn.event.seq}),),
        )

    def _withdraw(self, turn: Turn, ticket: Ticket) -> TurnResult:
        """The customer goes back to the bot before anyone took the conversation."""
        waited = round(max(0.0, turn.now - ticket.requested_at), 1)
        data = {"message_seq": turn.event.seq, "waited": waited, "agent_id": ticket.agent_id}
        lang = self.status.language(turn.inbound.text, ticket)
        return TurnResult(
            replies=(self.texts.say("left_queue", lang),),
            events=(NewEvent(type="handoff.withdrawn", data=data),),
            status=ConversationStatus.BOT,
        )

    def _with_leave_button(self, outbound: Outbound, ticket: Ticket) -> Outbound:
        if not self.settings.leave.button:
            return outbound
        return replace(outbound, buttons=(self.texts.leave_button(ticket.language),))

    def _announce(self, alert: dict[str, Any]) -> None:
        """An SLA alert the leader raised: to the alert sink (the webhook), once for the
        deployment. The consoles' feeds hear it from its `sla.*` event (`on_events`), on
        every process: a supervisor's page may be served by any of them."""
        if self.alert_sink is not None:
            self.alert_sink(alert)

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        await self.leader.start()
        # The index is built from the log, which says nothing new to the feed: nobody reads
        # it yet, and a console loads the queue whole when it connects (`handoff.fold`).
        self.fold.since = self.clock()
        await self.resync()
        await self.rebuild_history()
        # Stops on a flag as well as a cancel (see hub.periodic): a tick reading Redis may
        # swallow the cancel, and the hub's shutdown must not wait for it for ever.
        self._ticker = Periodic("hand-off tick", self.tick, self.tick_interval, first=False)
        self._ticker.start()

    async def stop(self) -> None:
        if self._ticker is not None:
            await self._ticker.stop()
            self._ticker = None
        await self.dispatcher.stop()
        await self.leader.stop()
        self.feed.close()

    # ------------------------------------------------------------------ the index
    def on_events(self, events: Sequence[Event]) -> None:
        """The hub's listener: fold events into the index and publish (no I/O), dispatch."""
        if self.fold(events):
            self.kick()

    async def catch_up(self, conversation_id: str) -> None:
        """Read what the log has past what the index last folded (other processes' writes,
        this process's own before the bus brings them) and fold it as `on_events` would,
        feed frames included: whichever sees an event first publishes it (`handoff.fold`)."""
        after = self.fold.folded(conversation_id)
        events = await self.hub.store.events(conversation_id, after_seq=after, limit=1000)
        if self.fold(events):
            self.kick()

    async def resync(self) -> None:
        """Rebuild the open part of the index from the store (start, and periodically: other
        processes' changes reach this one this way; after a bus gap). What it finds is
        published as the bus would have (at start: nothing, see `start`)."""
        self._last_resync = self.clock()
        open_ids: set[str] = set()
        for status in OPEN:
            cursor: str | None = None
            while True:
                page = await self.hub.store.list_conversations(
                    limit=500, cursor=cursor, status=status
                )
                for conversation in page.items:
                    open_ids.add(conversation.id)
                    await self.catch_up(conversation.id)
                cursor = page.next_cursor
                if cursor is None:
                    break
        for conversation_id in [c for c in self.queue.tickets if c not in open_ids]:
            self.queue.drop(conversation_id)
            # It may be open after all (it moved between the two listings): the next
            # catch-up of it reads its log from the start, as before it was folded.
            self.fold.forget(conversation_id)
        self.kick()

    async def rebuild_history(self, *, limit: int = 5000) -> None:
        """The last 90 days of conversations (at most `limit`), for the customer facts."""
        cutoff = self.clock() - 90 * 86400.0
        cursor: str | None = None
        seen = 0
        while seen < limit:
            page = await self.hub.store.list_conversations(limit=200, cursor=cursor)
            for conversation in page.items:
                if conversation.created_at < cutoff:
                    return
                seen += 1
                async for event in self.hub.store.iter_events(conversation.id):
                    self.history.apply(event, conversation.customer_id)
            cursor = page.next_cursor
            if cursor is None:
                return

    # ------------------------------------------------------------------ routing
    def kick(self) -> None:
        """Run a dispatch soon (`Dispatcher.kick`)."""
        self.dispatcher.kick()

    async def dispatch(self) -> int:
        """Offer waiting conversations to the best free agents now; returns how many."""
        return await self.dispatcher.dispatch()

    # ------------------------------------------------------------------ lookups
    def agent(self, agent_id: str) -> AgentSpec:
        agent = self.queue.agents.get(agent_id)
        if agent is None:
            raise InputError(f"no agent {agent_id!r}", status=404)
        return agent.spec

    def ticket(self, conversation_id: str) -> Ticket:
        ticket = self.queue.tickets.get(conversation_id)
        if ticket is None:
            raise InputError("no open hand-off for this conversation", status=404)
        return ticket

    def held_by(
        self, conversation_id: str, agent_id: str, *, accepted: bool = True, joined: bool = False
    ) -> When:
        """A `when` check: the conversation is assigned to `agent_id` (re-read under the
        lock, catching up with other processes first); with `joined`, a supervisor who
        joined it passes too."""

        async def check(conversation: Conversation) -> bool:
            await self.catch_up(conversation_id)
            ticket = self.queue.tickets.get(conversation_id)
            if conversation.status != ASSIGNED or ticket is None:
                return False
            if joined and agent_id in ticket.participants:
                return True
            return ticket.agent_id == agent_id and (ticket.accepted or not accepted)

        return check

    def apply_presence(self, agent_id: str, presence: Presence) -> None:
        """An agent's presence, here (`HandoffActions.set_presence` tells the others)."""
        self.agent(agent_id)
        self.queue.agents[agent_id].presence = presence
        self.feed.publish({"type": "presence", "agent_id": agent_id, "presence": presence.value})
        self.kick()

    def _presence_signal(self, data: Mapping[str, Any]) -> None:
        agent_id = str(data.get("agent_id", ""))
        with contextlib.suppress(ValueError, InputError):  # an unknown agent or value
            self.apply_presence(agent_id, Presence(str(data.get("presence", ""))))

    def apply_agent(self, spec: AgentSpec) -> None:
        """An agent added or changed, here (`HandoffActions.add_agent` tells the others)."""
        self.queue.add_agent(spec)
        self.feed.publish({"type": "agent", "agent": self.queue.agents[spec.id].to_json()})
        self.kick()

    def _agent_signal(self, data: Mapping[str, Any]) -> None:
        fields = {k: data[k] for k in AGENT_FIELDS if k in data}
        self.apply_agent(agent_spec(raw_section(fields, key="agent")))

    # ------------------------------------------------------------------ reads
    async def details(self, conversation_id: str) -> dict[str, Any]:
        """Summary (recomputed: kept current), ticket and transcript for the console."""
        ticket = self.ticket(conversation_id)
        conversation = await self.hub.store.get_conversation(conversation_id)
        customer = await self.hub.store.get_customer(ticket.customer_id)
        if conversation is None or customer is None:
            raise InputError("no such conversation", status=404)
        events = [e async for e in self.hub.store.iter_events(conversation_id)]
        summary = summarize(
            events=events,
            customer=customer,
            facts=self.history.facts(customer.id, self.clock(), exclude=conversation_id),
            channel=conversation.channel,
            requested_at=ticket.requested_at,
            now=self.clock(),
            reasons=ticket.reasons,
            commands=self.settings.status_commands,
        )
        transcript = [
            {"seq": e.seq, "at": e.at, "type": e.type, **_visible(e)}
            for e in events
            if e.type in ("message.in", "message.out", "handoff.note")
        ]
        return {
            "ticket": ticket.to_json(),
            "position": self.queue.position(conversation_id),
            "summary": summary,
            "summary_text": as_text(summary),
            "transcript": transcript[-500:],
        }

    # ------------------------------------------------------------------ time
    async def tick(self) -> None:
        """Offer timeouts, SLA alerts, queue updates, dispatch (the background task calls
        this every `tick_interval`; tests call it after moving their clock)."""
        async with self._tick_lock:
            now = self.clock()
            if now - self._last_resync >= self.resync_interval:
                await self.resync()
                # Nothing reads further back than 90 days: keep memory bounded.
                self.history.forget_before(now - WINDOW_90D)
            leading = self.leader.leading
            for ticket in list(self.queue.tickets.values()) if leading else ():
                try:
                    await self.sla.tick_ticket(ticket, now)
                except Exception:
                    log.exception(
                        "hand-off tick failed", extra={"conversation_id": ticket.conversation_id}
                    )
            await self.dispatch()
            if leading:
                await self.sla.tell_positions(now)
                await self.followups.run(now)
                for job in self.leader_jobs:
                    try:
                        await job(now)
                    except Exception:
                        log.exception("scheduled job failed")


def _visible(event: Event) -> Mapping[str, Any]:
    if event.type == "message.in":
        return {"from": "customer", "text": event.data.get("text", "")}
    if event.type == "message.out":
        outbound = event.data.get("outbound", {})
        return {"from": "us", "text": outbound.get("text", "")}
    return {
        "from": event.data.get("agent_id", ""),
        "text": event.data.get("text", ""),
        "internal": True,
    }
