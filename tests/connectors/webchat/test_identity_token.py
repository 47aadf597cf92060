"""A signed identity token in the widget's hello links the visitor, through the real socket."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from hub.api import HUB
from hub.app import create_app
from hub.identity_proofs import sign_widget_token
from tests.connectors.webchat.helpers import hello, webchat_config, webchat_env

IDENTITY_SECRET = "site-shared-secret"


async def connect(aiohttp_client: Any, tmp_path: Path) -> Any:
    env = {**webchat_env(tmp_path), "FRONTDESK_IDENTITY_SECRET": IDENTITY_SECRET}
    app = create_app(webchat_config(tmp_path, env), environ=env)
    return await aiohttp_client(app)


async def test_valid_token_links_the_visitor_to_the_sites_user(aiohttp_client, tmp_path) -> None:
    client = await connect(aiohttp_client, tmp_path)
    token = sign_widget_token(
        IDENTITY_SECRET.encode(),
        user_id="u-77",
        email="ana@example.com",
        expires_at=int(time.time()) + 600,
    )
    async with client.ws_connect("/webchat/ws") as ws:
        frames = await hello(ws, identity_token=token)
    welcome = frames[0]
    assert not [f for f in frames if f["type"] == "error"]
    store = client.app[HUB].store
    customer = await store.find_customer(f"webchat:{welcome['visitor']}")
    assert customer is not None
    assert "user:u-77" in customer.identities and "email:ana@example.com" in customer.identities


async def test_tampered_or_expired_token_links_nothing(aiohttp_client, tmp_path) -> None:
    client = await connect(aiohttp_client, tmp_path)
    good = sign_widget_token(
        IDENTITY_SECRET.encode(), user_id="u-1", expires_at=int(time.time()) + 600
    )
    expired = sign_widget_token(
        IDENTITY_SECRET.encode(), user_id="u-1", expires_at=int(time.time()) - 5
    )
    forged = sign_widget_token(b"attacker", user_id="u-1", expires_at=int(time.time()) + 600)
    tampered = good[:-2] + ("AA" if not good.endswith("AA") else "BB")
    for token in (expired, forged, tampered):
        async with client.ws_connect("/webchat/ws") as ws:
            await ws.send_json({"type": "hello", "identity_token": token})
            frames = [await ws.receive_json(timeout=5) for _ in range(2)]
        errors = [f for f in frames if f["type"] == "error"]
        assert errors and errors[0]["code"] == "bad_identity", frames
    assert await client.app[HUB].store.find_customer("user:u-1") is None
