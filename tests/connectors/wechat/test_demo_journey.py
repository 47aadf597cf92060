"""The demo bot and the human hand-off on WeChat, end to end through the fake WeChat API,
in English and in Chinese: following the account (greeting; a parametric QR code opening a
flow), an FAQ, a flow answered by clicking a msgmenu line, a hand-off, an agent's reply and
the CSAT question as a msgmenu — in plaintext and in safe mode."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.connectors.agent_steps import (
    HAND_OFF,
    WHOLE_JOURNEY,
    H,
    agent_answers,
    journey_bot_and_handoff,
)
from tests.connectors.wechat.fake_wechat import FakeWeChatApi
from tests.connectors.wechat.harness import (
    CUSTOMER,
    event,
    hub_of,
    menu_click,
    push,
    sees,
    text,
    wechat_app,
)
from tests.dialogs.talk import demo_engine
from tests.handoff.helpers import TinyBot, handoff_yaml
from tests.support import api_auth


class Customer:
    """Li on WeChat: says things, clicks menu lines, and waits to see what comes back."""

    def __init__(self, client: TestClient[Any, Any], fake: FakeWeChatApi, safe: bool) -> None:
        self.client, self.fake, self.safe, self.number = client, fake, safe, 0

    async def send(self, fields: dict[str, Any]) -> None:
        assert await push(self.client, fields, safe=self.safe) == (200, "success")

    async def say(self, words: str) -> None:
        self.number += 1
        await self.send(text(7000 + self.number, words))

    async def click(self, item: dict[str, str]) -> None:
        self.number += 1
        await self.send(menu_click(7000 + self.number, item))

    async def sees(self, fragment: str) -> dict[str, Any]:
        return await sees(self.fake, fragment)


def items(menu: dict[str, Any]) -> list[dict[str, str]]:
    assert menu["msgtype"] == "msgmenu", menu
    return list(menu["msgmenu"]["list"])


@pytest.mark.parametrize(
    ("faq", "hours", "problem", "check", "no", "light"),
    [
        (
            "what are your opening hours?",
            "10:00–21:00",
            "my phone won't turn on",
            "power button",
            "No",
            "charging light",
        ),
        ("你们几点开门？", "10:00–21:00", "我的手机开不了机", "长按电源键", "否", "充电"),
    ],
    ids=["en", "zh"],
)
@pytest.mark.parametrize("safe", [False, True], ids=["plaintext", "safe-mode"])
async def test_the_demo_bot_greets_answers_an_faq_and_a_flow_through_msgmenu(
    aiohttp_client: Any,
    tmp_path: Path,
    fake: FakeWeChatApi,
    action_server: Any,
    safe: bool,
    faq: str,
    hours: str,
    problem: str,
    check: str,
    no: str,
    light: str,
) -> None:
    bot = demo_engine(action_endpoint=action_server.url)
    app = wechat_app(tmp_path, fake, bot=bot, safe=safe)
    customer = Customer(await aiohttp_client(app), fake, safe)
    await customer.send(event("subscribe"))
    await customer.sees("Frontdesk assistant")
    await customer.say(faq)
    await customer.sees(hours)
    await customer.say(problem)
    question = await customer.sees(check)
    choice = next(i for i in items(question) if i["content"] in (no, "否", "不是", "No"))
    await customer.click(choice)
    await customer.sees(light)
    # The click was read by its menu id: the bot got the button's payload, not its title.
    events = await hub_of(app).store.events(
        (await hub_of(app).latest_conversation(CUSTOMER)).id,  # type: ignore[union-attr]
        limit=1000,
    )
    asked = [e for e in events if e.type == "message.out" and e.data["outbound"]["buttons"]]
    payloads = {b["payload"] for e in asked for b in e.data["outbound"]["buttons"]}
    clicked = [e.data["text"] for e in events if e.type == "message.in"][-1]
    assert clicked in payloads and clicked != choice["content"]


async def test_a_parametric_qr_code_opens_the_flow_it_names(
    aiohttp_client: Any, tmp_path: Path, fake: FakeWeChatApi, action_server: Any
) -> None:
    bot = demo_engine(action_endpoint=action_server.url)
    customer = Customer(await aiohttp_client(wechat_app(tmp_path, fake, bot=bot)), fake, False)
    await customer.send(event("subscribe", "qrscene_order_status"))
    await customer.sees("order number")


@pytest.mark.parametrize("say", HAND_OFF, ids=["en", "zh"])
async def test_hand_off_agent_reply_and_csat_through_msgmenu(
    aiohttp_client: Any,
    tmp_path: Path,
    fake: FakeWeChatApi,
    say: dict[str, str],
) -> None:
    handoff = handoff_yaml(tmp_path, feedback={"comment_window": 0})
    app = wechat_app(tmp_path, fake, bot=TinyBot(), handoff=handoff)
    client = await aiohttp_client(app)
    customer = Customer(client, fake, False)
    await client.put(f"{H}/agents/sue/presence", json={"presence": "online"}, headers=api_auth())

    await customer.say(say["broken"])
    await customer.say(say["person"])
    conversation = await agent_answers(client, customer, say, identity=CUSTOMER)
    rating = await customer.sees(say["csat"])
    lines = items(rating)
    assert [line["content"] for line in lines] == ["1", "2", "3", "4", "5"]
    await customer.click(lines[-1])
    await customer.sees(say["thanks"])
    events = await hub_of(app).store.events(conversation, limit=1000)
    assert [e.data["score"] for e in events if e.type == "csat.answered"] == [5]


@pytest.mark.parametrize("say", WHOLE_JOURNEY, ids=["en", "zh"])
async def test_the_demo_bot_end_to_end_faq_flow_hand_off_agent_reply_and_csat(
    aiohttp_client: Any,
    tmp_path: Path,
    fake: FakeWeChatApi,
    action_server: Any,
    say: dict[str, str],
) -> None:
    bot, handoff = journey_bot_and_handoff(tmp_path, action_server.url)
    app = wechat_app(tmp_path, fake, bot=bot, handoff=handoff)
    client = await aiohttp_client(app)
    customer = Customer(client, fake, False)
    await customer.say(say["faq"])
    await customer.sees("10:00–21:00")
    await customer.say(say["problem"])
    question = await customer.sees(say["check"])
    await customer.click(next(i for i in items(question) if i["content"] in ("No", "否", "不是")))
    await customer.sees(say["light"])
    await customer.say(say["person"])
    conversation = await agent_answers(client, customer, say, identity=CUSTOMER)
    rating = await customer.sees(say["csat"])
    await customer.click(items(rating)[3])
    await customer.sees(say["thanks"])
    events = await hub_of(app).store.events(conversation, limit=1000)
    assert [e.data["score"] for e in events if e.type == "csat.answered"] == [4]
    requested = [e.data for e in events if e.type == "handoff.requested"]
    assert len(requested) == 1 and requested[0]["skill"] == "general"
