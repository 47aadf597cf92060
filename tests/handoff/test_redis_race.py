"""Two hub processes' worth of Hub + HandoffEngine on two RedisStore connections to one real
redis-server (and to a Redis Cluster) race to assign the same queued conversations: each is
assigned exactly once."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

from handoff.queue import Presence
from tests.handoff.helpers import FakeClock, Rig, at, handoff_yaml

CONVERSATIONS = 40


async def test_two_processes_never_assign_one_conversation_twice(
    tmp_path: Path, shared_store_url: str
) -> None:
    clock = FakeClock(at("2026-11-23 10:00"))
    agents = {
        "agents": [
            {"id": f"agent{n}", "skills": ["hardware"], "languages": ["en"], "capacity": 50}
            for n in range(4)
        ],
    }
    path = handoff_yaml(tmp_path, **agents)
    async with (
        Rig.running(shared_store_url, path, clock) as one,
        Rig.running(shared_store_url, path, clock) as two,
    ):
        ids = []
        for n in range(CONVERSATIONS):  # queued through process one, nobody online yet
            ids.append(await one.say(f"c{n}", "router broken: talk to a person"))
        await two.engine.resync()  # process two learns the queue from the shared log
        assert len(list(two.engine.queue.waiting())) == CONVERSATIONS
        for rig in (one, two):
            for agent in rig.engine.queue.agents.values():
                agent.presence = Presence.ONLINE  # the same agents log in on both
        # Both dispatch at once (plus the dispatch each one's presence change kicks off).
        await asyncio.gather(one.engine.dispatch(), two.engine.dispatch())
        await one.settle()
        await two.settle()
        name = "frontdesk_handoff_assignments_total"
        claimed = (one.hub.metrics.value(name), two.hub.metrics.value(name))
        assert sum(claimed) == CONVERSATIONS, claimed  # every one claimed, each only once
        lost = "frontdesk_handoff_claims_lost_total"
        assert one.hub.metrics.value(lost) + two.hub.metrics.value(lost) > 0  # they did race
        offers: Counter[str] = Counter()
        for conversation_id in ids:
            offers[conversation_id] = len(await one.events(conversation_id, "handoff.offered"))
        assert set(offers.values()) == {1} and len(offers) == CONVERSATIONS
        # Each side catches up with the other's claims; accepting works from either.
        await one.engine.resync()
        await two.engine.resync()
        for conversation_id in ids[:5]:
            agent_id = one.engine.queue.tickets[conversation_id].agent_id
            assert two.engine.queue.tickets[conversation_id].agent_id == agent_id
            await two.agents.accept(conversation_id, agent_id)
