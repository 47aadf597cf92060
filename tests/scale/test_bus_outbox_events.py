"""A failed delivery, a parked one and a redrive are published on the event bus as their
conversation's batch, as a receipt is: the next batch of that conversation follows on at
every process, with no gap and no log read. On one redis-server and on the cluster, with
messages in English and in Chinese."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from hub.model import Event, EventType
from tests.hub.test_delivery import FAST, message, until
from tests.scale.test_bus_receipts import Processes, the_whole_log_reached_b, two_processes

TEXTS = pytest.mark.parametrize("text", ["Where is my parcel?", "我的包裹在哪里？"])


@TEXTS
async def test_a_failed_delivery_reaches_another_process_without_a_log_read(
    shared_store_url: str, tmp_path: Path, text: str
) -> None:
    async with two_processes(shared_store_url, tmp_path, policy=FAST, fail=1) as p:
        await p.hub.ingest(message(text, "m1"))
        await until(lambda: len(p.sent) == 2)
        logged = await the_whole_log_reached_b(p, delivered=2)
        failed = [e for e in logged if e.type == EventType.DELIVERY_FAILED]
        assert len(failed) == 1 and failed[0].data["retry_at"] is not None
        assert p.sent == [f"1/2 {text}", f"2/2 {text}"]  # the retry went first, in order


# One failed attempt parks a reply; the conversation's next reply goes on.
PARK_AT_ONCE = replace(FAST, max_attempts=1)


async def first_reply_parked(p: Processes, text: str) -> list[Event]:
    """The customer writes `text`; the first of the two replies is parked, the second goes
    (and B has everything logged so far); the log."""
    await p.hub.ingest(message(text, "m1"))
    await until(lambda: len(p.sent) == 1)
    logged = await the_whole_log_reached_b(p, delivered=1)
    assert p.sent == [f"2/2 {text}"]
    return logged


@TEXTS
async def test_a_parked_delivery_reaches_another_process_without_a_log_read(
    shared_store_url: str, tmp_path: Path, text: str
) -> None:
    async with two_processes(shared_store_url, tmp_path, policy=PARK_AT_ONCE, fail=1) as p:
        logged = await first_reply_parked(p, text)
        assert [e.type for e in logged].count(EventType.DELIVERY_PARKED) == 1


@TEXTS
async def test_a_redrive_reaches_another_process_without_a_log_read(
    shared_store_url: str, tmp_path: Path, text: str
) -> None:
    async with two_processes(shared_store_url, tmp_path, policy=PARK_AT_ONCE, fail=1) as p:
        await first_reply_parked(p, text)
        (parked,) = (await p.store.dead_letters(limit=10)).items
        redriven = await p.hub.delivery.redrive(parked.id)
        assert redriven is not None and redriven.outbound.text == f"1/2 {text}"
        await until(lambda: len(p.sent) == 2)
        logged = await the_whole_log_reached_b(p, delivered=2)
        assert [e.type for e in logged][-2:] == [EventType.DELIVERY_REDRIVEN, EventType.DELIVERED]
        assert p.sent == [f"2/2 {text}", f"1/2 {text}"]
