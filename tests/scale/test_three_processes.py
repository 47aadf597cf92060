"""Three real hub processes on one Redis: what one process appends, every other one knows.

Each journey reaches the processes only as clients would (HTTP, WebSockets), sent to a
different process for each step, as a load balancer without sticky sessions does. The
hand-off queue's periodic resync is an hour away in these configs, so only the event bus
can explain a change arriving on another process.
"""

from __future__ import annotations

import asyncio
from functools import partial
from typing import Any

import aiohttp
import pytest

from tests.scale.clients import Feed, Operator, Visitor, eventually, post_message
from tests.scale.processes import HubGroup
from tests.support import CallbackReceiver

WORDS = {
    "en": {
        "ask": "I want to talk to a person",
        "reply": "Hi, this is Ana. Let me look at your order.",
        "again": "Thanks, one more thing",
        "more": "My router is broken",
        "thanks": "Thank you for your feedback!",
    },
    "zh": {
        "ask": "我要转人工",
        "reply": "您好，我是安娜，我来查一下您的订单。",
        "again": "谢谢，还有一件事",
        "more": "我的路由器坏了",
        "thanks": "感谢您的评价",
    },
}


def _assigned_to(agent_id: str, conversation_id: str) -> Any:
    async def check(queue: dict[str, Any]) -> bool:
        return any(
            t["conversation_id"] == conversation_id and t["agent_id"] == agent_id and t["accepted"]
            for t in queue["assigned"]
        )

    return check


async def _wait_assigned(operator: Operator, conversation_id: str, agent_id: str) -> None:
    check = _assigned_to(agent_id, conversation_id)

    async def assigned() -> bool:
        return bool(await check(await operator.queue()))

    await eventually(assigned, f"{conversation_id} assigned to {agent_id}")


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_agent_reply_on_b_reaches_the_visitor_on_a_live_and_after_they_write_again(
    hubs: HubGroup, lang: str
) -> None:
    a, b, c = hubs[0], hubs[1], hubs[2]
    words = WORDS[lang]
    async with aiohttp.ClientSession() as session:
        visitor = Visitor(session)
        await visitor.connect(a)
        await visitor.say("m1", words["ask"])
        ack = await visitor.until(lambda f: f["type"] == "ack")
        conversation_id = ack["conversation_id"]
        agent = Operator(session, b)
        await agent.presence("ana", "online")  # accepted at once (accept_timeout 0)
        await _wait_assigned(agent, conversation_id, "ana")

        await agent.act(conversation_id, "reply", agent_id="ana", text=words["reply"])
        # The visitor writes again at once, before anything says the reply reached A.
        await visitor.say("m2", words["again"])

        def seen(text: str) -> bool:
            return any(f["type"] == "message" and f["text"] == text for f in visitor.frames)

        await visitor.until(lambda _: seen(words["reply"]) and seen(words["again"]))
        live = visitor.logged()
        seqs = [f["seq"] for f in live]
        assert seqs == sorted(set(seqs)), seqs  # once each, in log order
        texts = [f["text"] for f in live if f["type"] == "message"]
        assert texts.index(words["reply"]) < texts.index(words["again"])

        # A tab opened on C replays the log: the live tab on A missed nothing, and its resume
        # point (the last seq it saw) never moved past a frame it did not get.
        await visitor.close()
        other = Visitor(session)
        other.token = visitor.token
        await other.connect(c)
        replayed = [f for f in other.logged() if f["seq"] <= seqs[-1]]
        shape = [(f["seq"], f["type"], f.get("text")) for f in replayed]
        assert shape == [(f["seq"], f["type"], f.get("text")) for f in live], (
            shape,
            [(f.get("seq"), f["type"], f.get("text")) for f in visitor.frames],
        )
        await other.close()


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_a_hand_off_from_a_reaches_the_queue_and_feed_of_b_at_once(
    hubs: HubGroup, lang: str
) -> None:
    a, b = hubs[0], hubs[1]
    words = WORDS[lang]
    async with aiohttp.ClientSession() as session:
        feed = Feed(session)
        await feed.open(b)  # the console on B streams this same feed
        receipt = await post_message(session, a, f"cust-{lang}", words["ask"], "h1")
        conversation_id = receipt["conversation_id"]
        queued = await feed.until(
            lambda f: f["type"] == "queue.changed" and f["conversation_id"] == conversation_id
        )
        assert queued["change"] == "queued"
        waiting = (await Operator(session, b).queue())["waiting"]
        assert [t["conversation_id"] for t in waiting] == [conversation_id]

        # The customer writes again on A: B's feed shows the message live.
        await post_message(session, a, f"cust-{lang}", words["more"], "h2")
        shown = await feed.until(
            lambda f: (
                f["type"] == "conversation.event"
                and f["event"]["type"] == "message.in"
                and f["event"]["data"].get("text") == words["more"]
            )
        )
        assert shown["event"]["conversation_id"] == conversation_id
        await feed.close()


