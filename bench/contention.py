"""Contention: how often the Redis store's checked writes are refused while other processes
change what they were built from, and which limit of attempts that calls for.

Processes on one private Redis (or the test cluster), started together:

- `--sender-processes` each run `--senders` senders (``api:s<i>``) in a closed loop: a
  message (`record_inbound_and_lease`), a look-up of the sender (`find_customer`), the
  turn (its lease, a commit with one reply), again.
- with `--churn merge`, one process merges every sender's customer with a partner
  customer and unmerges it again, in both directions, as fast as it can (the store's
  identity port: reads, then `WRITE_IF`): the identity moves to another customer and
  back, and the open conversations of both move with it.
- with `--churn open`, one process writes as every sender too, and resolves the
  conversation its message went to: conversations open and close under the senders'
  guesses, and their commits meet a status that changed.

`--pauses` puts that long (s) between two changes of one sender's customer: 0 is a loop
as hard as it can go, a pathological worst case; a realistic customer is merged or has a
conversation opened elsewhere minutes apart. Each phase starts from an emptied Redis; the
first (`calm`) has no churn, the baseline in the same run.

The limits of the tree are raised out of reach while it runs, so each operation counts
every attempt it needed. Per operation: refusals per operation, the share refused on the
first attempt and on a retry (a retry refused much more often than a first attempt means
retries collide with the same burst: a backoff would help), attempts p50/p99/max, and the
share that a limit of L attempts would have turned into `Contention` (HTTP 503). For the
message: round trips per message beside the calm baseline's, and its latency.

    python bench/contention.py                                  # 5 s calm, 10 s per pause
    python bench/contention.py --store cluster --pauses 0 0.05 --seconds 20 --json

Progress and the table go to stderr; with `--json` the last stdout line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

# The repository root is on the path from here on.
from bench.api import progress
from bench.scale import Backend, backend
from hub import store_redis, store_redis_core, store_redis_scripts
from hub.abc import TurnResult
from hub.errors import Contention, LeaseLost
from hub.model import ConversationStatus, Inbound, Outbound
from hub.store_redis import RedisStore

LIMITS = (3, 5, 8, 16, 32)
UNBOUNDED = 1_000_000
# The operations each process keeps a tally of: which calls count as one attempt.
# (The churning writer's own messages and commits are kept apart: `… by opener`.)
ATTEMPT = {
    "record_inbound": "RECORD_INBOUND",
    "commit_turn": "COMMIT_TURN",
    "find_customer": "identity-get",
    "merge": "WRITE_IF",
    "unmerge": "WRITE_IF",
    "record_inbound by opener": "RECORD_INBOUND",
    "resolve by opener": "COMMIT_TURN",
}
_tally: ContextVar[Counter[str]] = ContextVar("tally")


def unbounded() -> None:
    """Raise every limit of attempts of the tree (whatever it names them) out of reach."""
    for module in (store_redis_core, store_redis_scripts, store_redis):
        for name in dir(module):
            if name.endswith("_ATTEMPTS") or name == "INBOUND_RETRIES":
                setattr(module, name, UNBOUNDED)


def counted(store: RedisStore) -> None:
    """Count, for the operation running in the current task, its script calls by name,
    its `GET`s of an identity and its round trips (a pipeline counts once)."""
    run = store._run
    execute = store.redis.execute_command
    pipeline = store.redis.pipeline
    identity = store.keys.identity("")

    async def counted_run(script: str, *args: Any, **options: Any) -> Any:
        _tally.get(Counter())[script] += 1
        return await run(script, *args, **options)

    async def counted_execute(*args: Any, **options: Any) -> Any:
        tally = _tally.get(Counter())
        tally["round_trips"] += 1
        if str(args[0]).upper() == "GET" and str(args[1]).startswith(identity):
            tally["identity-get"] += 1
        return await execute(*args, **options)

    def counted_pipeline(*args: Any, **options: Any) -> Any:
        _tally.get(Counter())["round_trips"] += 1
        return pipeline(*args, **options)

    store._run = counted_run  # type: ignore[method-assign]
    store.redis.execute_command = counted_execute  # type: ignore[method-assign]
    store.redis.pipeline = counted_pipeline  # type: ignore[method-assign]


@dataclass
class Tallies:
    """What one process measured: attempts per operation, and per message its round
    trips and milliseconds."""

    attempts: dict[str, list[int]]
    round_trips: list[int]
    ms: list[float]
    errors: Counter[str]

    @classmethod
    def empty(cls) -> Tallies:
        return cls({name: [] for name in ATTEMPT}, [], [], Counter())

    async def op(self, name: str, work: Awaitable[Any]) -> Any:
        tally: Counter[str] = Counter()
        token = _tally.set(tally)
        began = time.perf_counter()
        try:
            result = await work
        except (Contention, LeaseLost, KeyError, ValueError) as error:
            self.errors[f"{name}: {type(error).__name__}"] += 1
            return None
        finally:
            _tally.reset(token)
        self.attempts[name].append(tally[ATTEMPT[name]])
        if name == "record_inbound":
            self.round_trips.append(tally["round_trips"])
            self.ms.append((time.perf_counter() - began) * 1000)
        return result


# ------------------------------------------------------------------------ the processes


async def sender(store: RedisStore, tallies: Tallies, index: int, until: float) -> None:
    count = 0
    while time.monotonic() < until:
        count += 1
        inbound = Inbound(
            channel="api", sender=f"s{index}", message_id=f"s{index}-{count}", text="Where is it?"
        )
        now = time.time()
        got = await tallies.op(
            "record_inbound", store.record_inbound_and_lease(inbound, now=now, limit=10)
        )
        await tallies.op("find_customer", store.find_customer(inbound.identity))
        if got is None:
            continue
        async with store.turn_lease(got.conversation.id, limit=10) as (lease, context):
            result = TurnResult(replies=(Outbound(text="It left today."),))
            await tallies.op(
                "commit_turn",
                store.commit_turn(
                    got.conversation.id,
                    handled_seq=got.event.seq,
                    result=result,
                    now=time.time(),
                    lease=30,
                    known=context[0] if context else None,
                    fence=lease.fence,
                ),
            )


async def merger(
    store: RedisStore, tallies: Tallies, pair: tuple[str, str], until: float, pause: float
) -> None:
    """Merge the sender's customer and its partner, each way in turn, and undo it."""
    own, partner = pair
    kept, absorbed = partner, own
    while time.monotonic() < until:
        merge = await tallies.op(
            "merge", store.merge_customers(kept, absorbed, reason={"by": "bench"}, now=time.time())
        )
        await asyncio.sleep(pause)
        if merge is not None:
            await tallies.op("unmerge", store.unmerge_customers(merge.id, now=time.time()))
            await asyncio.sleep(pause)
        kept, absorbed = absorbed, kept


