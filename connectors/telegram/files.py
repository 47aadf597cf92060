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

from telegram import Bot, Message
from telegram.error import BadRequest

from connectors.media import Fetched, MediaUnavailable, keep_media
from hub.attachments import INLINE_IMAGES, AttachmentStore, too_large
from hub.errors import DeliveryError
from hub.model import Attachment, Inbound

KEPT_KINDS = {"image": "photo.jpg", "document": "document"}  # kind → name when none is given


async def keep_files(bot: Bot, store: AttachmentStore, inbound: Inbound) -> Inbound:
    """`inbound` with its photos and documents stored (see the module docstring)."""

    async def fetch(file_id: str, limit: int) -> Fetched:
        try:
            remote = await bot.get_file(file_id)
        except BadRequest as error:  # "file is too big" and the like: asking again cannot help
            reason = f"telegram would not hand over the file: {error.message}"
            raise MediaUnavailable(reason) from None
        if remote.file_size is not None and remote.file_size > limit:
            raise too_large(limit)
        return Fetched(data=bytes(await remote.download_as_bytearray()))

    return await keep_media(
        store,
        inbound,
        fetch,
        names=KEPT_KINDS,
        max_bytes=store.settings.max_bytes,
        declared=_declared,
        keep_url=False,
    )


def _declared(attachment: Attachment, fetched: Fetched) -> str:
    # Telegram re-encodes photos and declares nothing; a document's type is the user's.
    return attachment.mime_type if attachment.kind == "document" else ""


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
