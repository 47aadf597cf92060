"""The web chat wire protocol: parse client frames, build server frames (pure functions).

Every frame is one JSON object with a ``type``; the full description with examples is in
``docs/webchat-protocol.md``. Client → server: ``hello``, ``message``, ``read``, ``typing``.
Server → client: ``welcome``, ``message``, ``status``, ``synced``, ``ack``, ``typing``,
``read``, ``slow_down``, ``error``, and ``frames`` (several of those in one, for a client that
asked for it in its ``hello``). Frames that come from the conversation log carry its
``conversation_id`` and ``seq``: a client resumes by saying the last pair it saw.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hub import jsonio
from hub.errors import InputError
from hub.model import Attachment, Event, EventType, Inbound, Outbound

JSON = dict[str, Any]

MAX_ID_LENGTH = 64
MAX_ATTACHMENTS = 10  # files one message may refer to
_ATTACHMENT_ID = re.compile(r"^att_[0-9a-f]{32}$")
_CLIENT_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")

# Events a customer's widget is shown; everything else (bot.turn, delivery.*) stays inside.
STATUS_PREFIXES = ("handoff.",)
# Hand-off events that are the agents' business only: not even their kind reaches the
# visitor's socket (that a whisper or an internal note happened is itself internal).
# (Offers stay: "offered, still waiting" and "assigned to Tom" are the customer's truth.)
INTERNAL_HANDOFF_EVENTS = frozenset({"handoff.whisper", "handoff.note", "handoff.priority_changed"})


@dataclass(frozen=True, slots=True, kw_only=True)
class Hello:
    """The first frame of a connection: who the visitor is and where they stopped reading."""

    token: str = ""
    conversation_id: str = ""
    last_seq: int = 0
    identity_token: str = ""  # signed by the company's site: who the visitor is
    # The client reads `frames` frames (several frames in one): frames that are ready
    # together then leave in one WebSocket message, one send instead of several.
    batch: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class SendMessage:
    """A customer's message. `id` is client-generated and makes re-sending idempotent;
    `payload` is set when a quick-reply button was chosen (`text` is then its title)."""

    id: str
    text: str
    payload: str = ""
    attachments: tuple[str, ...] = ()  # ids of files uploaded first (POST /webchat/attachments)


@dataclass(frozen=True, slots=True, kw_only=True)
class Read:
    """The client has shown everything up to `seq`."""

    seq: int


@dataclass(frozen=True, slots=True, kw_only=True)
class CustomerTyping:
    """The customer is typing (`on`) or stopped; ephemeral, never logged."""

    on: bool = True


ClientFrame = Hello | SendMessage | Read | CustomerTyping


# --------------------------------------------------------------------------- parsing


def decode(text: str) -> Any:
    """One WebSocket text frame → JSON under the shared limits (`hub.jsonio`), or an
    `InputError` that says why not."""
    return jsonio.loads(text, what="frame")


def parse_client_frame(data: Any, *, max_text_length: int) -> ClientFrame:
    """A decoded client frame → its typed value, or an `InputError` naming the field."""
    if not isinstance(data, dict):
        raise InputError(f"a frame must be a JSON object, not {type(data).__name__}")
    kind = data.get("type")
    if kind == "hello":
        return parse_hello(data)
    if kind == "message":
        return parse_message(data, max_text_length=max_text_length)
    if kind == "read":
        return Read(seq=_seq(data, "seq"))
    if kind == "typing":
        on = data.get("on", True)
        if not isinstance(on, bool):
            raise InputError("field 'on' must be true or false")
        return CustomerTyping(on=on)
    raise InputError(f"unknown frame type {kind!r} (expected hello, message, read or typing)")


def parse_hello(data: Mapping[str, Any]) -> Hello:
    token = _optional_str(data, "token", max_length=512)
    conversation_id = _optional_str(data, "conversation_id", max_length=128)
    return Hello(
        token=token,
        conversation_id=conversation_id,
        last_seq=_seq(data, "last_seq"),
        identity_token=_optional_str(data, "identity_token", max_length=4096),
        batch=_optional_bool(data, "batch"),
    )


def parse_message(data: Mapping[str, Any], *, max_text_length: int) -> SendMessage:
    message_id = data.get("id")
    if not isinstance(message_id, str) or not _CLIENT_ID.match(message_id):
        raise InputError(
            "field 'id' must be 1-64 characters of letters, digits, '_', '-', '.' or ':'"
        )
    text = data.get("text")
    if not isinstance(text, str):
        raise InputError("field 'text' must be a string")
    attachments = _attachment_ids(data.get("attachments"))
    if not text.strip() and not attachments:
        raise InputError("field 'text' must not be empty")
    if len(text) > max_text_length:
        raise InputError(f"field 'text' is longer than {max_text_length} characters")
    payload = _optional_str(data, "payload", max_length=1000)
    return SendMessage(id=message_id, text=text, payload=payload, attachments=attachments)


def _attachment_ids(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InputError("field 'attachments' must be a list of attachment ids")
    if len(value) > MAX_ATTACHMENTS:
        raise InputError(f"a message may carry at most {MAX_ATTACHMENTS} attachments")
    if not all(_ATTACHMENT_ID.match(v) for v in value):
        raise InputError("field 'attachments' holds something that is not an attachment id")
    return tuple(dict.fromkeys(value))


def _optional_str(data: Mapping[str, Any], name: str, *, max_length: int) -> str:
    value = data.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InputError(f"field '{name}' must be a string")
    if len(value) > max_length:
        raise InputError(f"field '{name}' is longer than {max_length} characters")
    return value


def _optional_bool(data: Mapping[str, Any], name: str) -> bool:
    value = data.get(name, False)
    if not isinstance(value, bool):
        raise InputError(f"field '{name}' must be true or false")
    return value


def _seq(data: Mapping[str, Any], name: str) -> int:
    value = data.get(name, 0)
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InputError(f"field '{name}' must be a whole number of at least 0")
    return value


def to_inbound(
    channel: str,
    visitor: str,
    message: SendMessage,
    *,
    received_at: float,
    attachments: tuple[Attachment, ...] = (),
) -> Inbound:
    """A customer's message → `Inbound`. The idempotency key is scoped to the visitor, so
    two visitors' client-generated ids can never collide. `attachments` are the stored
    files `message.attachments` named, already checked to be the visitor's own."""
    raw: JSON = {"client_id": message.id}
    if message.payload:
        raw["button_title"] = message.text
    return Inbound(
        channel=channel,
        sender=visitor,
        message_id=f"{visitor}:{message.id}",
        text=message.payload or message.text,
        attachments=attachments,
        timestamp=received_at,
        raw=raw,
    )


