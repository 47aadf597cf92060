"""The hand-off through a real Hub and store: every trigger, one owner at a time, routing,
acceptance timeout, transfer, SLA over business hours, status command, CSAT and reopen."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from handoff.queue import Presence
from hub.errors import InputError
from hub.model import ConversationStatus
from tests.handoff.helpers import FakeClock, Rig, at, handoff_yaml

MONDAY_10 = at("2026-11-23 10:00")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(MONDAY_10)


async def rig_for(tmp_path: Path, clock: FakeClock, **overrides: Any) -> AsyncIterator[Rig]:
    async with Rig.running(
        f"sqlite:///{tmp_path}/hub.db", handoff_yaml(tmp_path, **overrides), clock
    ) as rig:
        yield rig


@pytest.fixture
async def rig(tmp_path: Path, clock: FakeClock) -> AsyncIterator[Rig]:
    async for value in rig_for(tmp_path, clock):
        yield value


# ------------------------------------------------------------------ triggers


@pytest.mark.parametrize(
    ("messages", "reason"),
    [
        (["I want a human"], "human_request"),
        (["can I talk to a person please"], "human_request"),
        (["我要转人工"], "human_request"),
        (["blah", "qwerty", "zzz"], "fallbacks"),
        (
            ["This is the worst, most useless, horrible service ever. I hate it!"],
            "negative_sentiment",
        ),
        (["I have a complaint about the courier"], "complaint_words"),
        (["我要投诉你们"], "complaint_words"),
        (["打12315吗"], "complaint_words"),
        (["urgent: my internet is down"], "urgent_words"),
        (["路由器紧急问题"], "urgent_words"),
        (["/flow refund"], "flow"),
    ],
)
async def test_each_trigger_hands_off_with_its_reason(rig: Rig, messages, reason) -> None:
    for text in messages:
        conversation_id = await rig.say("cus", text)
    conversation = await rig.conversation(conversation_id)
    assert conversation.status == ConversationStatus.QUEUED
    data = await rig.requested(conversation_id)
    assert reason in data["reasons"]
    assert data["summary"]["what"]["reasons"] == data["reasons"]
    assert data["sla"]["pickup_due"] > rig.clock()


async def test_no_trigger_no_hand_off(rig: Rig) -> None:
    conversation_id = await rig.say("cus", "hello")
    await rig.say("cus", "my router blinks")
    assert (await rig.conversation(conversation_id)).status == ConversationStatus.BOT
    assert await rig.events(conversation_id, "handoff.requested") == []
    assert len(await rig.events(conversation_id, "sentiment.scored")) == 2


async def test_falling_sentiment_trend(rig: Rig) -> None:
    for text in [
        "Thanks, that sounds great",
        "ok, the router is still blinking",
        "hmm it is not working, a bit annoying",
        "this is getting really frustrating and bad",
    ]:
        conversation_id = await rig.say("cus", text)
    data = await rig.requested(conversation_id)
    assert "falling_sentiment" in data["reasons"]


async def test_two_fallbacks_are_not_enough(rig: Rig) -> None:
    conversation_id = await rig.say("cus", "blah")
    await rig.say("cus", "qwerty")
    await rig.say("cus", "my router")  # understood: the count starts again
    await rig.say("cus", "zzz")
    assert (await rig.conversation(conversation_id)).status == ConversationStatus.BOT


async def test_vip_tag(tmp_path: Path, clock: FakeClock) -> None:
    async for rig in rig_for(tmp_path, clock):
        conversation_id = await rig.say("vip-cus", "hello")
        assert (await rig.conversation(conversation_id)).status == ConversationStatus.BOT
        customer = await rig.hub.store.find_customer("test:vip-cus")
        assert customer is not None
        await _tag(rig, customer.id, "VIP")
        await rig.say("vip-cus", "hello again")
        data = await rig.requested(conversation_id)
        assert "vip" in data["reasons"] and data["priority"] == "P1"
        assert data["summary"]["who"]["vip"] is True


async def _tag(rig: Rig, customer_id: str, tag: str) -> None:
    # Customer tags belong to the identity work (`CustomerDirectory.update_customer`).
    await rig.hub.store.update_customer(customer_id, tags=[tag], now=rig.clock())


async def test_repeat_contact_within_seven_days(rig: Rig) -> None:
    first = await rig.say("cus", "my router is broken")
    rig.agents.set_presence("ana", Presence.ONLINE)
    await rig.say("cus", "talk to a person")
    await rig.settle()
    await rig.agents.accept(first, "ana")
    await rig.agents.resolve(first, "ana")
    rig.clock.advance(2 * 86400)  # past the reopen window, within 7 days
    second = await rig.say("cus", "the router again")
    assert second != first
    data = await rig.requested(second)
    assert data["reasons"] == ["repeat_contact"] and data["priority"] == "P2"
    assert data["summary"]["who"]["conversations_90d"] == 1


async def test_repeat_contact_is_forgotten_after_seven_days(rig: Rig) -> None:
    first = await rig.say("cus", "my router is broken")
    rig.online("ana")
    await rig.say("cus", "talk to a person")
    await rig.settle()
    await rig.agents.accept(first, "ana")
    await rig.agents.resolve(first, "ana")
    rig.clock.advance(8 * 86400)
    second = await rig.say("cus", "the router again")
    assert (await rig.conversation(second)).status == ConversationStatus.BOT


async def test_two_complaints_in_90_days_make_p1(rig: Rig) -> None:
    rig.online("bo")
    for _ in range(2):
        conversation_id = await rig.say("cus", "I have a complaint")
        await rig.settle()
        await rig.agents.accept(conversation_id, "bo")
        await rig.agents.resolve(conversation_id, "bo")
        rig.clock.advance(2 * 86400)
    conversation_id = await rig.say("cus", "blah")
    await rig.say("cus", "blah blah")
    await rig.say("cus", "still blah")
    data = await rig.requested(conversation_id)
    assert data["reasons"] == ["fallbacks"]
    assert data["summary"]["who"]["complaints_90d"] == 2
    assert data["priority"] == "P1"


# ------------------------------------------------------------------ one owner at a time


async def test_bot_stays_silent_while_a_person_owns_the_conversation(rig: Rig) -> None:
    conversation_id = await rig.say("cus", "I want a human")
    turns_before = rig.bot.turns
    for text in ["hello?", "blah", "my router", "still there?", "I have a complaint"]:
        await rig.say("cus", text)  # queued: kept for the agent, never answered by the bot
    rig.online("ana")
    await rig.settle()
    details = await rig.agents.accept(conversation_id, "ana")
    assert [m["text"] for m in details["transcript"] if m["from"] == "customer"][-5:] == [
        "hello?",
        "blah",
        "my router",
        "still there?",
        "I have a complaint",
    ]
    for number in range(30):
        await rig.say("cus", f"message {number} about my router, blah")
        await rig.agents.reply(conversation_id, "ana", f"agent answer {number}")
    assert rig.bot.turns == turns_before
    texts = rig.texts("cus")
    assert not any("Sorry, I didn't get that" in t or "restarting" in t for t in texts[2:])
    await rig.wait_text("cus", "agent answer 29")


async def test_status_command_in_every_state(rig: Rig) -> None:
    await rig.say("cus", "status")
    assert "no open ticket" in rig.texts("cus")[-1]
    conversation_id = await rig.say("cus", "I want a human")
    assert "Leave your message here" in rig.texts("cus")[-1]  # nobody is online
    await rig.say("cus", "status")
    assert "is recorded; nobody is online right now" in rig.texts("cus")[-1]
    rig.online("ana")
    await rig.settle()
    await rig.agents.accept(conversation_id, "ana")
    await rig.say("cus", "进度")
    assert "Ana" in rig.texts("cus")[-1] and "处理" in rig.texts("cus")[-1]
    await rig.agents.resolve(conversation_id, "ana")
    rig.clock.advance(7200)
    await rig.say("cus", "status")
    await rig.wait_text("cus", "resolved on 2026-11-23")


async def test_customer_is_told_place_and_wait_in_their_language(rig: Rig) -> None:
    rig.online("bo")
    rig.agents.set_presence("bo", Presence.AWAY)
    rig.online("ana")
    rig.agents.set_presence("ana", Presence.AWAY)
    rig.agents.set_presence("sue", Presence.ONLINE)  # online but without the skill
    await rig.say("a", "my router: talk to a person")
    await rig.say("b", "路由器坏了，转人工")
    assert "number 1 in the queue" in rig.texts("a")[-1]
    assert "第 2 位" in rig.texts("b")[-1]
    await rig.say("b", "进度")
    assert "正在排队：第 2 位" in rig.texts("b")[-1]


async def test_queue_update_when_the_place_changes(rig: Rig) -> None:
    rig.online("sue")  # nobody with the skill is online: both wait
    first = await rig.say("a", "router: talk to a person")
    await rig.say("b", "router: talk to a person")
    assert "number 2" in rig.texts("b")[-1]
    rig.agents.add_agent(replace(rig.engine.agent("ana"), capacity=1))
    rig.online("ana")
    await rig.settle()
    assert (await rig.conversation(first)).status == ConversationStatus.ASSIGNED
    await rig.agents.accept(first, "ana")
    rig.clock.advance(61)
    await rig.engine.tick()
    await rig.wait_text("b", "now number 1")
    update = rig.connector.sent["b"][-1]
    assert [(b.title, b.payload) for b in update.buttons] == [("Back to the bot", "/handoff_leave")]


MON_TO_WED = {"calendar": {"hours": {d: ["09:00-18:00"] for d in ("mon", "tue", "wed")}}}


async def test_out_of_hours_the_customer_leaves_a_message(tmp_path: Path) -> None:
    saturday_night = FakeClock(at("2026-11-28 23:00"))
    async for rig in rig_for(tmp_path, saturday_night, **MON_TO_WED):
        conversation_id = await rig.say("cus", "talk to a person")  # nobody is online
        assert "Leave your message here" in rig.texts("cus")[-1]
        assert "2026-11-30 09:00 (Asia/Shanghai, UTC+08:00)" in rig.texts("cus")[-1]
        await rig.say("cus", "My invoice 2231 is wrong, please call me back")
        assert "an agent will see it" in rig.texts("cus")[-1]
        await rig.engine.tick()
        assert (await rig.conversation(conversation_id)).status == ConversationStatus.QUEUED
        # An agent who comes online on Saturday night is offered it: hours never decide.
        saturday_night.now = at("2026-11-28 23:05")
        rig.online("ana")
        await rig.settle()
        assert (await rig.conversation(conversation_id)).status == ConversationStatus.ASSIGNED
        details = await rig.agents.accept(conversation_id, "ana")
        assert (
            "My invoice 2231 is wrong, please call me back" in details["summary"]["key_sentences"]
        )
        await rig.agents.reply(conversation_id, "ana", "Hi, the invoice is corrected.")
        await rig.wait_text("cus", "invoice is corrected")


# ------------------------------------------------------------------ routing


async def test_routing_by_skill_language_and_capacity(tmp_path: Path, clock: FakeClock) -> None:
    agents = {
        "agents": [
            {"id": "en1", "skills": ["hardware"], "languages": ["en"], "capacity": 1},
            {"id": "en2", "skills": ["hardware"], "languages": ["en"], "capacity": 3},
            {"id": "zh1", "skills": ["hardware"], "languages": ["zh"], "capacity": 2},
            {"id": "bill", "skills": ["billing"], "languages": ["en"], "capacity": 5},
        ],
        "routing": {"accept_timeout": 0},
    }
    async for rig in rig_for(tmp_path, clock, **agents):
        rig.online("en1", "en2", "zh1", "bill")
        owner = {}
        for sender, text in [
            ("c1", "my router, talk to a person"),
            ("c2", "路由器坏了，转人工"),
            ("c3", "my router, talk to a person"),
            ("c4", "my bill, talk to a person"),
        ]:
            conversation_id = await rig.say(sender, text)
            await rig.settle()
            owner[sender] = rig.engine.queue.tickets[conversation_id].agent_id
        assert owner == {"c1": "en2", "c2": "zh1", "c3": "en2", "c4": "bill"}
        assert "has joined" in rig.texts("c1")[-1]
        assert "客服" in rig.texts("c2")[-1]


async def test_unaccepted_offer_goes_to_the_next_agent(rig: Rig) -> None:
    rig.online("ana", "bo")
    conversation_id = await rig.say("cus", "my router, talk to a person")
    first = rig.engine.queue.tickets[conversation_id].agent_id
    rig.clock.advance(59)
    await rig.engine.tick()
    assert rig.engine.queue.tickets[conversation_id].agent_id == first
    rig.clock.advance(2)
    await rig.engine.tick()
    await rig.settle()
    second = rig.engine.queue.tickets[conversation_id].agent_id
    assert second and second != first
    with pytest.raises(InputError) as late:
        await rig.agents.accept(conversation_id, first)
    assert late.value.status == 409
    await rig.agents.accept(conversation_id, second)
    assert len(await rig.events(conversation_id, "handoff.offer_expired")) == 1


async def test_transfer_to_skill_and_to_agent_with_note(rig: Rig) -> None:
    rig.online("ana", "bo")
    conversation_id = await rig.say("cus", "my bill, talk to a person")
    await rig.agents.accept(conversation_id, "ana")
    await rig.agents.transfer(
        conversation_id, "ana", to_skill="complaints", note="angry about fees"
    )
    await rig.settle()
    assert rig.engine.queue.tickets[conversation_id].agent_id == "bo"
    await rig.agents.accept(conversation_id, "bo")
    notes = await rig.events(conversation_id, "handoff.transferred")
    assert notes[0].data["note"] == "angry about fees"
    await rig.agents.note(conversation_id, "bo", "called the customer back")
    assert "called the customer back" not in " ".join(rig.texts("cus"))
    with pytest.raises(InputError):
        await rig.agents.transfer(conversation_id, "ana", to_agent="bo")  # not ana's anymore
    await rig.agents.transfer(conversation_id, "bo", to_agent="ana")
    await rig.settle()
    assert rig.engine.queue.tickets[conversation_id].agent_id == "ana"


async def test_supervisor_reassigns(rig: Rig) -> None:
    rig.online("ana", "bo")
    conversation_id = await rig.say("cus", "my router, talk to a person")
    with pytest.raises(InputError) as refused:
        await rig.agents.reassign(conversation_id, "ana", "bo")
    assert refused.value.status == 403
    await rig.agents.reassign(conversation_id, "sue", "bo", "bo knows this customer")
    await rig.settle()
    assert rig.engine.queue.tickets[conversation_id].agent_id == "bo"


# ------------------------------------------------------------------ SLA


async def test_sla_warning_breach_and_bump_over_a_weekend(tmp_path: Path) -> None:
    friday = FakeClock(at("2026-11-27 17:57"))  # 3 business minutes before closing
    settings = {
        "calendar": {"hours": {d: ["09:00-18:00"] for d in ("mon", "tue", "wed", "thu", "fri")}},
    }
    async for rig in rig_for(tmp_path, friday, **settings):
        conversation_id = await rig.say("cus", "talk to a person")  # P3: 15 min pickup
        data = await rig.requested(conversation_id)
        assert data["sla"]["pickup_due"] == at("2026-11-30 09:12")
        assert data["sla"]["pickup_warn"] == at("2026-11-30 09:09")
        friday.now = at("2026-11-29 20:00")  # Sunday: nothing is due yet
        await rig.engine.tick()
        assert await rig.events(conversation_id, "sla.warning") == []
        friday.now = at("2026-11-30 09:10")
        await rig.engine.tick()
        assert [e.data["kind"] for e in await rig.events(conversation_id, "sla.warning")] == [
            "pickup"
        ]
        friday.now = at("2026-11-30 09:13")
        await rig.engine.tick()
        await rig.engine.tick()  # raised once, not per tick
        breaches = await rig.events(conversation_id, "sla.breached")
        assert [e.data["kind"] for e in breaches] == ["pickup"]
        bumped = await rig.events(conversation_id, "handoff.priority_changed")
        assert [(e.data["from"], e.data["to"]) for e in bumped] == [(3, 2)]
        assert (await rig.conversation(conversation_id)).priority == 2
        assert [a["alert"] for a in rig.alerts] == ["sla.warning", "sla.breached"]
        assert rig.engine.counters["pickup.breached"] == 1


async def test_sla_alert_reaches_the_webhook(tmp_path: Path, aiohttp_server) -> None:
    from aiohttp import web

    from handoff.alerts import WebhookNotifier

    received: list[dict[str, Any]] = []

    async def hook(request: web.Request) -> web.Response:
        received.append(await request.json())
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/alerts", hook)
    server = await aiohttp_server(app)
    clock = FakeClock(MONDAY_10)
    async for rig in rig_for(tmp_path, clock):
        notifier = WebhookNotifier(str(server.make_url("/alerts")))
        await notifier.start()
        rig.engine.alert_sink = notifier.send
        conversation_id = await rig.say("cus", "I have a complaint, refund now")
        assert (await rig.requested(conversation_id))["priority"] == "P1"
        clock.advance(5 * 60 + 1)
        await rig.engine.tick()
        await notifier.stop()
    assert [r["alert"] for r in received] == ["sla.warning", "sla.breached"]
    assert received[1]["conversation_id"] == conversation_id


# ------------------------------------------------------------------ resolution, CSAT, reopen


async def test_resolve_csat_comment_and_reopen(rig: Rig) -> None:
    rig.online("ana")
    conversation_id = await rig.say("cus", "my router, talk to a person")
    await rig.agents.accept(conversation_id, "ana")
    await rig.agents.resolve(conversation_id, "ana", "replaced the adapter")
    assert (await rig.conversation(conversation_id)).status == ConversationStatus.RESOLVED
    await rig.wait_text("cus", "How satisfied")
    csat = rig.connector.sent["cus"][-1]
    assert [b.payload for b in csat.buttons] == [f"/csat {n}" for n in range(1, 6)]
    await rig.say("cus", "/csat 4")
    await rig.say("cus", "Quick and friendly, thanks")
    answered = await rig.events(conversation_id, "csat.answered")
    assert answered[0].data["score"] == 4
    comment = await rig.events(conversation_id, "csat.comment")
    assert comment[0].data["text"] == "Quick and friendly, thanks"
    customer_id = (await rig.conversation(conversation_id)).customer_id
    assert rig.engine.history.facts(customer_id, rig.clock()).last_csat == 4
    rig.clock.advance(1800)  # within the reopen window
    again = await rig.say("cus", "the router dropped again")
    data = await rig.requested(again)
    assert data["reasons"][0] == "reopened" and data["prefer_agent"] == "ana"
    assert data["previous_conversation"] == conversation_id
    await rig.settle()
    assert rig.engine.queue.tickets[again].agent_id == "ana"


async def test_thanks_after_resolution_does_not_reopen(rig: Rig) -> None:
    rig.online("ana")
    conversation_id = await rig.say("cus", "my router, talk to a person")
    await rig.agents.accept(conversation_id, "ana")
    await rig.agents.resolve(conversation_id, "ana")
    later = await rig.say("cus", "thank you so much!")
    assert (await rig.conversation(later)).status == ConversationStatus.BOT


async def test_hand_back_resumes_the_bot(rig: Rig) -> None:
    rig.online("ana")
    conversation_id = await rig.say("cus", "my router, talk to a person")
    await rig.agents.accept(conversation_id, "ana")
    await rig.agents.hand_back(conversation_id, "ana", "bot can take the rest")
    assert (await rig.conversation(conversation_id)).status == ConversationStatus.BOT
    turns = rig.bot.turns
    await rig.say("cus", "my order?")
    assert rig.bot.turns == turns + 1
    assert rig.texts("cus")[-1] == "Your order is on its way."


async def test_agent_actions_check_ownership(rig: Rig) -> None:
    rig.online("ana")
    conversation_id = await rig.say("cus", "my router, talk to a person")
    with pytest.raises(InputError) as not_accepted:
        await rig.agents.reply(conversation_id, "ana", "hi")
    assert not_accepted.value.status == 409
    with pytest.raises(InputError) as unknown:
        await rig.agents.accept(conversation_id, "nobody")
    assert unknown.value.status == 404
    with pytest.raises(InputError) as no_ticket:
        await rig.agents.accept("cnv-missing", "ana")
    assert no_ticket.value.status == 404


async def test_history_older_than_ninety_days_is_forgotten(rig: Rig) -> None:
    rig.online("ana")
    conversation_id = await rig.say("cus", "my router, talk to a person")
    await rig.agents.accept(conversation_id, "ana")
    await rig.agents.resolve(conversation_id, "ana", "fixed")
    assert rig.engine.history.past(conversation_id) is not None
    rig.clock.advance(91 * 86400)
    await rig.engine.tick()  # the periodic resync also trims what nothing reads any more
    assert rig.engine.history.past(conversation_id) is None


async def test_out_of_hours_the_customer_can_leave_the_queue(tmp_path: Path) -> None:
    # Out of hours the wait lasts until Monday: "算了" ends it now, and Monday's agent is
    # not offered a conversation nobody waits in any more.
    saturday_night = FakeClock(at("2026-11-28 23:00"))
    async for rig in rig_for(tmp_path, saturday_night, **MON_TO_WED):
        conversation_id = await rig.say("cus", "转人工")  # nobody is online
        assert "留言" in rig.texts("cus")[-1]
        await rig.say("cus", "算了")
        assert "已为您取消人工客服请求" in rig.texts("cus")[-1]
        assert (await rig.conversation(conversation_id)).status == ConversationStatus.BOT
        saturday_night.now = at("2026-11-30 09:01")
        rig.online("bo")
        await rig.engine.tick()
        assert (await rig.conversation(conversation_id)).status == ConversationStatus.BOT
        assert not rig.engine.queue.agents["bo"].active
        await rig.say("cus", "路由器怎么办")  # the bot answers again
        assert rig.texts("cus")[-1] == "请重启路由器。"
