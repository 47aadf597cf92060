"""Files on Telegram: keeping what a user sent, and the call that sends a stored file.

Inbound, a photo or document is fetched before the update is stored (`getFile`, then the
file server under ``base_file_url``) and put in the attachment store; the message then
carries the stored reference, with Telegram's `file_id` kept as `ref`. A file the store
refuses (too large, a type not accepted) or Telegram will not hand over (over its 20 MB
`getFile` limit) is still logged as a reference without bytes, and the reason is kept in
``raw.attachments_refused``: the message itself is never lost for its file. A network
failure raises, so the update is not acknowledged and Telegram sends it again.

Outbound, a stored image goes as `sendPhoto`, anything else as `sendDocument`, the bytes
read from the store on every attempt.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from telegram import Bot, Message
from telegram.error import BadRequest

from hub.attachments import (
    INLINE_IMAGES,
    AttachmentRefused,
    AttachmentStore,
    plain_name,
    too_large,
)
from hub.errors import DeliveryError
from hub.model import Attachment, Inbound

log = logging.getLogger("frontdesk.connectors.telegram")

KEPT_KINDS = {"image": "photo.jpg", "document": "document"}  # kind → name when none is given


async def keep_files(bot: Bot, store: AttachmentStore, inbound: Inbound) -> Inbound:
    """`inbound` with its photos and documents stored (see the module docstring)."""
    if not any(a.kind in KEPT_KINDS and a.ref for a in inbound.attachments):
        return inbound
    kept: list[Attachment] = []
    refused: list[dict[str, Any]] = []
    for attachment in inbound.attachments:
        if attachment.kind not in KEPT_KINDS or not attachment.ref:
            kept.append(attachment)
            continue
        try:
            kept.append(await _keep(bot, store, inbound.identity, attachment))
        except AttachmentRefused as refusal:
            refused.append({"ref": attachment.ref, "code": refusal.code, "reason": refusal.message})
            kept.append(attachment)
    raw = {**inbound.raw, "attachments_refused": refused} if refused else inbound.raw
    return dataclasses.replace(inbound, attachments=tuple(kept), raw=raw)


async def _keep(
    bot: Bot, store: AttachmentStore, identity: str, attachment: Attachment
) -> Attachment:
    limit = store.settings.max_bytes
    if attachment.size is not None and attachment.size > limit:
        raise too_large(limit)  # said by Telegram: no need to download it to know
    try:
        remote = await bot.get_file(attachment.ref)
    except BadRequest as error:  # "file is too big" and the like: asking again cannot help
        raise AttachmentRefused(
            f"telegram would not hand over the file: {error.message}",
            f"Telegram 未提供该文件：{error.message}",
            status=422,
            code="unavailable",
        ) from None
    if remote.file_size is not None and remote.file_size > limit:
        raise too_large(limit)
    data = bytes(await remote.download_as_bytearray())
    stored = await store.put(
        data,
        name=plain_name(attachment.name, KEPT_KINDS[attachment.kind]),
        # Telegram re-encodes photos and declares nothing; a document's type is the user's.
        declared_type=attachment.mime_type if attachment.kind == "document" else "",
        uploader=identity,
    )
    log.info("telegram file stored", extra={"attachment": stored.id, "size": stored.size})
    return dataclasses.replace(stored.reference(), ref=attachment.ref)


async def send_file(
    bot: Bot, store: AttachmentStore | None, chat_id: int, attachment: Attachment
) -> Message:
    """One stored file to `chat_id`; `DeliveryError` if its bytes are gone (expired)."""
    data = await store.read(attachment.id) if store is not None else None
    if data is None:
        raise DeliveryError(f"attachment {attachment.id} is no longer stored")
    if attachment.mime_type in INLINE_IMAGES:
        return await bot.send_photo(chat_id=chat_id, photo=data, filename=attachment.name)
    return await bot.send_document(chat_id=chat_id, document=data, filename=attachment.name)


__all__ = ["keep_files", "send_file"]
