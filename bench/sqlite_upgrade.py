"""How long a hub on SQLite takes to open a file of the previous schema (version 2).

Writes a file as the previous release laid it out (`tests/hub/test_store_migrations.py`:
the schema and its search index, by raw SQL) holding `--turns` web chat turns of three
events each (a customer's line, half English and half Chinese, all different; the bot's
answer; the turn's record), then opens it with today's store and prints the migration's
log lines with their times: the log copied in write order (schema version 3), then the
search index rebuilt from it.

    .venv/bin/python bench/sqlite_upgrade.py --turns 100000

Figures in `docs/performance.md` ("Nineteenth round").
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import random
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hub.store_sqlite import SQLiteStore
from tests.hub.test_store_migrations import OLD_SQLITE_SCHEMA, V2_SQLITE_SCHEMA

EN = [
    "refund",
    "order",
    "parcel",
    "delivery",
    "screen",
    "battery",
    "warranty",
    "charger",
    "headphones",
    "laptop",
]
ZH = [
    "退款",
    "订单",
    "包裹",
    "快递",
    "屏幕",
    "电池",
    "保修",
    "充电器",
    "耳机",
    "笔记本",
    "手机",
    "退货",
    "换货",
    "发票",
]
ANSWER = "You can return any product within 30 days of delivery for a full refund."


def write_version_2(path: Path, turns: int) -> int:
    draw = random.Random(0)
    conversations = max(1, turns // 6)  # six turns per conversation
    rows = []
    for turn in range(turns):
        conversation, seq = f"con_{turn % conversations:08d}", (turn // conversations) * 3
        if turn % 2:
            text = " ".join(draw.choice(EN) for _ in range(8)) + f" #{turn}"
        else:
            text = "".join(draw.choice(ZH) for _ in range(6)) + str(turn)
        said = {"channel": "webchat", "sender": "v", "message_id": f"m{turn}", "text": text}
        rows += [
            (conversation, seq + 1, "message.in", float(turn), json.dumps(said)),
            (conversation, seq + 2, "message.out", float(turn), json.dumps({"text": ANSWER})),
            (conversation, seq + 3, "bot.turn", float(turn), json.dumps({"intent": "x"})),
        ]
    db = sqlite3.connect(path)
    db.executescript(OLD_SQLITE_SCHEMA + V2_SQLITE_SCHEMA)
    db.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?)", rows)
    db.commit()
    db.close()
    return len(rows)


async def open_store(path: Path) -> float:
    store = SQLiteStore(path)
    started = time.monotonic()
    await store.open()
    elapsed = time.monotonic() - started
    await store.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=100_000)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(relativeCreated)8.0f ms  %(message)s")
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "frontdesk.db"
        events = write_version_2(path, args.turns)
        size = path.stat().st_size / 2**20
        print(f"version 2 file: {events:,} events, {size:.0f} MiB", flush=True)
        print(f"opened (migrated and indexed) in {asyncio.run(open_store(path)):.1f} s")


if __name__ == "__main__":
    main()
