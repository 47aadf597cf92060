"""Who is connected: every open tab (WebSocket) or waiting long-poll of every visitor.

Frames from the conversation log are offered to each listener with their (conversation,
seq); a listener passes on each one at most once and in log order. While a listener is
catching up from the log ("syncing"), live frames are held back and released after the
replay, minus those the replay already contained: that is what makes resume exactly-once.

A "typing" frame can be held back for a grace period per visitor (`publish_typing`): most
replies come sooner, and the indicator would only flicker. Holding it here, rather than in
each socket's writer, costs one timer per turn and wakes no writer for a frame that is
then dropped.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from typing import Any, Protocol

from connectors.webchat.frame_queue import FrameQueue
from connectors.webchat.protocol import SharedFrame, is_reply
from hub.shared_limits import LocalRateLimiter, RateLimiter

JSON = dict[str, Any]


class Listener:
    """One client connection. Subclasses decide how frames leave (`_emit`)."""

    def __init__(self, visitor: str) -> None:
        self.visitor = visitor
        self.conversation_id = ""
        self.high_seq = 0  # the last logged frame passed on for `conversation_id`
        self._held: list[JSON] | None = None  # live frames held back while syncing

    def begin_sync(self) -> None:
        self._held = []

    def end_sync(self) -> None:
        held, self._held = self._held or [], None
        for frame in held:
            self.offer(frame)

    def offer(self, frame: JSON) -> None:
        """A live frame: logged frames once each and in order, others as they come."""
        if frame.get("seq") is None or frame.get("type") in ("ack", "synced", "read"):
            self._emit(frame)
        elif self._held is not None:
            self._held.append(frame)
        else:
            self.replay(frame)

    def replay(self, frame: JSON) -> None:
        """A logged frame, read back from the log or pushed live; passed on unless seen."""
        seq = frame.get("seq", 0)
        conversation_id = str(frame.get("conversation_id", ""))
        if conversation_id != self.conversation_id:
            # A new conversation started (the last one was resolved): its seqs start afresh.
            self.conversation_id = conversation_id
            self.high_seq = 0
        if int(seq) <= self.high_seq:
            return
        self.high_seq = int(seq)
        self._emit(frame)

    def _emit(self, frame: JSON) -> None:
        raise NotImplementedError

    def close(self, code: int, reason: str) -> None:
        """Ask the connection to end (the client will resume)."""


# Sends what a tab has queued until nothing is; False once the socket is done with (closed
# after the stop marker, or broken), when no writer may start again.
Writer = Callable[["SocketListener"], Coroutine[Any, Any, bool]]


class SocketListener(Listener):
    """A WebSocket tab: frames go through a bounded queue drained by one writer, so a slow
    browser can never block the hub (it is disconnected and resumes instead).

    The writer is a task only while there is something to send: a frame queued with no
    writer running starts one (`write`), which ends once the queue is empty. An idle tab,
    what 10,000 idle visitors are made of, holds no task (≈ 1.2 KiB each, with the future
    it would wait on); a reply costs a task's start instead of a waiting task's wake-up.
    Without `write` (tests of the queue) frames only queue."""

    def __init__(self, visitor: str, *, max_pending: int, write: Writer | None = None) -> None:
        super().__init__(visitor)
        self.queue = FrameQueue(max_pending)
        self.close_code = 0
        self.close_reason = ""
        self._write = write
        self._writing: asyncio.Task[None] | None = None
        self._ended = False  # the writer found the socket done with

    def _emit(self, frame: JSON) -> None:
        if self.close_code:
            return
        if not self.queue.put(frame):
            self.close(4008, "too many frames pending; reconnect to resume")
            return
        self._start_writer()

    def close(self, code: int, reason: str) -> None:
        if self.close_code:
            return
        self.close_code, self.close_reason = code, reason
        self.queue.stop()
        self._start_writer()

    async def written(self) -> None:
        """Once the writer has sent what is queued (and, after `close`, closed the socket)."""
        while self._writing is not None:
            await self._writing

    def _start_writer(self) -> None:
        if self._write is None or self._writing is not None or self._ended:
            return
        self._writing = asyncio.get_running_loop().create_task(self._drain(self._write))

    async def _drain(self, write: Writer) -> None:
        try:
            self._ended = not await write(self)
        except BaseException:
            self._ended = True
            raise
        finally:
            # No frame can have been queued since the writer found the queue empty: it
            # returned without awaiting anything after that.
            self._writing = None


class PollListener(Listener):
    """A waiting long-poll: live frames only wake it; it re-reads the log itself, so the
    frames it answers with are exactly those a socket would have had, in the same order."""

    def __init__(self, visitor: str) -> None:
        super().__init__(visitor)
        self.woken = asyncio.Event()
        self.frames: list[JSON] = []  # read back from the log
        self.ephemeral: list[JSON] = []  # typing, read marks: not in the log

    def offer(self, frame: JSON) -> None:
        if frame.get("seq") is None or frame.get("type") == "read":
            self.ephemeral.append(frame)
        self.woken.set()

    def _emit(self, frame: JSON) -> None:
        self.frames.append(frame)


class Timer(Protocol):
    def cancel(self) -> None: ...


def call_later(delay: float, callback: Callable[[], None]) -> Timer:
    """The running loop's timer (tests put a hand-fired one in its place)."""
    return asyncio.get_running_loop().call_later(delay, callback)


