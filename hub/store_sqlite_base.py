"""The embedded store's foundation: the connection (schema in `hub.migrations_sqlite`),
transactions, and the row helpers the store's parts share (see `hub.store_sqlite` for the store itself).

Every method runs its SQL synchronously on the event loop. That is on purpose: each takes
tens of microseconds, and running it without an `await` inside makes it atomic with respect
to every other coroutine of the process. The writes of the turn path are group-committed
(`hub.store_sqlite_batch`): those of concurrent coroutines share one transaction, and each
returns only once it has committed. A process killed mid-way
loses nothing committed (WAL with synchronous=NORMAL survives a process crash).
"""

from __future__ import annotations

import itertools
import logging
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

from hub import jsonio, search_sqlite
from hub.errors import ConfigError
from hub.locks import KeyedLock
from hub.migrations_sqlite import migrate
from hub.model import (
    Conversation,
    Customer,
    Event,
    NewEvent,
)
from hub.ports.policy import DAY
from hub.store_sqlite_batch import GroupCommit
from hub.store_sqlite_leases import AdoptedLeases
from hub.store_sqlite_rows import DecodedRows

log = logging.getLogger("frontdesk.store.sqlite")

T = TypeVar("T")


def _dumps(value: Any) -> str:
    # Strict: a NaN or infinity raises here instead of being stored where strict JSON
    # readers of the API, the export and the other store would choke on it.
    return jsonio.dumps(value)


