"""A hub shutting down with clients connected: the console's live feed, the hand-off API's
feed and the web chat's socket are closed "going away" (1001) as the shutdown begins, so
the clients reconnect to another process at once and the server does not sit waiting for
sockets that never end by themselves (until a heartbeat fails, or its shutdown timeout)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from aiohttp import ClientWebSocketResponse, WSCloseCode, WSMsgType
from aiohttp.test_utils import TestClient, TestServer

from handoff.console.accounts import Role
from tests.connectors.webchat.helpers import SECRET, hello
from tests.handoff.console.helpers import console_app, handoff_env, login, seed_sqlite
from tests.support import API_TOKEN

# Long enough that only the shutdown itself can end the sockets while the test waits.
NEVER = 3600.0


async def closing_code(ws: ClientWebSocketResponse) -> int | None:
    """The close code the server sent (None when the socket ended without a close frame)."""
    while True:
        message = await ws.receive(timeout=NEVER)
        if message.type == WSMsgType.CLOSE:
            return int(message.data)
        if message.type in (WSMsgType.CLOSED, WSMsgType.ERROR):
            return None


async def test_shutting_down_closes_every_live_socket_going_away(tmp_path: Path) -> None:
    await seed_sqlite(tmp_path, ("mei", Role.AGENT))
    app = console_app(handoff_env(tmp_path, FRONTDESK_WEBCHAT_SECRET=SECRET))
    server = TestServer(app)
    # The server would wait for open handlers for an hour: only a hang-up ends them.
    await server.start_server(shutdown_timeout=NEVER)
    client: TestClient[Any, Any] = TestClient(server)
    await client.start_server()
    shutdown: asyncio.Task[None] | None = None
    try:
        await login(client, "mei")
        console = await client.ws_connect("/console/ws", heartbeat=None)
        assert (await console.receive_json(timeout=10))["type"] == "hello"
        api = await client.ws_connect(
            "/api/v1/handoff/feed", headers={"Authorization": f"Bearer {API_TOKEN}"}
        )
        assert (await api.receive_json(timeout=10))["type"] == "hello"
        visitor = await client.ws_connect("/webchat/ws", heartbeat=None)
        await hello(visitor)

        shutdown = asyncio.create_task(server.close())
        codes = await asyncio.gather(
            closing_code(console), closing_code(api), closing_code(visitor)
        )
        assert list(codes) == [WSCloseCode.GOING_AWAY] * 3
    finally:
        if shutdown is not None:
            await shutdown
        await client.close()
