"""RFC 5322/MIME bytes → a `ParsedMail` and then an `Inbound` (pure).

Whatever arrives is turned into something the hub can log: broken MIME, unknown
charsets and odd headers degrade (and are listed in `defects`) instead of failing. Only a
mail with no usable sender address at all is refused, with `MailRejected`.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from email import policy
from email.header import decode_header
from email.headerregistry import Address
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import getaddresses, parseaddr
from typing import Any

from connectors.email.htmltext import html_to_text
from connectors.email.loops import auto_reply_text, failed_recipients, noise_reason
from connectors.email.quotes import strip_quotes
from connectors.email.threading import ThreadRef, is_own, message_ids, thread_of
from hub.model import Attachment, Inbound, InboundKind

OWN_HEADER = "X-Frontdesk-Delivery"
MAX_HEADERS_KEPT = 200
_CHARSET_ALIASES = {
    # Mail labelled GB2312 routinely contains GBK characters; GB18030 decodes them all.
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "cp936": "gb18030",
    "euc-cn": "gb18030",
    "big5": "big5hkscs",
    "x-big5": "big5hkscs",
}
_ANGLE_ADDR = re.compile(r"<([^<>\s]+@[^<>\s]+)>$")
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]+")
_SURROGATE = re.compile("[\udc80-\udcff]")
_FOLD = re.compile(r"\r?\n(?=[ \t])")


class MailRejected(Exception):
    """The mail cannot become a conversation message (no sender address)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ParsedMail:
    """What the connector needs from one mail; `raw` keeps the original for the log."""

    message_id: str
    sender: str
    sender_name: str
    subject: str
    text: str  # the customer's new text (quotes and signature stripped)
    full_text: str
    attachments: tuple[Attachment, ...]
    thread: ThreadRef
    recipients: tuple[str, ...]
    noise: str  # why it must not be answered ("" for a person's mail)
    own: bool  # the hub's own outbound mail, come back
    defects: tuple[str, ...]
    raw: dict[str, Any] = field(default_factory=dict)
    # The decoded bytes of each of `attachments` (b"" for an attached mail), and images
    # shown inline in the body, for the connector to store; never part of the log.
    payloads: tuple[bytes, ...] = ()
    inline_images: tuple[tuple[Attachment, bytes], ...] = ()

    def inbound(
        self, *, channel: str, thread_root: str, kind: InboundKind, text: str | None = None
    ) -> Inbound:
        return Inbound(
            channel=channel,
            sender=self.sender,
            message_id=self.message_id,
            text=self.text if text is None else text,
            attachments=self.attachments,
            thread_hint=thread_root,
            raw=self.raw,
            kind=kind,
        )


