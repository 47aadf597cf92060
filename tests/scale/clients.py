"""Clients of the scale-out tests: a web chat visitor, a backend on the api channel, an
operator on the REST API and the live feed, each pointed at one process by its base URL."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import aiohttp

from tests.scale.processes import HubProcess, api_headers
from tests.support import channel_auth

T = TypeVar("T")
PATIENCE = 60.0  # generous: three hubs and Redis share two busy cores


async def eventually(check: Callable[[], Awaitable[T | None]], what: str) -> T:
    """Poll `check` until it returns something truthy (fails after a generous wait)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + PATIENCE
    while True:
        found = await check()
        if found:
            return found
        if loop.time() > deadline:
            raise AssertionError(f"never happened: {what}")
        await asyncio.sleep(0.05)


class Operator:
    """The REST API of one process (operator token)."""

    def __init__(self, session: aiohttp.ClientSession, hub: HubProcess) -> None:
        self.session = session
        self.url = hub.url

    async def call(self, method: str, path: str, body: Any = None, status: int = 200) -> Any:
        async with self.session.request(
            method, f"{self.url}{path}", json=body, headers=api_headers()
        ) as response:
            text = await response.text()
            assert response.status == status, f"{method} {path}: {response.status} {text}"
            return json.loads(text) if text else None

    async def presence(self, agent_id: str, presence: str) -> None:
        body = {"presence": presence}
        await self.call("PUT", f"/api/v1/handoff/agents/{agent_id}/presence", body)

    async def queue(self) -> dict[str, Any]:
        result: dict[str, Any] = await self.call("GET", "/api/v1/handoff/queue")
        return result

    async def agents(self) -> dict[str, dict[str, Any]]:
        found = await self.call("GET", "/api/v1/handoff/agents")
        return {agent["id"]: agent for agent in found["items"]}

    async def events(self, conversation_id: str) -> list[dict[str, Any]]:
        found = await self.call("GET", f"/api/v1/conversations/{conversation_id}/events?limit=1000")
        items: list[dict[str, Any]] = found["items"]
        return items

    async def act(self, conversation_id: str, action: str, **body: Any) -> Any:
        path = f"/api/v1/handoff/conversations/{conversation_id}/{action}"
        return await self.call("POST", path, body)

    async def metric(self, name: str) -> float:
        async with self.session.get(f"{self.url}/metrics", headers=api_headers()) as response:
            for line in (await response.text()).splitlines():
                if line.startswith(f"{name} ") or line.startswith(f"{name}{{"):
                    return float(line.rsplit(" ", 1)[1])
        return 0.0


async def post_message(
    session: aiohttp.ClientSession, hub: HubProcess, sender: str, text: str, message_id: str
) -> dict[str, Any]:
    """A backend posts one customer message into the api channel of `hub`."""
    body = {"id": message_id, "sender": sender, "text": text}
    async with session.post(
        f"{hub.url}/api/v1/channels/api/messages", json=body, headers=channel_auth()
    ) as response:
        assert response.status in (200, 202), await response.text()
        result: dict[str, Any] = await response.json()
        return result


class Visitor:
    """A web chat tab on one process's WebSocket, as the widget speaks it."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self.session = session
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.token = ""
        self.frames: list[dict[str, Any]] = []

    async def connect(self, hub: HubProcess, conversation_id: str = "", last_seq: int = 0) -> None:
        self.ws = await self.session.ws_connect(f"{hub.url}/webchat/ws")
        hello = {
            "type": "hello",
            "token": self.token,
            "conversation_id": conversation_id,
            "last_seq": last_seq,
        }
        await self.ws.send_json(hello)
        welcome = await self.next()
        assert welcome["type"] == "welcome", welcome
        self.token = welcome["token"]
        await self.until(lambda f: f["type"] == "synced")

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
            self.ws = None

    async def say(self, message_id: str, text: str) -> None:
        assert self.ws is not None
        await self.ws.send_json({"type": "message", "id": message_id, "text": text})

    async def next(self) -> dict[str, Any]:
        assert self.ws is not None
        message = await self.ws.receive(timeout=PATIENCE)
        assert message.type == aiohttp.WSMsgType.TEXT, message
        frame: dict[str, Any] = json.loads(message.data)
        self.frames.append(frame)
        return frame

    async def until(self, done: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        while True:
            frame = await self.next()
            if done(frame):
                return frame

    def logged(self) -> list[dict[str, Any]]:
        """The frames that come from the log (they carry a seq), as received."""
        return [f for f in self.frames if f.get("seq") and f["type"] in ("message", "status")]


class Feed:
    """The hand-off live feed of one process (what the console streams too)."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self.session = session
        self.ws: aiohttp.ClientWebSocketResponse | None = None

    async def open(self, hub: HubProcess) -> None:
        self.ws = await self.session.ws_connect(
            f"{hub.url}/api/v1/handoff/feed", headers=api_headers()
        )
        hello = json.loads((await self.ws.receive(timeout=PATIENCE)).data)
        assert hello["type"] == "hello", hello

    async def until(self, done: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        assert self.ws is not None
        while True:
            message = await self.ws.receive(timeout=PATIENCE)
            assert message.type == aiohttp.WSMsgType.TEXT, message
            frame: dict[str, Any] = json.loads(message.data)
            if done(frame):
                return frame

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()


__all__ = ["Feed", "Operator", "Visitor", "eventually", "post_message"]
