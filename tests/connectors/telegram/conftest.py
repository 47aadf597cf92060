"""Fixtures for the Telegram tests: a running fake Bot API."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from telegram.error import NetworkError
from telegram.request import HTTPXRequest

from tests.connectors.telegram.fake_bot_api import FakeBotApi


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotApi]:
    api = FakeBotApi()
    await api.start()
    try:
        yield api
    finally:
        await api.stop()


@pytest.fixture
def cancel_lost_in_transport(monkeypatch: pytest.MonkeyPatch) -> None:
    """The HTTP transport turns a cancel into a network error, as a client or store on
    Python 3.11 can: the loop that awaited it sees an ordinary failure and would go on."""
    real = HTTPXRequest.do_request

    async def do_request(self: HTTPXRequest, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        try:
            return await real(self, *args, **kwargs)
        except asyncio.CancelledError:
            raise NetworkError("connection closed") from None

    monkeypatch.setattr(HTTPXRequest, "do_request", do_request)