async def test_an_agent_is_never_offered_more_than_capacity_by_three_processes(
    hubs: HubGroup,
) -> None:
    async with aiohttp.ClientSession() as session:
        operators = [Operator(session, hub) for hub in hubs.hubs]
        conversations = []
        for n in range(6):  # queued through all three processes, nobody online yet
            hub = hubs[n % 3]
            text = WORDS["en" if n % 2 else "zh"]["ask"]
            receipt = await post_message(session, hub, f"cap-{n}", text, f"cap-{n}")
            conversations.append(receipt["conversation_id"])

        async def all_waiting(operator: Operator) -> bool:
            return len((await operator.queue())["waiting"]) == 6

        for operator in operators:
            await eventually(partial(all_waiting, operator), "six waiting everywhere")
        # Ana (capacity 2) comes online on all three at once: each dispatches.
        await asyncio.gather(*(op.presence("ana", "online") for op in operators))

        async def ana_full(operator: Operator) -> bool:
            return len((await operator.agents())["ana"]["active"]) >= 2

        for operator in operators:
            await eventually(partial(ana_full, operator), "ana full everywhere")
        # Then Bo (capacity 3) takes what is left up to his capacity: once he is full, every
        # offer to Ana that any process was going to make has been made.
        await operators[2].presence("bo", "online")

        async def bo_full(operator: Operator) -> bool:
            return len((await operator.agents())["bo"]["active"]) >= 3

        for operator in operators:
            await eventually(partial(bo_full, operator), "bo full everywhere")
        offers: dict[str, int] = {"ana": 0, "bo": 0}
        for conversation_id in conversations:
            for event in await operators[0].events(conversation_id):
                if event["type"] == "handoff.offered":
                    offers[event["data"]["agent_id"]] += 1
        assert offers == {"ana": 2, "bo": 3}
        for operator in operators:
            agents = await operator.agents()
            assert len(agents["ana"]["active"]) == 2 and len(agents["bo"]["active"]) == 3
            assert len((await operator.queue())["waiting"]) == 1


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_csat_answered_on_another_process(
    hubs: HubGroup, receiver: CallbackReceiver, lang: str
) -> None:
    a, b, c = hubs[0], hubs[1], hubs[2]
    words = WORDS[lang]
    customer = f"csat-{lang}"
    async with aiohttp.ClientSession() as session:
        receipt = await post_message(session, a, customer, words["ask"], "c1")
        conversation_id = receipt["conversation_id"]
        agent = Operator(session, b)
        await agent.presence("ana", "online")
        await _wait_assigned(agent, conversation_id, "ana")
        await agent.act(conversation_id, "resolve", agent_id="ana")

        async def asked() -> bool:
            events = await agent.events(conversation_id)
            return any(e["type"] == "csat.asked" for e in events)

        await eventually(asked, "the CSAT question logged")
        await post_message(session, c, customer, "5", "c2")  # answered on C

        async def thanked() -> bool:
            return any(words["thanks"] in str(r) for r in receiver.received)

        await eventually(thanked, "the thanks for the feedback")
        answered = [e for e in await agent.events(conversation_id) if e["type"] == "csat.answered"]
        assert [e["data"]["score"] for e in answered] == [5]
        assert not any("didn't get that" in str(r) for r in receiver.received)


async def test_one_process_runs_the_hand_off_clocks_and_another_takes_over(
    hubs: HubGroup,
) -> None:
    async with aiohttp.ClientSession() as session:
        operators = [Operator(session, hub) for hub in hubs.hubs]

        async def leaders() -> list[int]:
            flags = [await op.metric("frontdesk_handoff_clock_leader") for op in operators]
            return [n for n, flag in enumerate(flags) if flag == 1.0]

        found = await leaders()
        assert len(found) == 1, found
        await hubs[found[0]].stop()  # a clean stop hands the lease back at once
        rest = [n for n in range(3) if n != found[0]]

        async def new_leader() -> list[int]:
            flags = [await operators[n].metric("frontdesk_handoff_clock_leader") for n in rest]
            return [n for n, flag in zip(rest, flags, strict=True) if flag == 1.0]

        assert len(await eventually(new_leader, "a new leader")) == 1
