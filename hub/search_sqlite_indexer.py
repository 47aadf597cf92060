"""The SQLite search index's indexer: the log's new events made searchable, in batches.

Events have ids in the order they are written, and `search_indexed.through` is the id up
to which the index is complete; a turn's write does nothing for the index. This indexes
the events past the mark (and those an edit noted in `search_pending`) many per
transaction, off the turn: in a batch the FTS5 index costs far less per document than one
message at a time.

- **How far behind**: the hub's listener wakes the indexer after every write that stored a
  message; it waits `delay` (0.1 s) for more to gather and indexes them all. A search first
  indexes whatever is still behind the mark, so it finds everything stored before it.
- **Nothing is missed**: the mark moves only in the transaction that indexes the events
  below it, and ids are never given twice (`AUTOINCREMENT`), so an event written after a
  batch always lies past its mark. A crash loses nothing; a restart (`start`) indexes what
  the previous run left.
- **Edits and erasures**: the event's entry is deleted in the edit's own transaction (by
  trigger) and the event noted, so the old text is never found, even before the indexer
  runs.
- **One batch is one write, and a short one**: it runs in the store's group commit
  (`hub.store_sqlite_batch`), synchronously, like any other write of the process, so for as
  long as it runs every turn of the process waits. A batch takes at most `BATCH` events,
  and stops taking more once their tokens took `BUDGET` (long texts, which the memo does
  not keep); a backlog is worked through in several batches, each its own write, with the
  loop free in between. Batches of up to 512 took 10–44 ms of CPU under web chat load, the
  largest stalls of the process (`docs/performance.md`, "Eleventh round").
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from hub import jsonio
from hub.memo import TextMemo
from hub.model import Event
from hub.periodic import stop_task
from hub.search_text import INDEXED_TYPES, TICKET_TYPE, event_text, tokens

if TYPE_CHECKING:  # the store imports the search module, which imports this one
    from hub.store_sqlite_base import SQLiteBase

log = logging.getLogger("frontdesk.search.sqlite")

BATCH = 64  # notes per write: bounds how long one batch holds the event loop (2–5 ms)
BUDGET = 0.002  # seconds of tokenizing after which a batch takes no more notes
DELAY = 0.1  # seconds a woken indexer waits for more messages to join its batch
IDLE_CHECK = 5.0  # seconds between looks for notes written by another process
_INDEXED = frozenset(INDEXED_TYPES)
INDEXED_TYPES_SQL = ", ".join(f"'{t}'" for t in INDEXED_TYPES)
_NEW_EVENTS = (
    "SELECT id, conversation_id, seq, type, data FROM events"
    f" WHERE id > ? AND type IN ({INDEXED_TYPES_SQL}) ORDER BY id LIMIT ?"
)

# Bot replies are the same few answers over and over, and customers repeat FAQ wording:
# the tokens of a short text are kept (they depend on nothing but the text), so a repeated
# one costs a look-up instead of the tokenizer, the largest part of indexing a message.
MEMO_TEXT_CHARS = 500  # the bot's answers are often longer than a customer's line


def _body(text: str) -> str:
    return " ".join(tokens(text))


_bodies = TextMemo(_body, longest=MEMO_TEXT_CHARS)


def text_body(text: str) -> str:
    """What the index stores for a text: its tokens, space-separated (`event_body`)."""
    return _bodies(text)


def row_body(kind: str, data: str) -> str:
    """The index body of a stored event row ("" for one not indexed)."""
    # Never raise: an exception here would fail the whole batch, again at every attempt.
    if kind not in _INDEXED:
        return ""
    try:
        text = event_text(kind, jsonio.stored(data))
        return text_body(text) if text else ""
    except Exception:
        log.exception("cannot index an event; it is stored but not searchable")
        return ""


def index_pending(
    db: sqlite3.Connection,
    limit: int = BATCH,
    *,
    budget: float = BUDGET,
    clock: Callable[[], float] = time.perf_counter,
) -> int:
    """Index up to `limit` events not indexed yet, the noted (edited) ones first, then the
    log's new ones in order, in the caller's transaction. Once tokenizing took `budget`
    seconds of `clock`, the events not reached yet are left for the next batch (at least
    one is always taken). Returns how many were taken."""
    noted = db.execute(
        "SELECT p.event_id, e.conversation_id, e.seq, e.type, e.data FROM search_pending AS p"
        " LEFT JOIN events AS e ON e.id = p.event_id ORDER BY p.event_id LIMIT ?",
        (limit,),
    ).fetchall()
    room = limit - len(noted)
    fresh = db.execute(_NEW_EVENTS, (indexed_through(db), room)).fetchall() if room else []
    if not noted and not fresh:
        return 0
    documents = []
    deadline = clock() + budget
    taken = 0
    for event_id, conversation_id, seq, kind, data in (*noted, *fresh):
        taken += 1
        body = row_body(kind, data) if kind is not None else ""  # None: the event is gone
        if body:
            what = "ticket" if kind == TICKET_TYPE else "message"
            documents.append((event_id, what, conversation_id, seq, body))
        if clock() > deadline:  # the FTS5 insert below costs about as much again
            break
    # `OR IGNORE`: an event edited before the mark reached it is both noted and new; its
    # entry (from its text as it is now) is written once. An edit deletes the entry first,
    # so an ignored row is never a stale one.
    db.executemany(
        "INSERT OR IGNORE INTO search_docs (id, kind, conversation_id, seq, body)"
        " VALUES (?, ?, ?, ?, ?)",
        documents,
    )
    noted_taken = noted[:taken]
    if noted_taken:
        db.execute("DELETE FROM search_pending WHERE event_id <= ?", (noted_taken[-1][0],))
    fresh_taken = fresh[: taken - len(noted_taken)]
    if fresh_taken:
        through = fresh_taken[-1][0]
        if len(fresh) < room and len(fresh_taken) == len(fresh):
            # Every indexed event up to the log's end is in: the mark goes past the events
            # that are not indexed too (replies' receipts, turn records), so that looking
            # for new ones starts at the end of the log.
            through = max(through, int(db.execute("SELECT max(id) FROM events").fetchone()[0]))
        db.execute("UPDATE search_indexed SET through = ? WHERE id = 1", (through,))
    return taken


def indexed_through(db: sqlite3.Connection) -> int:
    """The id of the log up to which every event is indexed."""
    row = db.execute("SELECT through FROM search_indexed WHERE id = 1").fetchone()
    return int(row[0]) if row else 0


def behind(db: sqlite3.Connection) -> bool:
    """Whether an event waits to be indexed (noted, or past the mark)."""
    if db.execute("SELECT 1 FROM search_pending LIMIT 1").fetchone() is not None:
        return True
    return db.execute(_NEW_EVENTS, (indexed_through(db), 1)).fetchone() is not None


class Indexer:
    """Follows the log of one store: a task between `start` and `stop`, woken by `wake`;
    `catch_up` indexes everything not indexed yet (what a search does first)."""

    def __init__(
        self,
        store: SQLiteBase,
        *,
        delay: float = DELAY,
        batch: int = BATCH,
        budget: float = BUDGET,
    ) -> None:
        self.store = store
        self.delay = delay
        self.batch = batch
        self.budget = budget
        self._woken = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._stopping = False
        self._woken.set()  # first, what a previous run left pending
        self._task = asyncio.create_task(self._run(), name="sqlite-search-indexer")

    async def stop(self) -> None:
        """A flag as well as the cancel, and a bounded wait (as `hub.periodic`): a cancel
        turned into an error, or swallowed, must not keep the loop, and shutdown, going."""
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping = True
        self._woken.set()
        await stop_task(task, "sqlite-search-indexer")

    def wake(self, events: Sequence[Event]) -> None:
        """After a write of this process (a hub listener: must not block)."""
        if not self._woken.is_set() and any(e.type in _INDEXED for e in events):
            self._woken.set()

    def pending(self) -> bool:
        return behind(self.store.db)

    async def catch_up(self) -> int:
        """Index every note there is now; returns how many were taken. Each batch is a
        write of its own: between two, the loop runs the turns that were waiting."""
        taken = 0
        while self.pending():
            taken += await self.store._write(
                lambda db: index_pending(db, self.batch, budget=self.budget)
            )
        return taken

    async def _run(self) -> None:
        while not self._stopping:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(IDLE_CHECK):
                    await self._woken.wait()
            self._woken.clear()
            await asyncio.sleep(self.delay)  # let the messages of the next moments join
            try:
                await self.catch_up()
            except Exception:  # the notes stay: the next wake tries again
                log.exception("search indexing failed; will retry")
