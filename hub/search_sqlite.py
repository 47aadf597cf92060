"""Conversation search on the embedded store: SQLite FTS5, fed from the log.

`install(db)` runs on every connection the SQLite store opens. It registers the functions
that turn an event or a customer into index tokens (`hub.search_text`), creates the tables
and triggers when missing, and indexes whatever the file already holds (a file written
before search existed is indexed once, on its first open by this version).

Messages are indexed off the turn, by following the log: events have ids in the order they
are written (`hub.migrations_sqlite`, version 3), and `search_indexed` holds the id up to
which the index is complete. `hub.search_sqlite_indexer` indexes the events past it in
batches, a moment after they are written, and before every search (so a search finds
everything stored before it); a crash loses nothing, since the mark only moves in the
transaction that indexes. A turn's write does nothing for the index. An edit or an erasure
deletes the event's entry in its own transaction (trigger) and notes the event in
`search_pending` to be indexed again; a deleted event takes its entry and its note with
it. Customers are few and written rarely: triggers index them in their write's transaction.
Only Frontdesk should write to the file (the customer triggers need its functions).

Layout: `search_docs` holds one row per indexed event (a message, a ticket) under the
event's own id, with its tokens, and `search_customers` one per customer; an
external-content FTS5 table indexes each. Ids grow with time, so newest first is rowid
order, which FTS5 walks without sorting.
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
from hub.search_sqlite_indexer import INDEXED_TYPES_SQL, Indexer, row_body
from hub.search_text import TICKET_TYPE, Query, QueryError, customer_body

if TYPE_CHECKING:  # the store imports this module to install the index
    from hub.store_sqlite_base import SQLiteBase

log = logging.getLogger("frontdesk.search.sqlite")

VERSION = "2"  # bump to rebuild every index from the log on the next open
# Bump when only the triggers' text changes: they are replaced, the index is kept.
TRIGGERS_VERSION = "4"

# An edited event is noted, not indexed: the indexer reads it back with the new events.
_EVENT_NOTED = f"""
    INSERT OR IGNORE INTO search_pending (event_id)
    SELECT new.id WHERE new.type IN ({INDEXED_TYPES_SQL});
"""
# `LIMIT 1` keeps SQLite from flattening the subquery into the outer one, which would
# compute the body twice (once for the WHERE, once for the row): a Python call each.
_CUSTOMER_DOC = """
    INSERT INTO search_customers (customer_id, body)
    SELECT new.id, body
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
    body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS search_customers (
    id INTEGER PRIMARY KEY,
    customer_id TEXT NOT NULL UNIQUE,
    body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS search_indexed (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    through INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS search_pending (event_id INTEGER PRIMARY KEY);
CREATE VIRTUAL TABLE IF NOT EXISTS search_fts USING fts5 (
    body, content = 'search_docs', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 0'
);
CREATE VIRTUAL TABLE IF NOT EXISTS search_customer_fts USING fts5 (
    body, content = 'search_customers', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 0'
);
CREATE TRIGGER IF NOT EXISTS search_doc_added AFTER INSERT ON search_docs BEGIN
    INSERT INTO search_fts (rowid, body) VALUES (new.id, new.body);
END;
CREATE TRIGGER IF NOT EXISTS search_doc_removed AFTER DELETE ON search_docs BEGIN
    INSERT INTO search_fts (search_fts, rowid, body) VALUES ('delete', old.id, old.body);
END;
CREATE TRIGGER IF NOT EXISTS search_customer_doc_added AFTER INSERT ON search_customers BEGIN
    INSERT INTO search_customer_fts (rowid, body) VALUES (new.id, new.body);
END;
CREATE TRIGGER IF NOT EXISTS search_customer_doc_removed AFTER DELETE ON search_customers BEGIN
    INSERT INTO search_customer_fts (search_customer_fts, rowid, body)
        VALUES ('delete', old.id, old.body);
END;
CREATE TRIGGER IF NOT EXISTS search_event_changed AFTER UPDATE OF data ON events BEGIN
    DELETE FROM search_docs WHERE id = old.id;
    {_EVENT_NOTED}
END;
CREATE TRIGGER IF NOT EXISTS search_event_removed AFTER DELETE ON events BEGIN
    DELETE FROM search_docs WHERE id = old.id;
    DELETE FROM search_pending WHERE event_id = old.id;
END;
CREATE TRIGGER IF NOT EXISTS search_customer_added AFTER INSERT ON customers BEGIN
    {_CUSTOMER_DOC}
END;
CREATE TRIGGER IF NOT EXISTS search_customer_changed AFTER UPDATE OF data ON customers BEGIN
    DELETE FROM search_customers WHERE customer_id = old.id;
    {_CUSTOMER_DOC}
END;
CREATE TRIGGER IF NOT EXISTS search_customer_removed AFTER DELETE ON customers BEGIN
    DELETE FROM search_customers WHERE customer_id = old.id;
END;
"""

# Every table this module has ever made (a rebuild starts from none of them).
_DROP = """
DROP TABLE IF EXISTS search_pending;
DROP TABLE IF EXISTS search_indexed;
DROP TABLE IF EXISTS search_fts;
DROP TABLE IF EXISTS search_customer_fts;
DROP TABLE IF EXISTS search_docs;
DROP TABLE IF EXISTS search_customers;
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
    "search_customer_doc_added",
    "search_customer_doc_removed",
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
    """Index what the file already holds, in the log's order, and mark it indexed."""
    (events,) = db.execute("SELECT count(*) FROM events").fetchone()
    if events:  # a large log takes a while: say so before, not only after
        log.info("building the search index from the stored log", extra={"events": events})
    db.execute(
        f"""
        INSERT INTO search_docs (id, kind, conversation_id, seq, body)
        SELECT id, CASE WHEN type = '{TICKET_TYPE}' THEN 'ticket' ELSE 'message' END,
               conversation_id, seq, body
        FROM (SELECT id, type, conversation_id, seq, fd_search_event(type, data) AS body
              FROM events WHERE type IN ({INDEXED_TYPES_SQL}))
        WHERE body != '' ORDER BY id
        """
    )
    db.execute(
        "INSERT INTO search_indexed (id, through) SELECT 1, coalesce(max(id), 0) FROM events"
    )
    db.execute(
        """
        INSERT INTO search_customers (customer_id, body)
        SELECT id, body
        FROM (SELECT id, fd_search_customer(data) AS body FROM customers) WHERE body != ''
        ORDER BY id
        """
    )
    count = db.execute(
        "SELECT (SELECT count(*) FROM search_docs) + (SELECT count(*) FROM search_customers)"
    ).fetchone()[0]
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
        after = _cursor(cursor)
        if kind == "customer":
            table = "search_customer_fts"
            sql = (
                f"SELECT d.id, 'customer', '', 0, d.customer_id FROM {table}"
                f" JOIN search_customers AS d ON d.id = {table}.rowid"
            )
        else:
            await self.indexer.catch_up()  # messages stored before this search are found
            table = "search_fts"
            sql = (
                f"SELECT d.id, d.kind, d.conversation_id, d.seq, '' FROM {table}"
                f" JOIN search_docs AS d ON d.id = {table}.rowid"
            )
        sql += f" WHERE {table} MATCH ? AND {table}.rowid < ?"
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
