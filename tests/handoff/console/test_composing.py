"""The workspace's typing route and the live feed's typing and mention hints, on the real
hub with the real hand-off engine (the api channel stands in for the customer's side)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from aiohttp import WSMsgType
from aiohttp.test_utils import TestClient

from handoff.console.accounts import Role
from hub.api import HUB
from tests.handoff.console.helpers import console_app, handoff_env, login, seed_sqlite, wait_until
from tests.handoff.console.test_workspace import customer_says, snapshot

ASKS = [
    pytest.param("I want to talk to a person", "@tom please look at the refund", id="en"),
    pytest.param("转人工", "请@tom看一下退款", id="zh"),
]


async def accepted_by_mei(client: TestClient[Any, Any], ask: str) -> tuple[str, dict[str, str]]:
    conversation_id = await customer_says(client, ask, "m1")
    csrf = await login(client, "mei")
    headers = {"X-CSRF-Token": csrf}
    assert (
        await client.post("/console/api/presence", json={"presence": "online"}, headers=headers)
    ).status == 200

    async def offered() -> bool:
        mine = (await snapshot(client, csrf))["mine"]
        return [t["conversation_id"] for t in mine] == [conversation_id]

    await wait_until(offered)
    base = f"/console/api/conversations/{conversation_id}"
    assert (await client.post(base + "/accept", headers=headers)).status == 200
    return conversation_id, headers


async def feed_until(ws: Any, predicate: Any) -> dict[str, Any]:
    async def read() -> dict[str, Any]:
        while True:
            message = await ws.receive()
            assert message.type == WSMsgType.TEXT
            hint: dict[str, Any] = message.json()
            if predicate(hint):
                return hint

    return await asyncio.wait_for(read(), 10)


@pytest.mark.parametrize(("ask", "note"), ASKS)
async def test_typing_route_refusals_and_hints(
    tmp_path: Path, aiohttp_client: Any, ask: str, note: str
) -> None:
    await seed_sqlite(tmp_path, ("mei", Role.AGENT), ("tom", Role.AGENT))
    app = console_app(handoff_env(tmp_path))
    client: TestClient[Any, Any] = await aiohttp_client(app)
    hub = app[HUB]
    conversation_id, headers = await accepted_by_mei(client, ask)
    typing = f"/console/api/conversations/{conversation_id}/typing"
    view = f"/console/api/conversations/{conversation_id}"
    # Another agent does not see Mei's conversation … (his live socket stays open)
    await login(client, "tom")
    assert (await client.get(view)).status == 404
    toms_feed = await client.ws_connect("/console/ws")
    headers = {"X-CSRF-Token": await login(client, "mei")}

    # The api channel cannot show typing: accepted, and nothing went out.
    response = await client.post(typing, json={"on": True}, headers=headers)
    assert response.status == 200
    assert await response.json() == {"ok": True, "sent": False}
    bad = await client.post(typing, json={"on": "yes"}, headers=headers)
    assert bad.status == 422 and "'on'" in (await bad.json())["error"]["message"]
    assert (await client.post(typing, json={"on": True})).status == 403  # no CSRF token
    unknown = "/console/api/conversations/nope/typing"
    assert (await client.post(unknown, json={"on": True}, headers=headers)).status == 404

    async with client.ws_connect("/console/ws") as ws:
        await feed_until(ws, lambda h: h["type"] == "hello")
        # The customer types: a hint with ids only.
        hub.customer_typing(conversation_id)
        hint = await feed_until(ws, lambda h: h["type"] == "typing")
        assert hint == {
            "type": "typing",
            "conversation_id": conversation_id,
            "side": "customer",
            "on": True,
        }
        # A note mentioning Tom: the hint names him and the author, never the text.
        response = await client.post(
            f"/console/api/conversations/{conversation_id}/note",
            json={"text": note},
            headers=headers,
        )
        assert response.status == 200
        hint = await feed_until(ws, lambda h: h.get("event") == "handoff.note")
        assert (hint["mentions"], hint["by"]) == (["tom"], "mei")
        assert "text" not in hint
    # Tom's socket had the note's hint, but no typing of a conversation he does not hold.
    seen: list[dict[str, Any]] = []

    def note_hint(hint: dict[str, Any]) -> bool:
        seen.append(hint)
        return hint.get("event") == "handoff.note"

    await feed_until(toms_feed, note_hint)
    assert seen[-1]["mentions"] == ["tom"]
    assert [h for h in seen if h["type"] == "typing"] == []
    await toms_feed.close()

    # … until she mentions him: now he may read it.
    tom = await login(client, "tom")
    shown = await client.get(view)
    assert shown.status == 200
    notes = [i for i in (await shown.json())["timeline"] if i["who"] == "note"]
    assert notes[-1]["text"] == note
    # … but reading is all: he does not hold it, so his typing signals nothing.
    response = await client.post(typing, json={"on": True}, headers={"X-CSRF-Token": tom})
    assert await response.json() == {"ok": True, "sent": False}
