"""The event bus across processes: one Redis Stream shared by every hub process.

    process A ─ publish ─► local inbox ─┐                            ┌─► dispatcher ─► subscribers
              └─ writer ─ XADD ─► fd:{fd:events}:stream ─ XREAD ─► reader ─┘ (in order per conversation)

Key: ``<prefix>{<tag>:events}:stream`` (``fd:{fd:events}:stream``), one stream for the
whole deployment, trimmed to about `maxlen` entries. One stream rather than one per
conversation because every process needs every conversation (the queue index, the console
feed, customer history): with one stream a process reads everything with a single blocking
XREAD on one connection, where per-conversation streams would need a key list that grows
without bound. Its own hash tag puts it on another Redis Cluster slot than the store's
``{fd}`` (no script touches both). The writer sends what piled up while it waited as one
pipeline, and the event batches published one after the other as one entry (a flat list
of events, of any conversations, each conversation's in log order): a busy process's
turns cost one XADD and one stream entry between them, not two each, and every reader
parses one entry for them. Entries carry the events themselves, so a reader does not go
back to the log for each one; the log remains the truth for catching up.

Order and catch-up: every batch goes through the `hub.bus_order.Sequencer`, which drops
what was seen and fills gaps from the log. A batch of this process is dispatched at once,
inside `publish()` (as the in-process bus does, so a reply's frame is out before its
delivery starts), unless that conversation has batches waiting or a gap to fill: then it
queues behind them. The echo of our own entries only moves the read position. After a
lost connection the reader resumes from its last stream id and the gap listeners rebuild
what they derive from the log (the stream may have been trimmed meanwhile).

Lanes: a gap fill is a log read, and under load two appends of one conversation often
announce themselves crossed. The dispatcher does not wait for that read: the conversation
gets a lane (`hub.bus_order.Lanes`), its batches (and the signals naming it) queue there
in arrival order while at most `MAX_FILLS` reads run at once, and every other
conversation's batches are dispatched meanwhile. A lost connection waits for the lanes to
empty before the gap listeners run, and `settled()` counts an entry dispatched once every
batch of it has been, lanes included.

The stream before the log: a gap is nearly always a notice still on its way, not one that
never came. Two processes append to one conversation one after the other (a delivery
receipt on A, the customer's next message on B), each announces after its own write, and
B's notice can reach the stream first; every other process then sees seq 13 before seq 12,
which comes an entry or two later. So a lane whose batch starts past the watermark first
waits up to `STREAM_GRACE` for the missing events to come through the stream (`_GapWait`,
offered every batch of that conversation queued in its lane, before or while it waits) and
reads the log only when they do not all come: a writer that died between its write and its
notice, an outage, a trimmed stream. Order is unchanged: the batches that brought them stay
in the lane and find their events dispatched already (the watermark drops them). What it
saves is a log read per crossed pair, with several processes the largest part of the bus's
Redis work (`docs/benchmarks.md`, "Crossed notices wait for the stream").
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections import Counter, deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from redis.exceptions import RedisError

from hub import jsonio
from hub.bus import EventListener, GapListener, SignalListener, Subscribers
from hub.bus_order import Lanes, ReadLog, Sequencer, Step
from hub.model import Event
from hub.periodic import stop_task
from hub.store_redis_connect import RedisClient, connect, own_tag

log = logging.getLogger("frontdesk.bus")

MAXLEN = 100_000
ENTRY_EVENTS = 512  # events per stream entry at most (an entry is one reply to a reader)
BLOCK_MS = 5_000
READ_COUNT = 500
SETTLE_TIMEOUT = 10.0  # a bus that cannot settle delays a turn this long at most, then it goes on
# Gap fills (log reads) under way at once; more conversations wait for a slot. About as
# many as the conversations busy at once: a slot is held for the read's round trip on a
# busy event loop, and at 64 busy conversations 16 slots put the wait in the slots
# (dispatch lag p50 365 ms, against 87 ms with 64; bench/bus_lag.py).
MAX_FILLS = 64
# How long a lane waits for a crossed notice to come through the stream before it reads the
# log for it. The notice was sent right after a write that finished before ours began, so it
# is normally one busy event loop's turn away (the other process's writer, one XADD); the
# wait delays only that conversation, and only when a notice is missing.
STREAM_GRACE = 0.1
WAITS_KEPT = 100_000  # the latest waits kept for `stream_waits`

# What the dispatcher works through, in order: ("events", events, stream id or a local
# token), ("signal", (topic, data), id), ("mark", None, id) for an echo of ours,
# ("gap", None, None).
_Item = tuple[str, Any, Any]


@dataclass(slots=True)
class _Entry:
    """A stream entry read here, and how many of its batches (or its signal) still wait in
    a lane: `settled()` counts it dispatched when none does, nor any entry before it."""

    id: tuple[int, int]
    held: int = 0


@dataclass(slots=True)
class _GapWait:
    """A lane's batch that starts past its conversation's watermark, waiting for the events
    between (`after` < seq < `before`) to come through the stream."""

    after: int
    before: int
    found: dict[int, Event] = field(default_factory=dict)
    complete: asyncio.Event = field(default_factory=asyncio.Event)

    def offer(self, batch: Sequence[Event]) -> None:
        """Note what of `batch` is missing here (the batch keeps its events)."""
        for event in batch:
            if self.after < event.seq < self.before:
                self.found[event.seq] = event
        if len(self.found) >= self.before - self.after - 1:
            self.complete.set()


def stream_key(prefix: str) -> str:
    """The stream of a deployment whose keys start with `prefix` (`fd:`)."""
    return f"{own_tag(prefix, 'events')}:stream"


def _id(stream_id: str) -> tuple[int, int]:
    ms, _, seq = stream_id.partition("-")
    return int(ms), int(seq or 0)


class RedisBus:
    """An `hub.bus.EventBus` on a Redis Stream; `read_log` reads a conversation's events."""

    def __init__(
        self, url: str, *, read_log: ReadLog, prefix: str = "fd:", maxlen: int = MAXLEN
    ) -> None:
        self.url = url
        self.key = stream_key(prefix)
        self.maxlen = maxlen
        self.node = os.urandom(8).hex()  # tells this process's entries from the others'
        self.subscribers = Subscribers()
        self.sequencer = Sequencer(read_log)
        self._redis: RedisClient | None = None
        self._reader_redis: RedisClient | None = None  # a blocking XREAD holds its connection
        self._inbox: asyncio.Queue[_Item] = asyncio.Queue()
        # What the writer sends next, in order: a signal's fields, or a batch of events.
        self._outbox: list[dict[Any, Any] | list[dict[str, Any]]] = []
        self._out_ready = asyncio.Event()
        self._queued = 0  # entries handed to the writer …
        self._written = 0  # … and those it has written (or given up on)
        self._progress = asyncio.Condition()
        self._dispatched = (0, 0)  # the last stream id dispatched here
        self._waiting: Counter[str] = Counter()  # batches queued per conversation
        self._lanes = Lanes()  # conversations waiting on a gap fill, and what queued behind
        self._laned: dict[str, list[list[Event]]] = {}  # event batches queued in each lane
        self._gap_waits: dict[str, _GapWait] = {}  # lanes waiting for the stream to fill a gap
        self.stream_filled = 0  # gaps the stream filled without a log read (tests, bench)
        self.stream_waits: list[float] = []  # seconds each of the last gaps waited (bench)
        self._fills = asyncio.Semaphore(MAX_FILLS)
        self._unsettled: deque[_Entry] = deque()  # read, in stream order, not all dispatched
        # Batches this process published that had to queue (they have no stream id until
        # their echo, which does not wait for them): `settled()` waits for these too.
        self._local_held: set[int] = set()
        self._local_tokens = 0
        self._tasks: list[asyncio.Task[None]] = []
        self._closing = False

    # ------------------------------------------------------------------ subscriptions
    def subscribe(self, listener: EventListener) -> None:
        self.subscribers.events.append(listener)

    def on_signal(self, topic: str, listener: SignalListener) -> None:
        self.subscribers.signals.setdefault(topic, []).append(listener)

    def on_gap(self, listener: GapListener) -> None:
        self.subscribers.gaps.append(listener)

    # ------------------------------------------------------------------ publishing
    def publish(self, events: Sequence[Event]) -> None:
        if not events:
            return
        if not self._waiting[events[0].conversation_id]:
            ordered = self.sequencer.take(events)
            if ordered is not None:
                self.subscribers.dispatch(ordered)
            else:
                self._enqueue(events, None)
        else:
            self._enqueue(events, None)
        self._send([e.to_json() for e in events])  # encoded with its neighbours by the writer

    def signal(self, topic: str, data: Mapping[str, Any]) -> None:
        self._send({"n": self.node, "k": "s", "t": topic, "d": jsonio.dumps(dict(data))})

    def _enqueue(self, events: Sequence[Event], entry_id: str | None) -> None:
        for conversation_id in {event.conversation_id for event in events}:
            self._waiting[conversation_id] += 1
        if entry_id is None:
            self._local_tokens += 1
            self._local_held.add(self._local_tokens)
            self._inbox.put_nowait(("events", events, self._local_tokens))
        else:
            self._inbox.put_nowait(("events", events, entry_id))

    def _send(self, item: dict[Any, Any] | list[dict[str, Any]]) -> None:
        self._outbox.append(item)
        self._queued += 1
        self._out_ready.set()

    # ------------------------------------------------------------------ read your writes
    async def settled(self) -> None:
        try:
            await asyncio.wait_for(self._settle(), SETTLE_TIMEOUT)
        except (TimeoutError, RedisError, OSError):
            log.warning("event bus did not settle; going on with what this process has seen")

    async def _settle(self) -> None:
        target = self._queued
        local = set(self._local_held)
        async with self._progress:
            await self._progress.wait_for(lambda: self._written >= target)
        last = await self._last_id()
        async with self._progress:
            await self._progress.wait_for(
                lambda: self._dispatched >= last and local.isdisjoint(self._local_held)
            )

    async def _last_id(self) -> tuple[int, int]:
        entries: Any = await self._client().xrevrange(self.key, count=1)
        return _id(str(entries[0][0])) if entries else (0, 0)

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        # The store's own way to connect: one server or a Redis Cluster (the stream's key
        # carries the store's hash tag, so it lives on the store's slot).
        self._redis = await connect(self.url)
        # The reader resends nothing itself (its loop backs off and catches up instead),
        # so closing its connection ends a blocking read for good.
        self._reader_redis = await connect(self.url, retries=0)
        # Start after what is there now: what came before is in the log, which the
        # consumers read when they start (after this, so nothing falls in between).
        last = await self._last_id()
        self._dispatched = last
        start_id = f"{last[0]}-{last[1]}"
        self._tasks = [
            asyncio.create_task(self._read_forever(start_id)),
            asyncio.create_task(self._write_forever()),
            asyncio.create_task(self._dispatch_forever()),
        ]

    async def stop(self) -> None:
        if self._outbox:  # a last chance for what this process appended
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._flush(), 2.0)
        # The loops also stop on this flag: a cancel that redis-py's own timeouts swallow
        # (Python 3.11's wait_for can) must not keep one running and hang the shutdown.
        self._closing = True
        if self._reader_redis is not None:
            # A blocking XREAD ignores the cancel until its block ends (redis-py's timeouts
            # can swallow it), which held every shutdown up to `BLOCK_MS`: closing the
            # reader's connection ends the read at once.
            with contextlib.suppress(RedisError, OSError):
                await self._reader_redis.aclose()
        await asyncio.gather(*(stop_task(task, "event-bus", 5.0) for task in self._tasks))
        self._tasks = []
        await self._lanes.close()
        for client in (self._redis, self._reader_redis):
            if client is not None:
                await client.aclose()
        self._redis = self._reader_redis = None

    def closing(self) -> bool:
        """`stop` has begun (a call, not the flag: a loop that read it before an await
        must read it again after)."""
        return self._closing

    async def _flush(self) -> None:
        target = self._queued
        async with self._progress:
            await self._progress.wait_for(lambda: self._written >= target)

    def _client(self) -> RedisClient:
        if self._redis is None:
            raise RuntimeError("the event bus is not started")
        return self._redis

    # ------------------------------------------------------------------ background work
    async def _write_forever(self) -> None:
        """One pipeline per burst: a busy process writes many entries per round trip."""
        while not self._closing:
            await self._out_ready.wait()
            self._out_ready.clear()
            batch, self._outbox = self._outbox, []
            entries = self._entries(batch)
            for attempt in range(5):
                try:
                    async with self._client().pipeline(transaction=False) as pipe:
                        for fields in entries:
                            pipe.xadd(self.key, fields, maxlen=self.maxlen, approximate=True)
                        await pipe.execute()
                    break
                except (RedisError, OSError) as error:
                    # Others learn of these events later (their next event, or a resync).
                    log.warning("event bus write failed", extra={"error": repr(error)})
                    await asyncio.sleep(0.1 * 2**attempt)
            async with self._progress:
                self._written += len(batch)
                self._progress.notify_all()

    def _entries(
        self, batch: Sequence[dict[Any, Any] | list[dict[str, Any]]]
    ) -> list[dict[Any, Any]]:
        """The stream entries of what was sent, in order: event batches next to each other
        joined into one entry (their order, hence each conversation's log order, kept), up
        to `ENTRY_EVENTS` events; a signal where it was sent."""
        entries: list[dict[Any, Any]] = []
        events: list[dict[str, Any]] = []

        def flush() -> None:
            if events:
                payload = jsonio.dumps(events)
                entries.append({"n": self.node, "k": "e", "d": payload})
                events.clear()

        for item in batch:
            if isinstance(item, dict):  # a signal
                flush()
                entries.append(item)
                continue
            if len(events) + len(item) > ENTRY_EVENTS:
                flush()
            events.extend(item)
        flush()
        return entries

    async def _read_forever(self, last_id: str) -> None:
        assert self._reader_redis is not None
        delay = 0.1
        lost = False
        while not self._closing:
            try:
                reply: Any = await self._reader_redis.xread(
                    {self.key: last_id}, count=READ_COUNT, block=BLOCK_MS
                )
            except (RedisError, OSError) as error:
                if self.closing():  # the read ended by `stop`
                    return
                if not lost:
                    log.warning("event bus connection lost", extra={"error": repr(error)})
                lost = True
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
                continue
            if lost:
                log.info("event bus connection back; catching up from the log")
                self._inbox.put_nowait(("gap", None, None))
                lost, delay = False, 0.1
            for _key, entries in reply or ():
                for entry_id, fields in entries:
                    last_id = entry_id
                    if fields.get("n") == self.node:
                        self._inbox.put_nowait(("mark", None, entry_id))
                    elif fields.get("k") == "s":
                        data = jsonio.stored(fields.get("d") or "{}")
                        self._inbox.put_nowait(("signal", (fields.get("t", ""), data), entry_id))
                    else:
                        events = [
                            Event.from_json(e) for e in jsonio.stored(fields.get("d") or "[]")
                        ]
                        self._enqueue(events, entry_id)

    async def _dispatch_forever(self) -> None:
        """Stream order, except that a conversation waiting on a gap fill waits in its lane
        and the others pass it."""
        while not self._closing:
            kind, payload, entry_id = await self._inbox.get()
            entry = None
            if isinstance(entry_id, str):
                entry = _Entry(_id(entry_id))
                self._unsettled.append(entry)
            try:
                if kind == "events":
                    self._route_events(payload, entry, entry_id)
                elif kind == "signal":
                    topic, data = payload
                    self._route_signal(topic, data, entry)
                elif kind == "gap":
                    # The listeners rebuild from the log: after every batch read before the
                    # loss, as with one queue, so none of those lands on the rebuilt state.
                    await self._lanes.drained()
                    await self.subscribers.dispatch_gap()
            except Exception:
                log.exception("event bus dispatch failed")
            if entry is not None or isinstance(entry_id, int):
                await self._advance()

    def _route_events(self, events: Sequence[Event], entry: _Entry | None, token: Any) -> None:
        by_conversation: dict[str, list[Event]] = {}
        for event in events:
            by_conversation.setdefault(event.conversation_id, []).append(event)
        for conversation_id, batch in by_conversation.items():
            batch.sort(key=lambda e: e.seq)
            if not self._lanes.held(conversation_id):
                ordered = self.sequencer.take(batch)
                if ordered is not None:
                    if ordered:
                        self.subscribers.dispatch(ordered)
                    self._batch_done(conversation_id, token)
                    continue
            if entry is not None:
                entry.held += 1
            self._laned.setdefault(conversation_id, []).append(batch)
            waiting = self._gap_waits.get(conversation_id)
            if waiting is not None:
                waiting.offer(batch)
            self._lanes.add(conversation_id, self._held_batch(batch, entry, token))

    def _route_signal(self, topic: str, data: Mapping[str, Any], entry: _Entry | None) -> None:
        """A signal about a conversation (typing) keeps its place behind that conversation's
        held events; any other goes out at once."""
        conversation_id = data.get("conversation_id") if isinstance(data, Mapping) else None
        if not isinstance(conversation_id, str) or not self._lanes.held(conversation_id):
            self.subscribers.dispatch_signal(topic, data)
            return

        async def step() -> None:
            try:
                self.subscribers.dispatch_signal(topic, data)
            finally:
                await self._lane_done(entry)

        if entry is not None:
            entry.held += 1
        self._lanes.add(conversation_id, step)

    def _held_batch(self, batch: list[Event], entry: _Entry | None, token: Any) -> Step:
        conversation_id = batch[0].conversation_id

        async def step() -> None:
            try:
                self._unlane(batch)
                ordered = self.sequencer.take(batch)
                if ordered is None:
                    found = await self._from_stream(batch)
                    if found:  # all that was missing: together they start at the watermark
                        ordered = self.sequencer.take([*found, *batch])
                        self.stream_filled += 1
                    if ordered is None:
                        async with self._fills:
                            ordered = await self.sequencer.order(batch)
                if ordered:
                    self.subscribers.dispatch(ordered)
            except Exception:
                log.exception("event bus dispatch failed")
            finally:
                self._batch_done(conversation_id, token)
                await self._lane_done(entry)

        return step

    def _unlane(self, batch: list[Event]) -> None:
        """`batch`, whose lane step has started, is no longer one of those queued."""
        conversation_id = batch[0].conversation_id
        queued = self._laned.get(conversation_id, [])
        for index, other in enumerate(queued):
            if other is batch:
                del queued[index]
                break
        if not queued:
            self._laned.pop(conversation_id, None)

    async def _from_stream(self, batch: list[Event]) -> list[Event]:
        """The events missing before `batch` (at the head of its lane), in seq order, if
        the stream brings them all within `STREAM_GRACE`; else none (the log is read)."""
        conversation_id = batch[0].conversation_id
        waiting = _GapWait(self.sequencer.watermark(conversation_id) or 0, batch[0].seq)
        for queued in self._laned.get(conversation_id, ()):  # already behind it in the lane
            waiting.offer(queued)
        if not waiting.complete.is_set():
            self._gap_waits[conversation_id] = waiting
            started = time.monotonic()
            try:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(waiting.complete.wait(), STREAM_GRACE)
            finally:
                del self._gap_waits[conversation_id]
                if len(self.stream_waits) >= WAITS_KEPT:
                    del self.stream_waits[: WAITS_KEPT // 2]
                self.stream_waits.append(time.monotonic() - started)
        if not waiting.complete.is_set():
            return []
        return [waiting.found[seq] for seq in sorted(waiting.found)]

    def _batch_done(self, conversation_id: str, token: Any) -> None:
        self._waiting[conversation_id] -= 1
        if self._waiting[conversation_id] <= 0:
            del self._waiting[conversation_id]
        if isinstance(token, int):
            self._local_held.discard(token)

    async def _lane_done(self, entry: _Entry | None) -> None:
        if entry is not None:
            entry.held -= 1
        await self._advance()

    async def _advance(self) -> None:
        """Move the dispatched mark over the entries at the front that are done."""
        async with self._progress:
            while self._unsettled and self._unsettled[0].held <= 0:
                self._dispatched = max(self._dispatched, self._unsettled.popleft().id)
            self._progress.notify_all()


__all__ = ["RedisBus", "stream_key"]
