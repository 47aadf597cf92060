"""Files in mail: storing a customer's MIME parts, and reading an agent's files to attach.

Inbound, every attached part (and every image shown inline in the body) is offered to the
attachment store before the mail is ingested, so a `250` (or an IMAP `\\Seen`) is said only
once both the mail and its files are stored. The text part is parsed as before; a part the
store refuses (too large, a type not accepted, a page disguised as a PDF) stays in the log
as a reference without bytes, its reason in ``raw.attachments_refused``; an inline image
the store refuses is dropped (it was decoration in the body). Attached mails
(``message/rfc822``) are listed, never stored: a forwarded mail is not the customer's file.

Outbound, the files of a reply are read from the store on every attempt and attached as
MIME parts with their sniffed type and their name (RFC 2231-encoded when not ASCII).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from connectors.email.parse import ParsedMail
from hub.attachments import AttachmentRefused, AttachmentStore, plain_name
from hub.errors import DeliveryError
from hub.model import Attachment


async def keep_mail_files(
    store: AttachmentStore, mail: ParsedMail, identity: str
) -> tuple[tuple[Attachment, ...], list[dict[str, Any]]]:
    """The mail's attachments with the stored ones as references, and what was refused."""
    kept: list[Attachment] = []
    refused: list[dict[str, Any]] = []
    payloads = mail.payloads or tuple(b"" for _ in mail.attachments)
    for attachment, data in zip(mail.attachments, payloads, strict=True):
        if not data:
            kept.append(attachment)
            continue
        try:
            kept.append(await _store(store, attachment, data, identity))
        except AttachmentRefused as refusal:
            refused.append(
                {"name": attachment.name, "code": refusal.code, "reason": refusal.message}
            )
            kept.append(attachment)
    for image, data in mail.inline_images:
        try:
            kept.append(await _store(store, image, data, identity))
        except AttachmentRefused:
            continue
    return tuple(kept), refused


async def _store(
    store: AttachmentStore, attachment: Attachment, data: bytes, identity: str
) -> Attachment:
    stored = await store.put(
        data,
        name=plain_name(attachment.name, "attachment"),
        declared_type=attachment.mime_type,
        uploader=identity,
    )
    return stored.reference()


async def reply_files(
    store: AttachmentStore | None, attachments: Sequence[Attachment]
) -> list[tuple[Attachment, bytes]]:
    """The stored files of a reply with their bytes; `DeliveryError` if one is gone."""
    files = []
    for attachment in attachments:
        if not attachment.id:
            continue
        data = await store.read(attachment.id) if store is not None else None
        if data is None:
            raise DeliveryError(f"attachment {attachment.id} is no longer stored")
        files.append((attachment, data))
    return files


__all__ = ["keep_mail_files", "reply_files"]
