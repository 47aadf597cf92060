"""The generic journey through the api channel and the hand-off API, on a real server:
customer asks for a person → agent accepts and sees the summary → replies → customer gets it
→ resolve → CSAT answered; the live feed sees it all; bad requests get precise 4xx."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import WSMsgType
from aiohttp.test_utils import TestClient

from hub.app import create_app
from hub.config import load_config
from tests.handoff.helpers import TinyBot, api_channel_config, handoff_yaml
from tests.support import CallbackReceiver, api_auth, channel_auth, hub_env

H = "/api/v1/handoff"


@pytest.fixture
async def receiver() -> AsyncIterator[CallbackReceiver]:
    server = CallbackReceiver()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def client(aiohttp_client, tmp_path: Path, receiver: CallbackReceiver) -> TestClient:
    bot = {"kind": "echo", "handoff_path": str(handoff_yaml(tmp_path))}
    path = api_channel_config(tmp_path, bot=bot, callback_url=receiver.url)
    env = hub_env(tmp_path)
    return await aiohttp_client(create_app(load_config(path, env), environ=env, bot=TinyBot()))


async def customer_says(client: TestClient, number: int, text: str) -> str:
    response = await client.post(
        "/api/v1/channels/api/messages",
        json={"id": f"msg-{number}", "sender": "ana", "text": text},
        headers=channel_auth(),
    )
    assert response.status in (200, 201, 202), await response.text()
    body: dict[str, Any] = await response.json()
    return str(body["conversation_id"])


async def call(client: TestClient, method: str, path: str, body: Any = None) -> Any:
    response = await client.request(method, f"{H}{path}", json=body, headers=api_auth())
    assert response.status < 300, await response.text()
    return await response.json()


async def texts_until(receiver: CallbackReceiver, fragment: str) -> list[str]:
    count = len(receiver.received)
    while not any(fragment in r["text"] for r in receiver.received):
        count += 1
        await receiver.wait_for(count)
    return [r["text"] for r in receiver.received]


async def test_generic_journey(client: TestClient, receiver: CallbackReceiver) -> None:
    feed = await client.ws_connect(f"{H}/feed", headers=api_auth())
    assert (await feed.receive_json(timeout=10))["type"] == "hello"

    # Sue is online but has no hardware skill: the customer waits in the queue.
    await call(client, "PUT", "/agents/sue/presence", {"presence": "online"})
    await customer_says(client, 1, "my router keeps dropping the connection")
    await texts_until(receiver, "restarting")
    conversation_id = await customer_says(client, 2, "I restarted it twice, order 55821")
    conversation_id = await customer_says(client, 3, "router still dead, let me talk to a person")
    texts = await texts_until(receiver, "number 1 in the queue")
    assert "Leave your message" not in texts[-1]

    queue = await call(client, "GET", "/queue")
    assert [t["conversation_id"] for t in queue["waiting"]] == [conversation_id]
    assert queue["waiting"][0]["skill"] == "hardware"

    await customer_says(client, 4, "hello? anyone there?")  # kept for the agent, not answered
    await call(client, "PUT", "/agents/ana/presence", {"presence": "online"})
    details = await call(
        client, "POST", f"/conversations/{conversation_id}/accept", {"agent_id": "ana"}
    )
    summary = details["summary"]
    assert summary["what"]["intent"] == "router"
    assert summary["what"]["reasons"][0] == "human_request"
    assert "I restarted it twice, order 55821" in summary["key_sentences"]
    assert summary["channel"] == "api" and summary["who"]["channels"] == ["api"]
    assert "Why: human_request" in details["summary_text"]
    customer_lines = [m["text"] for m in details["transcript"] if m["from"] == "customer"]
    assert customer_lines[-1] == "hello? anyone there?"
    await texts_until(receiver, "Ana from our team has joined")

    await call(
        client,
        "POST",
        f"/conversations/{conversation_id}/reply",
        {"agent_id": "ana", "text": "Hi, I'm Ana. Let's check the cable <first>."},
    )
    await texts_until(receiver, "Let's check the cable <first>.")
    await call(
        client,
        "POST",
        f"/conversations/{conversation_id}/note",
        {"agent_id": "ana", "text": "secret"},
    )
    await call(client, "POST", f"/conversations/{conversation_id}/resolve", {"agent_id": "ana"})
    await texts_until(receiver, "How satisfied")
    assert [b["payload"] for b in receiver.received[-1]["buttons"]][:1] == ["/csat 1"]
    await customer_says(client, 5, "/csat 5")
    await texts_until(receiver, "Thank you for your feedback")
    assert not any("secret" in r["text"] for r in receiver.received)

    events = await client.get(
        f"/api/v1/conversations/{conversation_id}/events?limit=1000", headers=api_auth()
    )
    kinds = [e["type"] for e in (await events.json())["items"]]
    for kind in (
        "handoff.requested",
        "handoff.offered",
        "handoff.accepted",
        "handoff.note",
        "handoff.resolved",
        "csat.asked",
        "csat.answered",
    ):
        assert kind in kinds, kind

    seen: list[str] = []
    while "csat.answered" not in seen:
        message = await feed.receive(timeout=10)
        assert message.type == WSMsgType.TEXT
        frame = json.loads(message.data)
        if frame["type"] == "conversation.event":
            seen.append(frame["event"]["type"])
    assert "handoff.accepted" in seen and "message.in" in seen
    await feed.close()


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "message"),
    [
        ("PUT", "/agents/ana/presence", {"presence": "busy"}, 422, "must be one of online"),
        ("PUT", "/agents/nobody/presence", {"presence": "online"}, 404, "no agent 'nobody'"),
        ("POST", "/conversations/nope/accept", {"agent_id": "ana"}, 404, "no open hand-off"),
        ("POST", "/conversations/nope/accept", {}, 422, "field 'agent_id' is required"),
        ("POST", "/conversations/nope/reply", [1], 422, "must be a JSON object"),
        ("POST", "/agents", {"id": "x y"}, 422, "agent.id"),
        ("POST", "/agents", {"id": "zed", "languages": ["fr"]}, 422, "languages"),
    ],
)
async def test_bad_requests_get_precise_errors(client, method, path, body, status, message) -> None:
    response = await client.request(method, f"{H}{path}", json=body, headers=api_auth())
    assert response.status == status
    assert message in (await response.json())["error"]["message"]


async def test_api_and_feed_need_the_token(client: TestClient) -> None:
    assert (await client.get(f"{H}/queue")).status == 401
    response = await client.get(f"{H}/feed", headers={"Authorization": "Bearer wrong"})
    assert response.status == 401
    response = await client.get(f"{H}/feed")
    assert response.status == 401
    response = await client.get(f"{H}/feed?token=test-api-token")
    assert response.status == 400  # secrets never travel in URLs


async def test_agents_can_be_added_by_api(client: TestClient) -> None:
    zed = {"id": "zed", "name": "Zed", "skills": ["billing"], "languages": ["zh"]}
    response = await client.post(f"{H}/agents", json=zed, headers=api_auth())
    assert response.status == 201, await response.text()  # a new agent
    created = await response.json()
    assert created["presence"] == "offline" and created["languages"] == ["zh"]
    listed = await call(client, "GET", "/agents")
    assert "zed" in [a["id"] for a in listed["items"]]
    # The same id again changes that agent: 200, not another 201.
    response = await client.post(f"{H}/agents", json={**zed, "name": "泽德"}, headers=api_auth())
    assert response.status == 200, await response.text()
    assert (await response.json())["name"] == "泽德"
