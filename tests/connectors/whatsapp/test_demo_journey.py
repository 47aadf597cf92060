"""The demo bot and the human hand-off on WhatsApp, end to end through the fake Graph API,
in English and in Chinese: an FAQ, a flow answered with reply buttons, a hand-off, an
agent's reply, the CSAT question as a list, and — once the 24-hour window has closed — the
agent's reply and the CSAT question carried by their approved templates."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.connectors.agent_steps import (
    HAND_OFF,
    WHOLE_JOURNEY,
    H,
    accept,
    act,
    agent_answers,
    journey_bot_and_handoff,
)
from tests.connectors.whatsapp.fake_graph import FakeGraphApi, choices_of
from tests.connectors.whatsapp.harness import (
    NUMBER,
    all_events,
    connector_of,
    hub_of,
    post,
    reply,
    text,
    whatsapp_app,
)
from tests.dialogs.talk import demo_engine
from tests.handoff.helpers import TinyBot, handoff_yaml
from tests.support import api_auth


class Customer:
    """Sheena on WhatsApp: says things and waits to see what comes back."""

    def __init__(self, client: TestClient[Any, Any], fake: FakeGraphApi) -> None:
        self.client, self.fake, self.number = client, fake, 0

    async def say(self, words: str) -> None:
        self.number += 1
        assert await post(self.client, text(self.number, words)) == 200

    async def choose(self, choice: dict[str, str], kind: str = "button_reply") -> None:
        self.number += 1
        assert await post(self.client, reply(self.number, choice, kind=kind)) == 200

    async def sees(self, fragment: str) -> dict[str, Any]:
        """The newest message showing `fragment`, once it has arrived."""
        for _ in range(3000):
            for message in reversed(self.fake.sent.get(NUMBER, [])):
                if fragment in self.fake.texts(NUMBER)[self.fake.sent[NUMBER].index(message)]:
                    return message
            await asyncio.sleep(0.01)
        raise AssertionError(f"{fragment!r} never shown; saw {self.fake.texts(NUMBER)}")


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
)
async def test_the_demo_bot_answers_an_faq_and_a_flow_with_reply_buttons(
    aiohttp_client: Any,
    tmp_path: Path,
    fake: FakeGraphApi,
    action_server: Any,
    faq: str,
    hours: str,
    problem: str,
    check: str,
    no: str,
    light: str,
) -> None:
    bot = demo_engine(action_endpoint=action_server.url)
    customer = Customer(await aiohttp_client(whatsapp_app(tmp_path, fake, bot=bot)), fake)
    await customer.say(faq)
    await customer.sees(hours)
    await customer.say(problem)
    question = await customer.sees(check)
    assert question["type"] == "interactive" and question["interactive"]["type"] == "button"
    choice = next(c for c in choices_of(question) if c["title"] in (no, "否", "不是", "No"))
    await customer.choose(choice)
    await customer.sees(light)


# The hand-off journey, with the language code WhatsApp's templates are sent in.
@pytest.mark.parametrize(
    "say", [{**HAND_OFF[0], "code": "en"}, {**HAND_OFF[1], "code": "zh_CN"}], ids=["en", "zh"]
)
async def test_hand_off_agent_reply_csat_and_templates_after_the_24_hour_window(
    aiohttp_client: Any,
    tmp_path: Path,
    fake: FakeGraphApi,
    say: dict[str, str],
) -> None:
    # No comment window after the rating: the customer's next words are a new request.
    handoff = handoff_yaml(tmp_path, feedback={"comment_window": 0})
    app = whatsapp_app(tmp_path, fake, bot=TinyBot(), handoff=handoff)
    client = await aiohttp_client(app)
    customer = Customer(client, fake)
    # Sue is online but lacks the skill: the team is open, the customer waits in the queue.
    sue = {"presence": "online"}
    await client.put(f"{H}/agents/sue/presence", json=sue, headers=api_auth())

    # Within the window: free text, and the 1–5 rating as a list message.
    await customer.say(say["broken"])
    await customer.say(say["person"])
    conversation = await agent_answers(client, customer, say, identity=f"whatsapp:{NUMBER}")
    rating = await customer.sees(say["csat"])
    assert rating["interactive"]["type"] == "list"
    rows = choices_of(rating)
    assert [r["title"] for r in rows] == ["1", "2", "3", "4", "5"]
    await customer.choose(rows[4], kind="list_reply")
    await customer.sees(say["thanks"])
    events = await hub_of(app).store.events(conversation, limit=1000)
    assert [e.data["score"] for e in events if e.type == "csat.answered"] == [5]

    # A day later the customer is back; the agent answers after the window has closed.
    agent, code = say["agent"], say["code"]
    await customer.say(say["person"])
    second = await accept(client, agent, f"whatsapp:{NUMBER}")
    connector_of(app).clock = lambda: time.time() + 25 * 3600
    late = f"{say['answer']} (2)"
    await act(client, second, "reply", {"agent_id": agent, "text": late})
    carried = await customer.sees(f"[frontdesk_agent_reply:{code}] {late}")
    assert carried["type"] == "template"
    await act(client, second, "resolve", {"agent_id": agent})
    await customer.sees(f"[frontdesk_csat:{code}]")
    # The "resolved" note has no template: it is parked, visibly, with the reason.
    for _ in range(3000):
        parked = [e for e in await all_events(app) if e.type == "delivery.parked"]
        if parked:
            break
        await asyncio.sleep(0.01)
    assert "24-hour window closed" in parked[0].data["error"]
    assert "templates.other" in parked[0].data["error"]


@pytest.mark.parametrize("say", WHOLE_JOURNEY, ids=["en", "zh"])
async def test_the_demo_bot_end_to_end_faq_flow_hand_off_agent_reply_and_csat(
    aiohttp_client: Any,
    tmp_path: Path,
    fake: FakeGraphApi,
    action_server: Any,
    say: dict[str, str],
) -> None:
    bot, handoff = journey_bot_and_handoff(tmp_path, action_server.url)
    app = whatsapp_app(tmp_path, fake, bot=bot, handoff=handoff)
    client = await aiohttp_client(app)
    customer = Customer(client, fake)
    await customer.say(say["faq"])
    await customer.sees("10:00–21:00")
    await customer.say(say["problem"])
    question = await customer.sees(say["check"])
    no = next(c for c in choices_of(question) if c["title"] in ("No", "否", "不是"))
    await customer.choose(no)
    await customer.sees(say["light"])
    await customer.say(say["person"])
    conversation = await agent_answers(client, customer, say, identity=f"whatsapp:{NUMBER}")
    rating = await customer.sees(say["csat"])
    await customer.choose(choices_of(rating)[3], kind="list_reply")
    await customer.sees(say["thanks"])
    events = await hub_of(app).store.events(conversation, limit=1000)
    assert [e.data["score"] for e in events if e.type == "csat.answered"] == [4]
    requested = [e.data for e in events if e.type == "handoff.requested"]
    assert len(requested) == 1 and requested[0]["skill"] == "general"
