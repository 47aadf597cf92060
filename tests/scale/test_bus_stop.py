"""A process's event bus stops at once, even with its reader blocked in `XREAD`.

redis-py can swallow the cancel of a blocking read (its read timeout and the task's cancel
crossing), and then resends the read on a fresh connection; shutting a hub down then waited
for the read's block to run out, seconds per process. Closing the reader's client must end
the read for good. On one redis-server and on the cluster."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from hub.bus_redis import RedisBus, stream_key
from hub.model import Event
from hub.store_redis_connect import connect

GUARD = 20.0  # seconds a wait may take before the test gives up (never reached when green)


async def test_closing_a_client_ends_its_blocking_read(shared_store_url: str) -> None:
    client = await connect(shared_store_url, retries=0)
    # Blocks forever (block=0) unless the connection under it is closed.
    read: asyncio.Future[Any] = asyncio.ensure_future(
        client.xread({stream_key("fd:"): "$"}, block=0)
    )
    await asyncio.sleep(0.2)  # the read is on the wire
    assert not read.done()
    await client.aclose()
    done, _ = await asyncio.wait([read], timeout=GUARD)
    assert done, "the read outlived its client"
    assert isinstance(read.exception(), RedisConnectionError)


async def no_log(conversation_id: str, after: int, limit: int) -> list[Event]:
    return []


class StubbornBus(RedisBus):
    """A bus whose reader ignores every cancel, as redis-py sometimes makes it."""

    async def _read_forever(self, last_id: str) -> None:
        inner = asyncio.ensure_future(super()._read_forever(last_id))
        while not inner.done():
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(inner)


@pytest.mark.parametrize("text", ["Where is my parcel?", "我的包裹在哪里？"])
async def test_a_bus_stops_with_its_reader_blocked(
    shared_store_url: str, text: str, caplog: pytest.LogCaptureFixture
) -> None:
    seen: list[str] = []
    bus = StubbornBus(shared_store_url, read_log=no_log)
    bus.subscribe(lambda events: seen.extend(str(e.data["text"]) for e in events))
    other = RedisBus(shared_store_url, read_log=no_log)
    await bus.start()
    await other.start()
    try:
        event = Event(conversation_id="c1", seq=1, type="message.in", at=0.0, data={"text": text})
        other.publish([event])
        async with asyncio.timeout(GUARD):
            while seen != [text]:  # the reader works, and is back in its blocking read
                await asyncio.sleep(0.01)
        await asyncio.sleep(0.1)
        reader = bus._tasks[0]
        await asyncio.wait_for(bus.stop(), GUARD)
        assert reader.done()
        assert "did not stop" not in caplog.text
    finally:
        await other.stop()
