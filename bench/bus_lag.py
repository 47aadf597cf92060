"""How far behind the log the Redis bus dispatches events, under `bench/api.py`'s load.

    python bench/bus_lag.py --concurrency 64 --seconds 15
    python bench/bus_lag.py --concurrency 64 --seconds 15 --baseline /work/wt/base --rounds 3

It runs `bench/api.py`'s load (Redis store, closed loop) against a hub started through
this file, which adds one listener to the hub's `RedisBus` before it starts: for every
batch dispatched to the subscribers, the time since its last event was appended
(`Event.at`, the hub's clock taken just before the append). Batches dispatched inside
`publish()` (this process's own, nothing waiting) and those that went through the
dispatcher (a gap fill, or what queued behind one) are counted apart: the second kind is
what a log read holds up. It also counts gap fills (`Sequencer.gaps_filled`) per second,
and the events they read from the log by type (what was appended unannounced, or
announced after a later event).
With `--baseline` the two checkouts run in alternation, as in `bench/api.py`.

Progress goes to stderr; the last stdout line is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import runpy
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

AS_HUB = "--as-hub"  # first argument: this process is the hub, instrumented
OUT_ENV = "FRONTDESK_BENCH_BUS_LAG"  # where the hub writes its samples when it stops


def as_hub() -> None:
    """Run `python -m hub` (from the checkout on PYTHONPATH) with the bus instrumented."""
    # Not `bench/` first on the path: its `handoff.py` would hide the `handoff` package.
    here = str(Path(__file__).resolve().parent)
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(here)]
    from hub.bus_order import Sequencer
    from hub.bus_redis import RedisBus

    out = Path(os.environ[OUT_ENV])
    lags: dict[str, list[float]] = {"publish": [], "dispatcher": []}
    times: list[float] = []
    publishing = False
    start, stop, publish = RedisBus.start, RedisBus.stop, RedisBus.publish
    read = Sequencer._read
    # What the gap fills read from the log, by type: events appended without a notice, or
    # whose notice came after a later one's.
    filled: Counter[str] = Counter()

    async def counted_read(self: Sequencer, conversation_id: str, after: int, before: int) -> Any:
        found = await read(self, conversation_id, after, before)
        filled.update(str(event.type) for event in found)
        return found

    def record(events: Any) -> None:
        now = time.time()
        times.append(now)
        # The newest event: the one whose notice this is (a gap fill's older events were
        # appended earlier, unannounced: a failed or parked delivery, or a notice still in flight).
        lags["publish" if publishing else "dispatcher"].append(now - events[-1].at)

    def instrumented_publish(self: RedisBus, events: Any) -> None:
        nonlocal publishing
        publishing = True
        try:
            publish(self, events)
        finally:
            publishing = False

    async def instrumented_start(self: RedisBus) -> None:
        self.subscribe(record)
        await start(self)

    async def instrumented_stop(self: RedisBus) -> None:
        span = (times[-1] - times[0]) if len(times) > 1 else 0.0
        report = {
            "lags": lags,
            "gaps_filled": self.sequencer.gaps_filled,
            "filled_types": dict(filled),
            "span": span,
        }
        out.write_text(json.dumps(report))
        await stop(self)

    RedisBus.start = instrumented_start  # type: ignore[method-assign]
    RedisBus.stop = instrumented_stop  # type: ignore[method-assign]
    RedisBus.publish = instrumented_publish  # type: ignore[method-assign]
    Sequencer._read = counted_read  # type: ignore[method-assign]
    sys.argv = ["hub", *sys.argv[2:]]
    runpy.run_module("hub", run_name="__main__", alter_sys=True)


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000, 2)


def figures(report: dict[str, Any]) -> dict[str, object]:
    lags = report["lags"]
    every = [*lags["publish"], *lags["dispatcher"]]
    span = max(float(report["span"]), 1e-9)
    return {
        "batches": len(every),
        "lag_p50_ms": pct(every, 0.50),
        "lag_p99_ms": pct(every, 0.99),
        "publish_lag_p50_ms": pct(lags["publish"], 0.50),
        "dispatcher_batches": len(lags["dispatcher"]),
        "dispatcher_lag_p50_ms": pct(lags["dispatcher"], 0.50),
        "dispatcher_lag_p99_ms": pct(lags["dispatcher"], 0.99),
        "gap_fills": report["gaps_filled"],
        "gap_fills_per_second": round(report["gaps_filled"] / span, 1),
        # The events the fills read from the log, by type, per second.
        "filled_per_second": {
            kind: round(count / span, 1)
            for kind, count in sorted(report.get("filled_types", {}).items())
        },
    }


async def one_run(args: argparse.Namespace, repo: Path) -> dict[str, object]:
    from bench import api

    api.HUB_COMMAND = (str(Path(__file__).resolve()), AS_HUB)
    out = Path(tempfile.mkdtemp(prefix="fd-bus-lag-")) / "lag.json"
    os.environ[OUT_ENV] = str(out)
    result = await api.run(args, repo)
    if not out.exists():
        raise SystemExit(f"the hub wrote no bus figures ({repo}); is its store Redis?")
    return {**result, **figures(json.loads(out.read_text()))}


async def main(args: argparse.Namespace) -> dict[str, object]:
    from bench.api import checkouts, progress

    trees = checkouts(args)
    runs: dict[str, list[dict[str, object]]] = {name: [] for name in trees}
    for round_number in range(1, (args.rounds if len(trees) > 1 else 1) + 1):
        for name, repo in trees.items():
            progress(f"round {round_number}: {name} ({repo})")
            runs[name].append(await one_run(args, repo))
            progress(f"  {json.dumps(runs[name][-1])}")  # every run, not only the medians

    def median(name: str, key: str) -> float:
        return statistics.median(float(str(r[key])) for r in runs[name])

    keys = (
        "turns_per_second",
        "hub_cpu_ms_per_turn",
        "lag_p50_ms",
        "lag_p99_ms",
        "dispatcher_lag_p50_ms",
        "dispatcher_lag_p99_ms",
        "gap_fills_per_second",
        "load_average",
    )
    summary: dict[str, object] = {name: {key: median(name, key) for key in keys} for name in trees}
    if "baseline" in trees:
        cpu = median("baseline", "hub_cpu_ms_per_turn") / max(
            median("this", "hub_cpu_ms_per_turn"), 1e-9
        )
        summary["cpu_per_turn_ratio"] = round(cpu, 2)  # > 1: this tree is cheaper
    return summary


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == AS_HUB:
        as_hub()  # the hub's imports come from PYTHONPATH (the checkout under test)
    else:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
        parser.add_argument("--concurrency", type=int, default=64, help="conversations")
        parser.add_argument("--seconds", type=float, default=15)
        from bench.api import add_baseline_options

        add_baseline_options(parser)
        parsed = parser.parse_args()
        # What `bench/api.py`'s run reads besides: the Redis store, a closed loop.
        parsed.store, parsed.bot, parsed.rate, parsed.conversations = "redis", "echo", 0, 500
        parsed.text = ""
        print(json.dumps(asyncio.run(main(parsed))))
