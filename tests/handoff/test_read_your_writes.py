"""An agent's action is in this process's index when the call returns, though the bus may
hold its batch behind another write of the conversation under way here (a delivery
receipt: `hub.bus_order.PublishOrder`); and the console feed hears of every change once,
whichever path (the bus, or a read of the log) brought it first. Both stores: SQLite with
the in-process bus, Redis with the stream every process reads."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import pytest

from handoff.actions import Actor
from handoff.queue import Presence
from hub.abc import ChannelLinks
from hub.model import Event, NewEvent
from hub.stores import store_from_url
from tests.handoff.helpers import FakeClock, Rig, at, handoff_yaml, until
from tests.support import RecordingConnector

CASES = [
    ("my router is broken, talk to a person", "ana", "Ana from our team has joined"),
    ("路由器坏了，转人工", "bo", "客服 Bo 已接入"),
]
RigFactory = Callable[[], AbstractAsyncContextManager[Rig]]
Frames = asyncio.Queue[dict[str, Any]]  # a subscriber's queue of the console feed


class TypingChannel(RecordingConnector):
    """A channel that shows an agent's typing, and keeps who it was shown to."""

    supports_typing = True

    def __init__(self, *, links: ChannelLinks) -> None:
        super().__init__(links=links)
        self.typed: list[str] = []

    async def typing(
        self, address: str, thread_hint: str, *, on: bool = True, for_turn: bool = True
    ) -> None:
        if not for_turn and on:
            self.typed.append(address)


@pytest.fixture
def make_rig(store_url: str, tmp_path: Path) -> RigFactory:
    path = handoff_yaml(tmp_path)
    clock = FakeClock(at("2026-11-23 10:00"))
    return lambda: Rig.running(store_url, path, clock, shared_bus=True, connector=TypingChannel)


@pytest.fixture
async def rig(make_rig: RigFactory) -> AsyncIterator[Rig]:
    async with make_rig() as rig:
        yield rig


def drain(feed: Frames) -> list[dict[str, Any]]:
    published: list[dict[str, Any]] = []
    while not feed.empty():
        published.append(feed.get_nowait())
    return published


def changes(published: list[dict[str, Any]], conversation_id: str, change: str) -> int:
    return sum(
        1
        for m in published
        if m["type"] == "queue.changed"
        and m["conversation_id"] == conversation_id
        and m["change"] == change
    )


def logged(published: list[dict[str, Any]], kind: str) -> int:
    return sum(
        1 for m in published if m["type"] == "conversation.event" and m["event"]["type"] == kind
    )


def published_once(feed: Frames, conversation_id: str) -> None:
    """The feed heard of the accept once: one `queue.changed`, one `conversation.event`."""
    published = drain(feed)
    assert changes(published, conversation_id, "accepted") == 1
    assert logged(published, "handoff.accepted") == 1


async def offered(rig: Rig, ask: str, agent: str) -> tuple[str, Frames, list[Event]]:
    """The customer asks for a person and `agent` (online) is offered the conversation;
    from then on the feed and the accepts the bus brings are watched."""
    rig.online(agent)
    conversation_id = await rig.say("cus", ask)
    ticket = rig.engine.queue.tickets[conversation_id]
    assert (ticket.agent_id, ticket.accepted) == (agent, False)
    return conversation_id, rig.engine.feed.subscribe(), heard(rig, "handoff.accepted")


def heard(rig: Rig, kind: str) -> list[Event]:
    """The events of `kind` the bus delivers to this process, from now on."""
    seen: list[Event] = []

    def listen(events: Sequence[Event]) -> None:
        seen.extend(e for e in events if e.type == kind)

    rig.hub.add_listener(listen)
    return seen


@pytest.mark.parametrize(("ask", "agent", "joined"), CASES, ids=["en", "zh"])
async def test_accept_is_in_the_index_when_it_returns_though_the_bus_holds_it(
    rig: Rig, ask: str, agent: str, joined: str
) -> None:
    conversation_id, feed, accepts = await offered(rig, ask, agent)
    actor = Actor(agent, sees_all=False)

    # Another write of this conversation is under way here (as a delivery receipt's is):
    # the bus holds the accept's batch until it is done.
    with rig.hub.publish_order.writing(conversation_id):
        accepted = await rig.actions.accept(actor, conversation_id)
        assert accepts == []  # the bus has not brought it …
        assert rig.engine.queue.tickets[conversation_id].accepted  # … the index has it
        assert accepted.details["ticket"]["accepted"] is True
        # The agent types at once: the typing route finds the ticket theirs and accepted.
        assert await rig.actions.typing(actor, conversation_id) is True
        channel = rig.connector
        assert isinstance(channel, TypingChannel)
        await until(lambda: _now(channel.typed == ["cus"]))
    await rig.hub.bus.settled()
    assert len(accepts) == 1  # the bus brought it after all, and it changed nothing more
    published_once(feed, conversation_id)
    await rig.wait_text("cus", joined)


