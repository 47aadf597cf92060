"""The demo bot end to end: api channel → hub → dialog engine (+ rasa-sdk actions) → hub →
signed callback. Every demo flow, in English and Chinese, plus bad input at the edge."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from dialogs.engine import DialogEngine
from hub.app import create_app
from tests.dialogs.talk import DEMO_DIALOGS
from tests.support import CallbackReceiver, api_auth, channel_auth, hub_config, hub_env

_ids = itertools.count(1)


class Customer:
    """One customer talking through the api channel; `say` waits for the bot's replies."""

    def __init__(self, client: Any, receiver: CallbackReceiver, sender: str) -> None:
        self.client, self.receiver, self.sender = client, receiver, sender
        self.conversation_id = ""

    async def say(self, text: str, *, replies: int = 1) -> list[dict[str, Any]]:
        before = len(self.receiver.received)
        response = await self.client.post(
            "/api/v1/channels/api/messages",
            json={"id": f"m{next(_ids)}", "sender": self.sender, "text": text},
            headers=channel_auth(),
        )
        assert response.status == 202, await response.text()
        self.conversation_id = (await response.json())["conversation_id"]
        await self.receiver.wait_for(before + replies)
        got = [r for r in self.receiver.received[before:] if r["recipient"] == self.sender]
        return sorted(got, key=lambda r: r["seq"])

    async def events(self) -> list[dict[str, Any]]:
        response = await self.client.get(
            f"/api/v1/conversations/{self.conversation_id}/events", headers=api_auth()
        )
        assert response.status == 200
        body = await response.json()
        return list(body.get("items", body.get("events", [])))


@pytest.fixture
async def receiver() -> AsyncIterator[CallbackReceiver]:
    receiver = CallbackReceiver()
    await receiver.start()
    yield receiver
    await receiver.stop()


@pytest.fixture
async def client(aiohttp_client, tmp_path: Path, receiver: CallbackReceiver, action_server):
    env = hub_env(tmp_path, FRONTDESK_API_CHANNEL_CALLBACK_URL=receiver.url)
    bot = DialogEngine.from_path(DEMO_DIALOGS, action_endpoint=action_server.url)
    return await aiohttp_client(create_app(hub_config(env), environ=env, bot=bot))


def texts(replies: list[dict[str, Any]]) -> str:
    return "\n".join(r["text"] for r in replies)


async def test_greeting_hours_policies_and_goodbye(client, receiver) -> None:
    ana = Customer(client, receiver, "ana")
    assert "Frontdesk assistant" in texts(await ana.say("hello"))
    assert "10:00–21:00" in texts(await ana.say("what are your opening hours?"))
    assert "30 days" in texts(await ana.say("how do I return a product"))
    assert "100 points" in texts(await ana.say("how do I redeem my points"))
    assert "welcome" in texts(await ana.say("thank you"))
    assert "Goodbye" in texts(await ana.say("bye"))


async def test_order_status_through_the_real_action_server(client, receiver) -> None:
    bo = Customer(client, receiver, "bo")
    assert "order number" in texts(await bo.say("where is my order?"))
    assert "8 digits" in texts(await bo.say("1234", replies=2))
    shipped = await bo.say("20261001")
    assert "has shipped with SF Express" in texts(shipped)
    assert "not find" in texts(await bo.say("check my order") + await bo.say("99999999"))
    turns = [e for e in await bo.events() if e["type"] == "bot.turn"]
    assert turns[-1]["data"]["slots"]["order_status"] == "not_found"


