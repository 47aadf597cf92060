"""Scale-out: turns/s and latency for N = 1, 2, 4 hub processes on one Redis and on a
three-master Redis Cluster, and what a turn costs Redis.

For each store and N it runs `frontdesk serve --workers N` (one port, SO_REUSEPORT) on a
fresh Redis (or cluster), drives it through the `api` channel in a closed loop (each conversation waits for
its reply before the next message; the signed reply reaching our callback server ends a
turn), then:

- throughput and p50/p99 latency over `--seconds`, and the hub's CPU time per turn (its
  processes', from `/proc`: steadier than turns/s on a busy machine);
- Redis commands per turn over that window (`INFO commandstats` delta, scripts' inner
  commands included), with the busiest commands;
- round trips per turn: a short second phase under `MONITOR`, counting the commands clients
  sent (each pipelined command counts once, a script call counts once; the commands a
  script runs inside Redis are counted apart). Background work (bus reads, lease renewals,
  pollers) is included, spread over the turns. Script calls are named (`scripts_per_turn`:
  `RECORD_INBOUND`, `COMMIT_TURN` …) by the SHA1 of each script of the checkout that ran.
- on the cluster, every master's counts are summed, and `node_shares` says how much of the
  commands each master ran (the slots the keys hash to decide it);
- Redis's own CPU per turn (`INFO cpu` delta over the measured window), summed and of the
  busiest server, whose single command thread bounds the deployment: its ceiling is 1 s
  of that server's CPU divided by its cost per turn (`redis_ceiling_turns_per_second`);
- the event bus, counted inside each worker (`bench/instrument/sitecustomize.py`, put on
  the workers' `PYTHONPATH`): gaps in a conversation's notices read from the log and those
  the stream filled, per 1,000 turns, how long those waited for the stream, and how long
  after its append another process's batch reached a worker's listeners (p50/p99).

    python bench/scale.py --workers 1 2 4 --seconds 20 --concurrency 64 --store redis cluster
    python bench/scale.py --workers 1 --baseline ../frontdesk-main --rounds 2   # this ÷ another

`--baseline PATH` runs each store and N against a hub started from another checkout too (its
own code, this venv), alternating with this tree `--rounds` times: figures taken minutes
apart on a shared machine do not compare, figures taken in turn do better.

Progress goes to stderr; the last stdout line is one JSON list with a row per N.
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import hashlib
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from redis.asyncio import Redis

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

# The repository root is on the path from here on.
from bench.api import (
    CHANNEL_TOKEN,
    REPO,
    Receiver,
    cpu_seconds,
    free_port,
    progress,
    start_receiver,
    start_redis,
)
from bench.bus_lag import pct

HEADERS = {"Authorization": f"Bearer {CHANNEL_TOKEN}"}
INSTRUMENT = Path(__file__).resolve().parent / "instrument"  # each worker's bus counters


@dataclass(frozen=True, slots=True)
class Backend:
    """Where the store lives: its URL, and every server behind it (to count on each)."""

    name: str
    url: str
    nodes: tuple[str, ...]


@contextmanager
def backend(name: str, tmp: Path) -> Iterator[Backend]:
    if name == "redis":
        process, url = start_redis(tmp)
        try:
            yield Backend(name, url, (url,))
        finally:
            process.terminate()
            process.wait()
        return
    from tests.redis_cluster import RedisTestCluster  # the test harness's private cluster

    cluster = RedisTestCluster()
    cluster.start()
    try:
        nodes = tuple(f"redis://127.0.0.1:{port}/0" for port in cluster.ports)
        yield Backend(name, cluster.url, nodes)
    finally:
        cluster.close()


def hub_cpu_seconds(pid: int) -> float:
    """CPU time used so far by the hub: its process and the workers it started."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return cpu_seconds(pid) + sum(cpu_seconds(int(child)) for child in children)


async def _commandstats(nodes: list[Redis]) -> list[Counter[str]]:
    found = []
    for redis in nodes:
        info: dict[str, Any] = await redis.info("commandstats")
        found.append(
            Counter({k.removeprefix("cmdstat_"): int(v["calls"]) for k, v in info.items()})
        )
    return found


async def _redis_cpu(nodes: list[Redis]) -> list[float]:
    """CPU seconds each server has used so far (`INFO cpu`: its main thread and the rest)."""
    found = []
    for redis in nodes:
        info: dict[str, Any] = await redis.info("cpu")
        found.append(float(info["used_cpu_sys"]) + float(info["used_cpu_user"]))
    return found