@pytest.mark.parametrize(("ask", "agent", "joined"), CASES, ids=["en", "zh"])
async def test_accept_the_bus_brings_first_is_published_once(
    rig: Rig, ask: str, agent: str, joined: str
) -> None:
    conversation_id, feed, accepts = await offered(rig, ask, agent)

    # Nothing holds the bus: it brings the accept during the write, before the read-back.
    await rig.actions.accept(Actor(agent, sees_all=False), conversation_id)
    assert len(accepts) == 1
    await rig.hub.bus.settled()
    published_once(feed, conversation_id)
    await rig.wait_text("cus", joined)


@pytest.mark.parametrize("ask", ["I want a human", "我要转人工"], ids=["en", "zh"])
async def test_an_sla_alert_a_catch_up_reads_first_is_published_once(rig: Rig, ask: str) -> None:
    """The SLA clock reads the log before it raises an alert (another process may have):
    when it finds its own earlier alert there before the bus brought it, the feed still
    hears of it, once, and it is counted once."""
    conversation_id = await rig.say("cus", ask)  # nobody online: it waits
    ticket = rig.engine.queue.tickets[conversation_id]
    assert ticket.agent_id == "" and ticket.pickup_warn < ticket.pickup_due
    feed = rig.engine.feed.subscribe()
    warnings = heard(rig, "sla.warning")
    rig.clock.now = ticket.pickup_warn + 1.0

    with rig.hub.publish_order.writing(conversation_id):
        await rig.engine.tick()  # raises the warning (its batch held)
        assert "pickup.warning" not in ticket.alerts
        await rig.engine.tick()  # reads it back before raising it again: raises nothing
        assert "pickup.warning" in ticket.alerts
    await rig.hub.bus.settled()
    assert len(warnings) == 1

    published = drain(feed)
    assert changes(published, conversation_id, "alert") == 1
    alerts = [m for m in published if m["type"] == "alert"]
    assert [(m["alert"], m["kind"]) for m in alerts] == [("sla.warning", "pickup")]
    assert logged(published, "sla.warning") == 1
    assert rig.engine.counters["pickup.warning"] == 1
    assert [a["alert"] for a in rig.alerts] == ["sla.warning"]  # the webhook's, once too


@pytest.mark.parametrize("ask", ["I want a human", "我要转人工"], ids=["en", "zh"])
async def test_start_is_quiet_and_a_resync_publishes_what_the_bus_missed(
    store_url: str, tmp_path: Path, ask: str
) -> None:
    path = handoff_yaml(tmp_path)
    clock = FakeClock(at("2026-11-23 10:00"))
    async with Rig.running(store_url, path, clock) as first:
        first.online("bo")
        resolved_id = await first.say("earlier", ask)  # Bo takes it and resolves it
        await first.agents.accept(resolved_id, "bo")
        await first.agents.resolve(resolved_id, "bo")
        first.agents.set_presence("bo", Presence.OFFLINE)
        clock.advance(60.0)
        conversation_id = await first.say("cus", ask)
        ticket = first.engine.queue.tickets[conversation_id]
        clock.now = ticket.pickup_warn + 1.0
        await first.engine.tick()
        assert first.engine.counters["pickup.warning"] == 1

    # A restart (a second later): the index is built from the log, and the feed hears
    # nothing of it (no frame per open ticket and event, no alert counted twice).
    clock.advance(1.0)
    store = store_from_url(store_url)
    rig = Rig(store, first.engine.settings, clock, files=tmp_path / "files")
    feed = rig.engine.feed.subscribe()
    await store.open()
    try:
        await rig.engine.start()
        ticket = rig.engine.queue.tickets[conversation_id]
        assert ticket.alerts == {"pickup.warning"}
        assert drain(feed) == []
        assert rig.engine.counters["pickup.warning"] == 0
        # Nor does a later read of an older conversation's log (the follow-ups read a
        # resolved one so): it all happened before this process started.
        await rig.engine.catch_up(resolved_id)
        assert rig.engine.history.past(resolved_id) is not None
        assert drain(feed) == []

        # Another process changes the ticket and this one misses its bus notice (written
        # to the store directly): a resync reads it and publishes it, once.
        bump = NewEvent(type="handoff.priority_changed", data={"from": 3, "to": 2})
        await store.append_events(conversation_id, (bump,), now=clock())
        await rig.engine.resync()
        assert rig.engine.queue.tickets[conversation_id].priority == 2
        await rig.engine.resync()
        published = drain(feed)
        assert changes(published, conversation_id, "priority") == 1
        assert logged(published, "handoff.priority_changed") == 1
    finally:
        await rig.engine.stop()
        await store.close()


