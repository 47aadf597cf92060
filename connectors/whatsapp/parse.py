"""WhatsApp webhook JSON → what the hub understands. Pure functions, no network.

A webhook body (``{"object": "whatsapp_business_account", "entry": [{"changes": [{"field":
"messages", "value": {...}}]}]}``) may carry several messages and statuses at once. Each
becomes one item:

- an `Inbound` for a customer's message: text; a reply-button or list choice (the text is
  the choice's id, i.e. our payload or its token; the title is kept in ``raw.choice``); a
  template's quick-reply button; image/document/audio/video/sticker (an attachment whose
  ``ref`` is WhatsApp's media id, the caption as text); a location; shared contacts;
- a *notice* `Inbound` (recorded, never answered) for a reaction, a message type the hub
  cannot read (``unsupported``, ``system`` …) or a message whose fields are not what Meta
  documents;
- a `Receipt` for each entry of ``statuses`` (sent, delivered, read, failed).

A body that is not a webhook at all (not an object, no ``entry`` list) raises `InputError`
(→ 400) and writes nothing. Messages for another business number of the same app are left
out, and so is anything without a sender and a message id (it could be neither deduplicated
nor answered).

The sender's ``wa_id`` is the address; ``raw`` keeps the message as received plus the
customer's WhatsApp profile name and their number in E.164 (``phone``), for the profile.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeGuard

from hub.errors import InputError
from hub.model import Attachment, Inbound, InboundKind

log = logging.getLogger("frontdesk.connectors.whatsapp")

CHANNEL = "whatsapp"
MEDIA = ("image", "document", "audio", "video", "sticker")


@dataclass(frozen=True, slots=True, kw_only=True)
class Receipt:
    """What WhatsApp says became of a message we sent (`wamid`)."""

    wamid: str
    status: str  # sent, delivered, read, failed
    recipient: str
    timestamp: float
    errors: tuple[Mapping[str, Any], ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict)


Parsed = Inbound | Receipt


def parse_webhook(data: Any, *, phone_number_id: str, received_at: float) -> list[Parsed]:
    """Every message and status in one webhook body, in the order WhatsApp sent them."""
    if not isinstance(data, dict):
        raise InputError(f"a webhook body must be a JSON object, not {type(data).__name__}")
    entries = data.get("entry")
    if not isinstance(entries, list):
        raise InputError("a webhook body needs an 'entry' list")
    found: list[Parsed] = []
    for entry in entries:
        changes = entry.get("changes") if isinstance(entry, dict) else None
        for change in changes if isinstance(changes, list) else ():
            value = change.get("value") if isinstance(change, dict) else None
            if not isinstance(value, dict) or change.get("field") != "messages":
                continue
            metadata = value.get("metadata")
            number = metadata.get("phone_number_id") if isinstance(metadata, dict) else None
            if phone_number_id and number != phone_number_id:
                log.info("whatsapp change for another business number ignored")
                continue
            found.extend(_messages(value, received_at))
            found.extend(_statuses(value, received_at))
    return found


def _messages(value: Mapping[str, Any], received_at: float) -> list[Inbound]:
    names = _profile_names(value.get("contacts"))
    found = []
    for message in _list(value.get("messages")):
        sender, wamid = message.get("from"), message.get("id")
        if not (_word(sender) and sender.isdigit() and _word(wamid)):
            log.warning("whatsapp message without a sender or id skipped")
            continue
        raw: dict[str, Any] = {"message": dict(message), "phone": f"+{sender}"}
        if names.get(sender):
            raw["profile_name"] = names[sender]
        base = Inbound(
            channel=CHANNEL,
            sender=sender,
            message_id=wamid,
            text="",
            timestamp=_time(message.get("timestamp"), received_at),
            raw=raw,
        )
        try:
            found.append(_content(base, message))
        except (TypeError, ValueError, KeyError, AttributeError) as error:
            found.append(_notice(base, f"malformed {message.get('type')!r}: {error}"[:300]))
    return found


def _content(base: Inbound, message: Mapping[str, Any]) -> Inbound:
    kind = message.get("type")
    body: Any = message.get(kind) if isinstance(kind, str) else None
    if kind == "text":
        return _with(base, text=_str(body["body"]))
    if kind == "interactive":
        reply = body.get(body["type"])  # button_reply or list_reply
        choice = {"id": _str(reply["id"]), "title": _str(reply.get("title", ""))}
        return _with(base, text=choice["id"], raw={**base.raw, "choice": choice})
    if kind == "button":  # a template's quick-reply button
        return _with(base, text=_str(body.get("payload") or body["text"]))
    if kind in MEDIA:
        attachment = Attachment(
            kind="image" if kind == "sticker" else kind,
            name=_str(body.get("filename", "") or ("voice message" if body.get("voice") else "")),
            mime_type=_str(body.get("mime_type", "")),
            ref=_str(body["id"]),
        )
        return _with(base, text=_str(body.get("caption", "")), attachments=(attachment,))
    if kind == "location":
        latitude, longitude = float(body["latitude"]), float(body["longitude"])
        if not (abs(latitude) <= 90 and abs(longitude) <= 180):  # False for NaN too
            raise ValueError("coordinates out of range")
        where = f"{latitude},{longitude}"
        label = ", ".join(_str(body[k]) for k in ("name", "address") if body.get(k))
        return _with(base, text=label, attachments=(Attachment(kind="location", name=where),))
    if kind == "contacts":
        shared = tuple(_contact(item) for item in _list(body))
        return _with(base, text=", ".join(a.name or a.ref for a in shared), attachments=shared)
    if kind == "reaction":
        emoji = _str(body.get("emoji", ""))  # absent when the customer removed it
        return _with(
            base,
            text=emoji,
            kind=InboundKind.NOTICE,
            raw={**base.raw, "reaction": {"to": _str(body["message_id"]), "emoji": emoji}},
        )
    return _notice(base, f"message type {kind!r} is not supported")


def _contact(item: Mapping[str, Any]) -> Attachment:
    name: Any = item.get("name") if isinstance(item.get("name"), dict) else {}
    phones = [p for p in _list(item.get("phones")) if isinstance(p.get("phone"), str)]
    phone = phones[0] if phones else {}
    digits = "".join(
        ch for ch in str(phone.get("wa_id") or phone.get("phone") or "") if ch.isdigit()
    )
    return Attachment(
        kind="contact",
        name=_str(name.get("formatted_name", "")),
        ref=f"+{digits}" if digits else "",
    )


def _statuses(value: Mapping[str, Any], received_at: float) -> list[Receipt]:
    found = []
    for status in _list(value.get("statuses")):
        wamid, state = status.get("id"), status.get("status")
        if not (_word(wamid) and _word(state)):
            continue
        found.append(
            Receipt(
                wamid=wamid,
                status=state,
                recipient=str(status.get("recipient_id", "")),
                timestamp=_time(status.get("timestamp"), received_at),
                errors=tuple(_list(status.get("errors"))),
                raw=dict(status),
            )
        )
    return found


def _notice(base: Inbound, reason: str) -> Inbound:
    return _with(base, kind=InboundKind.NOTICE, raw={**base.raw, "unreadable": reason})


def _with(base: Inbound, **changes: Any) -> Inbound:
    fields = {
        "channel": base.channel,
        "sender": base.sender,
        "message_id": base.message_id,
        "text": base.text,
        "timestamp": base.timestamp,
        "raw": base.raw,
        **changes,
    }
    return Inbound(**fields)


def _profile_names(contacts: Any) -> dict[str, str]:
    names = {}
    for contact in _list(contacts):
        profile = contact.get("profile")
        name = profile.get("name") if isinstance(profile, dict) else None
        if isinstance(contact.get("wa_id"), str) and isinstance(name, str):
            names[contact["wa_id"]] = name[:200]
    return names


def _list(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _word(value: Any) -> TypeGuard[str]:
    return isinstance(value, str) and 0 < len(value) <= 256 and value.strip() == value


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected text, got {type(value).__name__}")
    return value


def _time(value: Any, default: float) -> float:
    """WhatsApp's timestamps are Unix seconds as strings."""
    try:
        stamp = float(value)
    except (TypeError, ValueError):
        return default
    return stamp if 0 < stamp < 253_402_300_800 else default


__all__ = ["CHANNEL", "Parsed", "Receipt", "parse_webhook"]
