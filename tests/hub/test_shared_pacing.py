"""Send pacing booked together: two pacers on one store (two processes' worth) share one
bot's budget: a chat's spacing, the bot's rate per second and a pause hold across them.
In memory, on one redis-server and on a three-master Redis Cluster.

Redis paces on its own clock, so the Redis cases use budgets measured in tens of seconds:
each booking is checked against a window far wider than any delay between two calls.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Callable

import pytest

from hub.shared_pacing import LocalPacing, Pacing, RedisPacing
from hub.store_redis_connect import RedisClient, connect

SPACING = 60.0  # seconds between two sends to one chat
PER_SECOND = 0.1  # the bot: one send every ten seconds


@pytest.fixture(params=["memory", "redis", "redis-cluster"])
async def pacers(request: pytest.FixtureRequest) -> AsyncIterator[tuple[Pacing, Pacing]]:
    if request.param == "memory":
        shared = LocalPacing()  # one process: both callers share its book
        yield shared, shared
        return
    url = request.getfixturevalue("redis_url" if request.param == "redis" else "redis_cluster_url")
    clients = [await connect(url), await connect(url)]
    try:
        first, second = (RedisPacing(_returns(client), prefix="fd:") for client in clients)
        yield first, second
    finally:
        for client in clients:
            await client.aclose()


def _returns(client: RedisClient) -> Callable[[], RedisClient]:
    return lambda: client


async def test_one_chat_is_spaced_whichever_process_sends(pacers: tuple[Pacing, Pacing]) -> None:
    a, b = pacers
    first = await a.reserve("bot", "chat-1", per_second=0, spacing=SPACING, max_wait=120)
    second = await b.reserve("bot", "chat-1", per_second=0, spacing=SPACING, max_wait=120)
    assert first == 0
    assert second is not None and SPACING - 10 < second <= SPACING
    # Too far away: nothing is booked, and the wait says when to come back.
    assert await a.reserve("bot", "chat-1", per_second=0, spacing=SPACING, max_wait=5) is None
    later = await b.wait_for("bot", "chat-1", per_second=0)
    assert 2 * SPACING - 10 < later <= 2 * SPACING
    # Another chat and another bot are not held up by chat-1.
    assert await b.reserve("bot", "chat-2", per_second=0, spacing=SPACING, max_wait=5) == 0
    assert await a.reserve("other", "chat-1", per_second=0, spacing=SPACING, max_wait=5) == 0


async def test_the_bot_rate_is_shared_by_both(pacers: tuple[Pacing, Pacing]) -> None:
    waits = []
    for n in range(4):  # four chats, booked by the two processes in turn
        pacer = pacers[n % 2]
        wait = await pacer.reserve(
            "bot", f"chat-{n}", per_second=PER_SECOND, spacing=0, max_wait=60
        )
        assert wait is not None
        waits.append(wait)
    # One tick (ten seconds) each: never two sends of the bot on one tick.
    # (the first is on the next tick: up to ten seconds away).
    assert all(b - a > 5 for a, b in itertools.pairwise(waits)), waits
    assert waits[-1] <= 4 / PER_SECOND


async def test_a_pause_on_one_process_holds_the_chat_on_the_other(
    pacers: tuple[Pacing, Pacing],
) -> None:
    a, b = pacers
    await a.pause("bot", "chat-9", 90)
    assert await b.reserve("bot", "chat-9", per_second=0, spacing=1, max_wait=5) is None
    assert 80 < await b.wait_for("bot", "chat-9", per_second=0) <= 90
    await b.pause("bot", "chat-9", 10)  # a shorter pause never shortens a longer one
    assert 80 < await a.wait_for("bot", "chat-9", per_second=0) <= 90


async def test_no_queue_wait_still_sends_on_the_next_tick(pacers: tuple[Pacing, Pacing]) -> None:
    """`max_wait=0`: the next tick of the bot's rate is taken (it is always a little ahead);
    anything later is handed back."""
    a, b = pacers
    # Not at a tick's edge: booked just before one, a's tick would be due at once and b's,
    # the one after, would be "the next tick" for b as well (it failed once in CI so).
    edge = await a.wait_for("bot", "chat-1", per_second=PER_SECOND)
    if edge < 1.0:
        await asyncio.sleep(edge + 0.1)
    first = await a.reserve("bot", "chat-1", per_second=PER_SECOND, spacing=0, max_wait=0)
    assert first is not None and 0.5 < first <= 1 / PER_SECOND
    assert await b.reserve("bot", "chat-2", per_second=PER_SECOND, spacing=0, max_wait=0) is None
