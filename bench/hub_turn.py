"""Turns through a real Hub on Redis (or the cluster) without HTTP: what a turn costs.

`--conversations` senders each write, wait for the echo bot's reply to reach a channel that
takes it at once, and write again, for `--seconds`. Per run: turns/s, p50/p99 from ingest to
the reply's send, the hub's CPU time per turn (this process: the hub is all that runs in
it), and the store's round trips per turn by what they were (script calls named by script,
counted where redis-py sends them, a pipeline as one). Each run is a fresh process on an
emptied Redis; the outbox poll and the pending sweep run at their usual pace.

`--senders` says who writes: `steady` (each conversation's sender again and again, on one
hub), `new` (every message from a sender never seen before: a new customer each time),
`unseen` (the steady senders, but the hub's store forgets what it saw of them before each
message, as a process that never saw the sender would), or `alternating` (two hubs, each
with its own store connection, as two processes would be; each sender's messages go to
one, then the other). The counts are both hubs' together.

    python bench/hub_turn.py --store redis                       # this tree
    python bench/hub_turn.py --store cluster --baseline ../frontdesk-main --rounds 4
    python bench/hub_turn.py --store redis --senders alternating
    python bench/hub_turn.py --store redis --log-read --baseline ../frontdesk-main  # web chat

`--log-read` makes the channel one whose clients read replies from the log, as the web
chat's do: the reply counts as arrived when its `message.out` reaches the connector's
`on_events`, and the outbox, the send and the receipt are not part of the turn.

With `--baseline PATH`, runs of this tree and of the other checkout alternate (its code,
this venv), and the medians are compared. The last stdout line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

# The repository root is on the path from here on.
from bench.api import add_baseline_options, checkouts, progress, run_child
from bench.scale import Backend, backend

# Runs in a child process whose PYTHONPATH picks the tree under test.
CHILD = r"""
import asyncio, collections, hashlib, json, sys, time
from pathlib import Path
from hub import store_redis_scripts as lua
from hub.abc import Connector
from hub.delivery import RetryPolicy
from hub.echo import EchoBot
from hub.hub import Hub
from hub.model import Inbound
from hub.store_redis import RedisStore
from hub.store_redis_keys import Recent
from tests.support import channel_links

url, seconds, senders, files = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
who, log_read = sys.argv[5], sys.argv[6] == "1"
names = {hashlib.sha1(v.encode()).hexdigest(): k for k, v in vars(lua).items()
         if k.isupper() and isinstance(v, str)}

class Channel(Connector):
    name = "api"
    # --log-read: a channel whose clients read the log, as the web chat's do (a tree that
    # predates the flag queues the reply and calls deliver() instead).
    replies_read_from_log = log_read
    observes_events = log_read
    def __init__(self, *, links, waiting):
        super().__init__(links=links)
        self.waiting = waiting
        self.senders = {}
    def on_events(self, events):
        for event in events:
            if event.type == "message.in":
                self.senders[event.conversation_id] = event.data.get("sender")
            elif event.type == "message.out":
                self._arrived(self.senders.get(event.conversation_id))
    def _arrived(self, address):
        future = self.waiting.pop(address, None)
        if future is not None and not future.done():
            future.set_result(time.perf_counter())
    @classmethod
    def from_config(cls, settings, *, links, environ):
        raise NotImplementedError
    async def deliver(self, delivery):
        self._arrived(delivery.address)
        return {"ok": True}

async def a_hub(sent):
    store = RedisStore(url)
    await store.open()
    original = store.redis.execute_command
    async def counted(*args, **options):
        command = str(args[0]).upper()
        sent[names.get(str(args[1]), command) if command == "EVALSHA" else command] += 1
        return await original(*args, **options)
    store.redis.execute_command = counted
    pipeline = store.redis.pipeline
    def counted_pipeline(*args, **options):  # one round trip however many reads it sends
        sent["pipeline"] += 1
        return pipeline(*args, **options)
    store.redis.pipeline = counted_pipeline
    hub = Hub(store=store, bot=EchoBot(), retry=RetryPolicy())
    hub.add_connector(Channel(links=channel_links(hub, Path(files)), waiting=waiting))
    await hub.start()
    return hub, store

