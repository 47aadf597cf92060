"""Fixtures of the dialog tests that run the demo bot inside a real hub."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from hub.app import create_app
from tests.dialogs.talk import demo_engine
from tests.support import CallbackReceiver, hub_config, hub_env


@pytest.fixture
async def receiver() -> AsyncIterator[CallbackReceiver]:
    receiver = CallbackReceiver()
    await receiver.start()
    yield receiver
    await receiver.stop()


@pytest.fixture
async def client(
    aiohttp_client: Any, tmp_path: Path, receiver: CallbackReceiver, action_server: Any
) -> Any:
    """The demo bot in a hub, its custom actions on the real rasa-sdk action server."""
    env = hub_env(tmp_path, FRONTDESK_API_CHANNEL_CALLBACK_URL=receiver.url)
    bot = demo_engine(action_endpoint=action_server.url)
    return await aiohttp_client(create_app(hub_config(env), environ=env, bot=bot))
