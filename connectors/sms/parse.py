"""Twilio's form-encoded webhooks → what the hub understands. Pure functions, no network.

- `read_form`: the raw body → its fields (a `MultiDict`, as `RequestValidator` wants them);
  a body that is not ``application/x-www-form-urlencoded`` UTF-8 raises `InputError` (400).
- `parse_message`: an incoming message → an `Inbound`. The sender's number (``From``) is
  only a claim — an SMS sender id can be spoofed — so every SMS is ``sender_verified=False``
  and lives under its own ``unverified:sms:+…`` identity until a code round trip proves
  the number. MMS media are kept as references (Twilio's media URL, its content type).
- `keyword`: STOP / START / HELP (and 退订 / 订阅 / 帮助), the words carriers require.
- `parse_status`: a status callback → a `StatusReport` on a message we sent.

Fields that are missing or not what Twilio documents raise `InputError` (400); nothing is
stored for them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl

from multidict import MultiDict, MultiDictProxy

from connectors.sms.settings import E164
from hub.errors import InputError
from hub.model import UNVERIFIED_SENDER, Attachment, Inbound, InboundKind
from hub.text import normalize

CHANNEL = "sms"
MAX_FIELDS = 100  # Twilio sends about 20; MMS adds two a medium, at most 10 media
MAX_TEXT = 1600  # Twilio's own limit on a message body
_SID = re.compile(r"^[A-Z]{2}[0-9a-f]{32}$")
STATUSES = frozenset(
    {
        "accepted",
        "scheduled",
        "queued",
        "sending",
        "sent",
        "delivered",
        "undelivered",
        "failed",
        "read",
        "canceled",
        "receiving",
        "received",
    }
)
# Twilio's default opt-out keywords, plus the words Chinese carriers' customers use.
STOP_WORDS = frozenset(
    {
        "stop",
        "stopall",
        "unsubscribe",
        "cancel",
        "end",
        "quit",
        "optout",
        "revoke",
        "退订",
        "取消订阅",
        "td",
    }
)
START_WORDS = frozenset({"start", "unstop", "yes", "订阅", "重新订阅"})
HELP_WORDS = frozenset({"help", "info", "帮助"})
STOP, START, HELP = "stop", "start", "help"


@dataclass(frozen=True, slots=True, kw_only=True)
class StatusReport:
    """What Twilio says became of a message we sent (`sid`) to `to`."""

    sid: str
    status: str
    to: str
    error_code: int = 0


def identity_of(number: str) -> str:
    """The identity an SMS from `number` is filed under (see `Inbound.identity`)."""
    return f"{UNVERIFIED_SENDER}:{CHANNEL}:{number}"


def read_form(body: bytes) -> MultiDictProxy[str]:
    """The fields of a form-encoded body, in order; `InputError` when it is not one."""
    try:
        text = body.decode("utf-8")
        pairs = parse_qsl(
            text, keep_blank_values=True, strict_parsing=bool(text), max_num_fields=MAX_FIELDS
        )
    except (UnicodeDecodeError, ValueError) as error:
        raise InputError(f"the body is not a UTF-8 form: {str(error)[:120]}") from None
    return MultiDictProxy(MultiDict(pairs))


def _one(form: MultiDictProxy[str], name: str, *, required: bool = True) -> str:
    values = form.getall(name, [])
    if len(values) > 1:
        raise InputError(f"{name} is given {len(values)} times")
    if not values:
        if required:
            raise InputError(f"{name} is required")
        return ""
    return values[0]


def _sid(form: MultiDictProxy[str], name: str) -> str:
    sid = _one(form, name)
    if not _SID.match(sid):
        raise InputError(f"{name} must be two letters and 32 hex digits")
    return sid


def _number(form: MultiDictProxy[str], name: str) -> str:
    number = _one(form, name)
    if not E164.match(number):
        raise InputError(f"{name} must be a phone number in E.164 form")
    return number


def account_of(form: MultiDictProxy[str]) -> str:
    return _sid(form, "AccountSid")


def parse_message(form: MultiDictProxy[str], *, received_at: float) -> Inbound:
    """An incoming SMS or MMS → an unverified `Inbound` (see the module docstring)."""
    sid = _sid(form, "MessageSid")
    sender = _number(form, "From")
    text = _one(form, "Body", required=False)
    if len(text) > MAX_TEXT:
        raise InputError(f"Body is longer than {MAX_TEXT} characters")
    count = _one(form, "NumMedia", required=False) or "0"
    if not count.isdigit() or int(count) > 10:
        raise InputError("NumMedia must be a number from 0 to 10")
    media = []
    for index in range(int(count)):
        url = _one(form, f"MediaUrl{index}")
        if not url.startswith("https://"):
            raise InputError(f"MediaUrl{index} must be an https URL")
        mime = _one(form, f"MediaContentType{index}", required=False)[:100]
        kind = (
            mime.partition("/")[0]
            if mime.startswith(("image/", "audio/", "video/"))
            else "document"
        )
        media.append(Attachment(kind=kind, mime_type=mime, ref=url))
    word = keyword(text)
    raw: dict[str, object] = {"form": {k: v for k, v in form.items()}}
    if word:
        raw["keyword"] = word
    return Inbound(
        channel=CHANNEL,
        sender=sender,
        message_id=sid,
        text=text,
        attachments=tuple(media),
        timestamp=received_at,
        raw=raw,
        # STOP and HELP are for the carrier's rules, not for the bot to answer; START is too
        # when the number is opted out, which only the connector knows.
        kind=InboundKind.NOTICE if word in (STOP, HELP) else InboundKind.MESSAGE,
        sender_verified=False,
    )


def keyword(text: str) -> str:
    """``stop``, ``start`` or ``help`` when the whole message is one of their words."""
    word = normalize(text).strip(" .!?。！？")
    if word in STOP_WORDS:
        return STOP
    if word in START_WORDS:
        return START
    if word in HELP_WORDS:
        return HELP
    return ""


def parse_status(form: MultiDictProxy[str]) -> StatusReport:
    """A status callback (``MessageSid``, ``MessageStatus``, ``To``, ``ErrorCode``)."""
    status = _one(form, "MessageStatus")
    if status not in STATUSES:
        raise InputError(f"MessageStatus {status[:40]!r} is not one Twilio sends")
    code = _one(form, "ErrorCode", required=False)
    if code and not code.isdigit():
        raise InputError("ErrorCode must be a number")
    return StatusReport(
        sid=_sid(form, "MessageSid"),
        status=status,
        to=_number(form, "To"),
        error_code=int(code[:9]) if code else 0,
    )


__all__ = [
    "CHANNEL",
    "HELP",
    "START",
    "STOP",
    "StatusReport",
    "account_of",
    "identity_of",
    "keyword",
    "parse_message",
    "parse_status",
    "read_form",
]
