"""Telegram update JSON → what the hub understands. Pure functions, no network.

An update becomes one of four things:

- an `Inbound` (a message, an edit, a shared contact, a photo …) ready for `ingest`;
- a `ButtonPress` (a callback query from an inline keyboard) whose callback data still has
  to be mapped back to the button's payload before it becomes an `Inbound`;
- `Ignored`, with the reason (group chats unless allowed, other bots, update types the hub
  has no use for), so the caller can log one clear line and acknowledge the update;
- `Malformed`: the envelope is sound (an update id, a chat) but a field inside it is not
  what Telegram documents. It is recorded in the chat's conversation as a notice (for
  audit) and acknowledged, so that one odd update never stalls the ones behind it.

An envelope that is not an update at all (not an object, no integer ``update_id``, a
message without a chat) raises `InputError` (→ 400 on the webhook, one log line in
polling) and writes nothing.

Normalized extras live beside the original update in `Inbound.raw`:
``{"update": <update JSON as received>, "deep_link": "<payload of /start>",
"contact": {"phone": "+…", "own": true}}`` (the last two only when present), so the identity
work can read them without knowing Telegram's shapes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from telegram import Message, Update

from hub.errors import InputError
from hub.model import Attachment, Inbound, InboundKind

CHANNEL = "telegram"

# "/start", "/start payload" or, in groups, "/start@SomeBot payload".
_START = re.compile(r"^/start(?:@\w+)?(?:\s+(?P<payload>\S+))?\s*$")
_PRIVATE = "private"
_GROUPS = ("group", "supergroup")
_HANDLED = ("message", "edited_message", "callback_query", "my_chat_member")


@dataclass(frozen=True, slots=True, kw_only=True)
class ButtonPress:
    """A tap on an inline keyboard button; `data` is the (possibly mapped) callback data."""

    update_id: int
    query_id: str
    chat_id: int
    message_id: int | None  # the message carrying the keyboard
    data: str
    template: Inbound  # the customer's reply, once `data` is resolved into its payload

    def inbound(self, payload: str) -> Inbound:
        return replace(self.template, text=payload)


@dataclass(frozen=True, slots=True, kw_only=True)
class Ignored:
    """An update the hub has no use for; acknowledged and logged, never an error."""

    update_id: int
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Malformed:
    """An update whose chat is known but whose content cannot be read; `query_id` is set
    when it was a button press (its spinner still has to be stopped)."""

    update_id: int
    chat_id: int
    reason: str
    update: Mapping[str, Any]
    query_id: str = ""

    def notice(self, *, received_at: float) -> Inbound:
        """The audit record: a notice in the chat's conversation, never answered."""
        return Inbound(
            channel=CHANNEL,
            sender=str(self.chat_id),
            message_id=f"update:{self.update_id}",
            text="",
            timestamp=received_at,
            raw={"update": dict(self.update), "malformed": self.reason},
            kind=InboundKind.NOTICE,
        )


Parsed = Inbound | ButtonPress | Ignored | Malformed


def parse_update(data: Any, *, allow_groups: bool = False, received_at: float) -> Parsed:
    """One update's JSON (webhook body or an item of `getUpdates`) → `Parsed`."""
    if not isinstance(data, dict):
        raise InputError(f"an update must be a JSON object, not {type(data).__name__}")
    update_id = data.get("update_id")
    if isinstance(update_id, bool) or not isinstance(update_id, int):
        raise InputError("an update needs an integer 'update_id'")
    kind = next((key for key in _HANDLED if key in data), None)
    if kind is None:
        # Not parsed at all: a field PTB requires in an update we do not use must not turn
        # into a 400 that Telegram would retry for ever.
        kinds = sorted(key for key in data if key != "update_id")
        return Ignored(update_id=update_id, reason=f"update type {', '.join(kinds) or '?'}")
    if kind == "my_chat_member":
        member = data[kind].get("new_chat_member") if isinstance(data[kind], dict) else None
        status = member.get("status") if isinstance(member, dict) else "?"
        return Ignored(update_id=update_id, reason=f"the bot's membership changed to {status}")
    chat_id, query_id = _envelope(update_id, kind, data[kind])
    try:
        update = Update.de_json({"update_id": update_id, kind: data[kind]}, None)
        if update.message is not None:
            return _message(update, update.message, data, allow_groups, InboundKind.MESSAGE)
        if update.edited_message is not None:
            return _message(update, update.edited_message, data, allow_groups, InboundKind.EDIT)
        if update.callback_query is not None:
            return _button_press(update, data, allow_groups, received_at)
    except InputError:
        raise
    except Exception as error:
        # PTB (or our reading) choked on a field inside a sound envelope: record, go on.
        if chat_id is None:
            return Ignored(update_id=update_id, reason=f"an unreadable {kind} without a chat")
        if chat_id < 0 and not allow_groups:  # a group's: not ours to record
            return Ignored(update_id=update_id, reason=f"an unreadable {kind} from a group")
        return Malformed(
            update_id=update_id,
            chat_id=chat_id,
            reason=f"{type(error).__name__}: {error}"[:500],
            update=data,
            query_id=query_id,
        )
    raise InputError(f"update {update_id} has an empty {kind!r}")


