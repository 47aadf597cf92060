"""Per-address limits of the web chat through the real server: open sockets, new visitors
per minute and messages per second, keyed on the client address (X-Forwarded-For only
from a configured trusted proxy; the test client connects from 127.0.0.1)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import WSMsgType
from aiohttp.test_utils import TestClient

from connectors.webchat.limits import AddressLimits, AddressPolicy
from hub.api import HUB
from hub.app import create_app
from hub.config import load_config
from hub.echo import EchoBot
from hub.model import EventType
from tests.connectors.webchat.helpers import hello, next_frame, webchat_env

WS = "/webchat/ws"
Client = TestClient[Any, Any]
MakeClient = Callable[..., Awaitable[Client]]


@pytest.fixture
def make_client(aiohttp_client: Any, tmp_path: Path) -> MakeClient:
    async def make(trusted_proxies: tuple[str, ...] = (), **settings: Any) -> Client:
        env = webchat_env(tmp_path)
        lines = ["server:", f"  trusted_proxies: {json.dumps(list(trusted_proxies))}"]
        lines += ["bot:", "  kind: echo", "channels:", "  webchat:", "    enabled: true"]
        lines += [f"    {key}: {json.dumps(value)}" for key, value in settings.items()]
        path = tmp_path / "frontdesk.yaml"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        app = create_app(load_config(path, env), environ=env, bot=EchoBot())
        client: Client = await aiohttp_client(app)
        return client

    return make


async def refused(ws: Any) -> dict[str, Any]:
    """The error frame a refused socket gets, after which it is closed with 4429."""
    frame = await next_frame(ws)
    closing = await ws.receive(timeout=10)
    assert closing.type in (WSMsgType.CLOSE, WSMsgType.CLOSED, WSMsgType.CLOSING)
    assert ws.close_code == 4429
    return frame


async def test_open_sockets_per_address_are_limited(make_client: MakeClient) -> None:
    client = await make_client(trusted_proxies=("127.0.0.1",), max_connections_per_address=3)
    office = {"X-Forwarded-For": "203.0.113.10"}
    sockets = [await client.ws_connect(WS, headers=office) for _ in range(3)]
    tokens = [(await hello(ws))[0]["token"] for ws in sockets]
    assert len(set(tokens)) == 3

    async with client.ws_connect(WS, headers=office) as extra:
        frame = await refused(extra)
    assert frame["code"] == "too_many_connections"

    # Long-polls are open connections too.
    answer = await client.get(
        "/webchat/poll?wait=0", headers={**office, "Authorization": f"Bearer {tokens[0]}"}
    )
    assert answer.status == 429 and answer.headers["Retry-After"].isdigit()

    # Another address has its own allowance; a closed socket frees a place.
    async with client.ws_connect(WS, headers={"X-Forwarded-For": "198.51.100.7"}) as other:
        assert (await hello(other))[0]["type"] == "welcome"
    await sockets.pop().close()
    async with client.ws_connect(WS, headers=office) as again:
        assert (await hello(again, token=tokens[2]))[0]["type"] == "welcome"
    for ws in sockets:
        await ws.close()


async def test_without_a_trusted_proxy_the_header_is_no_escape(make_client: MakeClient) -> None:
    client = await make_client(max_connections_per_address=2)
    sockets = [
        await client.ws_connect(WS, headers={"X-Forwarded-For": f"203.0.113.{n}"}) for n in range(2)
    ]
    async with client.ws_connect(WS, headers={"X-Forwarded-For": "203.0.113.99"}) as extra:
        assert (await refused(extra))["code"] == "too_many_connections"
    for ws in sockets:
        await ws.close()


async def test_new_visitors_per_minute_per_address_are_limited(make_client: MakeClient) -> None:
    # The defaults: a flood of fresh visitor tokens from one address stops at 30.
    client = await make_client()
    welcomed, tokens = 0, []
    for _ in range(40):
        async with client.ws_connect(WS) as ws:
            await ws.send_json({"type": "hello"})
            frame = await next_frame(ws)
            if frame["type"] == "welcome":
                welcomed += 1
                tokens.append(frame["token"])
            else:
                assert frame["code"] == "too_many_visitors"
    assert welcomed == 30

    polled = await client.post("/webchat/hello", json={})
    assert polled.status == 429 and polled.headers["Retry-After"].isdigit()
    assert (await polled.json())["code"] == "too_many_visitors"
    # Visitors who already have a token come back as usual.
    async with client.ws_connect(WS) as ws:
        assert (await hello(ws, token=tokens[0]))[0]["type"] == "welcome"
    again = await client.post("/webchat/hello", json={"token": tokens[1]})
    assert again.status == 200, await again.text()


@pytest.mark.parametrize("texts", [["hello", "again"], ["你好", "再来一条"]])
async def test_messages_per_address_are_limited_across_visitors(
    make_client: MakeClient, texts: list[str]
) -> None:
    client = await make_client(
        messages_per_second_per_address=0.01, message_burst_per_address=4, rate_burst=100
    )
    answers: list[str] = []
    for n in range(3):  # three visitors, two messages each, from one address
        async with client.ws_connect(WS) as ws:
            await hello(ws)
            for m, text in enumerate(texts):
                await ws.send_json({"type": "message", "id": f"c_{n}_{m}", "text": text})
                while (frame := await next_frame(ws))["type"] not in ("ack", "slow_down"):
                    pass
                answers.append(frame["type"])
    assert answers == ["ack"] * 4 + ["slow_down"] * 2

    hub = client.app[HUB]
    stored = 0
    for conversation in (await hub.store.list_conversations(limit=100)).items:
        events = await hub.store.events(conversation.id, limit=100)
        stored += sum(event.type == EventType.MESSAGE_IN for event in events)
    assert stored == 4  # what was slowed down was not stored


async def test_address_limits_count_and_release_connections() -> None:
    now = [0.0]
    limits = AddressLimits(
        AddressPolicy(max_connections=2, new_visitors_per_minute=2), clock=lambda: now[0]
    )
    assert [limits.connect("a") for _ in range(3)] == [True, True, False]
    limits.disconnect("a")
    assert limits.connect("a") and limits.connections("a") == 2
    assert await limits.new_visitor("a") == await limits.new_visitor("a") == 0.0
    assert await limits.new_visitor("a") == pytest.approx(30.0)  # one more in half a minute
    now[0] += 30
    assert await limits.new_visitor("a") == 0.0
