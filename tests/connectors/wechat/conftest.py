"""Fixtures for the WeChat tests: a running fake WeChat API."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.connectors.wechat.fake_wechat import FakeWeChatApi


@pytest.fixture
async def fake() -> AsyncIterator[FakeWeChatApi]:
    async with FakeWeChatApi() as api:
        yield api
