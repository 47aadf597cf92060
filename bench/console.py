"""Agent console benchmark: first render with a long queue, and live fan-out to many agents.

Runs the whole hub in this process (`create_app` with the hand-off and the console, SQLite
in a temporary directory, a real TCP site on a free loopback port), then:

1. `--queued` customers ask for a person through `Hub.ingest` (the real path: bot,
   escalation, queue); with every agent offline they all wait in the queue. A supervisor
   (who sees everything) loads the workspace page and the snapshot `--rounds` times:
   server time per request, measured by a middleware around the handler (p50, p99, max);
2. `--sockets` browsers of that supervisor hold `/console/ws` open; `--rounds` feed
   messages are published and the time until *every* socket has each one is measured:
   p50/p99 over all (message, socket) pairs. Client and server share this process's event
   loop, so the figure includes the clients' own reading: an upper bound.

With `--typing`, instead: `--sockets` agent sockets stay open while the customers of the
`--queued` conversations type, `--typing-rate` signals a second through the hub's typing
path (`Hub.customer_typing` → rate limit → the hand-off's live feed → every socket), each
customer starting and then stopping once. Reported: typing hints delivered per second (all
sockets together) and the lag from signal to arrival at a socket (p50/p99/max).

    .venv/bin/python bench/console.py                                  # 500 queued, 200 sockets
    .venv/bin/python bench/console.py --queued 50 --sockets 20 --rounds 5   # a quick look
    .venv/bin/python bench/console.py --typing                         # typing fan-out

Everything stays on 127.0.0.1 and stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import re
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from handoff.api import HANDOFF  # noqa: E402
from handoff.console.accounts import Account, Role  # noqa: E402
from handoff.console.accounts_sqlite import SQLiteAccounts  # noqa: E402
from handoff.console.passwords import hash_password  # noqa: E402
from hub.api import HUB  # noqa: E402
from hub.app import create_app  # noqa: E402
from hub.config import load_config  # noqa: E402
from hub.echo import EchoBot  # noqa: E402
from hub.model import Inbound  # noqa: E402

PASSWORD = "benchmark password"
HANDOFF_YAML = """\
triggers:
  human_request:
    phrases: {en: ["talk to a person"]}
routing: {accept_timeout: 600}
agents:
  - {id: boss, name: Boss, skills: [], languages: [en], capacity: 5, supervisor: true}
