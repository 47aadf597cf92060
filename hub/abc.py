"""Every abstract base of Frontdesk, in one place.

Two plug-in kinds, each with few required methods:

- `Connector`: one channel's edge; parses what arrives and delivers what leaves.
- `ConversationHandler`: whoever owns a conversation's turn (the bot, the humans' queue).
  It *returns* replies and events; only the hub's delivery ever sends.

Where the conversation stream lives is not one interface but small ports (`hub.ports`),
each implemented by every backend (SQLite embedded, Redis for scale-out).
"""

from __future__ import annotations

import abc
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, Self

from aiohttp import web

from hub.model import (
    Conversation,
    ConversationStatus,
    Customer,
    Delivery,
    Event,
    Inbound,
    NewEvent,
    Outbound,
)

if TYPE_CHECKING:
    from hub.attachments import AttachmentStore
    from hub.config import Section
    from hub.kv import KeyValue
    from hub.leader import Lease as LeaderLease
    from hub.ports.directory import CustomerDirectory
    from hub.ports.limits import RateLimiter
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

    @property
    def message_key(self) -> str:
        """Names the message this turn answers across conversations ("conversation:seq"):
        what an effect outside the turn's commit records, so that the turn, run again
        after its commit was lost, finds the effect made and does not make it twice."""
        return f"{self.conversation.id}:{self.event.seq}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Elsewhere:
    """Events a turn logs in *another* conversation: a CSAT score, a comment or a follow-up
    answer belongs to the conversation that asked for it, not to the one the customer
    writes in. Returned with the turn and committed with it, in the same store write."""

    conversation_id: str
    events: tuple[NewEvent, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class TurnResult:
    """What an owner decided: replies to send, events to log, state and status to keep,
    and events for other conversations (`elsewhere`), all committed in one write.

    `state` and `status` left as None mean "unchanged".
    """

    replies: tuple[Outbound, ...] = ()
    events: tuple[NewEvent, ...] = ()
    state: Mapping[str, Any] | None = None
    status: ConversationStatus | None = None
    priority: int | None = None
    elsewhere: tuple[Elsewhere, ...] = ()


class ConversationHandler(abc.ABC):
    """The owner of a conversation's turns (the dialog engine, the handoff queue …)."""

    @abc.abstractmethod
    async def handle(self, turn: Turn) -> TurnResult:
        """Answer one turn. Must not send anything itself; return it instead."""

    async def start(self) -> None:  # noqa: B027 - optional hook
        """Start background work (file watchers, client sessions)."""

    async def stop(self) -> None:  # noqa: B027 - optional hook
        """Stop background work."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Owners:
    """Who answers a conversation's turns: the bot, and the people (the hand-off) while it
    is queued or assigned (None: the bot always)."""

    bot: ConversationHandler
    humans: ConversationHandler | None = None


# --------------------------------------------------------------------------- connectors


@dataclass(frozen=True, slots=True, kw_only=True)
class IngestReceipt:
    """What a connector learns once its message is stored (and may acknowledge)."""

    conversation_id: str
    customer_id: str
    seq: int
    duplicate: bool


IngestFn = Callable[[Inbound], Awaitable[IngestReceipt]]
# Checks a token the company's site signed for an identity (`hub.identity`) and links it to
# that customer; raises ValueError with the reason when refused.
TokenCheck = Callable[[str, str], Awaitable[object]]


class ConversationLog(Protocol):
    """What a connector may read back (to resume a client, answer with context …)."""

    # Rate limits shared by every process on the store (a per-process limit would be N
    # times the configured one behind a load balancer).
    limiter: RateLimiter
    # Short-lived values shared by every process on the store (a provider's access token
    # and the lease on refreshing it).
    kv: KeyValue
    # Send slots on a provider's rate limits, booked by every process together.
    pacing: Pacing

    def leader(self, job: str) -> LeaderLease:
        """A lease for a job only one process may run at a time (mail polling …): held by
        one process of those sharing the store; a single process always leads. The
        caller starts and stops it."""

    @property
    def customers(self) -> CustomerDirectory:
        """The customer directory, for a channel that keeps a fact on the customer (an SMS
        number's opt-out)."""

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


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelLinks:
    """What every channel is built with, by the composition root (`hub.app`): where its
    messages go in (`ingest`), what it may read back (`log`), where the bytes of files sent
    either way are kept (`attachments`: a connector stores what arrives before ingesting
    it, and reads what it delivers), and the check of a signed identity token (None: the
    deployment has no identity service). A connector is whole once constructed: nothing
    is attached to it afterwards."""

    ingest: IngestFn
    log: ConversationLog
    attachments: AttachmentStore
    identity_tokens: TokenCheck | None = None


class Connector(abc.ABC):
    """One channel. Subclasses set `name`, parse inbound in `routes`/`start`, and `deliver`.

    Optional abilities are data, not stubs: `supports_buttons` tells the hub whether quick
    replies render natively (a connector that cannot must still render them as text);
    `supports_typing` makes the hub call `typing()` when a turn starts and while an agent
    types (`typing_per_process`: the indicator reaches only the clients connected to this
    process, so every hub process is asked to show an agent's typing;
    `shows_turn_typing`: the connector shows a turn's typing itself, from the customer
    message it sees in `on_events`, and the hub starts no `typing()` task per turn);
    `joins_replies` makes it join a turn's replies into one (one email, not three);
    `observes_events` makes it call `on_events()` with every appended batch;
    `replies_read_from_log`: its clients read replies from the conversation log itself
    (the web chat: live from `on_events`, after a reconnect from the log), so a reply is
    delivered once it is committed and never enters the outbox (no `deliver()`, no
    receipt: nothing can fail after the commit that a retry would fix);
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
    shows_turn_typing: ClassVar[bool] = False
    joins_replies: ClassVar[bool] = False  # one message per turn (email): the hub joins them
    observes_events: ClassVar[bool] = False
    replies_read_from_log: ClassVar[bool] = False
    code_identities: ClassVar[tuple[str, ...]] = ()

    def __init__(self, *, links: ChannelLinks) -> None:
        self.ingest = links.ingest
        self.log = links.log
        self.attachments = links.attachments
        self.identity_tokens = links.identity_tokens

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
        cls, settings: Section, *, links: ChannelLinks, environ: Mapping[str, str]
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

    async def hang_up(self) -> None:  # noqa: B027 - optional hook
        """Close clients' long-lived connections to this channel's routes (sockets, long
        polls), telling them to come back: called when the server begins to shut down,
        before aiohttp waits for every open handler to end (before `stop`)."""

    @abc.abstractmethod
    async def deliver(self, delivery: Delivery) -> Mapping[str, Any]:
        """Send one reply; return receipt details (provider message id …) for the log."""
