"""Background work that repeats (`hub.periodic`): it goes on after a failure, and it stops
when asked even when its work swallows the cancel, as a Redis call can on Python 3.11."""

from __future__ import annotations

import asyncio

import pytest

from hub.periodic import Periodic
from tests.cancels import BOUND, SwallowsFirstCancel, stops


async def test_work_that_swallows_the_cancel_still_stops() -> None:
    work = SwallowsFirstCancel()
    periodic = Periodic("swallower", work, every=0.01)
    periodic.start()
    await work.busy.wait()
    await stops(periodic.stop(), "Periodic.stop()")
    assert work.rounds == 1  # the flag ended the loop: no round after the stop


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
