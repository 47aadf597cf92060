"""A tab's frame queue: order, bound, stop marker, one waiting writer, and its size."""

from __future__ import annotations

import asyncio
import tracemalloc

import pytest

from connectors.webchat.frame_queue import FrameQueue
from connectors.webchat.sessions import SocketListener

FRAMES = [
    {"type": "message", "seq": 1, "text": "Your parcel left the warehouse"},
    {"type": "message", "seq": 2, "text": "您的包裹已从仓库发出"},
]


async def test_the_writer_takes_everything_queued_in_order() -> None:
    queue = FrameQueue(8)
    for frame in FRAMES:
        assert queue.put(frame)
    assert await queue.take() == FRAMES
    assert queue.take_nowait() == []


async def test_a_waiting_writer_is_woken_by_the_first_frame() -> None:
    queue = FrameQueue(8)
    writer = asyncio.create_task(queue.take())
    await asyncio.sleep(0)
    assert not writer.done()
    queue.put(FRAMES[1])
    assert await writer == [FRAMES[1]]


async def test_a_full_queue_refuses_and_keeps_what_it_has() -> None:
    queue = FrameQueue(2)
    assert queue.put(FRAMES[0]) and queue.put(FRAMES[1])
    assert not queue.put({"type": "message", "seq": 3, "text": "one too many 多了一条"})
    assert queue.take_nowait() == FRAMES


async def test_the_stop_marker_makes_room_by_dropping_the_oldest() -> None:
    queue = FrameQueue(2)
    queue.put(FRAMES[0])
    queue.put(FRAMES[1])
    queue.stop()
    assert queue.take_nowait() == [FRAMES[1], None]


async def test_a_cancelled_writer_leaves_the_queue_usable() -> None:
    queue = FrameQueue(8)
    writer = asyncio.create_task(queue.take())
    await asyncio.sleep(0)
    writer.cancel()
    with pytest.raises(asyncio.CancelledError):
        await writer
    assert queue.put(FRAMES[0])  # no stale waiter to wake
    assert await queue.take() == [FRAMES[0]]


async def test_a_socket_listener_with_nothing_pending_is_small() -> None:
    # An idle tab is what 10,000 idle visitors are made of: asyncio.Queue alone costs
    # ~3.2 KiB per tab; the whole listener must stay well under that.
    tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot()
        listeners = [SocketListener(f"visitor-{n}", max_pending=256) for n in range(1000)]
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    per_listener = sum(stat.size_diff for stat in after.compare_to(before, "filename")) / 1000
    assert len(listeners) == 1000
    assert per_listener < 1024