waiting = {}

async def main():
    sent = collections.Counter()
    hubs = [await a_hub(sent) for _ in range(2 if who == "alternating" else 1)]
    latencies, counter = [], 0

    async def sender(index, until):
        nonlocal counter
        turn = 0
        while time.perf_counter() < until:
            counter += 1
            turn += 1
            name = f"s{index}-{counter}" if who == "new" else f"s{index}"
            reply = asyncio.get_running_loop().create_future()
            waiting[name] = reply
            started = time.perf_counter()
            hub, store = hubs[turn % len(hubs)]
            if who == "unseen":  # its guesses of every key a sender's calls declare
                for guesses in vars(store).values():
                    if isinstance(guesses, Recent):
                        guesses._items.clear()
            await hub.ingest(Inbound(channel="api", sender=name,
                                     message_id=f"{index}-{counter}", text=f"m{counter}"))
            latencies.append(await asyncio.wait_for(reply, 30) - started)

    await asyncio.gather(*(sender(i, time.perf_counter() + 1) for i in range(senders)))  # warm
    latencies.clear()
    sent.clear()
    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(sender(i, wall + seconds) for i in range(senders)))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    turns = len(latencies)
    calls = {k: round(v / turns, 2) for k, v in sent.most_common() if v / turns >= 0.01}
    for hub, store in hubs:
        await hub.stop()
        await store.close()
    latencies.sort()
    print(json.dumps({
        "turns_per_second": round(turns / wall, 1),
        "p50_ms": round(latencies[turns // 2] * 1000, 1),
        "p99_ms": round(latencies[int(turns * 0.99)] * 1000, 1),
        "cpu_us_per_turn": round(cpu / turns * 1e6, 1),
        "store_round_trips_per_turn": round(sum(sent.values()) / turns, 2),
        "by_call": calls,
        "turns": turns,
    }))

asyncio.run(main())
"""


def run(repo: Path, store: Backend, args: argparse.Namespace) -> dict[str, object]:
    for node in store.nodes:
        subprocess.run(["redis-cli", "-u", node, "FLUSHALL"], check=True, capture_output=True)
    with tempfile.TemporaryDirectory() as files:
        argv = (
            store.url,
            str(args.seconds),
            str(args.conversations),
            files,
            args.senders,
            "1" if args.log_read else "0",
        )
        return run_child(repo, CHILD, *argv)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--store", choices=("redis", "cluster"), default="redis")
    parser.add_argument("--conversations", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument(
        "--senders", choices=("steady", "new", "unseen", "alternating"), default="steady"
    )
    parser.add_argument(
        "--log-read",
        action="store_true",
        help="the channel's clients read replies from the log (as the web chat's): no outbox",
    )
    add_baseline_options(parser)
    args = parser.parse_args()
    trees = checkouts(args)
    runs: dict[str, list[dict[str, object]]] = {name: [] for name in trees}
    with backend(args.store, Path(tempfile.mkdtemp(prefix="fd-hub-turn-"))) as store:
        for round_number in range(1, args.rounds + 1):
            for name, repo in trees.items():
                runs[name].append(run(repo, store, args))
                progress(f"round {round_number} {name}: {json.dumps(runs[name][-1])}")

    def median(name: str, figure: str) -> float:
        return float(statistics.median(float(str(r[figure])) for r in runs[name]))

    figures = ("turns_per_second", "p50_ms", "p99_ms", "cpu_us_per_turn")
    result: dict[str, object] = {
        name: {figure: median(name, figure) for figure in figures} for name in trees
    }
    result["runs"] = runs
    if "baseline" in trees:
        result["ratios"] = {
            figure: round(median("this", figure) / median("baseline", figure), 2)
            for figure in figures
        }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
