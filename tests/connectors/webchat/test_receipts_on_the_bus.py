"""Delivery receipts reach the hub's event listeners as they are logged (on SQLite too,
whose in-process bus never reads the log), and the visitor sees nothing of them: a receipt
is the hub's bookkeeping, not a frame."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hub.api import HUB
from hub.app import create_app
from hub.echo import EchoBot
from hub.model import Event, EventType
from tests.connectors.webchat import helpers

WS = "/webchat/ws"


async def test_receipts_are_dispatched_and_never_reach_the_visitor(
    aiohttp_client: Any, tmp_path: Path
) -> None:
    env = helpers.webchat_env(tmp_path)  # SQLite: the in-process bus
    app = create_app(helpers.webchat_config(tmp_path, env), environ=env, bot=EchoBot())
    client = await aiohttp_client(app)
    receipts: list[Event] = []
    arrived = asyncio.Event()

    def listen(events: Sequence[Event]) -> None:
        receipts.extend(e for e in events if e.type == EventType.DELIVERED)
        arrived.set()

    client.app[HUB].add_listener(listen)

    async def receipt(count: int) -> None:
        while len(receipts) < count:
            arrived.clear()
            await arrived.wait()

    frames: list[dict[str, Any]] = []
    async with client.ws_connect(WS) as ws:
        await helpers.hello(ws)
        for count, text in enumerate(("Where is my order?", "我的订单在哪里？"), start=1):
            await ws.send_json({"type": "message", "id": f"c_{count}", "text": text})
            frames += await helpers.frames_until(ws, helpers.is_reply(f"You said: {text}"))
            await asyncio.wait_for(receipt(count), 10)
        # Anything a receipt made the socket send would be queued ahead of this reply.
        await ws.send_json({"type": "message", "id": "c_3", "text": "Thanks! 谢谢！"})
        frames += await helpers.frames_until(ws, helpers.is_reply("You said: Thanks! 谢谢！"))
    receipt_seqs = {e.seq for e in receipts}
    assert len(receipt_seqs) >= 2  # the third may still be on its way
    assert not [f for f in frames if f.get("seq") in receipt_seqs]
    assert {f["type"] for f in frames} <= {"ack", "message", "typing"}
    texts = [(f["direction"], f["text"]) for f in frames if f["type"] == "message"]
    assert texts == [
        ("in", "Where is my order?"),
        ("out", "You said: Where is my order?"),
        ("in", "我的订单在哪里？"),
        ("out", "You said: 我的订单在哪里？"),
        ("in", "Thanks! 谢谢！"),
        ("out", "You said: Thanks! 谢谢！"),
    ]
