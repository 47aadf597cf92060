"""What agents and supervisors do to the hand-off, by agent id: accept or take, reply, note,
join, whisper, transfer, reassign, resolve, hand back, presence and the roster.

Each action is one write through `hub.send` (or `hub.append`), under the conversation's
lock, with a `when` check that re-reads the conversation there: an action that lost a race
(another process accepted first, the customer left) writes nothing and raises a 409
`InputError` saying why. The index (`handoff.engine.HandoffEngine`) folds what was written,
as it folds everything else; these actions never change it directly, except presence and
agents, which are not in the log and travel to the other processes as bus signals.

Read your writes: an action that changes the ticket returns once this process's index
shows it. It reads its write back from the log (`catch_up`, one read from the index's
last seq) rather than wait for the bus, which may hold the batch behind another write of
the conversation under way here (a delivery receipt); the agent's next step (typing,
a reply, the console's reload) then finds the ticket as they left it. The feed frames go
out with the read-back, and the bus's copy later is dropped as seen (`handoff.fold`).

`handoff.actions.AgentActions` puts who-may-act in front of these for the REST API and the
console; both call the same method here.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from typing import Any, Protocol

from handoff.capacity import CapacityGuard
from handoff.hub_link import HubLink
from handoff.messages import Texts
from handoff.queue import Presence, Queue, Ticket
from handoff.settings import AgentSpec, HandoffSettings
from hub.errors import InputError
from hub.model import Attachment, Button, Conversation, ConversationStatus, NewEvent, Outbound

QUEUED, ASSIGNED = ConversationStatus.QUEUED, ConversationStatus.ASSIGNED
OPEN = (QUEUED, ASSIGNED)
# Bus signals: presence and agents are not in the log, so other processes hear of them so.
PRESENCE_SIGNAL = "handoff.presence"
AGENT_SIGNAL = "handoff.agent"

When = Callable[[Conversation], Awaitable[bool]]

log = logging.getLogger("frontdesk.handoff")


class HandoffIndex(Protocol):
    """What the actions need of the hand-off's index (`HandoffEngine`)."""

    hub: HubLink
    settings: HandoffSettings
    queue: Queue
    texts: Texts
    capacity: CapacityGuard

    def clock(self) -> float: ...

    async def catch_up(self, conversation_id: str) -> None: ...

    def agent(self, agent_id: str) -> AgentSpec: ...

    def ticket(self, conversation_id: str) -> Ticket: ...

    def held_by(
        self, conversation_id: str, agent_id: str, *, accepted: bool = True, joined: bool = False
    ) -> When: ...

    async def details(self, conversation_id: str) -> dict[str, Any]: ...

    def apply_presence(self, agent_id: str, presence: Presence) -> None: ...

    def apply_agent(self, spec: AgentSpec) -> None: ...


