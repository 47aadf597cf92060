"""Background work that swallows its cancel, as redis-py's own timeouts can on Python 3.11,
and the check that a loop running it still stops when asked."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

import pytest

BOUND = 60.0  # s: only reached when stopping hangs, which is the failure


class SwallowsFirstCancel:
    """A round of work that waits for ever (a Redis call that does not answer) and
    swallows the first cancel it gets: the loop around it goes on as if it had returned.
    Stands in for any method (its arguments are ignored)."""

    def __init__(self) -> None:
        self.rounds = 0
        self.busy = asyncio.Event()

    async def __call__(self, *_: object) -> None:
        self.rounds += 1
        self.busy.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            if self.rounds > 1:
                raise


async def stops(stop: Coroutine[Any, Any, None], what: str) -> None:
    """`stop` returns of itself; fail the test if it hangs.

    Not `asyncio.wait_for`: a stop that suppresses `CancelledError` (as `await task` in
    `contextlib.suppress` does) would swallow its timeout too, and seem to have returned."""
    stopping = asyncio.ensure_future(stop)
    done, _ = await asyncio.wait([stopping], timeout=BOUND)
    if not done:
        stopping.cancel()
        await asyncio.wait([stopping], timeout=BOUND)
        pytest.fail(f"{what} hung: the loop went on after its cancel was swallowed")
    stopping.result()
