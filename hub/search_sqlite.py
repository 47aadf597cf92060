"""Conversation search on the embedded store: SQLite FTS5, fed from the log.

`install(db)` runs on every connection the SQLite store opens. It registers the functions
that turn an event or a customer into index tokens (`hub.search_text`), creates the tables
and triggers when missing, and indexes whatever the file already holds (a file written
before search existed is indexed once, on its first open by this version).

Messages are indexed off the turn: a trigger on `events` only notes an indexed event's key
in `search_pending` (in the write's own transaction, so nothing is missed, even after a
crash), and `hub.search_sqlite_indexer` turns what is pending into index entries in
batches, a moment later, and before every search (so a search finds everything stored
before it). An edit or an erasure deletes the event's entry in its own transaction and
notes the event again; a deleted event takes its entry with it. Customers are few and
written rarely: triggers index them in their write's transaction. Only Frontdesk should
write to the file (the customer triggers need its functions).

Layout: `search_docs` holds one row per indexed thing (a message, a ticket, a customer)
with its tokens; two external-content FTS5 tables index those rows, one for conversations
(messages and tickets) and one for customers. Rowids grow with time, so newest first is
rowid order, which FTS5 walks without sorting.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from hub import jsonio
from hub.model import Event
from hub.search import Hit, Hits, Kind, Scope
from hub.search_sqlite_indexer import Indexer, row_body
from hub.search_text import INDEXED_TYPES, TICKET_TYPE, Query, QueryError, customer_body

if TYPE_CHECKING:  # the store imports this module to install the index
    from hub.store_sqlite_base import SQLiteBase

log = logging.getLogger("frontdesk.search.sqlite")

VERSION = "1"  # bump to rebuild every index from the log on the next open
# Bump when only the triggers' text changes: they are replaced, the index is kept.
TRIGGERS_VERSION = "3"
_TYPES = ", ".join(f"'{t}'" for t in INDEXED_TYPES)

# An indexed event is noted, not indexed: the indexer reads it back in a batch (the FTS5
# index and the tokenizer cost far less per document in batches, and nothing of them is
# paid inside a turn's write). `OR REPLACE`: an event noted again (edited before it was
# indexed) is indexed once, from its latest text.
_EVENT_PENDING = f"""
    INSERT OR REPLACE INTO search_pending (conversation_id, seq)
    SELECT new.conversation_id, new.seq WHERE new.type IN ({_TYPES});
"""
# `LIMIT 1` keeps SQLite from flattening the subquery into the outer one, which would
# compute the body twice (once for the WHERE, once for the row): a Python call each.
_CUSTOMER_DOC = """
    INSERT INTO search_docs (kind, conversation_id, seq, customer_id, body)
    SELECT 'customer', '', 0, new.id, body
    FROM (SELECT fd_search_customer(new.data) AS body LIMIT 1)
    WHERE body != '';
"""

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS search_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS search_docs (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    customer_id TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS search_docs_by_event ON search_docs (conversation_id, seq);
CREATE INDEX IF NOT EXISTS search_docs_by_customer ON search_docs (customer_id)
    WHERE kind = 'customer';
CREATE TABLE IF NOT EXISTS search_pending (
    id INTEGER PRIMARY KEY,
    conversation_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    UNIQUE (conversation_id, seq)
);
CREATE VIRTUAL TABLE IF NOT EXISTS search_fts USING fts5 (
    body, content = 'search_docs', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 0'
);
CREATE VIRTUAL TABLE IF NOT EXISTS search_customer_fts USING fts5 (
    body, content = 'search_docs', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 0'
);
CREATE TRIGGER IF NOT EXISTS search_doc_added AFTER INSERT ON search_docs BEGIN
    INSERT INTO search_fts (rowid, body) SELECT new.id, new.body WHERE new.kind != 'customer';
    INSERT INTO search_customer_fts (rowid, body)
        SELECT new.id, new.body WHERE new.kind = 'customer';
END;
CREATE TRIGGER IF NOT EXISTS search_doc_removed AFTER DELETE ON search_docs BEGIN
    INSERT INTO search_fts (search_fts, rowid, body)
        SELECT 'delete', old.id, old.body WHERE old.kind != 'customer';
    INSERT INTO search_customer_fts (search_customer_fts, rowid, body)
        SELECT 'delete', old.id, old.body WHERE old.kind = 'customer';
END;
CREATE TRIGGER IF NOT EXISTS search_event_added AFTER INSERT ON events
WHEN new.type IN ({_TYPES}) BEGIN
    {_EVENT_PENDING}
END;
CREATE TRIGGER IF NOT EXISTS search_event_changed AFTER UPDATE OF data ON events BEGIN
    DELETE FROM search_docs
        WHERE conversation_id = old.conversation_id AND seq = old.seq AND kind != 'customer';
    {_EVENT_PENDING}
END;
CREATE TRIGGER IF NOT EXISTS search_event_removed AFTER DELETE ON events BEGIN
    DELETE FROM search_docs
        WHERE conversation_id = old.conversation_id AND seq = old.seq AND kind != 'customer';
    DELETE FROM search_pending WHERE conversation_id = old.conversation_id AND seq = old.seq;
END;
CREATE TRIGGER IF NOT EXISTS search_customer_added AFTER INSERT ON customers BEGIN
    {_CUSTOMER_DOC}
END;
CREATE TRIGGER IF NOT EXISTS search_customer_changed AFTER UPDATE OF data ON customers BEGIN
    DELETE FROM search_docs WHERE kind = 'customer' AND customer_id = old.id;
    {_CUSTOMER_DOC}
END;
CREATE TRIGGER IF NOT EXISTS search_customer_removed AFTER DELETE ON customers BEGIN
    DELETE FROM search_docs WHERE kind = 'customer' AND customer_id = old.id;
END;
"""