async def test_power_troubleshooting_hands_off_with_what_was_tried(client, receiver) -> None:
    cy = Customer(client, receiver, "cy")
    first = await cy.say("my phone won't turn on", replies=2)
    assert [b["payload"] for b in first[-1]["buttons"]] == ["yes#q1", "no#q1"]
    assert "charging light" in texts(await cy.say("no"))
    assert "different charger" in texts(await cy.say("no"))
    assert "hardware team" in texts(await cy.say("no"))
    handoff = [e for e in await cy.events() if e["type"] == "handoff.requested"]
    assert len(handoff) == 1
    data = handoff[0]["data"]
    assert (data["reason"], data["skill"], data["priority"]) == (
        "device_wont_power_on",
        "hardware",
        "P2",
    )
    answered = [t["step"] for t in data["tried"] if "answer" in t]
    assert answered == ["hold_power", "check_light", "other_charger"]
    conversation = await client.get(
        f"/api/v1/conversations/{cy.conversation_id}", headers=api_auth()
    )
    assert (await conversation.json())["status"] == "queued"


async def test_power_troubleshooting_fixed(client, receiver) -> None:
    di = Customer(client, receiver, "di")
    await di.say("my device won't power on", replies=2)
    assert "working again" in texts(await di.say("yes"))


async def test_chinese_conversation(client, receiver) -> None:
    li = Customer(client, receiver, "li")
    assert "您好" in texts(await li.say("你好"))
    assert "订单号" in texts(await li.say("我的订单到哪了"))
    assert "已由" in texts(await li.say("20261001"))
    reply = await li.say("手机开不了机", replies=2)
    assert "长按电源键" in texts(reply)
    assert [b["title"] for b in reply[-1]["buttons"]] == ["是", "否"]
    assert "30 天内" in texts(await li.say("可以退货吗", replies=3))  # interruption + re-ask
    assert "充电指示灯" in texts(await li.say("没反应"))


async def test_talk_to_a_human_and_complaint(client, receiver) -> None:
    mo = Customer(client, receiver, "mo")
    await mo.say("I want to speak to a person")
    ed = Customer(client, receiver, "ed")
    assert "senior member" in texts(await ed.say("I want to make a complaint"))
    for customer, reason, priority in ((mo, "customer_request", "P3"), (ed, "complaint", "P1")):
        handoff = [e for e in await customer.events() if e["type"] == "handoff.requested"]
        assert handoff[0]["data"]["reason"] == reason
        assert handoff[0]["data"]["priority"] == priority


async def test_fallbacks_then_offer_of_a_person(client, receiver) -> None:
    jo = Customer(client, receiver, "jo")
    first = await jo.say("vvvv wwww kkkk")
    assert "Did you mean" in texts(first) or "another way" in texts(first)
    offer = await jo.say("xyzzy plugh qwerty")
    payloads = [b["payload"] for b in offer[0]["buttons"]]
    assert payloads == ["/handoff_accept#q1", "/handoff_decline#q1"]
    await jo.say(payloads[0])
    handoff = [e for e in await jo.events() if e["type"] == "handoff.requested"]
    assert handoff[0]["data"]["reason"] == "fallback"


@pytest.mark.parametrize(
    "text",
    ["a" * 10_000, "😀😀😀", "order 订单 help", "hi\x00\x1b[2J\u202e", "{{ 7*7 }}{% raw %}"],
    ids=["10k", "emoji", "mixed", "control", "injection"],
)
async def test_bad_input_through_the_hub(client, receiver, text: str) -> None:
    ka = Customer(client, receiver, "ka")
    replies = await ka.say(text)
    assert replies and all(r["text"] for r in replies)
    assert "49" not in texts(replies)


async def test_empty_text_is_refused_at_the_edge_and_attachments_get_an_answer(
    client, receiver
) -> None:
    response = await client.post(
        "/api/v1/channels/api/messages",
        json={"id": "empty-1", "sender": "em", "text": ""},
        headers=channel_auth(),
    )
    assert response.status == 422
    response = await client.post(
        "/api/v1/channels/api/messages",
        json={
            "id": "pic-1",
            "sender": "em",
            "attachments": [{"kind": "image", "url": "https://x/y.png"}],
        },
        headers=channel_auth(),
    )
    assert response.status == 202
    replies = await receiver.wait_for(1)
    assert "only read text" in replies[0]["text"]