def parse_mail(
    data: bytes,
    *,
    domain: str,
    envelope_sender: str | None = None,
    envelope_recipients: tuple[str, ...] = (),
    max_text_length: int = 20_000,
    raw_source_limit: int = 256 * 1024,
) -> ParsedMail:
    """Parse one message. `domain` is the hub's mail domain (to recognise its own ids)."""
    message = BytesParser(policy=policy.default).parsebytes(data)
    assert isinstance(message, EmailMessage)  # guaranteed by policy.default
    defects = [type(defect).__name__ for defect in message.defects]

    sender_name, sender = _sender(message, envelope_sender)
    if not sender:
        raise MailRejected("no sender address in From, Sender or the envelope")

    raw_id = message_ids(_header(message, "Message-ID"))
    if raw_id:
        message_id = raw_id[0]
    else:
        # Stable across re-delivery (IMAP re-fetch after a crash), so dedupe still works.
        message_id = f"sha256.{hashlib.sha256(data).hexdigest()[:32]}@missing-message-id"
        defects.append("MissingMessageId")
    in_reply_to = _header(message, "In-Reply-To")
    references = _header(message, "References")
    thread = thread_of(
        message_id=message_id, in_reply_to=in_reply_to, references=references, domain=domain
    )

    walker = _Walker()
    walker.walk(message)
    defects.extend(walker.defects)
    if walker.plain:
        full_text = walker.plain[0]
    elif walker.html:
        full_text = html_to_text(walker.html[0])
    else:
        full_text = ""
    full_text = full_text.replace("\r\n", "\n").strip()
    text = strip_quotes(full_text)[:max_text_length] if full_text else ""

    # From the raw value: the email package decodes a "gb2312" encoded-word with the
    # GB2312 codec, which garbles GBK-only characters (喆); ours reads it as GB18030.
    subject = clean_header_text(decode_words(_raw_header(message, "Subject")))
    recipients = tuple(
        dict.fromkeys(
            [*envelope_recipients, *_addresses(message, "Delivered-To", "To", "Cc")]
        ).keys()
    )
    noise = noise_reason(message, envelope_sender=envelope_sender, sender=sender)
    noise = noise or auto_reply_text(subject, text)
    own = message.get(OWN_HEADER) is not None or is_own(message_id, domain)
    raw: dict[str, Any] = {
        "message_id": message_id,
        "from": sender,
        "from_name": sender_name,
        "subject": subject,
        "date": clean_header_text(_header(message, "Date")),
        "in_reply_to": message_ids(in_reply_to),
        "references": message_ids(references),
        "recipients": list(recipients),
        "thread_source": thread.source,
        "headers": [
            [name, clean_header_text(str(value))[:2000]]
            for name, value in list(_safe_items(message))[:MAX_HEADERS_KEPT]
        ],
        "text": full_text,
        "size": len(data),
    }
    if walker.html and len(walker.html[0]) <= raw_source_limit:
        raw["html"] = walker.html[0]
    if len(data) <= raw_source_limit:
        raw["source"] = data.decode("utf-8", "replace")
    if noise:
        raw["noise"] = noise
    if noise == "bounce":
        raw["failed_recipients"] = failed_recipients(message)
    if defects:
        raw["defects"] = sorted(set(defects))
    return ParsedMail(
        message_id=message_id,
        sender=sender,
        sender_name=sender_name,
        subject=subject,
        text=text,
        full_text=full_text,
        attachments=tuple(walker.attachments),
        payloads=tuple(walker.payloads),
        inline_images=tuple(walker.inline_images),
        thread=thread,
        recipients=recipients,
        noise=noise,
        own=own,
        defects=tuple(sorted(set(defects))),
        raw=raw,
    )


def clean_header_text(value: str) -> str:
    """A header value safe to show and to reuse in a reply: no CR, LF or controls."""
    return _CONTROL.sub(" ", value).strip()


def decode_text(payload: bytes, charset: str | None) -> tuple[str, bool]:
    """Decode a text part; returns (text, exact). Unknown or lying charsets fall back to
    UTF-8, then GB18030, then Latin-1 with replacement characters, never an exception."""
    name = (charset or "us-ascii").strip().strip('"').lower()
    name = _CHARSET_ALIASES.get(name, name)
    try:
        return payload.decode(name), True
    except (LookupError, UnicodeDecodeError):
        pass
    for fallback in ("utf-8", "gb18030"):
        try:
            return payload.decode(fallback), False
        except UnicodeDecodeError:
            continue
    return payload.decode("utf-8", "replace"), False


class _Walker:
    """Collects text bodies and attachment metadata, without descending into attached
    mails (a forwarded or bounced message's text is not the customer's)."""

    def __init__(self) -> None:
        self.plain: list[str] = []
        self.html: list[str] = []
        self.attachments: list[Attachment] = []
        self.payloads: list[bytes] = []
        self.inline_images: list[tuple[Attachment, bytes]] = []
        self.defects: list[str] = []

    def walk(self, part: Message) -> None:
        if part.is_multipart():
            payload = part.get_payload()
            for child in payload if isinstance(payload, list) else ():
                if isinstance(child, Message):
                    self.walk(child)
            return
        content_type = part.get_content_type()
        disposition = part.get_content_disposition()
        filename = _filename(part)
        if content_type.startswith("message/") or content_type == "text/rfc822-headers":
            self._attach(part, "email", filename or "message.eml")
            return
        inline = disposition == "inline" or (disposition is None and part.get("Content-ID"))
        if content_type.startswith("image/") and inline:
            # Shown in the body (a pasted screenshot, a signature's logo): not listed as an
            # attachment, but kept aside for the connector to store.
            image = Attachment(
                kind="image",
                name=clean_header_text(filename or "image")[:255],
                mime_type=content_type,
                size=_size(part),
            )
            self.inline_images.append((image, _payload(part)))
            return
        is_body = content_type in ("text/plain", "text/html") and disposition != "attachment"
        if is_body and not filename:
            payload = _payload(part)
            text, exact = decode_text(payload, part.get_content_charset())
            if not exact:
                self.defects.append("CharsetFallback")
            (self.plain if content_type == "text/plain" else self.html).append(text)
            return
        self._attach(part, _kind(content_type), filename)

    def _attach(self, part: Message, kind: str, name: str) -> None:
        self.payloads.append(b"" if kind == "email" else _payload(part))
        self.attachments.append(
            Attachment(
                kind=kind,
                name=clean_header_text(name)[:255],
                mime_type=part.get_content_type(),
                size=_size(part),
            )
        )


