"""`start_hub`: a whole hub (create_app) with the email channel on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from connectors.email.auth import DnsLookup
from connectors.email.connector import EmailConnector
from hub.abc import ConversationHandler
from hub.api import HUB
from hub.app import create_app
from hub.echo import EchoBot
from tests.connectors.email.harness import CaptureRelay, EmailHub, Start, config_yaml
from tests.support import hub_config, hub_env


@pytest.fixture
async def start_hub(tmp_path: Path, aiohttp_client: Any) -> AsyncIterator[Start]:
    relays: list[CaptureRelay] = []

    async def start(
        bot: ConversationHandler | None = None,
        *,
        dns: DnsLookup | None = None,
        environ: dict[str, str] | None = None,
        **email: Any,
    ) -> EmailHub:
        relay = CaptureRelay()
        await relay.start()
        relays.append(relay)
        folder = tmp_path / f"hub{len(relays)}"
        folder.mkdir()
        env = {**hub_env(folder), **(environ or {})}
        config = hub_config(env, config_yaml(folder, relay_port=relay.port, **email))
        app: web.Application = create_app(config, environ=env, bot=bot or EchoBot())
        connector = app[HUB].connectors["email"]
        assert isinstance(connector, EmailConnector)
        connector.dns = dns  # the network seam: DKIM keys from a dict, not from DNS
        await aiohttp_client(app)  # runs the app's start-up: store, channels, hub
        assert connector.receiver is not None
        return EmailHub(hub=app[HUB], relay=relay, port=connector.receiver.port)

    yield start
    for relay in relays:
        await relay.stop()
