"""Counts for `bench/scale.py` from inside each hub process (every worker imports this first,
being on its PYTHONPATH): when `FRONTDESK_BENCH_BUS_COUNTS` names a directory, each
process's Redis event bus writes there, as it stops, how many gaps it filled from the log
and how many the stream filled (and how long each waited for it). Nothing happens without the variable."""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

OUT = os.environ.get("FRONTDESK_BENCH_BUS_COUNTS")


def _instrument(out: Path) -> None:
    from hub.bus_redis import RedisBus

    stop = RedisBus.stop

    async def counted_stop(self: RedisBus) -> None:
        counts = {
            "gap_fills": self.sequencer.gaps_filled,
            # Absent before the stream filled crossed notices (a baseline checkout).
            "stream_fills": getattr(self, "stream_filled", 0),
            "stream_waits": getattr(self, "stream_waits", []),
        }
        (out / f"{os.getpid()}.json").write_text(json.dumps(counts))
        await stop(self)

    RedisBus.stop = counted_stop  # type: ignore[method-assign]


if OUT:
    with contextlib.suppress(ImportError):  # not a hub process (a tool with this environment)
        _instrument(Path(OUT))
