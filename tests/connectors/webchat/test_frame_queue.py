"""A tab's frame queue: order, bound, stop marker, one waiting writer, and its size."""

from __future__ import annotations

import asyncio
import tracemalloc

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
    assert queue.take_nowait() == FRAMES
    assert queue.take_nowait() == []


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


class Tab:
    """A socket's writer stand-in: records each run and what it sent."""

    def __init__(self, *, alive: bool = True) -> None:
        self.alive = alive
        self.runs = 0
        self.sent: list[object] = []

    async def write(self, listener: SocketListener) -> bool:
        self.runs += 1
        while pending := listener.queue.take_nowait():
            await asyncio.sleep(0)  # a send: frames queued meanwhile go in this run
            self.sent.extend(pending)
        return self.alive


async def test_a_writer_runs_only_while_frames_wait_and_takes_what_comes_meanwhile() -> None:
    tab = Tab()
    listener = SocketListener("v1", max_pending=8, write=tab.write)
    listener.offer({"type": "ack", "id": "m1"})
    listener.offer({"type": "typing", "on": True})  # queued while the writer is under way
    await listener.written()
    assert tab.runs == 1 and len(tab.sent) == 2
    listener.offer({"type": "ack", "id": "m2", "text": "您好"})
    await listener.written()
    assert tab.runs == 2 and len(tab.sent) == 3


async def test_no_writer_starts_again_once_the_socket_is_done_with() -> None:
    tab = Tab(alive=False)  # a broken socket, or closed after the stop marker
    listener = SocketListener("v1", max_pending=8, write=tab.write)
    listener.offer({"type": "ack", "id": "m1", "text": "Where is my order?"})
    await listener.written()
    listener.offer({"type": "ack", "id": "m2", "text": "我的订单在哪"})
    listener.close(1000, "")
    await listener.written()
    assert tab.runs == 1
