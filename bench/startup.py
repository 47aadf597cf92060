"""Start-up of a hub: time from `frontdesk serve` to a healthy `/healthz`, its RSS and CPU then.

Starts the server as `bench/webchat.py` does (a fresh SQLite file, web chat on, no visitor)
from each checkout given, alternating, `--runs` times each, and prints the medians per
checkout. The CPU is the server's and that of the processes it started and ended meanwhile
(the dialog engine's training process), so moving work out of the hub does not hide it.

    .venv/bin/python bench/startup.py --bot dialogs
    .venv/bin/python bench/startup.py --bot dialogs --repo ../base --repo .   # before, after

Everything stays on 127.0.0.1 and stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.webchat import REPO, rss_mib, start_server


def cpu_with_children(pid: int) -> float:
    """User + system CPU of `pid` and of its children it has waited for (Linux `/proc`)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(field) for field in fields[11:15]) / os.sysconf("SC_CLK_TCK")


async def one_start(args: argparse.Namespace, repo: Path) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="frontdesk-bench-") as tmp:
        started = time.monotonic()
        process, _ = await start_server(args, Path(tmp), repo)
        healthy = time.monotonic() - started
        try:
            return {
                "healthy_s": healthy,
                "cpu_s": cpu_with_children(process.pid),
                "rss_mib": rss_mib(process.pid),
            }
        finally:
            process.terminate()
            process.wait(timeout=30)


async def main(args: argparse.Namespace) -> dict[str, Any]:
    repos = [Path(repo).resolve() for repo in args.repo or [REPO]]
    runs: dict[Path, list[dict[str, float]]] = {repo: [] for repo in repos}
    for _ in range(args.runs):
        for repo in repos:  # alternated: a burst of load elsewhere hits every checkout alike
            runs[repo].append(await one_start(args, repo))
    return {
        str(repo): {
            key: round(statistics.median(run[key] for run in results), 2)
            for key in ("healthy_s", "cpu_s", "rss_mib")
        }
        for repo, results in runs.items()
    } | {"runs": args.runs, "bot": args.bot, "load_average": os.getloadavg()[0]}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bot", choices=("echo", "dialogs"), default="dialogs")
    parser.add_argument("--runs", type=int, default=3, help="starts per checkout")
    parser.add_argument(
        "--repo", action="append", help="a checkout to start (repeatable; default: this one)"
    )
    parser.add_argument("--ping-interval", type=float, default=25.0)
    return parser.parse_args(argv)


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(parse_args())), indent=2))
