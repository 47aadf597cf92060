"""Identity resolution latency: `find_customer(identity)` p50/p99 with N identities.

    python bench/identity.py --store sqlite --identities 1000000
    python bench/identity.py --store redis --identities 1000000 [--redis-url redis://…]

The stores are filled in bulk (direct SQL / pipelined SETs in exactly the layout the store
writes), because filling a million identities through `record_inbound` would measure the
write path, not the lookup. Then `--lookups` random identities (hits and 10 % misses) are
resolved one at a time through the real store API. Without `--redis-url` a private
redis-server is started on a free loopback port. Progress goes to stderr; the last stdout
line is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from hub.model import Customer  # noqa: E402
from hub.ports import Backend  # noqa: E402
from hub.store_redis import RedisStore  # noqa: E402
from hub.store_sqlite import SQLiteStore  # noqa: E402

CHANNELS = ("webchat", "telegram", "email", "phone")
BATCH = 10_000


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def identity(n: int) -> str:
    channel = CHANNELS[n % len(CHANNELS)]
    return f"email:user{n}@example.com" if channel == "email" else f"{channel}:{n:09d}"


def customer_json(n: int) -> str:
    customer = Customer(id=f"cus_{n:022d}", identities=(identity(n),), created_at=float(n))
    return json.dumps(customer.to_json(), separators=(",", ":"))


async def fill_sqlite(store: SQLiteStore, count: int) -> None:
    db = store.db
    for start in range(0, count, BATCH):
        stop = min(start + BATCH, count)
        db.execute("BEGIN")
        db.executemany(
            "INSERT INTO customers (id, data) VALUES (?, ?)",
            ((f"cus_{n:022d}", customer_json(n)) for n in range(start, stop)),
        )
        db.executemany(
            "INSERT INTO identities (identity, customer_id) VALUES (?, ?)",
            ((identity(n), f"cus_{n:022d}") for n in range(start, stop)),
        )
        db.execute("COMMIT")
        if stop % 100_000 == 0 or stop == count:
            progress(f"  filled {stop:,}")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")


async def fill_redis(store: RedisStore, count: int) -> None:
    redis, prefix = store.redis, store.prefix
    for start in range(0, count, BATCH):
        stop = min(start + BATCH, count)
        async with redis.pipeline(transaction=False) as pipe:
            for n in range(start, stop):
                pipe.set(f"{prefix}customer:cus_{n:022d}", customer_json(n))
                pipe.set(f"{prefix}identity:{identity(n)}", f"cus_{n:022d}")
            await pipe.execute()
        if stop % 100_000 == 0 or stop == count:
            progress(f"  filled {stop:,}")


async def measure(store: Backend, count: int, lookups: int) -> dict[str, float]:
    rng = random.Random(7)
    timings = []
    misses = 0
    for i in range(lookups):
        miss = i % 10 == 9
        who = f"webchat:absent-{i}" if miss else identity(rng.randrange(count))
        began = time.perf_counter()
        found = await store.find_customer(who)
        timings.append((time.perf_counter() - began) * 1000)
        if (found is None) != miss:
            raise AssertionError(f"lookup of {who} returned {found}")
        misses += miss
    timings.sort()
    return {
        "p50_ms": round(statistics.median(timings), 4),
        "p99_ms": round(timings[int(len(timings) * 0.99) - 1], 4),
        "max_ms": round(timings[-1], 4),
        "lookups": lookups,
        "misses": misses,
    }


async def run(args: argparse.Namespace) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="fd-bench-") as scratch:
        server = None
        store: Backend
        if args.store == "sqlite":
            store = SQLiteStore(Path(scratch) / "bench.db")
        else:
            url = args.redis_url
            if not url:
                from tests.redis_server import RedisServer

                server = RedisServer()
                server.start()
                url = server.url
            store = RedisStore(url, prefix=f"bench{int(time.time())}:")
        await store.open()
        try:
            progress(f"filling {args.identities:,} identities into {args.store}")
            began = time.perf_counter()
            if isinstance(store, SQLiteStore):
                await fill_sqlite(store, args.identities)
            else:
                assert isinstance(store, RedisStore)
                await fill_redis(store, args.identities)
            filled = time.perf_counter() - began
            progress(f"measuring {args.lookups:,} lookups")
            await measure(store, args.identities, min(2000, args.lookups))  # warm-up
            figures = await measure(store, args.identities, args.lookups)
        finally:
            if isinstance(store, RedisStore) and not args.redis_url:
                await store.redis.flushdb()
            await store.close()
            if server is not None:
                server.close()
    return {
        "store": args.store,
        "identities": args.identities,
        "fill_seconds": round(filled, 1),
        **figures,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--store", choices=("sqlite", "redis"), default="sqlite")
    parser.add_argument("--identities", type=int, default=1_000_000)
    parser.add_argument("--lookups", type=int, default=20_000)
    parser.add_argument(
        "--redis-url", default="", help="an existing Redis (default: a private one)"
    )
    args = parser.parse_args()
    result = asyncio.run(run(args))
    progress(
        f"{result['store']}: p50 {result['p50_ms']} ms, p99 {result['p99_ms']} ms "
        f"over {result['lookups']:,} lookups with {result['identities']:,} identities"
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
