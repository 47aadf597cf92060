"""The scale-out store: one Redis shared by several hub processes.

Every write is one Lua script (see `hub.store_redis_scripts` for them and the key layout),
so it is atomic across processes; sequence numbers are allocated inside the scripts.
What a script cannot compute without decoding user data (a turn's `status.changed` and
reply routing, a redriven delivery) is built in Python from a fresh read and applied by a
script that first checks nothing it relied on has changed, retrying if it has.
Conversation ownership is a Redis lease lock (`hub.store_redis_lock`); the hub's ingest takes
it with the message that starts a turn when nobody holds it (`record_inbound_and_lease`),
else the turn runner takes it with its turn context (`turn_lease`); the runner's last commit
frees it. A plain turn is three calls: store + lease + context, commit + release, receipt.

This module: connection, conversations and events; the outbox is in
`hub.store_redis_outbox`, the identity methods and the public `RedisStore` in
`hub.store_redis`.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Collection, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import replace
from typing import Any, cast

from redis.commands.core import AsyncScript

from hub import jsonio
from hub import store_redis_codec as codec
from hub import store_redis_scripts as lua
from hub.abc import TurnResult
from hub.errors import Contention, LeaseLost
from hub.ids import new_id
from hub.locks import Lease
from hub.migrations_redis import migrate
from hub.model import (
    Conversation,
    ConversationStatus,
    Customer,
    Delivery,
    Event,
    EventType,
    Inbound,
    InboundKind,
    NewEvent,
    Route,
)
from hub.ports import Backend, Ingested, Page, TurnCommit
from hub.ports.leases import TurnContext
from hub.ports.policy import DAY
from hub.store_common import conversation_update_events, reply_event_and_delivery
from hub.store_redis_connect import RedisClient, connect, keyspace
from hub.store_redis_keys import KeyNames, Recent, Sender
from hub.store_redis_lock import RedisLeaseLocks
from hub.store_redis_outbox import RedisOutbox

GUESSES = 10_000  # conversations (and senders) whose keys this process remembers
_SCRIPTS = (
    *("RECORD_INBOUND", "COMMIT_TURN", "APPEND_EVENTS", "CLAIM_DELIVERIES", "TURN_CONTEXT"),
    *("DELIVERY_SUCCEEDED", "DELIVERY_FAILED", "PARKED_DELIVERY", "REDRIVE", "WRITE_IF"),
    *("ATTEMPT_CHALLENGE", "CLAIM_NEXT", "DELIVERY_PROGRESS", "TURN_LEASE"),
)


class RedisCore(RedisOutbox, Backend):
    """The conversation stream on Redis (its outbox: `RedisOutbox`);
    `hub.store_redis.RedisStore` adds identity."""

    def __init__(
        self,
        url: str,
        *,
        prefix: str = "fd:",
        lock_ttl: float = 10.0,
        continuity_window: float | None = DAY,
    ) -> None:
        self.url = url
        self.base_prefix = prefix
        # Every key starts with this (`fd:{fd}:`): one hash tag, so one cluster slot.
        self.prefix = keyspace(prefix)
        self.keys = KeyNames(self.prefix)
        # What a script's declared keys are guessed from (`hub.store_redis_keys`): a
        # sender's customer, open conversations and last conversation (by identity and
        # thread key), and a conversation's customer and thread key.
        self._senders: Recent[tuple[str, str], Sender] = Recent(GUESSES)
        self._owners: Recent[str, tuple[str, str]] = Recent(GUESSES)
        # The replies this process committed to a conversation and has not seen leave its
        # lane, in order: the head a receipt, a failure or a claim declares.
        self._lanes: Recent[str, tuple[str, ...]] = Recent(GUESSES)
        self.lock_ttl = lock_ttl
        self._redis: RedisClient | None = None
        self._scripts: dict[str, AsyncScript] = {}
        self._locks: RedisLeaseLocks | None = None
        # A customer writing from another channel continues their open conversation if it
        # moved within this many seconds; else a new one opens (None: always continue).
        self.continuity_window = continuity_window

    # ------------------------------------------------------------------ lifecycle
    async def open(self) -> None:
        redis = await connect(self.url)
        try:
            await migrate(redis, base=self.base_prefix, keyspace=self.prefix)
        except BaseException:
            await redis.aclose()
            raise
        self._redis = redis
        # Registered once; redis-py runs them by SHA and reloads them after a Redis restart.
        self._scripts = {name: redis.register_script(getattr(lua, name)) for name in _SCRIPTS}
        self._locks = RedisLeaseLocks(redis, prefix=self.prefix, ttl=self.lock_ttl)

    async def close(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None
            self._locks = None

    @property
    def redis(self) -> RedisClient:
        if self._redis is None:
            raise RuntimeError("store is not open")
        return self._redis

    async def _run(self, script: str, *args: str | int | float, keys: Sequence[str] = ()) -> Any:
        if self._redis is None:
            raise RuntimeError("store is not open")
        call = f"{self.prefix}op:{os.urandom(8).hex()}"  # names this call for its retries
        return await self._scripts[script](keys=[call, *keys], args=[self.prefix, *args])

    def _seen(self, fields: Mapping[str, str]) -> Conversation:
        """A conversation read from its hash; its customer and thread key are remembered
        (the keys a later commit declares)."""
        self._owners.put(fields["id"], (fields["customer_id"], fields.get("thread_key", "")))
        return codec.conversation(fields)

    # ------------------------------------------------------------------ write path
    async def record_inbound(self, inbound: Inbound, *, now: float) -> Ingested:
        ingested, _ = await self._record_inbound(inbound, now=now, limit=0)
        return ingested

    async def record_inbound_and_lease(
        self, inbound: Inbound, *, now: float, limit: int
    ) -> Ingested:
        """`record_inbound`, and the turn lease in the same script when the message starts
        a turn and nobody holds the conversation: the next holder of its lock in this
        process (the turn runner the message starts) adopts it, with the turn context read
        under it, instead of taking it (`RedisLeaseLocks.taken`)."""
        ingested, taken = await self._record_inbound(inbound, now=now, limit=limit)
        if taken is not None and self._locks is not None:
            fence, token, context = taken
            self._locks.taken(
                f"conv:{ingested.conversation.id}", fence=fence, token=token, read=(limit, context)
            )
        return ingested

    async def _record_inbound(
        self, inbound: Inbound, *, now: float, limit: int
    ) -> tuple[Ingested, tuple[int, str, TurnContext] | None]:
        """Store the message; with `limit`, take the turn lease too if it is free: then also
        (fence, token, the turn context of `limit` events)."""
        token = os.urandom(16).hex() if limit and self._locks is not None else ""
        ttl_ms = self._locks.ttl_ms if self._locks is not None else 0
        customer = Customer(id=new_id("cus"), identities=(inbound.identity,), created_at=now)
        opening = new_id("con")
        seen_as = (inbound.identity, inbound.thread_key)
        sender = self._senders.get(seen_as) or Sender()
        opened = NewEvent(type=EventType.OPENED, data={"channel": inbound.channel})
        message = NewEvent(type=inbound.event_type, data=inbound.to_json())
        # Each call after the first corrects a guess the script refused: another process
        # merged the sender, or opened a conversation of theirs, since this one last saw
        # them; a retry is refused again only when that churn went on in between.
        for _ in range(lua.TURN_PATH_ATTEMPTS):
            reply = await self._run(
                "RECORD_INBOUND",
                inbound.channel,
                inbound.message_id,
                inbound.identity,
                customer.id,
                codec.dumps(customer.to_json()),
                opening,
                codec.num(now),
                inbound.sender,
                inbound.thread_hint,
                codec.event_json(opened, now),
                codec.event_json(message, now),
                inbound.thread_key,
                "1" if inbound.kind == InboundKind.MESSAGE else "0",
                "" if self.continuity_window is None else codec.num(self.continuity_window),
                token,
                ttl_ms,
                limit,
                sender.customer,
                sender.gone,
                keys=self._inbound_keys(inbound, sender, opening=opening, customer=customer.id),
            )
            if reply[0] != "retry":
                break
            sender = await self._corrected(sender, reply[1:], inbound.thread_key)
        else:
            raise Contention(
                f"the customer or open conversations of {inbound.identity!r} kept changing"
                " during record_inbound"
            )
        duplicate, seq, customer_json, event_json, fields, fence, stored, *open_sets = reply
        if not customer_json:
            raise RuntimeError(f"customer of {inbound.identity!r} is missing from the store")
        conversation = self._seen(codec.pairs(fields))
        found = Customer.from_json(jsonio.stored(customer_json))
        on_thread, plain = (tuple(codec.text(i) for i in ids) for ids in open_sets)
        self._senders.put(seen_as, Sender(found.id, conversation.id, on_thread, plain))
        if duplicate:
            event = codec.event(conversation.id, int(seq), event_json)
        else:
            event = Event(
                conversation_id=conversation.id,
                seq=int(seq),
                type=message.type,
                at=now,
                data=message.data,
            )
        ingested = Ingested(
            conversation=conversation,
            customer=found,
            event=event,
            duplicate=bool(duplicate),
        )
        if not int(fence):
            return ingested, None
        start = conversation.handled_seq
        events = [
            codec.event(conversation.id, start + 1 + i, codec.text(s)) for i, s in enumerate(stored)
        ]
        return ingested, (int(fence), token, (conversation, events, ingested.customer))

    def _inbound_keys(
        self, inbound: Inbound, sender: Sender, *, opening: str, customer: str
    ) -> list[str]:
        """What `RECORD_INBOUND` is handed: what the arguments name, the keys of the
        customer the sender is guessed to be (else of the one it would create), then
        hash, log and lease of the conversation the message would open and of each it is
        guessed it may go to."""
        keys = [
            self.keys.dedupe(inbound.channel),
            self.keys.identity(inbound.identity),
            *self.keys.inbound(sender.customer or customer, inbound.thread_key),
            self.keys.listing("customers"),
            self.keys.listing("conversations"),
            self.keys.by_status(ConversationStatus.BOT.value),
            self.keys.pending(),
        ]
        for conversation_id in [opening, *sender.conversations()]:
            keys += [*self.keys.conversation(conversation_id), *self.keys.lease(conversation_id)]
        return keys

    async def _corrected(self, sender: Sender, found: Sequence[Any], thread_key: str) -> Sender:
        """The guess `RECORD_INBOUND` refused, corrected from what it found (see there): a
        duplicate's conversation and customer; a customer whose record is gone (none);
        another customer, whose open sets are read here (one pipelined round trip); the
        guessed customer's open sets as they are."""
        customer, conversation, on_thread, plain, gone = found
        if conversation:
            if not customer:  # it could not read the conversation's customer: read here
                key = self.keys.conversation(conversation)[0]
                customer = await self.redis.hget(key, "customer_id") or ""
            return replace(sender, customer=customer, conversation=conversation)
        if int(gone):
            return Sender(conversation=sender.conversation, gone=customer)
        if customer != sender.customer:
            on_thread, plain = await self._open_sets(customer, thread_key) if customer else ([], [])
        return replace(
            sender, customer=customer, thread_open=tuple(on_thread), plain_open=tuple(plain)
        )

    async def _open_sets(self, customer_id: str, thread_key: str) -> list[list[str]]:
        """A customer's open conversations on `thread_key` and those without one."""
        _, _, _, on_thread, plain = self.keys.inbound(customer_id, thread_key)
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.zrange(on_thread, 0, -1)
            pipe.zrange(plain, 0, -1)
            return list(await pipe.execute())

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
        held = self._locks.held(f"conv:{conversation_id}") if self._locks else None
        # The turn runner's lease goes with the commit that leaves nothing pending.
        release = held.value if held and held.fence == fence and held.releasable else ""
        for attempt in range(lua.TURN_PATH_ATTEMPTS):
            # The script checks the fields it relies on, so a stale `known` only costs a retry.
            conversation = known if attempt == 0 and known is not None else None
            if conversation is None:
                conversation = await self.get_conversation(conversation_id)
            if conversation is None:
                raise KeyError(conversation_id)
            new_events = [*result.events, *conversation_update_events(conversation, result)]
            deliveries: list[Delivery] = []
            for outbound in result.replies:
                event, delivery = reply_event_and_delivery(
                    conversation, outbound, now=now, route=route
                )
                new_events.append(event)
                deliveries.append(delivery)
            # The script checks the conversation's channel unchanged, so this holds for it.
            if (route.channel if route else conversation.channel) in read_from_log:
                deliveries = []
            outbox: list[str] = []
            for delivery in deliveries:
                outbox += [delivery.id, codec.dumps(delivery.to_json())]
            for write in result.elsewhere:
                if write.conversation_id == conversation_id:
                    raise ValueError("TurnResult.elsewhere names the turn's own conversation")
                outbox += [write.conversation_id, str(len(write.events))]
                outbox += [codec.event_json(event, now) for event in write.events]
            reply = await self._run(
                "COMMIT_TURN",
                conversation_id,
                codec.num(now),
                conversation.status.value,
                conversation.channel,
                conversation.address,
                conversation.thread_hint,
                handled_seq,
                "0" if result.state is None else "1",
                "" if result.state is None else codec.dumps(dict(result.state)),
                "" if result.status is None else result.status.value,
                "" if result.priority is None else int(result.priority),
                len(new_events),
                len(deliveries),
                codec.num(now + lease),
                "" if fence is None else fence,
                release,
                *(codec.event_json(event, now) for event in new_events),
                *outbox,
                keys=self._commit_keys(conversation, result, deliveries),
            )
            if reply[0] == "fenced":
                raise LeaseLost(f"conversation {conversation_id}: lease {fence} is no longer held")
            if reply[0] == "missing":
                raise KeyError(conversation_id)
            if reply[0] == "conflict":
                continue  # a new inbound moved the conversation; rebuild from a fresh read
            if held and str(reply[3]) == "1":
                held.released = True
            first = int(reply[1])
            appended = tuple(
                Event(
                    conversation_id=conversation_id, seq=first + i, type=e.type, at=now, data=e.data
                )
                for i, e in enumerate(new_events)
            )
            last = first + len(new_events) - 1
            placed = tuple(
                replace(delivery, seq=last - len(deliveries) + 1 + i)
                for i, delivery in enumerate(deliveries)
            )
            if placed:
                self._queued(conversation_id, *(delivery.id for delivery in placed))
            lead = None
            if placed and str(reply[2]) == "1":
                lead = replace(placed[0], next_attempt_at=now + lease)
                placed = (lead, *placed[1:])
            return TurnCommit(
                events=appended,
                deliveries=placed,
                lead=lead,
                elsewhere=_elsewhere(result, reply[4:], now),
            )
        raise Contention(f"conversation {conversation_id} kept changing during commit_turn")

    def _commit_keys(
        self, conversation: Conversation, result: TurnResult, deliveries: Sequence[Delivery]
    ) -> list[str]:
        """What `COMMIT_TURN` touches. The customer's thread key is this process's last
        sight of it: wrong (or not known), the script refuses a status change, and the
        retry reads the conversation afresh."""
        customer_id, thread_key = self._owners.get(conversation.id) or ("", "")
        if customer_id != conversation.customer_id:
            thread_key = ""
        outbox, _, lane = self.keys.outbox(conversation.id)
        status = conversation.status.value
        return [
            *self.keys.conversation(conversation.id),
            lane,
            outbox,
            self.keys.pending(),
            self.keys.lease(conversation.id)[0],
            self.keys.by_status(status),
            self.keys.by_status(result.status.value if result.status else status),
            *self.keys.open_conversations(conversation.customer_id, thread_key),
            *(self.keys.delivery(delivery.id) for delivery in deliveries),
            *(k for w in result.elsewhere for k in self.keys.conversation(w.conversation_id)),
        ]

    async def append_events(
        self, conversation_id: str, events: Sequence[NewEvent], *, now: float
    ) -> tuple[Event, ...]:
        first = int(
            await self._run(
                "APPEND_EVENTS",
                conversation_id,
                codec.num(now),
                *(codec.event_json(event, now) for event in events),
                keys=self.keys.conversation(conversation_id),
            )
        )
        if first < 0:
            raise KeyError(conversation_id)
        return tuple(
            Event(conversation_id=conversation_id, seq=first + i, type=e.type, at=now, data=e.data)
            for i, e in enumerate(events)
        )

    async def pending_conversations(self) -> list[str]:
        return [codec.text(i) for i in await self.redis.zrangebylex(self.keys.pending(), "-", "+")]

    def conversation_lock(self, conversation_id: str) -> AbstractAsyncContextManager[Lease]:
        return self._lease(f"conv:{conversation_id}")

    @asynccontextmanager
    async def _lease(self, key: str) -> AsyncIterator[Lease]:
        if self._locks is None:
            raise RuntimeError("store is not open")
        async with self._locks.hold(key) as held:
            yield Lease(fence=held.fence)

    @asynccontextmanager
    async def turn_lease(
        self, conversation_id: str, *, limit: int
    ) -> AsyncIterator[tuple[Lease, TurnContext]]:
        """The lease taken with the message (`record_inbound_and_lease`), or else the lease
        and the turn context in one script (`TURN_LEASE`), retried while another process
        holds the conversation; the commit that leaves nothing pending frees it
        (`COMMIT_TURN`), unless the context was full (the runner reads on)."""
        if self._locks is None:
            raise RuntimeError("store is not open")

        async def take(_: str, token: str, ttl_ms: int) -> tuple[int, TurnContext] | None:
            customer_id = self._customer_guess(conversation_id)
            keys = self._context_keys(conversation_id, customer_id)
            keys += self.keys.lease(conversation_id)
            reply = await self._run("TURN_LEASE", conversation_id, token, ttl_ms, limit, keys=keys)
            if not int(reply[0]):
                return None
            return int(reply[0]), await self._turn_context(reply[1:], customer_id)

        async def adopt(read: object) -> TurnContext:
            """The context read with the lease when the message was stored, if it was read
            for this limit (the turn runner's always is); else a fresh read."""
            read_limit, context = cast(tuple[int, TurnContext], read)
            if read_limit == limit:
                return context
            return await self.turn_context(conversation_id, limit=limit)

        lock = self._locks.hold_with(f"conv:{conversation_id}", take, adopt)
        async with lock as (held, context):
            held.releasable = context is not None and len(context[1]) < limit
            yield Lease(fence=held.fence), context

    # ------------------------------------------------------------------ reads
    async def get_conversation(self, conversation_id: str) -> Conversation | None:
        fields = await self.redis.hgetall(self.keys.conversation(conversation_id)[0])
        return (
            self._seen({codec.text(k): codec.text(v) for k, v in fields.items()})
            if fields
            else None
        )

    async def list_conversations(
        self, *, limit: int, cursor: str | None = None, status: ConversationStatus | None = None
    ) -> Page:
        index = "conversations" if status is None else f"conversations:{status.value}"
        top = f"({cursor}" if cursor else "+"
        found = await self.redis.zrevrangebylex(self.keys.listing(index), top, "-", 0, limit + 1)
        ids = [codec.text(i) for i in found]
        return _page(ids, limit, await self._conversations(ids[:limit]))

    async def _conversations(self, ids: Sequence[str]) -> list[Conversation]:
        """The conversations `ids` name, in that order, read in one pipelined round trip
        (a listing reads ids first, then the records, so each read names its keys)."""
        hashes = await self._read_each("hgetall", [self.keys.conversation(i)[0] for i in ids])
        return [codec.conversation(fields) for fields in hashes if fields]

    async def _read_each(self, command: str, keys: Sequence[str], *args: Any) -> list[Any]:
        """One read command (`get`, `hgetall`, `hmget` with `args`) of each key, pipelined,
        not atomic: a record that went in between reads as missing (None, or an empty hash)."""
        if not keys:
            return []
        async with self.redis.pipeline(transaction=False) as pipe:
            for key in keys:
                getattr(pipe, command)(key, *args)
            return list(await pipe.execute())

    async def events(
        self, conversation_id: str, *, after_seq: int = 0, limit: int = 100
    ) -> list[Event]:
        if limit == 0:
            return []
        start = max(after_seq, 0)
        stop = -1 if limit < 0 else start + limit - 1
        stored = await self.redis.lrange(self.keys.conversation(conversation_id)[1], start, stop)
        return [
            codec.event(conversation_id, start + 1 + i, codec.text(s)) for i, s in enumerate(stored)
        ]

    async def turn_context(
        self, conversation_id: str, *, limit: int
    ) -> tuple[Conversation, list[Event], Customer | None] | None:
        customer_id = self._customer_guess(conversation_id)
        keys = self._context_keys(conversation_id, customer_id)
        reply = await self._run("TURN_CONTEXT", conversation_id, limit, keys=keys)
        return await self._turn_context(reply, customer_id)

    def _customer_guess(self, conversation_id: str) -> str:
        """The conversation's customer as this process last saw it ('' if never)."""
        return (self._owners.get(conversation_id) or ("", ""))[0]

    def _context_keys(self, conversation_id: str, customer_id: str) -> list[str]:
        return [*self.keys.conversation(conversation_id), self.keys.customer(customer_id)]

    async def _turn_context(self, reply: Sequence[Any], customer_id: str) -> TurnContext:
        """The turn context from its script's reply ({} for an unknown conversation). A
        customer other than the guessed `customer_id` (after a merge) is read here."""
        if not reply:
            return None
        fields, stored, customer = reply
        conversation = self._seen(codec.pairs(fields))
        start = conversation.handled_seq
        events = [
            codec.event(conversation.id, start + 1 + i, codec.text(s)) for i, s in enumerate(stored)
        ]
        if customer:
            return conversation, events, Customer.from_json(jsonio.stored(customer))
        if conversation.customer_id != customer_id:  # not the key it was handed: unread
            return conversation, events, await self.get_customer(conversation.customer_id)
        return conversation, events, None

    async def get_customer(self, customer_id: str) -> Customer | None:
        (stored,) = await self.customer_records((customer_id,))
        return Customer.from_json(jsonio.stored(stored)) if stored else None

    async def customer_records(self, customer_ids: Sequence[str]) -> list[str | None]:
        """The customers' records as stored (their JSON text; None for one that is not
        there), in one read: every customer's key is on the store's slot."""
        if not customer_ids:
            return []
        found = await self.redis.mget([self.keys.customer(c) for c in customer_ids])
        return [None if record is None else codec.text(record) for record in found]

    async def latest_conversation(self, customer_id: str) -> Conversation | None:
        """The newest unresolved conversation, else the newest one (conversations are never
        deleted, so the one read first is there to read)."""
        customer = self.keys.customer(customer_id)
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.zrevrangebylex(f"{customer}:open", "+", "-", 0, 1)
            pipe.zrevrangebylex(f"{customer}:conversations", "+", "-", 0, 1)
            opened, every = await pipe.execute()
        found = await self._conversations([codec.text(i) for i in (opened or every)[:1]])
        return found[0] if found else None

    async def find_customer(self, identity: str) -> Customer | None:
        """The identity's customer: its id, then its record; a merge in between moves the
        identity to the customer kept, so a record gone meanwhile is looked up again."""
        named = None
        for _ in range(lua.TURN_PATH_ATTEMPTS):
            customer_id = await self.redis.get(self.keys.identity(identity))
            if customer_id is None or customer_id == named:
                return None
            named = customer_id
            found = await self.get_customer(codec.text(customer_id))
            if found is not None:
                return found
        raise Contention(f"identity {identity!r} kept changing during find_customer")

    async def list_customers(self, *, limit: int, cursor: str | None = None) -> Page:
        top = f"({cursor}" if cursor else "+"
        found = await self.redis.zrevrangebylex(
            self.keys.listing("customers"), top, "-", 0, limit + 1
        )
        ids = [codec.text(i) for i in found]
        stored = await self._read_each("get", [self.keys.customer(i) for i in ids[:limit]])
        items = [Customer.from_json(jsonio.stored(row)) for row in stored if row]
        return _page(ids, limit, items)


def _page(ids: Sequence[str], limit: int, items: Sequence[Any]) -> Page:
    """A page of the records of `ids[:limit]` (`limit + 1` ids were read: one more means
    another page). The cursor is the last id listed, even if its record went meanwhile."""
    more = 0 < limit < len(ids)
    return Page(items=list(items), next_cursor=codec.text(ids[limit - 1]) if more else None)


def _elsewhere(result: TurnResult, firsts: Sequence[Any], now: float) -> tuple[Event, ...]:
    """The events `COMMIT_TURN` appended to other conversations, from the first seq it
    gave each (-1: the conversation is gone, nothing was appended)."""
    return tuple(
        Event(
            conversation_id=write.conversation_id,
            seq=int(first) + i,
            type=e.type,
            at=now,
            data=e.data,
        )
        for write, first in zip(result.elsewhere, firsts, strict=True)
        if int(first) > 0
        for i, e in enumerate(write.events)
    )