def _size(part: Message) -> int:
    if not part.get_content_type().startswith("message/"):
        return len(_payload(part))
    try:
        return len(part.as_bytes())
    except Exception:  # an attached mail too broken to serialise again
        return 0


def _payload(part: Message) -> bytes:
    payload = part.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else b""


def _filename(part: Message) -> str:
    try:
        return part.get_filename() or ""
    except Exception:  # broken RFC 2231 parameters
        return "attachment"


def _kind(content_type: str) -> str:
    main = content_type.partition("/")[0]
    return {"image": "image", "audio": "audio", "video": "video"}.get(main, "document")


def _header(message: Message, name: str) -> str:
    try:
        value = message.get(name)
    except Exception:  # a header the policy cannot parse: treat it as absent
        return ""
    return "" if value is None else str(value)


def _safe_items(message: Message) -> list[tuple[str, str]]:
    items = []
    for name, value in message.raw_items() if isinstance(message, EmailMessage) else []:
        try:
            if "=?" in value:
                items.append((name, decode_words(str(value))))
            else:
                items.append((name, str(message.policy.header_fetch_parse(name, value))))
        except Exception:
            items.append((name, str(value)))
    return items


def _addresses(message: Message, *names: str) -> list[str]:
    found = []
    for name in names:
        for value in message.get_all(name, []) if _header(message, name) else []:
            for _, address in getaddresses([str(value)]):
                if "@" in address:
                    found.append(address.lower())
    return found


def _sender(message: Message, envelope_sender: str | None) -> tuple[str, str]:
    for name in ("From", "Sender"):
        # The raw (still encoded) value: a display name that decodes to CR/LF or to
        # address-like text must not change which address we read.
        value = _raw_header(message, name)
        if not value:
            continue
        value = _CONTROL.sub(" ", value).strip()
        angle = _ANGLE_ADDR.search(value)
        if angle:
            display, address = value[: angle.start()].strip().strip('"'), angle.group(1)
        else:
            display, address = parseaddr(value)
        if _valid_address(address):
            return clean_header_text(decode_words(display))[:200], address.lower()
    if envelope_sender and _valid_address(envelope_sender):
        return "", envelope_sender.lower()
    return "", ""


def _raw_header(message: Message, name: str) -> str:
    for key, value in message.raw_items() if isinstance(message, EmailMessage) else []:
        if key.lower() == name.lower():
            return str(value)
    return ""


def decode_words(value: str) -> str:
    """A header value with its RFC 2047 encoded-words decoded, each charset read as
    `decode_text` reads bodies (GB2312/GBK as GB18030, lying labels falling back)."""
    value = _FOLD.sub("", value)
    try:
        chunks = decode_header(value)
    except Exception:  # a broken encoded-word: show it as written
        return value
    decoded = []
    for chunk, charset in chunks:
        if isinstance(chunk, str):
            # Raw 8-bit bytes in a header arrive as surrogate escapes: decode them too.
            raw = chunk.encode("utf-8", "surrogateescape")
            decoded.append(decode_text(raw, "utf-8")[0] if _SURROGATE.search(chunk) else chunk)
        else:
            decoded.append(decode_text(chunk, charset)[0])
    return "".join(decoded)


def _valid_address(address: str) -> bool:
    if not address or len(address) > 320 or _CONTROL.search(address):
        return False
    local, at, domain = address.rpartition("@")
    if not (at and local and "." in domain) or any(c in address for c in ' <>,;"\\'):
        return False
    try:
        Address(addr_spec=address)
    except Exception:
        return False
    return True


__all__ = [
    "MailRejected",
    "ParsedMail",
    "clean_header_text",
    "decode_text",
    "decode_words",
    "parse_mail",
]