async def opener(
    store: RedisStore, tallies: Tallies, index: int, until: float, pause: float
) -> None:
    """Write as the sender from another process, and resolve the conversation it went to:
    the next message opens another."""
    count = 0
    while time.monotonic() < until:
        count += 1
        inbound = Inbound(
            channel="api", sender=f"s{index}", message_id=f"o{index}-{count}", text="还在吗？"
        )
        got = await tallies.op(
            "record_inbound by opener", store.record_inbound(inbound, now=time.time())
        )
        await asyncio.sleep(pause)
        if got is None:
            continue
        await tallies.op(
            "resolve by opener",
            store.commit_turn(
                got.conversation.id,
                handled_seq=got.event.seq,
                result=TurnResult(status=ConversationStatus.RESOLVED),
                now=time.time(),
                lease=30,
            ),
        )
        await asyncio.sleep(pause)


@dataclass(frozen=True)
class Role:
    """What one process does: `send` (senders `first`…`first + count - 1`), `merge`, `open`."""

    kind: str
    first: int
    count: int


def process(
    role: Role,
    url: str,
    seconds: float,
    pause: float,
    pairs: Sequence[tuple[str, str]],
    barrier: Any,
    results: Any,
) -> None:
    async def main() -> None:
        unbounded()
        store = RedisStore(url)
        await store.open()
        counted(store)
        tallies = Tallies.empty()
        barrier.wait()  # every process is connected: the clock starts for all at once
        until = time.monotonic() + seconds
        indexes = range(role.first, role.first + role.count)
        work: Callable[[int], Awaitable[None]]
        if role.kind == "send":
            work = lambda i: sender(store, tallies, i, until)  # noqa: E731
        elif role.kind == "merge":
            work = lambda i: merger(store, tallies, pairs[i], until, pause)  # noqa: E731
        else:
            work = lambda i: opener(store, tallies, i, until, pause)  # noqa: E731
        await asyncio.gather(*(work(i) for i in indexes))
        await store.close()
        results.put((role.kind, tallies))

    asyncio.run(main())


# ------------------------------------------------------------------------ a phase


async def setup(url: str, senders: int) -> list[tuple[str, str]]:
    """Each sender's customer with one conversation, and a partner customer with one.
    → (the sender's customer, the partner's) per sender."""
    store = RedisStore(url)
    await store.open()
    try:
        await store.redis.flushall()
        pairs = []
        for i in range(senders):
            ids = []
            for who in (f"s{i}", f"p{i}"):
                inbound = Inbound(channel="api", sender=who, message_id=f"{who}-0", text="hi")
                ids.append((await store.record_inbound(inbound, now=time.time())).customer.id)
            pairs.append((ids[0], ids[1]))
        return pairs
    finally:
        await store.close()


def phase(
    store: Backend, args: argparse.Namespace, churn: Sequence[str], pause: float, seconds: float
) -> dict:
    """`seconds` of the senders, with the `churn` processes changing their customers
    `pause` apart, on an emptied store: the figures of every process together."""
    senders = args.senders * args.sender_processes
    pairs = asyncio.run(setup(store.url, senders))
    roles = [Role("send", p * args.senders, args.senders) for p in range(args.sender_processes)]
    roles += [Role(kind, 0, senders) for kind in churn]
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(len(roles))
    results = context.Queue()
    processes = [
        context.Process(
            target=process, args=(role, store.url, seconds, pause, pairs, barrier, results)
        )
        for role in roles
    ]
    for child in processes:
        child.start()
    gathered = [results.get(timeout=seconds + 300) for _ in processes]
    for child in processes:
        child.join()
    return summary(gathered, seconds, "+".join(churn) or "calm", pause)


