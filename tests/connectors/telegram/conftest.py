"""Fixtures for the Telegram tests: a running fake Bot API."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.connectors.telegram.fake_bot_api import FakeBotApi


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotApi]:
    api = FakeBotApi()
    await api.start()
    try:
        yield api
    finally:
        await api.stop()
