"""STOP / START / HELP as carriers require, in English and Chinese: STOP opts the number out
(recorded on the customer and in the conversation; replies for it are parked with the
reason, never sent), START opts back in, HELP is answered at once with the configured
text. The bot answers none of them, and "yes" reaches the bot unless the number is opted
out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from connectors.sms.connector import OPTED_OUT
from hub.echo import EchoBot
from hub.model import Outbound
from tests.connectors.sms.fake_twilio import FakeTwilio
from tests.connectors.sms.harness import (
    IDENTITY,
    NUMBER,
    all_events,
    connector_of,
    hub_of,
    incoming,
    post,
    sms_app,
    status,
    wait_for_event,
)
from tests.support import api_auth

LANGUAGES = {
    "en": {
        "stop": "STOP",
        "start": "Start",
        "help": "help",
        "hello": "hello",
        "help_text": "Reply STOP",
    },
    "zh": {
        "stop": "退订",
        "start": "订阅",
        "help": "幫助",
        "hello": "你好",
        "help_text": "回复 退订",
    },
}


@pytest.fixture
async def client(aiohttp_client: Any, tmp_path: Path, fake: FakeTwilio) -> Any:
    return await aiohttp_client(sms_app(tmp_path, fake, bot=EchoBot()))


async def opted_out_attribute(client: Any) -> Any:
    customer = await hub_of(client.app).store.find_customer(IDENTITY)
    assert customer is not None
    return customer.attributes.get(OPTED_OUT)


@pytest.mark.parametrize("language", ["en", "zh"])
async def test_stop_opts_out_replies_are_parked_and_start_opts_back_in(
    client: Any, fake: FakeTwilio, language: str
) -> None:
    words = LANGUAGES[language]
    await post(client, incoming(words["hello"]))
    await fake.wait_for("messages")
    code, answer = await post(client, incoming(words["stop"]))
    assert code == 200 and "<Message>" not in answer  # Twilio confirms STOP itself
    assert await opted_out_attribute(client)
    events = await all_events(client.app)
    assert [e.data["keyword"] for e in events if e.type == "sms.opted_out"] == ["stop"]
    # Recorded, never answered by the bot.
    assert [e.data["text"] for e in events if e.type == "message.noticed"] == [words["stop"]]

    # Anything for the number now is parked, visibly, with the reason.
    conversation = await hub_of(client.app).latest_conversation(IDENTITY)
    assert conversation is not None
    await hub_of(client.app).send(conversation.id, [Outbound(text="Your order shipped")])
    parked = await wait_for_event(client.app, "delivery.parked")
    reason = next(e for e in parked if e.type == "delivery.parked").data["error"]
    assert "opted out (STOP)" in reason and "START" in reason
    dead = await client.get("/api/v1/deliveries/parked", headers=api_auth())
    assert dead.status == 200 and NUMBER in await dead.text()
    assert len(fake.called("messages")) == 1

    # A message while opted out is stored, and the bot's answer is parked too.
    await post(client, incoming(words["hello"]))
    await wait_for_event(client.app, "delivery.parked", 2)
    assert len(fake.called("messages")) == 1

    code, answer = await post(client, incoming(words["start"]))
    assert code == 200 and "<Message>" not in answer
    assert not await opted_out_attribute(client)
    assert [e.type for e in await all_events(client.app) if e.type.startswith("sms.opted")] == [
        "sms.opted_out",
        "sms.opted_in",
    ]
    await post(client, incoming(words["hello"]))
    await fake.wait_for("messages", 2)
    assert words["hello"] in fake.texts(NUMBER)[-1]


@pytest.mark.parametrize("language", ["en", "zh"])
async def test_help_is_answered_at_once_with_the_configured_text(
    client: Any, fake: FakeTwilio, language: str
) -> None:
    words = LANGUAGES[language]
    code, answer = await post(client, incoming(words["help"]))
    assert code == 200
    assert "<Message>" in answer and words["help_text"] in answer
    events = await all_events(client.app)
    assert [e.data["keyword"] for e in events if e.type == "sms.help_answered"] == ["help"]
    # The bot was not asked: the next message's answer is the only one sent.
    await post(client, incoming(words["hello"]))
    await wait_for_event(client.app, "delivery.delivered")
    (answer,) = fake.texts(NUMBER)
    assert words["hello"] in answer


async def test_the_help_text_is_configurable_and_escaped(
    aiohttp_client: Any, tmp_path: Path, fake: FakeTwilio
) -> None:
    help_text = {"en": "Acme <support> & returns: call 555-0100", "zh": "客服热线 555-0100"}
    client = await aiohttp_client(sms_app(tmp_path, fake, bot=EchoBot(), help_text=help_text))
    _, answer = await post(client, incoming("HELP"))
    assert "Acme &lt;support&gt; &amp; returns" in answer


@pytest.mark.parametrize("words", ["yes", "Start"])
async def test_start_words_reach_the_bot_when_the_number_is_not_opted_out(
    client: Any, fake: FakeTwilio, words: str
) -> None:
    await post(client, incoming(words))
    await fake.wait_for("messages")
    (answer,) = fake.texts(NUMBER)
    assert words in answer
    assert not [e for e in await all_events(client.app) if e.type.startswith("sms.")]


async def test_twilio_saying_the_number_unsubscribed_records_the_opt_out(
    client: Any, fake: FakeTwilio
) -> None:
    fake.unsubscribed.add(NUMBER)  # a STOP that reached Twilio but not us
    await post(client, incoming("hello"))
    parked = await wait_for_event(client.app, "delivery.parked")
    assert "21610" in next(e for e in parked if e.type == "delivery.parked").data["error"]
    assert await opted_out_attribute(client)
    assert await connector_of(client.app).opted_out(NUMBER) is not None


async def test_a_status_saying_21610_records_the_opt_out(client: Any, fake: FakeTwilio) -> None:
    await post(client, incoming("hello"))
    events = await wait_for_event(client.app, "delivery.delivered")
    (sid,) = next(e for e in events if e.type == "delivery.delivered").data["receipt"][
        "message_ids"
    ]
    assert not await opted_out_attribute(client)
    assert await status(client, sid, "undelivered", error="21610") == 200
    assert await opted_out_attribute(client)
