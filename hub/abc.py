"""Every abstract base of Frontdesk, in one place.

Three plug-in kinds, each with few required methods:

- `Store`: where the conversation stream lives (SQLite embedded, Redis for scale-out).
- `Connector`: one channel's edge; parses what arrives and delivers what leaves.
- `ConversationHandler`: whoever owns a conversation's turn (the bot, the humans' queue).
  It *returns* replies and events; only the hub's delivery ever sends.
"""

from __future__ import annotations

import abc
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, Self

from aiohttp import web

from hub.locks import Lease
from hub.model import (
    Conversation,
    ConversationStatus,
    Customer,
    Delivery,
    Event,
    Inbound,
    NewEvent,
    Outbound,
    Route,
)

if TYPE_CHECKING:
    from hub.attachments import AttachmentStore
    from hub.config import Section
    from hub.leader import Lease as LeaderLease
    from hub.shared_limits import RateLimiter
    from hub.shared_pacing import Pacing

# --------------------------------------------------------------------------- handlers


@dataclass(frozen=True, slots=True, kw_only=True)
class Turn:
    """One inbound message to answer, with everything its owner may look at."""

    conversation: Conversation
    customer: Customer
    event: Event
    inbound: Inbound
    now: float


@dataclass(frozen=True, slots=True, kw_only=True)
class TurnResult:
    """What an owner decided: replies to send, events to log, state and status to keep.

    `state` and `status` left as None mean "unchanged".
    """

    replies: tuple[Outbound, ...] = ()
    events: tuple[NewEvent, ...] = ()
    state: Mapping[str, Any] | None = None
    status: ConversationStatus | None = None
    priority: int | None = None


class ConversationHandler(abc.ABC):
    """The owner of a conversation's turns (the dialog engine, the handoff queue …)."""

    @abc.abstractmethod
    async def handle(self, turn: Turn) -> TurnResult:
        """Answer one turn. Must not send anything itself; return it instead."""

    async def start(self) -> None:  # noqa: B027 - optional hook
        """Start background work (file watchers, client sessions)."""

    async def stop(self) -> None:  # noqa: B027 - optional hook
        """Stop background work."""


# --------------------------------------------------------------------------- connectors


@dataclass(frozen=True, slots=True, kw_only=True)
class IngestReceipt:
    """What a connector learns once its message is stored (and may acknowledge)."""

    conversation_id: str
    customer_id: str
    seq: int
    duplicate: bool


IngestFn = Callable[[Inbound], Awaitable[IngestReceipt]]


class ConversationLog(Protocol):
    """What a connector may read back (to resume a client, answer with context …)."""

    # Rate limits shared by every process on the store (a per-process limit would be N
    # times the configured one behind a load balancer).
    limiter: RateLimiter
    # Send slots on a provider's rate limits, booked by every process together.
    pacing: Pacing

    def leader(self, job: str) -> LeaderLease:
        """A lease for a job only one process may run at a time (mail polling …): held by
        one process of those sharing the store; a single process always leads. The
        caller starts and stops it."""

    async def latest_conversation(self, identity: str) -> Conversation | None:
        """The open (else most recent) conversation of whoever owns `identity`."""

    async def events(
        self, conversation_id: str, *, after_seq: int = 0, limit: int = 100
    ) -> list[Event]:
        """A conversation's events after `after_seq`, in order."""

    async def delivery_progress(self, delivery_id: str, parts_sent: Sequence[str]) -> None:
        """Remember the parts of a split reply sent so far (`Delivery.parts_sent`)."""

    async def append(self, conversation_id: str, events: Sequence[NewEvent]) -> tuple[Event, ...]:
        """Log events that are not a turn (a provider's delivery receipt …)."""

    def customer_typing(self, conversation_id: str, *, on: bool = True) -> None:
        """The customer of `conversation_id` is (or stopped) typing: an ephemeral signal for
        whoever handles the conversation (`hub.signals`), never logged."""


