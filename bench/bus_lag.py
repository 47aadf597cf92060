"""How far behind the log the Redis bus dispatches events, under `bench/api.py`'s load.

    python bench/bus_lag.py --concurrency 64 --seconds 15
    python bench/bus_lag.py --concurrency 64 --seconds 15 --baseline /work/wt/base --rounds 3

It runs `bench/api.py`'s load (Redis store, closed loop) against a hub whose `RedisBus`
is counted from inside (`bench/instrument/sitecustomize.py`, put first on the hub's
`PYTHONPATH`): for every batch dispatched to the subscribers, the time since its last
event was appended (`Event.at`, the hub's clock taken just before the append). Batches
dispatched inside `publish()` (this process's own, nothing waiting) and those that went
through the dispatcher (a gap fill, or what queued behind one) are counted apart: the
second kind is what a log read holds up. It also counts gap fills (`Sequencer.gaps_filled`)
per second, and the events they read from the log by type (what was appended unannounced,
or announced after a later event). With `--baseline` the two checkouts run in alternation, as in `bench/api.py`.

Progress goes to stderr; the last stdout line is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

INSTRUMENT = Path(__file__).resolve().parent / "instrument"  # the bus counters


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000, 2)


def figures(report: dict[str, Any]) -> dict[str, object]:
    lags = report["lags"]
    every = [*lags["publish"], *lags["dispatcher"]]
    span = max(float(report["span"]), 1e-9)  # from the first dispatched batch to the last
    return {
        "batches": len(every),
        "lag_p50_ms": pct(every, 0.50),
        "lag_p99_ms": pct(every, 0.99),
        "publish_lag_p50_ms": pct(lags["publish"], 0.50),
        "dispatcher_batches": len(lags["dispatcher"]),
        "dispatcher_lag_p50_ms": pct(lags["dispatcher"], 0.50),
        "dispatcher_lag_p99_ms": pct(lags["dispatcher"], 0.99),
        "gap_fills": report["gap_fills"],
        "gap_fills_per_second": round(report["gap_fills"] / span, 1),
        # The events the fills read from the log, by type, per second.
        "filled_per_second": {
            kind: round(count / span, 1)
            for kind, count in sorted(report.get("filled_types", {}).items())
        },
    }


async def one_run(args: argparse.Namespace, repo: Path) -> dict[str, object]:
    from bench import api

    out = Path(tempfile.mkdtemp(prefix="fd-bus-lag-"))
    api.HUB_PATH = (str(INSTRUMENT),)
    api.HUB_ENV = {"FRONTDESK_BENCH_BUS_COUNTS": str(out)}
    result = await api.run(args, repo)
    written = list(out.glob("*.json"))
    if not written:
        raise SystemExit(f"the hub wrote no bus figures ({repo}); is its store Redis?")
    return {**result, **figures(json.loads(written[0].read_text()))}


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
