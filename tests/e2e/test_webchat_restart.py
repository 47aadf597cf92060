"""Defect 5: a restart without `FRONTDESK_WEBCHAT_SECRET` no longer forgets web chat visitors.
The secret is generated once, kept 0600 beside the store, and read again on start; a queued P1
customer who comes back after the restart still has their ticket (English and Chinese).
Real server app, real SQLite, the widget's own WebSocket protocol."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from tests.connectors.webchat.helpers import frames_until, hello
from tests.e2e.test_handoff_channels import build, out_text, ws_say
from tests.handoff.helpers import TinyBot

CHANNELS = {"webchat": {"enabled": True, "rate_per_second": 100, "rate_burst": 100}}


async def started(tmp_path: Path) -> TestClient:
    app: web.Application = build(tmp_path, CHANNELS, {}, TinyBot())  # no webchat secret
    client = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    return client


@pytest.mark.parametrize(
    ("complaint", "queued", "ask", "still_queued"),
    [
        ("I have a complaint, this is urgent", "(ticket #1001)", "status", "Your ticket #1001"),
        ("我要投诉，很紧急", "（工单 #1001）", "进度", "您的工单 #1001"),
    ],
)
async def test_a_queued_visitor_is_remembered_across_a_restart(
    tmp_path: Path, complaint: str, queued: str, ask: str, still_queued: str
) -> None:
    client = await started(tmp_path)
    try:
        async with client.ws_connect("/webchat/ws") as ws:
            welcome = (await hello(ws))[0]
            token = welcome["token"]
            await ws_say(ws, 1, complaint)
            frames = await frames_until(ws, out_text(queued))
            conversation_id = frames[-1]["conversation_id"]
    finally:
        await client.close()

    kept = tmp_path / "webchat.secret"  # beside the SQLite store, the data directory
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    secret = kept.read_text()

    client = await started(tmp_path)
    try:
        async with client.ws_connect("/webchat/ws") as ws:
            frames = await hello(ws, token=token)
            assert (
                frames[0]["type"] == "welcome" and frames[0]["conversation_id"] == conversation_id
            )
            assert any(
                f.get("text", "").endswith(queued) or queued in f.get("text", "") for f in frames
            )
            await ws_say(ws, 2, ask)
            await frames_until(ws, out_text(still_queued))
    finally:
        await client.close()
    assert kept.read_text() == secret  # generated once
