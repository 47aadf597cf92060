"""Agent console benchmark: first render with a long queue, the conversation list, live
fan-out to many agents, and search over many messages.

Runs the whole hub in this process (`create_app` with the hand-off and the console, SQLite
in a temporary directory, a real TCP site on a free loopback port), then:

1. `--queued` customers ask for a person through `Hub.ingest` (the real path: bot,
   escalation, queue); with every agent offline they all wait in the queue. A supervisor
   (who sees everything) loads the workspace page and the snapshot `--rounds` times:
   server time per request, measured by a middleware around the handler (p50, p99, max);
2. `--sockets` browsers of that supervisor hold `/console/ws` open; `--rounds` feed
   messages are published and the time until *every* socket has each one is measured:
   p50/p99 over all (message, socket) pairs. Client and server share this process's event
   loop, so the figure includes the clients' own reading: an upper bound;
3. the conversation list (`/console/api/conversations`, the All tab's first page of 50 and
   the Queue tab's) with every one of those conversations open: server time;
4. search: `--search-messages` messages (half English, half Chinese, ten per customer) are
   written straight into a fresh store of each kind in `--search-stores` (Redis: a private
   redis-server on a free loopback port, indexed from the log as on start), then English
   and Chinese queries run `--rounds` times each, through the index alone and through the
   console's search service (a page of 20 results with snippets): p50, p99.

With `--typing`, instead: `--sockets` agent sockets stay open while the customers of the
`--queued` conversations type, `--typing-rate` signals a second through the hub's typing
path (`Hub.customer_typing` → rate limit → the hand-off's live feed → every socket), each
customer starting and then stopping once. Reported: typing hints delivered per second (all
sockets together) and the lag from signal to arrival at a socket (p50/p99/max).

    .venv/bin/python bench/console.py                   # 5,000 open, 200 sockets, 100k messages
    .venv/bin/python bench/console.py --queued 500 --search-messages 0     # no search
    .venv/bin/python bench/console.py --queued 50 --sockets 20 --rounds 5 --search-messages 2000
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

from bench.console_search import search_bench  # noqa: E402
from handoff.actions import Actor  # noqa: E402
from handoff.api import ACTIONS, HANDOFF  # noqa: E402
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


async def build(directory: Path, agents: int = 0) -> tuple[web.Application, dict[str, list[float]]]:
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
    hashed = hash_password(PASSWORD)
    await accounts.add(Account(id="boss", name="Boss", role=Role.SUPERVISOR, password_hash=hashed))
    for number in range(agents):  # agent-0 … : each holds conversations of their own
        name = f"agent-{number}"
        await accounts.add(Account(id=name, name=name, role=Role.AGENT, password_hash=hashed))
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


async def login(session: aiohttp.ClientSession, base: str, username: str = "boss") -> None:
    page = await (await session.get(f"{base}/console/login")).text()
    match = re.search(r'name="csrf" value="([^"]+)"', page)
    assert match is not None
    form = {"username": username, "password": PASSWORD, "csrf": match.group(1)}
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


async def hold_two_each(app: web.Application, agents: list[str]) -> dict[str, list[str]]:
    """Every agent goes online and accepts what the queue offers them: agent → conversations."""
    engine = app[HANDOFF]
    actions = app[ACTIONS]
    for agent in agents:
        actions.set_presence(Actor(agent), "online")
    while any(t.waiting for t in engine.queue.tickets.values()):
        await asyncio.sleep(0.05)
    held: dict[str, list[str]] = {agent: [] for agent in agents}
    for conversation_id, ticket in list(engine.queue.tickets.items()):
        await actions.accept(Actor(ticket.agent_id), conversation_id)
        held[ticket.agent_id].append(conversation_id)
    return held


async def typing_fan_out(
    app: web.Application,
    feeds: list[tuple[aiohttp.ClientWebSocketResponse, set[str]]],
    rate: float,
) -> dict[str, Any]:
    """Every watched conversation's customer starts typing, then stops, at `rate` signals a
    second; each socket must receive the hints of the conversations in its set, and only
    those. Hints a socket never got (the feed drops a socket that falls too far behind)
    count as lost."""
    hub = app[HUB]
    conversations = sorted({c for _, watched in feeds for c in watched})
    signals = [(c, on) for on in (True, False) for c in conversations]
    sent: dict[tuple[str, bool], float] = {}
    lags: list[float] = []
    stray = 0

    async def read(ws: aiohttp.ClientWebSocketResponse, watched: set[str]) -> None:
        nonlocal stray
        got = 0
        while got < 2 * len(watched):
            message = await ws.receive(timeout=120)
            if message.type != aiohttp.WSMsgType.TEXT:
                return  # dropped by the feed: the rest is lost
            hint = json.loads(message.data)
            if hint.get("type") != "typing":
                continue
            if hint["conversation_id"] not in watched:
                stray += 1
                continue
            lags.append(time.perf_counter() - sent[(hint["conversation_id"], hint["on"])])
            got += 1

    readers = [asyncio.create_task(read(ws, watched)) for ws, watched in feeds]
    started = time.perf_counter()
    for number, (conversation_id, on) in enumerate(signals):
        wait = started + number / rate - time.perf_counter()
        if wait > 0:
            await asyncio.sleep(wait)
        sent[(conversation_id, on)] = time.perf_counter()
        hub.customer_typing(conversation_id, on=on)
    await asyncio.gather(*readers)
    elapsed = time.perf_counter() - started
    expected = sum(2 * len(watched) for _, watched in feeds)
    return {
        "typing_signals": len(signals),
        "offered_signals_per_second": rate,
        "hints_delivered": len(lags),
        "hints_lost": expected - len(lags),
        "hints_to_the_wrong_socket": stray,
        "hints_delivered_per_second": round(len(lags) / elapsed),
        "lag": quantiles(lags),
    }


@contextlib.asynccontextmanager
async def running(
    queued: int, agents: int = 0
) -> AsyncIterator[tuple[web.Application, dict[str, list[float]], str, float]]:
    """The hub on a free loopback port with `queued` conversations waiting: (app, server
    timings, base URL, seconds the queue took to fill)."""
    # The api channel has no callback here: every reply is parked, which is not news.
    logging.getLogger("frontdesk").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory(prefix="frontdesk-console-bench-") as tmp:
        app, timings = await build(Path(tmp), agents)
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
async def signed_in(
    base: str, username: str = "boss", connector: aiohttp.BaseConnector | None = None
) -> AsyncIterator[aiohttp.ClientSession]:
    jar = aiohttp.CookieJar(unsafe=True)  # cookies for 127.0.0.1
    # No pool limit: each agent socket holds a connection of its own.
    async with aiohttp.ClientSession(
        cookie_jar=jar,
        connector=connector or aiohttp.TCPConnector(limit=0),
        connector_owner=connector is None,
    ) as session:
        await login(session, base, username)
        yield session


async def typing_main(args: argparse.Namespace) -> dict[str, Any]:
    """`--sockets` agents, each signed in on a socket of their own and holding two
    conversations (or, with `--typing-as supervisors`, as many sockets of one supervisor,
    each getting every conversation's hints: the worst case)."""
    as_agents = args.typing_as == "agents"
    agents = [f"agent-{n}" for n in range(args.sockets)] if as_agents else []
    queued = 2 * args.sockets if as_agents else args.queued
    async with contextlib.AsyncExitStack() as stack:
        app, _, base, _ = await stack.enter_async_context(running(queued, agents=len(agents)))
        shared = await stack.enter_async_context(aiohttp.TCPConnector(limit=0))
        url = base.replace("http://", "ws://") + "/console/ws"
        if as_agents:
            held = await hold_two_each(app, agents)
            people = [(agent, set(held[agent])) for agent in agents]
        else:
            everything = set(app[HANDOFF].queue.tickets)
            people = [("boss", everything) for _ in range(args.sockets)]
        sessions = [
            await stack.enter_async_context(signed_in(base, username, shared))
            for username, _ in people
        ]
        # Only now the sockets, all at once: one left unread while the others sign in would
        # miss the server's pings and be closed.
        feeds = []
        for session, (_, watched) in zip(sessions, people, strict=True):
            ws = await session.ws_connect(url, origin=base)
            assert json.loads((await ws.receive(timeout=10)).data)["type"] == "hello"
            feeds.append((ws, watched))
        flowing = await typing_fan_out(app, feeds, args.typing_rate)
        for ws, _ in feeds:
            await ws.close()
    return {"sockets": args.sockets, "as": args.typing_as, "conversations": queued, **flowing}


async def main(args: argparse.Namespace) -> dict[str, Any]:
    async with (
        running(args.queued) as (app, timings, base, fill_seconds),
        signed_in(base) as session,
    ):
        timings.clear()
        shown = await first_render(session, base, args.rounds)
        page = quantiles(timings["/console/"])
        snapshot = quantiles(timings["/console/api/snapshot"])
        lists = await conversation_list(session, base, args.rounds, timings)
        spread = await fan_out(app, session, base, args.sockets, args.rounds)
    searches = {
        kind: await search_bench(kind, args.search_messages, args.rounds)
        for kind in args.search_stores.split(",")
        if kind and args.search_messages
    }
    return {
        "queued": args.queued,
        "queue_fill_seconds": round(fill_seconds, 2),
        "snapshot_items": shown,
        "workspace_page_server": page,
        "snapshot_server": snapshot,
        "conversation_list_server": lists,
        "sockets": args.sockets,
        "fan_out": quantiles(spread),
        "search": searches,
    }


async def conversation_list(
    session: aiohttp.ClientSession, base: str, rounds: int, timings: dict[str, list[float]]
) -> dict[str, dict[str, float]]:
    """The list's first page of 50, per tab: server time."""
    path = "/console/api/conversations"
    figures = {}
    for tab in ("all", "queue"):
        timings.pop(path, None)
        for _ in range(rounds):
            async with session.get(base + path, params={"tab": tab, "limit": "50"}) as response:
                assert response.status == 200, await response.text()
                assert len((await response.json())["rows"]) == 50
        figures[tab] = quantiles(timings[path])
    return figures


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--queued", type=int, default=5000, help="conversations in the queue")
    parser.add_argument(
        "--search-messages", type=int, default=100_000, help="messages to search (0: skip)"
    )
    parser.add_argument(
        "--search-stores", default="sqlite,redis", help="stores to search on (comma-separated)"
    )
    parser.add_argument("--sockets", type=int, default=200, help="connected agent sockets")
    parser.add_argument("--rounds", type=int, default=20, help="renders and feed messages")
    parser.add_argument("--typing", action="store_true", help="measure the typing fan-out")
    parser.add_argument(
        "--typing-rate", type=float, default=50.0, help="customer typing signals a second"
    )
    parser.add_argument(
        "--typing-as",
        choices=("agents", "supervisors"),
        default="agents",
        help="agents: one account per socket, two conversations each; supervisors: every "
        "socket gets every hint",
    )
    return parser.parse_args(argv)


if __name__ == "__main__":
    arguments = parse_args()
    bench = typing_main if arguments.typing else main
    print(json.dumps(asyncio.run(bench(arguments)), indent=2))
