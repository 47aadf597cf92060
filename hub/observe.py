"""Health, readiness and metrics endpoints.

- `GET /healthz` is liveness: the process serves HTTP. It stays 200 through a store outage,
  so an orchestrator does not restart a healthy process for a database's fault.
- `GET /readyz` is readiness: the store takes a write and reads it back (a probe counter),
  and the custom-action server answers its `/health`, when one is configured. 503 with
  which check failed (the why goes to the log), and `Retry-After`, when not ready; a load
  balancer stops sending traffic. With the dialog engine it also names the bot version this
  process serves and the last one any process announced (`hub.bot_sync`).
- `GET /metrics` is Prometheus text; it needs the API token unless `server.metrics_public`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aiohttp
from aiohttp import web

from hub.api import API_TOKEN, HUB
from hub.http import require_bearer
from hub.ports import Limits

log = logging.getLogger("frontdesk.observe")

routes = web.RouteTableDef()

PROBE_KEY = "readyz:probe"
RETRY_AFTER = 5  # seconds a client waits before asking a not-ready server again


@dataclass(frozen=True, slots=True, kw_only=True)
class Readiness:
    """What `/readyz` checks, and whether `/metrics` is public."""

    store: Limits
    action_endpoint: str = ""  # the rasa-sdk webhook; its server's /health is probed
    timeout: float = 2.0
    metrics_public: bool = False
    bot: Callable[[], Mapping[str, Any]] | None = None  # `hub.bot_sync.BotSync.status`

    async def check(self) -> dict[str, str]:
        """Each dependency → "ok" or what is wrong with it."""
        checks = {"store": await self._probe(self._store)}
        if self.action_endpoint:
            checks["action_server"] = await self._probe(self._action_server)
        return checks

    async def _probe(self, check: Callable[[], Awaitable[None]]) -> str:
        try:
            async with asyncio.timeout(self.timeout):
                await check()
        except TimeoutError:
            return f"no answer within {self.timeout:g}s"
        except Exception as problem:  # any failure is "not ready", never a 500
            return f"{type(problem).__name__}: {problem}"[:200]
        return "ok"

    async def _store(self) -> None:
        # A write and a read in one: the counter comes back from the store itself.
        count = await self.store.count_hit(PROBE_KEY, window=60.0, now=time.time())
        if count < 1:
            raise RuntimeError(f"the probe write read back as {count}")

    async def _action_server(self) -> None:
        async with (
            aiohttp.ClientSession() as session,
            session.get(health_url(self.action_endpoint)) as response,
        ):
            if response.status != 200:
                raise RuntimeError(f"{health_url(self.action_endpoint)} answered {response.status}")


READINESS = web.AppKey("readiness", Readiness)


def health_url(action_endpoint: str) -> str:
    """`http://host:5055/webhook` → `http://host:5055/health` (rasa-sdk's health route)."""
    parts = urlsplit(action_endpoint)
    return urlunsplit((parts.scheme, parts.netloc, "/health", "", ""))


@routes.get("/healthz")
async def healthz(request: web.Request) -> web.Response:
    hub = request.app[HUB]
    return web.json_response(
        {"status": "ok" if hub.accepting else "starting", "channels": sorted(hub.connectors)}
    )


@routes.get("/readyz")
async def readyz(request: web.Request) -> web.Response:
    hub = request.app[HUB]
    details = await request.app[READINESS].check()
    ready = hub.accepting and all(result == "ok" for result in details.values())
    if not ready:
        # The details (hosts, ports, errors) go to the log, not to whoever asked.
        log.warning("not ready", extra={"checks": details, "accepting": hub.accepting})
    checks = {name: "ok" if result == "ok" else "failing" for name, result in details.items()}
    body: dict[str, Any] = {
        "status": "ready" if ready else "not ready",
        "accepting": hub.accepting,
        "checks": checks,
    }
    bot = request.app[READINESS].bot
    if bot is not None:
        body["bot"] = dict(bot())
    return web.json_response(
        body,
        status=200 if ready else 503,
        headers={} if ready else {"Retry-After": str(RETRY_AFTER)},
    )


@routes.get("/metrics")
async def metrics(request: web.Request) -> web.Response:
    if not request.app[READINESS].metrics_public:
        require_bearer(request, request.app[API_TOKEN], realm="metrics")
    return web.Response(
        text=request.app[HUB].metrics.render(), content_type="text/plain", charset="utf-8"
    )
