"""Files in the console: an agent uploads one into a conversation, then replies with it;
anyone signed in reads a conversation's files through the console's own session.

``POST /console/api/conversations/{id}/attachments`` (multipart, one ``file`` part) stores
the file for that conversation (`hub.attachments`: size, name and sniffed-type limits) and
answers its id; the reply then names the ids (``{"text", "attachments": [id]}``), and only
files of that same conversation are accepted. ``GET /console/api/attachments/{id}`` serves
a file with the hub's one set of download headers (images inline, anything else as a
download, never HTML). Refusals carry the reason in English and Chinese.
"""

from __future__ import annotations

import logging

from aiohttp import web

from handoff.actions import Actor, AgentActions
from handoff.api import HANDOFF
from handoff.console.accounts import Role
from handoff.console.auth import principal_of, require
from hub.attachments import AttachmentRefused, AttachmentStore, conversation_files
from hub.attachments_http import ATTACHMENTS, download_response, read_upload
from hub.errors import InputError
from hub.http import Fields, json_response
from hub.model import Attachment

log = logging.getLogger("frontdesk.console.files")

routes = web.RouteTableDef()

MAX_FILES = 10  # per reply


def _store(request: web.Request) -> AttachmentStore:
    store = request.app.get(ATTACHMENTS)
    if store is None:
        raise InputError("files are not enabled on this server", status=404)
    return store


def _refused(error: AttachmentRefused) -> web.Response:
    return json_response({"error": error.to_json()}, status=error.status)


@routes.post("/console/api/conversations/{conversation_id}/attachments")
@require(Role.AGENT)
async def upload(request: web.Request) -> web.Response:
    principal = principal_of(request)
    conversation_id = request.match_info["conversation_id"]
    engine = request.app.get(HANDOFF)
    if engine is None:
        raise InputError("the hand-off is not enabled (bot.handoff_path)", status=503)
    actor = Actor(principal.account.id, sees_all=principal.role.allows(Role.SUPERVISOR))
    AgentActions(engine).ticket(actor, conversation_id)  # 404 before the body is read
    store = _store(request)
    try:
        upload = await read_upload(request, store.settings)
        stored = await store.put(
            upload.data,
            name=upload.name,
            declared_type=upload.declared_type,
            uploader=f"agent:{principal.account.id}",
            conversation_id=conversation_id,
        )
    except AttachmentRefused as refused:
        log.info(
            "console upload refused",
            extra={"account": principal.account.id, "status": refused.status},
        )
        return _refused(refused)
    return json_response(
        {
            "attachment": {
                "id": stored.id,
                "name": stored.name,
                "kind": stored.kind,
                "mime_type": stored.sniffed_type,
                "size": stored.size,
            }
        },
        status=201,
    )


@routes.get("/console/api/attachments/{attachment_id}")
@require(Role.AGENT)
async def download(request: web.Request) -> web.Response:
    store = _store(request)
    attachment_id = request.match_info["attachment_id"]
    stored = await store.meta(attachment_id)
    data = await store.read(attachment_id) if stored is not None else None
    if stored is None or data is None:
        raise InputError("no such attachment", status=404)
    return download_response(stored, data)


async def reply_files(
    request: web.Request, body: Fields, conversation_id: str
) -> tuple[Attachment, ...]:
    """The files a reply's ``attachments`` names: ids of this conversation's uploads."""
    ids = body.items("attachments", max_items=MAX_FILES)
    if not ids:
        return ()
    if not all(isinstance(i, str) for i in ids):
        raise InputError("field 'attachments' must be a list of attachment ids", status=422)
    return await conversation_files(_store(request), ids, conversation_id=conversation_id)
