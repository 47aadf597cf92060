"""`/favicon.ico`: browsers ask for it on every page, so answer with a small icon, not a 404."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

ICON = Path(__file__).parent / "static" / "favicon.ico"

routes = web.RouteTableDef()


@routes.get("/favicon.ico")
async def favicon(request: web.Request) -> web.StreamResponse:
    # FileResponse answers conditional requests (ETag, Last-Modified) like the console's static
    # files; a day's max-age spares the request on most pages, and no session is needed.
    return web.FileResponse(
        ICON,
        headers={
            "Content-Type": "image/x-icon",
            "Cache-Control": "public, max-age=86400",
            "X-Content-Type-Options": "nosniff",
        },
    )
