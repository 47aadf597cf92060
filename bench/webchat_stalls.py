"""What holds the event loop under web chat load: callbacks that run long, and why.

A closed-loop p99 far above the median means the loop is now and then held by one long
piece of work, which every turn waiting behind it pays for. The hub runs as usual
(`frontdesk serve`, demo bot, SQLite) with:

- every callback of the loop timed (`Handle._run`) in wall time and in the thread's CPU
  time (which another process taking the core does not inflate): histograms, and for each
  callback past `--slow` ms the Python stack at that moment, taken by a watchdog thread
  (it asks for the GIL, so it gets it at the latest one switch interval into the callback);
- each iteration of the loop timed without its `select` (the work of one pass);
- a probe task asleep for 2 ms at a time: how late it wakes (what any timer pays);
- the group commit's batches (`GroupCommit.flush`: writes per batch, time), the search
  indexer's batches (`index_pending`: notes, time) and the garbage collector's passes.

The load is `bench/webchat_vs_peer.py`'s closed loop. Timing costs the loop a little, so
the replies/s printed beside are a rough check only.

    .venv/bin/python bench/webchat_stalls.py --clients 50 --seconds 8
    .venv/bin/python bench/webchat_stalls.py --clients 50 100 --baseline ../frontdesk-main

Everything stays on 127.0.0.1 and stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import collections
import gc
import json
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
EDGES_MS = (0.5, 1, 2, 5, 10, 20, 50, 100)  # histogram buckets: ≤ each edge, then more
LABELS = [f"≤{e:g}" for e in EDGES_MS] + [f">{EDGES_MS[-1]:g}"]
PROBE_EVERY = 0.002
PACKAGES = ("hub", "connectors", "dialogs", "handoff")


class Histogram:
    def __init__(self) -> None:
        self.counts = [0] * (len(EDGES_MS) + 1)
        self.total = 0.0
        self.largest = 0.0

    def add(self, seconds: float) -> None:
        ms = seconds * 1000
        self.counts[bisect.bisect_left(EDGES_MS, ms)] += 1
        self.total += ms
        self.largest = max(self.largest, ms)

    def to_json(self) -> dict[str, Any]:
        return {"counts": self.counts, "total_ms": self.total, "max_ms": self.largest}


def serve_timed(argv: list[str]) -> None:
    """In the server process: time, then run `frontdesk serve`. SIGUSR1 starts afresh;
    SIGUSR2 writes the figures to $FRONTDESK_STALLS."""
    import asyncio.base_events
    import asyncio.events

    # Python put this script's folder first; its `handoff.py` would hide the package.
    sys.path[:] = [
        p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent
    ]
    slow = float(os.environ.get("FRONTDESK_STALL_MS", "5")) / 1000
    figures: dict[str, Histogram] = collections.defaultdict(Histogram)
    sizes: collections.Counter[str] = collections.Counter()
    stacks: collections.Counter[str] = collections.Counter()
    running: list[Any] = [None, 0.0, 0]  # the callback now running, since when, its serial
    sampled: set[int] = set()
    loop_thread = threading.get_ident()

    run = asyncio.events.Handle._run

    def timed_run(self: Any) -> None:
        started, cpu = time.perf_counter(), time.thread_time()
        running[0], running[1] = self, started
        running[2] += 1
        try:
            run(self)
        finally:
            running[0] = None
            figures["callback"].add(time.perf_counter() - started)
            figures["callback, CPU"].add(time.thread_time() - cpu)

    run_once = asyncio.base_events.BaseEventLoop._run_once  # type: ignore[attr-defined]

    def timed_run_once(self: Any) -> None:
        selector = self._selector
        if not getattr(selector, "_fd_timed", False):
            select = selector.select

            def timed_select(timeout: float | None = None) -> Any:
                started = time.perf_counter()
                try:
                    return select(timeout)
                finally:
                    selector._fd_waited += time.perf_counter() - started

            selector.select, selector._fd_timed = timed_select, True
        selector._fd_waited = 0.0
        started, cpu = time.perf_counter(), time.thread_time()
        ready = len(self._ready)
        run_once(self)
        figures["iteration"].add(time.perf_counter() - started - selector._fd_waited)
        figures["iteration, CPU"].add(time.thread_time() - cpu)
        sizes[f"ready {bucket(ready)}"] += 1

    def watchdog() -> None:
        # Wakes every millisecond; when the loop's callback has run past `slow`, the stack
        # of the loop's thread says what it is doing (one sample per callback and 5 ms).
        while True:
            time.sleep(0.001)
            handle, since, serial = running
            if handle is None or time.perf_counter() - since < slow:
                continue
            key = serial * 1000 + int((time.perf_counter() - since) / 0.005)
            if key in sampled:
                continue
            sampled.add(key)
            frame = sys._current_frames().get(loop_thread)
            stacks[describe(frame)] += 1

    from hub import search_sqlite_indexer, store_sqlite_batch

    flush = store_sqlite_batch.GroupCommit.flush

    def timed_flush(self: Any) -> None:
        writes = len(self._pending)
        started, cpu = time.perf_counter(), time.thread_time()
        flush(self)
        figures["group commit"].add(time.perf_counter() - started)
        figures["group commit, CPU"].add(time.thread_time() - cpu)
        if writes:
            sizes[f"writes per batch {bucket(writes)}"] += 1

    index_pending = search_sqlite_indexer.index_pending

    def timed_index(db: Any, limit: int = search_sqlite_indexer.BATCH, **options: Any) -> int:
        started, cpu = time.perf_counter(), time.thread_time()
        taken = index_pending(db, limit, **options)
        figures["indexer batch"].add(time.perf_counter() - started)
        figures["indexer batch, CPU"].add(time.thread_time() - cpu)
        sizes[f"notes per index batch {bucket(taken)}"] += 1
        return taken

    gc_started = [0.0]

    def gc_timed(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            gc_started[0] = time.perf_counter()
        else:
            figures[f"gc gen {info['generation']}"].add(time.perf_counter() - gc_started[0])

    asyncio.events.Handle._run = timed_run  # type: ignore[method-assign]
    asyncio.base_events.BaseEventLoop._run_once = timed_run_once  # type: ignore[attr-defined]
    store_sqlite_batch.GroupCommit.flush = timed_flush  # type: ignore[method-assign]
    search_sqlite_indexer.index_pending = timed_index
    gc.callbacks.append(gc_timed)
    threading.Thread(target=watchdog, name="stall-watchdog", daemon=True).start()

    from hub import loops

    new_event_loop = loops.new_event_loop

    def new_probed_loop(choice: str | None = None) -> asyncio.AbstractEventLoop:
        loop = new_event_loop(choice)

        async def probe() -> None:
            while True:
                due = time.perf_counter() + PROBE_EVERY
                await asyncio.sleep(PROBE_EVERY)
                figures["probe lateness"].add(max(time.perf_counter() - due, 0.0))

        loop.call_soon(lambda: loop.create_task(probe(), name="stall-probe"))
        return loop

    loops.new_event_loop = new_probed_loop
    out = Path(os.environ["FRONTDESK_STALLS"])

    def restart(*_: Any) -> None:
        figures.clear()
        sizes.clear()
        stacks.clear()
        sampled.clear()

    def write(*_: Any) -> None:
        found = {
            "figures": {name: h.to_json() for name, h in figures.items()},
            "sizes": dict(sizes),
            "stacks": stacks.most_common(40),
        }
        out.write_text(json.dumps(found))

    signal.signal(signal.SIGUSR1, restart)
    signal.signal(signal.SIGUSR2, write)
    from hub.cli import main

    sys.exit(main(argv))


def bucket(n: int) -> str:
    for edge in (1, 2, 4, 8, 16, 32, 64, 128, 256, 512):
        if n <= edge:
            return f"≤{edge:>3}"
    return ">512"


def describe(frame: Any) -> str:
    """The innermost frames of the loop's thread, innermost last, project files marked."""
    names: list[str] = []
    while frame is not None and len(names) < 40:
        code = frame.f_code
        path = Path(code.co_filename)
        mine = path.parent.name in PACKAGES or path.parent.parent.name in PACKAGES
        names.append(f"{'*' if mine else ''}{path.name}:{code.co_name}:{frame.f_lineno}")
        frame = frame.f_back
    # Ours first (what the project does), then the leaf (where the time is).
    ours = [n for n in names if n.startswith("*")][:4]
    return " < ".join(ours[:4]) + " || leaf " + " < ".join(names[:3])


