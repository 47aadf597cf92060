"""Files on the web chat: signed links, who may read what, and the refusal the widget shows.

A visitor uploads with their token (``POST /webchat/attachments``), then sends a message
frame naming the returned id; only their own uploads can be named. What the widget shows
(`<img src>`, `<a href download>`) cannot carry an ``Authorization`` header, and the
visitor token must never sit in a URL (logs, history, Referer): so each file in a frame
sent to a visitor gets a link signed for that visitor and that file only,
``/webchat/attachments/<id>?v=<visitor>&s=<HMAC(secret, visitor, id)>``. A link is
honoured only while the file is the visitor's own upload or belongs to their current
conversation (an agent's file), so a link passed on outlives neither. The same link with
``&size=thumbnail`` answers an image's thumbnail (`hub.thumbnails`), or 404 without one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

from aiohttp import web

from hub.attachments import AttachmentStore, StoredAttachment
from hub.errors import InputError
from hub.model import Attachment, Conversation

DOWNLOAD_PATH = "/webchat/attachments"
NOT_FOUND = InputError("no such attachment", status=404)


def signature(secret: bytes, visitor: str, attachment_id: str) -> str:
    mac = hmac.new(secret, f"wa1.{visitor}.{attachment_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac[:18]).decode()


def link(secret: bytes, visitor: str, attachment_id: str) -> str:
    """The path of a file as `visitor` may fetch it (the widget prefixes the hub's origin)."""
    sig = signature(secret, visitor, attachment_id)
    return f"{DOWNLOAD_PATH}/{attachment_id}?v={quote(visitor)}&s={sig}"


def signed_visitor(secret: bytes, request: web.Request, attachment_id: str) -> str:
    """The visitor a signed link was made for, or "" when it carries no valid signature."""
    visitor = request.query.get("v", "")
    given = request.query.get("s", "")
    if not visitor or not given:
        return ""
    expected = signature(secret, visitor, attachment_id)
    return visitor if hmac.compare_digest(given.encode(), expected.encode()) else ""


def with_links(frame: dict[str, Any], secret: bytes, visitor: str) -> dict[str, Any]:
    """`frame` with a link for `visitor` on each stored file (a copy: frames are shared)."""
    files = frame.get("attachments")
    if not files or not any("id" in f for f in files):
        return frame
    linked = [_linked(f, link(secret, visitor, f["id"])) if "id" in f else f for f in files]
    return {**frame, "attachments": linked}


def _linked(file: dict[str, Any], url: str) -> dict[str, Any]:
    """A file with its link, and an image with its thumbnail's (the same link asking for
    `size=thumbnail`: the signature names the file, the thumbnail is a view of it)."""
    if file.get("kind") == "image":
        return {**file, "url": url, "thumbnail_url": f"{url}&size=thumbnail"}
    return {**file, "url": url}


async def owned(
    store: AttachmentStore, identity: str, ids: tuple[str, ...]
) -> tuple[Attachment, ...]:
    """The references for files `identity` uploaded; a 404 names the first that is not
    theirs (or not stored), so one visitor cannot pass off another's file as their own."""
    references = []
    for attachment_id in ids:
        stored = await store.meta(attachment_id)
        if stored is None or stored.uploader != identity:
            raise InputError(f"attachment {attachment_id} was not uploaded by you", status=404)
        references.append(stored.reference())
    return tuple(references)


async def readable(
    store: AttachmentStore,
    attachment_id: str,
    identity: str,
    current: Callable[[], Awaitable[Conversation | None]],
) -> tuple[StoredAttachment, bytes]:
    """The file and its bytes if `identity` may read it (see the module docstring); the
    same 404 for "not yours" and "not there", so ids of others' files are not confirmed."""
    stored = await store.meta(attachment_id)
    if stored is None:
        raise NOT_FOUND
    if stored.uploader != identity:
        conversation = await current()
        if not stored.conversation_id or conversation is None:
            raise NOT_FOUND
        if conversation.id != stored.conversation_id:
            raise NOT_FOUND
    data = await store.read(attachment_id)
    if data is None:
        raise NOT_FOUND
    return stored, data


__all__ = ["link", "owned", "readable", "signed_visitor", "with_links"]
