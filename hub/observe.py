"""Health and metrics endpoints."""

from __future__ import annotations

from aiohttp import web

from hub.api import HUB

routes = web.RouteTableDef()


@routes.get("/healthz")
async def healthz(request: web.Request) -> web.Response:
    hub = request.app[HUB]
    return web.json_response(
        {"status": "ok" if hub.accepting else "starting", "channels": sorted(hub.connectors)}
    )


@routes.get("/metrics")
async def metrics(request: web.Request) -> web.Response:
    return web.Response(
        text=request.app[HUB].metrics.render(), content_type="text/plain", charset="utf-8"
    )
