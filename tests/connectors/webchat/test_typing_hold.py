"""A "typing" frame waits out `typing_grace` in the connector (one timer per visitor), not in
each socket's writer: a reply within the grace takes its place, a slower one comes after
it, and an agent's typing is held and shown the same way. The timers here fire when the
test says so, so nothing depends on how fast the machine is."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from connectors.webchat import protocol
from connectors.webchat.connector import WebchatConnector
from hub.abc import ConversationHandler, Turn, TurnResult
from hub.api import HUB
from hub.app import create_app
from hub.echo import EchoBot
from hub.hub import Hub
from hub.model import Outbound
from tests.connectors.webchat.helpers import (
    HandTimer,
    bot_reply,
    frames_until,
    hello,
    is_reply,
    webchat_config,
    webchat_env,
)

WS = "/webchat/ws"
TEXTS = {"en": "Where is my order?", "zh": "我的订单在哪里？"}


class HandTimers:
    """Stands in for the loop's `call_later`: a timer fires when the test calls `fire`."""

    def __init__(self) -> None:
        self.armed: list[HandTimer] = []

    def __call__(self, delay: float, callback: Callable[[], None]) -> HandTimer:
        timer = HandTimer(callback)
        self.armed.append(timer)
        return timer

    def live(self) -> list[HandTimer]:
        return [timer for timer in self.armed if not timer.cancelled]

    async def wait_armed(self, count: int) -> None:
        async def armed() -> None:
            while len(self.armed) < count:
                await asyncio.sleep(0.01)

        await asyncio.wait_for(armed(), 10)

    def fire(self) -> None:
        (timer,) = self.live()
        timer.cancelled = True  # fired: as the loop's handle, it cannot fire twice
        timer.callback()


class GateBot(ConversationHandler):
    """Echoes once the test opens the gate: a turn slower than the grace."""

    def __init__(self) -> None:
        self.started = asyncio.Event()
        self.gate = asyncio.Event()

    async def handle(self, turn: Turn) -> TurnResult:
        self.started.set()
        await self.gate.wait()
        return TurnResult(replies=(Outbound(text=f"You said: {turn.inbound.text}"),))


def connector_of(client: Any, timers: HandTimers) -> WebchatConnector:
    connector = client.app[HUB].connectors["webchat"]
    assert isinstance(connector, WebchatConnector)
    connector.sessions.call_later = timers
    return connector


@pytest.fixture
def make_client(aiohttp_client: Any, tmp_path: Path) -> Any:
    async def make(bot: ConversationHandler | None = None, **settings: Any) -> Any:
        env = webchat_env(tmp_path)
        config = webchat_config(tmp_path, env, **settings)
        return await aiohttp_client(create_app(config, environ=env, bot=bot or EchoBot()))

    return make


@pytest.mark.parametrize("language", ["en", "zh"])
async def test_a_fast_reply_takes_the_place_of_the_typing(make_client: Any, language: str) -> None:
    client = await make_client()
    timers = HandTimers()
    connector = connector_of(client, timers)
    async with client.ws_connect(WS) as ws:
        visitor = (await hello(ws))[0]["visitor"]
        await ws.send_json({"type": "message", "id": "c_1", "text": TEXTS[language]})
        turn = await frames_until(ws, is_reply(f"You said: {TEXTS[language]}"))
        # The turn held a typing for the grace; the reply came first and dropped it.
        assert len(timers.armed) == 1 and not timers.live()
        assert not connector.sessions.holds_typing(visitor)
        conversation_id = connector.sessions.conversation_of(visitor)
        connector.sessions.publish(visitor, protocol.read(conversation_id, 99))
        after = await frames_until(ws, lambda f: f["type"] == "read")
    assert not [f for f in turn + after if f["type"] == "typing"]


