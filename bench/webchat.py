"""Web chat benchmark: closed-loop WebSocket visitors, and the memory of idle ones.

Starts `frontdesk serve` itself (a subprocess on a temporary config and SQLite file, on a
free loopback port), then:

1. `--visitors` concurrent visitors each send a question, wait for the reply, and ask the
   next one, for `--duration` seconds: replies/s, p50, p99 (send → reply frame);
2. `--idle` more visitors connect, say hello and stay: the server's RSS is read from /proc.

    .venv/bin/python bench/webchat.py                       # echo bot (FRONTDESK_BOT=echo)
    .venv/bin/python bench/webchat.py --bot dialogs         # through the dialog engine
    .venv/bin/python bench/webchat.py --visitors 20 --duration 5 --idle 500   # a quick look

Everything stays on 127.0.0.1 and stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import aiohttp

REPO = Path(__file__).resolve().parents[1]
# FAQ questions the demo bot answers with exactly one reply each, so that with
# `--bot dialogs` a turn's reply is the next outbound frame.
QUESTIONS = [
    "what are your opening hours",
    "what is your refund policy",
    "how do I redeem my points",
    "退货政策是什么",
    "积分怎么兑换",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def raise_fd_limit(wanted: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = min(max(soft, wanted), hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def write_config(directory: Path, args: argparse.Namespace) -> Path:
    config = directory / "frontdesk.yaml"
    config.write_text(
        "\n".join(
            [
                "logging:",
                "  level: WARNING",
                "channels:",
                "  webchat:",
                "    enabled: true",
                "    rate_per_second: 1000",  # the benchmark is the abuse; do not limit it
                "    rate_burst: 1000",
                # Every benchmark visitor comes from 127.0.0.1: lift the per-address limits.
                "    max_connections_per_address: 1000000",
                "    new_visitors_per_minute_per_address: 1000000",
                "    messages_per_second_per_address: 1000000",
                "    message_burst_per_address: 1000000",
                f"    ping_interval: {args.ping_interval}",
                "",
            ]
        ),
        encoding="utf-8",
    )
    return config


async def start_server(
    args: argparse.Namespace,
    directory: Path,
    repo: Path = REPO,
    *,
    runner: tuple[str, ...] = ("-m", "hub"),
    extra_env: dict[str, str] | None = None,
) -> tuple[Any, str]:
    """`frontdesk serve` from the checkout `repo` (default: this one) on a fresh SQLite file;
    `runner` is what the interpreter runs instead of `-m hub` (a wrapper that counts)."""
    port = free_port()
    env = {
        **os.environ,
        **(extra_env or {}),
        "PYTHONPATH": str(repo),  # the editable install points at one tree; pick this one
        "FRONTDESK_HOST": "127.0.0.1",
        "FRONTDESK_PORT": str(port),
        "FRONTDESK_STORE_URL": f"sqlite:///{directory}/bench.db",
        "FRONTDESK_BOT": args.bot,
        "FRONTDESK_WEBCHAT_SECRET": "bench-secret",
        "FRONTDESK_API_TOKEN": "bench-token",
        "FRONTDESK_LOG_FORMAT": "text",
    }
    process = subprocess.Popen(
        [sys.executable, *runner, "serve", "--config", str(write_config(directory, args))],
        cwd=repo,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(directory / "server.log", "wb"),  # noqa: SIM115 - lives as long as it
    )
    url = f"http://127.0.0.1:{port}"
    async with aiohttp.ClientSession() as session:
        for _ in range(1200):
            if process.poll() is not None:
                log = (directory / "server.log").read_text(errors="replace")
                raise SystemExit(f"the server exited early:\n{log[-3000:]}")
            with contextlib.suppress(aiohttp.ClientError):
                async with session.get(url + "/healthz") as response:
                    if response.status == 200 and (await response.json())["status"] == "ok":
                        return process, url
            await asyncio.sleep(0.1)
    process.terminate()
    raise SystemExit("the server did not become healthy within 120 s")


async def connect(session: aiohttp.ClientSession, url: str) -> aiohttp.ClientWebSocketResponse:
    ws = await session.ws_connect(url.replace("http", "ws", 1) + "/webchat/ws", heartbeat=None)
    await ws.send_json({"type": "hello"})
    while True:
        frame = json.loads((await ws.receive(timeout=30)).data)
        if frame["type"] == "synced":
            return ws


async def visitor(
    session: aiohttp.ClientSession, url: str, deadline: float, latencies: list[float], n: int
) -> None:
    ws = await connect(session, url)
    count = 0
    try:
        while time.monotonic() < deadline:
            count += 1
            started = time.perf_counter()
            await ws.send_json(
                {"type": "message", "id": f"b{n}-{count}", "text": QUESTIONS[count % 5]}
            )
            while True:
                message = await ws.receive(timeout=30)
                if message.type != aiohttp.WSMsgType.TEXT:
                    raise RuntimeError(f"socket closed: {message.type!r} {message.data!r}")
                frame = json.loads(message.data)
                if frame["type"] == "message" and frame["direction"] == "out":
                    break
                if frame["type"] in ("slow_down", "error"):
                    raise RuntimeError(f"server said {frame}")
            latencies.append(time.perf_counter() - started)
    finally:
        await ws.close()


def count_failures(results: Sequence[object], who: str) -> int:
    """How many closed-loop clients failed; the first few say why on stderr."""
    errors = [r for r in results if isinstance(r, BaseException)]
    for error in errors[:3]:
        print(f"  {who} failed: {error!r}", file=sys.stderr)
    return len(errors)


def latency_figures(ordered: list[float], elapsed: float) -> dict[str, float]:
    """Replies per second and nearest-rank p50/p99 (ms) of sorted latencies in seconds."""

    def pct(p: float) -> float:
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000 if ordered else 0.0

    return {"replies_per_s": len(ordered) / elapsed, "p50_ms": pct(0.50), "p99_ms": pct(0.99)}


async def closed_loop(url: str, visitors: int, duration: float) -> dict[str, float]:
    latencies: list[float] = []
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        deadline = time.monotonic() + duration
        started = time.monotonic()
        results = await asyncio.gather(
            *(visitor(session, url, deadline, latencies, n) for n in range(visitors)),
            return_exceptions=True,
        )
        elapsed = time.monotonic() - started
    failed = count_failures(results, "visitor")
    ordered = sorted(latencies)
    return {
        "visitors": visitors,
        "replies": len(ordered),
        **latency_figures(ordered, elapsed),
        "mean_ms": statistics.fmean(ordered) * 1000 if ordered else 0.0,
        "failed_visitors": failed,
    }


async def idle(url: str, pid: int, count: int) -> dict[str, float]:
    before = rss_mib(pid)
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        sockets: list[aiohttp.ClientWebSocketResponse] = []
        semaphore = asyncio.Semaphore(200)  # connect in waves; the accept queue is finite

        async def one() -> None:
            async with semaphore:
                sockets.append(await connect(session, url))

        results = await asyncio.gather(*(one() for _ in range(count)), return_exceptions=True)
        await asyncio.sleep(1.0)
        after = rss_mib(pid)
        for ws in sockets:
            await ws.close()
    return {
        "idle_visitors": len(sockets),
        "idle_failed": sum(isinstance(r, BaseException) for r in results),
        "rss_before_mib": before,
        "rss_idle_mib": after,
    }


async def main(args: argparse.Namespace) -> dict[str, Any]:
    raise_fd_limit(args.idle * 2 + 1024)
    with tempfile.TemporaryDirectory(prefix="frontdesk-bench-") as tmp:
        process, url = await start_server(args, Path(tmp))
        try:
            print(f"server {url} (pid {process.pid}, bot {args.bot})", file=sys.stderr)
            await closed_loop(url, min(args.visitors, 10), 1.0)  # warm-up
            loop = await closed_loop(url, args.visitors, args.duration)
            memory = await idle(url, process.pid, args.idle) if args.idle else {}
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
    return {"bot": args.bot, "duration_s": args.duration, **loop, **memory}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--visitors", type=int, default=100, help="concurrent visitors")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of closed loop")
    parser.add_argument("--idle", type=int, default=10_000, help="idle visitors for the RSS")
    parser.add_argument("--bot", choices=("echo", "dialogs"), default="echo")
    parser.add_argument("--ping-interval", type=float, default=25.0)
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    return parser.parse_args(argv)


if __name__ == "__main__":
    arguments = parse_args()
    result = asyncio.run(main(arguments))
    if arguments.json:
        print(json.dumps(result, indent=2))
    else:
        for key, value in result.items():
            shown = f"{value:,.1f}" if isinstance(value, float) else value
            print(f"{key:>18}: {shown}")
