"""Inbound files a provider keeps by id (Telegram's ``file_id``, WhatsApp's media id,
WeChat's ``MediaId``), fetched and put in the attachment store before the message is stored.

The message then carries the stored reference (`hub.model.Attachment` with its ``id``, the
sniffed type, size and sha256), with the provider's id kept as ``ref``, so the agent console
shows or offers the file like any other. A file the store refuses (too large, a type it does
not accept, a declared type its bytes contradict) or the provider will not hand over
(`MediaUnavailable`: gone, over the size limit) is logged as the reference it was, and the
reason is kept in ``raw.attachments_refused``: the message itself is never lost for its file.
Any other failure of `fetch` (the provider unreachable) propagates, so the channel does not
acknowledge the message and the provider sends it again.

Only the kinds each channel names are fetched (images, documents; WhatsApp's voice notes):
videos stay references, not downloaded to be refused.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

from hub.attachments import AttachmentRefused, AttachmentStore, plain_name, too_large
from hub.model import Attachment, Inbound

log = logging.getLogger("frontdesk.connectors")


class MediaUnavailable(Exception):
    """The provider will not hand the file over; asking again cannot help."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Fetched:
    """A downloaded file: its bytes and the type the provider declared."""

    data: bytes
    mime_type: str = ""


# (the provider's id, the most bytes to accept) → the file
Fetch = Callable[[str, int], Awaitable[Fetched]]
# The type a file was declared as, checked against its bytes ("" to declare nothing).
Declared = Callable[[Attachment, Fetched], str]


def declared_by_sender(attachment: Attachment, fetched: Fetched) -> str:
    """What the message said the file is, else what the provider served it as."""
    return attachment.mime_type or fetched.mime_type


async def keep_media(
    store: AttachmentStore | None,
    inbound: Inbound,
    fetch: Fetch,
    *,
    names: Mapping[str, str],
    max_bytes: int,
    declared: Declared = declared_by_sender,
    keep_url: bool = True,
) -> Inbound:
    """`inbound` with its files of the kinds in `names` (kind → the name to give a file
    that came without one) fetched and stored; unchanged without a store. `declared` says
    what type each claimed to be; `keep_url` keeps the provider's link on the reference."""
    if store is None or not any(_wanted(a, names) for a in inbound.attachments):
        return inbound
    limit = min(max_bytes, store.settings.max_bytes)
    kept: list[Attachment] = []
    refused: list[dict[str, Any]] = []
    for attachment in inbound.attachments:
        if not _wanted(attachment, names):
            kept.append(attachment)
            continue
        try:
            stored = await _keep(store, inbound.identity, attachment, fetch, names, limit, declared)
            kept.append(dataclasses.replace(stored, url=attachment.url if keep_url else ""))
        except AttachmentRefused as refusal:
            refused.append({"ref": attachment.ref, "code": refusal.code, "reason": refusal.message})
            kept.append(attachment)
        except MediaUnavailable as error:
            reason = str(error)[:300]
            refused.append({"ref": attachment.ref, "code": "unavailable", "reason": reason})
            kept.append(attachment)
    if refused:
        log.info(
            "inbound files not stored", extra={"channel": inbound.channel, "count": len(refused)}
        )
    raw = {**inbound.raw, "attachments_refused": refused} if refused else inbound.raw
    return dataclasses.replace(inbound, attachments=tuple(kept), raw=raw)


def _wanted(attachment: Attachment, names: Collection[str]) -> bool:
    return bool(attachment.ref) and not attachment.id and attachment.kind in names


async def _keep(
    store: AttachmentStore,
    uploader: str,
    attachment: Attachment,
    fetch: Fetch,
    names: Mapping[str, str],
    limit: int,
    declared: Declared,
) -> Attachment:
    if attachment.size is not None and attachment.size > limit:
        raise too_large(limit)  # said by the provider: no need to download it to know
    fetched = await fetch(attachment.ref, limit)
    if len(fetched.data) > limit:
        raise too_large(limit)
    stored = await store.put(
        fetched.data,
        name=plain_name(attachment.name, names[attachment.kind]),
        declared_type=declared(attachment, fetched),
        uploader=uploader,
    )
    log.info("inbound file stored", extra={"attachment": stored.id, "size": stored.size})
    # The provider's own handle stays: an operator can look the file up there.
    return dataclasses.replace(stored.reference(), ref=attachment.ref)


__all__ = [
    "Declared",
    "Fetch",
    "Fetched",
    "MediaUnavailable",
    "declared_by_sender",
    "keep_media",
]
