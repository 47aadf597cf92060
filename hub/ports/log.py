"""The conversation log port: append, read, and the watermark of handled turns.

Everything that happens to a conversation is an event appended to its log with a
per-conversation sequence number; `handled_seq` is the watermark up to which the turns
have run. A turn commits in one atomic step: its events, its replies (which enter the
`Outbox` with them), the new watermark, and what it logs in other conversations.
"""

from __future__ import annotations

import abc
from collections.abc import AsyncIterator, Collection, Sequence
from dataclasses import dataclass
from typing import Protocol

from hub.abc import TurnResult
from hub.model import (
    Conversation,
    ConversationStatus,
    Customer,
    Delivery,
    Event,
    Inbound,
    NewEvent,
    Route,
)
from hub.ports.page import Page


@dataclass(frozen=True, slots=True, kw_only=True)
class Ingested:
    """The result of storing one inbound message."""

    conversation: Conversation
    customer: Customer
    event: Event
    duplicate: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class TurnCommit:
    """What a committed turn appended: the events and the deliveries now in the outbox
    (none for replies to a channel that reads them from the log).

    `lead` is the first of them when it is at the head of its conversation's outbox
    (nothing earlier is still waiting to go): it is leased to the caller to send at once.
    When an earlier reply is still outstanding, `lead` is None and these wait their turn.
    """

    events: tuple[Event, ...] = ()
    deliveries: tuple[Delivery, ...] = ()
    lead: Delivery | None = None
    # What the turn appended to other conversations (`TurnResult.elsewhere`), in order.
    elsewhere: tuple[Event, ...] = ()


class _LogWithCustomers(Protocol):
    """A log that can also read a customer (every backend): what `turn_context` needs."""

    async def get_conversation(self, conversation_id: str) -> Conversation | None: ...

    async def events(
        self, conversation_id: str, *, after_seq: int = 0, limit: int = 100
    ) -> list[Event]: ...

    async def get_customer(self, customer_id: str) -> Customer | None: ...


class EventLog(Protocol):
    """Conversations and their events. Every method is atomic: whole or not at all."""

    #: `record_inbound` continues the customer's open conversation from another channel only
    #: if it moved within this many seconds (None: always); see `hub.ports.policy`.
    continuity_window: float | None

    # -- append
    @abc.abstractmethod
    async def record_inbound(self, inbound: Inbound, *, now: float) -> Ingested:
        """Dedupe by (channel, message_id), resolve the customer by identity (creating one),
        find the open conversation this message continues (`hub.ports.policy`) or open a new
        one, and append a `message.in` event.

        A duplicate returns the original event with `duplicate=True` and writes nothing.
        """

    @abc.abstractmethod
    async def commit_turn(
        self,
        conversation_id: str,
        *,
        handled_seq: int,
        result: TurnResult,
        now: float,
        lease: float,
        known: Conversation | None = None,
        route: Route | None = None,
        fence: int | None = None,
        read_from_log: Collection[str] = (),
    ) -> TurnCommit:
        """Append the turn's events and replies, queue the replies for delivery (leased to
        the caller for `lease` seconds so it can deliver them at once), and move the
        watermark: every inbound event up to `handled_seq` is handled. In the same write,
        append `result.elsewhere`'s events to their (other) conversations; a conversation
        that no longer exists is passed over (what was said about it has nowhere to go).

        `known` is the conversation as the caller last read it under its lock; a backend may
        use it instead of reading again, provided it still checks nothing has changed.
        `route` sends the replies somewhere other than where the customer last wrote from.
        `fence` is the caller's `Lease.fence` from `Leases.conversation_lock`: when that
        lease is no longer current (a shared backend: the lease expired and may be someone
        else's; an embedded one: a later lease has committed), the commit raises
        `LeaseLost` and writes nothing.
        `read_from_log` names channels whose clients read replies from the log itself (the
        web chat): replies routed to one of them are appended but not queued, since the
        commit delivers them (`TurnCommit.deliveries` is then empty)."""

    @abc.abstractmethod
    async def append_events(
        self, conversation_id: str, events: Sequence[NewEvent], *, now: float
    ) -> tuple[Event, ...]:
        """Append events that are not part of a turn (delivery receipts, edits …)."""

    # -- watermark
    @abc.abstractmethod
    async def pending_conversations(self) -> list[str]:
        """Conversations with acknowledged inbound messages whose turn has not run."""

    # -- read
    @abc.abstractmethod
    async def get_conversation(self, conversation_id: str) -> Conversation | None:
        """The conversation as its log leaves it, or None."""

    @abc.abstractmethod
    async def list_conversations(
        self, *, limit: int, cursor: str | None = None, status: ConversationStatus | None = None
    ) -> Page:
        """Newest first."""

    @abc.abstractmethod
    async def events(
        self, conversation_id: str, *, after_seq: int = 0, limit: int = 100
    ) -> list[Event]:
        """Events in sequence order, strictly after `after_seq`."""

    async def turn_context(
        self: _LogWithCustomers, conversation_id: str, *, limit: int
    ) -> tuple[Conversation, list[Event], Customer | None] | None:
        """What the turn runner reads before a turn: the conversation, up to `limit` events
        after its `handled_seq`, and its customer. A backend may do it in one round trip."""
        conversation = await self.get_conversation(conversation_id)
        if conversation is None:
            return None
        events = await self.events(conversation_id, after_seq=conversation.handled_seq, limit=limit)
        return conversation, events, await self.get_customer(conversation.customer_id)

    async def iter_events(self, conversation_id: str, *, batch: int = 500) -> AsyncIterator[Event]:
        """Every event of a conversation, in order."""
        after = 0
        while True:
            chunk = await self.events(conversation_id, after_seq=after, limit=batch)
            for event in chunk:
                yield event
            if len(chunk) < batch:
                return
            after = chunk[-1].seq


__all__ = ["EventLog", "Ingested", "TurnCommit"]
