"""Attachments: files customers and agents send, kept apart from the conversation log.

The log never holds bytes. A message event carries attachment *references*
(`hub.model.Attachment` with `id`, name, sniffed type, size, sha256); the bytes live in an
`AttachmentStore`, chosen with the configured store: the data directory beside an SQLite
database (`hub.attachments_fs`), or Redis with a time to live and a daily quota per uploader
(`hub.attachments_redis`). A file is stored before the message that refers to it is
acknowledged, and delivery reads the bytes again on every attempt (the outbox keeps only
the reference).

What a file *is* comes from its bytes, never from the name or type its sender declared:
`sniff` knows PNG, JPEG, GIF, WebP, PDF, plain text and the common voice-note formats (OGG,
MP3, AAC, M4A, AMR), and calls anything that reads as
markup `text/html`, which no allow-list admits. `prepare` is the one gate both backends and
every surface pass: size, emptiness, name, type, and a declared type that contradicts the
content. Refusals are `AttachmentRefused` (an `InputError`: 413, 415, 400 or 429) with the
reason in English and Chinese.
"""

from __future__ import annotations

import abc
import asyncio
import hashlib
import re
import secrets
import time
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from hub.config import Section
from hub.errors import InputError
from hub.model import Attachment
from hub.thumbnails import make_thumbnail

MEGABYTE = 1024 * 1024
DEFAULT_MAX_BYTES = 10 * MEGABYTE
#: What may be stored, by sniffed type. Operators may narrow it (`attachments.allowed_types`).
SAFE_TYPES: tuple[str, ...] = (
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "application/pdf",
    "text/plain",
    # Voice notes from the messaging channels (WhatsApp's OGG/Opus, AAC, MP3, M4A, AMR):
    # served as downloads, never inline.
    "audio/ogg",
    "audio/mpeg",
    "audio/aac",
    "audio/mp4",
    "audio/amr",
)
#: Sniffed types a browser may show in the page (`<img>`); everything else is a download.
INLINE_IMAGES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
MAX_NAME_LENGTH = 200
ID_PATTERN = re.compile(r"^att_[0-9a-f]{32}$")

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"%PDF-", "application/pdf"),
    (b"OggS", "audio/ogg"),
    (b"#!AMR\n", "audio/amr"),
    (b"ID3", "audio/mpeg"),
    # MPEG audio frame sync without an ID3 tag (layer III), and AAC's ADTS frames.
    (b"\xff\xfb", "audio/mpeg"),
    (b"\xff\xf3", "audio/mpeg"),
    (b"\xff\xf1", "audio/aac"),
    (b"\xff\xf9", "audio/aac"),
)
# Openings that make a browser (or a careless viewer) treat text as a document with
# scripts: the WHATWG sniffing table's HTML openings, plus SVG and XML.
_MARKUP = re.compile(
    rb"^\s*<(?:!doctype|html|head|body|script|iframe|svg|\?xml|h1|div|font|table|a\b|style|"
    rb"title|b\b|br\b|p\b|img|object|embed|meta|link|form|!--)",
    re.IGNORECASE,
)
_MARKUP_ANYWHERE = re.compile(rb"<\s*(?:script|iframe|svg|html|object|embed)\b", re.IGNORECASE)
# Declared types whose content we can check: a file declared as one of these must be one.
_CHECKABLE = frozenset({*INLINE_IMAGES, "application/pdf"})