_DROP = """
DROP TABLE IF EXISTS search_pending;
DROP TABLE IF EXISTS search_fts;
DROP TABLE IF EXISTS search_customer_fts;
DROP TABLE IF EXISTS search_docs;
"""


def _customer_body(data: str) -> str:
    try:
        return customer_body(jsonio.stored(data))
    except Exception:
        log.exception("cannot index a customer; it is stored but not searchable")
        return ""


def install(db: sqlite3.Connection) -> None:
    """Make `db` keep the search index (every connection), creating and filling it once."""
    db.create_function("fd_search_event", 2, row_body, deterministic=True)
    db.create_function("fd_search_customer", 1, _customer_body, deterministic=True)
    if _version(db) == VERSION and _triggers(db) == set(TRIGGERS):
        # (a migration that rebuilt `events` would have dropped its triggers)
        if _version(db, "triggers") != TRIGGERS_VERSION:
            _replace_triggers(db)
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        for statement in _DROP.strip().split(";"):
            if statement.strip():
                db.execute(statement)
        for name in TRIGGERS:
            db.execute(f"DROP TRIGGER IF EXISTS {name}")
        _create(db)
        _backfill(db)
        db.execute(
            "INSERT OR REPLACE INTO search_meta (key, value) VALUES ('version', ?), "
            "('triggers', ?)",
            (VERSION, TRIGGERS_VERSION),
        )
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def _replace_triggers(db: sqlite3.Connection) -> None:
    """New trigger definitions over the same index (nothing to rebuild)."""
    db.execute("BEGIN IMMEDIATE")
    try:
        for name in TRIGGERS:
            db.execute(f"DROP TRIGGER IF EXISTS {name}")
        _create(db)  # every table exists already: this creates the triggers
        db.execute(
            "INSERT OR REPLACE INTO search_meta (key, value) VALUES ('triggers', ?)",
            (TRIGGERS_VERSION,),
        )
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


TRIGGERS = (
    "search_doc_added",
    "search_doc_removed",
    "search_event_added",
    "search_event_changed",
    "search_event_removed",
    "search_customer_added",
    "search_customer_changed",
    "search_customer_removed",
)


def _triggers(db: sqlite3.Connection) -> set[str]:
    rows = db.execute(
        "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'search\\_%' ESCAPE '\\'"
    ).fetchall()
    return {str(row[0]) for row in rows}


def _version(db: sqlite3.Connection, key: str = "version") -> str:
    if not db.execute("SELECT 1 FROM sqlite_master WHERE name = 'search_meta'").fetchone():
        return ""
    row = db.execute("SELECT value FROM search_meta WHERE key = ?", (key,)).fetchone()
    return str(row[0]) if row else ""


def _create(db: sqlite3.Connection) -> None:
    # `executescript` would commit the open transaction; split on the statement ends.
    statement = ""
    for line in SCHEMA.splitlines(keepends=True):
        statement += line
        if sqlite3.complete_statement(statement):
            db.execute(statement)
            statement = ""


