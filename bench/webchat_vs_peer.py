"""Web chat against a peer: Frontdesk's demo bot and opsdroid, one load generator, one run.

Absolute figures move between machines, so the measure is the ratio of the two, taken in
the same run on the same machine with the same closed-loop WebSocket load generator:

- **Frontdesk**: `frontdesk serve` with the demo dialog engine on SQLite (everything durable:
  the turn, the outbox, the receipt), FAQ questions the demo bot answers in one reply;
- **opsdroid** (`bench/peers/opsdroid/`): its WebSocket connector and a two-intent
  `match_regex` FAQ skill, no persistence; installed on first use into its own venv.

For each client count the two servers are measured in alternation (`--rounds` times each,
Frontdesk first), and the median round is reported with p50/p99 and the ratios
(Frontdesk ÷ opsdroid for replies/s; p99 Frontdesk ÷ p99 opsdroid), and each server
process's own CPU time per reply, which a busy machine disturbs far less than replies/s.

    .venv/bin/python bench/webchat_vs_peer.py                        # 10/50/100 clients
    .venv/bin/python bench/webchat_vs_peer.py --clients 50 --seconds 5 --rounds 1
    .venv/bin/python bench/webchat_vs_peer.py --baseline ../frontdesk-old   # before/after too

Everything stays on 127.0.0.1 and stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.api import cpu_seconds
from bench.webchat import (
    QUESTIONS,
    count_failures,
    free_port,
    latency_figures,
    raise_fd_limit,
    start_server,
)

PEER_DIR = Path(__file__).resolve().parent / "peers" / "opsdroid"
PEER_VENV = PEER_DIR / ".venv"


@dataclass(frozen=True, slots=True)
class Target:
    """How the load generator talks to one server: open a socket, ask, await one reply."""

    name: str
    open_socket: Callable[[aiohttp.ClientSession], Awaitable[aiohttp.ClientWebSocketResponse]]
    ask: Callable[[aiohttp.ClientWebSocketResponse, str, str], Awaitable[None]]


async def receive_text(ws: aiohttp.ClientWebSocketResponse) -> str:
    message = await ws.receive(timeout=30)
    if message.type != aiohttp.WSMsgType.TEXT:
        raise RuntimeError(f"socket closed: {message.type!r} {message.data!r}")
    text: str = message.data
    return text


def frontdesk_target(url: str, name: str = "frontdesk") -> Target:
    async def open_socket(session: aiohttp.ClientSession) -> aiohttp.ClientWebSocketResponse:
        ws = await session.ws_connect(url.replace("http", "ws", 1) + "/webchat/ws")
        # As the widget does: frames ready together come as one `frames` message (a
        # server that predates it ignores the field and sends them one by one).
        await ws.send_json({"type": "hello", "batch": True})
        while not any(f["type"] == "synced" for f in unpack(await receive_text(ws))):
            pass
        return ws

    async def ask(ws: aiohttp.ClientWebSocketResponse, message_id: str, text: str) -> None:
        await ws.send_json({"type": "message", "id": message_id, "text": text})
        while True:
            for frame in unpack(await receive_text(ws)):
                if frame["type"] == "message" and frame["direction"] == "out":
                    return
                if frame["type"] in ("slow_down", "error"):
                    raise RuntimeError(f"server said {frame}")

    return Target(name, open_socket, ask)


def unpack(text: str) -> list[dict[str, Any]]:
    """The frames of one web chat WebSocket message (one, or several in a `frames`)."""
    frame = json.loads(text)
    return list(frame["frames"]) if frame["type"] == "frames" else [frame]


def opsdroid_target(url: str) -> Target:
    async def open_socket(session: aiohttp.ClientSession) -> aiohttp.ClientWebSocketResponse:
        async with session.post(url + "/connector/websocket") as response:
            socket_id = (await response.json(content_type=None))["socket"]
        ws = await session.ws_connect(
            url.replace("http", "ws", 1) + f"/connector/websocket/{socket_id}"
        )
        ws._frontdesk_socket_id = socket_id  # type: ignore[attr-defined]  # the reply's target
        return ws

    async def ask(ws: aiohttp.ClientWebSocketResponse, message_id: str, text: str) -> None:
        socket_id = ws._frontdesk_socket_id  # type: ignore[attr-defined]
        await ws.send_str(json.dumps({"message": text, "user": message_id, "socket": socket_id}))
        await receive_text(ws)

    return Target("opsdroid", open_socket, ask)


async def closed_loop(
    target: Target, clients: int, seconds: float, pid: int | None = None
) -> dict[str, float]:
    """`clients` sockets each ask, await the reply, ask again, for `seconds`; with `pid`,
    also the server process's own CPU time per reply (what a reply costs it, however busy
    the machine and the load generator are), and its event loop's thread's alone (what
    bounds its replies/s when it has a core to itself; other threads use other cores)."""
    latencies: list[float] = []
    cpu_started = cpu_seconds(pid) if pid else 0.0
    loop_started = cpu_seconds(pid, pid) if pid else 0.0

    async def client(n: int, session: aiohttp.ClientSession, deadline: float) -> None:
        ws = await target.open_socket(session)
        count = 0
        try:
            while time.monotonic() < deadline:
                count += 1
                started = time.perf_counter()
                await target.ask(ws, f"c{n}-{count}", QUESTIONS[count % len(QUESTIONS)])
                latencies.append(time.perf_counter() - started)
        finally:
            await ws.close()

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        started = time.monotonic()
        results = await asyncio.gather(
            *(client(n, session, started + seconds) for n in range(clients)),
            return_exceptions=True,
        )
        elapsed = time.monotonic() - started
    cpu = cpu_seconds(pid) - cpu_started if pid else 0.0
    loop_cpu = cpu_seconds(pid, pid) - loop_started if pid else 0.0
    failed = count_failures(results, f"{target.name} client")
    return {
        **latency_figures(sorted(latencies), elapsed),
        "failed_clients": failed,
        "cpu_ms_per_reply": cpu * 1000 / max(len(latencies), 1),
        "loop_cpu_ms_per_reply": loop_cpu * 1000 / max(len(latencies), 1),
    }


def ensure_peer_installed() -> Path:
    """opsdroid in its own venv (it pins old libraries); installed once, on first use."""
    opsdroid = PEER_VENV / "bin" / "opsdroid"
    if not opsdroid.exists():
        print("installing opsdroid into bench/peers/opsdroid/.venv (once) …", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(PEER_VENV)], check=True)
        subprocess.run(
            [str(PEER_VENV / "bin" / "pip"), "install", "--quiet", "opsdroid", "setuptools<81"],
            check=True,
        )
    return opsdroid


async def start_peer(directory: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    config = directory / "opsdroid.yaml"
    config.write_text(
        "\n".join(
            [
                "logging:",
                "  level: error",
                "  console: true",
                "web:",
                "  host: 127.0.0.1",
                f"  port: {port}",
                "welcome-message: false",
                "connectors:",
                "  websocket:",
                "    max-connections: 100000",
                "    connection-timeout: 600",
                "skills:",
                "  faq:",
                f"    path: {PEER_DIR / 'skills' / 'faq'}",
                "",
            ]
        ),
        encoding="utf-8",
    )
    process = subprocess.Popen(
        [str(ensure_peer_installed()), "start", "-f", str(config)],
        cwd=directory,
        env={**os.environ, "HOME": str(directory)},  # opsdroid writes its cache under ~
        stdout=subprocess.DEVNULL,
        stderr=open(directory / "opsdroid.log", "wb"),  # noqa: SIM115 - lives as long as it
    )
    url = f"http://127.0.0.1:{port}"
    async with aiohttp.ClientSession() as session:
        for _ in range(600):
            if process.poll() is not None:
                log = (directory / "opsdroid.log").read_text(errors="replace")
                raise SystemExit(f"opsdroid exited early:\n{log[-3000:]}")
            with contextlib.suppress(aiohttp.ClientError):
                async with session.post(url + "/connector/websocket") as response:
                    if response.status == 200:
                        return process, url
            await asyncio.sleep(0.1)
    process.terminate()
    raise SystemExit("opsdroid did not answer within 60 s")


async def main(args: argparse.Namespace) -> None:
    raise_fd_limit(max(args.clients) * 4 + 256)
    with tempfile.TemporaryDirectory(prefix="frontdesk-peer-") as tmp:
        directory = Path(tmp)
        server_args = argparse.Namespace(bot="dialogs", ping_interval=30.0)
        frontdesk, frontdesk_url = await start_server(server_args, directory)
        peer, peer_url = await start_peer(directory)
        targets = [frontdesk_target(frontdesk_url), opsdroid_target(peer_url)]
        servers = {"frontdesk": frontdesk, "opsdroid": peer}
        if args.baseline is not None:  # another checkout of Frontdesk, in the same rounds
            (directory / "baseline").mkdir()
            servers["baseline"], baseline_url = await start_server(
                server_args, directory / "baseline", args.baseline.resolve()
            )
            targets.append(frontdesk_target(baseline_url, "baseline"))
        pids = {name: process.pid for name, process in servers.items()}
        rows: list[dict[str, Any]] = []
        try:
            for target in targets:  # warm both (JIT-free, but caches, NLU model, SQLite pages)
                await closed_loop(target, 5, 2.0)
            for clients in args.clients:
                runs: dict[str, list[dict[str, float]]] = {t.name: [] for t in targets}
                for _ in range(args.rounds):
                    for target in targets:
                        runs[target.name].append(
                            await closed_loop(target, clients, args.seconds, pids[target.name])
                        )
                rows.append({"clients": clients, **{k: median_run(v) for k, v in runs.items()}})
                print_row(rows[-1])
        finally:
            for process in servers.values():
                process.terminate()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(timeout=10)
    print()
    print(
        "| clients | Frontdesk | opsdroid replies/s (p50 / p99) | Frontdesk replies/s (p50 / p99) "
        "| replies/s ratio | p99 ratio | CPU per reply, Frontdesk / opsdroid "
        "| of it the loop thread's, Frontdesk / opsdroid |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for row in rows:
        peer_run = row["opsdroid"]
        for name in ("frontdesk", "baseline"):
            if name not in row:
                continue
            ours = row[name]
            label = "this tree" if name == "frontdesk" else f"baseline ({args.baseline})"
            print(
                f"| {row['clients']} | {label} | {peer_run['replies_per_s']:,.0f} "
                f"({peer_run['p50_ms']:.1f} / {peer_run['p99_ms']:.1f} ms) "
                f"| {ours['replies_per_s']:,.0f} ({ours['p50_ms']:.1f} / {ours['p99_ms']:.1f} ms) "
                f"| {ours['replies_per_s'] / peer_run['replies_per_s']:.2f}× "
                f"| {ours['p99_ms'] / peer_run['p99_ms']:.1f}× "
                f"| {ours['cpu_ms_per_reply']:.2f} / {peer_run['cpu_ms_per_reply']:.2f} ms "
                f"({ours['cpu_ms_per_reply'] / max(peer_run['cpu_ms_per_reply'], 1e-9):.1f}×) "
                f"| {ours['loop_cpu_ms_per_reply']:.2f} / "
                f"{peer_run['loop_cpu_ms_per_reply']:.2f} ms |"
            )


def median_run(runs: list[dict[str, float]]) -> dict[str, float]:
    """The round with the median throughput (its own latencies, not a blend of rounds)."""
    return sorted(runs, key=lambda run: run["replies_per_s"])[len(runs) // 2]


def print_row(row: dict[str, Any]) -> None:
    for name in ("frontdesk", "baseline", "opsdroid"):
        if name not in row:
            continue
        run = row[name]
        print(
            f"{row['clients']:>4} clients  {name:<9} {run['replies_per_s']:>9,.0f} replies/s  "
            f"p50 {run['p50_ms']:7.1f} ms  p99 {run['p99_ms']:7.1f} ms  "
            f"CPU {run['cpu_ms_per_reply']:.2f} ms/reply "
            f"(loop thread {run['loop_cpu_ms_per_reply']:.2f})"
            + (f"  ({run['failed_clients']:.0f} clients failed)" if run["failed_clients"] else ""),
            flush=True,
        )
    for name in ("frontdesk", "baseline"):
        if name in row:
            ratio = row[name]["replies_per_s"] / max(row["opsdroid"]["replies_per_s"], 1e-9)
            print(f"{'':>13} {name} ÷ opsdroid {ratio:.2f}×", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, nargs="+", default=[10, 50, 100])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--baseline", type=Path, help="another Frontdesk checkout, measured in the same rounds"
    )
    asyncio.run(main(parser.parse_args()))
