"""An agent's steps through the hand-off REST API, for the channels' end-to-end journeys
(WhatsApp, WeChat …): come online and take the customer's waiting conversation, then act
on it (reply, resolve); and what a customer says and sees on the demo bot's whole journey
(FAQ, a flow's choice, hand-off, the agent's reply, CSAT) in English and Chinese."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp.test_utils import TestClient

from hub.api import HUB
from tests.support import api_auth

H = "/api/v1/handoff"


async def accept(client: TestClient[Any, Any], agent: str, identity: str) -> str:
    """The agent comes online and takes the waiting conversation of `identity`."""
    auth = api_auth()
    await client.put(f"{H}/agents/{agent}/presence", json={"presence": "online"}, headers=auth)
    conversation = await client.app[HUB].latest_conversation(identity)
    assert conversation is not None
    for _ in range(3000):
        queue = await (await client.get(f"{H}/queue", headers=auth)).json()
        if any(t["conversation_id"] == conversation.id for t in queue["assigned"]):
            break
        await asyncio.sleep(0.01)
    url = f"{H}/conversations/{conversation.id}/accept"
    response = await client.post(url, json={"agent_id": agent}, headers=auth)
    assert response.status == 200, await response.text()
    return str(conversation.id)


async def act(client: TestClient[Any, Any], conversation: str, verb: str, body: Any) -> None:
    url = f"{H}/conversations/{conversation}/{verb}"
    response = await client.post(url, json=body, headers=api_auth())
    assert response.status == 200, await response.text()


# Agents who take the demo bot's hand-offs (its "talk to a person" flow asks for "general").
DEMO_AGENTS = [
    {"id": "ana", "name": "Ana", "skills": ["general"], "languages": ["en"]},
    {"id": "bo", "name": "Bo", "skills": ["general"], "languages": ["en", "zh"]},
]
# en, zh: the FAQ, the flow and its "No" choice, then the hand-off, the agent and the CSAT.
WHOLE_JOURNEY = [
    {
        "agent": "ana",
        "faq": "what are your opening hours?",
        "problem": "my phone won't turn on",
        "check": "power button",
        "light": "charging light",
        "person": "talk to a person",
        "queued": "passing you to one of our support team",
        "joined": "Ana from our team has joined",
        "answer": "Please try the reset button.",
        "csat": "How satisfied",
        "thanks": "Thank you for your feedback",
    },
    {
        "agent": "bo",
        "faq": "你们几点开门？",
        "problem": "我的手机开不了机",
        "check": "长按电源键",
        "light": "充电",
        "person": "转人工",
        "queued": "正在为您转接客服专员",
        "joined": "客服 Bo 已接入",
        "answer": "请按一下复位键。",
        "csat": "您对本次服务满意吗",
        "thanks": "感谢您的评价",
    },
]


__all__ = ["DEMO_AGENTS", "WHOLE_JOURNEY", "H", "accept", "act"]
