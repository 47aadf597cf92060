"""A supervisor's whisper on a real channel path: a Telegram customer (through the fake Bot
API) talks to an agent; the supervisor whispers, joins and replies. Every message the Bot
API received is checked: the agent's and the supervisor's replies reach the customer, the
whisper never does — in English and in Chinese."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from hub.api import HUB
from tests.connectors.telegram.fake_bot_api import FakeBotApi
from tests.connectors.telegram.harness import CHAT, ready, secret_headers, text_update

# `fake`: the fake Bot API fixture of the hand-off journeys, shared rather than written again.
from tests.e2e.test_handoff_channels import (  # noqa: F401
    agent_takes_over,
    api,
    build_telegram,
    fake,
)
from tests.handoff.helpers import TinyBot

CASES = {
    "en": {
        "ask": "my router is dead, I want to talk to a person",
        "agent": "ana",
        "whisper": "Offer the 10% voucher, quietly",
        "reply": "Hello, Ana here.",
        "joined": "Sue here too, the team lead.",
    },
    "zh": {
        "ask": "路由器还是不行，转人工",
        "agent": "bo",
        "whisper": "可以悄悄给九折券",
        "reply": "您好，我是 Bo。",
        "joined": "我是主管 Sue。",
    },
}


@pytest.mark.parametrize("language", ["en", "zh"])
async def test_a_whisper_never_reaches_the_telegram_customer(
    aiohttp_client: Any,
    tmp_path: Path,
    fake: FakeBotApi,  # noqa: F811 - the imported fixture
    language: str,
) -> None:
    case = CASES[language]
    app = build_telegram(tmp_path, fake, TinyBot())
    client = await aiohttp_client(app)
    await ready(app)

    async def shown(fragment: str) -> None:
        for _ in range(1000):
            if any(fragment in t for t in fake.texts(CHAT)):
                return
            await asyncio.sleep(0.01)
        raise AssertionError(f"{fragment!r} never shown; saw {fake.texts(CHAT)}")

    response = await client.post(
        "/webhooks/telegram", json=text_update(1, case["ask"]), headers=secret_headers()
    )
    assert response.status == 200
    conversation = None
    for _ in range(1000):
        conversation = await app[HUB].latest_conversation(f"telegram:{CHAT}")
        if conversation is not None and conversation.status.value == "queued":
            break
        await asyncio.sleep(0.01)
    assert conversation is not None
    path = f"/conversations/{conversation.id}"
    await agent_takes_over(client, conversation.id, case["agent"])

    await api(client, "POST", f"{path}/whisper", {"supervisor_id": "sue", "text": case["whisper"]})
    await api(client, "POST", f"{path}/reply", {"agent_id": case["agent"], "text": case["reply"]})
    await shown(case["reply"])
    await api(client, "POST", f"{path}/join", {"supervisor_id": "sue"})
    await api(client, "POST", f"{path}/reply", {"agent_id": "sue", "text": case["joined"]})
    await shown(case["joined"])

    # Everything the Bot API was asked to send, in order: the whisper is not among it.
    sent = fake.texts(CHAT)
    assert not any(case["whisper"] in text for text in sent)
    assert sent.index(next(t for t in sent if case["reply"] in t)) < sent.index(
        next(t for t in sent if case["joined"] in t)
    )
    # It is in the log, for the agent it was meant for.
    events = await app[HUB].store.events(conversation.id, limit=1000)
    (whisper,) = [e for e in events if e.type == "handoff.whisper"]
    assert whisper.data["to_agent"] == case["agent"] and whisper.data["text"] == case["whisper"]
    outbound = [e.data["outbound"]["text"] for e in events if e.type == "message.out"]
    assert not any(case["whisper"] in text for text in outbound)