class AttachmentRefused(InputError):
    """A file that cannot be stored: `status` for HTTP, the reason in English and Chinese."""

    def __init__(self, message: str, message_zh: str, *, status: int, code: str) -> None:
        super().__init__(message, status=status)
        self.message_zh = message_zh
        self.code = code

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "code": self.code,
            "message": self.message,
            "message_zh": self.message_zh,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class AttachmentSettings:
    """`attachments:` in `config/frontdesk.yaml`."""

    max_bytes: int = DEFAULT_MAX_BYTES
    allowed_types: frozenset[str] = frozenset(SAFE_TYPES)
    directory: str = ""  # the data directory's `attachments/` beside the SQLite file if ""
    ttl: float = 90 * 24 * 3600.0  # Redis: seconds a file is kept
    daily_quota_bytes: int = 200 * MEGABYTE  # Redis: per uploader per day; 0 = no quota
    upload_timeout: float = 60.0  # an upload's body must arrive within this

    @classmethod
    def from_section(cls, section: Section) -> AttachmentSettings:
        types = section.get_list("allowed_types", list(SAFE_TYPES))
        unknown = [t for t in types if t not in SAFE_TYPES]
        if unknown:
            raise section.error(
                "allowed_types",
                f"{unknown[0]!r} cannot be allowed; choose from {', '.join(SAFE_TYPES)}",
            )
        settings = cls(
            max_bytes=section.get_int(
                "max_bytes", DEFAULT_MAX_BYTES, minimum=1, maximum=100 * MEGABYTE
            ),
            allowed_types=frozenset(types),
            directory=section.get_str("directory", ""),
            ttl=section.get_float("ttl", 90 * 24 * 3600.0, minimum=60.0),
            daily_quota_bytes=section.get_int(
                "daily_quota_bytes", 200 * MEGABYTE, minimum=0, maximum=2**40
            ),
            upload_timeout=section.get_float("upload_timeout", 60.0, minimum=1.0),
        )
        section.reject_unknown()
        return settings


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredAttachment:
    """What the store knows of one file (never the bytes). `uploader` is who sent it
    (`webchat:<visitor>`, `telegram:<chat>`, `agent:<id>` …); `conversation_id` is set
    when it was sent into a known conversation (an agent's upload)."""

    id: str
    name: str
    declared_type: str
    sniffed_type: str
    size: int
    sha256: str
    uploader: str
    conversation_id: str = ""
    created_at: float = field(default_factory=time.time)
    thumbnail_id: str = ""  # an image's thumbnail, stored as a file of its own (hub.thumbnails)

    @property
    def kind(self) -> str:
        return "image" if self.sniffed_type in INLINE_IMAGES else "document"

    @property
    def inline(self) -> bool:
        """Whether a browser may show it in the page rather than download it."""
        return self.sniffed_type in INLINE_IMAGES

    def reference(self) -> Attachment:
        """The reference a message carries (metadata only)."""
        return Attachment(
            kind=self.kind,
            name=self.name,
            mime_type=self.sniffed_type,
            size=self.size,
            id=self.id,
            sha256=self.sha256,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "declared_type": self.declared_type,
            "sniffed_type": self.sniffed_type,
            "size": self.size,
            "sha256": self.sha256,
            "uploader": self.uploader,
            "conversation_id": self.conversation_id,
            "created_at": self.created_at,
            "thumbnail_id": self.thumbnail_id,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> StoredAttachment:
        return cls(
            id=str(data["id"]),
            name=str(data["name"]),
            declared_type=str(data.get("declared_type", "")),
            sniffed_type=str(data["sniffed_type"]),
            size=int(data["size"]),
            sha256=str(data["sha256"]),
            uploader=str(data.get("uploader", "")),
            conversation_id=str(data.get("conversation_id", "")),
            created_at=float(data.get("created_at", 0.0)),
            thumbnail_id=str(data.get("thumbnail_id", "")),
        )


class AttachmentStore(abc.ABC):
    """The port. `put` refuses (`AttachmentRefused`) or returns once the bytes are durable;
    `meta` and `read` answer None for an unknown, malformed or expired id.

    A backend implements `_keep`, `_meta` and `_read`; the base owns what they share: `put`
    passes the gate (`prepare`) before `_keep` writes anything, and no malformed id ever
    reaches `_meta` or `_read`, so none ever names a path or a key."""

    def __init__(self, settings: AttachmentSettings) -> None:
        self.settings = settings

    async def open(self) -> None:  # noqa: B027 - optional hook
        """Connect or create what the backend needs."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""

    async def put(
        self,
        data: bytes,
        *,
        name: str,
        declared_type: str,
        uploader: str,
        conversation_id: str = "",
    ) -> StoredAttachment:
        stored = prepare(
            data,
            name=name,
            declared_type=declared_type,
            uploader=uploader,
            conversation_id=conversation_id,
            settings=self.settings,
        )
        if stored.inline:
            # Made once, here: the thumbnail first, so the original's metadata (the commit)
            # never names a thumbnail that is not there.
            thumbnail = await self._thumbnail(stored, data)
            if thumbnail is not None:
                stored = replace(stored, thumbnail_id=thumbnail.id)
        await self._keep(stored, data)
        return stored

    async def thumbnail(self, stored: StoredAttachment) -> tuple[StoredAttachment, bytes] | None:
        """An image's thumbnail and its bytes; None for a file without one (not an image,
        too large to decode safely, unreadable, or stored before thumbnails were made)."""
        if not stored.thumbnail_id:
            return None
        meta = await self.meta(stored.thumbnail_id)
        data = await self.read(stored.thumbnail_id) if meta is not None else None
        return (meta, data) if meta is not None and data is not None else None

    async def _thumbnail(self, image: StoredAttachment, data: bytes) -> StoredAttachment | None:
        made = await asyncio.to_thread(make_thumbnail, data)
        if made is None:
            return None
        thumbnail = StoredAttachment(
            id=new_attachment_id(),
            name=f"thumbnail-{image.name}",
            declared_type=made.mime_type,
            sniffed_type=made.mime_type,
            size=len(made.data),
            sha256=hashlib.sha256(made.data).hexdigest(),
            uploader=image.uploader,
            conversation_id=image.conversation_id,
        )
        await self._keep(thumbnail, made.data)
        return thumbnail

    async def meta(self, attachment_id: str) -> StoredAttachment | None:
        return await self._meta(attachment_id) if valid_id(attachment_id) else None

    async def read(self, attachment_id: str) -> bytes | None:
        return await self._read(attachment_id) if valid_id(attachment_id) else None

    @abc.abstractmethod
    async def _keep(self, stored: StoredAttachment, data: bytes) -> None:
        """Write the bytes and the metadata durably, or raise (`AttachmentRefused` too)."""

    @abc.abstractmethod
    async def _meta(self, attachment_id: str) -> StoredAttachment | None: ...

    @abc.abstractmethod
    async def _read(self, attachment_id: str) -> bytes | None: ...


# --------------------------------------------------------------------------- the gate


def sniff(data: bytes) -> str:
    """The type of `data` by its first bytes: one of `SAFE_TYPES`, `text/html` for
    anything that reads as markup, else `application/octet-stream`."""
    for magic, kind in _MAGIC:
        if data.startswith(magic):
            return kind
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if len(data) >= 12 and data[4:8] == b"ftyp" and data[8:12] in (b"M4A ", b"M4B "):
        return "audio/mp4"
    head = data[:4096]
    if _MARKUP.match(head.removeprefix(b"\xef\xbb\xbf")) or _MARKUP_ANYWHERE.search(head):
        return "text/html"
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return "application/octet-stream"
    if any(unicodedata.category(c) == "Cc" and c not in "\t\n\r\f" for c in text):
        return "application/octet-stream"
    return "text/plain"


def clean_name(name: str) -> str:
    """A sender's file name, refused (400) if it tries to name a place rather than a file:
    separators, `..`, control characters. Leading and trailing spaces are dropped."""
    name = unicodedata.normalize("NFC", name).strip()
    if not name:
        raise AttachmentRefused(
            "the file needs a name", "文件需要有名称", status=400, code="bad_name"
        )
    if (
        "/" in name
        or "\\" in name
        or name in {".", ".."}
        or name.startswith(".")
        or any(unicodedata.category(c) in {"Cc", "Cf", "Zl", "Zp"} for c in name)
    ):
        raise AttachmentRefused(
            "the file name must be a plain name, without folders or control characters",
            "文件名只能是普通名称，不能包含路径或控制字符",
            status=400,
            code="bad_name",
        )
    if len(name) > MAX_NAME_LENGTH:
        raise AttachmentRefused(
            f"the file name is longer than {MAX_NAME_LENGTH} characters",
            f"文件名超过 {MAX_NAME_LENGTH} 个字符",
            status=400,
            code="bad_name",
        )
    return name


def plain_name(name: str, fallback: str) -> str:
    """A name from a channel we cannot ask again (a mail part, a Telegram document):
    its last path component, without control characters; `fallback` if nothing is left."""
    last = re.split(r"[\\/]", name)[-1]
    kept = "".join(c for c in last if unicodedata.category(c) not in {"Cc", "Cf", "Zl", "Zp"})
    kept = kept.strip().lstrip(".")[:MAX_NAME_LENGTH]
    return kept or fallback


def too_large(limit: int) -> AttachmentRefused:
    megabytes = f"{limit / MEGABYTE:g}"
    return AttachmentRefused(
        f"the file is larger than the limit of {megabytes} MB",
        f"文件超过 {megabytes} MB 的上限",
        status=413,
        code="too_large",
    )


def prepare(
    data: bytes,
    *,
    name: str,
    declared_type: str,
    uploader: str,
    conversation_id: str,
    settings: AttachmentSettings,
) -> StoredAttachment:
    """Check a file against the limits and its own bytes; its metadata with a new random
    id, or `AttachmentRefused`. Nothing is written here."""
    if not data:
        raise AttachmentRefused("the file is empty", "文件是空的", status=400, code="empty")
    if len(data) > settings.max_bytes:
        raise too_large(settings.max_bytes)
    name = clean_name(name)
    sniffed = sniff(data)
    declared = declared_type.split(";")[0].strip().lower()
    if declared in _CHECKABLE and declared != sniffed:
        raise AttachmentRefused(
            f"the file's content is not the {declared} its type says",
            f"文件内容与声明的类型 {declared} 不符",
            status=415,
            code="type_mismatch",
        )
    if sniffed not in settings.allowed_types:
        allowed = ", ".join(sorted(settings.allowed_types))
        raise AttachmentRefused(
            f"this kind of file is not accepted (allowed: {allowed})",
            f"不接受此类文件（允许：{allowed}）",
            status=415,
            code="type_refused",
        )
    return StoredAttachment(
        id=new_attachment_id(),
        name=name,
        declared_type=declared[:100],
        sniffed_type=sniffed,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        uploader=uploader,
        conversation_id=conversation_id,
    )


async def conversation_files(
    store: AttachmentStore, ids: Sequence[str], *, conversation_id: str
) -> tuple[Attachment, ...]:
    """The references for files uploaded into `conversation_id` (an agent's, before a
    reply): a 404 names the first id that is not one, so a reply cannot carry another
    conversation's file."""
    references = []
    for attachment_id in dict.fromkeys(ids):
        stored = await store.meta(attachment_id) if isinstance(attachment_id, str) else None
        if stored is None or stored.conversation_id != conversation_id:
            raise AttachmentRefused(
                f"attachment {attachment_id!s:.40} is not a file of this conversation",
                "附件不属于此会话",
                status=404,
                code="not_found",
            )
        references.append(stored.reference())
    return tuple(references)


def new_attachment_id() -> str:
    """Random, not content-addressed: an id says nothing about the file, cannot be guessed,
    and two customers sending the same bytes never share an entry (nor its expiry)."""
    return f"att_{secrets.token_hex(16)}"


def valid_id(attachment_id: str) -> bool:
    return bool(ID_PATTERN.match(attachment_id))


__all__ = [
    "INLINE_IMAGES",
    "SAFE_TYPES",
    "AttachmentRefused",
    "AttachmentSettings",
    "AttachmentStore",
    "StoredAttachment",
    "clean_name",
    "conversation_files",
    "plain_name",
    "prepare",
    "sniff",
    "valid_id",
]
