"""Group commit for the embedded store: the writes of concurrent turns in one transaction.

A commit costs far more than the statements before it (the WAL frames of every page the
transaction touched, the write lock, the full-text index's segment), and concurrent turns
touch the same pages (the conversations, the outbox, the index). So writes are not run where
they are asked for: `GroupCommit.run(work)` queues `work` and returns a future; one callback
of the event loop, scheduled by the first write of a loop iteration, runs every write queued
by then in a single `BEGIN IMMEDIATE … COMMIT` and only then resolves their futures.

- Durability is unchanged: a caller's await returns after the COMMIT holding its write, never
  before, so nothing is acknowledged that a crash could lose.
- Each write stays atomic on its own: one that raises (a lost lease, a constraint) is rolled
  back alone and gets its exception; the others commit. The batch first runs without
  savepoints (they are costly, see `_commit`); only when a write raised does it run again
  with each write in a savepoint.
- The batch runs synchronously, with no `await` inside, so no other coroutine of the process
  sees it half-done, exactly as a single transaction was before.
- A failed COMMIT (disk full, I/O error) fails every write of the batch: none is acknowledged.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable
from typing import Any, TypeVar

log = logging.getLogger("frontdesk.store.sqlite")

T = TypeVar("T")
Work = Callable[[sqlite3.Connection], Any]


class GroupCommit:
    """Queues writes (functions of the connection) and commits them in batches."""

    def __init__(self, connect: Callable[[], sqlite3.Connection]) -> None:
        self._connection = connect  # the store's connection, looked up at each batch
        self._pending: list[tuple[Work, asyncio.Future[Any]]] = []
        self._scheduled = False
        self.batches = 0  # counters for the benches and the tests of batching
        self.writes = 0

    def run(self, work: Callable[[sqlite3.Connection], T]) -> asyncio.Future[T]:
        """`work(db)` in the next batch; the future resolves once its batch committed."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._pending.append((work, future))
        if not self._scheduled:
            self._scheduled = True
            # A plain callback, not a task: it runs after every coroutine that is ready in
            # this iteration of the loop, so their writes join the same batch.
            loop.call_soon(self.flush)
        return future

    def flush(self) -> None:
        """Commit what is queued now (the loop's callback; also the store's close)."""
        self._scheduled = False
        if not self._pending:
            return
        # A caller cancelled while its write waited (a client gone, a shutdown) has it
        # dropped: it never ran, as if the call had not been made.
        batch = [item for item in self._pending if not item[1].cancelled()]
        self._pending = []
        if not batch:
            return
        try:
            outcomes = self._commit(self._connection(), batch)
        except BaseException as error:  # every caller must hear of it
            log.error("sqlite batch of %d writes failed: %r", len(batch), error)
            outcomes = [(False, error)] * len(batch)
        self.batches += 1
        self.writes += len(batch)
        for (_, future), (ok, value) in zip(batch, outcomes, strict=True):
            if future.cancelled():
                continue
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)

    @staticmethod
    def _commit(
        db: sqlite3.Connection, batch: list[tuple[Work, asyncio.Future[Any]]]
    ) -> list[tuple[bool, Any]]:
        # First without savepoints: the full-text index (FTS5) writes out what it holds at
        # every savepoint, so one savepoint per write made a segment of the index per
        # message, and merging those cost more than the rest of the write. Writes rarely
        # fail; when one does, the whole attempt is rolled back and the batch runs again
        # with a savepoint around each write, so that only the failing one is lost. The
        # work functions only read and write the database (their results go nowhere until
        # the batch commits), so running them again is running them once.
        db.execute("BEGIN IMMEDIATE")
        try:
            outcomes: list[tuple[bool, Any]] = [(True, work(db)) for work, _ in batch]
        except Exception as error:
            _rollback(db)
            if len(batch) == 1:  # alone: the transaction itself was its savepoint
                return [(False, error)]
            outcomes = GroupCommit._each_in_savepoint(db, batch)
        except BaseException:
            _rollback(db)
            raise
        try:
            db.execute("COMMIT")
        except BaseException:
            _rollback(db)
            raise
        return outcomes

    @staticmethod
    def _each_in_savepoint(
        db: sqlite3.Connection, batch: list[tuple[Work, asyncio.Future[Any]]]
    ) -> list[tuple[bool, Any]]:
        """The batch again, in a new transaction, each write in a savepoint of its own."""
        db.execute("BEGIN IMMEDIATE")
        try:
            return [_in_savepoint(db, work) for work, _ in batch]
        except BaseException:
            # A savepoint could not be rolled back (SQLite already dropped the whole
            # transaction): nothing of this batch is kept.
            _rollback(db)
            raise


def _rollback(db: sqlite3.Connection) -> None:
    if db.in_transaction:  # SQLite may have rolled back already (some errors do)
        db.execute("ROLLBACK")


def _in_savepoint(db: sqlite3.Connection, work: Work) -> tuple[bool, Any]:
    db.execute("SAVEPOINT fd_write")
    try:
        value = work(db)
    except Exception as error:
        db.execute("ROLLBACK TO fd_write")  # raises if SQLite dropped the transaction
        db.execute("RELEASE fd_write")
        return False, error
    db.execute("RELEASE fd_write")
    return True, value