async def _all_workers_up(url: str, workers: int) -> None:
    """Every worker answers: many fresh connections in a row get a 200."""
    deadline = time.monotonic() + 120
    good = 0
    while good < 10 * workers:
        if time.monotonic() > deadline:
            raise SystemExit("the workers did not come up")
        try:
            async with aiohttp.ClientSession() as session, session.get(f"{url}/readyz") as answer:
                good = good + 1 if answer.status == 200 else 0
        except aiohttp.ClientError:
            good = 0
            await asyncio.sleep(0.1)


class Driver:
    """Closed-loop conversations against one URL."""

    def __init__(self, url: str, receiver: Receiver, session: aiohttp.ClientSession) -> None:
        self.url = url
        self.receiver = receiver
        self.session = session
        self.counter = 0
        self.errors = 0

    async def turn(self, sender: str) -> float | None:
        self.counter += 1
        future = self.receiver.expect(sender)
        body = {"id": f"{sender}-{self.counter}", "sender": sender, "text": f"m{self.counter}"}
        async with self.session.post(
            f"{self.url}/api/v1/channels/api/messages", json=body, headers=HEADERS
        ) as response:
            if response.status not in (200, 202):
                self.errors += 1
        try:
            return await asyncio.wait_for(future, 30)
        except TimeoutError:
            self.errors += 1
            return None

    async def loop(self, senders: int, seconds: float, prefix: str) -> list[float]:
        latencies: list[float] = []
        deadline = time.perf_counter() + seconds

        async def one(index: int) -> None:
            while time.perf_counter() < deadline:
                latency = await self.turn(f"{prefix}{index}")
                if latency is not None:
                    latencies.append(latency)

        await asyncio.gather(*(one(i) for i in range(senders)))
        return latencies


def script_names(repo: Path) -> dict[str, str]:
    """SHA1 → name of every Lua script a checkout's code sends (what `EVALSHA` names): the
    module-level string constants of `hub` and `handoff`, and their concatenations."""
    names: dict[str, str] = {}
    for path in sorted([*(repo / "hub").rglob("*.py"), *(repo / "handoff").rglob("*.py")]):
        known: dict[str, str] = {}
        for node in ast.parse(path.read_text()).body:
            if not (isinstance(node, ast.Assign) and len(node.targets) == 1):
                continue
            target = node.targets[0]
            text = _text(node.value, known)
            if isinstance(target, ast.Name) and text is not None:
                known[target.id] = text
                name = target.id.lstrip("_")
                if path.stem != "store_redis_scripts":
                    name = f"{path.stem}.{name}"  # the store's own are named alone
                names[hashlib.sha1(text.encode()).hexdigest()] = name
    return names


