"""Where a profiled hub's samples went, by part of the code (`docs/performance.md`).

Reads py-spy's collapsed stacks (`py-spy record --format raw`) and gives each sample to the
innermost frame that belongs to a known part (the store, the search index, the dialog
engine, a connector, redis-py, aiohttp, the event loop …), so a part's share includes the
library code it calls that no other part claims. Prints one line per part, largest first.

    .venv/bin/python bench/profile_share.py profile.txt
"""

from __future__ import annotations

import argparse
import collections
from pathlib import Path

# (part, substrings of a frame "function (file:line)"), looked up in this order per frame.
PARTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("WAL checkpointer thread", ("_Checkpointer",)),
    (
        "search index (the indexer's batches)",
        ("search_sqlite_indexer.py", "search_redis.py", "search_text.py"),
    ),
    ("JSON (hub.jsonio)", ("jsonio.py",)),
    (
        "store: the turn's writes and reads",
        ("store_sqlite", "store_redis", "leases.py", "store_common.py", "hub/ports/"),
    ),
    ("redis-py client", ("redis/",)),
    ("dialog engine (NLU, flows, answers)", ("dialogs/",)),
    ("web chat connector (frames, sessions)", ("connectors/webchat",)),
    ("api connector and delivery", ("connectors/api.py", "hub/delivery.py")),
    ("event bus and publish order", ("hub/bus.py", "hub/bus_order.py", "hub/bus_redis.py")),
    (
        "hub: turn logic, identity, hand-off, edges",
        (
            "hub/hub.py",
            "hub/identity",
            "handoff/",
            "hub/edge.py",
            "hub/http.py",
            "hub/metrics.py",
            "hub/ids.py",
        ),
    ),
    ("aiohttp server and client", ("aiohttp/",)),
    ("idle threads", ("concurrent/futures/thread.py", "threading.py")),
    ("asyncio loop and sockets", ("asyncio/",)),
)


def shares(lines: list[str]) -> list[tuple[str, float]]:
    counts: collections.Counter[str] = collections.Counter()
    total = 0
    for line in lines:
        stack, _, count = line.rstrip().rpartition(" ")
        if not stack or not count.isdigit():
            continue
        samples = int(count)
        total += samples
        counts[_part(stack.split(";"))] += samples
    return [(part, 100 * n / max(total, 1)) for part, n in counts.most_common()]


def _part(frames: list[str]) -> str:
    for frame in reversed(frames):  # innermost first
        for part, needles in PARTS:
            if any(needle in frame for needle in needles):
                return part
    return "other"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("profile", type=Path, help="py-spy's collapsed stacks (--format raw)")
    args = parser.parse_args()
    for part, share in shares(args.profile.read_text(encoding="utf-8").splitlines()):
        print(f"{share:5.1f} %  {part}")
