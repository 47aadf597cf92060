"""The embedded store: one SQLite file in WAL mode, zero setup.

Every method runs its SQL synchronously on the event loop. That is on purpose: each takes
tens of microseconds, and running it without an `await` inside makes it atomic with respect
to every other coroutine of the process. The writes of the turn path are group-committed
(`hub.store_sqlite_batch`): those of concurrent coroutines share one transaction, and each
returns only once it has committed. A process killed mid-way
loses nothing committed (WAL with synchronous=NORMAL survives a process crash).
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Collection, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace
from functools import partial
from typing import Any

from hub import jsonio
from hub.abc import TurnResult
from hub.errors import LeaseLost
from hub.ids import new_id
from hub.locks import Lease
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
from hub.ports import Backend, Delivered, Ingested, Page, Rescheduled, TurnCommit, policy
from hub.ports.leases import Leases, TurnContext
from hub.store_common import (
    conversation_update_events,
    failed_delivery,
    redriven_delivery,
    reply_event_and_delivery,
)
from hub.store_sqlite_base import _dumps
from hub.store_sqlite_identity import SQLiteIdentity
from hub.store_sqlite_rows import LazyJSON


class SQLiteStore(SQLiteIdentity, Backend):
    """`sqlite:///path/to/file.db` (relative paths are relative to the working directory).

    Every method runs synchronously on the event loop, the turn path's writes in group
    commits: see `hub.store_sqlite_base`. The identity methods live in `hub.store_sqlite_identity`.
    """

    # ------------------------------------------------------------------ write path
    async def record_inbound(self, inbound: Inbound, *, now: float) -> Ingested:
        ingested, _ = await self._write(partial(self._record_inbound, inbound, now, False))
        return ingested

    async def record_inbound_and_lease(
        self, inbound: Inbound, *, now: float, limit: int
    ) -> Ingested:
        """`record_inbound`; when the message starts a turn and nobody holds the
        conversation, also its turn lease with the turn context, both from the write
        itself, which the turn runner adopts (`hub.store_sqlite_leases`) instead of taking
        the lock and reading the context."""
        starts_turn = inbound.kind == InboundKind.MESSAGE
        write = partial(self._record_inbound, inbound, now, starts_turn)
        ingested, unanswered = await self._write(write)
        if unanswered and len(unanswered) < limit:
            await self._adopted.offer(ingested, unanswered)
        return ingested

    @asynccontextmanager
    async def turn_lease(
        self, conversation_id: str, *, limit: int
    ) -> AsyncIterator[tuple[Lease, TurnContext]]:
        """The lease and context taken with the message, or else the lock, then a read
        (decided on entering, so a lease is only ever adopted by a block that frees it)."""
        adopted = self._adopted.adopt(conversation_id, limit=limit)
        async with adopted or Leases.turn_lease(self, conversation_id, limit=limit) as taken:
            yield taken

    def _record_inbound(
        self, inbound: Inbound, now: float, unanswered: bool, db: sqlite3.Connection
    ) -> tuple[Ingested, list[Event] | None]:
        """The write of `record_inbound`; with `unanswered`, also the events a turn
        starting now answers (the message, after a new conversation's opening), or None
        when another message is waiting for a turn too."""
        # Whether the message was stored already, and the sender's customer (identity →
        # row), in one statement: one row either way, NULLs for what is not there.
        conversation_id, seq, customer_id, customer_data = db.execute(
            "SELECT dedupe.conversation_id, dedupe.seq, customers.id, customers.data"
            " FROM (SELECT 1)"
            " LEFT JOIN dedupe ON dedupe.channel = ? AND dedupe.message_id = ?"
            " LEFT JOIN identities ON identities.identity = ?"
            " LEFT JOIN customers ON customers.id = identities.customer_id",
            (inbound.channel, inbound.message_id, inbound.identity),
        ).fetchone()
        if conversation_id is not None:
            seen = (conversation_id, seq)
            conversation = self._load_conversation(db, seen[0])
            assert conversation is not None
            customer = self._load_customer(db, conversation.customer_id)
            assert customer is not None
            row = db.execute(
                "SELECT type, at, data FROM events WHERE conversation_id = ? AND seq = ?", seen
            ).fetchone()
            event = Event(
                conversation_id=seen[0],
                seq=seen[1],
                type=row[0],
                at=row[1],
                data=jsonio.stored(row[2]),
            )
            ingested = Ingested(
                conversation=conversation, customer=customer, event=event, duplicate=True
            )
            return ingested, None

        customer = (
            self._customers.decode(customer_id, customer_data) if customer_id is not None else None
        )
        if customer is None:
            customer = Customer(id=new_id("cus"), identities=(inbound.identity,), created_at=now)
            text = _dumps(customer.to_json())
            db.execute("INSERT INTO customers (id, data) VALUES (?, ?)", (customer.id, text))
            self._customers.keep(customer.id, text, customer)
            db.execute(
                "INSERT INTO identities (identity, customer_id) VALUES (?, ?)",
                (inbound.identity, customer.id),
            )

        # The conversation the customer moved last (after a merge they may have two).
        row = db.execute(
            "SELECT id, data FROM conversations WHERE customer_id = ? AND thread_key = ?"
            " AND status != 'resolved'"
            " ORDER BY json_extract(data, '$.updated_at') DESC, id DESC LIMIT 1",
            (customer.id, inbound.thread_key),
        ).fetchone()
        opening: list[NewEvent] = []
        found_open = self._conversations.decode(row[0], row[1]) if row else None
        if found_open is not None and not self._continues(found_open, inbound, now):
            found_open = None
        if found_open is None and inbound.thread_key:
            found_open = self._continued_across_channels(db, customer.id, inbound, now)
        before = found_open or Conversation(
            id=new_id("con"),
            customer_id=customer.id,
            status=ConversationStatus.BOT,
            channel=inbound.channel,
            address=inbound.sender,
            created_at=now,
        )
        if found_open is None:
            opening.append(NewEvent(type=EventType.OPENED, data={"channel": inbound.channel}))
        appended = self._insert_events(
            db,
            before,
            [*opening, NewEvent(type=inbound.event_type, data=inbound.to_json())],
            now,
        )
        event = appended[-1]
        # One copy of the conversation for the whole write: the address it was last
        # reached at, and its log moved on.
        conversation = replace(
            before,
            channel=inbound.channel,
            address=inbound.sender,
            thread_hint=inbound.thread_hint,
            last_seq=event.seq,
            updated_at=now,
        )
        inbound_seq = event.seq if inbound.kind == InboundKind.MESSAGE else None
        if found_open is None:
            self._save_conversation(db, conversation, inbound_seq=inbound_seq)
        else:
            self._update_conversation(db, conversation, before, inbound_seq=inbound_seq)
        if opening:
            db.execute(
                "UPDATE conversations SET thread_key = ? WHERE id = ?",
                (inbound.thread_key, conversation.id),
            )
        db.execute(
            "INSERT INTO dedupe (channel, message_id, conversation_id, seq) VALUES (?, ?, ?, ?)",
            (inbound.channel, inbound.message_id, conversation.id, event.seq),
        )
        ingested = Ingested(
            conversation=conversation, customer=customer, event=event, duplicate=False
        )
        if not unanswered:
            return ingested, None
        if found_open is None:  # a new conversation: its opening and the message
            return ingested, appended
        # Any other message after `handled_seq` is waiting for a turn already (one that
        # failed, or a restart's): the turn runner reads them all from the log.
        (earlier,) = db.execute(
            "SELECT EXISTS (SELECT 1 FROM events WHERE conversation_id = ? AND seq > ?"
            " AND seq < ? AND type = ?)",
            (conversation.id, before.handled_seq, event.seq, EventType.MESSAGE_IN),
        ).fetchone()
        return ingested, None if earlier else [event]

    def _continued_across_channels(
        self, db: sqlite3.Connection, customer_id: str, inbound: Inbound, now: float
    ) -> Conversation | None:
        """A new thread (a new email) from a customer who has a recent open conversation on
        a channel without threads (linked web chat, Telegram …) continues that one."""
        row = db.execute(
            "SELECT data FROM conversations WHERE customer_id = ? AND thread_key = ''"
            " AND status != 'resolved'"
            " ORDER BY json_extract(data, '$.updated_at') DESC, id DESC LIMIT 1",
            (customer_id,),
        ).fetchone()
        if row is None:
            return None
        conversation = Conversation.from_json(jsonio.stored(row[0]))
        # Only a conversation opened on another channel: the api channel's own threads stay
        # apart from its unthreaded messages. The log starts with conversation.opened.
        opened = db.execute(
            "SELECT data FROM events WHERE conversation_id = ? AND seq = 1", (conversation.id,)
        ).fetchone()
        if opened is None:
            return None
        continues = policy.continues_across_channels(
            jsonio.stored(opened[0]).get("channel", ""),
            conversation.updated_at,
            channel=inbound.channel,
            now=now,
            window=self.continuity_window,
        )
        return conversation if continues else None

    def _continues(self, conversation: Conversation, inbound: Inbound, now: float) -> bool:
        return policy.continues_thread(
            conversation.channel,
            conversation.updated_at,
            channel=inbound.channel,
            now=now,
            window=self.continuity_window,
        )

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
        def work(db: sqlite3.Connection) -> TurnCommit:
            if fence is not None:
                self._check_fence(db, f"conv:{conversation_id}", fence)
            # The conversation, and whether any of its replies is still waiting to go (the
            # first reply is leased to the caller only if none is: else it queues behind
            # them), in one statement.
            row = db.execute(
                "SELECT data, EXISTS (SELECT 1 FROM outbox WHERE conversation_id = ?1"
                " AND parked_at IS NULL) FROM conversations WHERE id = ?1",
                (conversation_id,),
            ).fetchone()
            if row is None:
                raise KeyError(conversation_id)
            before = self._conversations.decode(conversation_id, row[0])
            waiting = bool(row[1])
            logged = [*result.events, *conversation_update_events(before, result)]
            # Each reply's entry made once, at the seq its event is about to get.
            first_reply_seq = before.last_seq + len(logged) + 1
            replies = [
                reply_event_and_delivery(
                    before,
                    outbound,
                    now=now,
                    route=route,
                    seq=first_reply_seq + index,
                    due=now + lease if index == 0 and not waiting else now,
                )
                for index, outbound in enumerate(result.replies)
            ]
            queued = (route.channel if route else before.channel) not in read_from_log
            deliveries = [delivery for _, delivery in replies] if queued else []
            # Every event of the turn in one statement: the logged ones, then the replies.
            appended = self._insert_events(
                db, before, [*logged, *(event for event, _ in replies)], now
            )
            db.executemany(
                "INSERT INTO outbox (id, next_attempt_at, data, conversation_id, seq)"
                " VALUES (?, ?, ?, ?, ?)",
                [
                    (d.id, d.next_attempt_at, _dumps(d.to_json()), conversation_id, d.seq)
                    for d in deliveries
                ],
            )
            conversation = replace(
                before,
                last_seq=appended[-1].seq if appended else before.last_seq,
                updated_at=now,
                handled_seq=max(before.handled_seq, handled_seq),
                # A copy: the stored object must not change with the owner's dict.
                state=dict(result.state) if result.state is not None else before.state,
                status=result.status or before.status,
                priority=result.priority if result.priority is not None else before.priority,
            )
            self._update_conversation(db, conversation, before)
            lead = deliveries[0] if deliveries and not waiting else None
            return TurnCommit(
                events=tuple(appended),
                deliveries=tuple(deliveries),
                lead=lead,
                elsewhere=self._log_elsewhere(db, conversation_id, result, now),
            )

        return await self._write(work)

    def _log_elsewhere(
        self, db: sqlite3.Connection, conversation_id: str, result: TurnResult, now: float
    ) -> tuple[Event, ...]:
        """A turn's events for other conversations, in the turn's own transaction."""
        appended: list[Event] = []
        for write in result.elsewhere:
            if write.conversation_id == conversation_id:
                raise ValueError("TurnResult.elsewhere names the turn's own conversation")
            other = self._load_conversation(db, write.conversation_id)
            if other is not None:
                appended += self._log(db, other, write.events, now)[1]
        return tuple(appended)

    async def append_events(
        self, conversation_id: str, events: Sequence[NewEvent], *, now: float
    ) -> tuple[Event, ...]:
        def work(db: sqlite3.Connection) -> tuple[Event, ...]:
            conversation = self._load_conversation(db, conversation_id)
            if conversation is None:
                raise KeyError(conversation_id)
            _, appended = self._log(db, conversation, events, now)
            return tuple(appended)

        return await self._write(work)

    @staticmethod
    def _check_fence(db: sqlite3.Connection, name: str, fence: int) -> None:
        """Refuse a commit under an older lease than one that committed already; else
        remember this one (in the commit's transaction)."""
        # One statement: the highest fence is kept, and a higher one than ours means
        # someone else committed under a later lease (the write is rolled back with ours).
        (highest,) = db.execute(
            "INSERT INTO leases (name, fence) VALUES (?, ?) ON CONFLICT (name)"
            " DO UPDATE SET fence = max(fence, excluded.fence) RETURNING fence",
            (name, fence),
        ).fetchone()
        if int(highest) > fence:
            raise LeaseLost(f"{name}: lease {fence} was superseded by {highest}")

    async def pending_conversations(self) -> list[str]:
        rows = self.db.execute(
            "SELECT id FROM conversations WHERE inbound_seq > handled_seq ORDER BY id"
        ).fetchall()
        return [row[0] for row in rows]

    @asynccontextmanager
    async def conversation_lock(self, conversation_id: str) -> AsyncIterator[Lease]:
        # One process owns an SQLite file, so a process-local lock is ownership enough and
        # costs no write. Its fence is this open's epoch (counted in the file) above a
        # counter, so fences grow across restarts; a commit records the highest fence it
        # saw, so a second process that opened the same file by mistake loses its commits
        # once someone with a later lease has committed, instead of interleaving with them.
        async with self._locks.hold(conversation_id):
            yield Lease(fence=self._next_fence())

    # ------------------------------------------------------------------ outbox
    # A conversation's head: its outstanding entry with the lowest seq. Only heads are sent.
    _HEAD = (
        "parked_at IS NULL AND NOT EXISTS (SELECT 1 FROM outbox AS earlier"
        " WHERE earlier.conversation_id = outbox.conversation_id"
        " AND earlier.parked_at IS NULL AND earlier.seq < outbox.seq)"
    )

    async def claim_deliveries(self, *, now: float, limit: int, lease: float) -> list[Delivery]:
        def work(db: sqlite3.Connection) -> list[Delivery]:
            rows = db.execute(
                f"SELECT data, parts FROM outbox WHERE next_attempt_at <= ? AND {self._HEAD}"
                " ORDER BY next_attempt_at LIMIT ?",
                (now, limit),
            ).fetchall()
            claimed = [_delivery(data, parts) for data, parts in rows]
            db.executemany(
                "UPDATE outbox SET next_attempt_at = ? WHERE id = ?",
                [(now + lease, d.id) for d in claimed],
            )
            return claimed

        return await self._write(work)

    async def claim_next(
        self, conversation_id: str, *, now: float, lease: float
    ) -> Delivery | None:
        def work(db: sqlite3.Connection) -> Delivery | None:
            return self._claim_head(db, conversation_id, now=now, lease=lease)

        return await self._write(work)

    # The conversation's head (or NULLs): its data, parts and due time.
    _LANE_HEAD = (
        "SELECT data, parts, next_attempt_at FROM outbox"
        " WHERE conversation_id = ?1 AND parked_at IS NULL ORDER BY seq LIMIT 1"
    )

    def _claim_head(
        self, db: sqlite3.Connection, conversation_id: str, *, now: float, lease: float
    ) -> Delivery | None:
        head = db.execute(self._LANE_HEAD, (conversation_id,)).fetchone()
        return self._lease_head(db, head, now=now, lease=lease)

    @staticmethod
    def _lease_head(
        db: sqlite3.Connection, head: Sequence[Any] | None, *, now: float, lease: float
    ) -> Delivery | None:
        """Lease the head read as (data, parts, next_attempt_at) to the caller if it is due."""
        if head is None or head[0] is None or head[2] > now:
            return None
        claimed = _delivery(head[0], head[1])
        db.execute("UPDATE outbox SET next_attempt_at = ? WHERE id = ?", (now + lease, claimed.id))
        return claimed

    async def record_delivered(
        self, delivery: Delivery, *, receipt: Mapping[str, Any], now: float, lease: float = 0.0
    ) -> Delivered:
        def work(db: sqlite3.Connection) -> Delivered:
            gone = db.execute("DELETE FROM outbox WHERE id = ?", (delivery.id,)).rowcount
            if not gone:
                return Delivered()  # already recorded by an earlier, duplicated delivery
            # The conversation the receipt is logged in and the reply that is now its head,
            # in one statement (one row either way: NULLs for what is missing).
            row = db.execute(
                "SELECT conversation.data, head.data, head.parts, head.next_attempt_at"
                " FROM (SELECT 1) LEFT JOIN conversations AS conversation"
                " ON conversation.id = ?1"
                f" LEFT JOIN ({self._LANE_HEAD}) AS head",
                (delivery.conversation_id,),
            ).fetchone()
            following = self._lease_head(db, row[1:], now=now, lease=lease) if lease else None
            if row[0] is None:
                return Delivered(following=following)
            conversation = self._conversations.decode(delivery.conversation_id, row[0])
            data = {
                "delivery_id": delivery.id,
                "seq": delivery.seq,
                "attempts": delivery.attempts + 1,
                "receipt": dict(receipt),
            }
            new = [NewEvent(type=EventType.DELIVERED, data=data)]
            _, (logged,) = self._log(db, conversation, new, now)
            return Delivered(event=logged, following=following)

        return await self._write(work)

    async def record_failure(
        self,
        delivery: Delivery,
        *,
        error: str,
        retry_at: float | None,
        now: float,
        throttled: bool = False,
    ) -> Rescheduled:
        updated, event = failed_delivery(
            delivery, error=error, retry_at=retry_at, now=now, throttled=throttled
        )

        def work(db: sqlite3.Connection) -> Rescheduled:
            db.execute(
                "UPDATE outbox SET next_attempt_at = ?, parked_at = ?, data = ? WHERE id = ?",
                (
                    updated.next_attempt_at,
                    None if retry_at is not None else now,
                    _dumps(updated.to_json()),
                    delivery.id,
                ),
            )
            conversation = self._load_conversation(db, delivery.conversation_id)
            if conversation is None:
                return Rescheduled(delivery=updated)
            _, (logged,) = self._log(db, conversation, [event], now)
            return Rescheduled(delivery=updated, event=logged)

        return await self._write(work)

    async def delivery_progress(self, delivery_id: str, parts_sent: Sequence[str]) -> None:
        def work(db: sqlite3.Connection) -> None:
            db.execute(
                "UPDATE outbox SET parts = ? WHERE id = ?", (_dumps(list(parts_sent)), delivery_id)
            )

        await self._write(work)

    async def dead_letters(self, *, limit: int, cursor: str | None = None) -> Page:
        rows = self.db.execute(
            "SELECT id, data, parts FROM outbox WHERE parked_at IS NOT NULL AND id > ?"
            " ORDER BY id LIMIT ?",
            (cursor or "", limit + 1),
        ).fetchall()
        items = [_delivery(row[1], row[2]) for row in rows[:limit]]
        return Page(items=items, next_cursor=items[-1].id if len(rows) > limit else None)

    async def record_redrive(self, delivery_id: str, *, now: float) -> Rescheduled:
        def work(db: sqlite3.Connection) -> Rescheduled:
            row = db.execute(
                "SELECT data, parts FROM outbox WHERE id = ? AND parked_at IS NOT NULL",
                (delivery_id,),
            ).fetchone()
            if row is None:
                return Rescheduled()
            delivery = redriven_delivery(_delivery(row[0], row[1]), now=now)
            db.execute(
                "UPDATE outbox SET parked_at = NULL, next_attempt_at = ?, data = ? WHERE id = ?",
                (now, _dumps(delivery.to_json()), delivery_id),
            )
            conversation = self._load_conversation(db, delivery.conversation_id)
            if conversation is None:
                return Rescheduled(delivery=delivery)
            event = NewEvent(
                type=EventType.DELIVERY_REDRIVEN,
                data={"delivery_id": delivery_id, "seq": delivery.seq},
            )
            _, (logged,) = self._log(db, conversation, [event], now)
            return Rescheduled(delivery=delivery, event=logged)

        return await self._write(work)

    # ------------------------------------------------------------------ reads
    async def get_conversation(self, conversation_id: str) -> Conversation | None:
        return self._load_conversation(self.db, conversation_id)

    async def list_conversations(
        self, *, limit: int, cursor: str | None = None, status: ConversationStatus | None = None
    ) -> Page:
        query = "SELECT id, data FROM conversations WHERE id < ?"
        args: list[Any] = [cursor or "\uffff"]
        if status is not None:
            query += " AND status = ?"
            args.append(status.value)
        rows = self.db.execute(query + " ORDER BY id DESC LIMIT ?", (*args, limit + 1)).fetchall()
        items = [Conversation.from_json(jsonio.stored(row[1])) for row in rows[:limit]]
        return Page(items=items, next_cursor=items[-1].id if len(rows) > limit else None)

    async def events(
        self, conversation_id: str, *, after_seq: int = 0, limit: int = 100
    ) -> list[Event]:
        return self._events(conversation_id, after_seq, limit)

    async def turn_context(
        self, conversation_id: str, *, limit: int
    ) -> tuple[Conversation, list[Event], Customer | None] | None:
        # The reads in one step: no await between them, so they see one state. The
        # conversation and its customer in one statement; the events after its watermark.
        row = self.db.execute(
            "SELECT conversations.data, customers.data FROM conversations"
            " LEFT JOIN customers ON customers.id = conversations.customer_id"
            " WHERE conversations.id = ?",
            (conversation_id,),
        ).fetchone()
        if row is None:
            return None
        conversation = self._conversations.decode(conversation_id, row[0])
        events = self._events(conversation_id, conversation.handled_seq, limit, lazy=True)
        customer = (
            self._customers.decode(conversation.customer_id, row[1]) if row[1] is not None else None
        )
        return conversation, events, customer

    def _events(
        self, conversation_id: str, after_seq: int, limit: int, *, lazy: bool = False
    ) -> list[Event]:
        """The events after `after_seq`; with `lazy`, only customer messages are decoded
        now (what a turn answers), the others when read (`LazyJSON`)."""
        rows = self.db.execute(
            "SELECT seq, type, at, data FROM events WHERE conversation_id = ? AND seq > ? ORDER BY seq LIMIT ?",
            (conversation_id, after_seq, limit),
        ).fetchall()
        return [
            Event(
                conversation_id=conversation_id,
                seq=seq,
                type=kind,
                at=at,
                data=LazyJSON(data)
                if lazy and kind != EventType.MESSAGE_IN
                else jsonio.stored(data),
            )
            for seq, kind, at, data in rows
        ]

    async def get_customer(self, customer_id: str) -> Customer | None:
        return self._load_customer(self.db, customer_id)

    async def latest_conversation(self, customer_id: str) -> Conversation | None:
        row = self.db.execute(
            "SELECT data FROM conversations WHERE customer_id = ?"
            " ORDER BY status != 'resolved' DESC, id DESC LIMIT 1",
            (customer_id,),
        ).fetchone()
        return Conversation.from_json(jsonio.stored(row[0])) if row else None

    async def find_customer(self, identity: str) -> Customer | None:
        row = self.db.execute(
            "SELECT customer_id FROM identities WHERE identity = ?", (identity,)
        ).fetchone()
        return self._load_customer(self.db, row[0]) if row else None

    async def list_customers(self, *, limit: int, cursor: str | None = None) -> Page:
        rows = self.db.execute(
            "SELECT id, data FROM customers WHERE id < ? ORDER BY id DESC LIMIT ?",
            (cursor or "\uffff", limit + 1),
        ).fetchall()
        items = [Customer.from_json(jsonio.stored(row[1])) for row in rows[:limit]]
        return Page(items=items, next_cursor=items[-1].id if len(rows) > limit else None)


def _delivery(data: str, parts: str) -> Delivery:
    """An outbox row → `Delivery`; the parts sent live in a column of their own, so that
    recording a failure (which rewrites `data`) never forgets them."""
    return replace(
        Delivery.from_json(jsonio.stored(data)),
        parts_sent=tuple(str(p) for p in jsonio.stored(parts)),
    )