class Sessions:
    """Listeners by visitor, the conversation each visitor is in, and their rate limits."""

    def __init__(
        self,
        *,
        rate: float,
        burst: int,
        max_per_visitor: int,
        clock: Callable[[], float] = time.monotonic,
        limiter: RateLimiter | None = None,
    ) -> None:
        self.rate = rate
        self.burst = burst
        self.max_per_visitor = max_per_visitor
        self.clock = clock
        self._listeners: dict[str, set[Listener]] = {}
        self._conversation_of: dict[str, str] = {}  # visitor → their current conversation
        self._visitor_of: dict[str, str] = {}  # conversation → visitor
        # Followed conversations whose last customer message this process has seen, and
        # no reply after it yet: a turn starting now may say "typing" without a store read.
        self._unanswered: set[str] = set()
        # Per-visitor message bucket: the hub's shared limiter (alone: this process's own).
        self.limiter: RateLimiter = limiter or LocalRateLimiter(clock)
        self.prefix = "webchat"
        # Per visitor: a "typing" frame waiting out its grace, and the timer that sends it.
        self._held_typing: dict[str, tuple[JSON, Timer]] = {}
        self.call_later: Callable[[float, Callable[[], None]], Timer] = call_later

    # -- membership
    def add(self, listener: Listener) -> bool:
        """Register a connection; False when the visitor already has too many."""
        group = self._listeners.setdefault(listener.visitor, set())
        if len(group) >= self.max_per_visitor:
            return False
        group.add(listener)
        return True

    def remove(self, listener: Listener) -> None:
        group = self._listeners.get(listener.visitor)
        if group is None:
            return
        group.discard(listener)
        if not group:
            del self._listeners[listener.visitor]
            self._drop_held_typing(listener.visitor)
            conversation_id = self._conversation_of.pop(listener.visitor, "")
            self._visitor_of.pop(conversation_id, None)
            self._unanswered.discard(conversation_id)

    def listeners(self, visitor: str) -> list[Listener]:
        return list(self._listeners.get(visitor, ()))

    def all_listeners(self) -> list[Listener]:
        return [listener for group in self._listeners.values() for listener in group]

    # -- which conversation a visitor's frames come from
    def follow(self, visitor: str, conversation_id: str) -> None:
        """Route `conversation_id`'s events to `visitor` (only while they are connected)."""
        if not conversation_id or visitor not in self._listeners:
            return
        previous = self._conversation_of.get(visitor)
        if previous == conversation_id:
            return
        if previous:
            self._visitor_of.pop(previous, None)
            self._unanswered.discard(previous)
        self._conversation_of[visitor] = conversation_id
        self._visitor_of[conversation_id] = visitor

    def conversation_of(self, visitor: str) -> str:
        """The conversation `visitor`'s frames come from ("" when none yet)."""
        return self._conversation_of.get(visitor, "")

    def visitor_of(self, conversation_id: str) -> str | None:
        return self._visitor_of.get(conversation_id)

    def seen(self, conversation_id: str, *, unanswered: bool) -> None:
        """A followed conversation's customer message (`unanswered`) or reply went by."""
        if unanswered:
            self._unanswered.add(conversation_id)
        else:
            self._unanswered.discard(conversation_id)

    def unanswered(self, conversation_id: str) -> bool:
        """True when this process saw the conversation's last customer message and no
        reply since; False means "not known here" as much as "answered"."""
        return conversation_id in self._unanswered

    def publish(self, visitor: str, frame: JSON) -> int:
        """Offer a frame to every connection of `visitor`; how many there are.

        A "typing" held for the visitor goes first, unless `frame` is a reply: the client
        would hide the indicator at once."""
        held = self._drop_held_typing(visitor)
        if held is not None and not is_reply(frame):
            self._offer(visitor, held)
        return self._offer(visitor, frame)

    def publish_typing(self, visitor: str, frame: JSON, *, grace: float) -> None:
        """Publish a "typing" frame once `grace` seconds have passed with nothing else for
        the visitor: a reply within them takes its place, any other frame takes it along
        (as does a second "typing"). With nobody connected there is nothing to hold."""
        if grace <= 0 or visitor in self._held_typing:
            self.publish(visitor, frame)
        elif visitor in self._listeners:
            timer = self.call_later(grace, lambda: self._release_typing(visitor))
            self._held_typing[visitor] = (frame, timer)

    def holds_typing(self, visitor: str) -> bool:
        return visitor in self._held_typing

    def _release_typing(self, visitor: str) -> None:
        held = self._held_typing.pop(visitor, None)
        if held is not None:
            self._offer(visitor, held[0])

    def _drop_held_typing(self, visitor: str) -> JSON | None:
        held = self._held_typing.pop(visitor, None)
        if held is None:
            return None
        held[1].cancel()
        return held[0]

    def _offer(self, visitor: str, frame: JSON) -> int:
        group = self._listeners.get(visitor, ())
        if len(group) > 1:  # several tabs: the JSON text is made once for all of them
            frame = SharedFrame(frame)
        for listener in list(group):
            listener.offer(frame)
        return len(group)

    # -- abuse limits
    async def take(self, visitor: str) -> float:
        """0 when `visitor` may send a message now; else the seconds to wait."""
        key = f"{self.prefix}:visitor:{visitor}"
        return await self.limiter.take(key, rate=self.rate, burst=self.burst)


__all__ = ["Listener", "PollListener", "Sessions", "SocketListener"]