class SQLiteBase:
    """The connection and the helpers; `SQLiteStore` adds the ports' methods (`hub.ports`)."""

    def __init__(self, path: str | Path, *, continuity_window: float | None = DAY) -> None:
        self.path = Path(path)
        self._db: sqlite3.Connection | None = None
        self._checkpointer: _Checkpointer | None = None
        self._locks = KeyedLock()
        self._fences = itertools.count(1)  # from this open's epoch, once open
        self._group = GroupCommit(lambda: self.db)
        # A turn reads its conversation and customer rows several times: each text is
        # decoded once (`hub.store_sqlite_rows`).
        self._conversations = DecodedRows(Conversation.from_json)
        self._customers = DecodedRows(Customer.from_json)
        # Turn leases taken with the message that starts the turn (`record_inbound_and_lease`).
        self._adopted = AdoptedLeases(self._locks, self._conversations, self._next_fence)
        # A customer writing from another channel continues their open conversation if it
        # moved within this many seconds; else a new one opens (None: always continue).
        self.continuity_window = continuity_window

    # ------------------------------------------------------------------ lifecycle
    async def open(self) -> None:
        try:
            db = self._connect()
        except (OSError, sqlite3.Error) as error:
            # Named here, at start-up: otherwise the first customer message fails instead.
            raise ConfigError(
                f"cannot open the SQLite store at {self.path.absolute()}: {error}; the file "
                "and its directory must be writable by this process (SQLite also writes "
                f"{self.path.name}-wal and {self.path.name}-shm beside it)",
                key="store.url",
            ) from None
        self._db = db
        with self._transaction():
            (epoch,) = db.execute(
                "UPDATE lease_epoch SET epoch = epoch + 1 RETURNING epoch"
            ).fetchone()
        self._fences = itertools.count((int(epoch) << _FENCE_BITS) + 1)
        self._checkpointer = _Checkpointer(self.path)
        self._checkpointer.start()

    def _connect(self) -> sqlite3.Connection:
        if self.path.parent:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        try:
            # WAL and the schema both write: a read-only file or directory fails here.
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA busy_timeout=5000")
            # Checkpoints (which fsync) run on a thread of their own, never in a commit.
            db.execute("PRAGMA wal_autocheckpoint=0")
            # After a full checkpoint the WAL file is cut back to this size.
            db.execute(f"PRAGMA journal_size_limit={WAL_LIMIT_BYTES}")
            # Erasure must leave no personal data in freed pages of the file.
            db.execute("PRAGMA secure_delete=ON")
            migrate(db, path=str(self.path.absolute()))
            # The search index is kept by triggers in every write's own transaction.
            search_sqlite.install(db)
        except BaseException:
            db.close()
            raise
        return db

    async def close(self) -> None:
        self._group.flush()  # writes still queued are committed (and answered) first
        self._adopted.close()
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

    def _next_fence(self) -> int:
        return next(self._fences)

    async def _write(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """`work(db)` in a transaction shared with the writes of concurrent coroutines
        (`hub.store_sqlite_batch`); returns once that transaction has committed."""
        return await self._group.run(work)

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
        return self._conversations.decode(conversation_id, row[0]) if row else None

    def _save_conversation(
        self, db: sqlite3.Connection, conversation: Conversation, inbound_seq: int | None = None
    ) -> None:
        # One statement either way: the inbound mark rides on the same upsert.
        data = _dumps(conversation.to_json())
        db.execute(
            "INSERT INTO conversations (id, customer_id, status, handled_seq, data, inbound_seq)"
            " VALUES (?, ?, ?, ?, ?, coalesce(?, 0)) ON CONFLICT (id) DO UPDATE SET"
            " customer_id = excluded.customer_id, status = excluded.status,"
            " handled_seq = excluded.handled_seq, data = excluded.data,"
            " inbound_seq = coalesce(?, inbound_seq)",
            (
                conversation.id,
                conversation.customer_id,
                conversation.status.value,
                conversation.handled_seq,
                data,
                inbound_seq,
                inbound_seq,
            ),
        )
        self._conversations.keep(conversation.id, data, conversation)

    def _update_conversation(
        self,
        db: sqlite3.Connection,
        conversation: Conversation,
        before: Conversation,
        inbound_seq: int | None = None,
    ) -> None:
        """Save a conversation whose row exists (`before` is what it held), setting only the
        columns that changed: an unchanged status or owner costs no index update, where the
        upsert of `_save_conversation` rewrites every indexed column."""
        data = _dumps(conversation.to_json())
        columns = ["data = ?"]
        values: list[Any] = [data]
        if conversation.handled_seq != before.handled_seq:
            columns.append("handled_seq = ?")
            values.append(conversation.handled_seq)
        if conversation.status is not before.status:
            columns.append("status = ?")
            values.append(conversation.status.value)
        if conversation.customer_id != before.customer_id:
            columns.append("customer_id = ?")
            values.append(conversation.customer_id)
        if inbound_seq is not None:
            columns.append("inbound_seq = ?")
            values.append(inbound_seq)
        values.append(conversation.id)
        db.execute(f"UPDATE conversations SET {', '.join(columns)} WHERE id = ?", values)
        self._conversations.keep(conversation.id, data, conversation)

    def _append(
        self,
        db: sqlite3.Connection,
        conversation: Conversation,
        new: Sequence[NewEvent],
        now: float,
    ) -> tuple[Conversation, list[Event]]:
        appended = self._insert_events(db, conversation, new, now)
        last_seq = appended[-1].seq if appended else conversation.last_seq
        return replace(conversation, last_seq=last_seq, updated_at=now), appended

    def _log(
        self, db: sqlite3.Connection, before: Conversation, new: Sequence[NewEvent], now: float
    ) -> tuple[Conversation, list[Event]]:
        """Append events to an existing conversation and save it: a write's usual end."""
        conversation, appended = self._append(db, before, new, now)
        self._update_conversation(db, conversation, before)
        return conversation, appended

    @staticmethod
    def _insert_events(
        db: sqlite3.Connection, conversation: Conversation, new: Sequence[NewEvent], now: float
    ) -> list[Event]:
        """Log `new` after the conversation's last event; the caller moves `last_seq` (in
        the one copy of the conversation it makes for the whole write)."""
        conversation_id = conversation.id
        seq = conversation.last_seq
        appended = []
        rows = []
        for event in new:
            seq += 1
            appended.append(
                Event(
                    conversation_id=conversation_id,
                    seq=seq,
                    type=event.type,
                    at=now,
                    data=event.data,
                )
            )
            rows.append((conversation_id, seq, event.type, now, _dumps(dict(event.data))))
        db.executemany(
            "INSERT INTO events (conversation_id, seq, type, at, data) VALUES (?, ?, ?, ?, ?)",
            rows,
        )
        return appended

    def _load_customer(self, db: sqlite3.Connection, customer_id: str) -> Customer | None:
        row = db.execute("SELECT data FROM customers WHERE id = ?", (customer_id,)).fetchone()
        return self._customers.decode(customer_id, row[0]) if row else None


WAL_LIMIT_BYTES = 256 * 1024 * 1024
# A fence is (epoch << _FENCE_BITS) + a counter of leases in that open of the file.
_FENCE_BITS = 32


class _Checkpointer(threading.Thread):
    """Copies the WAL into the database file in the background.

    sqlite3 releases the GIL while SQLite works, so the event loop keeps committing
    (cheap appends to the WAL) while this thread pays for the fsyncs. Under sustained load
    a passive checkpoint never catches up with the writers, and the WAL would grow without
    bound; once it holds more than `WAL_LIMIT_BYTES` a RESTART checkpoint briefly holds the
    writers back so the next one starts the WAL from the beginning again.
    """

    # Each checkpoint copies every page written since the last one, however often it was
    # written: hot pages (the conversations being answered, the outbox, the search index's
    # newest segment) are copied once per checkpoint. Every 2 s instead of every 0.5 s
    # halved the thread's CPU per turn (`docs/performance.md`); the WAL stays bounded by
    # the RESTART below either way.
    def __init__(self, path: Path, interval: float = 2.0) -> None:
        super().__init__(name="sqlite-checkpointer", daemon=True)
        self.path = path
        self.interval = interval
        self._stopped = threading.Event()

    def run(self) -> None:
        db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA busy_timeout=5000")
        try:
            page_size = int(db.execute("PRAGMA page_size").fetchone()[0])
            while not self._stopped.wait(self.interval):
                try:
                    _, frames, _ = db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                    if frames * page_size > WAL_LIMIT_BYTES:
                        db.execute("PRAGMA wal_checkpoint(RESTART)")
                except sqlite3.Error:
                    log.warning("sqlite checkpoint failed; will retry", exc_info=True)
        finally:
            db.close()

    def stop(self) -> None:
        self._stopped.set()
        self.join(timeout=10)
