"""Fixtures for the SMS tests: a running fake Twilio."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.connectors.sms.fake_twilio import FakeTwilio


@pytest.fixture
async def fake() -> AsyncIterator[FakeTwilio]:
    async with FakeTwilio() as api:
        yield api
