"""Search latency over many messages, on a fresh store of each kind (part of
`bench/console.py`, which runs it; see that module's docstring)."""

from __future__ import annotations

import asyncio
import random
import socket
import statistics
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

from handoff.actions import Actor
from handoff.queue import Queue
from handoff.search import ConversationSearch
from handoff.views import QueueView
from hub.model import Inbound
from hub.ports import Backend
from hub.search_redis import RedisSearch
from hub.search_text import parse_query
from hub.store_redis import RedisStore
from hub.store_sqlite import SQLiteStore
from hub.stores import beside

EN = ["refund", "order", "delivery", "gift card", "password", "router", "invoice", "screen"]
EN_STATE = ["late", "broken", "missing", "wrong", "charged twice", "not working"]
ZH = ["退款", "订单", "快递", "礼品卡", "密码", "路由器", "发票", "屏幕"]
ZH_STATE = ["延迟了", "坏了", "不见了", "错了", "被扣了两次", "用不了"]
QUERIES = {
    "en": ["refund", "gift card", "router broken", "invoice", "charged twice", "deliv"],
    "zh": ["退款", "礼品卡", "路由器 坏了", "發票", "扣了两次", "快递"],
}
PER_CUSTOMER = 10


def message(rng: random.Random, i: int) -> str:
    number = rng.randrange(10_000_000, 99_999_999)
    if i % 2:
        return f"你好，我的{rng.choice(ZH)}{rng.choice(ZH_STATE)}，订单号{number}，请尽快帮我处理，谢谢"
    return (
        f"Hi, my {rng.choice(EN)} is {rng.choice(EN_STATE)}, order {number}. "
        "Could you please look into it today? Thanks"
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def fresh_store(kind: str) -> AsyncIterator[Backend]:
    with tempfile.TemporaryDirectory(prefix="frontdesk-search-bench-") as tmp:
        if kind == "sqlite":
            store: Backend = SQLiteStore(Path(tmp) / "search.db")
            await store.open()
            try:
                yield store
            finally:
                await store.close()
            return
        port = _free_port()
        server = subprocess.Popen(
            [
                *("redis-server", "--bind", "127.0.0.1", "--port", str(port)),
                *("--save", "", "--appendonly", "no", "--dir", tmp),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            store = RedisStore(f"redis://127.0.0.1:{port}/0")
            for _ in range(200):
                try:
                    await store.open()
                    break
                except ConnectionError:
                    await asyncio.sleep(0.05)
            try:
                yield store
            finally:
                await store.close()
        finally:
            server.terminate()
            server.wait(timeout=10)


def quantiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p99_ms": round(ordered[max(0, round(0.99 * len(ordered)) - 1)] * 1000, 2),
        "n": len(ordered),
    }


async def search_bench(kind: str, messages: int, rounds: int) -> dict[str, Any]:
    rng = random.Random(14)
    async with fresh_store(kind) as store:
        started = time.perf_counter()
        customers = max(1, messages // PER_CUSTOMER)
        # Round after round over the customers: a chunk holds each customer at most once,
        # so it can be written concurrently and every conversation still grows in order.
        for chunk in range(0, messages, 100):
            await asyncio.gather(
                *(
                    store.record_inbound(
                        Inbound(
                            channel="api",
                            sender=f"customer-{i % customers}",
                            message_id=f"m{i}",
                            text=message(rng, i),
                        ),
                        now=1_800_000_000.0 + i,
                    )
                    for i in range(chunk, min(messages, chunk + 100))
                )
            )
        written = time.perf_counter() - started
        index = beside(store).search()
        started = time.perf_counter()
        if isinstance(index, RedisSearch):
            await index.catch_up()  # what the start does for data written before
        caught_up = time.perf_counter() - started
        # A supervisor: no visibility filter (an agent's scope only makes it smaller).
        engine = cast(QueueView, SimpleNamespace(queue=Queue()))
        service = ConversationSearch(index, engine, store)
        actor = Actor("boss", sees_all=True)
        figures: dict[str, Any] = {
            "messages": messages,
            "write_seconds": round(written, 1),
            "index_catch_up_seconds": round(caught_up, 1),
        }
        for language, queries in QUERIES.items():
            raw: list[float] = []
            full: list[float] = []
            cpu: list[float] = []  # this process's own work, whatever else the machine runs
            hits = []
            for _ in range(rounds):
                for text in queries:
                    query = parse_query(text)
                    began = time.perf_counter()
                    found = await index.search(query, kind="conversation", scope=None, limit=20)
                    raw.append(time.perf_counter() - began)
                    began, began_cpu = time.perf_counter(), time.thread_time()
                    results = await service.search(actor, text)
                    full.append(time.perf_counter() - began)
                    cpu.append(time.thread_time() - began_cpu)
                    hits.append(len(found.items))
                    assert len(results.messages) == len(found.items)
            figures[language] = {
                "index": quantiles(raw),
                "service_page_of_20": quantiles(full),
                "service_page_of_20_cpu": quantiles(cpu),
                "queries": queries,
                "min_hits": min(hits),
            }
        return figures
