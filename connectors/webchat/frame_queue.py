"""The frames one open tab has waiting for its writer.

`asyncio.Queue` would do the job, but it carries four deques (its items, getters, putters
and an `Event`'s waiters: about 3 KiB) for every open tab, and an idle tab's queue is empty
nearly all its life: 10,000 idle visitors paid ~30 MiB for them. Here the frames are one
list the writer takes whole. Nobody waits on it: the tab starts a writer when a frame
arrives and none is running (`SocketListener`), and the writer ends when it is empty.
"""

from __future__ import annotations

from typing import Any

Frame = dict[str, Any] | None  # None: the stop marker, the last thing a writer takes


class FrameQueue:
    """Bounded, one reader (the tab's writer), any number of callers putting."""

    __slots__ = ("_frames", "maxsize")

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize  # <= 0: unbounded
        self._frames: list[Frame] = []

    def __len__(self) -> int:
        return len(self._frames)

    def full(self) -> bool:
        return 0 < self.maxsize <= len(self._frames)

    def put(self, frame: Frame) -> bool:
        """Queue `frame`; False (and nothing queued) when the queue is full."""
        if self.full():
            return False
        self._frames.append(frame)
        return True

    def stop(self) -> None:
        """Queue the stop marker, dropping the oldest frames if it has no room: what a
        closing tab had pending is replayed from the log when the client resumes."""
        while self.full():
            del self._frames[0]
        self.put(None)

    def take_nowait(self) -> list[Frame]:
        """Everything queued, in order (possibly nothing)."""
        frames, self._frames = self._frames, []
        return frames
