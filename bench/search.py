"""Console search latency over a large history, alone (the same measure `bench/console.py`
runs after its list and fan-out figures).

`--messages` messages (half English, half Chinese, ten per customer: 100k messages are
10k customers with a conversation each) are written into a fresh store of each kind in
`--stores` (SQLite in a temporary directory; Redis: a private redis-server on a free
loopback port, indexed from the log as a start does), then six English and six Chinese
queries (one in Traditional characters, one a prefix) run `--rounds` times each, through
the index alone and through the console's search service (a page of 20 results with
snippets and customers, what `/console/api/search` answers). Printed: p50 and p99 per
store, language and layer, as JSON.

    nice .venv/bin/python bench/search.py                       # 100k messages, both stores
    nice .venv/bin/python bench/search.py --messages 20000 --stores sqlite --rounds 5

Everything stays on 127.0.0.1 and in a temporary directory, and stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.console_search import search_bench  # noqa: E402


async def main(args: argparse.Namespace) -> dict[str, Any]:
    return {
        kind: await search_bench(kind, args.messages, args.rounds)
        for kind in args.stores.split(",")
        if kind
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=100_000, help="messages to write")
    parser.add_argument("--stores", default="sqlite,redis", help="sqlite, redis or both")
    parser.add_argument("--rounds", type=int, default=20, help="times each query runs")
    return parser.parse_args(argv)


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(parse_args())), indent=2))
