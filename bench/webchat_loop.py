"""The event loop's machinery per web chat reply: callbacks, tasks, timers, queue waits.

CPU per reply on a shared machine moves by ±10 % between runs of the same code, which
hides a change of a few microseconds; these counts do not move. The hub runs as usual
(`frontdesk serve`, demo bot, SQLite) with the loop's `Handle._run`, `create_task`,
`call_at` and `Queue.get` counted; the load is `bench/webchat_vs_peer.py`'s closed loop.
Counting slows the loop a little, so the CPU figure printed beside is only a rough check:
`webchat_vs_peer.py` gives the real one.

    .venv/bin/python bench/webchat_loop.py --baseline ../frontdesk-main
    .venv/bin/python bench/webchat_loop.py --clients 50 --seconds 6 --rounds 3 --sites

Everything stays on 127.0.0.1 and stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

# The tree measured. A counted server imports nothing from here: its PYTHONPATH names the
# checkout it serves (this one or the baseline).
REPO = Path(__file__).resolve().parents[1]
KINDS = ("callbacks", "tasks", "timers", "queue_waits")


def serve_counted(argv: list[str]) -> None:
    """In the server process: count, then run `frontdesk serve`. SIGUSR1 starts a count
    afresh; SIGUSR2 writes it to $FRONTDESK_LOOP_COUNTS (and the busiest call sites)."""
    import asyncio.base_events
    import asyncio.events
    import asyncio.queues

    # Python put this script's folder first; its `handoff.py` would hide the package.
    sys.path[:] = [
        p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent
    ]

    counts: collections.Counter[str] = collections.Counter()
    sites: collections.Counter[str] = collections.Counter()

    def site(depth: int) -> str:
        frame: Any = sys._getframe(depth)
        names: list[str] = []
        while frame is not None and len(names) < 3:
            names.append(f"{Path(frame.f_code.co_filename).name}:{frame.f_code.co_name}")
            frame = frame.f_back
        return " < ".join(names)

    run, create_task = asyncio.events.Handle._run, asyncio.base_events.BaseEventLoop.create_task
    call_at, get = asyncio.base_events.BaseEventLoop.call_at, asyncio.queues.Queue.get

    def counted_run(self: Any) -> None:
        counts["callbacks"] += 1
        callback = self._callback
        sites["callback " + getattr(callback, "__qualname__", type(callback).__name__)] += 1
        run(self)

    def counted_create_task(self: Any, *args: Any, **kwargs: Any) -> Any:
        counts["tasks"] += 1
        sites["task " + site(2)] += 1
        return create_task(self, *args, **kwargs)

    def counted_call_at(self: Any, *args: Any, **kwargs: Any) -> Any:
        counts["timers"] += 1
        sites["timer " + site(3)] += 1
        return call_at(self, *args, **kwargs)

    async def counted_get(self: Any) -> Any:
        if self.empty():  # it waits: a hand-off through the loop
            counts["queue_waits"] += 1
        return await get(self)

    asyncio.events.Handle._run = counted_run  # type: ignore[method-assign]
    asyncio.base_events.BaseEventLoop.create_task = counted_create_task  # type: ignore[method-assign]
    asyncio.base_events.BaseEventLoop.call_at = counted_call_at  # type: ignore[method-assign,assignment]
    asyncio.queues.Queue.get = counted_get  # type: ignore[method-assign]
    out = Path(os.environ["FRONTDESK_LOOP_COUNTS"])

    def restart(*_: Any) -> None:
        counts.clear()
        sites.clear()

    def write(*_: Any) -> None:
        out.write_text(json.dumps({"counts": counts, "sites": sites.most_common(25)}))

    signal.signal(signal.SIGUSR1, restart)
    signal.signal(signal.SIGUSR2, write)
    from hub.cli import main

    sys.exit(main(argv))


async def start(repo: Path, directory: Path) -> tuple[subprocess.Popen[bytes], str]:
    from bench.webchat import start_server

    directory.mkdir(parents=True)
    process, url = await start_server(
        argparse.Namespace(bot="dialogs", ping_interval=30.0),
        directory,
        repo,
        runner=(str(Path(__file__).resolve()), "--serve"),
        extra_env={"FRONTDESK_LOOP_COUNTS": str(directory / "counts.json")},
    )
    return process, url


Start = Callable[[Path, Path], Awaitable[tuple[subprocess.Popen[bytes], str]]]
Report = Callable[[str, int, int, dict[str, float], dict[str, Any]], None]


async def alternate(
    start: Start,
    *,
    baseline: Path | None,
    clients: Sequence[int],
    rounds: int,
    seconds: float,
    found_in: str,
    report: Report,
) -> None:
    """This tree's instrumented server and the baseline's, each started by `start(repo,
    directory)`, measured in turn under the closed loop: SIGUSR1 starts a server's figures,
    SIGUSR2 makes it write them to `directory / found_in`; `report(name, clients, round,
    run, found)` prints each. Shared by this bench and `bench/webchat_stalls.py`."""
    from bench.webchat import raise_fd_limit
    from bench.webchat_vs_peer import closed_loop, frontdesk_target

    raise_fd_limit(max(clients) * 4 + 256)
    trees = {"this tree": REPO}
    if baseline is not None:
        trees["baseline"] = baseline.resolve()
    with tempfile.TemporaryDirectory(prefix="frontdesk-loop-") as tmp:
        servers = {}
        for index, (name, repo) in enumerate(trees.items()):
            servers[name] = await start(repo, Path(tmp) / str(index))
        try:
            for name, (_, url) in servers.items():  # warm: caches, NLU model, SQLite pages
                await closed_loop(frontdesk_target(url, name), 5, 2.0)
            for count in clients:
                for round_ in range(rounds):
                    for index, (name, (process, url)) in enumerate(servers.items()):
                        process.send_signal(signal.SIGUSR1)
                        await asyncio.sleep(0.2)
                        run = await closed_loop(
                            frontdesk_target(url, name), count, seconds, process.pid
                        )
                        process.send_signal(signal.SIGUSR2)
                        await asyncio.sleep(0.5)
                        found = json.loads((Path(tmp) / str(index) / found_in).read_text())
                        report(name, count, round_, run, found)
        finally:
            for process, _ in servers.values():
                process.terminate()
                process.wait(timeout=10)


async def measure(args: argparse.Namespace) -> None:
    await alternate(
        start,
        baseline=args.baseline,
        clients=[args.clients],
        rounds=args.rounds,
        seconds=args.seconds,
        found_in="counts.json",
        report=lambda name, _, round_, run, found: report(name, round_, run, found, args),
    )


def report(
    name: str, round_: int, run: dict[str, float], found: dict[str, Any], args: argparse.Namespace
) -> None:
    replies = max(run["replies_per_s"] * args.seconds, 1.0)
    per_reply = "  ".join(f"{kind} {found['counts'].get(kind, 0) / replies:5.2f}" for kind in KINDS)
    print(
        f"round {round_ + 1}  {name:<9}  {run['replies_per_s']:6,.0f} replies/s  "
        f"CPU {run['cpu_ms_per_reply']:.2f} ms/reply  per reply: {per_reply}",
        flush=True,
    )
    if args.sites:
        for where, count in found["sites"]:
            print(f"    {count / replies:6.2f}  {where}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--serve"]:
        serve_counted(sys.argv[2:])
    sys.path.insert(0, str(REPO))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--baseline", type=Path, help="another checkout, measured in turn")
    parser.add_argument("--sites", action="store_true", help="where the counts come from")
    asyncio.run(measure(parser.parse_args()))
