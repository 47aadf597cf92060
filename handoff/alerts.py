"""Supervisor alerts to an optional webhook: SLA warnings and breaches as JSON POSTs.

Fire and forget, but never silent: a failed POST is logged with the conversation id. One
client session for the whole run, a short timeout, and a bound on POSTs in flight.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp

log = logging.getLogger("frontdesk.handoff.alerts")

MAX_IN_FLIGHT = 100


class WebhookNotifier:
    def __init__(self, url: str, *, timeout: float = 5.0) -> None:
        self.url = url
        self.timeout = timeout
        self._session: aiohttp.ClientSession | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))

    async def stop(self) -> None:
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=self.timeout)
        if self._session is not None:
            await self._session.close()

    def send(self, alert: dict[str, Any]) -> None:
        if self._session is None or len(self._tasks) >= MAX_IN_FLIGHT:
            log.error("alert webhook unavailable; alert not posted: %s", alert)
            return
        task = asyncio.create_task(self._post(alert))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _post(self, alert: dict[str, Any]) -> None:
        assert self._session is not None
        try:
            async with self._session.post(self.url, json=alert) as response:
                if response.status >= 300:
                    log.error(
                        "alert webhook answered %s for %s",
                        response.status,
                        alert.get("conversation_id"),
                    )
        except (aiohttp.ClientError, TimeoutError) as error:
            log.error("alert webhook failed for %s: %r", alert.get("conversation_id"), error)
