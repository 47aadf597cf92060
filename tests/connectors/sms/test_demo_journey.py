"""The demo bot and the human hand-off over SMS, end to end through the fake Twilio, in
English and in Chinese: an FAQ, a flow whose choices arrive as a numbered list and are
answered by typing a number, a hand-off, an agent's reply and the CSAT question answered
with a typed rating."""

from __future__ import annotations

import asyncio
import re
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
from tests.connectors.sms.fake_twilio import FakeTwilio
from tests.connectors.sms.harness import IDENTITY, NUMBER, hub_of, incoming, post, sms_app
from tests.dialogs.talk import demo_engine
from tests.handoff.helpers import TinyBot, handoff_yaml
from tests.support import api_auth


class Customer:
    """A customer texting from their phone: says things and waits to see what comes back."""

    def __init__(self, client: TestClient[Any, Any], fake: FakeTwilio) -> None:
        self.client, self.fake = client, fake

    async def say(self, words: str) -> None:
        code, _ = await post(self.client, incoming(words))
        assert code == 200

    async def sees(self, fragment: str) -> str:
        """The newest SMS showing `fragment`, once it has arrived."""
        for _ in range(3000):
            for text in reversed(self.fake.texts(NUMBER)):
                if fragment in text:
                    return text
            await asyncio.sleep(0.01)
        raise AssertionError(f"{fragment!r} never shown; saw {self.fake.texts(NUMBER)}")


def numbered(text: str) -> dict[str, str]:
    """The choices of a numbered list: title → the number to type."""
    return {m.group(2).strip(): m.group(1) for m in re.finditer(r"^(\d+)\. (.+)$", text, re.M)}


@pytest.mark.parametrize(
    ("faq", "hours", "problem", "check", "no", "light", "hint"),
    [
        (
            "what are your opening hours?",
            "10:00",
            "my phone won't turn on",
            "power button",
            "No",
            "charging light",
            "Reply 1",
        ),
        ("你们几点开门？", "10:00", "我的手机开不了机", "长按电源键", "否", "充电", "请回复 1"),
    ],
)
async def test_the_demo_bot_answers_an_faq_and_a_flow_with_a_numbered_list(
    aiohttp_client: Any,
    tmp_path: Path,
    fake: FakeTwilio,
    action_server: Any,
    faq: str,
    hours: str,
    problem: str,
    check: str,
    no: str,
    light: str,
    hint: str,
) -> None:
    bot = demo_engine(action_endpoint=action_server.url)
    customer = Customer(await aiohttp_client(sms_app(tmp_path, fake, bot=bot)), fake)
    await customer.say(faq)
    await customer.sees(hours)
    await customer.say(problem)
    question = await customer.sees(check)
    assert hint in question
    choices = numbered(question)
    number = next(n for title, n in choices.items() if title in (no, "否", "不是", "No"))
    await customer.say(number)
    await customer.sees(light)


@pytest.mark.parametrize("say", HAND_OFF, ids=["en", "zh"])
async def test_hand_off_agent_reply_and_csat_over_sms(
    aiohttp_client: Any,
    tmp_path: Path,
    fake: FakeTwilio,
    say: dict[str, str],
) -> None:
    handoff = handoff_yaml(tmp_path, feedback={"comment_window": 0})
    app = sms_app(tmp_path, fake, bot=TinyBot(), handoff=handoff)
    client = await aiohttp_client(app)
    customer = Customer(client, fake)
    sue = {"presence": "online"}  # online but without the skill: the customer waits
    await client.put(f"{H}/agents/sue/presence", json=sue, headers=api_auth())

    await customer.say(say["broken"])
    await customer.say(say["person"])
    conversation = await agent_answers(client, customer, say, identity=IDENTITY)
    rating = await customer.sees(say["csat"])
    assert list(numbered(rating).values()) == ["1", "2", "3", "4", "5"]
    await customer.say("5")
    await customer.sees(say["thanks"])
    events = await hub_of(app).store.events(conversation, limit=1000)
    assert [e.data["score"] for e in events if e.type == "csat.answered"] == [5]
    # The typed "5" was mapped to the rating's choice on its way in.
    latest = await hub_of(app).latest_conversation(IDENTITY)
    assert latest is not None
    typed = [
        e.data
        for e in await hub_of(app).store.events(latest.id, limit=1000)
        if e.type == "message.in" and e.data["raw"].get("typed") == "5"
    ]
    assert len(typed) == 1 and typed[0]["text"] != "5"


@pytest.mark.parametrize("say", WHOLE_JOURNEY, ids=["en", "zh"])
async def test_the_demo_bot_end_to_end_faq_flow_hand_off_agent_reply_and_csat(
    aiohttp_client: Any,
    tmp_path: Path,
    fake: FakeTwilio,
    action_server: Any,
    say: dict[str, str],
) -> None:
    bot, handoff = journey_bot_and_handoff(tmp_path, action_server.url)
    app = sms_app(tmp_path, fake, bot=bot, handoff=handoff)
    client = await aiohttp_client(app)
    customer = Customer(client, fake)
    await customer.say(say["faq"])
    await customer.sees("10:00")
    await customer.say(say["problem"])
    question = await customer.sees(say["check"])
    await customer.say(
        next(n for title, n in numbered(question).items() if title in ("No", "否", "不是"))
    )
    await customer.sees(say["light"])
    await customer.say(say["person"])
    conversation = await agent_answers(client, customer, say, identity=IDENTITY)
    await customer.sees(say["csat"])
    await customer.say("4")
    await customer.sees(say["thanks"])
    events = await hub_of(app).store.events(conversation, limit=1000)
    assert [e.data["score"] for e in events if e.type == "csat.answered"] == [4]
    requested = [e.data for e in events if e.type == "handoff.requested"]
    assert len(requested) == 1 and requested[0]["skill"] == "general"
