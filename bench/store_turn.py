"""The embedded store's part of a turn, without HTTP: CPU time and work per turn.

Each conversation runs the store calls of an `api`-channel turn with the echo bot — store
the message, read the turn's context, commit the reply under the conversation's lease,
record the delivery receipt — with `--conversations` of them at once, so the writes are
group-committed as they are under load. Each run is a fresh process on a fresh file.

Besides CPU time per turn (user + system, every thread, the checkpointer included) it
counts what does not depend on how busy the machine is: SQL statements executed (those
of triggers included), JSON documents decoded, and model objects copied with
`dataclasses.replace`.

    python bench/store_turn.py                                   # this tree
    python bench/store_turn.py --baseline ../frontdesk-old --rounds 5

With `--baseline`, runs of this tree and of the other checkout alternate, and the medians
are compared. The last stdout line is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

# The repository root is on the path from here on.
from bench.api import add_baseline_options, checkouts, run_child

# Runs in a child process whose PYTHONPATH picks the tree under test.
CHILD = r"""
import asyncio, dataclasses, json, os, sys, tempfile, time

calls = {"json_decodes": 0, "copies": 0, "statements": 0}
_loads = json.loads
def counting_loads(*args, **kwargs):
    calls["json_decodes"] += 1
    return _loads(*args, **kwargs)
json.loads = counting_loads
_replace = dataclasses.replace
def counting_replace(*args, **kwargs):
    calls["copies"] += 1
    return _replace(*args, **kwargs)
dataclasses.replace = counting_replace

import hub.store_sqlite, hub.store_sqlite_base, hub.store_common
for module in (hub.store_sqlite, hub.store_sqlite_base, hub.store_common):
    if hasattr(module, "replace"):
        module.replace = counting_replace
from hub.abc import TurnResult
from hub.model import Inbound, Outbound
from hub.store_sqlite import SQLiteStore
try:
    from hub.search_sqlite import SQLiteSearch
except ImportError:  # trees before search: their writes did no indexing either
    SQLiteSearch = None

conversations, turns = int(sys.argv[1]), int(sys.argv[2])

async def main():
    folder = tempfile.mkdtemp(prefix="fd-store-turn-")
    store = SQLiteStore(os.path.join(folder, "bench.db"))
    await store.open()
    store.db.set_trace_callback(lambda sql: calls.__setitem__("statements", calls["statements"] + 1))
    done = 0
    # Trees that index off the turn do it in a task the hub's listener wakes: run it as the
    # hub does, and count what it costs (its last batch too), as the other trees pay the
    # index in their writes.
    search = SQLiteSearch(store) if SQLiteSearch is not None else None
    indexer = getattr(search, "indexer", None)

    def appended(events):
        if search is not None:
            search.on_events(events)

    async def conversation(index):
        nonlocal done
        for n in range(turns):
            now = time.time()
            got = await store.record_inbound(
                Inbound(channel="api", sender=f"c{index}", message_id=f"c{index}-{n}",
                        text=f"m{index}-{n}"), now=now)
            appended([got.event])
            if hasattr(store, "turn_context"):
                conv, events, customer = await store.turn_context(got.conversation.id, limit=200)
            else:  # older trees: the same three reads, one by one
                conv = await store.get_conversation(got.conversation.id)
                events = await store.events(conv.id, after_seq=conv.handled_seq, limit=200)
                customer = await store.get_customer(conv.customer_id)
            async with store.conversation_lock(conv.id) as lease:
                commit = await store.commit_turn(
                    conv.id, handled_seq=events[-1].seq,
                    result=TurnResult(replies=(Outbound(text=f"You said: m{index}-{n}"),)),
                    now=now, lease=30.0, fence=lease.fence)
            appended(commit.events)
            await store.delivery_succeeded(commit.lead, receipt={"status": 200}, now=now, lease=30.0)
            done += 1

    for key in calls:
        calls[key] = 0
    cpu = time.process_time()
    if search is not None:
        await search.start()
    await asyncio.gather(*(conversation(i) for i in range(conversations)))
    if indexer is not None:
        await indexer.catch_up()
    if search is not None:
        await search.stop()
    cpu = time.process_time() - cpu
    await store.close()
    figures = {"cpu_us_per_turn": round(cpu / done * 1e6, 1), "turns": done}
    figures.update({f"{k}_per_turn": round(v / done, 2) for k, v in calls.items()})
    print(json.dumps(figures))

asyncio.run(main())
"""


def run(repo: Path, conversations: int, turns: int) -> dict[str, float]:
    figures = run_child(repo, CHILD, str(conversations), str(turns))
    return {key: float(str(value)) for key, value in figures.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--conversations", type=int, default=64)
    parser.add_argument("--turns", type=int, default=60, help="turns per conversation")
    add_baseline_options(parser)
    args = parser.parse_args()
    trees = checkouts(args)
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in trees}
    for round_number in range(1, args.rounds + 1):
        for name, repo in trees.items():
            runs[name].append(run(repo, args.conversations, args.turns))
            print(f"round {round_number} {name}: {json.dumps(runs[name][-1])}", file=sys.stderr)
    result: dict[str, object] = {
        name: {key: statistics.median(r[key] for r in results) for key in results[0]}
        for name, results in runs.items()
    }
    result["load_average"] = round(os.getloadavg()[0], 2)
    if args.baseline is not None:
        this, base = runs["this"], runs["baseline"]
        cpu = [statistics.median(r["cpu_us_per_turn"] for r in x) for x in (this, base)]
        result["cpu_per_turn_ratio"] = round(cpu[1] / cpu[0], 2)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
