"""The embedded store: one SQLite file in WAL mode, zero setup.

Every method runs one short transaction synchronously on the event loop. That is on
purpose: each takes tens of microseconds, and running it without an `await` inside makes
it atomic with respect to every other coroutine of the process. A process killed mid-way
loses nothing committed (WAL with synchronous=NORMAL survives a process crash).
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from hub import identity_records as records
from hub.abc import CustomerMerge, Ingested, Page, Store, TurnCommit, TurnResult
from hub.ids import new_id
from hub.locks import KeyedLock
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
)
from hub.store_common import (
    conversation_update_events,
    failed_delivery,
    reply_event_and_delivery,
)

log = logging.getLogger("frontdesk.store.sqlite")

SCHEMA = """
CREATE TABLE IF NOT EXISTS customers (
    id TEXT PRIMARY KEY, data TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS identities (
    identity TEXT PRIMARY KEY, customer_id TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL,
    status TEXT NOT NULL,
    inbound_seq INTEGER NOT NULL DEFAULT 0,
    handled_seq INTEGER NOT NULL DEFAULT 0,
    thread_key TEXT NOT NULL DEFAULT '',
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS conversations_pending ON conversations (id) WHERE inbound_seq > handled_seq;
CREATE INDEX IF NOT EXISTS conversations_by_customer
    ON conversations (customer_id, thread_key, status);
CREATE INDEX IF NOT EXISTS conversations_by_status ON conversations (status, id);
CREATE TABLE IF NOT EXISTS events (
    conversation_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    type TEXT NOT NULL,
    at REAL NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (conversation_id, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS dedupe (
    channel TEXT NOT NULL,
    message_id TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (channel, message_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS outbox (
    id TEXT PRIMARY KEY,
    next_attempt_at REAL NOT NULL,
    parked_at REAL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (next_attempt_at) WHERE parked_at IS NULL;
CREATE INDEX IF NOT EXISTS outbox_parked ON outbox (id) WHERE parked_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS identities_by_customer ON identities (customer_id);
CREATE TABLE IF NOT EXISTS merges (
    id TEXT PRIMARY KEY, kept_id TEXT NOT NULL, absorbed_id TEXT NOT NULL, data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS merges_by_kept ON merges (kept_id);
CREATE INDEX IF NOT EXISTS merges_by_absorbed ON merges (absorbed_id);
CREATE TABLE IF NOT EXISTS challenges (
    customer_id TEXT PRIMARY KEY, expires_at REAL NOT NULL, data TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS hits (
    key TEXT PRIMARY KEY, window_start REAL NOT NULL, count INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS audit (
    customer_id TEXT NOT NULL, n INTEGER NOT NULL, data TEXT NOT NULL,
    PRIMARY KEY (customer_id, n)
) WITHOUT ROWID;
"""


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class SQLiteStore(Store):
    """`sqlite:///path/to/file.db` (relative paths are relative to the working directory)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._db: sqlite3.Connection | None = None
        self._checkpointer: _Checkpointer | None = None
        self._locks = KeyedLock()
        # A customer writing from another channel continues their open conversation if it
        # moved within this many seconds; else a new one opens (None: always continue).
        self.continuity_window: float | None = 24 * 3600.0

    # ------------------------------------------------------------------ lifecycle
    async def open(self) -> None:
        if self.path.parent:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA busy_timeout=5000")
        # Checkpoints (which fsync) run on a thread of their own, never in a commit.
        db.execute("PRAGMA wal_autocheckpoint=0")
        # Erasure must leave no personal data in freed pages of the file.
        db.execute("PRAGMA secure_delete=ON")
        db.executescript(SCHEMA)
        self._db = db
        self._checkpointer = _Checkpointer(self.path)
        self._checkpointer.start()

    async def close(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.stop()
            self._checkpointer = None
        if self._db is not None:
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self._db.close()
            self._db = None

    @property
    def db(self) -> sqlite3.Connection:
        if self._db is None:
            raise RuntimeError("store is not open")
        return self._db

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    # ------------------------------------------------------------------ helpers
    def _load_conversation(
        self, db: sqlite3.Connection, conversation_id: str
    ) -> Conversation | None:
        row = db.execute(
            "SELECT data FROM conversations WHERE id = ?", (conversation_id,)
        ).fetchone()
        return Conversation.from_json(json.loads(row[0])) if row else None

    def _save_conversation(
        self, db: sqlite3.Connection, conversation: Conversation, inbound_seq: int | None = None
    ) -> None:
        db.execute(
            "INSERT INTO conversations (id, customer_id, status, handled_seq, data)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET"
            " customer_id = excluded.customer_id, status = excluded.status,"
            " handled_seq = excluded.handled_seq, data = excluded.data",
            (
                conversation.id,
                conversation.customer_id,
                conversation.status.value,
                conversation.handled_seq,
                _dumps(conversation.to_json()),
            ),
        )
        if inbound_seq is not None:
            db.execute(
                "UPDATE conversations SET inbound_seq = ? WHERE id = ?",
                (inbound_seq, conversation.id),
            )

    def _append(
        self,
        db: sqlite3.Connection,
        conversation: Conversation,
        new: Sequence[NewEvent],
        now: float,
    ) -> tuple[Conversation, list[Event]]:
        seq = conversation.last_seq
        appended = []
        for event in new:
            seq += 1
            appended.append(
                Event(
                    conversation_id=conversation.id,
                    seq=seq,
                    type=event.type,
                    at=now,
                    data=event.data,
                )
            )
        db.executemany(
            "INSERT INTO events (conversation_id, seq, type, at, data) VALUES (?, ?, ?, ?, ?)",
            [(e.conversation_id, e.seq, e.type, e.at, _dumps(dict(e.data))) for e in appended],
        )
        return replace(conversation, last_seq=seq, updated_at=now), appended

    def _load_customer(self, db: sqlite3.Connection, customer_id: str) -> Customer | None:
        row = db.execute("SELECT data FROM customers WHERE id = ?", (customer_id,)).fetchone()
        return Customer.from_json(json.loads(row[0])) if row else None

    # ------------------------------------------------------------------ write path
    async def record_inbound(self, inbound: Inbound, *, now: float) -> Ingested:
        with self._transaction() as db:
            seen = db.execute(
                "SELECT conversation_id, seq FROM dedupe WHERE channel = ? AND message_id = ?",
                (inbound.channel, inbound.message_id),
            ).fetchone()
            if seen:
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
                    data=json.loads(row[2]),
                )
                return Ingested(
                    conversation=conversation, customer=customer, event=event, duplicate=True
                )

            found = db.execute(
                "SELECT customer_id FROM identities WHERE identity = ?", (inbound.identity,)
            ).fetchone()
            customer = self._load_customer(db, found[0]) if found else None
            if customer is None:
                customer = Customer(
                    id=new_id("cus"), identities=(inbound.identity,), created_at=now
                )
                db.execute(
                    "INSERT INTO customers (id, data) VALUES (?, ?)",
                    (customer.id, _dumps(customer.to_json())),
                )
                db.execute(
                    "INSERT INTO identities (identity, customer_id) VALUES (?, ?)",
                    (inbound.identity, customer.id),
                )

            # The conversation the customer moved last (after a merge they may have two).
            row = db.execute(
                "SELECT data FROM conversations WHERE customer_id = ? AND thread_key = ?"
                " AND status != 'resolved'"
                " ORDER BY json_extract(data, '$.updated_at') DESC, id DESC LIMIT 1",
                (customer.id, inbound.thread_key),
            ).fetchone()
            opening: list[NewEvent] = []
            found_open = Conversation.from_json(json.loads(row[0])) if row else None
            if found_open is not None and not self._continues(found_open, inbound, now):
                found_open = None
            if found_open is not None:
                conversation = found_open
            else:
                conversation = Conversation(
                    id=new_id("con"),
                    customer_id=customer.id,
                    status=ConversationStatus.BOT,
                    channel=inbound.channel,
                    address=inbound.sender,
                    created_at=now,
                )
                opening.append(NewEvent(type=EventType.OPENED, data={"channel": inbound.channel}))
            conversation = replace(
                conversation,
                channel=inbound.channel,
                address=inbound.sender,
                thread_hint=inbound.thread_hint,
            )
            conversation, appended = self._append(
                db,
                conversation,
                [*opening, NewEvent(type=inbound.event_type, data=inbound.to_json())],
                now,
            )
            event = appended[-1]
            starts_turn = inbound.kind == InboundKind.MESSAGE
            self._save_conversation(
                db, conversation, inbound_seq=event.seq if starts_turn else None
            )
            if opening:
                db.execute(
                    "UPDATE conversations SET thread_key = ? WHERE id = ?",
                    (inbound.thread_key, conversation.id),
                )
            db.execute(
                "INSERT INTO dedupe (channel, message_id, conversation_id, seq) VALUES (?, ?, ?, ?)",
                (inbound.channel, inbound.message_id, conversation.id, event.seq),
            )
            return Ingested(
                conversation=conversation, customer=customer, event=event, duplicate=False
            )

    def _continues(self, conversation: Conversation, inbound: Inbound, now: float) -> bool:
        window = self.continuity_window
        return (
            window is None
            or conversation.channel == inbound.channel
            or now - conversation.updated_at <= window
        )

    async def commit_turn(
        self,
        conversation_id: str,
        *,
        handled_seq: int,
        result: TurnResult,
        now: float,
        lease: float,
    ) -> TurnCommit:
        with self._transaction() as db:
            conversation = self._load_conversation(db, conversation_id)
            if conversation is None:
                raise KeyError(conversation_id)
            new_events = [*result.events, *conversation_update_events(conversation, result)]
            conversation, appended = self._append(db, conversation, new_events, now)
            deliveries: list[Delivery] = []
            for outbound in result.replies:
                event_data, delivery = reply_event_and_delivery(
                    conversation, outbound, now=now, lease=lease
                )
                conversation, (event,) = self._append(db, conversation, [event_data], now)
                delivery = replace(delivery, seq=event.seq)
                appended.append(event)
                deliveries.append(delivery)
                db.execute(
                    "INSERT INTO outbox (id, next_attempt_at, data) VALUES (?, ?, ?)",
                    (delivery.id, delivery.next_attempt_at, _dumps(delivery.to_json())),
                )
            conversation = replace(
                conversation,
                handled_seq=max(conversation.handled_seq, handled_seq),
                state=result.state if result.state is not None else conversation.state,
                status=result.status or conversation.status,
                priority=result.priority if result.priority is not None else conversation.priority,
            )
            self._save_conversation(db, conversation)
            return TurnCommit(events=tuple(appended), deliveries=tuple(deliveries))

    async def append_events(
        self, conversation_id: str, events: Sequence[NewEvent], *, now: float
    ) -> tuple[Event, ...]:
        with self._transaction() as db:
            conversation = self._load_conversation(db, conversation_id)
            if conversation is None:
                raise KeyError(conversation_id)
            conversation, appended = self._append(db, conversation, events, now)
            self._save_conversation(db, conversation)
            return tuple(appended)

    async def pending_conversations(self) -> list[str]:
        rows = self.db.execute(
            "SELECT id FROM conversations WHERE inbound_seq > handled_seq ORDER BY id"
        ).fetchall()
        return [row[0] for row in rows]

    def conversation_lock(self, conversation_id: str) -> AbstractAsyncContextManager[None]:
        # One process owns an SQLite file, so a process-local lock is ownership enough.
        return self._locks.hold(conversation_id)

    # ------------------------------------------------------------------ outbox
    async def claim_deliveries(self, *, now: float, limit: int, lease: float) -> list[Delivery]:
        with self._transaction() as db:
            rows = db.execute(
                "SELECT data FROM outbox WHERE parked_at IS NULL AND next_attempt_at <= ?"
                " ORDER BY next_attempt_at LIMIT ?",
                (now, limit),
            ).fetchall()
            claimed = [Delivery.from_json(json.loads(row[0])) for row in rows]
            db.executemany(
                "UPDATE outbox SET next_attempt_at = ? WHERE id = ?",
                [(now + lease, d.id) for d in claimed],
            )
            return claimed

    async def delivery_succeeded(
        self, delivery: Delivery, *, receipt: Mapping[str, Any], now: float
    ) -> None:
        with self._transaction() as db:
            gone = db.execute("DELETE FROM outbox WHERE id = ?", (delivery.id,)).rowcount
            if not gone:
                return  # already recorded by an earlier, duplicated delivery
            conversation = self._load_conversation(db, delivery.conversation_id)
            if conversation is None:
                return
            data = {
                "delivery_id": delivery.id,
                "seq": delivery.seq,
                "attempts": delivery.attempts + 1,
                "receipt": dict(receipt),
            }
            conversation, _ = self._append(
                db, conversation, [NewEvent(type=EventType.DELIVERED, data=data)], now
            )
            self._save_conversation(db, conversation)

    async def delivery_failed(
        self, delivery: Delivery, *, error: str, retry_at: float | None, now: float
    ) -> Delivery:
        updated, event = failed_delivery(delivery, error=error, retry_at=retry_at, now=now)
        with self._transaction() as db:
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
            if conversation is not None:
                conversation, _ = self._append(db, conversation, [event], now)
                self._save_conversation(db, conversation)
        return updated

    async def dead_letters(self, *, limit: int, cursor: str | None = None) -> Page:
        rows = self.db.execute(
            "SELECT id, data FROM outbox WHERE parked_at IS NOT NULL AND id > ? ORDER BY id LIMIT ?",
            (cursor or "", limit + 1),
        ).fetchall()
        items = [Delivery.from_json(json.loads(row[1])) for row in rows[:limit]]
        return Page(items=items, next_cursor=items[-1].id if len(rows) > limit else None)

    async def redrive(self, delivery_id: str, *, now: float) -> Delivery | None:
        with self._transaction() as db:
            row = db.execute(
                "SELECT data FROM outbox WHERE id = ? AND parked_at IS NOT NULL", (delivery_id,)
            ).fetchone()
            if row is None:
                return None
            delivery = replace(
                Delivery.from_json(json.loads(row[0])), attempts=0, next_attempt_at=now
            )
            db.execute(
                "UPDATE outbox SET parked_at = NULL, next_attempt_at = ?, data = ? WHERE id = ?",
                (now, _dumps(delivery.to_json()), delivery_id),
            )
            conversation = self._load_conversation(db, delivery.conversation_id)
            if conversation is not None:
                event = NewEvent(
                    type=EventType.DELIVERY_REDRIVEN,
                    data={"delivery_id": delivery_id, "seq": delivery.seq},
                )
                conversation, _ = self._append(db, conversation, [event], now)
                self._save_conversation(db, conversation)
            return delivery

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
        items = [Conversation.from_json(json.loads(row[1])) for row in rows[:limit]]
        return Page(items=items, next_cursor=items[-1].id if len(rows) > limit else None)

    async def events(
        self, conversation_id: str, *, after_seq: int = 0, limit: int = 100
    ) -> list[Event]:
        rows = self.db.execute(
            "SELECT seq, type, at, data FROM events WHERE conversation_id = ? AND seq > ? ORDER BY seq LIMIT ?",
            (conversation_id, after_seq, limit),
        ).fetchall()
        return [
            Event(conversation_id=conversation_id, seq=seq, type=kind, at=at, data=json.loads(data))
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
        return Conversation.from_json(json.loads(row[0])) if row else None

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
        items = [Customer.from_json(json.loads(row[1])) for row in rows[:limit]]
        return Page(items=items, next_cursor=items[-1].id if len(rows) > limit else None)

    # ------------------------------------------------------------------ identity
    def _save_customer(self, db: sqlite3.Connection, customer: Customer) -> None:
        db.execute(
            "INSERT INTO customers (id, data) VALUES (?, ?)"
            " ON CONFLICT (id) DO UPDATE SET data = excluded.data",
            (customer.id, _dumps(customer.to_json())),
        )

    def _load_merge(self, db: sqlite3.Connection, merge_id: str) -> CustomerMerge | None:
        row = db.execute("SELECT data FROM merges WHERE id = ?", (merge_id,)).fetchone()
        return CustomerMerge.from_json(json.loads(row[0])) if row else None

    def _move_conversations(
        self,
        db: sqlite3.Connection,
        conversation_ids: Sequence[str],
        customer_id: str,
        event: NewEvent,
        now: float,
    ) -> None:
        for conversation_id in conversation_ids:
            conversation = self._load_conversation(db, conversation_id)
            if conversation is None:
                continue
            moved_at = conversation.updated_at
            conversation = replace(conversation, customer_id=customer_id)
            conversation, _ = self._append(db, conversation, [event], now)
            # Bookkeeping is not activity: which conversation the customer continues
            # depends on when they (or the bot, or an agent) last moved it.
            self._save_conversation(db, replace(conversation, updated_at=moved_at))

    async def ensure_customer(self, identity: str, *, now: float) -> tuple[Customer, bool]:
        with self._transaction() as db:
            row = db.execute(
                "SELECT customer_id FROM identities WHERE identity = ?", (identity,)
            ).fetchone()
            found = self._load_customer(db, row[0]) if row else None
            if found is not None:
                return found, False
            customer = Customer(id=new_id("cus"), identities=(identity,), created_at=now)
            self._save_customer(db, customer)
            db.execute(
                "INSERT OR REPLACE INTO identities (identity, customer_id) VALUES (?, ?)",
                (identity, customer.id),
            )
            return customer, True

    async def add_identity(self, customer_id: str, identity: str, *, now: float) -> str | None:
        with self._transaction() as db:
            customer = self._load_customer(db, customer_id)
            if customer is None:
                return None
            row = db.execute(
                "SELECT customer_id FROM identities WHERE identity = ?", (identity,)
            ).fetchone()
            if row:
                return str(row[0])
            db.execute(
                "INSERT INTO identities (identity, customer_id) VALUES (?, ?)",
                (identity, customer_id),
            )
            self._save_customer(db, replace(customer, identities=(*customer.identities, identity)))
            return customer_id

    async def update_customer(
        self,
        customer_id: str,
        *,
        attributes: Mapping[str, Any] | None = None,
        tags: Sequence[str] | None = None,
        now: float,
    ) -> Customer | None:
        with self._transaction() as db:
            customer = self._load_customer(db, customer_id)
            if customer is None:
                return None
            customer = records.updated_customer(customer, attributes, tags)
            self._save_customer(db, customer)
            return customer

    async def merge_customers(
        self, kept_id: str, absorbed_id: str, *, reason: Mapping[str, Any], now: float
    ) -> CustomerMerge:
        if kept_id == absorbed_id:
            raise ValueError("a customer cannot be merged with itself")
        with self._transaction() as db:
            kept = self._load_customer(db, kept_id)
            absorbed = self._load_customer(db, absorbed_id)
            if kept is None or absorbed is None:
                raise KeyError(kept_id if kept is None else absorbed_id)
            moved = tuple(
                row[0]
                for row in db.execute(
                    "SELECT id FROM conversations WHERE customer_id = ? ORDER BY id",
                    (absorbed_id,),
                )
            )
            merge = CustomerMerge(
                id=new_id("mrg"),
                kept_id=kept_id,
                absorbed_id=absorbed_id,
                kept_before=kept,
                absorbed_before=absorbed,
                moved_conversations=moved,
                reason=reason,
                at=now,
            )
            self._save_customer(db, records.merged_customer(kept, absorbed))
            db.execute("DELETE FROM customers WHERE id = ?", (absorbed_id,))
            db.execute(
                "UPDATE identities SET customer_id = ? WHERE customer_id = ?",
                (kept_id, absorbed_id),
            )
            db.execute("DELETE FROM challenges WHERE customer_id = ?", (absorbed_id,))
            self._move_conversations(db, moved, kept_id, records.merge_event(merge), now)
            db.execute(
                "INSERT INTO merges (id, kept_id, absorbed_id, data) VALUES (?, ?, ?, ?)",
                (merge.id, kept_id, absorbed_id, _dumps(merge.to_json())),
            )
            return merge

    async def unmerge_customers(self, merge_id: str, *, now: float) -> CustomerMerge | None:
        with self._transaction() as db:
            merge = self._load_merge(db, merge_id)
            if merge is None:
                return None
            if merge.undone_at is not None:
                raise ValueError("this merge was undone already")
            current = self._load_customer(db, merge.kept_id)
            if current is None or self._load_customer(db, merge.absorbed_id) is not None:
                raise ValueError("the merged customer no longer exists as merged")
            self._save_customer(db, records.kept_after_unmerge(merge, current))
            self._save_customer(db, merge.absorbed_before)
            db.executemany(
                "UPDATE identities SET customer_id = ? WHERE identity = ?",
                [(merge.absorbed_id, i) for i in merge.absorbed_before.identities],
            )
            still_kept = [
                c
                for c in merge.moved_conversations
                if db.execute(
                    "SELECT 1 FROM conversations WHERE id = ? AND customer_id = ?",
                    (c, merge.kept_id),
                ).fetchone()
            ]
            self._move_conversations(
                db, still_kept, merge.absorbed_id, records.unmerge_event(merge), now
            )
            merge = replace(merge, undone_at=now)
            db.execute(
                "UPDATE merges SET data = ? WHERE id = ?", (_dumps(merge.to_json()), merge.id)
            )
            return merge

    async def get_merge(self, merge_id: str) -> CustomerMerge | None:
        return self._load_merge(self.db, merge_id)

    async def customer_conversations(self, customer_id: str) -> list[Conversation]:
        rows = self.db.execute(
            "SELECT data FROM conversations WHERE customer_id = ? ORDER BY id", (customer_id,)
        ).fetchall()
        return [Conversation.from_json(json.loads(row[0])) for row in rows]

    def _related_merges(self, db: sqlite3.Connection, customer_id: str) -> set[str]:
        """Every merge whose snapshots may hold this person's data, through chains of merges."""
        people: set[str] = {customer_id}
        merges: set[str] = set()
        while True:
            marks = ",".join("?" * len(people))
            rows = db.execute(
                f"SELECT id, kept_id, absorbed_id FROM merges"
                f" WHERE kept_id IN ({marks}) OR absorbed_id IN ({marks})",
                (*people, *people),
            ).fetchall()
            found = {row[0] for row in rows}
            more = {row[1] for row in rows} | {row[2] for row in rows}
            if found <= merges and more <= people:
                return merges
            merges |= found
            people |= more

    async def erase_customer(self, customer_id: str, *, now: float) -> bool:
        with self._transaction() as db:
            customer = self._load_customer(db, customer_id)
            if customer is None:
                return False
            self._save_customer(db, records.erased_customer(customer, now))
            db.execute("DELETE FROM identities WHERE customer_id = ?", (customer_id,))
            db.execute("DELETE FROM challenges WHERE customer_id = ?", (customer_id,))
            db.executemany(
                "DELETE FROM merges WHERE id = ?",
                [(m,) for m in self._related_merges(db, customer_id)],
            )
            conversations = db.execute(
                "SELECT id FROM conversations WHERE customer_id = ?", (customer_id,)
            ).fetchall()
            for (conversation_id,) in conversations:
                rows = db.execute(
                    "SELECT seq, type, data FROM events WHERE conversation_id = ?",
                    (conversation_id,),
                ).fetchall()
                logged = [(kind, json.loads(data)) for _, kind, data in rows]
                db.executemany(
                    "DELETE FROM dedupe WHERE channel = ? AND message_id = ?",
                    records.dedupe_keys(logged),
                )
                db.executemany(
                    "DELETE FROM outbox WHERE id = ?",
                    [(d,) for d in records.delivery_ids(logged)],
                )
                db.executemany(
                    "UPDATE events SET data = ? WHERE conversation_id = ? AND seq = ?",
                    [
                        (_dumps(records.erased_event_data(kind, data)), conversation_id, seq)
                        for (seq, _, _), (kind, data) in zip(rows, logged, strict=True)
                    ],
                )
                conversation = self._load_conversation(db, conversation_id)
                assert conversation is not None
                self._save_conversation(db, records.erased_conversation(conversation))
                db.execute(
                    "UPDATE conversations SET thread_key = '' WHERE id = ?", (conversation_id,)
                )
            trail = db.execute(
                "SELECT n, data FROM audit WHERE customer_id = ? ORDER BY n", (customer_id,)
            ).fetchall()
            anonymous = records.erased_audit([json.loads(data) for _, data in trail])
            db.executemany(
                "UPDATE audit SET data = ? WHERE customer_id = ? AND n = ?",
                [(_dumps(a), customer_id, n) for (n, _), a in zip(trail, anonymous, strict=True)],
            )
        # Old page versions live on in the WAL until it is checkpointed and truncated.
        self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return True

    async def count_hit(self, key: str, *, window: float, now: float) -> int:
        start = now - now % window
        with self._transaction() as db:
            row = db.execute(
                "INSERT INTO hits (key, window_start, count) VALUES (?, ?, 1)"
                " ON CONFLICT (key) DO UPDATE SET"
                " count = CASE WHEN window_start = excluded.window_start THEN count + 1 ELSE 1 END,"
                " window_start = excluded.window_start"
                " RETURNING count",
                (key, start),
            ).fetchone()
            db.execute("DELETE FROM hits WHERE window_start < ?", (start - window,))
            return int(row[0])

    async def put_challenge(
        self, customer_id: str, challenge: Mapping[str, Any], *, expires_at: float
    ) -> None:
        with self._transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO challenges (customer_id, expires_at, data) VALUES (?, ?, ?)",
                (customer_id, expires_at, _dumps(dict(challenge))),
            )

    async def attempt_challenge(self, customer_id: str, *, now: float) -> dict[str, Any] | None:
        with self._transaction() as db:
            row = db.execute(
                "SELECT expires_at, data FROM challenges WHERE customer_id = ?", (customer_id,)
            ).fetchone()
            if row is None:
                return None
            if row[0] <= now:
                db.execute("DELETE FROM challenges WHERE customer_id = ?", (customer_id,))
                return None
            challenge: dict[str, Any] = json.loads(row[1])
            challenge["attempts"] = int(challenge.get("attempts", 0)) + 1
            db.execute(
                "UPDATE challenges SET data = ? WHERE customer_id = ?",
                (_dumps(challenge), customer_id),
            )
            return challenge

    async def drop_challenge(self, customer_id: str) -> None:
        with self._transaction() as db:
            db.execute("DELETE FROM challenges WHERE customer_id = ?", (customer_id,))

    async def append_audit(self, customer_id: str, entry: Mapping[str, Any], *, now: float) -> None:
        with self._transaction() as db:
            row = db.execute(
                "SELECT COALESCE(MAX(n), 0) FROM audit WHERE customer_id = ?", (customer_id,)
            ).fetchone()
            db.execute(
                "INSERT INTO audit (customer_id, n, data) VALUES (?, ?, ?)",
                (customer_id, int(row[0]) + 1, _dumps({**dict(entry), "at": now})),
            )

    async def audit_trail(self, customer_id: str, *, limit: int = 1000) -> list[dict[str, Any]]:
        rows = self.db.execute(
            "SELECT data FROM audit WHERE customer_id = ? ORDER BY n LIMIT ?", (customer_id, limit)
        ).fetchall()
        return [json.loads(row[0]) for row in rows]


class _Checkpointer(threading.Thread):
    """Copies the WAL into the database file in the background.

    sqlite3 releases the GIL while SQLite works, so the event loop keeps committing
    (cheap appends to the WAL) while this thread pays for the fsyncs.
    """

    def __init__(self, path: Path, interval: float = 0.5) -> None:
        super().__init__(name="sqlite-checkpointer", daemon=True)
        self.path = path
        self.interval = interval
        self._stopped = threading.Event()

    def run(self) -> None:
        db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA busy_timeout=5000")
        try:
            while not self._stopped.wait(self.interval):
                try:
                    db.execute("PRAGMA wal_checkpoint(PASSIVE)")
                except sqlite3.Error:
                    log.warning("sqlite checkpoint failed; will retry", exc_info=True)
        finally:
            db.close()

    def stop(self) -> None:
        self._stopped.set()
        self.join(timeout=10)
