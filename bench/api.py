"""Load generator for the `api` channel: turns per second and ingest→callback latency.

It starts a real hub (`python -m hub serve`) as a subprocess on a temporary config,
posts messages from N concurrent conversations, and receives the replies on its own
callback server; a turn's latency runs from the POST to the reply reaching the receiver.

    python bench/api.py --store sqlite --concurrency 64 --seconds 20       # closed loop
    python bench/api.py --store redis --rate 500 --seconds 20              # open loop, fixed rate
    python bench/api.py --baseline ../frontdesk-old --rounds 3             # this tree ÷ another

`--baseline PATH` runs the same load against a hub started from another checkout (its own
code, this venv), alternating with this tree `--rounds` times, and prints both medians and
the ratio: figures move between machines, a ratio taken in one run does not. Each run also
reports the hub process's own CPU time per turn (from `/proc`): on a busy machine, or once
the load generator is the bottleneck, turns/s stops showing what a turn costs, and that does.

Progress goes to stderr; the last stdout line is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
from aiohttp import web

REPO = Path(__file__).resolve().parents[1]
CHANNEL_TOKEN = "bench-channel-token"
# What another bench adds to the hub it starts through `run`: directories put before the
# checkout on its PYTHONPATH, and environment variables (`bench/bus_lag.py`: the bus counters
# of `bench/instrument/`).
HUB_PATH: tuple[str, ...] = ()
HUB_ENV: dict[str, str] = {}


def cpu_seconds(pid: int, thread: int | None = None) -> float:
    """User + system CPU time a process has used so far (Linux `/proc`); with `thread`, one
    of its threads only (the process's own id: its main thread, which runs the event loop)."""
    stat = Path(f"/proc/{pid}/task/{thread}/stat" if thread else f"/proc/{pid}/stat")
    fields = stat.read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def add_baseline_options(parser: argparse.ArgumentParser, *, rounds: int = 3) -> None:
    """`--baseline PATH` (another checkout to run in alternation with this tree) and
    `--rounds N`; `checkouts(args)` reads them."""
    parser.add_argument("--baseline", type=Path, help="another checkout to compare against")
    parser.add_argument("--rounds", type=int, default=rounds, help="runs of each checkout")


def checkouts(args: argparse.Namespace) -> dict[str, Path]:
    """This tree, and the baseline when one was given, by name."""
    trees = {"this": REPO}
    if args.baseline is not None:
        trees["baseline"] = args.baseline.resolve()
    return trees


def run_child(repo: Path, code: str, *argv: str) -> dict[str, object]:
    """Run `code` in a fresh Python whose imports come from checkout `repo` (this venv), and
    return the JSON object its last stdout line prints."""
    out = subprocess.run(
        [sys.executable, "-c", code, *argv],
        env={**os.environ, "PYTHONPATH": str(repo)},
        cwd=repo,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return dict(json.loads(out.strip().splitlines()[-1]))


class Receiver:
    """Matches each reply to the oldest unanswered message of its conversation."""

    def __init__(self) -> None:
        self.waiting: dict[str, collections.deque[tuple[float, asyncio.Future[float]]]] = {}
        self.seen: set[str] = set()

    def expect(self, sender: str) -> asyncio.Future[float]:
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.waiting.setdefault(sender, collections.deque()).append((time.perf_counter(), future))
        return future

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.json()
        if body["delivery_id"] in self.seen:  # at-least-once: drop duplicates
            return web.Response(status=204)
        self.seen.add(body["delivery_id"])
        queue = self.waiting.get(body["recipient"])
        if queue:
            started, future = queue.popleft()
            if not future.done():
                future.set_result(time.perf_counter() - started)
        return web.Response(status=204)


async def start_receiver(receiver: Receiver, port: int) -> web.AppRunner:
    app = web.Application()
    app.router.add_post("/callback", receiver.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner


def start_redis(tmp: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen(
        [
            "redis-server",
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "yes",
            "--appendfsync",
            "everysec",
            "--dir",
            str(tmp),
        ],
        stdout=subprocess.DEVNULL,
    )
    time.sleep(0.3)
    return process, f"redis://127.0.0.1:{port}/0"


async def wait_healthy(url: str, process: subprocess.Popen[bytes]) -> None:
    # Generous: on a shared machine under load the hub's imports alone can take a minute.
    deadline = time.monotonic() + 180
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise SystemExit("hub exited during start-up")
            try:
                async with session.get(f"{url}/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.05)
    raise SystemExit("hub did not become healthy")


async def run(args: argparse.Namespace, repo: Path = REPO) -> dict[str, object]:
    tmp = Path(tempfile.mkdtemp(prefix="fd-bench-"))
    redis = None
    if args.store == "redis":
        redis, store_url = start_redis(tmp)
    else:
        store_url = f"sqlite:///{tmp}/bench.db"
    hub_port, receiver_port = free_port(), free_port()
    config = tmp / "frontdesk.yaml"
    config.write_text(
        f"server: {{host: 127.0.0.1, port: {hub_port}}}\n"
        f"store: {{url: '{store_url}'}}\n"
        "logging: {level: WARNING}\n"
        f"bot: {{kind: {args.bot}}}\n"
        f"channels: {{api: {{callback_url: 'http://127.0.0.1:{receiver_port}/callback'}}}}\n"
    )
    env = {
        **os.environ,
        # The editable install points at one tree; pick this one.
        "PYTHONPATH": os.pathsep.join([*HUB_PATH, str(repo)]),
        "FRONTDESK_API_TOKEN": "bench",
        "FRONTDESK_API_CHANNEL_TOKEN": CHANNEL_TOKEN,
        **HUB_ENV,
    }
    with (tmp / "hub.log").open("wb") as hub_log:
        hub = subprocess.Popen(
            [sys.executable, "-m", "hub", "serve", "--config", str(config)],
            cwd=repo,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=hub_log,
        )
    receiver = Receiver()
    runner = await start_receiver(receiver, receiver_port)
    url = f"http://127.0.0.1:{hub_port}"
    latencies: list[float] = []
    errors = 0
    try:
        await wait_healthy(url, hub)
        progress(f"hub up ({args.store}, bot={args.bot}); warming up")
        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(connector=connector) as session:
            headers = {"Authorization": f"Bearer {CHANNEL_TOKEN}"}
            counter = 0

            async def one_turn(sender: str, record: bool) -> None:
                nonlocal counter, errors
                counter += 1
                text = args.text or f"m{counter}"
                future = receiver.expect(sender)
                body = {"id": f"{sender}-{counter}", "sender": sender, "text": text}
                async with session.post(
                    f"{url}/api/v1/channels/api/messages", json=body, headers=headers
                ) as response:
                    if response.status not in (200, 202):
                        errors += 1
                try:
                    latency = await asyncio.wait_for(future, 30)
                except TimeoutError:
                    errors += 1
                    return
                if record:
                    latencies.append(latency)

            await asyncio.gather(*(one_turn(f"warm{i}", False) for i in range(50)))
            deadline = time.perf_counter() + args.seconds
            started = time.perf_counter()
            # The hub's own CPU per turn: what a turn costs, whatever else the machine
            # (the load generator included) is doing meanwhile.
            cpu_started = cpu_seconds(hub.pid)
            generator_started = time.process_time()  # this process: the load generator
            if args.rate:
                tasks = []
                interval = 1 / args.rate
                n = 0
                while time.perf_counter() < deadline:
                    target = started + n * interval
                    delay = target - time.perf_counter()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    tasks.append(asyncio.create_task(one_turn(f"c{n % args.conversations}", True)))
                    n += 1
                await asyncio.gather(*tasks)
            else:

                async def loop(index: int) -> None:
                    while time.perf_counter() < deadline:
                        await one_turn(f"c{index}", True)

                async def report() -> None:
                    while time.perf_counter() < deadline:
                        await asyncio.sleep(5)
                        elapsed = time.perf_counter() - started
                        progress(f"  {elapsed:5.1f}s  {len(latencies) / elapsed:8.0f} turns/s")

                reporter = asyncio.create_task(report())
                await asyncio.gather(*(loop(i) for i in range(args.concurrency)))
                reporter.cancel()
            elapsed = time.perf_counter() - started
            hub_cpu = cpu_seconds(hub.pid) - cpu_started
            generator_cpu = time.process_time() - generator_started
            load_average = os.getloadavg()[0]
    finally:
        hub.send_signal(signal.SIGTERM)
        try:
            hub.wait(timeout=30)
        except subprocess.TimeoutExpired:  # an overloaded hub still draining: do not leak it
            progress("the hub did not stop within 30 s; killing it")
            hub.kill()
            hub.wait()
        await runner.cleanup()
        if redis is not None:
            redis.terminate()
            redis.wait()
    ordered = sorted(latencies)

    def pct(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000, 2)

    return {
        "store": args.store,
        "bot": args.bot,
        "mode": f"open loop {args.rate}/s" if args.rate else f"closed loop x{args.concurrency}",
        "turns": len(latencies),
        "errors": errors,
        "seconds": round(elapsed, 2),
        "turns_per_second": round(len(latencies) / elapsed, 1),
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
        "mean_ms": round(statistics.fmean(ordered) * 1000, 2),
        "hub_cpu_ms_per_turn": round(hub_cpu * 1000 / max(len(latencies), 1), 3),
        # What the generator spends per turn on the same cores, and how busy they were.
        "generator_cpu_ms_per_turn": round(generator_cpu * 1000 / max(len(latencies), 1), 3),
        "load_average": round(load_average, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--store", choices=("sqlite", "redis"), default="sqlite")
    parser.add_argument("--bot", choices=("echo", "dialogs"), default="echo")
    parser.add_argument("--concurrency", type=int, default=64, help="closed-loop conversations")
    parser.add_argument("--rate", type=float, default=0, help="open loop: turns per second")
    parser.add_argument(
        "--conversations", type=int, default=500, help="open loop: distinct senders"
    )
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--text", default="", help="message text (default: a unique id)")
    parser.add_argument("--baseline", type=Path, help="another checkout to compare against")
    parser.add_argument("--rounds", type=int, default=3, help="with --baseline: runs of each")
    args = parser.parse_args()
    if args.baseline is None:
        print(json.dumps(asyncio.run(run(args))))
        return
    print(json.dumps(asyncio.run(compare(args, args.baseline.resolve()))))


async def compare(args: argparse.Namespace, baseline: Path) -> dict[str, object]:
    """This tree and the baseline in alternation; the median run of each, and the ratio."""
    if not (baseline / "hub" / "__main__.py").exists():
        raise SystemExit(f"--baseline {baseline}: not a Frontdesk checkout (no hub/__main__.py)")
    runs: dict[str, list[dict[str, object]]] = {"this": [], "baseline": []}
    for round_number in range(1, args.rounds + 1):
        for name, repo in (("this", REPO), ("baseline", baseline)):
            progress(f"round {round_number}/{args.rounds}: {name} ({repo})")
            runs[name].append(await run(args, repo))
            progress(f"  {json.dumps(runs[name][-1])}")  # every run, not only the medians

    def median(results: list[dict[str, object]]) -> dict[str, object]:
        return sorted(results, key=lambda r: float(str(r["turns_per_second"])))[len(results) // 2]

    this, base = median(runs["this"]), median(runs["baseline"])
    ratio = float(str(this["turns_per_second"])) / max(float(str(base["turns_per_second"])), 1e-9)
    p99_ratio = float(str(this["p99_ms"])) / max(float(str(base["p99_ms"])), 1e-9)
    cpu = [
        statistics.median(float(str(r["hub_cpu_ms_per_turn"])) for r in runs[name])
        for name in ("this", "baseline")
    ]
    cpu_ratio = cpu[1] / max(cpu[0], 1e-9)
    progress(
        f"this {this['turns_per_second']} turns/s (p99 {this['p99_ms']} ms) · baseline "
        f"{base['turns_per_second']} turns/s (p99 {base['p99_ms']} ms) · {ratio:.2f}× turns/s, "
        f"{p99_ratio:.2f}× p99 · hub CPU per turn {cpu[0]:.3f} ms vs {cpu[1]:.3f} ms: "
        f"{cpu_ratio:.2f}× cheaper"
    )
    return {
        "this": this,
        "baseline": base,
        "throughput_ratio": round(ratio, 2),
        "p99_ratio": round(p99_ratio, 2),
        "hub_cpu_ms_per_turn": {"this": round(cpu[0], 3), "baseline": round(cpu[1], 3)},
        "cpu_per_turn_ratio": round(cpu_ratio, 2),
    }


if __name__ == "__main__":
    main()