async def start(repo: Path, directory: Path, stall_ms: float) -> tuple[Any, str]:
    from bench.webchat import start_server

    directory.mkdir(parents=True)
    return await start_server(
        argparse.Namespace(bot="dialogs", ping_interval=30.0),
        directory,
        repo,
        runner=(str(Path(__file__).resolve()), "--serve"),
        extra_env={
            "FRONTDESK_STALLS": str(directory / "stalls.json"),
            "FRONTDESK_STALL_MS": str(stall_ms),
        },
    )


async def measure(args: argparse.Namespace) -> None:
    from bench.webchat_loop import alternate

    await alternate(
        lambda repo, directory: start(repo, directory, args.slow),
        baseline=args.baseline,
        clients=args.clients,
        rounds=args.rounds,
        seconds=args.seconds,
        found_in="stalls.json",
        report=lambda name, clients, round_, run, found: report(
            f"{clients} clients, round {round_ + 1}, {name}", run, found, args
        ),
    )


def report(
    title: str, run: dict[str, float], found: dict[str, Any], args: argparse.Namespace
) -> None:
    print(
        f"\n== {title}: {run['replies_per_s']:,.0f} replies/s, p50 {run['p50_ms']:.1f} ms, "
        f"p99 {run['p99_ms']:.1f} ms, CPU {run['cpu_ms_per_reply']:.2f} ms/reply",
        flush=True,
    )
    print(f"   {'ms':<22}" + "".join(f"{label:>8}" for label in LABELS) + "  total ms     max")
    for name, figure in sorted(found["figures"].items()):
        row = "".join(f"{count:>8}" for count in figure["counts"])
        print(f"   {name:<22}{row}  {figure['total_ms']:8.0f}  {figure['max_ms']:6.1f}")
    for name, count in sorted(found["sizes"].items()):
        print(f"   {name:<30} {count:>7}")
    if args.stacks:
        for stack, count in found["stacks"][: args.stacks]:
            print(f"   {count:>5}  {stack}")


def main() -> None:
    sys.path.insert(0, str(REPO))
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--clients", type=int, nargs="+", default=[50])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument(
        "--slow", type=float, default=5.0, help="ms: a callback this long is a stall"
    )
    parser.add_argument("--stacks", type=int, default=15, help="how many stall stacks to print")
    parser.add_argument("--baseline", type=Path, help="another checkout, measured in turn")
    asyncio.run(measure(parser.parse_args()))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--serve"]:
        serve_timed(sys.argv[2:])
    main()
