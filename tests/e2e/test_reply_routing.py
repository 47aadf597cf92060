"""Replies go where the customer last wrote from, or (identity.reply_to: preferred) to the
channel their profile prefers: here a web chat customer whose CRM says "api"."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from hub.api import HUB
from hub.app import create_app
from hub.config import load_config
from tests.connectors.webchat.helpers import SECRET, frames_until, hello
from tests.support import CHANNEL_TOKEN, CallbackReceiver, fast_retries


@pytest.fixture
async def receiver() -> AsyncIterator[CallbackReceiver]:
    receiver = CallbackReceiver()
    await receiver.start()
    yield receiver
    await receiver.stop()


async def start(aiohttp_client: Any, tmp_path: Path, receiver: CallbackReceiver, reply_to: str):
    config = {
        "bot": {"kind": "echo"},
        "identity": {"reply_to": reply_to},
        "channels": {
            "webchat": {"enabled": True},
            "api": {"enabled": True, "callback_url": receiver.url},
        },
    }
    path = tmp_path / "frontdesk.yaml"
    path.write_text(json.dumps(config), encoding="utf-8")  # JSON is YAML
    env = {
        "FRONTDESK_STORE_URL": f"sqlite:///{tmp_path}/frontdesk.db",
        "FRONTDESK_WEBCHAT_SECRET": SECRET,
        "FRONTDESK_API_CHANNEL_TOKEN": CHANNEL_TOKEN,
    }
    return await aiohttp_client(create_app(fast_retries(load_config(path, env)), environ=env))


async def prefer_api(client: Any, visitor: str) -> None:
    store = client.app[HUB].store
    customer = await store.find_customer(f"webchat:{visitor}")
    assert await store.add_identity(customer.id, "api:crm-7", now=1.0)
    await store.update_customer(customer.id, attributes={"preferred_channel": "api"}, now=1.0)


@pytest.mark.parametrize("reply_to", ["last", "preferred"])
async def test_replies_follow_the_configured_channel(
    aiohttp_client: Any, tmp_path: Path, receiver: CallbackReceiver, reply_to: str
) -> None:
    client = await start(aiohttp_client, tmp_path, receiver, reply_to)
    async with client.ws_connect("/webchat/ws") as ws:
        visitor = (await hello(ws))[0]["visitor"]
        await ws.send_json({"type": "message", "id": "c1", "text": "first"})
        await frames_until(ws, lambda f: f.get("direction") == "out")
        await prefer_api(client, visitor)
        await ws.send_json({"type": "message", "id": "c2", "text": "second"})
        if reply_to == "last":
            frame = (await frames_until(ws, lambda f: f.get("direction") == "out"))[-1]
            assert frame["text"] == "You said: second"
            assert receiver.received == []
        else:
            (posted,) = await receiver.wait_for(1)
            assert (posted["recipient"], posted["text"]) == ("crm-7", "You said: second")