class HandoffActions:
    """Every write an agent's action makes, one method each (see the module docstring)."""

    def __init__(self, index: HandoffIndex) -> None:
        self.index = index
        self.hub = index.hub
        self.texts = index.texts

    async def _act(
        self,
        conversation_id: str,
        agent_id: str,
        *,
        events: Sequence[NewEvent],
        replies: Sequence[Outbound] = (),
        status: ConversationStatus | None = None,
        accepted: bool = True,
        joined: bool = False,
        read_back: bool = True,
    ) -> None:
        """Write as `agent_id`, if they still hold (or were offered) the conversation; with
        `read_back`, return once the index shows the write."""
        self.index.agent(agent_id)
        self.index.ticket(conversation_id)
        ok = await self.hub.send(
            conversation_id,
            replies,
            events=events,
            status=status,
            when=self.index.held_by(conversation_id, agent_id, accepted=accepted, joined=joined),
        )
        if not ok:
            verb = "offered to" if not accepted else "held by"
            raise InputError(f"this conversation is not {verb} agent {agent_id!r}", status=409)
        if read_back:
            await self._read_back(conversation_id)

    async def _read_back(self, conversation_id: str) -> None:
        """This process's index, caught up with a write just committed (see the module
        docstring). The write stands whatever happens here: a failed read is logged, and
        the bus brings the events a moment later as it would have anyway."""
        try:
            await self.index.catch_up(conversation_id)
        except Exception:
            log.exception(
                "reading an agent's write back failed", extra={"conversation_id": conversation_id}
            )

    async def accept(self, conversation_id: str, agent_id: str) -> dict[str, Any]:
        """The agent takes the conversation — offered to them, or waiting in the queue
        ("Take") — and gets the summary and the transcript (messages sent while queued
        included). A 409 says why when they cannot."""
        ticket = self.index.ticket(conversation_id)
        name = self.index.agent(agent_id).name
        if not ticket.agent_id:
            await self._take(ticket, agent_id)
        elif not (ticket.agent_id == agent_id and ticket.accepted):
            waited = round(self.index.clock() - ticket.requested_at, 1)
            refusal = self.index.queue.refusal(ticket, agent_id)
            if refusal:
                raise InputError(refusal, status=409)
            data = {"agent_id": agent_id, "agent_name": name, "waited": waited,
                    "status": "assigned"}  # fmt: skip
            await self._act(
                conversation_id,
                agent_id,
                events=(NewEvent(type="handoff.accepted", data=data),),
                replies=(self.texts.say("joined", ticket.language, agent=name),),
                accepted=False,
            )
        return await self.index.details(conversation_id)

    async def _take(self, ticket: Ticket, agent_id: str, extra: Sequence[NewEvent] = ()) -> None:
        """Assign a waiting conversation to `agent_id`, accepted at once, if the queue (re-read
        under the conversation's lock) still lets them; else a 409 with the reason."""
        conversation_id = ticket.conversation_id
        refusal = ""

        async def still_theirs_to_take(conversation: Conversation) -> bool:
            nonlocal refusal
            await self.index.catch_up(conversation_id)
            current = self.index.queue.tickets.get(conversation_id)
            if conversation.status not in OPEN or current is None:
                refusal = "this conversation is no longer with the agents"
            else:
                # After `extra` (a reassign's transfer) the current holder lets go.
                check = replace(current, agent_id="", pinned_agent="") if extra else current
                refusal = self.index.queue.refusal(check, agent_id)
            return not refusal

        agent = self.index.agent(agent_id)
        data = {
            "agent_id": agent_id,
            "agent_name": agent.name,
            "accepted": True,
            "status": "assigned",
        }
        async with self.index.capacity.hold(agent_id):  # their free slots, counted everywhere
            won = await self.hub.send(
                conversation_id,
                (self.texts.say("joined", ticket.language, agent=agent.name),),
                events=(*extra, NewEvent(type="handoff.offered", data=data)),
                status=ASSIGNED,
                when=still_theirs_to_take,
            )
        if not won:
            raise InputError(refusal or "this conversation cannot be taken now", status=409)
        await self._read_back(conversation_id)

    async def reply(
        self,
        conversation_id: str,
        agent_id: str,
        text: str,
        buttons: Sequence[Button] = (),
        attachments: Sequence[Attachment] = (),
    ) -> None:
        name = self.index.agent(agent_id).name
        data = {"agent_id": agent_id, "agent_name": name}
        await self._act(
            conversation_id,
            agent_id,
            events=(NewEvent(type="handoff.agent_message", data=data),),
            replies=(Outbound(text=text, buttons=tuple(buttons), attachments=tuple(attachments)),),
            joined=True,  # a supervisor who joined replies too
            # A reply changes nothing the index keeps of the ticket: no read back, no
            # extra log read on the agents' busiest path (the bus brings it to the feed).
            read_back=False,
        )

    async def note(
        self, conversation_id: str, agent_id: str, text: str, *, mentions: Sequence[str] = ()
    ) -> None:
        """An internal note: logged for the team, never sent to the customer; `mentions`
        are the agents it calls on (their consoles notify them)."""
        self.index.agent(agent_id)
        self.index.ticket(conversation_id)
        data: dict[str, Any] = {"agent_id": agent_id, "text": text}
        if mentions:
            data["mentions"] = list(mentions)
        await self.hub.append(conversation_id, (NewEvent(type="handoff.note", data=data),))
        if mentions:  # the agents it calls on may open the conversation at once
            await self._read_back(conversation_id)

    def _supervisor(self, agent_id: str) -> AgentSpec:
        spec = self.index.agent(agent_id)
        if not spec.supervisor:
            raise InputError(f"agent {agent_id!r} is not a supervisor", status=403)
        return spec

    async def join(self, conversation_id: str, supervisor_id: str) -> None:
        """A supervisor becomes a participant of an assigned conversation and may reply
        beside its agent (who keeps it). The customer is told nothing until they write."""
        spec = self._supervisor(supervisor_id)
        ticket = self.index.ticket(conversation_id)
        if supervisor_id in ticket.participants or ticket.agent_id == supervisor_id:
            return

        async def assigned(conversation: Conversation) -> bool:
            return conversation.status == ASSIGNED

        # `by`, not `agent_id`/`agent_name`: channels show the customer who their agent is
        # from those, and the agent holding the conversation has not changed.
        data = {"by": supervisor_id, "by_name": spec.name, "holder": ticket.agent_id}
        won = await self.hub.send(
            conversation_id, (), events=(NewEvent(type="handoff.joined", data=data),),
            when=assigned,
        )  # fmt: skip
        if not won:
            raise InputError("only a conversation an agent holds can be joined", status=409)
        await self._read_back(conversation_id)

    async def whisper(self, conversation_id: str, supervisor_id: str, text: str) -> None:
        """A note for the agent who holds the conversation only: logged, never sent to the
        customer (no reply, no outbox entry), shown to that agent and to supervisors."""
        spec = self._supervisor(supervisor_id)
        ticket = self.index.ticket(conversation_id)
        if not ticket.agent_id:
            raise InputError("nobody holds this conversation yet: there is no one to whisper to",
                             status=409)  # fmt: skip
        data = {"by": supervisor_id, "by_name": spec.name, "to_agent": ticket.agent_id,
                "text": text}  # fmt: skip
        await self.hub.append(conversation_id, (NewEvent(type="handoff.whisper", data=data),))

    async def transfer(
        self,
        conversation_id: str,
        agent_id: str,
        *,
        to_agent: str = "",
        to_skill: str = "",
        note: str = "",
    ) -> None:
        if bool(to_agent) == bool(to_skill):
            raise InputError("give exactly one of 'to_agent' or 'to_skill'")
        if to_agent:
            self.index.agent(to_agent)
        data = {
            "from_agent": agent_id,
            "to_agent": to_agent,
            "to_skill": to_skill,
            "note": note,
            "status": "queued",
        }
        await self._act(
            conversation_id,
            agent_id,
            events=(NewEvent(type="handoff.transferred", data=data),),
            status=QUEUED,
        )

    async def reassign(
        self, conversation_id: str, supervisor_id: str, to_agent: str, note: str = ""
    ) -> None:
        """A supervisor gives a conversation (queued or assigned) to another agent: it is
        assigned to them at once, or nothing is written and a 409 says why (offline, no free
        capacity …). Giving it to the agent who already holds it changes nothing."""
        self._supervisor(supervisor_id)
        self.index.agent(to_agent)
        ticket = self.index.ticket(conversation_id)
        if ticket.agent_id == to_agent and ticket.accepted:
            return
        data = {
            "from_agent": ticket.agent_id,
            "to_agent": to_agent,
            "to_skill": "",
            "note": note,
            "by": supervisor_id,
        }
        await self._take(ticket, to_agent, (NewEvent(type="handoff.transferred", data=data),))

    async def resolve(self, conversation_id: str, agent_id: str, note: str = "") -> None:
        ticket = self.index.ticket(conversation_id)
        lang = ticket.language
        replies = [self.texts.say("resolved", lang)]
        events = [NewEvent(type="handoff.resolved", data={"agent_id": agent_id, "note": note})]
        if self.index.settings.feedback.csat:
            replies.append(self.texts.scale("csat", lang, 1, 5))
            events.append(NewEvent(type="csat.asked", data={"scale": [1, 5]}))
        await self._act(
            conversation_id,
            agent_id,
            events=events,
            replies=replies,
            status=ConversationStatus.RESOLVED,
        )

    async def hand_back(self, conversation_id: str, agent_id: str, note: str = "") -> None:
        """The bot resumes, with its own conversation state as it was before the hand-off."""
        ticket = self.index.ticket(conversation_id)
        data = {"agent_id": agent_id, "note": note}
        await self._act(
            conversation_id,
            agent_id,
            events=(NewEvent(type="handoff.handed_back", data=data),),
            replies=(self.texts.say("handed_back", ticket.language),),
            status=ConversationStatus.BOT,
        )

    def set_presence(self, agent_id: str, presence: Presence) -> None:
        """Here at once, and on every other process through the bus."""
        self.index.apply_presence(agent_id, presence)
        data = {"agent_id": agent_id, "presence": presence.value}
        self.hub.bus.signal(PRESENCE_SIGNAL, data)

    def add_agent(self, spec: AgentSpec) -> None:
        """Here at once, and on every other process through the bus."""
        self.index.apply_agent(spec)
        self.hub.bus.signal(AGENT_SIGNAL, self.index.queue.agents[spec.id].to_json())


__all__ = ["AGENT_SIGNAL", "PRESENCE_SIGNAL", "HandoffActions", "HandoffIndex"]
