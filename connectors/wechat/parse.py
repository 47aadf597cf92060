"""A WeChat push (its XML fields) → what the hub understands. Pure functions, no network.

Identity: the sender's ``openid`` is unique per official account, so the hub's address is
``<appid>:<openid>`` and the identity ``wechat:<appid>:<openid>``. A ``UnionID`` (present
when the account is bound to a WeChat Open Platform account) is kept in ``raw["unionid"]``;
the connector vouches for it as ``wechat-union:<unionid>`` (or looks it up, when
``channels.wechat.unionid`` is on) and the hub links it.

Idempotency: a message's ``MsgId``; an event has none, so ``FromUserName`` + ``CreateTime``
(+ the event's name) — WeChat's own advice for deduplicating its retries.

Events: ``subscribe`` (and ``SCAN`` by a follower) become ``/start`` with the QR code's
scene as the deep link, exactly like Telegram's ``/start <payload>``, so a parametric QR
code can open a flow; ``CLICK`` says the menu item's key; ``unsubscribe`` and ``VIEW`` are
recorded as notices (nobody to answer); anything else is ignored with the reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial

from hub.errors import InputError
from hub.model import Attachment, Inbound, InboundKind

CHANNEL = "wechat"
MENU_ID = "bizmsgmenuid"  # the id of a clicked msgmenu item, on the text it sends back
_SCENE_PREFIX = "qrscene_"


@dataclass(frozen=True, slots=True, kw_only=True)
class Ignored:
    reason: str


def address(app_id: str, openid: str) -> str:
    return f"{app_id}:{openid}"


def openid_of(address: str) -> str:
    return address.rpartition(":")[2]


def parse_message(fields: Mapping[str, str], *, app_id: str) -> Inbound | Ignored:
    """One decrypted push → an `Inbound` for `ingest`, or `Ignored`. InputError when the
    fields every push carries are missing."""
    openid = fields.get("FromUserName", "")
    kind = fields.get("MsgType", "")
    created = fields.get("CreateTime", "")
    if not openid or not kind or not created.isdigit():
        raise InputError("a WeChat message needs FromUserName, MsgType and CreateTime")
    raw: dict[str, object] = {"message": dict(fields)}
    if fields.get("UnionId"):
        raw["unionid"] = fields["UnionId"]
    base = partial(
        Inbound, channel=CHANNEL, sender=address(app_id, openid), timestamp=float(created), raw=raw
    )
    if kind == "event":
        return _event(fields, openid, created, base, raw)
    msg_id = fields.get("MsgId", "")
    if not msg_id.isdigit():
        raise InputError(f"a WeChat {kind} message needs a numeric MsgId")
    text, attachments = _content(kind, fields)
    if text is None:
        return Ignored(reason=f"message type {kind!r}")
    if fields.get(MENU_ID):
        raw["menu_id"] = fields[MENU_ID]
    return base(message_id=msg_id, text=text, attachments=attachments)


def _content(kind: str, fields: Mapping[str, str]) -> tuple[str | None, tuple[Attachment, ...]]:
    media = fields.get("MediaId", "")
    if kind == "text":
        return fields.get("Content", ""), ()
    if kind == "image":
        return "", (Attachment(kind="image", url=fields.get("PicUrl", ""), ref=media),)
    if kind == "voice":
        # With speech recognition switched on, WeChat sends what was said: the bot reads it.
        audio = Attachment(kind="audio", mime_type=_voice_mime(fields.get("Format", "")), ref=media)
        return fields.get("Recognition", ""), (audio,)
    if kind in ("video", "shortvideo"):
        return "", (Attachment(kind="video", ref=media),)
    if kind == "location":
        place = f"{fields.get('Location_X', '')},{fields.get('Location_Y', '')}"
        return fields.get("Label", ""), (Attachment(kind="location", name=place),)
    if kind == "link":
        text = "\n".join(p for p in (fields.get("Title", ""), fields.get("Url", "")) if p)
        return text, ()
    return None, ()


def _voice_mime(format_: str) -> str:
    return {"amr": "audio/amr", "speex": "audio/speex"}.get(format_.lower(), "")


def _event(
    fields: Mapping[str, str],
    openid: str,
    created: str,
    base: partial[Inbound],
    raw: dict[str, object],
) -> Inbound | Ignored:
    name = fields.get("Event", "")
    key = fields.get("EventKey", "")
    message_id = f"event:{openid}:{created}:{name}"
    if name in ("subscribe", "SCAN"):
        scene = key.removeprefix(_SCENE_PREFIX) if name == "subscribe" else key
        if scene:
            raw["deep_link"] = scene
        return base(message_id=message_id, text="/start")
    if name == "CLICK" and key:
        return base(message_id=message_id, text=key)
    if name in ("unsubscribe", "VIEW"):
        raw["event"] = name
        return base(message_id=message_id, text="", kind=InboundKind.NOTICE)
    return Ignored(reason=f"event {name or '?'}")


__all__ = ["CHANNEL", "MENU_ID", "Ignored", "address", "openid_of", "parse_message"]