def summary(gathered: Sequence[tuple[str, Tallies]], seconds: float, churn: str, pause: float):
    everyone = Tallies.empty()
    for _, tallies in gathered:
        for name, attempts in tallies.attempts.items():
            everyone.attempts[name] += attempts
        everyone.errors.update(tallies.errors)
    senders = [t for kind, t in gathered if kind == "send"]
    trips = [n for t in senders for n in t.round_trips]
    ms = sorted(m for t in senders for m in t.ms)
    return {
        "churn": churn,
        "pause_s": pause,
        "messages_per_second": round(len(trips) / seconds, 1),
        "message_round_trips": round(statistics.fmean(trips), 3) if trips else None,
        "message_p50_ms": round(ms[len(ms) // 2], 2) if ms else None,
        "message_p99_ms": round(ms[int(len(ms) * 0.99)], 2) if ms else None,
        "message_max_ms": round(ms[-1], 2) if ms else None,
        "operations": {name: figures(a) for name, a in everyone.attempts.items() if a},
        "errors": dict(everyone.errors),
    }


def figures(attempts: Sequence[int]) -> dict[str, Any]:
    """Refusals, the chance of a refusal on the first attempt and on a retry (attempt k+1
    given attempt k was refused), attempts p50/p99/max, and the share of operations a
    limit of L attempts would have refused (`Contention`)."""
    ordered = sorted(attempts)
    n = len(ordered)
    reached = Counter[int]()
    for a in ordered:
        for k in range(1, a + 1):
            reached[k] += 1  # operations that made an attempt k
    retries = sum(reached[k] for k in reached if k >= 2)
    return {
        "ops": n,
        "refusals_per_op": round(sum(a - 1 for a in ordered) / n, 4),
        "first_refused": round(reached[2] / n, 4),
        "retry_refused": (
            round(sum(reached[k + 1] for k in reached if k >= 2) / retries, 4) if retries else 0.0
        ),
        "p50": ordered[n // 2],
        "p99": ordered[int(n * 0.99)],
        "max": ordered[-1],
        "over_limit": {str(limit): sum(a > limit for a in ordered) / n for limit in LIMITS},
    }


def table(rows: Sequence[dict]) -> str:
    head = (
        f"{'churn':<11}{'pause':>7} {'operation':<25}{'ops':>7}{'refusals':>10}"
        f"{'1st':>7}{'retry':>7}{'p50':>5}{'p99':>5}{'max':>6}"
        + "".join(f"{'>' + str(limit):>9}" for limit in LIMITS)
    )
    lines = [head]
    for row in rows:
        for name, f in row["operations"].items():
            over = "".join(f"{f['over_limit'][str(limit)]:>9.2e}" for limit in LIMITS)
            lines.append(
                f"{row['churn']:<11}{row['pause_s']:>7g} {name:<25}{f['ops']:>7}"
                f"{f['refusals_per_op']:>10.3f}{f['first_refused']:>7.3f}{f['retry_refused']:>7.3f}"
                f"{f['p50']:>5}{f['p99']:>5}{f['max']:>6}{over}"
            )
        lines.append(
            f"{'':<19}senders' messages: {row['messages_per_second']}/s, "
            f"{row['message_round_trips']} round trips, p50 {row['message_p50_ms']} ms, "
            f"p99 {row['message_p99_ms']} ms, max {row['message_max_ms']} ms; "
            f"errors {row['errors'] or 'none'}"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--store", choices=("redis", "cluster"), default="redis")
    parser.add_argument("--senders", type=int, default=8, help="senders per sending process")
    parser.add_argument("--sender-processes", type=int, default=1)
    parser.add_argument("--churn", nargs="+", choices=("merge", "open"), default=["merge", "open"])
    parser.add_argument("--pauses", type=float, nargs="+", default=[0.0])
    parser.add_argument("--calm", type=float, default=5, help="seconds without churn")
    parser.add_argument("--seconds", type=float, default=10, help="seconds per pause")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args()
    load = os.getloadavg()
    rows = []
    with (
        tempfile.TemporaryDirectory(prefix="fd-contention-") as tmp,
        backend(args.store, Path(tmp)) as store,
    ):
        rows.append(phase(store, args, [], 0.0, args.calm))
        progress(table(rows[-1:]))
        for pause in args.pauses:
            rows.append(phase(store, args, args.churn, pause, args.seconds))
            progress(table(rows[-1:]))
    progress(f"\nload average before: {load[0]:.2f}, after: {os.getloadavg()[0]:.2f}")
    progress(table(rows))
    result = {"store": args.store, "load_before": load, "load_after": os.getloadavg(), "rows": rows}
    if args.json:
        print(json.dumps(result))


if __name__ == "__main__":
    main()
