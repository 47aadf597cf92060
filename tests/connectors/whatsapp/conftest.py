"""Fixtures for the WhatsApp tests: a running fake Graph API."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.connectors.whatsapp.fake_graph import FakeGraphApi


@pytest.fixture
async def fake() -> AsyncIterator[FakeGraphApi]:
    async with FakeGraphApi() as api:
        yield api
