"""A web chat reply is delivered by its commit: the widget reads the conversation log (live
from the event bus, after a reconnect from the log), so the reply never enters the outbox,
no receipt is logged, and the visitor's frames are exactly the conversation. A visitor
who had no tab open reads the reply when they come back. In English and Chinese."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from hub.abc import TurnResult
from hub.api import HUB
from hub.app import create_app
from hub.echo import EchoBot
from hub.model import EventType, Outbound
from tests.connectors.webchat import helpers

WS = "/webchat/ws"


async def test_replies_are_delivered_by_their_commit(aiohttp_client: Any, tmp_path: Path) -> None:
    env = helpers.webchat_env(tmp_path)
    app = create_app(helpers.webchat_config(tmp_path, env), environ=env, bot=EchoBot())
    client = await aiohttp_client(app)
    hub = client.app[HUB]
    frames: list[dict[str, Any]] = []
    async with client.ws_connect(WS) as ws:
        token = (await helpers.hello(ws))[0]["token"]
        for count, text in enumerate(("Where is my order?", "我的订单在哪里？"), start=1):
            await ws.send_json({"type": "message", "id": f"c_{count}", "text": text})
            frames += await helpers.frames_until(ws, helpers.is_reply(f"You said: {text}"))
    conversation_id = next(f["conversation_id"] for f in frames if "conversation_id" in f)

    # The visitor has gone: an agent's answer waits in the log, not in the outbox.
    await hub.send(conversation_id, [Outbound(text="Your parcel shipped. 您的包裹已发出。")])
    assert await hub.store.claim_deliveries(now=1e12, limit=10, lease=30) == []
    assert (await hub.store.dead_letters(limit=10)).items == []
    events = await hub.store.events(conversation_id)
    assert not [e for e in events if e.type.startswith("delivery.")]
    replies = [e for e in events if e.type == EventType.MESSAGE_OUT]
    assert len(replies) == 3 and all(e.data["delivery_id"] for e in replies)
    assert hub.metrics.value("frontdesk_deliveries_total", channel="webchat", outcome="logged") == 3

    async with client.ws_connect(WS) as ws:
        again = await helpers.hello(ws, token=token, conversation_id=conversation_id, last_seq=0)
    texts = [(f["direction"], f["text"]) for f in [*frames, *again] if f["type"] == "message"]
    assert texts == [
        ("in", "Where is my order?"),
        ("out", "You said: Where is my order?"),
        ("in", "我的订单在哪里？"),
        ("out", "You said: 我的订单在哪里？"),
        # What the reconnected tab reads back from the log, in order.
        ("in", "Where is my order?"),
        ("out", "You said: Where is my order?"),
        ("in", "我的订单在哪里？"),
        ("out", "You said: 我的订单在哪里？"),
        ("out", "Your parcel shipped. 您的包裹已发出。"),
    ]
    assert {f["type"] for f in frames} <= {"ack", "message", "typing"}


async def test_a_reply_an_earlier_release_queued_is_still_sent_and_receipted(
    aiohttp_client: Any, tmp_path: Path
) -> None:
    """An upgrade can find web chat replies in the outbox: the worker still hands them to
    `deliver()`, which records who had them open (nobody here: stored for pickup)."""
    env = helpers.webchat_env(tmp_path)
    app = create_app(helpers.webchat_config(tmp_path, env), environ=env, bot=EchoBot())
    client = await aiohttp_client(app)
    hub = client.app[HUB]
    async with client.ws_connect(WS) as ws:
        await helpers.hello(ws)
        await ws.send_json({"type": "message", "id": "c_1", "text": "退货 return"})
        frames = await helpers.frames_until(ws, helpers.is_reply("You said: 退货 return"))
    conversation_id = next(f["conversation_id"] for f in frames if "conversation_id" in f)
    conversation = await hub.store.get_conversation(conversation_id)
    assert conversation is not None
    # Committed as before this release: queued (no `read_from_log`).
    commit = await hub.store.commit_turn(
        conversation_id,
        handled_seq=conversation.handled_seq,
        result=TurnResult(replies=(Outbound(text="Label sent. 退货标签已发送。"),)),
        now=time.time(),
        lease=30,
    )
    assert len(commit.deliveries) == 1
    hub.delivery.deliver_now(commit.lead)

    async def receipt() -> dict[str, Any]:
        while True:
            for event in await hub.store.events(conversation_id):
                if event.type == EventType.DELIVERED:
                    return dict(event.data["receipt"])
            await asyncio.sleep(0.02)

    assert await asyncio.wait_for(receipt(), 10) == {"tabs": 0, "stored_for_pickup": True}
    assert await hub.store.claim_deliveries(now=1e12, limit=10, lease=30) == []
