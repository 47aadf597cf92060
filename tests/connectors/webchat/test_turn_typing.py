""" "Typing…" for a turn shows only while a customer message waits for its reply: known from
the live feed when this process saw the message (no store read), from the log otherwise;
never after the reply, where it would linger."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from connectors.webchat import protocol
from connectors.webchat.connector import WebchatConnector
from connectors.webchat.sessions import Sessions, SocketListener
from hub.api import HUB
from hub.app import create_app
from hub.echo import EchoBot
from tests.connectors.webchat.helpers import (
    bot_reply,
    frames_until,
    hello,
    is_reply,
    webchat_config,
    webchat_env,
)

WS = "/webchat/ws"
TEXTS = {"en": "Where is my order?", "zh": "我的订单在哪里？"}


@pytest.fixture
async def chat(aiohttp_client: Any, tmp_path: Path) -> Any:
    env = webchat_env(tmp_path)
    app = create_app(webchat_config(tmp_path, env), environ=env, bot=EchoBot())
    return await aiohttp_client(app)


@pytest.mark.parametrize("language", ["en", "zh"])
async def test_no_typing_once_the_reply_went_by(chat: Any, language: str) -> None:
    connector = chat.app[HUB].connectors["webchat"]
    assert isinstance(connector, WebchatConnector)
    async with chat.ws_connect(WS) as ws:
        visitor = (await hello(ws))[0]["visitor"]
        await ws.send_json({"type": "message", "id": "c_1", "text": TEXTS[language]})
        await frames_until(ws, is_reply(f"You said: {TEXTS[language]}"))
        conversation_id = connector.sessions.conversation_of(visitor)
        assert not connector.sessions.unanswered(conversation_id)
        # A turn's typing that starts late (after its reply) shows nothing; the read
        # mark behind it proves the socket had its chance to pass one on.
        await connector.typing(visitor, "")
        connector.sessions.publish(visitor, protocol.read(conversation_id, 99))
        late = await frames_until(ws, lambda f: f["type"] == "read")
    assert [f["type"] for f in late] == ["read"]


@pytest.mark.parametrize("language", ["en", "zh"])
async def test_typing_while_a_message_waits(chat: Any, language: str) -> None:
    connector = chat.app[HUB].connectors["webchat"]
    assert isinstance(connector, WebchatConnector)
    async with chat.ws_connect(WS) as ws:
        visitor = (await hello(ws))[0]["visitor"]
        await ws.send_json({"type": "message", "id": "c_1", "text": TEXTS[language]})
        await frames_until(ws, is_reply(f"You said: {TEXTS[language]}"))
        conversation_id = connector.sessions.conversation_of(visitor)
        # As the live feed would say of a new message not yet answered:
        connector.sessions.seen(conversation_id, unanswered=True)
        await connector.typing(visitor, "")
        shown = await frames_until(ws, lambda f: f["type"] == "typing")
    assert shown == [protocol.typing(on=True)]


def test_what_the_feed_said_is_forgotten_with_the_conversation() -> None:
    sessions = Sessions(rate=10, burst=10, max_per_visitor=5)
    tab = SocketListener("v1", max_pending=10)
    assert sessions.add(tab)
    sessions.follow("v1", "con_1")
    sessions.seen("con_1", unanswered=True)
    assert sessions.unanswered("con_1")
    sessions.seen("con_1", unanswered=False)
    assert not sessions.unanswered("con_1")
    sessions.seen("con_1", unanswered=True)
    sessions.follow("v1", "con_2")  # the visitor moved on (the last one was resolved)
    assert not sessions.unanswered("con_1")
    sessions.seen("con_2", unanswered=True)
    sessions.remove(tab)
    assert not sessions.unanswered("con_2")


@pytest.fixture
async def patient_chat(aiohttp_client: Any, tmp_path: Path) -> Any:
    """A server whose "typing" waits (far) longer than any test for what follows it."""
    env = webchat_env(tmp_path)
    config = webchat_config(tmp_path, env, typing_grace=30)
    return await aiohttp_client(create_app(config, environ=env, bot=EchoBot()))


@pytest.mark.parametrize("language", ["en", "zh"])
async def test_a_reply_within_the_grace_takes_the_place_of_typing(
    patient_chat: Any, language: str
) -> None:
    connector = patient_chat.app[HUB].connectors["webchat"]
    assert isinstance(connector, WebchatConnector)
    async with patient_chat.ws_connect(WS) as ws:
        visitor = (await hello(ws))[0]["visitor"]
        connector.sessions.publish_typing(visitor, protocol.typing(), grace=30)
        for _ in range(5):  # the typing waits out its grace; the writer has nothing yet
            await asyncio.sleep(0)
        reply = bot_reply(TEXTS[language])
        connector.sessions.publish(visitor, reply)
        received = await frames_until(ws, lambda f: f["type"] == "message")
    assert received == [reply]


@pytest.mark.parametrize("language", ["en", "zh"])
async def test_typing_goes_with_what_follows_when_that_is_not_a_reply(
    patient_chat: Any, language: str
) -> None:
    async with patient_chat.ws_connect(WS) as ws:
        visitor = (await hello(ws))[0]["visitor"]
        await ws.send_json({"type": "message", "id": "c_1", "text": TEXTS[language]})
        await frames_until(ws, is_reply(f"You said: {TEXTS[language]}"))
        connector = patient_chat.app[HUB].connectors["webchat"]
        assert isinstance(connector, WebchatConnector)
        connector.sessions.publish_typing(visitor, protocol.typing(), grace=30)
        await ws.send_json({"type": "read", "seq": 3})  # the server answers with a read mark
        received = await frames_until(ws, lambda f: f["type"] == "read")
    assert [f["type"] for f in received] == ["typing", "read"]
