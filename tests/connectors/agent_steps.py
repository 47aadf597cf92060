"""An agent's steps through the hand-off REST API, for the channels' end-to-end journeys
(SMS, WhatsApp, WeChat …): come online and take the customer's waiting conversation, then
act on it (reply, resolve); what a customer says and sees on the demo bot's whole journey
(FAQ, a flow's choice, hand-off, the agent's reply, CSAT) in English and Chinese; and the
customer's conversation log, read or waited for."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from aiohttp import web
from aiohttp.test_utils import TestClient

from dialogs.engine import DialogEngine
from hub.api import HUB
from hub.model import Event
from tests.dialogs.talk import demo_engine
from tests.handoff.helpers import handoff_yaml
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


class Customer(Protocol):
    """A channel's customer in a journey test: says things, waits to see what comes back."""

    async def say(self, words: str) -> None: ...

    async def sees(self, fragment: str) -> Any: ...


async def agent_answers(
    client: TestClient[Any, Any], customer: Customer, say: Mapping[str, str], *, identity: str
) -> str:
    """After the customer asked for a person: they see they are queued; the journey's
    agent takes the conversation of `identity` (they see the agent join), replies (they
    see the answer) and resolves it. `say` is a journey's lines (`HAND_OFF`,
    `WHOLE_JOURNEY`). The conversation's id."""
    agent = say["agent"]
    await customer.sees(say["queued"])
    conversation = await accept(client, agent, identity)
    await customer.sees(say["joined"])
    await act(client, conversation, "reply", {"agent_id": agent, "text": say["answer"]})
    await customer.sees(say["answer"])
    await act(client, conversation, "resolve", {"agent_id": agent})
    return conversation


async def events_of(app: web.Application, identity: str) -> list[Event]:
    """Everything logged in the latest conversation of `identity`."""
    conversation = await app[HUB].latest_conversation(identity)
    assert conversation is not None
    return await app[HUB].store.events(conversation.id, limit=1000)


async def wait_for_events(
    app: web.Application, identity: str, event_type: str, count: int = 1
) -> list[Event]:
    """Until the latest conversation of `identity` logged `count` events of `event_type`."""

    async def arrived() -> list[Event]:
        while True:
            events = await events_of(app, identity)
            if sum(e.type == event_type for e in events) >= count:
                return events
            await asyncio.sleep(0.02)

    return await asyncio.wait_for(arrived(), 30)


# Agents who take the demo bot's hand-offs (its "talk to a person" flow asks for "general").
DEMO_AGENTS = [
    {"id": "ana", "name": "Ana", "skills": ["general"], "languages": ["en"]},
    {"id": "bo", "name": "Bo", "skills": ["general"], "languages": ["en", "zh"]},
]


def journey_bot_and_handoff(tmp_path: Path, action_endpoint: str) -> tuple[DialogEngine, Path]:
    """The demo bot on the real action server, and a hand-off file with `DEMO_AGENTS` and
    no comment window (the CSAT answer ends the journey)."""
    bot = demo_engine(action_endpoint=action_endpoint)
    handoff = handoff_yaml(tmp_path, agents=DEMO_AGENTS, feedback={"comment_window": 0})
    return bot, handoff


# en, zh: the FAQ, the flow and its "No" choice, then the hand-off, the agent and the CSAT.
WHOLE_JOURNEY = [
    {
        "agent": "ana",
        "faq": "what are your opening hours?",
        "problem": "my phone won't turn on",
        "check": "power button",
        "light": "charging light",
        "person": "talk to a person",
        "queued": "Leave your message here",  # nobody is online yet
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
        "queued": "请直接留言",
        "joined": "客服 Bo 已接入",
        "answer": "请按一下复位键。",
        "csat": "您对本次服务满意吗",
        "thanks": "感谢您的评价",
    },
]

# en, zh: a customer whose problem the bot cannot solve asks for a person; an agent
# answers and resolves; the CSAT question and its thanks.
HAND_OFF = [
    {
        "agent": "ana",
        "broken": "my router is dead",
        "person": "router still dead, talk to a person",
        "queued": "passing you to a person",
        "joined": "Ana from our team has joined",
        "answer": "Please try the reset button.",
        "csat": "How satisfied",
        "thanks": "Thank you for your feedback",
    },
    {
        "agent": "bo",
        "broken": "路由器坏了",
        "person": "路由器还是不行，转人工",
        "queued": "正在为您转接人工客服",
        "joined": "客服 Bo 已接入",
        "answer": "请按一下复位键。",
        "csat": "您对本次服务满意吗",
        "thanks": "感谢您的评价",
    },
]


__all__ = [
    "DEMO_AGENTS",
    "HAND_OFF",
    "WHOLE_JOURNEY",
    "Customer",
    "H",
    "accept",
    "act",
    "agent_answers",
    "events_of",
    "wait_for_events",
]
