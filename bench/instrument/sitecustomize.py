"""The event bus counted from inside each hub process, for `bench/scale.py` and
`bench/bus_lag.py`: put this directory first on a hub's `PYTHONPATH` and name a directory in
`FRONTDESK_BENCH_BUS_COUNTS`, and every process of that hub (each worker of `--workers N`
too) writes there, as its Redis event bus stops, `<pid>.json` with:

- `lags`: for each batch dispatched to its listeners, seconds since the batch's newest event
  was appended (`Event.at`, the writer's clock just before its append: every process of a
  bench shares the machine's), split into `publish` (this process's own, dispatched inside
  `publish()`) and `dispatcher` (through the stream, or after waiting in a lane);
- `span`: seconds from the first dispatched batch to the last;
- `gap_fills` (log reads of the `Sequencer`) and `filled_types` (what they read, by type);
- `stream_fills` and `stream_waits`: gaps the stream filled, and how long each waited.

Nothing happens without the variable."""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

OUT = os.environ.get("FRONTDESK_BENCH_BUS_COUNTS")
LAGS_KEPT = 200_000  # batches of each kind whose lag is kept


def _instrument(out: Path) -> None:
    from hub.bus_order import Sequencer
    from hub.bus_redis import RedisBus

    start, stop, publish = RedisBus.start, RedisBus.stop, RedisBus.publish
    read = Sequencer._read
    lags: dict[str, list[float]] = {"publish": [], "dispatcher": []}
    filled: Counter[str] = Counter()
    first = last = 0.0  # when the first batch was dispatched, and the last
    publishing = False

    def record(events: Sequence[Any]) -> None:
        nonlocal first, last
        now = last = time.time()
        first = first or now
        kept = lags["publish" if publishing else "dispatcher"]
        if len(kept) < LAGS_KEPT:
            kept.append(now - events[-1].at)

    def instrumented_publish(self: RedisBus, events: Any) -> None:
        nonlocal publishing
        publishing = True
        try:
            publish(self, events)
        finally:
            publishing = False

    async def counted_read(self: Sequencer, conversation_id: str, after: int, before: int) -> Any:
        found = await read(self, conversation_id, after, before)
        filled.update(str(event.type) for event in found)
        return found

    async def instrumented_start(self: RedisBus) -> None:
        self.subscribe(record)
        await start(self)

    async def counted_stop(self: RedisBus) -> None:
        counts = {
            "lags": lags,
            "span": last - first,
            "gap_fills": self.sequencer.gaps_filled,
            "filled_types": dict(filled),
            # Absent before the stream filled crossed notices (a baseline checkout).
            "stream_fills": getattr(self, "stream_filled", 0),
            "stream_waits": getattr(self, "stream_waits", []),
        }
        (out / f"{os.getpid()}.json").write_text(json.dumps(counts))
        await stop(self)

    RedisBus.start = instrumented_start  # type: ignore[method-assign]
    RedisBus.stop = counted_stop  # type: ignore[method-assign]
    RedisBus.publish = instrumented_publish  # type: ignore[method-assign]
    Sequencer._read = counted_read  # type: ignore[method-assign]


if OUT:
    with contextlib.suppress(ImportError):  # not a hub process (a tool with this environment)
        _instrument(Path(OUT))
