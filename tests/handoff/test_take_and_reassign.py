"""Defects 1 and 2 of the hand-off, through a real Hub and store: business hours never
decide whether an online agent may work ("Take" from the queue at any hour), and queue
operations are idempotent — a reassign assigns or answers 409 with the reason, never a
second copy of the conversation in the queue, before or after a restart."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hub.errors import InputError
from hub.model import ConversationStatus, NewEvent
from tests.handoff.helpers import FakeClock, Rig, at, handoff_yaml

# The demo calendar: Asia/Shanghai, Mon–Sat. Sunday 03:00 is as closed as it gets.
DEMO_HOURS = {
    "calendar": {
        "timezone": "Asia/Shanghai",
        "hours": {
            **{d: ["09:00-18:00"] for d in ("mon", "tue", "wed", "thu", "fri")},
            "sat": ["10:00-16:00"],
            "sun": [],
        },
    }
}
SUNDAY_3AM = at("2026-11-29 03:00")


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    path = handoff_yaml(tmp_path, **DEMO_HOURS)
    async with Rig.running(f"sqlite:///{tmp_path}/hub.db", path, FakeClock(SUNDAY_3AM)) as rig:
        yield rig


def waiting(rig: Rig) -> list[str]:
    return [t.conversation_id for t in rig.engine.queue.waiting()]


@pytest.mark.parametrize(
    ("text", "joined"),
    [
        ("my router, talk to a person", "Ana from our team"),
        ("路由器坏了，转人工", "客服 Bo 已接入"),
    ],
)
async def test_an_online_agent_is_offered_work_outside_business_hours(
    rig: Rig, text: str, joined: str
) -> None:
    rig.online("ana", "bo")
    conversation_id = await rig.say("cus", text)
    ticket = rig.engine.queue.tickets[conversation_id]
    assert ticket.agent_id, "nobody was offered the conversation on Sunday night"
    await rig.agents.accept(conversation_id, ticket.agent_id)
    await rig.wait_text("cus", joined)
    # The SLA clock still runs in business hours: pick-up is due after Monday's opening.
    assert ticket.pickup_due > at("2026-11-30 09:00")


async def test_take_from_the_queue_at_any_hour(rig: Rig) -> None:
    rig.online("sue")  # online, but without the skill: nothing is offered automatically
    conversation_id = await rig.say("cus", "my router, talk to a person")
    assert waiting(rig) == [conversation_id]
    assert "number 1 in the queue" in rig.texts("cus")[-1]
    details = await rig.agents.accept(conversation_id, "sue")  # "Take"
    assert details["ticket"]["agent_id"] == "sue" and details["ticket"]["accepted"]
    assert (await rig.conversation(conversation_id)).status == ConversationStatus.ASSIGNED
    await rig.wait_text("cus", "Sue from our team has joined")
    await rig.agents.reply(conversation_id, "sue", "Hello, I can help with the router.")
    await rig.wait_text("cus", "I can help with the router")


async def test_take_says_why_it_cannot(rig: Rig) -> None:
    conversation_id = await rig.say("cus", "我要转人工")
    with pytest.raises(InputError) as offline:
        await rig.agents.accept(conversation_id, "bo")
    assert offline.value.status == 409
    assert "Bo is offline" in offline.value.message
    rig.online("bo")
    await rig.settle()
    assert rig.engine.queue.tickets[conversation_id].agent_id == "bo"  # offered at once
    rig.online("sue")
    with pytest.raises(InputError) as taken:
        await rig.agents.accept(conversation_id, "sue")
    assert taken.value.status == 409 and "offered to Bo" in taken.value.message
    assert (await rig.events(conversation_id, "handoff.accepted")) == []


async def test_reassign_to_an_agent_who_cannot_take_it_is_a_409_and_writes_nothing(
    rig: Rig, tmp_path: Path
) -> None:
    rig.online("sue")
    conversation_id = await rig.say("cus", "my router, talk to a person")
    before = len(await rig.events(conversation_id))
    for _ in range(3):
        with pytest.raises(InputError) as refused:
            await rig.agents.reassign(conversation_id, "sue", "bo", "bo knows routers")
        assert refused.value.status == 409
        assert "Bo is offline" in refused.value.message
    assert len(await rig.events(conversation_id)) == before
    assert waiting(rig) == [conversation_id]
    assert rig.engine.queue.position(conversation_id) == 1


async def test_reassign_assigns_at_once_and_repeating_it_changes_nothing(rig: Rig) -> None:
    rig.online("sue")  # without the skill: both conversations wait
    conversation_id = await rig.say("cus", "my router, talk to a person")
    other = await rig.say("other", "my router, talk to a person")
    assert waiting(rig) == [conversation_id, other]
    for _ in range(2):
        await rig.agents.reassign(conversation_id, "sue", "sue", "I'll take this one")
    ticket = rig.engine.queue.tickets[conversation_id]
    assert ticket.agent_id == "sue" and ticket.accepted
    assert waiting(rig) == [other] and rig.engine.queue.position(other) == 1
    assert len(await rig.events(conversation_id, "handoff.transferred")) == 1
    await rig.wait_text("cus", "Sue from our team has joined")
    await rig.agents.reply(conversation_id, "sue", "On it.")
    await rig.wait_text("cus", "On it.")


async def test_requeueing_a_waiting_ticket_keeps_one_copy_across_a_restart(
    tmp_path: Path,
) -> None:
    """Logs written before the fix (a transfer event for a ticket that was already waiting)
    must not grow the queue when they are read again at start."""
    clock = FakeClock(SUNDAY_3AM)
    path = handoff_yaml(tmp_path, **DEMO_HOURS)
    url = f"sqlite:///{tmp_path}/hub.db"
    async with Rig.running(url, path, clock) as rig:
        first = await rig.say("a", "my router, talk to a person")
        second = await rig.say("b", "my router, talk to a person")
        for _ in range(3):  # what the old reassign wrote for an offline target
            transferred = {"from_agent": "", "to_agent": "bo", "to_skill": "", "by": "sue"}
            await rig.hub.append(first, (NewEvent(type="handoff.transferred", data=transferred),))
        assert waiting(rig) == [first, second]
    async with Rig.running(url, path, clock) as rig:
        assert waiting(rig) == [first, second]
        assert rig.engine.queue.position(second) == 2
