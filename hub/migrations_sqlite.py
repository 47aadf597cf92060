"""Schema versions of the SQLite store, migrated forward when a store opens.

The version is SQLite's `PRAGMA user_version`. Each migration runs in one transaction
together with the version bump, so a crash leaves the file at the version before it or
after it, never in between. A file newer than this code knows refuses to open: an older
Frontdesk must not write into tables it does not understand.

Versions:

0. Files of the releases before versions existed (or a new, empty file).
1. The schema of the release that introduced versions; migrating to it brings any earlier
   file forward (tables created if missing, outbox columns added and backfilled).
2. `leases` and `lease_epoch`: fencing tokens of conversation leases.
3. `events` in the order it is written (an id per event, `events_by_seq` for the
   conversation's order), where it was kept in (conversation, seq) order.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass

from hub.errors import ConfigError

log = logging.getLogger("frontdesk.store.sqlite")

_SCHEMA_V1 = """
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
CREATE INDEX IF NOT EXISTS conversations_pending ON conversations (id)
    WHERE inbound_seq > handled_seq;
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
    data TEXT NOT NULL,
    conversation_id TEXT NOT NULL DEFAULT '',
    seq INTEGER NOT NULL DEFAULT 0,
    parts TEXT NOT NULL DEFAULT '[]'
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
) WITHOUT ROWID
"""

# Columns the outbox gained before versions existed: (table, column, definition, backfill).
_ADDED_COLUMNS = (
    (
        "outbox",
        "conversation_id",
        "TEXT NOT NULL DEFAULT ''",
        "UPDATE outbox SET conversation_id = json_extract(data, '$.conversation_id')",
    ),
    (
        "outbox",
        "seq",
        "INTEGER NOT NULL DEFAULT 0",
        "UPDATE outbox SET seq = json_extract(data, '$.seq')",
    ),
    ("outbox", "parts", "TEXT NOT NULL DEFAULT '[]'", ""),
)


def _to_v1(db: sqlite3.Connection) -> None:
    # Statement by statement: `executescript` would commit the migration's transaction.
    for statement in _SCHEMA_V1.split(";"):
        db.execute(statement)
    for table, column, definition, backfill in _ADDED_COLUMNS:
        present = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
        if column not in present:
            db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {definition}")
            if backfill:
                db.execute(backfill)
    # Each conversation's outstanding replies in order: its head is the first of them.
    db.execute(
        "CREATE INDEX IF NOT EXISTS outbox_lane ON outbox (conversation_id, seq)"
        " WHERE parked_at IS NULL"
    )


def _to_v2(db: sqlite3.Connection) -> None:
    # The highest fence that has committed, per lease; and the count of opens, the high
    # half of every fence a process hands out (see `SQLiteStore.conversation_lock`).
    db.execute(
        "CREATE TABLE IF NOT EXISTS leases (name TEXT PRIMARY KEY, fence INTEGER NOT NULL)"
        " WITHOUT ROWID"
    )
    db.execute(
        "CREATE TABLE IF NOT EXISTS lease_epoch"
        " (id INTEGER PRIMARY KEY CHECK (id = 1), epoch INTEGER NOT NULL)"
    )
    db.execute("INSERT OR IGNORE INTO lease_epoch VALUES (1, 0)")


def _to_v3(db: sqlite3.Connection) -> None:
    # The log in the order it is written. Keyed by (conversation, seq), every turn's events
    # went into as many pages as there were conversations in the batch (each a full page in
    # the WAL at COMMIT); in write order they share the table's last page, and only the
    # small entries of `events_by_seq` scatter. `AUTOINCREMENT`: an id is never given again,
    # even after the highest is deleted, so the search indexer can follow the log by id
    # (`hub.search_sqlite_indexer`). Dropping the old table drops its triggers; the search
    # index is rebuilt on the next open (its `VERSION`).
    db.execute(
        "CREATE TABLE events_by_write ("
        " id INTEGER PRIMARY KEY AUTOINCREMENT,"
        " conversation_id TEXT NOT NULL, seq INTEGER NOT NULL,"
        " type TEXT NOT NULL, at REAL NOT NULL, data TEXT NOT NULL)"
    )
    db.execute(
        "INSERT INTO events_by_write (conversation_id, seq, type, at, data)"
        " SELECT conversation_id, seq, type, at, data FROM events ORDER BY at, conversation_id, seq"
    )
    db.execute("DROP TABLE events")
    db.execute("ALTER TABLE events_by_write RENAME TO events")
    db.execute("CREATE UNIQUE INDEX events_by_seq ON events (conversation_id, seq)")
    (count,) = db.execute("SELECT count(*) FROM events").fetchone()
    if count:
        log.info("sqlite store: %d events copied into the log in write order", count)


@dataclass(frozen=True, slots=True, kw_only=True)
class Migration:
    """Brings the file from `version - 1` to `version`."""

    version: int
    summary: str
    apply: Callable[[sqlite3.Connection], None]


MIGRATIONS: tuple[Migration, ...] = (
    Migration(version=1, summary="the schema before versions, brought forward", apply=_to_v1),
    Migration(version=2, summary="fencing tokens of conversation leases", apply=_to_v2),
    Migration(version=3, summary="the event log in the order it is written", apply=_to_v3),
)
CURRENT = MIGRATIONS[-1].version


def schema_version(db: sqlite3.Connection) -> int:
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def migrate(db: sqlite3.Connection, *, path: str) -> int:
    """Bring an open file (autocommit mode) to `CURRENT`; returns the version found."""
    found = schema_version(db)
    if found > CURRENT:
        raise ConfigError(
            f"the SQLite store at {path} has schema version {found}, newer than this "
            f"Frontdesk knows ({CURRENT}); run the newer Frontdesk, or restore a backup",
            key="store.url",
        )
    # A new file is only created; a file that holds a store is told about (it may take a while).
    holds_data = db.execute("SELECT 1 FROM sqlite_master WHERE name = 'events'").fetchone()
    say = log.info if holds_data is not None else log.debug
    for migration in MIGRATIONS:
        if migration.version <= found:
            continue
        db.execute("BEGIN IMMEDIATE")
        try:
            # Read again under the write lock: another process may have just migrated.
            if schema_version(db) < migration.version:
                # A large file takes a while (version 3 copies the whole log): say so first.
                say(
                    "sqlite store %s: migrating to schema version %d (%s)",
                    path,
                    migration.version,
                    migration.summary,
                )
                started = time.monotonic()
                migration.apply(db)
                db.execute(f"PRAGMA user_version = {migration.version}")
                say(
                    "sqlite store %s: schema version %d in %.1f s",
                    path,
                    migration.version,
                    time.monotonic() - started,
                )
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
    return found