class Connector(abc.ABC):
    """One channel. Subclasses set `name`, parse inbound in `routes`/`start`, and `deliver`.

    Optional abilities are data, not stubs: `supports_buttons` tells the hub whether quick
    replies render natively (a connector that cannot must still render them as text);
    `supports_typing` makes the hub call `typing()` when a turn starts and while an agent
    types (`typing_per_process`: the indicator reaches only the clients connected to this
    process, so every hub process is asked to show an agent's typing); `joins_replies`
    makes it join a turn's replies into one (one email, not three);
    `observes_events` makes it call `on_events()` with every appended batch;
    `code_identities` names the identity kinds besides its own whose verification codes it
    carries (SMS carries ``phone:`` codes).
    Delivery failures raise `RetryLater` (transient; with `retry_after` when the upstream
    said when to come back) or `DeliveryError` (permanent); the hub's outbox owns retries,
    backoff, parking and the order of a conversation's replies. A connector that sends a
    reply in parts starts after `delivery.parts_sent` and reports each part it sent with
    `self.log.delivery_progress`, so a retry never repeats one.
    """

    name: ClassVar[str]
    supports_buttons: ClassVar[bool] = False
    supports_typing: ClassVar[bool] = False
    typing_per_process: ClassVar[bool] = False
    joins_replies: ClassVar[bool] = False  # one message per turn (email): the hub joins them
    observes_events: ClassVar[bool] = False
    code_identities: ClassVar[tuple[str, ...]] = ()

    def __init__(self, *, ingest: IngestFn) -> None:
        self.ingest = ingest
        self.log: ConversationLog | None = None  # attached by the hub
        # Set by the wiring: checks a token the company's site signed for `identity` and
        # links it to that customer; raises ValueError with the reason when refused.
        self.identity_tokens: Callable[[str, str], Awaitable[object]] | None = None
        # Set by the wiring: where the bytes of files sent either way are kept (a connector
        # stores what arrives before ingesting it, and reads what it delivers).
        self.attachments: AttachmentStore | None = None

    def attach(self, log: ConversationLog) -> None:
        self.log = log

    async def typing(  # noqa: B027
        self, address: str, thread_hint: str, *, on: bool = True, for_turn: bool = True
    ) -> None:
        """Show that a reply is being composed (only called when `supports_typing`).

        `for_turn`: the hub started a turn, a reply to a waiting message is on its way (a
        connector may skip it when the reply already went). Otherwise a person (an agent
        in the console) is typing, and `on=False` says they stopped; a channel that cannot
        hide the indicator lets it lapse. Never retried: a failure is only logged."""

    def on_events(self, events: Sequence[Event]) -> None:  # noqa: B027
        """Every batch of appended events, as it happens (only when `observes_events`);
        e.g. to push live status to connected clients. Must not block."""

    @classmethod
    @abc.abstractmethod
    def from_config(
        cls, settings: Section, *, ingest: IngestFn, environ: Mapping[str, str]
    ) -> Self:
        """Build from the channel's config section (and secrets from `environ`); raise
        `ConfigError` (via `settings.error(...)`) naming the key that is wrong."""

    def routes(self) -> Sequence[web.AbstractRouteDef]:
        """aiohttp routes this channel adds to the hub's server (webhooks, sockets)."""
        return ()

    async def start(self) -> None:  # noqa: B027 - optional hook
        """Start background work. Must not raise when the upstream is unreachable."""

    async def stop(self) -> None:  # noqa: B027 - optional hook
        """Stop background work and release connections."""

    @abc.abstractmethod
    async def deliver(self, delivery: Delivery) -> Mapping[str, Any]:
        """Send one reply; return receipt details (provider message id …) for the log."""


# --------------------------------------------------------------------------- stores


@dataclass(frozen=True, slots=True, kw_only=True)
class Ingested:
    """The result of storing one inbound message."""

    conversation: Conversation
    customer: Customer
    event: Event
    duplicate: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class TurnCommit:
    """What a committed turn appended: the events and the deliveries now in the outbox.

    `lead` is the first of them when it is at the head of its conversation's outbox
    (nothing earlier is still waiting to go): it is leased to the caller to send at once.
    When an earlier reply is still outstanding, `lead` is None and these wait their turn.
    """

    events: tuple[Event, ...] = ()
    deliveries: tuple[Delivery, ...] = ()
    lead: Delivery | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Page:
    """One page of a listing; `next_cursor` is None on the last page."""

    items: Sequence[Any] = field(default_factory=tuple)
    next_cursor: str | None = None


CUSTOMER_MERGED = "customer.merged"
CUSTOMER_UNMERGED = "customer.unmerged"


@dataclass(frozen=True, slots=True, kw_only=True)
class CustomerMerge:
    """Two customer records proved to be one person, joined into `kept_id`.

    Both records are kept as they were before the merge, with the conversations that
    moved, so that an operator can undo it exactly (`Store.unmerge_customers`).
    """

    id: str
    kept_id: str
    absorbed_id: str
    kept_before: Customer
    absorbed_before: Customer
    moved_conversations: tuple[str, ...]
    reason: Mapping[str, Any]
    at: float
    undone_at: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kept_id": self.kept_id,
            "absorbed_id": self.absorbed_id,
            "kept_before": self.kept_before.to_json(),
            "absorbed_before": self.absorbed_before.to_json(),
            "moved_conversations": list(self.moved_conversations),
            "reason": dict(self.reason),
            "at": self.at,
            "undone_at": self.undone_at,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CustomerMerge:
        return cls(
            id=str(data["id"]),
            kept_id=str(data["kept_id"]),
            absorbed_id=str(data["absorbed_id"]),
            kept_before=Customer.from_json(data["kept_before"]),
            absorbed_before=Customer.from_json(data["absorbed_before"]),
            moved_conversations=tuple(data.get("moved_conversations", ())),
            reason=dict(data.get("reason", {})),
            at=float(data["at"]),
            undone_at=None if data.get("undone_at") is None else float(data["undone_at"]),
        )


