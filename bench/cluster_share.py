"""Where a Redis Cluster's commands go: the store's writes of N turns, then their indexing.

`bench/scale.py` counts a live hub's commands over a window, and the search index works in
the background there, so how much of its work falls inside the window depends on how far
behind it runs. This counts each part whole, one after the other, on a fresh three-master
cluster (the test harness's, `tests/redis_cluster.py`): N turns (a customer's message, a
reply committed), each in a conversation of its own, written straight through the store;
then the search index catching up on all of them. For each part: commands per turn
(`INFO commandstats` deltas summed over the masters, scripts' inner commands included), and
every master's share of the whole.

    python bench/cluster_share.py --turns 300

The last stdout line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from redis import Redis

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

# The repository root is on the path from here on.
from hub.abc import TurnResult
from hub.model import Inbound, Outbound
from hub.search_redis import RedisSearch
from hub.store_redis import RedisStore
from tests.redis_cluster import RedisTestCluster

# One message and one reply, both English and Chinese, as a mixed-language desk sees them.
QUESTION = "Where is my refund for order {n}? 我的退款还没到"
ANSWER = "It left the warehouse today. 今天已经发货了。"


def calls(ports: list[int]) -> list[int]:
    """Commands each master has run so far."""
    counts = []
    for port in ports:
        node = Redis(host="127.0.0.1", port=port, decode_responses=True)
        try:
            counts.append(sum(int(v["calls"]) for v in node.info("commandstats").values()))
        finally:
            node.close()
    return counts


def minus(after: list[int], before: list[int]) -> list[int]:
    return [a - b for a, b in zip(after, before, strict=True)]


async def measure(cluster: RedisTestCluster, turns: int) -> dict[str, object]:
    store = RedisStore(cluster.url)
    await store.open()
    try:
        start = calls(cluster.ports)
        for n in range(turns):
            got = await store.record_inbound(
                Inbound(
                    channel="api", sender=f"c{n}", message_id=f"m{n}", text=QUESTION.format(n=n)
                ),
                now=1.0 + n,
            )
            await store.commit_turn(
                got.conversation.id,
                handled_seq=got.event.seq,
                result=TurnResult(replies=(Outbound(text=ANSWER),)),
                now=1.5 + n,
                lease=30,
            )
        written = calls(cluster.ports)
        await RedisSearch(store).catch_up()
        indexed = calls(cluster.ports)
    finally:
        await store.close()
    store_part, index_part = minus(written, start), minus(indexed, written)
    whole = minus(indexed, start)
    return {
        "turns": turns,
        "store_commands_per_turn": round(sum(store_part) / turns, 1),
        "index_commands_per_turn": round(sum(index_part) / turns, 1),
        # In the cluster's slot order: the first master holds slots 0–5460.
        "shares_by_master": [round(c / sum(whole), 3) for c in whole],
        "store_shares_by_master": [round(c / sum(store_part), 3) for c in store_part],
        "index_shares_by_master": [round(c / sum(index_part), 3) for c in index_part],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--turns", type=int, default=300)
    args = parser.parse_args()
    cluster = RedisTestCluster()
    cluster.start()
    try:
        row = asyncio.run(measure(cluster, args.turns))
    finally:
        cluster.close()
    print(json.dumps(row))


if __name__ == "__main__":
    main()
