"""Hand-off benchmarks: sentiment accuracy, assignment decision and summary generation.

    python bench/handoff.py --sentiment        # accuracy on tests/handoff/data/*.tsv
    python bench/handoff.py --assign           # p99 with 10 000 queued and 500 agents
    python bench/handoff.py --summary          # p99 for a 200-message conversation
    python bench/handoff.py                    # all three

In-process and offline (no server, no network). Progress goes to stderr; the last stdout
line is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from handoff import sentiment  # noqa: E402
from handoff.queue import Presence, Queue  # noqa: E402
from handoff.settings import AgentSpec  # noqa: E402
from handoff.summary import CustomerFacts, summarize  # noqa: E402
from hub.model import Customer, Event  # noqa: E402

DATA = REPO / "tests" / "handoff" / "data"
SKILLS = ("hardware", "billing", "complaints", "vip", "orders", "accounts")


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def figures(samples_ms: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(percentile(samples_ms, 0.50), 4),
        "p99_ms": round(percentile(samples_ms, 0.99), 4),
        "max_ms": round(max(samples_ms), 4),
        "mean_ms": round(statistics.fmean(samples_ms), 4),
        "runs": len(samples_ms),
    }


# ------------------------------------------------------------------ sentiment


def bench_sentiment() -> dict[str, Any]:
    result: dict[str, Any] = {}
    for language in ("en", "zh"):
        rows = []
        for line in (DATA / f"sentiment_{language}.tsv").read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.startswith("#"):
                label, text = line.split("\t")
                rows.append((label, text))
        result[language] = sentiment.evaluate(rows)
        print(f"sentiment {language}: {result[language]}", file=sys.stderr)
    return result


# ------------------------------------------------------------------ assignment


def build_queue(queued: int, agents: int, rng: random.Random) -> Queue:
    specs = {}
    for n in range(agents):
        spec = AgentSpec(
            id=f"agent{n:04d}",
            name=f"Agent {n}",
            skills=frozenset(rng.sample(SKILLS, rng.randint(1, 3))),
            languages=frozenset(rng.choice([("en",), ("zh",), ("en", "zh")])),
            capacity=rng.randint(2, 6),
        )
        specs[spec.id] = spec
    queue = Queue(specs)
    for agent in queue.agents.values():
        agent.presence = rng.choice([Presence.ONLINE, Presence.ONLINE, Presence.AWAY])
        for slot in range(rng.randint(0, agent.spec.capacity)):  # most agents are busy
            agent.active.add(f"busy-{agent.id}-{slot}")
    for n in range(queued):
        at = 1_000_000.0 + n
        queue.apply(
            Event(
                conversation_id=f"cnv{n:06d}",
                seq=5,
                type="handoff.requested",
                at=at,
                data={
                    "priority_number": rng.choice((1, 2, 3, 3, 3)),
                    "skill": rng.choice((*SKILLS, "")),
                    "language": rng.choice(("en", "zh")),
                    "sla": {"pickup_due": at + rng.choice((300, 600, 900))},
                },
            )
        )
    return queue


def bench_assign(queued: int, agents: int, runs: int) -> dict[str, Any]:
    rng = random.Random(8)
    started = time.perf_counter()
    queue = build_queue(queued, agents, rng)
    build_s = time.perf_counter() - started
    tickets = list(queue.waiting())
    # One decision: the best agent for one queued conversation (what an offer needs).
    single = []
    for _ in range(runs):
        ticket = rng.choice(tickets)
        t0 = time.perf_counter()
        queue.choose_agent(ticket)
        single.append((time.perf_counter() - t0) * 1000)
    # The dispatcher's decision: walk the queue in order to the first conversation that
    # some free agent can take (the head may wait for a skill nobody free has).
    walk = []
    for _ in range(min(runs, 200)):
        t0 = time.perf_counter()
        for ticket in queue.waiting():
            if queue.choose_agent(ticket) is not None:
                break
        walk.append((time.perf_counter() - t0) * 1000)
    # Placing a new conversation in the ordered queue and telling its position.
    place = []
    for n in range(runs):
        t0 = time.perf_counter()
        queue.place_for((3, 1_000_900.0 + n, 1_000_000.0 + n, f"new{n}"))
        place.append((time.perf_counter() - t0) * 1000)
    result = {
        "queued": queued,
        "agents": agents,
        "online_with_room": sum(
            1 for a in queue.agents.values() if a.presence == Presence.ONLINE and a.free > 0
        ),
        "build_index_s": round(build_s, 3),
        "choose_agent": figures(single),
        "dispatch_decision": figures(walk),
        "queue_position": figures(place),
    }
    print(f"assign: {result}", file=sys.stderr)
    return result


# ------------------------------------------------------------------ summary


def conversation(messages: int, rng: random.Random, *, scored: bool) -> list[Event]:
    en = [
        line.split("\t")[1]
        for line in (DATA / "sentiment_en.tsv").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    events: list[Event] = []
    seq = 0
    for n in range(messages):
        seq += 1
        events.append(
            Event(
                conversation_id="c",
                seq=seq,
                type="message.in",
                at=float(seq),
                data={"text": rng.choice(en) + f" (order {10000 + n})"},
            )
        )
        if scored:  # what a bot-owned turn logs: the message's score, computed once
            text = str(events[-1].data["text"])
            seq += 1
            events.append(
                Event(
                    conversation_id="c",
                    seq=seq,
                    type="sentiment.scored",
                    at=float(seq),
                    data={"message_seq": seq - 1, "score": sentiment.score(text)},
                )
            )
        seq += 1
        events.append(
            Event(
                conversation_id="c",
                seq=seq,
                type="bot.turn",
                at=float(seq),
                data={"intent": "router", "confidence": 0.8, "slots": {"model": "AX3000"}},
            )
        )
        seq += 1
        events.append(
            Event(
                conversation_id="c",
                seq=seq,
                type="message.out",
                at=float(seq),
                data={"outbound": {"text": "Try restarting the router."}},
            )
        )
    return events


def bench_summary(messages: int, runs: int) -> dict[str, Any]:
    logged = conversation(messages, random.Random(20), scored=True)
    bare = conversation(messages, random.Random(20), scored=False)
    customer = Customer(id="cus", identities=("webchat:v1", "email:a@b.c"), tags=("vip",))
    facts = CustomerFacts(conversations_90d=4, complaints_90d=1, last_csat=3)
    logged_ms: list[float] = []
    cold: list[float] = []
    for samples, events in ((logged_ms, logged), (cold, bare)):
        for _ in range(runs):
            sentiment.score.cache_clear()  # nothing cached between runs
            t0 = time.perf_counter()
            summarize(
                events=events,
                customer=customer,
                facts=facts,
                channel="webchat",
                requested_at=0.0,
                now=600.0,
                reasons=["negative_sentiment"],
            )
            samples.append((time.perf_counter() - t0) * 1000)
    result = {
        "messages": messages,
        "scores_in_log": figures(logged_ms),
        "rescoring_every_message": figures(cold),
    }
    print(f"summary: {result}", file=sys.stderr)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentiment", action="store_true")
    parser.add_argument("--assign", action="store_true")
    parser.add_argument("--summary", action="store_true")
    parser.add_argument("--queued", type=int, default=10_000)
    parser.add_argument("--agents", type=int, default=500)
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--runs", type=int, default=1000)
    args = parser.parse_args()
    everything = not (args.sentiment or args.assign or args.summary)
    report: dict[str, Any] = {}
    if args.sentiment or everything:
        report["sentiment"] = bench_sentiment()
    if args.assign or everything:
        report["assign"] = bench_assign(args.queued, args.agents, args.runs)
    if args.summary or everything:
        report["summary"] = bench_summary(args.messages, max(200, args.runs // 5))
    print(json.dumps(report))


if __name__ == "__main__":
    main()
