"""Files in the console: an agent uploads one into a conversation, then replies with it;
anyone signed in reads a conversation's files through the console's own session.

``POST /console/api/conversations/{id}/attachments`` (multipart, one ``file`` part) stores
the file for that conversation (`hub.attachments`: size, name and sniffed-type limits) and
answers its id; the reply then names the ids (``{"text", "attachments": [id]}``), and only
files of that same conversation are accepted. ``GET /console/api/attachments/{id}`` serves
a file with the hub's one set of download headers (images inline, anything else as a
download, never HTML), and ``…/{id}/thumbnail`` an image's thumbnail (`hub.thumbnails`). Refusals carry the reason in English and Chinese.
"""

from __future__ import annotations

from aiohttp import web

from handoff.actions import Actor
from handoff.api import ACTIONS, HANDOFF
from handoff.console.accounts import Role
from handoff.console.auth import principal_of, require
from hub.attachments_http import (
    attachment_store,
    serve_stored,
    serve_thumbnail,
    upload_response,
)
from hub.errors import InputError

routes = web.RouteTableDef()


@routes.post("/console/api/conversations/{conversation_id}/attachments")
@require(Role.AGENT)
async def upload(request: web.Request) -> web.Response:
    principal = principal_of(request)
    conversation_id = request.match_info["conversation_id"]
    engine = request.app.get(HANDOFF)
    if engine is None:
        raise InputError("the hand-off is not enabled (bot.handoff_path)", status=503)
    actor = Actor(principal.account.id, sees_all=principal.role.allows(Role.SUPERVISOR))
    request.app[ACTIONS].ticket(actor, conversation_id)  # 404 before the body is read
    return await upload_response(
        request,
        attachment_store(request),
        uploader=f"agent:{principal.account.id}",
        conversation_id=conversation_id,
    )


@routes.get("/console/api/attachments/{attachment_id}")
@require(Role.AGENT)
async def download(request: web.Request) -> web.Response:
    return await serve_stored(attachment_store(request), request.match_info["attachment_id"])


@routes.get("/console/api/attachments/{attachment_id}/thumbnail")
@require(Role.AGENT)
async def thumbnail(request: web.Request) -> web.Response:
    """An image's thumbnail, made when it was stored; a 404 when it has none."""
    return await serve_thumbnail(attachment_store(request), request.match_info["attachment_id"])