"""


def quantiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    p99 = ordered[max(0, round(0.99 * len(ordered)) - 1)]
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p99_ms": round(p99 * 1000, 2),
        "max_ms": round(ordered[-1] * 1000, 2),
        "n": len(ordered),
    }


async def build(directory: Path) -> tuple[web.Application, dict[str, list[float]]]:
    (directory / "handoff.yaml").write_text(HANDOFF_YAML, encoding="utf-8")
    env = {
        "FRONTDESK_STORE_URL": f"sqlite:///{directory}/frontdesk.db",
        "FRONTDESK_API_TOKEN": "bench-token",
        "FRONTDESK_HANDOFF_PATH": str(directory / "handoff.yaml"),
        "FRONTDESK_LOG_LEVEL": "WARNING",
        "FRONTDESK_LOG_FORMAT": "text",
        "FRONTDESK_WEBCHAT_SECRET": "bench-secret",
    }
    accounts = SQLiteAccounts(directory / "frontdesk.db")
    await accounts.open()
    await accounts.add(
        Account(id="boss", name="Boss", role=Role.SUPERVISOR, password_hash=hash_password(PASSWORD))
    )
    await accounts.close()
    app = create_app(
        load_config(REPO / "config" / "frontdesk.yaml", env), environ=env, bot=EchoBot()
    )
    timings: dict[str, list[float]] = {}

    @web.middleware
    async def server_time(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        started = time.perf_counter()
        response = await handler(request)
        timings.setdefault(request.path, []).append(time.perf_counter() - started)
        return response

    app.middlewares.append(server_time)
    return app, timings


async def fill_queue(app: web.Application, count: int) -> float:
    hub, engine = app[HUB], app[HANDOFF]
    started = time.perf_counter()
    for i in range(count):
        await hub.ingest(
            Inbound(
                channel="api", sender=f"customer-{i}", message_id=f"m{i}", text="talk to a person"
            )
        )
    while len(engine.queue.tickets) < count:
        await asyncio.sleep(0.05)
    return time.perf_counter() - started


async def login(session: aiohttp.ClientSession, base: str) -> None:
    page = await (await session.get(f"{base}/console/login")).text()
    match = re.search(r'name="csrf" value="([^"]+)"', page)
    assert match is not None
    form = {"username": "boss", "password": PASSWORD, "csrf": match.group(1)}
    response = await session.post(f"{base}/console/login", data=form, allow_redirects=False)
    assert response.status == 303, await response.text()


async def first_render(session: aiohttp.ClientSession, base: str, rounds: int) -> int:
    size = 0
    for _ in range(rounds):
        async with session.get(f"{base}/console/") as response:
            assert response.status == 200
            await response.read()
        async with session.get(f"{base}/console/api/snapshot") as response:
            assert response.status == 200
            size = len((await response.json())["queue"])
    return size


async def fan_out(
    app: web.Application, session: aiohttp.ClientSession, base: str, sockets: int, rounds: int
) -> list[float]:
    engine = app[HANDOFF]
    url = base.replace("http://", "ws://") + "/console/ws"
    clients = [await session.ws_connect(url, origin=base) for _ in range(sockets)]
    for ws in clients:
        assert json.loads((await ws.receive(timeout=10)).data)["type"] == "hello"
    latencies: list[float] = []
    for round_number in range(rounds):
        marker = f"bench-{round_number}"

        async def receive(ws: aiohttp.ClientWebSocketResponse, marker: str = marker) -> float:
            while True:
                message = json.loads((await ws.receive(timeout=30)).data)
                if message.get("conversation_id") == marker:
                    return time.perf_counter()

        waiters = [asyncio.create_task(receive(ws)) for ws in clients]
        await asyncio.sleep(0)
        sent = time.perf_counter()
        engine.feed.publish({"type": "queue.changed", "change": "bench", "conversation_id": marker})
        latencies += [arrived - sent for arrived in await asyncio.gather(*waiters)]
        await asyncio.sleep(0.05)
    for ws in clients:
        await ws.close()
    return latencies


async def typing_fan_out(
    app: web.Application, session: aiohttp.ClientSession, base: str, sockets: int, rate: float
) -> dict[str, Any]:
    """Every queued customer starts typing, then stops, at `rate` signals a second; each
    socket must receive every hint. Hints a socket never got (it fell too far behind and was
    dropped by the feed) are counted as lost."""
    hub, engine = app[HUB], app[HANDOFF]
    signals = [(c, on) for on in (True, False) for c in engine.queue.tickets]
    url = base.replace("http://", "ws://") + "/console/ws"
    clients = [await session.ws_connect(url, origin=base) for _ in range(sockets)]
    for ws in clients:
        assert json.loads((await ws.receive(timeout=10)).data)["type"] == "hello"
    sent: dict[tuple[str, bool], float] = {}
    lags: list[float] = []

    async def read(ws: aiohttp.ClientWebSocketResponse) -> None:
        got = 0
        while got < len(signals):
            message = await ws.receive(timeout=60)
            if message.type != aiohttp.WSMsgType.TEXT:
                return  # dropped by the feed: the rest is lost
            hint = json.loads(message.data)
            if hint.get("type") == "typing":
                lags.append(time.perf_counter() - sent[(hint["conversation_id"], hint["on"])])
                got += 1

    readers = [asyncio.create_task(read(ws)) for ws in clients]
    started = time.perf_counter()
    for number, (conversation_id, on) in enumerate(signals):
        wait = started + number / rate - time.perf_counter()
        if wait > 0:
            await asyncio.sleep(wait)
        sent[(conversation_id, on)] = time.perf_counter()
        hub.customer_typing(conversation_id, on=on)
    await asyncio.gather(*readers)
    elapsed = time.perf_counter() - started
    for ws in clients:
        await ws.close()
    expected = len(signals) * len(clients)
    return {
        "typing_signals": len(signals),
        "offered_signals_per_second": rate,
        "hints_delivered": len(lags),
        "hints_lost": expected - len(lags),
        "hints_delivered_per_second": round(len(lags) / elapsed),
        "lag": quantiles(lags),
    }


@contextlib.asynccontextmanager
async def running(
    queued: int,
) -> AsyncIterator[tuple[web.Application, dict[str, list[float]], str, float]]:
    """The hub on a free loopback port with `queued` conversations waiting: (app, server
    timings, base URL, seconds the queue took to fill)."""
    # The api channel has no callback here: every reply is parked, which is not news.
    logging.getLogger("frontdesk").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory(prefix="frontdesk-console-bench-") as tmp:
        app, timings = await build(Path(tmp))
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        try:
            fill_seconds = await fill_queue(app, queued)
            yield app, timings, f"http://127.0.0.1:{runner.addresses[0][1]}", fill_seconds
        finally:
            await runner.cleanup()


@contextlib.asynccontextmanager
async def signed_in(base: str) -> AsyncIterator[aiohttp.ClientSession]:
    jar = aiohttp.CookieJar(unsafe=True)  # cookies for 127.0.0.1
    # No pool limit: each agent socket holds a connection of its own.
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(cookie_jar=jar, connector=connector) as session:
        await login(session, base)
        yield session


async def typing_main(args: argparse.Namespace) -> dict[str, Any]:
    async with running(args.queued) as (app, _, base, _), signed_in(base) as session:
        flowing = await typing_fan_out(app, session, base, args.sockets, args.typing_rate)
    return {"queued": args.queued, "sockets": args.sockets, **flowing}


async def main(args: argparse.Namespace) -> dict[str, Any]:
    async with (
        running(args.queued) as (app, timings, base, fill_seconds),
        signed_in(base) as session,
    ):
        timings.clear()
        shown = await first_render(session, base, args.rounds)
        page = quantiles(timings["/console/"])
        snapshot = quantiles(timings["/console/api/snapshot"])
        spread = await fan_out(app, session, base, args.sockets, args.rounds)
    return {
        "queued": args.queued,
        "queue_fill_seconds": round(fill_seconds, 2),
        "snapshot_items": shown,
        "workspace_page_server": page,
        "snapshot_server": snapshot,
        "sockets": args.sockets,
        "fan_out": quantiles(spread),
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--queued", type=int, default=500, help="conversations in the queue")
    parser.add_argument("--sockets", type=int, default=200, help="connected agent sockets")
    parser.add_argument("--rounds", type=int, default=20, help="renders and feed messages")
    parser.add_argument("--typing", action="store_true", help="measure the typing fan-out")
    parser.add_argument(
        "--typing-rate", type=float, default=50.0, help="customer typing signals a second"
    )
    return parser.parse_args(argv)


if __name__ == "__main__":
    arguments = parse_args()
    bench = typing_main if arguments.typing else main
    print(json.dumps(asyncio.run(bench(arguments)), indent=2))