def _envelope(update_id: int, kind: str, body: Any) -> tuple[int | None, str]:
    """Check what every update of `kind` must have; its chat id (None for an inline-mode
    button press, which has none) and, for a button press, the query id."""
    if not isinstance(body, dict):
        raise InputError(f"update {update_id} is malformed: {kind!r} must be an object")
    query_id = ""
    message: Any = body
    if kind == "callback_query":
        given = body.get("id")
        query_id = given if isinstance(given, str) else ""
        if not query_id:
            raise InputError(f"update {update_id} is malformed: the button press has no id")
        message = body.get("message")
        if message is None:
            return None, query_id
        if not isinstance(message, dict):
            raise InputError(f"update {update_id} is malformed: its message must be an object")
    chat = message.get("chat")
    chat_id = chat.get("id") if isinstance(chat, dict) else None
    if isinstance(chat_id, bool) or not isinstance(chat_id, int):
        raise InputError(f"update {update_id} is malformed: the message has no chat")
    return chat_id, query_id


def _message(
    update: Update,
    message: Message,
    data: Mapping[str, Any],
    allow_groups: bool,
    kind: InboundKind,
) -> Parsed:
    sender = message.from_user
    refusal = _refuse_chat(message.chat.type, allow_groups)
    if refusal:
        return Ignored(update_id=update.update_id, reason=refusal)
    if sender is not None and sender.is_bot:
        return Ignored(update_id=update.update_id, reason="the sender is a bot")

    raw: dict[str, Any] = {"update": dict(data)}
    text = message.text or message.caption or ""
    attachments = _attachments(message)
    if message.contact is not None:
        phone = _phone(message.contact.phone_number)
        own = sender is not None and message.contact.user_id == sender.id
        raw["contact"] = {"phone": phone, "own": own}
        text = text or phone
    start = _START.match(text) if kind == InboundKind.MESSAGE else None
    if start:
        # The deep-link payload is a linking token, not something to say back to the user.
        text = "/start"
        if start.group("payload"):
            raw["deep_link"] = start.group("payload")
    if not text and not attachments:
        return Ignored(update_id=update.update_id, reason="a message without text or media")

    chat_id = message.chat.id
    if kind == InboundKind.EDIT:
        edited = message.edit_date.timestamp() if message.edit_date else float(update.update_id)
        message_id = f"{chat_id}:{message.message_id}:edit:{edited:.0f}"
        timestamp = edited
    else:
        message_id = f"{chat_id}:{message.message_id}"
        timestamp = message.date.timestamp()
    return Inbound(
        channel=CHANNEL,
        sender=str(chat_id),
        message_id=message_id,
        text=text,
        attachments=attachments,
        timestamp=timestamp,
        raw=raw,
        kind=kind,
    )


def _button_press(
    update: Update, data: Mapping[str, Any], allow_groups: bool, received_at: float
) -> Parsed:
    query = update.callback_query
    assert query is not None  # checked by the caller
    message = query.message
    if message is None:
        # Inline-mode messages have no chat to answer in.
        return Ignored(update_id=update.update_id, reason="a button press without a chat")
    refusal = _refuse_chat(message.chat.type, allow_groups)
    if refusal:
        return Ignored(update_id=update.update_id, reason=refusal)
    if query.data is None:
        return Ignored(update_id=update.update_id, reason="a button press without data (game)")
    chat_id = message.chat.id
    return ButtonPress(
        update_id=update.update_id,
        query_id=query.id,
        chat_id=chat_id,
        message_id=message.message_id,
        data=query.data,
        template=Inbound(
            channel=CHANNEL,
            sender=str(chat_id),
            message_id=f"callback:{query.id}",
            text="",
            timestamp=received_at,
            raw={"update": dict(data)},
        ),
    )


def _refuse_chat(chat_type: str, allow_groups: bool) -> str:
    if chat_type == _PRIVATE or (allow_groups and chat_type in _GROUPS):
        return ""
    if chat_type in _GROUPS:
        return f"a {chat_type} chat (set channels.telegram.allow_groups to answer groups)"
    return f"a {chat_type} chat"


def _attachments(message: Message) -> tuple[Attachment, ...]:
    found: list[Attachment] = []
    if message.photo:
        biggest = message.photo[-1]  # Telegram lists the sizes smallest first
        found.append(
            Attachment(
                kind="image",
                mime_type="image/jpeg",
                size=biggest.file_size,
                ref=biggest.file_id,
            )
        )
    if message.document is not None:
        document = message.document
        found.append(
            Attachment(
                kind="document",
                name=document.file_name or "",
                mime_type=document.mime_type or "",
                size=document.file_size,
                ref=document.file_id,
            )
        )
    for kind, name, media in (
        ("audio", "voice message", message.voice),
        ("audio", "", message.audio),
        ("video", "", message.video),
        ("video", "video message", message.video_note),
        ("video", "animation", message.animation if message.document is None else None),
    ):
        if media is not None:
            found.append(
                Attachment(
                    kind=kind,
                    name=name or getattr(media, "file_name", None) or "",
                    mime_type=getattr(media, "mime_type", None) or "",
                    size=media.file_size,
                    ref=media.file_id,
                )
            )
    if message.sticker is not None:
        sticker = message.sticker
        found.append(
            Attachment(
                kind="sticker",
                name=sticker.emoji or "",
                size=sticker.file_size,
                ref=sticker.file_id,
            )
        )
    if message.location is not None:
        location = message.location
        found.append(Attachment(kind="location", name=f"{location.latitude},{location.longitude}"))
    if message.contact is not None:
        contact = message.contact
        name = " ".join(part for part in (contact.first_name, contact.last_name) if part)
        found.append(Attachment(kind="contact", name=name, ref=_phone(contact.phone_number)))
    return tuple(found)


def _phone(number: str) -> str:
    """Telegram sends phone numbers with or without "+"; identities want E.164."""
    digits = re.sub(r"[^\d]", "", number)
    return f"+{digits}" if digits else ""


__all__ = ["CHANNEL", "ButtonPress", "Ignored", "Malformed", "Parsed", "parse_update"]