async def _now(value: bool) -> bool:
    return value


@pytest.mark.parametrize(("ask", "agent", "joined"), CASES, ids=["en", "zh"])
async def test_two_processes_each_publish_an_accept_once(
    redis_url: str, tmp_path: Path, ask: str, agent: str, joined: str
) -> None:
    """Two processes on one Redis: the accepting one reads its write back while the bus
    holds it; the other reads it from the log (a resync) before the stream brings it.
    Each feed hears of it once."""
    path = handoff_yaml(tmp_path)
    clock = FakeClock(at("2026-11-23 10:00"))
    async with (
        Rig.running(redis_url, path, clock, shared_bus=True) as here,
        Rig.running(redis_url, path, clock, shared_bus=True) as there,
    ):
        here.online(agent)
        there.online(agent)
        conversation_id = await here.say("cus", ask)
        await there.hub.bus.settled()
        assert there.engine.queue.tickets[conversation_id].agent_id == agent
        feeds = [here.engine.feed.subscribe(), there.engine.feed.subscribe()]

        with here.hub.publish_order.writing(conversation_id):
            await here.actions.accept(Actor(agent, sees_all=False), conversation_id)
            await there.engine.resync()
            assert there.engine.queue.tickets[conversation_id].accepted
        for rig in (here, there):
            await rig.hub.bus.settled()
        for feed in feeds:
            published_once(feed, conversation_id)
        await here.wait_text("cus", joined)


@pytest.mark.parametrize("ask", ["I want a human", "我要转人工"], ids=["en", "zh"])
async def test_a_ticket_a_resync_let_go_of_is_read_again_and_not_told_twice(
    rig: Rig, ask: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A resync lists the open conversations by status, one status after the other: one
    that moved between the two listings (a transfer) is in neither, and the index lets
    its ticket go. The next resync reads its whole log again and the ticket is back; the
    feed, which heard of those events already, does not hear of them again."""
    conversation_id = await rig.say("cus", ask)
    feed = rig.engine.feed.subscribe()
    listed = rig.hub.store.list_conversations

    async def missing_it(**query: Any) -> Any:
        page = await listed(**query)
        items = [c for c in page.items if c.id != conversation_id]
        return type(page)(items=items, next_cursor=page.next_cursor)

    monkeypatch.setattr(rig.hub.store, "list_conversations", missing_it)
    await rig.engine.resync()
    assert conversation_id not in rig.engine.queue.tickets
    monkeypatch.setattr(rig.hub.store, "list_conversations", listed)
    await rig.engine.resync()
    ticket = rig.engine.queue.tickets[conversation_id]
    assert ticket.language == ("zh" if "转" in ask else "en")
    assert not [m for m in drain(feed) if m.get("conversation_id") == conversation_id]


@pytest.mark.parametrize(("ask", "agent", "joined"), CASES, ids=["en", "zh"])
async def test_every_action_that_changes_the_ticket_is_in_the_index_when_it_returns(
    rig: Rig, ask: str, agent: str, joined: str
) -> None:
    """Accept, join, a note that mentions someone, transfer, reassign and resolve, while
    the bus holds every batch of the conversation: each is in the index as it returns."""
    conversation_id, feed, accepts = await offered(rig, ask, agent)
    tickets = rig.engine.queue.tickets
    with rig.hub.publish_order.writing(conversation_id):
        await rig.agents.accept(conversation_id, agent)
        assert tickets[conversation_id].accepted
        await rig.agents.join(conversation_id, "sue")
        assert tickets[conversation_id].participants == {"sue"}
        await rig.agents.note(conversation_id, "sue", "see the order", mentions=[agent])
        assert tickets[conversation_id].mentioned == {agent}
        await rig.agents.transfer(conversation_id, agent, to_agent="sue")  # Sue is offline
        ticket = tickets[conversation_id]
        assert (ticket.agent_id, ticket.pinned_agent) == ("", "sue")
        await rig.agents.reassign(conversation_id, "sue", agent)
        assert (ticket.agent_id, ticket.accepted) == (agent, True)
        await rig.agents.resolve(conversation_id, agent)
        assert conversation_id not in tickets
        assert accepts == []  # all of it still held on the bus
    await rig.hub.bus.settled()
    published = drain(feed)
    told = [m["change"] for m in published if m["type"] == "queue.changed"]
    assert told == ["accepted", "joined", "requeued", "requeued", "offered", "closed"]
    await rig.wait_text("cus", joined)
