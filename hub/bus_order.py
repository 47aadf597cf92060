"""Log order per conversation for a bus whose notices can arrive out of order.

Two processes append to one conversation one after the other (the conversation lock
orders the appends), but each tells the bus *after* its append, so their notices may
arrive the other way round: seq 9 from B before seq 8 from A. The `Sequencer` keeps, per
conversation, the last seq it passed on (its watermark): events at or below it are dropped
(seen already: our own echo, or a catch-up that got there first), and a batch that starts
above watermark + 1 is completed from the log first. So subscribers see each
conversation's events once each and in log order, whichever process appended them.

Filling a gap is a log read. `Lanes` keeps it from holding up the other conversations: a
conversation waiting on one gets a lane, where what comes after it in that conversation
waits, in order, while the others go on.

`PublishOrder` is the publishing side's part: one process's notices of a conversation go
out in log order even when its writes of that conversation answer out of order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter, OrderedDict, deque
from collections.abc import Awaitable, Callable, Iterator, Sequence

from hub.model import Event
from hub.periodic import stop_task

log = logging.getLogger("frontdesk.bus")

ReadLog = Callable[[str, int, int], Awaitable[Sequence[Event]]]  # (conversation, after, limit)

MAX_TRACKED = 50_000  # conversations whose watermark is kept (least recently used forgotten)
READ_PAGE = 500


class Sequencer:
    """Per-conversation watermarks and gap filling from the log."""

    def __init__(self, read_log: ReadLog, *, max_tracked: int = MAX_TRACKED) -> None:
        self.read_log = read_log
        self.max_tracked = max_tracked
        self._seen: OrderedDict[str, int] = OrderedDict()
        self.gaps_filled = 0  # batches completed from the log (observable by tests, bench)

    def watermark(self, conversation_id: str) -> int | None:
        return self._seen.get(conversation_id)

    def take(self, events: Sequence[Event]) -> list[Event] | None:
        """Like `order` when nothing is missing before `events` (it advances the watermark);
        None, and nothing changed, when the log must be read first."""
        if not events:
            return []
        conversation_id = events[0].conversation_id
        seen = self._seen.get(conversation_id)
        fresh = [event for event in events if seen is None or event.seq > seen]
        if not fresh:
            return []
        if seen is not None and fresh[0].seq > seen + 1:
            return None
        self._remember(conversation_id, fresh[-1].seq)
        return fresh

    async def order(self, events: Sequence[Event]) -> list[Event]:
        """What of `events` (one conversation's, ascending) subscribers have not seen, with
        anything missing before them read from the log; advances the watermark."""
        if not events:
            return []
        conversation_id = events[0].conversation_id
        seen = self._seen.get(conversation_id)
        fresh = [event for event in events if seen is None or event.seq > seen]
        if not fresh:
            return []
        if seen is not None and fresh[0].seq > seen + 1:
            # A conversation never seen here (a process that just started) has no
            # watermark: its first batch is taken as it comes.
            missing = await self._read(conversation_id, seen, fresh[0].seq)
            fresh = [*missing, *fresh]
            self.gaps_filled += 1
        self._remember(conversation_id, fresh[-1].seq)
        return fresh

    async def _read(self, conversation_id: str, after: int, before: int) -> list[Event]:
        found: list[Event] = []
        while after < before - 1:
            page = await self.read_log(conversation_id, after, min(READ_PAGE, before - 1 - after))
            found.extend(event for event in page if event.seq < before)
            if not page:
                break
            after = page[-1].seq
        return found

    def _remember(self, conversation_id: str, seq: int) -> None:
        self._seen[conversation_id] = seq
        self._seen.move_to_end(conversation_id)
        while len(self._seen) > self.max_tracked:
            self._seen.popitem(last=False)


# Batches of one conversation `PublishOrder` holds at most while its writes are under way.
MAX_HELD = 32


class PublishOrder:
    """This process's batches of a conversation published in log order, whatever order its
    writes of that conversation answer in.

    Two writes of one conversation under way at once in one process (a delivery receipt
    and the customer's next message, a turn's commit and a message that came meanwhile)
    each run on a pooled connection of their own, and the one that appended second may
    answer first. Published as they answer, every process would see the later batch first
    and read the earlier one back from the log (a gap fill), then drop its notice. So a
    write whose conversation is known before it starts runs under `writing()`; while one
    does, that conversation's batches wait here (its own too, published inside the block)
    and go out in seq order once none does: the wait is the other write's round trip. A
    write that learns its conversation from the store (an inbound message) cannot say so
    beforehand; its batch waits behind the writes that did."""

    def __init__(self, publish: Callable[[Sequence[Event]], None]) -> None:
        self._publish = publish
        self._writes: Counter[str] = Counter()  # writes under way, per conversation
        self._held: dict[str, list[Sequence[Event]]] = {}

    def publish(self, events: Sequence[Event]) -> None:
        """One conversation's events just appended, in order (never blocks)."""
        if not events:
            return
        conversation_id = events[0].conversation_id
        if not self._writes[conversation_id]:
            self._publish(events)
            return
        held = self._held.setdefault(conversation_id, [])
        held.append(events)
        if len(held) >= MAX_HELD:
            # Writes of this conversation that keep overlapping must not keep its notices
            # back: these go out now, in seq order, and a subscriber fills what a write
            # still under way appends before them from the log, as without this order.
            self._flush(conversation_id)

    @contextlib.contextmanager
    def writing(self, conversation_id: str) -> Iterator[None]:
        """Around a write of `conversation_id` and the publishing of what it appended."""
        self._writes[conversation_id] += 1
        try:
            yield
        finally:
            self._writes[conversation_id] -= 1
            if self._writes[conversation_id] <= 0:
                del self._writes[conversation_id]
                self._flush(conversation_id)

    def _flush(self, conversation_id: str) -> None:
        held = self._held.pop(conversation_id, [])
        # Batches of distinct writes never interleave: the first seq orders them.
        for batch in sorted(held, key=lambda batch: batch[0].seq):
            self._publish(batch)


Step = Callable[[], Awaitable[None]]  # one queued piece of work of a lane


class Lanes:
    """Conversations with work waiting on a log read, each worked through by a task of its
    own in the order it was queued. A conversation without a lane is dispatched at once by
    the caller; once it has one, everything of it goes behind (`held`), so its order holds
    while the others' batches pass."""

    def __init__(self) -> None:
        self._lanes: dict[str, deque[Step]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._idle = asyncio.Event()
        self._idle.set()

    def held(self, conversation_id: str) -> bool:
        return conversation_id in self._lanes

    def __len__(self) -> int:
        return len(self._lanes)

    def add(self, conversation_id: str, step: Step) -> None:
        """Queue `step` behind what that conversation has waiting (or start its lane)."""
        lane = self._lanes.get(conversation_id)
        if lane is not None:
            lane.append(step)
            return
        lane = self._lanes[conversation_id] = deque([step])
        self._idle.clear()
        task = asyncio.create_task(self._run(conversation_id, lane))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drained(self) -> None:
        """Return once no conversation has a lane (new ones may open after)."""
        await self._idle.wait()

    async def close(self) -> None:
        await asyncio.gather(
            *(stop_task(task, "event-bus-lane", 5.0) for task in list(self._tasks))
        )

    async def _run(self, conversation_id: str, lane: deque[Step]) -> None:
        try:
            while lane:
                try:
                    await lane[0]()
                except Exception:  # a step reports its own failures; this keeps the lane going
                    log.exception("event bus lane step failed")
                lane.popleft()
        finally:
            # Nothing awaited between the empty check and this: no step can be queued on a
            # lane that is about to go.
            del self._lanes[conversation_id]
            if not self._lanes:
                self._idle.set()


__all__ = ["MAX_HELD", "Lanes", "PublishOrder", "ReadLog", "Sequencer", "Step"]