def _backfill(db: sqlite3.Connection) -> None:
    """Index what the file already holds, oldest first (so rowids keep time order)."""
    db.execute(
        f"""
        INSERT INTO search_docs (kind, conversation_id, seq, customer_id, body)
        SELECT CASE WHEN type = '{TICKET_TYPE}' THEN 'ticket' ELSE 'message' END,
               conversation_id, seq, '', body
        FROM (SELECT type, conversation_id, seq, at, fd_search_event(type, data) AS body
              FROM events WHERE type IN ({_TYPES}))
        WHERE body != '' ORDER BY at, conversation_id, seq
        """
    )
    db.execute(
        """
        INSERT INTO search_docs (kind, conversation_id, seq, customer_id, body)
        SELECT 'customer', '', 0, id, body
        FROM (SELECT id, fd_search_customer(data) AS body FROM customers) WHERE body != ''
        ORDER BY id
        """
    )
    count = db.execute("SELECT count(*) FROM search_docs").fetchone()[0]
    if count:
        log.info("search index built from the stored log", extra={"documents": count})


def purge(db: sqlite3.Connection) -> None:
    """Merge the FTS segments, so that entries deleted by an erasure are gone from the file
    (FTS5 otherwise keeps them behind delete markers until a merge happens to run)."""
    db.execute("INSERT INTO search_fts (search_fts) VALUES ('optimize')")
    db.execute("INSERT INTO search_customer_fts (search_customer_fts) VALUES ('optimize')")


class SQLiteSearch:
    """The `SearchIndex` of an `SQLiteStore` (which keeps it; see the module docstring)."""

    def __init__(self, store: SQLiteBase) -> None:
        self.store = store
        self.indexer = Indexer(store)

    async def start(self) -> None:
        await self.indexer.start()

    async def stop(self) -> None:
        await self.indexer.stop()

    def wrote(self, events: Sequence[Event]) -> None:
        return None  # one process: the bus brings the same events to `on_events` at once

    def on_events(self, events: Sequence[Event]) -> None:
        self.indexer.wake(events)

    async def forget_customer(self, customer_id: str, conversation_ids: Sequence[str]) -> None:
        # The erasure's own writes removed the entries (triggers); merge them away for good.
        with self.store._transaction() as db:
            purge(db)

    async def search(
        self,
        query: Query,
        *,
        kind: Kind,
        scope: Scope | None,
        limit: int,
        cursor: str | None = None,
    ) -> Hits:
        table = "search_customer_fts" if kind == "customer" else "search_fts"
        after = _cursor(cursor)
        if kind != "customer":  # messages stored before this search are found by it
            await self.indexer.catch_up()
        sql = (
            f"SELECT d.id, d.kind, d.conversation_id, d.seq, d.customer_id FROM {table}"
            f" JOIN search_docs AS d ON d.id = {table}.rowid"
            f" WHERE {table} MATCH ? AND {table}.rowid < ?"
        )
        args: list[Any] = [query.fts(), after]
        if scope is not None:
            if kind == "customer":
                sql += " AND d.customer_id IN (SELECT value FROM json_each(?))"
                args.append(json.dumps(sorted(scope.customers)))
            else:
                sql += " AND d.conversation_id IN (SELECT value FROM json_each(?))"
                args.append(json.dumps(sorted(scope.conversations)))
        sql += f" ORDER BY {table}.rowid DESC LIMIT ?"
        args.append(limit + 1)
        try:
            rows = self.store.db.execute(sql, args).fetchall()
        except sqlite3.OperationalError as error:  # never expected: the query is built here
            raise QueryError(f"the search could not run: {error}") from None
        hits = [
            Hit(kind=row[1], conversation_id=row[2], seq=row[3], customer_id=row[4])
            for row in rows[:limit]
        ]
        more = len(rows) > limit
        await asyncio.sleep(0)  # searches are reads: let a waiting write go first
        return Hits(items=hits, next_cursor=str(rows[limit - 1][0]) if more and limit else None)


def _cursor(cursor: str | None) -> int:
    if not cursor:
        return 2**63 - 1
    if not cursor.isdigit() or len(cursor) > 19:
        raise QueryError("the page cursor is not one this search gave out")
    return int(cursor)
