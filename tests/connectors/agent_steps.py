"""An agent's steps through the hand-off REST API, for the channels' end-to-end journeys
(WhatsApp, WeChat …): come online and take the customer's waiting conversation, then act
on it (reply, resolve)."""

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


__all__ = ["H", "accept", "act"]
