"""Background work repeated every few seconds that stops when asked, even if a cancel is lost.

A loop of ``while True: await work(); await asyncio.sleep(every)`` stopped by
``task.cancel(); await task`` can hang its app's shutdown for ever: on Python 3.11 a cancel
that arrives while `work` waits on Redis can be swallowed (redis-py's timeouts and
`asyncio.wait_for` can), or turned into an error that the loop's ``except Exception`` logs;
the loop then goes on, the task stays "cancelling" in its sleep, and ``await task`` never
returns. (The console's figures refresh did exactly that to a two-process test on a Redis
Cluster.) `Periodic` stops on a flag as well as the cancel, sleeps on that flag, and waits
for the task a bounded time.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger("frontdesk.periodic")

STOP_WITHIN = 10.0  # s: longer than any single round of work should take


class Periodic:
    """Run `work` every `every` seconds in a task of its own, from `start` until `stop`.

    `work`'s exceptions are logged under `name` and the loop goes on; with `first=False`
    the first round waits one interval."""

    def __init__(
        self,
        name: str,
        work: Callable[[], Awaitable[None]],
        every: float,
        *,
        first: bool = True,
    ) -> None:
        self.name = name
        self.work = work
        self.every = every
        self.first = first
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._stopping.clear()
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self, within: float = STOP_WITHIN) -> None:
        """Ask the loop to end, then wait for it at most `within` seconds."""
        self._stopping.set()
        task, self._task = self._task, None
        if task is not None:
            await stop_task(task, self.name, within)

    async def _run(self) -> None:
        if not self.first:
            await self._pause()
        while not self._stopping.is_set():
            try:
                await self.work()
            except Exception:
                log.exception("background work failed", extra={"work": self.name})
            await self._pause()

    async def _pause(self) -> None:
        """Sleep `every` seconds, or less when asked to stop meanwhile."""
        stopping = asyncio.ensure_future(self._stopping.wait())
        try:
            await asyncio.wait([stopping], timeout=self.every)
        finally:
            stopping.cancel()


async def stop_task(task: asyncio.Task[None], name: str, within: float = STOP_WITHIN) -> None:
    """Cancel a loop's task and wait for it at most `within` seconds, logging one that does
    not end. The loop must also check a stop flag of its own: the cancel may be swallowed."""
    task.cancel()
    # asyncio.wait never raises, nor waits longer than asked.
    done, _ = await asyncio.wait([task], timeout=within)
    if not done:
        log.error("background work did not stop", extra={"work": name})


__all__ = ["Periodic", "stop_task"]
