"""Delivery receipts reach the hand-off engine on the in-process bus (SQLite) as they are
logged, and change nothing an agent sees: no console feed message, the ticket as it was."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

import pytest

from handoff.engine import HandoffEngine
from hub.model import Event, EventType
from tests.handoff.helpers import FakeClock, Rig, at, handoff_yaml


@pytest.mark.parametrize("text", ["I want a human", "我要转人工"])
async def test_receipts_reach_the_engine_and_not_the_console_feed(
    tmp_path: Path, text: str
) -> None:
    clock = FakeClock(at("2026-11-23 10:00"))
    async with Rig.running(f"sqlite:///{tmp_path}/hub.db", handoff_yaml(tmp_path), clock) as rig:
        engine = cast(HandoffEngine, rig.hub.humans)  # the rig's engine, typed
        feed = engine.feed.subscribe()
        receipts: list[Event] = []

        def listen(events: Sequence[Event]) -> None:
            receipts.extend(e for e in events if e.type == EventType.DELIVERED)

        rig.hub.add_listener(listen)
        conversation_id = await rig.say("cus", text)  # handed off; told their place
        await rig.settle()
        logged = await rig.events(conversation_id)
        replies = sum(e.type == EventType.MESSAGE_OUT for e in logged)
        assert replies >= 1

        async def all_receipts() -> None:
            while len(receipts) < replies:
                await asyncio.sleep(0.01)

        await asyncio.wait_for(all_receipts(), 10)
        published: list[dict[str, Any]] = []
        while not feed.empty():
            published.append(feed.get_nowait())
        receipt_seqs = {e.seq for e in receipts}
        assert not [m for m in published if m.get("event", {}).get("seq") in receipt_seqs]
        assert not [m for m in published if "delivery." in str(m.get("event", {}).get("type"))]
        ticket = engine.queue.tickets[conversation_id]
        assert ticket.agent_id == "" and ticket.conversation_id == conversation_id
