"""The queue and the agents, in memory: which hand-offs wait, who has them, who is free.

This index is derived from the conversation log (`apply(event)`), so it can be rebuilt at
start and kept current from the hub's event listener. Deciding an assignment here is only a
proposal: the engine claims it through the store, under the conversation's lock.

Order: priority (P1 first), then pickup deadline, then age. Routing: an online agent with
the skill and the language, not yet skipped for this conversation, with the most free
capacity (ties: the one who got a conversation least recently, then by id).
"""

from __future__ import annotations

import bisect
import enum
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from handoff.settings import AgentSpec
from handoff.tickets import label
from handoff.wait import per_place
from hub.model import Event

PICKUP_HISTORY = 50  # recent pick-up times that estimate the expected wait


class Presence(enum.StrEnum):
    ONLINE = "online"
    AWAY = "away"
    OFFLINE = "offline"


@dataclass(slots=True, kw_only=True)
class Agent:
    spec: AgentSpec
    presence: Presence = Presence.OFFLINE
    active: set[str] = field(default_factory=set)  # conversations offered or accepted
    last_assigned: float = 0.0

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def free(self) -> int:
        return self.spec.capacity - len(self.active)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.spec.name,
            "skills": sorted(self.spec.skills),
            "languages": sorted(self.spec.languages),
            "capacity": self.spec.capacity,
            "supervisor": self.spec.supervisor,
            "team": self.spec.team,
            "presence": self.presence.value,
            "active": sorted(self.active),
        }


@dataclass(slots=True, kw_only=True)
class Ticket:
    """One open hand-off as the index sees it."""

    conversation_id: str
    customer_id: str
    channel: str
    language: str
    skill: str
    priority: int
    reasons: tuple[str, ...]
    requested_at: float
    pickup_due: float
    pickup_warn: float
    resolve_due: float
    resolve_warn: float
    offline: bool = False
    number: int = 0  # the short ticket number customers are told (#1042)
    intent: str = ""  # what the bot understood the customer wanted (the list shows it)
    agent_id: str = ""
    accepted: bool = False
    offered_at: float = 0.0
    pinned_agent: str = ""  # a transfer to a named agent: only they get it
    prefer_agent: str = ""  # a reopened ticket goes back to its agent when they are free
    skipped: set[str] = field(default_factory=set)
    alerts: set[str] = field(default_factory=set)  # "pickup.warning", "resolve.breached" …
    seen_seq: int = 0
    told_position: int = 0
    told_at: float = 0.0
    told_wait: float = 0.0  # seconds last estimated to the customer at `told_position`
    noted: bool = False  # the customer was told once that the agent will see their messages
    participants: set[str] = field(default_factory=set)  # supervisors who joined (may reply)
    mentioned: set[str] = field(default_factory=set)  # agents called on in its notes

    @property
    def key(self) -> tuple[int, float, float, str]:
        return (self.priority, self.pickup_due, self.requested_at, self.conversation_id)

    @property
    def waiting(self) -> bool:
        return not self.agent_id

    def to_json(self) -> dict[str, Any]:
        return {
            "conversation_id": self.conversation_id,
            "customer_id": self.customer_id,
            "channel": self.channel,
            "language": self.language,
            "skill": self.skill,
            "priority": f"P{self.priority}",
            "reasons": list(self.reasons),
            "requested_at": self.requested_at,
            "pickup_due": self.pickup_due,
            "resolve_due": self.resolve_due,
            "offline": self.offline,
            "ticket": label(self.number, self.conversation_id),
            "agent_id": self.agent_id,
            "accepted": self.accepted,
            "alerts": sorted(self.alerts),
        }


