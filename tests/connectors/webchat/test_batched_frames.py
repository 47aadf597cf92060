"""Frames that are ready together leave in one WebSocket message for a client that asked
for it (`"batch": true` in its hello), in the same order a client that did not ask gets them
one by one; a "typing" that a reply right behind it makes pointless is not sent at all."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientWebSocketResponse, WSMsgType

from connectors.webchat import protocol
from connectors.webchat.connector import WebchatConnector
from hub.api import HUB
from hub.app import create_app
from hub.echo import EchoBot
from hub.errors import InputError
from tests.connectors.webchat.helpers import bot_reply, webchat_config, webchat_env

WS = "/webchat/ws"
TEXTS = {"en": "Where is my order?", "zh": "我的订单在哪里？"}


@pytest.fixture
async def chat(aiohttp_client: Any, tmp_path: Path) -> Any:
    env = webchat_env(tmp_path)
    app = create_app(webchat_config(tmp_path, env), environ=env, bot=EchoBot())
    return await aiohttp_client(app)


async def messages_until(ws: ClientWebSocketResponse, predicate: Any) -> list[list[Any]]:
    """The WebSocket messages up to the one holding a frame `predicate` accepts, each as
    the list of frames it carried."""
    received: list[list[Any]] = []
    while True:
        message = await ws.receive(timeout=10)
        assert message.type == WSMsgType.TEXT, message
        frame = json.loads(message.data)
        received.append(frame["frames"] if frame["type"] == "frames" else [frame])
        if any(predicate(f) for f in received[-1]):
            return received


def is_type(kind: str) -> Any:
    return lambda f: f["type"] == kind


def is_reply(f: dict[str, Any]) -> bool:
    return f["type"] == "message" and f["direction"] == "out"


def comparable(frames: list[Any]) -> list[Any]:
    """The frames as a client sees them, minus what differs between two visitors (and
    "typing", whose place depends on how fast the turn is: it may be dropped for a reply)."""
    drop = {"at", "conversation_id", "token", "visitor"}
    return [
        {k: v for k, v in f.items() if k not in drop and not (k == "id" and is_reply(f))}
        for f in frames
        if f["type"] != "typing"
    ]


@pytest.mark.parametrize("language", ["en", "zh"])
async def test_a_batching_client_gets_the_same_frames_in_the_same_order(
    chat: Any, language: str
) -> None:
    seen: dict[bool, list[Any]] = {}
    for batch in (False, True):
        async with chat.ws_connect(WS) as ws:
            await ws.send_json({"type": "hello", "batch": batch})
            hello = await messages_until(ws, is_type("synced"))
            await ws.send_json({"type": "message", "id": "c_1", "text": TEXTS[language]})
            turn = await messages_until(ws, is_reply)
            if not batch:
                assert all(len(message) == 1 for message in hello + turn)
            seen[batch] = [f for message in hello + turn for f in message]
    assert comparable(seen[True]) == comparable(seen[False])
    assert next(f for f in seen[True] if is_reply(f))["text"] == f"You said: {TEXTS[language]}"


@pytest.mark.parametrize("language", ["en", "zh"])
async def test_frames_ready_together_leave_as_one_message(chat: Any, language: str) -> None:
    connector = chat.app[HUB].connectors["webchat"]
    assert isinstance(connector, WebchatConnector)
    async with chat.ws_connect(WS) as plain, chat.ws_connect(WS) as batching:
        await plain.send_json({"type": "hello"})
        await batching.send_json({"type": "hello", "batch": True})
        visitors = []
        for ws in (plain, batching):
            welcome = (await messages_until(ws, is_type("synced")))[0][0]
            visitors.append(welcome["visitor"])
        reply = bot_reply(TEXTS[language])
        for visitor in visitors:  # in one go: the writers run only after all are queued
            connector.sessions.publish(visitor, protocol.read("con_1", 1))
            connector.sessions.publish(visitor, protocol.typing(on=True))
            connector.sessions.publish(visitor, reply)
            connector.sessions.publish(visitor, protocol.typing(on=True))
        plain_messages = await messages_until(plain, is_type("typing"))
        batch_messages = await messages_until(batching, is_type("typing"))
    expected = [protocol.read("con_1", 1), reply, protocol.typing(on=True)]
    assert plain_messages == [[frame] for frame in expected]
    assert batch_messages == [expected]
    assert batch_messages[0][1]["text"] == TEXTS[language]


def test_hello_says_whether_the_client_reads_batches() -> None:
    assert protocol.parse_hello({"type": "hello"}).batch is False
    assert protocol.parse_hello({"type": "hello", "batch": True}).batch is True
    with pytest.raises(InputError, match="'batch' must be true or false"):
        protocol.parse_hello({"type": "hello", "batch": "yes"})


@pytest.mark.parametrize("language", ["en", "zh"])
def test_a_typing_is_dropped_only_when_a_reply_follows_it(language: str) -> None:
    reply = {"type": "message", "direction": "out", "seq": 3, "text": TEXTS[language]}
    echo = {"type": "message", "direction": "in", "seq": 2, "text": TEXTS[language]}
    on, off = protocol.typing(on=True), protocol.typing(on=False)
    assert protocol.without_stale_typing([echo, on, reply]) == [echo, reply]
    assert protocol.without_stale_typing([off, reply, on]) == [reply, on]
    assert protocol.without_stale_typing([echo, on]) == [echo, on]
    joined = protocol.frames([protocol.encode(echo), protocol.encode(reply)])
    assert json.loads(joined) == {"type": "frames", "frames": [echo, reply]}