# --------------------------------------------------------------------------- building


def encode(frame: Mapping[str, Any]) -> str:
    if isinstance(frame, SharedFrame):
        return frame.text()
    return jsonio.dumps(frame)


def frames(texts: Sequence[str]) -> str:
    """Several encoded frames as one `frames` frame, for a client that said it reads them
    (`Hello.batch`); each keeps its own text, joined rather than encoded again."""
    return '{"type":"frames","frames":[' + ",".join(texts) + "]}"


def is_reply(frame: Mapping[str, Any]) -> bool:
    """An `out` message (the bot's or an agent's): the client hides "typing" when it comes."""
    return frame.get("type") == "message" and frame.get("direction") == "out"


def without_stale_typing(pending: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """`pending` without the `typing` frames a later reply in it makes pointless: a client
    hides the indicator at the next `out` message, so "typing" sent just before the reply
    would only flicker (and cost a send)."""
    last_reply = -1
    for index, frame in enumerate(pending):
        if is_reply(frame):
            last_reply = index
    if last_reply < 0:
        return list(pending)
    return [
        frame
        for index, frame in enumerate(pending)
        if index > last_reply or frame.get("type") != "typing"
    ]


class SharedFrame(dict[str, Any]):
    """A frame going to several tabs of one visitor: encoded once, by the first writer.

    Frames are never changed once published, so the text cannot go stale."""

    __slots__ = ("_text",)

    def text(self) -> str:
        try:
            return self._text
        except AttributeError:
            self._text: str = jsonio.dumps(self)
            return self._text


def welcome(*, token: str, visitor: str, conversation_id: str, status: str) -> JSON:
    return {
        "type": "welcome",
        "token": token,
        "visitor": visitor,
        "conversation_id": conversation_id or None,
        "status": status or None,
    }


def synced(conversation_id: str, seq: int) -> JSON:
    return {"type": "synced", "conversation_id": conversation_id or None, "seq": seq}


def ack(message_id: str, *, conversation_id: str, seq: int, duplicate: bool) -> JSON:
    return {
        "type": "ack",
        "id": message_id,
        "conversation_id": conversation_id,
        "seq": seq,
        "duplicate": duplicate,
    }


def slow_down(message_id: str, *, retry_after: float) -> JSON:
    return {
        "type": "slow_down",
        "id": message_id,
        "retry_after": round(retry_after, 2),
        "message": "too many messages; this one was not processed, send it again later",
    }


def error(code: str, message: str, *, message_id: str = "") -> JSON:
    frame: JSON = {"type": "error", "code": code, "message": message}
    if message_id:
        frame["id"] = message_id
    return frame


def typing(*, on: bool = True) -> JSON:
    return {"type": "typing", "on": on}


def read(conversation_id: str, seq: int) -> JSON:
    return {"type": "read", "conversation_id": conversation_id, "seq": seq}


def message_out(
    *, conversation_id: str, seq: int, at: float, outbound: Outbound, delivery_id: str
) -> JSON:
    """A bot's or agent's reply, with its quick replies."""
    return {
        "type": "message",
        "conversation_id": conversation_id,
        "seq": seq,
        "at": at,
        "direction": "out",
        "id": delivery_id,
        "text": outbound.text,
        "buttons": [b.to_json() for b in outbound.buttons],
        "attachments": [attachment_view(a) for a in outbound.attachments],
    }


def attachment_view(attachment: Attachment) -> JSON:
    """What the widget shows of a file. A stored one (with an `id`) gets its `url` from the
    connector, signed for the visitor it is sent to; others keep the URL they came with."""
    view: JSON = {
        "kind": attachment.kind,
        "name": attachment.name,
        "mime_type": attachment.mime_type,
        "size": attachment.size,
        "url": "" if attachment.id else attachment.url,
    }
    if attachment.id:
        view["id"] = attachment.id
    return view


def _logged_attachments(data: Mapping[str, Any]) -> list[JSON]:
    views = []
    for item in data.get("attachments") or ():
        try:
            views.append(attachment_view(Attachment.from_json(item)))
        except (KeyError, TypeError, ValueError, AttributeError):
            continue  # a malformed entry is never worth breaking a customer's feed
    return views


def event_frame(event: Event, *, channel: str) -> JSON | None:
    """The frame a customer sees for one logged event, or None when it is internal.

    Customer messages from other channels are shown too (it is one conversation);
    their `id` is only meaningful to the widget that sent them.
    """
    data = event.data
    base: JSON = {"conversation_id": event.conversation_id, "seq": event.seq, "at": event.at}
    if event.type == EventType.MESSAGE_IN:
        raw = data.get("raw") or {}
        own = data.get("channel") == channel
        return {
            "type": "message",
            **base,
            "direction": "in",
            "id": str(raw.get("client_id", "")) if own else "",
            "text": str(raw.get("button_title") or data.get("text", "")),
            "buttons": [],
            "attachments": _logged_attachments(data),
        }
    if event.type == EventType.MESSAGE_OUT:
        try:
            outbound = Outbound.from_json(data.get("outbound") or {})
        except (KeyError, TypeError, ValueError):
            return None  # a malformed entry is never worth breaking a customer's feed
        return message_out(
            conversation_id=event.conversation_id,
            seq=event.seq,
            at=event.at,
            outbound=outbound,
            delivery_id=str(data.get("delivery_id", "")),
        )
    if event.type == EventType.STATUS_CHANGED:
        return {"type": "status", **base, "event": event.type, "status": str(data.get("to", ""))}
    if event.type.startswith(STATUS_PREFIXES) and event.type not in INTERNAL_HANDOFF_EVENTS:
        return {"type": "status", **base, "event": event.type, **handoff_details(data)}
    return None


def handoff_details(data: Mapping[str, Any]) -> JSON:
    """The few facts a customer may see about their ticket; anything else stays internal
    (a hand-off summary holds notes meant for agents only)."""
    details: JSON = {}
    status = data.get("status") or data.get("to")
    if isinstance(status, str):
        details["status"] = status
    position = data.get("position")
    if isinstance(position, int) and not isinstance(position, bool):
        details["position"] = position
    wait = data.get("expected_wait", data.get("expected_wait_seconds"))
    if isinstance(wait, int | float) and not isinstance(wait, bool):
        details["expected_wait"] = float(wait)
    agent = data.get("agent_name", data.get("agent"))
    if isinstance(agent, Mapping):
        agent = agent.get("name") or agent.get("display_name")
    if isinstance(agent, str) and agent:
        details["agent"] = agent
    ticket = data.get("ticket_id", data.get("ticket"))
    if isinstance(ticket, str) and ticket:
        details["ticket"] = ticket
    return details


__all__ = [
    "ClientFrame",
    "Hello",
    "Read",
    "SendMessage",
    "decode",
    "encode",
    "event_frame",
    "frames",
    "is_reply",
    "parse_client_frame",
    "to_inbound",
    "without_stale_typing",
]