class Store(abc.ABC):
    """Durable conversation stream. Every method is atomic: it happens whole or not at all.

    One contract test suite (`tests/hub/test_store_contract.py`) runs unchanged against
    every implementation.
    """

    @abc.abstractmethod
    async def open(self) -> None: ...

    @abc.abstractmethod
    async def close(self) -> None: ...

    # -- the write path
    @abc.abstractmethod
    async def record_inbound(self, inbound: Inbound, *, now: float) -> Ingested:
        """Dedupe by (channel, message_id), resolve the customer by identity (creating one),
        find their open conversation or open a new one, and append a `message.in` event.

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
    ) -> TurnCommit:
        """Append the turn's events and replies, queue the replies for delivery (leased to
        the caller for `lease` seconds so it can deliver them at once), and mark every
        inbound event up to `handled_seq` as handled.

        `known` is the conversation as the caller last read it under its lock; a store may
        use it instead of reading again, provided it still checks nothing has changed.
        `route` sends the replies somewhere other than where the customer last wrote from.
        `fence` is the caller's `Lease.fence` from `conversation_lock`: when that lease is
        no longer current (a shared store: the lease expired and may be someone else's; an
        embedded one: a later lease has committed), the commit raises `LeaseLost` and
        writes nothing."""

    @abc.abstractmethod
    async def append_events(
        self, conversation_id: str, events: Sequence[NewEvent], *, now: float
    ) -> tuple[Event, ...]:
        """Append events that are not part of a turn (delivery receipts, edits …)."""

    @abc.abstractmethod
    async def pending_conversations(self) -> list[str]:
        """Conversations with acknowledged inbound messages whose turn has not run."""

    @abc.abstractmethod
    def conversation_lock(self, conversation_id: str) -> AbstractAsyncContextManager[Lease]:
        """Exclusive ownership of a conversation's turns (across processes for shared stores),
        with a fencing token to commit under (`commit_turn(fence=...)`)."""

    # -- the outbox
    #
    # One conversation's replies leave strictly in order (of their `message.out` seq): only
    # the conversation's earliest outstanding (not parked) delivery, its *head*, can be
    # claimed; the next one waits until it is delivered or parked. This holds across
    # processes, because the store alone decides what is claimable.
    @abc.abstractmethod
    async def claim_deliveries(self, *, now: float, limit: int, lease: float) -> list[Delivery]:
        """Heads due now (at most one per conversation), leased to the caller for `lease`
        seconds."""

    @abc.abstractmethod
    async def claim_next(
        self, conversation_id: str, *, now: float, lease: float
    ) -> Delivery | None:
        """The conversation's head if it is due, leased to the caller (after a delivery was
        recorded, to carry on with the conversation's next reply at once)."""

    @abc.abstractmethod
    async def delivery_succeeded(
        self, delivery: Delivery, *, receipt: Mapping[str, Any], now: float, lease: float = 0.0
    ) -> Delivery | None:
        """Remove from the outbox and log a `delivery.delivered` event. With `lease`, also
        claim the conversation's next reply if it is due, as `claim_next` would (in the same
        step: one round trip per reply), and return it."""

    @abc.abstractmethod
    async def delivery_failed(
        self,
        delivery: Delivery,
        *,
        error: str,
        retry_at: float | None,
        now: float,
        throttled: bool = False,
    ) -> Delivery:
        """Reschedule for `retry_at`, or park it in the dead letters when `retry_at` is None
        (the conversation's next reply may then go). `throttled`: the channel asked us to
        come back later; counted apart from failures."""

    @abc.abstractmethod
    async def delivery_progress(self, delivery_id: str, parts_sent: Sequence[str]) -> None:
        """Remember which parts of a split reply have gone out (the provider's ids), so a
        retry in any process, after a restart too, resumes after them (`Delivery.parts_sent`).
        A delivery no longer in the outbox is left alone."""

    @abc.abstractmethod
    async def dead_letters(self, *, limit: int, cursor: str | None = None) -> Page:
        """Parked deliveries, oldest first."""

    @abc.abstractmethod
    async def redrive(self, delivery_id: str, *, now: float) -> Delivery | None:
        """Move a parked delivery back into the outbox with a fresh retry budget."""

    # -- reads
    @abc.abstractmethod
    async def get_conversation(self, conversation_id: str) -> Conversation | None: ...

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

    @abc.abstractmethod
    async def get_customer(self, customer_id: str) -> Customer | None: ...

    @abc.abstractmethod
    async def find_customer(self, identity: str) -> Customer | None: ...

    @abc.abstractmethod
    async def latest_conversation(self, customer_id: str) -> Conversation | None:
        """The customer's open conversation, else their most recent one."""

    @abc.abstractmethod
    async def list_customers(self, *, limit: int, cursor: str | None = None) -> Page:
        """Newest first."""

    async def turn_context(
        self, conversation_id: str, *, limit: int
    ) -> tuple[Conversation, list[Event], Customer | None] | None:
        """What the turn runner reads before a turn: the conversation, up to `limit` events
        after its `handled_seq`, and its customer. A store may do it in one round trip."""
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

    # -- identity: one customer across channels (see `hub.identity` for the rules)
    #
    # Every identity belongs to exactly one customer and is looked up in O(1). Nothing here
    # decides *whether* two records may be joined: the identity service does, on proof.

    #: `record_inbound` continues the customer's open conversation from another channel only
    #: if it moved within this many seconds (None: always). Set from `identity.continuity_window`.
    continuity_window: float | None = 24 * 3600.0

    @abc.abstractmethod
    async def ensure_customer(self, identity: str, *, now: float) -> tuple[Customer, bool]:
        """The customer owning `identity`, created (with only that identity) when there is
        none; the flag says whether it was created."""

    @abc.abstractmethod
    async def add_identity(self, customer_id: str, identity: str, *, now: float) -> str | None:
        """Give `identity` to the customer unless someone already owns it. Returns the owner
        afterwards (`customer_id`, or the other customer: nothing changed), or None when
        the customer does not exist."""

    @abc.abstractmethod
    async def update_customer(
        self,
        customer_id: str,
        *,
        attributes: Mapping[str, Any] | None = None,
        tags: Sequence[str] | None = None,
        now: float,
    ) -> Customer | None:
        """Upsert attributes (a None value deletes the key) and, when given, replace the tags.
        None when the customer does not exist."""

    @abc.abstractmethod
    async def merge_customers(
        self, kept_id: str, absorbed_id: str, *, reason: Mapping[str, Any], now: float
    ) -> CustomerMerge:
        """Move the absorbed customer's identities, attributes (the kept record wins on
        conflicts), tags and conversations to `kept_id`, delete the absorbed record, and log a
        `customer.merged` event in every moved conversation. `KeyError` when either is missing,
        `ValueError` when they are the same customer."""

    @abc.abstractmethod
    async def unmerge_customers(self, merge_id: str, *, now: float) -> CustomerMerge | None:
        """Undo a merge: both records exactly as they were before it (identities linked to the
        kept customer since then stay with it), the moved conversations back to the absorbed
        customer, a `customer.unmerged` event in each. None when there is no such merge;
        `ValueError` when it was undone already or the kept customer is gone."""

    @abc.abstractmethod
    async def get_merge(self, merge_id: str) -> CustomerMerge | None: ...

    @abc.abstractmethod
    async def customer_conversations(self, customer_id: str) -> list[Conversation]:
        """Every conversation of the customer, oldest first."""

    @abc.abstractmethod
    async def erase_customer(self, customer_id: str, *, now: float) -> bool:
        """Erase personal data: identities, attributes, tags, message texts and payloads,
        addresses, merge snapshots, pending verification codes. Conversations and their event
        types and times stay (anonymous counters). False when the customer does not exist."""

    # -- identity: short-lived verification state
    @abc.abstractmethod
    async def count_hit(self, key: str, *, window: float, now: float) -> int:
        """Count one hit on `key` in the fixed window containing `now`; the count so far."""

    @abc.abstractmethod
    async def put_challenge(
        self, customer_id: str, challenge: Mapping[str, Any], *, expires_at: float
    ) -> None:
        """Store the customer's one pending verification (replacing an earlier one)."""

    @abc.abstractmethod
    async def attempt_challenge(self, customer_id: str, *, now: float) -> dict[str, Any] | None:
        """Count one attempt at the pending challenge and return it with its `attempts`
        incremented, atomically (so parallel guesses cannot exceed the budget); None when
        there is none or it has expired."""

    @abc.abstractmethod
    async def drop_challenge(self, customer_id: str) -> None: ...

    # -- identity: audit trail (links, merges, exports, erasures)
    @abc.abstractmethod
    async def append_audit(
        self, customer_id: str, entry: Mapping[str, Any], *, now: float
    ) -> None: ...

    @abc.abstractmethod
    async def audit_trail(self, customer_id: str, *, limit: int = 1000) -> list[dict[str, Any]]:
        """The customer's audit entries, oldest first, each with its `at`."""
