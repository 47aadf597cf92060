"""Attachments over HTTP: reading an upload, and the one way a stored file is served.

Uploads are ``multipart/form-data`` with one ``file`` part. The server's body limit
(`server.max_body_bytes`, small on purpose) does not apply to them: the part is read as a
stream and cut off at `attachments.max_bytes` (+1 byte to tell "too large"), within
`attachments.upload_timeout`.

Serving (`download_response`) is the same on every surface, whoever asked: the sniffed
type as `Content-Type`, `X-Content-Type-Options: nosniff`, a sandboxing CSP of its own, and
`Content-Disposition: attachment` for anything that is not a sniffed PNG, JPEG, GIF or
WebP, so no stored file is ever shown inline as HTML or SVG. Authorisation is the
caller's: the console's session, a web chat visitor's signed link.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote

from aiohttp import BodyPartReader, web

from hub.attachments import (
    AttachmentRefused,
    AttachmentSettings,
    AttachmentStore,
    StoredAttachment,
    too_large,
)
from hub.errors import InputError
from hub.http import json_response

log = logging.getLogger("frontdesk.attachments")

#: The application's attachment store, set by `hub.app.create_app`.
ATTACHMENTS = web.AppKey[AttachmentStore]("attachments")

_CHUNK = 64 * 1024
_ESCAPED = re.compile(r"%[0-9A-Fa-f]{2}")


@dataclass(frozen=True, slots=True)
class Upload:
    data: bytes
    name: str
    declared_type: str


async def read_upload(request: web.Request, settings: AttachmentSettings) -> Upload:
    """The ``file`` part of a multipart upload, or an `InputError` (400, 408, 413, 415)."""
    if request.content_type != "multipart/form-data":
        raise AttachmentRefused(
            "upload the file as multipart/form-data with a 'file' part",
            "请以 multipart/form-data 上传，文件字段名为 'file'",
            status=415,
            code="bad_upload",
        )
    limit = settings.max_bytes
    if request.content_length is not None and request.content_length > limit + _CHUNK:
        raise too_large(limit)  # refused before a byte is read
    try:
        async with asyncio.timeout(settings.upload_timeout):
            return await _file_part(request, limit)
    except TimeoutError:
        raise InputError(
            f"the upload did not arrive within {settings.upload_timeout:g} seconds", status=408
        ) from None
    except ValueError as error:  # aiohttp's words for a malformed multipart body
        raise InputError(f"malformed multipart body: {error}") from None


async def _file_part(request: web.Request, limit: int) -> Upload:
    reader = await request.multipart()
    while True:
        part = await reader.next()
        if part is None:
            break
        if not isinstance(part, BodyPartReader) or part.name != "file":
            continue
        chunks: list[bytes] = []
        size = 0
        while chunk := await part.read_chunk(_CHUNK):
            size += len(chunk)
            if size > limit:
                raise too_large(limit)
            chunks.append(chunk)
        return Upload(
            data=b"".join(chunks),
            name=_part_name(part.filename or ""),
            declared_type=part.headers.get("Content-Type", ""),
        )
    raise AttachmentRefused(
        "the upload has no 'file' part", "上传内容缺少 'file' 字段", status=400, code="bad_upload"
    )


def attachment_store(request: web.Request) -> AttachmentStore:
    """The application's store, or a 404 where none is wired (a bare test app)."""
    store = request.app.get(ATTACHMENTS)
    if store is None:
        raise InputError("files are not enabled on this server", status=404)
    return store


async def serve_stored(store: AttachmentStore, attachment_id: str) -> web.Response:
    """A stored file by id, for a caller already allowed to read it; else a 404."""
    stored = await store.meta(attachment_id)
    data = await store.read(attachment_id) if stored is not None else None
    if stored is None or data is None:
        raise InputError("no such attachment", status=404)
    return download_response(stored, data)


async def serve_thumbnail(store: AttachmentStore, attachment_id: str) -> web.Response:
    """The thumbnail of a stored image (`hub.thumbnails`), for a caller already allowed to
    read the image; a 404 where there is none (the page shows a file icon instead)."""
    stored = await store.meta(attachment_id)
    found = await store.thumbnail(stored) if stored is not None else None
    if found is None:
        raise InputError("no thumbnail for this attachment", status=404)
    return download_response(*found)


async def upload_response(
    request: web.Request, store: AttachmentStore, *, uploader: str, conversation_id: str = ""
) -> web.Response:
    """Read an upload and store it: 201 with the file's metadata, or the refusal with its
    reason in English and Chinese (``{"error": {status, code, message, message_zh}}``).
    Every surface that takes files (web chat, console, hand-off API) answers the same."""
    try:
        upload = await read_upload(request, store.settings)
        stored = await store.put(
            upload.data,
            name=upload.name,
            declared_type=upload.declared_type,
            uploader=uploader,
            conversation_id=conversation_id,
        )
    except InputError as problem:
        log.info(
            "upload refused",
            extra={"uploader": uploader, "status": problem.status, "reason": problem.message},
        )
        return refusal_response(problem)
    log.info(
        "file stored", extra={"uploader": uploader, "attachment": stored.id, "size": stored.size}
    )
    return json_response({"attachment": stored_view(stored)}, status=201)


def stored_view(stored: StoredAttachment) -> dict[str, Any]:
    """What an uploader is told of the file it stored (never where it lies)."""
    return {
        "id": stored.id,
        "name": stored.name,
        "kind": stored.kind,
        "mime_type": stored.sniffed_type,
        "size": stored.size,
    }


def refusal_response(error: InputError) -> web.Response:
    body: dict[str, Any]
    if isinstance(error, AttachmentRefused):
        body = error.to_json()
    else:  # the transport's refusals (408, a malformed body): English only, as everywhere
        body = {"status": error.status, "code": "bad_upload", "message": error.message}
    return json_response({"error": body}, status=error.status)


def _part_name(raw: str) -> str:
    """Browsers send a file name as UTF-8; some clients (aiohttp's own) percent-encode it.
    An all-ASCII name whose escapes decode to non-ASCII UTF-8 is taken as encoded; any
    other is kept as sent ("100%25.txt" stays itself)."""
    if raw.isascii() and _ESCAPED.search(raw):
        try:
            decoded = unquote(raw, errors="strict")
        except UnicodeDecodeError:
            return raw
        if not decoded.isascii():
            return decoded
    return raw


def download_response(stored: StoredAttachment, data: bytes) -> web.Response:
    """A stored file as its owner may read it (see the module docstring)."""
    name, sniffed = stored.name, stored.sniffed_type
    content_type = "text/plain; charset=utf-8" if sniffed == "text/plain" else sniffed
    disposition = "inline" if stored.inline else "attachment"
    fallback = "".join(
        c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in name
    )
    headers = {
        "Content-Type": content_type,
        "Content-Disposition": (
            f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"
        ),
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Cache-Control": "private, max-age=3600",
    }
    return web.Response(body=data, headers=headers)


__all__ = [
    "ATTACHMENTS",
    "Upload",
    "attachment_store",
    "download_response",
    "read_upload",
    "refusal_response",
    "serve_stored",
    "serve_thumbnail",
    "stored_view",
    "upload_response",
]
