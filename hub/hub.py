"""The hub: one path for every message.

    connector ─ ingest() ─► store (acknowledged) ─► turn runner ─► owner.handle()
                                                          │
    connector ◄─ deliver() ◄─ outbox (retry, park) ◄──────┘ commit_turn()

One conversation's turns run strictly in order (the store's conversation lock, which is
cross-process for shared stores); different conversations run concurrently.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from dataclasses import replace
from typing import Any, Protocol

from hub.abc import (
    Connector,
    ConversationHandler,
    IngestReceipt,
    Owners,
    Turn,
    TurnResult,
)
from hub.bus import EventBus, EventListener, LocalBus
from hub.bus_order import PublishOrder
from hub.delivery import DeliveryWorker, RetryPolicy
from hub.errors import LeaseLost
from hub.kv import KeyValue, MemoryKeyValue
from hub.leader import Lease as LeaderLease
from hub.leader import SoleLease
from hub.locks import Lease
from hub.metrics import Metrics
from hub.model import (
    Conversation,
    ConversationStatus,
    Customer,
    Event,
    EventType,
    Inbound,
    InboundKind,
    NewEvent,
    Outbound,
    Route,
)
from hub.periodic import Periodic
from hub.ports import CustomerDirectory, EventLog, Leases, Limits, Outbox
from hub.ports.leases import TurnContext
from hub.ports.log import TurnCommit
from hub.shared_limits import LocalRateLimiter, RateLimiter
from hub.shared_pacing import LocalPacing, Pacing
from hub.signals import TOPIC as TYPING_TOPIC
from hub.signals import Side, Typing, TypingListener, TypingSignals

log = logging.getLogger("frontdesk.hub")

TURN_BATCH = 200  # events read per turn context

POLITE_FALLBACK = Outbound(
    text="Sorry, something went wrong on our side. Please try again in a moment."
)


class HubStore(EventLog, Outbox, CustomerDirectory, Leases, Limits, Protocol):
    """The ports the hub and what it runs use; opening and closing the backend belongs to
    the composition root (`hub.app`), not to the hub."""


class Hub:
    """Ingests inbound messages, runs turns through the conversation's owner, delivers."""

    def __init__(
        self,
        *,
        store: HubStore,
        bot: ConversationHandler | None = None,
        humans: ConversationHandler | None = None,
        owners: Callable[[Hub], Owners] | None = None,
        connectors: dict[str, Connector] | None = None,
        retry: RetryPolicy | None = None,
        clock: Callable[[], float] = time.time,
        metrics: Metrics | None = None,
        reply_to: str = "last",
        bus: EventBus | None = None,
        publish_order: PublishOrder | None = None,
        limiter: RateLimiter | None = None,
        leaders: Callable[[str], LeaderLease] | None = None,
        pacing: Pacing | None = None,
        kv: KeyValue | None = None,
    ) -> None:
        if reply_to not in ("last", "preferred"):
            raise ValueError(f"reply_to must be 'last' or 'preferred', not {reply_to!r}")
        self.store = store
        self.reply_to = reply_to
        self.retry = retry or RetryPolicy()
        self.clock = clock
        self.metrics = metrics or Metrics()
        # Shared with whoever else sends through a channel (the identity service's codes).
        self.connectors: dict[str, Connector] = {} if connectors is None else connectors
        # Channels whose replies are delivered by their commit (`add_connector` keeps it).
        self._read_from_log = frozenset(
            name for name, c in self.connectors.items() if c.replies_read_from_log
        )
        # Every appended event reaches every process's listeners through the bus.
        self.bus: EventBus = bus or LocalBus()
        self.limiter: RateLimiter = limiter or LocalRateLimiter()
        self._leaders = leaders or (lambda job: SoleLease())
        self.pacing: Pacing = pacing or LocalPacing()
        self.kv: KeyValue = kv or MemoryKeyValue()
        # What this process appended goes on the bus in log order per conversation, though
        # its writes of one conversation may answer out of order (`writing` marks them).
        # Given when others publish through it too (the identity service's merges): it
        # must publish on `bus`.
        self.publish_order = publish_order or PublishOrder(self.bus.publish)
        self.delivery = DeliveryWorker(
            store=store,
            connectors=self.connectors,
            policy=self.retry,
            clock=clock,
            metrics=self.metrics,
            lease=self.retry.lease,
            order=self.publish_order,
        )
        self._runners: dict[str, asyncio.Task[None]] = {}
        self._again: set[str] = set()
        self.typing_signals = TypingSignals()
        self._typing_tasks: set[asyncio.Task[None]] = set()
        self.bus.on_signal(TYPING_TOPIC, self._typing_elsewhere)
        self._accepting = False
        self._sweeper: Periodic | None = None
        self.sweep_interval = 5.0
        self.metrics.describe("frontdesk_inbound_total", "Inbound messages acknowledged")
        self.metrics.describe("frontdesk_inbound_duplicates_total", "Inbound duplicates dropped")
        self.metrics.describe("frontdesk_turns_total", "Turns run")
        self.metrics.describe("frontdesk_turn_failures_total", "Turns whose owner raised")
        self.metrics.gauge(
            "frontdesk_turns_in_flight",
            "Conversations with a turn running",
            lambda: len(self._runners),
        )
        # The owners come last: the hand-off is built with this hub (it writes through
        # `send`), and the hub runs it, so a builder receives the hub once it is whole.
        # Either way they are fixed from here on (`bot` and `humans` are read-only).
        if owners is not None and bot is None and humans is None:
            self._owners = owners(self)
        elif owners is None and bot is not None:
            self._owners = Owners(bot=bot, humans=humans)
        else:
            raise ValueError("give the hub either bot= (and humans=) or owners=")

    # ------------------------------------------------------------------ wiring
    @property
    def bot(self) -> ConversationHandler:
        """Who answers while the bot owns the conversation."""
        return self._owners.bot

    @property
    def humans(self) -> ConversationHandler | None:
        """Who answers while the conversation is queued or assigned (the hand-off)."""
        return self._owners.humans

    def add_connector(self, connector: Connector) -> None:
        if connector.name in self.connectors:
            raise ValueError(f"connector {connector.name!r} is registered twice")
        self.connectors[connector.name] = connector
        if connector.replies_read_from_log:
            self._read_from_log |= {connector.name}
        if connector.observes_events:
            self.add_listener(connector.on_events)

    # ------------------------------------------------------------------ ConversationLog
    def leader(self, job: str) -> LeaderLease:
        return self._leaders(job)

    @property
    def customers(self) -> CustomerDirectory:
        """The customer directory, as the channels see it."""
        return self.store

    async def latest_conversation(self, identity: str) -> Conversation | None:
        customer = await self.store.find_customer(identity)
        return await self.store.latest_conversation(customer.id) if customer else None

    async def events(
        self, conversation_id: str, *, after_seq: int = 0, limit: int = 100
    ) -> list[Event]:
        return await self.store.events(conversation_id, after_seq=after_seq, limit=limit)

    async def delivery_progress(self, delivery_id: str, parts_sent: Sequence[str]) -> None:
        """A connector sent some parts of a split reply: remember them in the store, so a
        retry (in any process, after a restart too) resumes after them."""
        await self.store.delivery_progress(delivery_id, parts_sent)

    def customer_typing(self, conversation_id: str, *, on: bool = True) -> None:
        """A connector saw its customer type: tell the typing listeners (the console)."""
        signal = Typing(conversation_id=conversation_id, side=Side.CUSTOMER, on=on)
        if self.typing_signals.admit(signal):
            self.typing_signals.publish(signal)
            self.bus.signal(TYPING_TOPIC, signal.to_json())

    async def agent_typing(self, conversation_id: str, *, on: bool = True) -> bool:
        """An agent is typing a reply: the channel shows it if it can (`Connector.typing`,
        with `for_turn=False`). Ephemeral: not logged, not retried, never waited for.
        Returns whether a signal went to a channel (rate limit and abilities allowing)."""
        signal = Typing(conversation_id=conversation_id, side=Side.AGENT, on=on)
        if not self.typing_signals.admit(signal):  # first: keystrokes cost no store read
            return False
        conversation = await self.store.get_conversation(conversation_id)
        if conversation is None:
            return False
        connector = self.connectors.get(conversation.channel)
        if connector is None or not connector.supports_typing:
            return False
        self._spawn_typing(
            connector.typing(conversation.address, conversation.thread_hint, on=on, for_turn=False)
        )
        self.typing_signals.publish(signal)
        self.bus.signal(TYPING_TOPIC, signal.to_json())
        return True

    def _typing_elsewhere(self, data: Mapping[str, Any]) -> None:
        """A typing signal another process admitted: this process's listeners get it, and an
        agent's typing goes to this process's clients of a channel that shows it only to
        them (web chat's sockets); a channel shown through one API call (Telegram) was
        already told by the process where the agent typed."""
        try:
            signal = Typing.from_json(data)
        except ValueError:
            log.warning("malformed typing signal on the bus")
            return
        self.typing_signals.publish(signal)
        if signal.side is Side.AGENT:
            self._spawn_typing(self._agent_typing_here(signal))

    async def _agent_typing_here(self, signal: Typing) -> None:
        conversation = await self.store.get_conversation(signal.conversation_id)
        connector = self.connectors.get(conversation.channel) if conversation else None
        if conversation is None or connector is None:
            return
        if connector.supports_typing and connector.typing_per_process:
            await connector.typing(
                conversation.address, conversation.thread_hint, on=signal.on, for_turn=False
            )

    def add_typing_listener(self, listener: TypingListener) -> None:
        """Called with every typing signal that passed the rate limit (either side)."""
        self.typing_signals.add_listener(listener)

    def add_listener(self, listener: EventListener) -> None:
        """Called with every batch of events appended by any process sharing the store
        (live feeds, websockets), in log order per conversation."""
        self.bus.subscribe(listener)

    def _notify(self, events: Sequence[Event]) -> None:
        # The bus orders a batch as one conversation's: a turn's commit also appends to
        # other conversations (`TurnResult.elsewhere`), each published as its own batch.
        batches: dict[str, list[Event]] = {}
        for event in events:
            batches.setdefault(event.conversation_id, []).append(event)
        for batch in batches.values():
            self.publish_order.publish(batch)

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        """Recover what a previous run left half-done, then accept traffic."""
        self._accepting = True
        pending = await self.store.pending_conversations()
        if pending:
            log.info("recovering unanswered turns", extra={"conversations": len(pending)})
        for conversation_id in pending:
            self._schedule(conversation_id)
        await self.delivery.start()
        # Stops on a flag as well as a cancel (see hub.periodic): a sweep reading Redis may
        # swallow the cancel, and the shutdown must not wait for it for ever.
        self._sweeper = Periodic(
            "pending-turn sweep", self._sweep, self.sweep_interval, first=False
        )
        self._sweeper.start()

    async def stop(self) -> None:
        """Finish in-flight turns and flush the outbox, within the grace period."""
        self._accepting = False
        if self._sweeper is not None:
            await self._sweeper.stop()
            self._sweeper = None
        grace = self.retry.shutdown_grace
        if self._runners:
            await asyncio.wait(list(self._runners.values()), timeout=grace)
        await self.delivery.stop(grace=grace)

    # ------------------------------------------------------------------ the write path
    async def ingest(self, inbound: Inbound) -> IngestReceipt:
        """Store one inbound message; once this returns, the connector may acknowledge it.

        The store may take the conversation's turn lease with it (the turn runner scheduled
        below adopts it): a turn then costs no round trip of its own for its lease."""
        ingested = await self.store.record_inbound_and_lease(
            inbound, now=self.clock(), limit=TURN_BATCH
        )
        if ingested.duplicate:
            self.metrics.inc("frontdesk_inbound_duplicates_total", channel=inbound.channel)
        else:
            self.metrics.inc("frontdesk_inbound_total", channel=inbound.channel)
            self._notify((ingested.event,))
            if inbound.kind == InboundKind.MESSAGE:
                self._schedule(ingested.conversation.id)
        return IngestReceipt(
            conversation_id=ingested.conversation.id,
            customer_id=ingested.customer.id,
            seq=ingested.event.seq,
            duplicate=ingested.duplicate,
        )

    async def append(self, conversation_id: str, events: Sequence[NewEvent]) -> tuple[Event, ...]:
        """Log events that are not a turn (an edit, a typing notice worth keeping …)."""
        with self.publish_order.writing(conversation_id):
            appended = await self.store.append_events(conversation_id, events, now=self.clock())
            self._notify(appended)
        return appended

    async def send(
        self,
        conversation_id: str,
        replies: Sequence[Outbound],
        *,
        events: Sequence[NewEvent] = (),
        status: ConversationStatus | None = None,
        priority: int | None = None,
        when: Callable[[Conversation], Awaitable[bool]] | None = None,
    ) -> bool:
        """Send replies that are not an answer to an inbound turn (an agent's message …).

        With `when`, nothing is written unless it approves the conversation as re-read under
        its lock: a check-and-set that holds across processes. Returns whether it was written.
        """
        async with self.store.conversation_lock(conversation_id) as lease:
            conversation = await self.store.get_conversation(conversation_id)
            if conversation is None:
                raise KeyError(conversation_id)
            if when is not None and not await when(conversation):
                return False
            route = await self._route(conversation)
            channel = route.channel if route else conversation.channel
            result = self._shape_for_channel(
                channel,
                TurnResult(
                    replies=tuple(replies), events=tuple(events), status=status, priority=priority
                ),
            )
            with self.publish_order.writing(conversation_id):
                commit = await self.store.commit_turn(
                    conversation_id,
                    handled_seq=conversation.handled_seq,
                    result=result,
                    now=self.clock(),
                    lease=self.retry.lease,
                    known=conversation,
                    route=route,
                    fence=lease.fence,
                    read_from_log=self._read_from_log,
                )
                self._notify(commit.events)
        self._hand_over(commit, channel, len(result.replies))
        return True

    def _schedule(self, conversation_id: str) -> None:
        if conversation_id in self._runners:
            self._again.add(conversation_id)  # the running task will look once more
            return
        self._runners[conversation_id] = asyncio.create_task(self._drain(conversation_id))

    async def _drain(self, conversation_id: str) -> None:
        try:
            while True:
                self._again.discard(conversation_id)
                lease_and_context = self.store.turn_lease(conversation_id, limit=TURN_BATCH)
                async with lease_and_context as (lease, context):
                    await self._run_pending_turns(conversation_id, lease, context)
                if conversation_id not in self._again:
                    return
        except LeaseLost:
            # This process stalled past its lease and another one owns the conversation
            # now: it answers the turn; nothing of ours was written.
            log.warning(
                "conversation lease lost mid-turn", extra={"conversation_id": conversation_id}
            )
        except Exception:
            # The turn stays pending in the store; the sweep or the next inbound retries it.
            log.exception("turn runner failed", extra={"conversation_id": conversation_id})
        finally:
            # No await between the check above and this: a message stored meanwhile has
            # either set `_again` (and we looped) or finds no runner and starts one.
            self._runners.pop(conversation_id, None)

    async def _sweep(self) -> None:
        """Safety net: pick up any turn left pending (a runner that failed, another
        process that died holding a conversation)."""
        for conversation_id in await self.store.pending_conversations():
            if conversation_id not in self._runners:
                self._schedule(conversation_id)

    async def _run_pending_turns(
        self, conversation_id: str, lease: Lease, context: TurnContext
    ) -> None:
        """Answer every acknowledged message not yet answered, oldest first."""
        while True:
            if context is None:
                return
            conversation, events, customer = context
            pending = [event for event in events if event.type == EventType.MESSAGE_IN]
            if pending and customer is None:
                log.error(
                    "conversation without customer", extra={"conversation_id": conversation_id}
                )
                return
            for index, event in enumerate(pending):
                assert customer is not None
                if index:  # the previous turn may have changed state or status
                    fresh = await self.store.get_conversation(conversation_id)
                    if fresh is None:
                        return
                    conversation = fresh
                await self._run_turn(conversation, customer, event, lease)
            if len(events) < TURN_BATCH:  # the lease may be gone with the last commit
                return
            context = await self.store.turn_context(conversation_id, limit=TURN_BATCH)

    async def _run_turn(
        self, conversation: Conversation, customer: Customer, event: Event, lease: Lease
    ) -> None:
        turn = Turn(
            conversation=conversation,
            customer=customer,
            event=event,
            inbound=Inbound.from_json(event.data),
            now=self.clock(),
        )
        self._show_typing(conversation)
        route = await self._route(conversation, customer)
        channel = route.channel if route else conversation.channel
        result = self._shape_for_channel(channel, await self._handle(turn))
        # Before the commit, not after: tags are a set, so a turn whose commit is lost and
        # runs again adds nothing twice, while a crash right after the commit cannot lose
        # them (a "stop" to follow-ups is such a tag).
        await self._apply_tags(customer.id, result.events)
        with self.publish_order.writing(conversation.id):
            commit = await self.store.commit_turn(
                conversation.id,
                handled_seq=event.seq,
                result=result,
                now=self.clock(),
                lease=self.retry.lease,
                known=conversation,
                route=route,
                fence=lease.fence,  # refused if this process stalled and lost the conversation
                read_from_log=self._read_from_log,
            )
            # What the turn logged in other conversations (a CSAT answer …) was committed
            # with it.
            self._notify((*commit.events, *commit.elsewhere))
        self.metrics.inc("frontdesk_turns_total")
        self._hand_over(commit, channel, len(result.replies))

    def _hand_over(self, commit: TurnCommit, channel: str, replies: int) -> None:
        """Send a commit's leading reply now. Replies to a channel that reads them from the
        log were delivered by the commit itself; they are counted as such."""
        if replies and not commit.deliveries and channel in self._read_from_log:
            self.metrics.inc(
                "frontdesk_deliveries_total", replies, channel=channel, outcome="logged"
            )
        self.delivery.deliver_now(commit.lead)

    async def _route(
        self, conversation: Conversation, customer: Customer | None = None
    ) -> Route | None:
        """With `reply_to="preferred"`, replies go to the customer's preferred channel (the
        `preferred_channel` attribute, e.g. from the CRM) when they have an identity there
        and it is enabled; otherwise, and by default, to where they last wrote from."""
        if self.reply_to != "preferred":
            return None
        if customer is None:
            customer = await self.store.get_customer(conversation.customer_id)
        preferred = customer.attributes.get("preferred_channel") if customer else None
        if not isinstance(preferred, str) or preferred == conversation.channel:
            return None
        if preferred not in self.connectors or customer is None:
            return None
        for identity in customer.identities:
            channel, _, address = identity.partition(":")
            if channel == preferred and address:
                return Route(channel=channel, address=address)
        return None

    async def _apply_tags(self, customer_id: str, events: Sequence[NewEvent]) -> None:
        """`customer.tagged` events (a flow's tag step) become the customer's tags, so
        later conditions, routing and the agent's profile see them."""
        tags = [
            e.data["tag"]
            for e in events
            if e.type == EventType.CUSTOMER_TAGGED and isinstance(e.data.get("tag"), str)
        ]
        if not tags:
            return
        customer = await self.store.get_customer(customer_id)
        if customer is None:
            return
        merged = tuple(dict.fromkeys([*customer.tags, *tags]))
        if merged != customer.tags:
            await self.store.update_customer(customer_id, tags=merged, now=self.clock())

    async def _handle(self, turn: Turn) -> TurnResult:
        owner = self._owner(turn.conversation.status)
        try:
            return await owner.handle(turn)
        except Exception as error:
            # One failing conversation never stops the others: apologise, log, go on.
            self.metrics.inc("frontdesk_turn_failures_total")
            log.exception(
                "turn failed",
                extra={"conversation_id": turn.conversation.id, "seq": turn.event.seq},
            )
            return TurnResult(
                replies=(POLITE_FALLBACK,),
                events=(
                    NewEvent(type=EventType.TURN_FAILED, data={"error": type(error).__name__}),
                ),
            )

    def _shape_for_channel(self, channel: str, result: TurnResult) -> TurnResult:
        connector = self.connectors.get(channel)
        if connector is None or not connector.joins_replies or len(result.replies) < 2:
            return result
        return replace(result, replies=(join_replies(result.replies),))

    def _show_typing(self, conversation: Conversation) -> None:
        connector = self.connectors.get(conversation.channel)
        if connector is None or not connector.supports_typing or connector.shows_turn_typing:
            return
        self._spawn_typing(connector.typing(conversation.address, conversation.thread_hint))

    def _spawn_typing(self, typing: Coroutine[Any, Any, None]) -> None:
        # Nobody waits for a typing indicator; the set only keeps the task alive until done.
        task = asyncio.create_task(typing)
        self._typing_tasks.add(task)
        task.add_done_callback(self._typing_tasks.discard)
        task.add_done_callback(_log_typing_failure)

    def _owner(self, status: ConversationStatus) -> ConversationHandler:
        if status in (ConversationStatus.QUEUED, ConversationStatus.ASSIGNED) and self.humans:
            return self.humans
        return self.bot

    @property
    def accepting(self) -> bool:
        return self._accepting


def join_replies(replies: Sequence[Outbound]) -> Outbound:
    """Several replies as one message: texts in paragraphs; the buttons and attachments of
    all of them (buttons normally come only with the last, the question)."""
    return Outbound(
        text="\n\n".join(reply.text for reply in replies if reply.text),
        buttons=tuple(button for reply in replies for button in reply.buttons),
        attachments=tuple(item for reply in replies for item in reply.attachments),
    )


def _log_typing_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.warning("typing indicator failed", extra={"error": repr(task.exception())})
