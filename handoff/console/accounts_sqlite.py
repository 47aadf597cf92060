"""Accounts in SQLite: three small tables of their own, in the hub's file or any other.

Queries are tiny and indexed, so they run on the event loop like the hub's own store does;
the connection is private so that nothing here can hold the hub's transactions.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from handoff.console.accounts import Account, AccountError, AccountStore, Failures, Session

SCHEMA = """
CREATE TABLE IF NOT EXISTS console_accounts (
    id TEXT PRIMARY KEY,
    data TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS console_sessions (
    key TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    expires_at REAL NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS console_sessions_account ON console_sessions (account_id);
CREATE TABLE IF NOT EXISTS console_failures (
    key TEXT PRIMARY KEY,
    count INTEGER NOT NULL,
    last REAL NOT NULL,
    forget_at REAL NOT NULL
);
"""


class SQLiteAccounts(AccountStore):
    """`sqlite:///path.db`: the same file as the hub's store by default."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._db: sqlite3.Connection | None = None

    async def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA busy_timeout=5000")
        db.executescript(SCHEMA)
        self._db = db

    async def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    @property
    def db(self) -> sqlite3.Connection:
        if self._db is None:
            raise RuntimeError("account store is not open")
        return self._db

    # ------------------------------------------------------------------ accounts
    async def add(self, account: Account) -> None:
        try:
            self.db.execute(
                "INSERT INTO console_accounts (id, data) VALUES (?, ?)",
                (account.id, json.dumps(account.to_json())),
            )
        except sqlite3.IntegrityError:
            raise AccountError(f"account {account.id!r} exists already") from None

    async def get(self, account_id: str) -> Account | None:
        row = self.db.execute(
            "SELECT data FROM console_accounts WHERE id = ?", (account_id,)
        ).fetchone()
        return Account.from_json(json.loads(row[0])) if row else None

    async def all(self) -> list[Account]:
        rows = self.db.execute("SELECT data FROM console_accounts ORDER BY id").fetchall()
        return [Account.from_json(json.loads(row[0])) for row in rows]

    async def replace(self, account: Account) -> None:
        cursor = self.db.execute(
            "UPDATE console_accounts SET data = ? WHERE id = ?",
            (json.dumps(account.to_json()), account.id),
        )
        if cursor.rowcount == 0:
            raise AccountError(f"no account {account.id!r}")

    async def replace_if(self, account: Account, *, was: Account) -> bool:
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            row = db.execute(
                "SELECT data FROM console_accounts WHERE id = ?", (account.id,)
            ).fetchone()
            # Compared as accounts, not as text: a record written by an older release may
            # spell the same account differently.
            same = row is not None and Account.from_json(json.loads(row[0])) == was
            if same:
                db.execute(
                    "UPDATE console_accounts SET data = ? WHERE id = ?",
                    (json.dumps(account.to_json()), account.id),
                )
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
        return same

    # ------------------------------------------------------------------ sessions
    async def put_session(self, session: Session) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO console_sessions (key, account_id, expires_at, data)"
            " VALUES (?, ?, ?, ?)",
            (session.key, session.account_id, session.expires_at, json.dumps(session.to_json())),
        )

    async def get_session(self, key: str, *, now: float) -> Session | None:
        row = self.db.execute(
            "SELECT data, expires_at FROM console_sessions WHERE key = ?", (key,)
        ).fetchone()
        if row is None:
            return None
        if row[1] <= now:
            await self.drop_session(key)
            return None
        return Session.from_json(json.loads(row[0]))

    async def drop_session(self, key: str) -> None:
        self.db.execute("DELETE FROM console_sessions WHERE key = ?", (key,))

    async def drop_sessions(self, account_id: str, *, api_tokens: bool = False) -> int:
        rows = self.db.execute(
            "SELECT key, data FROM console_sessions WHERE account_id = ?", (account_id,)
        ).fetchall()
        dropped = 0
        for key, data in rows:
            if api_tokens or not json.loads(data).get("api_token", False):
                await self.drop_session(key)
                dropped += 1
        return dropped

    # ------------------------------------------------------------------ failed logins
    async def failures(self, key: str, *, now: float) -> Failures:
        row = self.db.execute(
            "SELECT count, last FROM console_failures WHERE key = ? AND forget_at > ?", (key, now)
        ).fetchone()
        return Failures() if row is None else Failures(count=int(row[0]), last=float(row[1]))

    async def add_failure(self, key: str, *, now: float, forget_after: float) -> Failures:
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            # Forgotten streaks are swept as we go: the table holds recent keys only.
            db.execute("DELETE FROM console_failures WHERE forget_at <= ?", (now,))
            row = db.execute(
                "INSERT INTO console_failures (key, count, last, forget_at) VALUES (?, 1, ?, ?)"
                " ON CONFLICT (key) DO UPDATE SET count = count + 1, last = excluded.last,"
                " forget_at = excluded.forget_at RETURNING count, last",
                (key, now, now + forget_after),
            ).fetchone()
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
        return Failures(count=int(row[0]), last=float(row[1]))

    async def clear_failures(self, key: str) -> None:
        self.db.execute("DELETE FROM console_failures WHERE key = ?", (key,))
