"""What logging a web chat turn's events costs SQLite, part by part, with the store's schema.

A turn of the demo bot logs three events (the customer's message, the bot's reply, the
turn's record); the two messages are searchable. This inserts those three events per turn
into a fresh file made by the store's own migrations and search install, in transactions
of `--batch` turns (as the group commit writes them), and times the CPU per turn of:

- **events**: the inserts alone (the search index follows the log by id: nothing of it
  is written with the events);
- **+ indexed**: and the indexer's batches run before each commit (`index_pending`);
- **FTS5 left out**: the same, with the trigger that feeds FTS5 from the document rows
  dropped, so the difference is FTS5's own work;
- **secure_delete FAST / OFF**: the indexed write with the store's `secure_delete=ON`
  relaxed (which erasure does not allow: freed pages would keep erased text).

    .venv/bin/python bench/sqlite_log_writes.py --turns 30000

Figures in `docs/performance.md` ("Seventeenth round", and "Nineteenth round" for the log
in write order).
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hub import search_sqlite
from hub.migrations_sqlite import migrate
from hub.search_sqlite_indexer import index_pending

MESSAGE_IN = json.dumps(
    {
        "channel": "webchat",
        "sender": "v_ff0KSWAIjZp6_F2yf_ab1A",
        "message_id": "v_ff0KSWAIjZp6_F2yf_ab1A:b0-1",
        "text": "退货政策是什么",
        "attachments": [],
        "thread_hint": "",
        "timestamp": 1796180420.77,
        "raw": {"client_id": "b0-1"},
        "kind": "message",
    },
    ensure_ascii=False,
)
MESSAGE_OUT = json.dumps(
    {
        "outbound": {
            "text": "You can return any item within 30 days of delivery for a full refund.",
            "buttons": [],
        },
        "delivery_id": "del_01a234b228a089ed09f2ea",
    }
)
TURN = json.dumps({"intent": "refund_policy", "confidence": 0.91, "handled_as": "faq"})


def _open(path: Path, *, secure_delete: str, drop: tuple[str, ...]) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute(f"PRAGMA secure_delete={secure_delete}")
    migrate(db, path=str(path))
    search_sqlite.install(db)
    for trigger in drop:
        db.execute(f"DROP TRIGGER {trigger}")
    return db


def cpu_per_turn(
    turns: int,
    batch: int,
    *,
    index: bool,
    secure_delete: str = "ON",
    drop: tuple[str, ...] = (),
) -> float:
    """µs of CPU per turn to log (and, with `index`, index) `turns` turns."""
    with tempfile.TemporaryDirectory() as directory:
        db = _open(Path(directory) / "log.db", secure_delete=secure_delete, drop=drop)
        last_seq: dict[str, int] = {}
        started = time.process_time()
        for first in range(0, turns, batch):
            db.execute("BEGIN IMMEDIATE")
            rows = []
            for n in range(first, first + batch):
                conversation = f"con_{n % 60:04d}"  # 60 visitors, as the web chat bench
                seq = last_seq.get(conversation, 0)
                rows += [
                    (conversation, seq + 1, "message.in", 1.0, MESSAGE_IN),
                    (conversation, seq + 2, "message.out", 1.0, MESSAGE_OUT),
                    (conversation, seq + 3, "bot.turn", 1.0, TURN),
                ]
                last_seq[conversation] = seq + 3
            db.executemany(
                "INSERT INTO events (conversation_id, seq, type, at, data) VALUES (?,?,?,?,?)",
                rows,
            )
            while index and index_pending(db):
                pass
            db.execute("COMMIT")
        elapsed = time.process_time() - started
        db.close()
    return elapsed / turns * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=30_000)
    parser.add_argument("--batch", type=int, default=30, help="turns per transaction")
    args = parser.parse_args()
    n, batch = args.turns, args.batch
    runs: dict[str, Callable[[], float]] = {
        "events": lambda: cpu_per_turn(n, batch, index=False),
        "+ indexed": lambda: cpu_per_turn(n, batch, index=True),
        "FTS5 left out": lambda: cpu_per_turn(n, batch, index=True, drop=("search_doc_added",)),
        "secure_delete FAST": lambda: cpu_per_turn(n, batch, index=True, secure_delete="FAST"),
        "secure_delete OFF": lambda: cpu_per_turn(n, batch, index=True, secure_delete="OFF"),
    }
    figures: dict[str, float] = {}
    for name, run in runs.items():
        figures[name] = round(run(), 1)
        print(f"{name:>20}: {figures[name]:7.1f} µs CPU per turn", flush=True)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