@pytest.mark.parametrize("language", ["en", "zh"])
async def test_a_turn_s_typing_is_held_from_its_message_with_no_task_per_turn(
    make_client: Any, language: str
) -> None:
    """The connector sees the customer message go by (`on_events`) and holds the typing
    there; the hub does not start a `typing()` task for each turn."""
    bot = GateBot()
    client = await make_client(bot=bot)
    timers = HandTimers()
    connector = connector_of(client, timers)
    asked: list[str] = []

    async def typing(address: str, thread_hint: str, **flags: Any) -> None:
        asked.append(address)

    connector.typing = typing  # type: ignore[method-assign]
    async with client.ws_connect(WS) as ws:
        visitor = (await hello(ws))[0]["visitor"]
        await ws.send_json({"type": "message", "id": "c_1", "text": TEXTS[language]})
        await timers.wait_armed(1)
        assert connector.sessions.holds_typing(visitor)
        # The turn is under way; a task the hub started with it would have run by now.
        await asyncio.wait_for(bot.started.wait(), 10)
        await asyncio.sleep(0)
        bot.gate.set()
        await frames_until(ws, is_reply(f"You said: {TEXTS[language]}"))
    assert asked == []


@pytest.mark.parametrize("language", ["en", "zh"])
async def test_a_slow_reply_shows_typing_then_the_reply(make_client: Any, language: str) -> None:
    bot = GateBot()
    client = await make_client(bot=bot)
    timers = HandTimers()
    connector_of(client, timers)
    async with client.ws_connect(WS) as ws:
        await hello(ws)
        await ws.send_json({"type": "message", "id": "c_1", "text": TEXTS[language]})
        await timers.wait_armed(1)
        timers.fire()  # the grace is over and the bot is still at it
        before = await frames_until(ws, lambda f: f["type"] == "typing")
        bot.gate.set()
        after = await frames_until(ws, is_reply(f"You said: {TEXTS[language]}"))
    assert before[-1] == protocol.typing(on=True)
    assert not [f for f in before if f["type"] == "message" and f["direction"] == "out"]
    assert [f["type"] for f in after] == ["message"]


@pytest.mark.parametrize("language", ["en", "zh"])
async def test_an_agent_typing_is_held_then_shown_in_every_tab(
    make_client: Any, language: str
) -> None:
    client = await make_client()
    hub: Hub = client.app[HUB]
    timers = HandTimers()
    connector_of(client, timers)
    async with client.ws_connect(WS) as ws, client.ws_connect(WS) as other_tab:
        token = (await hello(ws))[0]["token"]
        await ws.send_json({"type": "message", "id": "c_1", "text": TEXTS[language]})
        frames = await frames_until(ws, is_reply(f"You said: {TEXTS[language]}"))
        conversation_id = next(f for f in frames if f["type"] == "ack")["conversation_id"]
        await hello(other_tab, token=token, conversation_id=conversation_id, last_seq=99)
        await timers.wait_armed(1)  # the turn's own typing, dropped for its reply

        assert await hub.agent_typing(conversation_id) is True
        await timers.wait_armed(2)
        timers.fire()
        for tab in (ws, other_tab):
            seen = await frames_until(tab, lambda f: f["type"] == "typing")
            assert seen == [protocol.typing(on=True)]
        assert await hub.agent_typing(conversation_id, on=False) is True
        await timers.wait_armed(3)
        timers.fire()
        for tab in (ws, other_tab):
            seen = await frames_until(tab, lambda f: f["type"] == "typing")
            assert seen == [protocol.typing(on=False)]


@pytest.mark.parametrize("language", ["en", "zh"])
async def test_a_typing_queued_behind_another_frame_still_waits_for_the_reply(
    make_client: Any, language: str
) -> None:
    """The writer used to hold a typing only when nothing else was queued with it; a busy
    socket sent it at once, and the reply right after made it flicker."""
    client = await make_client(typing_grace=30)
    connector = client.app[HUB].connectors["webchat"]
    assert isinstance(connector, WebchatConnector)
    async with client.ws_connect(WS) as ws:
        visitor = (await hello(ws))[0]["visitor"]
        connector.sessions.publish(visitor, protocol.read("con_1", 1))
        await connector.typing(visitor, "", for_turn=False)  # queued in the same go
        first = await frames_until(ws, lambda f: f["type"] == "read")
        reply = bot_reply(TEXTS[language])
        connector.sessions.publish(visitor, reply)
        second = await frames_until(ws, lambda f: f["type"] == "message")
    assert [f["type"] for f in first + second] == ["read", "message"]
    assert second[-1]["text"] == TEXTS[language]