def _text(node: ast.expr, known: dict[str, str]) -> str | None:
    """A string constant, a name bound to one, or `+` of those; else None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name):
        return known.get(node.id)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _text(node.left, known), _text(node.right, known)
        return None if left is None or right is None else left + right
    return None


async def _monitored(
    nodes: tuple[str, ...], driver: Driver, args: argparse.Namespace, scripts: dict[str, str]
) -> dict:
    """Round trips per turn: commands clients sent while `MONITOR` watched some turns (on
    every server)."""
    counts: Counter[str] = Counter()
    monitor_clients = [Redis.from_url(url, decode_responses=True) for url in nodes]
    stop = asyncio.Event()

    async def watch(monitor_client: Redis) -> None:
        async with monitor_client.monitor() as monitor:
            async for command in monitor.listen():
                if stop.is_set():
                    return
                kind = "script" if command.get("client_type") == "lua" else "client"
                counts[kind] += 1
                if kind == "client":
                    words = str(command.get("command", "")).split(" ", 2)
                    counts["cmd:" + words[0].upper()] += 1
                    if words[0].upper() == "EVALSHA" and len(words) > 1:
                        counts["script:" + scripts.get(words[1], words[1][:8])] += 1

    watchers = [asyncio.create_task(watch(client)) for client in monitor_clients]
    await asyncio.sleep(0.5)
    before = Counter(counts)
    latencies = await driver.loop(args.concurrency, args.monitor_seconds, "mon")
    after = Counter(counts)
    stop.set()
    for watcher in watchers:
        watcher.cancel()
    await asyncio.gather(*watchers, return_exceptions=True)
    for client in monitor_clients:
        await client.aclose()
    turns = max(1, len(latencies))
    sent = after - before
    return {
        "monitored_turns": len(latencies),
        "round_trips_per_turn": round(sent["client"] / turns, 1),
        "script_inner_commands_per_turn": round(sent["script"] / turns, 1),
        "round_trips_by_command": {
            k.removeprefix("cmd:"): round(v / turns, 2)
            for k, v in sent.most_common()
            if k.startswith("cmd:") and v / turns >= 0.05
        },
        "scripts_per_turn": {
            k.removeprefix("script:"): round(v / turns, 2)
            for k, v in sent.most_common()
            if k.startswith("script:") and v / turns >= 0.01
        },
    }


async def measure(
    workers: int, store: Backend, tmp: Path, args: argparse.Namespace, repo: Path = REPO
) -> dict:
    nodes = [Redis.from_url(url, decode_responses=True) for url in store.nodes]
    for redis in nodes:
        await redis.flushall()
    redis_url = store.url
    hub_port, receiver_port = free_port(), free_port()
    config = tmp / f"frontdesk-{store.name}-{workers}.yaml"
    config.write_text(
        f"server: {{host: 127.0.0.1, port: {hub_port}}}\n"
        f"store: {{url: '{redis_url}'}}\n"
        "logging: {level: WARNING}\n"
        "bot: {kind: echo, handoff_path: ''}\n"
        "console: {enabled: false}\n"
        f"channels: {{api: {{callback_url: 'http://127.0.0.1:{receiver_port}/callback'}}}}\n"
    )
    bus_counts = Path(tempfile.mkdtemp(prefix="bus-counts-", dir=tmp))
    env = {
        **os.environ,
        # The editable install points at one tree; pick this one, after the counters
        # (`bench/instrument/sitecustomize.py`: each worker's event bus counts its gap fills).
        "PYTHONPATH": f"{INSTRUMENT}{os.pathsep}{repo}",
        "FRONTDESK_BENCH_BUS_COUNTS": str(bus_counts),
        "FRONTDESK_API_TOKEN": "bench",
        "FRONTDESK_API_CHANNEL_TOKEN": CHANNEL_TOKEN,
    }
    log_name = f"hub-{store.name}-{workers}-{'this' if repo == REPO else repo.name}.log"
    with (tmp / log_name).open("ab") as hub_log:  # every run of a checkout, one after another
        hub = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "hub",
                "serve",
                "--config",
                str(config),
                "--workers",
                str(workers),
            ],
            cwd=repo,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=hub_log,
        )
    receiver = Receiver()
    runner = await start_receiver(receiver, receiver_port)
    url = f"http://127.0.0.1:{hub_port}"
    try:
        await _all_workers_up(url, workers)
        progress(f"{store.name} N={workers}: {workers} worker(s) up; warming up")
        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(connector=connector) as session:
            driver = Driver(url, receiver, session)
            warm = await driver.loop(args.concurrency, 3, "warm")
            stats_before, redis_cpu = await _commandstats(nodes), await _redis_cpu(nodes)
            started, cpu = time.perf_counter(), hub_cpu_seconds(hub.pid)
            latencies = await driver.loop(args.concurrency, args.seconds, "c")
            elapsed, cpu = time.perf_counter() - started, hub_cpu_seconds(hub.pid) - cpu
            per_node = [
                after - before
                for after, before in zip(await _commandstats(nodes), stats_before, strict=True)
            ]
            redis_cpu = [
                after - before
                for after, before in zip(await _redis_cpu(nodes), redis_cpu, strict=True)
            ]
            for counts in per_node:
                counts.pop("info", None)
            stats = sum(per_node, Counter[str]())
            monitored = await _monitored(store.nodes, driver, args, script_names(repo))
    finally:
        hub.send_signal(signal.SIGTERM)
        hub.wait(timeout=60)
        await runner.cleanup()
        for redis in nodes:
            await redis.aclose()
    ordered = sorted(latencies)
    turns = max(1, len(ordered))
    # Every turn of the hub's life (warm-up, measured, monitored) against every gap its
    # processes' buses met in it.
    lifetime = max(1, len(warm) + len(ordered) + int(monitored["monitored_turns"]))
    bus = [json.loads(f.read_text()) for f in bus_counts.glob("*.json")]

    def pct(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000, 1)

    total = max(1, sum(stats.values()))
    row = {
        "code": "this" if repo == REPO else str(repo),
        "store": store.name,
        "workers": workers,
        "concurrency": args.concurrency,
        "turns": len(ordered),
        "errors": driver.errors,
        "turns_per_second": round(len(ordered) / elapsed, 1),
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
        "mean_ms": round(statistics.fmean(ordered) * 1000, 1) if ordered else 0.0,
        "hub_cpu_ms_per_turn": round(cpu / turns * 1000, 3),
        "redis_commands_per_turn": round(sum(stats.values()) / turns, 1),
        "top_commands_per_turn": {k: round(v / turns, 2) for k, v in stats.most_common(10)},
        "node_shares": sorted((round(sum(c.values()) / total, 3) for c in per_node), reverse=True),
        # What a turn costs Redis in CPU, all servers and the busiest one; a server runs
        # commands on one thread, so the busiest one's cost bounds the turns/s of any number
        # of hub processes (`redis_ceiling_turns_per_second`, at 100 % of its core).
        "redis_cpu_ms_per_turn": round(sum(redis_cpu) / turns * 1000, 3),
        "busiest_redis_cpu_ms_per_turn": round(max(redis_cpu) / turns * 1000, 3),
        "redis_ceiling_turns_per_second": round(turns / max(max(redis_cpu), 1e-9)),
        **monitored,
        # Log reads by the event bus (a gap in a conversation's notices the stream did not
        # fill), and gaps the stream filled, per 1,000 turns, summed over the processes.
        "bus_gap_fills_per_1000_turns": round(
            sum(b["gap_fills"] for b in bus) * 1000 / lifetime, 1
        ),
        "bus_stream_fills_per_1000_turns": round(
            sum(b["stream_fills"] for b in bus) * 1000 / lifetime, 1
        ),
        # How long a gap waited for the stream (to the end of the grace when it did not come).
        **percentiles_ms("bus_stream_wait", [w for b in bus for w in b["stream_waits"]]),
        # From an append to another process's listeners (batches through the stream).
        **percentiles_ms("bus_remote_lag", [w for b in bus for w in b["lags"]["dispatcher"]]),
    }
    progress(
        f"{row['code']} {store.name} N={workers}: {row['turns_per_second']} turns/s, p50 {row['p50_ms']} ms, "
        f"p99 {row['p99_ms']} ms, hub CPU {row['hub_cpu_ms_per_turn']} ms/turn, "
        f"{row['redis_commands_per_turn']} Redis commands/turn, Redis CPU "
        f"{row['redis_cpu_ms_per_turn']} ms/turn (busiest server "
        f"{row['busiest_redis_cpu_ms_per_turn']} ms: at most "
        f"{row['redis_ceiling_turns_per_second']} turns/s), "
        f"{row['round_trips_per_turn']} round trips/turn, bus gaps per 1,000 turns "
        f"{row['bus_gap_fills_per_1000_turns']} from the log, "
        f"{row['bus_stream_fills_per_1000_turns']} from the stream "
        f"(waits p50 {row.get('bus_stream_wait_p50_ms', 0)} / p99 "
        f"{row.get('bus_stream_wait_p99_ms', 0)} ms), other processes' events heard after "
        f"p50 {row.get('bus_remote_lag_p50_ms', 0)} / p99 {row.get('bus_remote_lag_p99_ms', 0)} ms, "
        f"shares of the servers {row['node_shares']}, scripts/turn {row['scripts_per_turn']}"
    )
    return row


def percentiles_ms(name: str, seconds: list[float]) -> dict[str, float]:
    """`<name>_p50_ms` and `<name>_p99_ms` of `seconds` (neither when there are none), as
    `bench/bus_lag.py` reads the same counters."""
    if not seconds:
        return {}
    return {f"{name}_p50_ms": pct(seconds, 0.5), f"{name}_p99_ms": pct(seconds, 0.99)}


async def run(args: argparse.Namespace) -> list[dict]:
    tmp = Path(tempfile.mkdtemp(prefix="fd-scale-"))
    rows = []
    checkouts = [REPO] if args.baseline is None else [REPO, args.baseline.resolve()]
    for checkout in checkouts[1:]:
        if not (checkout / "hub" / "__main__.py").exists():
            raise SystemExit(f"--baseline {checkout}: not a Frontdesk checkout")
    for name in args.store:
        with backend(name, tmp) as store:
            for round_number in range(1, args.rounds + 1):
                for n in args.workers:
                    for checkout in checkouts:
                        row = await measure(n, store, tmp, args, checkout)
                        rows.append({**row, "round": round_number})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--concurrency", type=int, default=64, help="closed-loop conversations")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--monitor-seconds", type=float, default=3)
    parser.add_argument(
        "--store", nargs="+", choices=("redis", "cluster"), default=["redis", "cluster"]
    )
    parser.add_argument("--baseline", type=Path, help="another checkout to run in alternation")
    parser.add_argument("--rounds", type=int, default=1, help="runs of each checkout")
    print(json.dumps(asyncio.run(run(parser.parse_args()))))


if __name__ == "__main__":
    main()
