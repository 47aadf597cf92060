"""The embedded store's customer-identity methods (linking, merge and unmerge, erasure,
verification challenges, rate-limit counters, audit); part of `SQLiteStore`."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from hub import identity_records as records
from hub import jsonio, search_sqlite
from hub.ids import new_id
from hub.model import (
    Conversation,
    Customer,
    Event,
    NewEvent,
)
from hub.ports import CustomerMerge, Moved
from hub.store_sqlite_base import SQLiteBase, _dumps


class SQLiteIdentity(SQLiteBase):
    """Customers, identities and merges; each method one transaction, like the rest."""

    def _save_customer(self, db: sqlite3.Connection, customer: Customer) -> None:
        data = _dumps(customer.to_json())
        db.execute(
            "INSERT INTO customers (id, data) VALUES (?, ?)"
            " ON CONFLICT (id) DO UPDATE SET data = excluded.data",
            (customer.id, data),
        )
        self._customers.keep(customer.id, data, customer)

    def _load_merge(self, db: sqlite3.Connection, merge_id: str) -> CustomerMerge | None:
        row = db.execute("SELECT data FROM merges WHERE id = ?", (merge_id,)).fetchone()
        return CustomerMerge.from_json(jsonio.stored(row[0])) if row else None

    def _move_conversations(
        self,
        db: sqlite3.Connection,
        conversation_ids: Sequence[str],
        customer_id: str,
        event: NewEvent,
        now: float,
    ) -> tuple[Event, ...]:
        """Give the conversations to `customer_id`, logging `event` in each; the events."""
        logged: list[Event] = []
        for conversation_id in conversation_ids:
            conversation = self._load_conversation(db, conversation_id)
            if conversation is None:
                continue
            moved_at = conversation.updated_at
            conversation = replace(conversation, customer_id=customer_id)
            conversation, appended = self._append(db, conversation, [event], now)
            logged += appended
            # Bookkeeping is not activity: which conversation the customer continues
            # depends on when they (or the bot, or an agent) last moved it.
            self._save_conversation(db, replace(conversation, updated_at=moved_at))
        return tuple(logged)

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

    async def record_merge(
        self, kept_id: str, absorbed_id: str, *, reason: Mapping[str, Any], now: float
    ) -> Moved:
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
            logged = self._move_conversations(db, moved, kept_id, records.merge_event(merge), now)
            db.execute(
                "INSERT INTO merges (id, kept_id, absorbed_id, data) VALUES (?, ?, ?, ?)",
                (merge.id, kept_id, absorbed_id, _dumps(merge.to_json())),
            )
            return Moved(merge=merge, events=logged)

    async def record_unmerge(self, merge_id: str, *, now: float) -> Moved | None:
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
            logged = self._move_conversations(
                db, still_kept, merge.absorbed_id, records.unmerge_event(merge), now
            )
            merge = replace(merge, undone_at=now)
            db.execute(
                "UPDATE merges SET data = ? WHERE id = ?", (_dumps(merge.to_json()), merge.id)
            )
            return Moved(merge=merge, events=logged)

    async def get_merge(self, merge_id: str) -> CustomerMerge | None:
        return self._load_merge(self.db, merge_id)

    async def customer_conversations(self, customer_id: str) -> list[Conversation]:
        rows = self.db.execute(
            "SELECT data FROM conversations WHERE customer_id = ? ORDER BY id", (customer_id,)
        ).fetchall()
        return [Conversation.from_json(jsonio.stored(row[0])) for row in rows]

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
                logged = [(kind, jsonio.stored(data)) for _, kind, data in rows]
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
            anonymous = records.erased_audit([jsonio.stored(data) for _, data in trail])
            db.executemany(
                "UPDATE audit SET data = ? WHERE customer_id = ? AND n = ?",
                [(_dumps(a), customer_id, n) for (n, _), a in zip(trail, anonymous, strict=True)],
            )
            search_sqlite.purge(db)  # the index's deleted entries, merged out of the file
        # Nor in this process's memory: the decoded rows kept of them are dropped too.
        self._conversations.clear()
        self._customers.clear()
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
            challenge: dict[str, Any] = jsonio.stored(row[1])
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
        return [jsonio.stored(row[0]) for row in rows]
