"""Background work that repeats (`hub.periodic`): it goes on after a failure, and it stops
when asked even when its work swallows the cancel, as a Redis call can on Python 3.11."""

from __future__ import annotations

import asyncio

import pytest

from hub.periodic import Periodic

BOUND = 60.0  # s: only reached when stopping hangs, which is the failure


async def test_work_that_swallows_the_cancel_still_stops() -> None:
    rounds = 0
    busy = asyncio.Event()

    async def work() -> None:
        nonlocal rounds
        rounds += 1
        busy.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            if rounds > 1:
                raise
            # The first cancel is swallowed, as redis-py's own timeouts can on Python 3.11.

    periodic = Periodic("swallower", work, every=0.01)
    periodic.start()
    await busy.wait()
    try:
        await asyncio.wait_for(periodic.stop(), BOUND)
    except TimeoutError:
        pytest.fail("Periodic.stop() hung: the loop went on after its cancel was swallowed")
    assert rounds == 1  # the flag ended the loop: no round after the stop


async def test_a_failed_round_is_logged_and_the_next_one_runs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    rounds: list[int] = []
    third = asyncio.Event()

    async def work() -> None:
        rounds.append(len(rounds))
        if len(rounds) == 1:
            raise RuntimeError("store unreachable")
        if len(rounds) == 3:
            third.set()

    periodic = Periodic("flaky", work, every=0.01)
    periodic.start()
    await asyncio.wait_for(third.wait(), BOUND)
    await periodic.stop()
    assert rounds[:3] == [0, 1, 2]
    (failure,) = [r for r in caplog.records if r.message == "background work failed"]
    assert failure.work == "flaky"  # type: ignore[attr-defined]