class Queue:
    """Tickets and agents; `apply()` folds one log event into the index."""

    def __init__(self, agents: Mapping[str, AgentSpec] | None = None) -> None:
        self.agents: dict[str, Agent] = {
            spec.id: Agent(spec=spec) for spec in (agents or {}).values()
        }
        self.tickets: dict[str, Ticket] = {}
        self._order: list[tuple[int, float, float, str]] = []  # waiting tickets, sorted
        self.pickups: deque[float] = deque(maxlen=PICKUP_HISTORY)
        self.picked_at: deque[float] = deque(maxlen=PICKUP_HISTORY)  # when each was picked up

    # ------------------------------------------------------------------ reads
    def waiting(self) -> Iterator[Ticket]:
        """Waiting tickets in queue order (a snapshot: safe to change the queue meanwhile)."""
        for key in list(self._order):
            ticket = self.tickets.get(key[3])
            if ticket is not None and ticket.waiting:
                yield ticket

    def position(self, conversation_id: str) -> int:
        """1-based place among the waiting tickets; 0 when not waiting."""
        ticket = self.tickets.get(conversation_id)
        if ticket is None or not ticket.waiting:
            return 0
        return bisect.bisect_left(self._order, ticket.key) + 1

    def place_for(self, key: tuple[int, float, float, str]) -> int:
        """Where a ticket with this key would stand if it were queued now."""
        return bisect.bisect_left(self._order, key) + 1

    def per_place_wait(self, now: float) -> float | None:
        """Seconds one place in the queue takes lately; None while too few pick-ups are
        recent to say (handoff/wait.py)."""
        return per_place(zip(self.picked_at, self.pickups, strict=True), now)

    def online(self) -> int:
        return sum(1 for a in self.agents.values() if a.presence == Presence.ONLINE)

    def anyone_online(self) -> bool:
        return any(a.presence == Presence.ONLINE for a in self.agents.values())

    def refusal(self, ticket: Ticket, agent_id: str) -> str:
        """Why `agent_id` cannot take `ticket` now ("" when they can). Skills and languages
        steer automatic offers; a person who takes or is given a conversation is trusted
        with it. Business hours never matter here: an online agent may always work."""
        agent = self.agents.get(agent_id)
        if agent is None:
            return f"there is no agent {agent_id!r}"
        name = agent.spec.name
        if ticket.agent_id == agent_id:
            return ""
        if ticket.agent_id:
            holder = self.agents.get(ticket.agent_id)
            holder_name = holder.spec.name if holder else ticket.agent_id
            verb = "assigned to" if ticket.accepted else "offered to"
            return f"this conversation is {verb} {holder_name} at the moment"
        if ticket.pinned_agent and ticket.pinned_agent != agent_id:
            pinned = self.agents.get(ticket.pinned_agent)
            return f"this conversation was transferred to {pinned.spec.name if pinned else ticket.pinned_agent}"
        if agent.presence != Presence.ONLINE:
            return f"{name} is {agent.presence.value}: only an online agent can take a conversation"
        if agent.free <= 0:
            return f"{name} has no free capacity ({len(agent.active)} of {agent.spec.capacity})"
        return ""

    def choose_agent(self, ticket: Ticket, *, prefer_skill: str = "") -> Agent | None:
        """The best online agent for `ticket`, or None (pure: decides, assigns nothing)."""
        if ticket.pinned_agent:
            agent = self.agents.get(ticket.pinned_agent)
            ok = agent is not None and agent.presence == Presence.ONLINE and agent.free > 0
            return agent if ok else None
        best: Agent | None = None
        best_rank: tuple[int, int, float, str] | None = None
        for agent in self.agents.values():
            if (
                agent.presence != Presence.ONLINE
                or agent.free <= 0
                or agent.id in ticket.skipped
                or (ticket.skill and ticket.skill not in agent.spec.skills)
                or ticket.language not in agent.spec.languages
            ):
                continue
            preferred = 0 if prefer_skill and prefer_skill in agent.spec.skills else 1
            if agent.id == ticket.prefer_agent:
                preferred = -1
            rank = (preferred, -agent.free, agent.last_assigned, agent.id)
            if best_rank is None or rank < best_rank:
                best, best_rank = agent, rank
        return best

    # ------------------------------------------------------------------ writes
    def add_agent(self, spec: AgentSpec) -> Agent:
        agent = self.agents.get(spec.id)
        if agent is None:
            agent = self.agents[spec.id] = Agent(spec=spec)
        else:
            agent.spec = spec
        return agent

    def _enqueue(self, ticket: Ticket) -> None:
        # Idempotent: a ticket stands in the queue once, however often it is requeued (a
        # reassign or transfer of a ticket that was already waiting, a replay after restart).
        index = bisect.bisect_left(self._order, ticket.key)
        if index == len(self._order) or self._order[index] != ticket.key:
            self._order.insert(index, ticket.key)

    def _dequeue(self, ticket: Ticket) -> None:
        index = bisect.bisect_left(self._order, ticket.key)
        if index < len(self._order) and self._order[index] == ticket.key:
            del self._order[index]

    def _release(self, ticket: Ticket) -> None:
        agent = self.agents.get(ticket.agent_id)
        if agent is not None:
            agent.active.discard(ticket.conversation_id)
        ticket.agent_id, ticket.accepted = "", False

    def _picked_up(self, ticket: Ticket, at: float) -> None:
        self.pickups.append(max(0.0, at - ticket.requested_at))
        self.picked_at.append(at)

    def drop(self, conversation_id: str) -> Ticket | None:
        ticket = self.tickets.pop(conversation_id, None)
        if ticket is not None:
            if ticket.waiting:
                self._dequeue(ticket)
            self._release(ticket)
        return ticket

    def set_priority(self, ticket: Ticket, priority: int) -> None:
        if ticket.waiting:
            self._dequeue(ticket)
        ticket.priority = priority
        if ticket.waiting:
            self._enqueue(ticket)

    def apply(self, event: Event) -> str:
        """Fold one event into the index; returns what changed ("" for nothing)."""
        data = event.data
        ticket = self.tickets.get(event.conversation_id)
        if ticket is not None and event.seq <= ticket.seen_seq:
            return ""  # already seen (listener and resync may both deliver it)
        if event.type == "handoff.requested":
            self.drop(event.conversation_id)
            ticket = ticket_from(event)
            self.tickets[ticket.conversation_id] = ticket
            self._enqueue(ticket)
            return "queued"
        if ticket is None:
            return ""
        ticket.seen_seq = event.seq
        match event.type:
            case "handoff.offered":
                self._dequeue(ticket)
                ticket.agent_id, ticket.offered_at = str(data["agent_id"]), event.at
                agent = self.agents.get(ticket.agent_id)
                if agent is not None:
                    agent.active.add(ticket.conversation_id)
                    agent.last_assigned = event.at
                ticket.accepted = bool(data.get("accepted", False))
                if ticket.accepted:
                    self._picked_up(ticket, event.at)
                return "offered"
            case "handoff.accepted":
                ticket.accepted = True
                self._picked_up(ticket, event.at)
                return "accepted"
            case "handoff.offer_expired" | "handoff.transferred":
                self._release(ticket)
                if event.type == "handoff.offer_expired":
                    ticket.skipped.add(str(data.get("agent_id", "")))
                else:
                    ticket.skipped.clear()
                    ticket.pinned_agent = str(data.get("to_agent", ""))
                    ticket.skill = str(data.get("to_skill") or ticket.skill)
                self._enqueue(ticket)
                return "requeued"
            case "handoff.priority_changed":
                self.set_priority(ticket, int(data["to"]))
                return "priority"
            case "sla.warning" | "sla.breached":
                ticket.alerts.add(f"{data.get('kind')}.{event.type.split('.')[1]}")
                return "alert"
            case "handoff.queue_update":
                ticket.told_position, ticket.told_at = int(data["position"]), event.at
                ticket.told_wait = float(data.get("wait_seconds", 0.0))
                return ""
            case "handoff.message_noted":
                ticket.noted = True
                return ""
            case "handoff.joined":
                ticket.participants.add(str(data.get("by", "")))
                return "joined"
            case "handoff.note":
                ticket.mentioned.update(str(agent) for agent in data.get("mentions", ()))
                return ""
            case "handoff.withdrawn":
                self.drop(event.conversation_id)
                return "withdrawn"
            case "handoff.resolved" | "handoff.handed_back":
                self.drop(event.conversation_id)
                return "closed"
            case "status.changed" if data.get("to") in ("bot", "resolved"):
                self.drop(event.conversation_id)
                return "closed"
        return ""


def ticket_from(event: Event) -> Ticket:
    """The ticket a `handoff.requested` event opens."""
    data = event.data
    sla = data.get("sla", {})
    return Ticket(
        conversation_id=event.conversation_id,
        customer_id=str(data.get("customer_id", "")),
        channel=str(data.get("channel", "")),
        language=str(data.get("language", "en")),
        skill=str(data.get("skill", "")),
        priority=int(data.get("priority_number", 3)),
        reasons=tuple(data.get("reasons", ())),
        requested_at=event.at,
        pickup_due=float(sla.get("pickup_due", event.at)),
        pickup_warn=float(sla.get("pickup_warn", event.at)),
        resolve_due=float(sla.get("resolve_due", event.at)),
        resolve_warn=float(sla.get("resolve_warn", event.at)),
        offline=bool(data.get("offline", False)),
        number=int(data.get("ticket_number", 0)),
        intent=str(data.get("intent") or ""),
        prefer_agent=str(data.get("prefer_agent", "")),
        seen_seq=event.seq,
        told_position=int(data.get("position", 0)),
        told_at=event.at,
        told_wait=float(data.get("wait_seconds", 0.0)),
    )
