"""Helpers shared by the tests: build a real hub app on a temporary store, receive callbacks."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any, Self

from aiohttp import web

from hub.abc import ChannelLinks, Connector, Turn, TurnResult
from hub.attachments import AttachmentSettings
from hub.attachments_fs import FileAttachments
from hub.config import Config, Section, load_config
from hub.hub import Hub
from hub.model import Delivery, Inbound, Outbound

REPO = Path(__file__).resolve().parents[1]
DEMO_CONFIG = REPO / "config" / "frontdesk.yaml"

API_TOKEN = "test-api-token"
CHANNEL_TOKEN = "test-channel-token"


def hub_env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    """Environment for a hub on a fresh SQLite file with known tokens."""
    env = {
        "FRONTDESK_STORE_URL": f"sqlite:///{tmp_path}/frontdesk.db",
        "FRONTDESK_API_TOKEN": API_TOKEN,
        "FRONTDESK_API_CHANNEL_TOKEN": CHANNEL_TOKEN,
        "FRONTDESK_LOG_FORMAT": "text",
    }
    env.update(overrides)
    return env


def hub_config(env: Mapping[str, str], path: Path = DEMO_CONFIG) -> Config:
    return load_config(path, env)


def channel_links(hub: Hub, directory: Path) -> ChannelLinks:
    """What a channel built outside `create_app` is linked to: `hub`, and files kept in
    `directory` (never opened: a test that stores files opens it)."""
    return ChannelLinks(
        ingest=hub.ingest, log=hub, attachments=FileAttachments(directory, AttachmentSettings())
    )


class RecordingConnector(Connector):
    """A channel at the network edge: keeps what the hub delivers, per address (the
    hand-off rig's, the turn lease tests')."""

    name = "test"

    def __init__(self, *, links: ChannelLinks) -> None:
        super().__init__(links=links)
        self.sent: dict[str, list[Outbound]] = {}

    @classmethod
    def from_config(
        cls, settings: Section, *, links: ChannelLinks, environ: Mapping[str, str]
    ) -> Self:
        return cls(links=links)

    async def deliver(self, delivery: Delivery) -> Mapping[str, Any]:
        self.sent.setdefault(delivery.address, []).append(delivery.outbound)
        return {"id": delivery.id}


async def run_turn_again(hub: Hub, conversation_id: str, now: float) -> TurnResult:
    """The last customer message's turn, run once more by the hub's bot-side owner, as
    the hub does when the first run's commit was lost (a crash, the lease lost mid-turn)."""
    conversation = await hub.store.get_conversation(conversation_id)
    assert conversation is not None
    customer = await hub.store.get_customer(conversation.customer_id)
    assert customer is not None
    events = await hub.store.events(conversation_id, limit=1000)
    message = [e for e in events if e.type == "message.in"][-1]
    inbound = Inbound(
        channel=conversation.channel, sender=conversation.address, message_id="again",
        text=str(message.data["text"]),
    )  # fmt: skip
    turn = Turn(conversation=conversation, customer=customer, event=message, inbound=inbound,
                now=now)  # fmt: skip
    return await hub.bot.handle(turn)


def channel_auth() -> dict[str, str]:
    return {"Authorization": f"Bearer {CHANNEL_TOKEN}"}


def api_auth() -> dict[str, str]:
    return {"Authorization": f"Bearer {API_TOKEN}"}


class CallbackReceiver:
    """A real HTTP server on loopback that records what the api channel posts to it."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.headers: list[Mapping[str, str]] = []
        self.bodies: list[bytes] = []
        self.fail_next = 0  # answer 503 to this many requests first
        self.status_after_failures = 204
        self._arrived = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        if self.fail_next > 0:
            self.fail_next -= 1
            return web.Response(status=503)
        self.bodies.append(body)
        self.headers.append(dict(request.headers))
        self.received.append(json.loads(body))
        async with self._arrived:
            self._arrived.notify_all()
        return web.Response(status=self.status_after_failures)

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/callback", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}/callback"
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def wait_for(self, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        """Wait until at least `count` callbacks arrived (fails the test after `timeout`)."""
        async with self._arrived:
            await asyncio.wait_for(
                self._arrived.wait_for(lambda: len(self.received) >= count), timeout
            )
        return self.received


def fast_retries(config: Config, **overrides: float) -> Config:
    """The same config with retry delays short enough for tests."""
    from dataclasses import replace

    from hub.delivery import RetryPolicy

    policy = dict(
        max_attempts=4, base_delay=0.05, max_delay=0.2, send_timeout=2.0, poll_interval=0.05
    )
    policy.update(overrides)
    return replace(config, delivery=RetryPolicy(**policy))  # type: ignore[arg-type]


@contextlib.asynccontextmanager
async def served(app: web.Application) -> AsyncIterator[str]:
    """Run `app` on a free loopback port (for a browser or a raw socket); its base URL."""
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()
