"""Fixtures for the WhatsApp tests: a running fake Graph API."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.connectors.whatsapp.fake_graph import FakeGraphApi


@pytest.fixture
async def fake() -> AsyncIterator[FakeGraphApi]:
    api = FakeGraphApi()
    await api.start()
    try:
        yield api
    finally:
        await api.stop()
