"""An agent's shift through the console's JSON API and socket, on the real hub with the
real hand-off engine: queue, pick-up, summary, reply, note, transfer, resolve."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp import WSMsgType
from aiohttp.test_utils import TestClient

from handoff.console.accounts import Role
from hub.api import HUB
from tests.handoff.console.helpers import (
    config_with,
    console_app,
    handoff_env,
    login,
    seed_sqlite,
    wait_until,
)
from tests.support import channel_auth

XSS = '<img src=x onerror=alert(1)><script>alert("x")</script>'


async def customer_says(client: TestClient[Any, Any], text: str, message_id: str) -> str:
    response = await client.post(
        "/api/v1/channels/api/messages",
        json={"id": message_id, "sender": "ana", "text": text},
        headers=channel_auth(),
    )
    assert response.status == 202, await response.text()
    return str((await response.json())["conversation_id"])


async def snapshot(client: TestClient[Any, Any], csrf: str) -> dict[str, Any]:
    response = await client.get("/console/api/snapshot")
    assert response.status == 200
    return dict(await response.json())


async def test_an_agent_picks_up_replies_notes_transfers_and_a_supervisor_resolves(
    tmp_path: Path, aiohttp_client
) -> None:
    await seed_sqlite(tmp_path, ("mei", Role.AGENT), ("tom", Role.AGENT), ("sara", Role.SUPERVISOR))
    app = console_app(handoff_env(tmp_path))
    client: TestClient[Any, Any] = await aiohttp_client(app)
    store = app[HUB].store

    conversation_id = await customer_says(client, f"{XSS} I want to talk to a person", "m1")
    csrf = await login(client, "mei")
    queued = await snapshot(client, csrf)
    assert [t["conversation_id"] for t in queued["queue"]] == [conversation_id]
    assert queued["queue"][0]["sla"]["level"] == "ok" and "agents" not in queued

    headers = {"X-CSRF-Token": csrf}
    online = await client.post(
        "/console/api/presence", json={"presence": "online"}, headers=headers
    )
    assert online.status == 200

    async def offered() -> bool:
        return [t["conversation_id"] for t in (await snapshot(client, csrf))["mine"]] == [
            conversation_id
        ]

    await wait_until(offered)
    base = f"/console/api/conversations/{conversation_id}"
    assert (await client.post(base + "/accept", headers=headers)).status == 200

    view = await (await client.get(base)).json()
    assert view["summary"]["who"]["customer_id"] == view["profile"]["customer_id"]
    assert view["timeline"][0]["type"] in ("conversation.opened", "message.in")
    said = [i for i in view["timeline"] if i["type"] == "message.in"]
    assert said[0]["text"].startswith(XSS) and said[0]["channel"] == "api"  # data, as typed
    assert {c["name"] for c in view["canned"]} >= {"greeting", "closing"}
    greeting = next(c for c in view["canned"] if c["name"] == "greeting")
    assert "this is Mei" in greeting["text"]

    sent = await client.post(base + "/reply", json={"text": "Hi Ana, Mei here."}, headers=headers)
    assert sent.status == 200
    assert (await client.post(base + "/note", json={"text": "VIP?"}, headers=headers)).status == 200
    empty = await client.post(base + "/reply", json={"text": "  "}, headers=headers)
    assert empty.status == 422
    view = await (await client.get(base)).json()
    kinds = [(i["who"], i.get("text")) for i in view["timeline"]]
    assert ("agent", "Hi Ana, Mei here.") in kinds and ("note", "VIP?") in kinds

    # Tom, another agent, cannot see or act on Mei's conversation.
    await login(client, "tom")
    assert (await client.get(base)).status == 404
    csrf_tom = await login(client, "tom")
    taken = await client.post(
        base + "/reply", json={"text": "me too"}, headers={"X-CSRF-Token": csrf_tom}
    )
    assert taken.status == 404

    csrf = await login(client, "mei")
    moved = await client.post(
        base + "/transfer",
        json={"to_agent": "sara", "note": "supervisor please"},
        headers={"X-CSRF-Token": csrf},
    )
    assert moved.status == 200

    csrf_sara = await login(client, "sara")
    headers = {"X-CSRF-Token": csrf_sara}
    await client.post("/console/api/presence", json={"presence": "online"}, headers=headers)

    async def with_sara() -> bool:
        data = await snapshot(client, csrf_sara)
        return any(t["conversation_id"] == conversation_id for t in data["mine"])

    await wait_until(with_sara)
    floor = await snapshot(client, csrf_sara)
    assert {a["id"] for a in floor["agents"]} == {"mei", "tom", "sara"}
    assert (await client.post(base + "/accept", headers=headers)).status == 200
    assert (await client.post(base + "/resolve", json={}, headers=headers)).status == 200
    events = [e.type for e in await store.events(conversation_id, limit=500)]
    assert "handoff.resolved" in events and "csat.asked" in events
    assert (await client.get(base)).status == 404  # closed: no longer an open hand-off


async def test_the_socket_sends_hints_without_customer_text_and_refuses_other_sites(
    tmp_path: Path, aiohttp_client
) -> None:
    await seed_sqlite(tmp_path, ("mei", Role.AGENT))
    client: TestClient[Any, Any] = await aiohttp_client(console_app(handoff_env(tmp_path)))
    await login(client, "mei")
    refused = await client.get("/console/ws", headers={"Origin": "https://evil.example"})
    assert refused.status == 403
    async with client.ws_connect("/console/ws") as ws:
        assert (await ws.receive_json(timeout=5))["type"] == "hello"
        conversation_id = await customer_says(client, "secret text, talk to a person", "m2")
        seen: list[dict[str, Any]] = []
        while not any(m.get("change") == "queued" for m in seen):
            seen.append(await ws.receive_json(timeout=5))
    assert all(m.get("conversation_id") in (None, conversation_id) for m in seen)
    assert "secret text" not in repr(seen)


async def test_the_workspace_needs_the_hand_off(tmp_path: Path, aiohttp_client) -> None:
    from tests.handoff.console.helpers import console_env

    await seed_sqlite(tmp_path, ("mei", Role.AGENT))
    env = console_env(tmp_path, FRONTDESK_HANDOFF_PATH="")  # the hand-off switched off
    client: TestClient[Any, Any] = await aiohttp_client(console_app(env))
    await login(client, "mei")
    response = await client.get("/console/api/snapshot")
    assert response.status == 503
    assert "hand-off is not enabled" in (await response.json())["error"]["message"]


async def test_logging_out_closes_the_live_socket(tmp_path: Path, aiohttp_client) -> None:
    await seed_sqlite(tmp_path, ("mei", Role.AGENT))
    config = config_with(tmp_path, "  socket_recheck_seconds: 0.1\n")
    app = console_app(handoff_env(tmp_path), config_path=config)
    client: TestClient[Any, Any] = await aiohttp_client(app)
    csrf = await login(client, "mei")
    async with client.ws_connect("/console/ws") as ws:
        assert (await ws.receive_json(timeout=5))["type"] == "hello"
        out = await client.post("/console/logout", data={"csrf": csrf}, allow_redirects=False)
        assert out.status == 303
        closing = await ws.receive(timeout=5)  # the session ended: the feed ends too
        assert closing.type in (WSMsgType.CLOSE, WSMsgType.CLOSED, WSMsgType.CLOSING)


async def test_a_customer_who_leaves_the_queue_leaves_the_console(
    tmp_path: Path, aiohttp_client
) -> None:
    await seed_sqlite(tmp_path, ("mei", Role.AGENT))
    app = console_app(handoff_env(tmp_path))
    client: TestClient[Any, Any] = await aiohttp_client(app)
    csrf = await login(client, "mei")
    async with client.ws_connect("/console/ws") as ws:
        assert (await ws.receive_json(timeout=5))["type"] == "hello"
        for number, (ask, leave) in enumerate(
            (("I want to talk to a person", "never mind"), ("我要转人工", "不需要人工了"))
        ):
            response = await client.post(
                "/api/v1/channels/api/messages",
                json={"id": f"ask-{number}", "sender": f"leaver-{number}", "text": ask},
                headers=channel_auth(),
            )
            conversation_id = (await response.json())["conversation_id"]

            async def queued(conversation_id: str = conversation_id) -> bool:
                waiting = (await snapshot(client, csrf))["queue"]
                return [t["conversation_id"] for t in waiting] == [conversation_id]

            await wait_until(queued)
            await client.post(
                "/api/v1/channels/api/messages",
                json={"id": f"leave-{number}", "sender": f"leaver-{number}", "text": leave},
                headers=channel_auth(),
            )
            seen: list[dict[str, Any]] = []
            while not any(
                m.get("change") == "withdrawn" and m.get("conversation_id") == conversation_id
                for m in seen
            ):
                seen.append(await ws.receive_json(timeout=5))
            assert (await snapshot(client, csrf))["queue"] == []
            gone = await client.get(f"/console/api/conversations/{conversation_id}")
            assert gone.status == 404
