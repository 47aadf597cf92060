"""Typing both ways on the web chat, through the real server: the visitor's `typing` frames
reach the hub's typing listeners (rate-limited, for their current conversation only), and an
agent's typing reaches the visitor's sockets as `typing` frames, on and off. None of it is
logged."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from hub.api import HUB
from hub.app import create_app
from hub.echo import EchoBot
from hub.hub import Hub
from hub.signals import Side, Typing
from tests.connectors.webchat.helpers import (
    frames_until,
    hello,
    is_reply,
    webchat_config,
    webchat_env,
)
from tests.handoff.console.helpers import FakeClock

WS = "/webchat/ws"
WORDS = [pytest.param("Where is my order?", id="en"), pytest.param("我的订单在哪里？", id="zh")]


@pytest.fixture
async def chat(aiohttp_client, tmp_path: Path) -> Any:
    env = webchat_env(tmp_path)
    app = create_app(webchat_config(tmp_path, env), environ=env, bot=EchoBot())
    return await aiohttp_client(app)


async def signals_of(hub: Hub, count: int, received: list[Typing]) -> list[Typing]:
    async def arrived() -> None:
        while len(received) < count:
            await asyncio.sleep(0.02)

    await asyncio.wait_for(arrived(), 10)
    return received


@pytest.mark.parametrize("text", WORDS)
async def test_the_visitor_typing_reaches_the_hub_listeners(chat: Any, text: str) -> None:
    hub: Hub = chat.app[HUB]
    clock = FakeClock(500.0)
    hub.typing_signals.clock = clock
    received: list[Typing] = []
    hub.add_typing_listener(received.append)
    async with chat.ws_connect(WS) as ws:
        await hello(ws)
        # No conversation yet: there is nobody to tell.
        await ws.send_json({"type": "typing", "on": True})
        await ws.send_json({"type": "message", "id": "c_1", "text": text})
        frames = await frames_until(ws, is_reply(f"You said: {text}"))
        conversation_id = next(f for f in frames if f["type"] == "ack")["conversation_id"]
        assert received == []

        await ws.send_json({"type": "typing", "on": True})
        await ws.send_json({"type": "typing"})  # "on" again, at once: dropped
        await ws.send_json({"type": "typing", "on": False})
        await signals_of(hub, 2, received)
        assert received == [
            Typing(conversation_id=conversation_id, side=Side.CUSTOMER, on=True),
            Typing(conversation_id=conversation_id, side=Side.CUSTOMER, on=False),
        ]

        await ws.send_json({"type": "typing", "on": "yes"})
        (error,) = [f for f in await frames_until(ws, lambda f: f["type"] == "error")]
        assert error["code"] == "bad_frame" and "'on'" in error["message"]
    events = await hub.store.events(conversation_id, limit=100)
    assert not [e for e in events if "typing" in e.type]


@pytest.mark.parametrize("text", WORDS)
async def test_an_agent_typing_shows_in_every_tab_and_goes_away(chat: Any, text: str) -> None:
    hub: Hub = chat.app[HUB]
    async with chat.ws_connect(WS) as ws, chat.ws_connect(WS) as other_tab:
        token = (await hello(ws))[0]["token"]
        await ws.send_json({"type": "message", "id": "c_1", "text": text})
        frames = await frames_until(ws, is_reply(f"You said: {text}"))
        conversation_id = next(f for f in frames if f["type"] == "ack")["conversation_id"]
        await hello(other_tab, token=token, conversation_id=conversation_id, last_seq=99)

        assert await hub.agent_typing(conversation_id) is True
        for tab in (ws, other_tab):
            seen = await frames_until(tab, lambda f: f["type"] == "typing")
            assert seen[-1] == {"type": "typing", "on": True}
        assert await hub.agent_typing(conversation_id, on=False) is True
        for tab in (ws, other_tab):
            seen = await frames_until(tab, lambda f: f["type"] == "typing")
            assert seen[-1] == {"type": "typing", "on": False}
        # An "off" that follows no "on" is not passed on.
        assert await hub.agent_typing(conversation_id, on=False) is False
    assert await hub.agent_typing("no-such-conversation") is False
