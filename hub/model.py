"""The normalized conversation model: what every channel is turned into.

All value types are frozen, slotted, keyword-only dataclasses with a stable JSON form
(`to_json()` / `from_json()`), so that both stores persist exactly the same shape.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from hub import jsonio
from hub.jsonio import MAX_INT

JSON = dict[str, Any]


class ConversationStatus(enum.StrEnum):
    """Who owns the conversation: the bot, the queue, an agent, or nobody (resolved)."""

    BOT = "bot"
    QUEUED = "queued"
    ASSIGNED = "assigned"
    RESOLVED = "resolved"


#: Identity namespace of senders a channel could not authenticate (see `Inbound.identity`).
UNVERIFIED_SENDER = "unverified"


class InboundKind(enum.StrEnum):
    """A new message starts a turn; an edit or a notice is only logged."""

    MESSAGE = "message"
    EDIT = "edit"
    NOTICE = "notice"  # recorded, never answered (auto-replies, bounces, rate-limited mail)


class EventType(enum.StrEnum):
    """Everything that can happen in a conversation; the log is the source of truth."""

    OPENED = "conversation.opened"
    MESSAGE_IN = "message.in"
    MESSAGE_EDITED = "message.edited"
    MESSAGE_NOTICED = "message.noticed"
    MESSAGE_OUT = "message.out"
    BOT_TURN = "bot.turn"
    STATUS_CHANGED = "status.changed"
    DELIVERED = "delivery.delivered"
    DELIVERY_FAILED = "delivery.failed"
    DELIVERY_PARKED = "delivery.parked"
    DELIVERY_REDRIVEN = "delivery.redriven"
    TURN_FAILED = "turn.failed"
    CUSTOMER_TAGGED = "customer.tagged"  # the hub adds data["tag"] to the customer's tags


@dataclass(frozen=True, slots=True, kw_only=True)
class Attachment:
    """A file the customer, the bot or an agent sent; the log keeps metadata, not the bytes.

    `id` names the bytes in the attachment store (`hub.attachments`) when they were kept
    there; then `mime_type` is the type sniffed from the content, never the one declared."""

    kind: str  # image, document, audio, video, sticker, location, contact …
    name: str = ""
    mime_type: str = ""
    size: int | None = None
    url: str = ""
    ref: str = ""  # the channel's own handle for the file (e.g. a Telegram file_id)
    id: str = ""  # the attachment store's id ("" when the bytes are not kept)
    sha256: str = ""

    def __post_init__(self) -> None:
        _clean_fields(self, "kind", "name", "mime_type", "url", "ref", "id", "sha256")
        if self.size is not None and (
            isinstance(self.size, bool)
            or not isinstance(self.size, int | float)
            or not 0 <= self.size <= MAX_INT  # False for NaN too
            or not float(self.size).is_integer()
        ):
            # A channel's metadata is advisory: an impossible size (NaN, Infinity, -1) is
            # dropped rather than stored where strict JSON readers would choke on it.
            object.__setattr__(self, "size", None)
        elif self.size is not None:
            object.__setattr__(self, "size", int(self.size))

    def to_json(self) -> JSON:
        return {
            "kind": self.kind,
            "name": self.name,
            "mime_type": self.mime_type,
            "size": self.size,
            "url": self.url,
            "ref": self.ref,
            # Only written when kept: rows from before the store read back unchanged.
            **({"id": self.id, "sha256": self.sha256} if self.id else {}),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Attachment:
        return cls(
            kind=str(data["kind"]),
            name=str(data.get("name", "")),
            mime_type=str(data.get("mime_type", "")),
            size=data.get("size"),
            url=str(data.get("url", "")),
            ref=str(data.get("ref", "")),
            id=str(data.get("id", "")),
            sha256=str(data.get("sha256", "")),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Button:
    """A quick reply: `title` is shown, `payload` is what comes back when it is chosen."""

    title: str
    payload: str

    def to_json(self) -> JSON:
        return {"title": self.title, "payload": self.payload}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Button:
        return cls(title=str(data["title"]), payload=str(data["payload"]))


#: Buttons that answer a question carry the question's number after this mark
#: (``yes#q3``), so a press on an older copy of a re-asked question can be told apart.
QUESTION_MARK = "#q"


def mark_question(payload: str, question: int) -> str:
    """`payload` as a button of question number `question`."""
    return f"{payload}{QUESTION_MARK}{question}"


def split_question(payload: str) -> tuple[str, int | None]:
    """(payload, question number) of a marked payload; (payload, None) of any other text."""
    head, mark, number = payload.rpartition(QUESTION_MARK)
    if mark and head and number.isdigit() and len(number) < 10:
        return head, int(number)
    return payload, None


@dataclass(frozen=True, slots=True, kw_only=True)
class Inbound:
    """One message as a connector hands it to the hub.

    `message_id` is the channel's own id and the idempotency key together with `channel`.
    `raw` keeps the provider's original payload for audit.
    """

    channel: str
    sender: str
    message_id: str
    text: str
    attachments: tuple[Attachment, ...] = ()
    thread_hint: str = ""
    timestamp: float = field(default_factory=time.time)
    raw: Mapping[str, Any] = field(default_factory=dict)
    kind: InboundKind = InboundKind.MESSAGE
    # False when the channel could not prove the sender owns `sender` (an email whose
    # From: failed DKIM/DMARC). Such a message never speaks for that address's customer.
    sender_verified: bool = True

    def __post_init__(self) -> None:
        # The edge every channel passes: text that is not valid Unicode (a lone surrogate
        # from a leniently decoded mail header …) can be stored by neither store.
        _clean_fields(self, "channel", "sender", "message_id", "text", "thread_hint")
        if not jsonio.is_clean(self.raw):
            object.__setattr__(self, "raw", jsonio.clean(self.raw))

    @property
    def identity(self) -> str:
        """The sender as a channel identity, e.g. ``telegram:123``.

        An unverified sender gets its own ``unverified:`` namespace, so the directory never
        resolves it to the customer who owns the address (nor to their conversations)."""
        plain = f"{self.channel}:{self.sender}"
        return plain if self.sender_verified else f"{UNVERIFIED_SENDER}:{plain}"

    def to_json(self) -> JSON:
        return {
            "channel": self.channel,
            "sender": self.sender,
            "message_id": self.message_id,
            "text": self.text,
            "attachments": [a.to_json() for a in self.attachments],
            "thread_hint": self.thread_hint,
            "timestamp": self.timestamp,
            "raw": dict(self.raw),
            "kind": self.kind.value,
            # Only written when False: rows from before the flag read back as verified.
            **({} if self.sender_verified else {"sender_verified": False}),
        }

    @property
    def thread_key(self) -> str:
        """Which open conversation this continues: "" means the customer's current one;
        otherwise only a conversation opened on the same channel thread (an email thread)."""
        return f"{self.channel}:{self.thread_hint}" if self.thread_hint else ""

    @property
    def event_type(self) -> EventType:
        """The log entry this inbound becomes."""
        if self.kind == InboundKind.NOTICE:
            return EventType.MESSAGE_NOTICED
        return (
            EventType.MESSAGE_IN if self.kind == InboundKind.MESSAGE else EventType.MESSAGE_EDITED
        )

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Inbound:
        return cls(
            channel=str(data["channel"]),
            sender=str(data["sender"]),
            message_id=str(data["message_id"]),
            text=str(data["text"]),
            attachments=tuple(Attachment.from_json(a) for a in data.get("attachments", ())),
            thread_hint=str(data.get("thread_hint", "")),
            timestamp=float(data.get("timestamp", 0.0)),
            raw=dict(data.get("raw", {})),
            kind=InboundKind(data.get("kind", InboundKind.MESSAGE)),
            sender_verified=data.get("sender_verified", True) is not False,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Outbound:
    """A reply in channel-neutral terms; each connector renders it in its own."""

    text: str
    buttons: tuple[Button, ...] = ()
    attachments: tuple[Attachment, ...] = ()

    def __post_init__(self) -> None:
        _clean_fields(self, "text")

    def to_json(self) -> JSON:
        return {
            "text": self.text,
            "buttons": [b.to_json() for b in self.buttons],
            "attachments": [a.to_json() for a in self.attachments],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Outbound:
        return cls(
            text=str(data["text"]),
            buttons=tuple(Button.from_json(b) for b in data.get("buttons", ())),
            attachments=tuple(Attachment.from_json(a) for a in data.get("attachments", ())),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Customer:
    """One person, however many channels they use."""

    id: str
    identities: tuple[str, ...]
    attributes: Mapping[str, Any] = field(default_factory=dict)
    tags: tuple[str, ...] = ()
    created_at: float = 0.0

    def to_json(self) -> JSON:
        return {
            "id": self.id,
            "identities": list(self.identities),
            "attributes": dict(self.attributes),
            "tags": list(self.tags),
            "created_at": self.created_at,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Customer:
        return cls(
            id=str(data["id"]),
            identities=tuple(data.get("identities", ())),
            attributes=dict(data.get("attributes", {})),
            tags=tuple(data.get("tags", ())),
            created_at=float(data.get("created_at", 0.0)),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Conversation:
    """A conversation's current state, derived from its event log.

    `handled_seq` is the last inbound event whose turn has run: inbound events above it
    are acknowledged but still waiting for their turn (recovered after a crash).
    `state` is the owner's private state (flow position, slots), saved with each turn.
    """

    id: str
    customer_id: str
    status: ConversationStatus
    channel: str
    address: str  # the customer's address on `channel`, where replies go
    thread_hint: str = ""
    priority: int = 3
    created_at: float = 0.0
    updated_at: float = 0.0
    last_seq: int = 0
    handled_seq: int = 0
    state: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> JSON:
        return {
            "id": self.id,
            "customer_id": self.customer_id,
            "status": self.status.value,
            "channel": self.channel,
            "address": self.address,
            "thread_hint": self.thread_hint,
            "priority": self.priority,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "last_seq": self.last_seq,
            "handled_seq": self.handled_seq,
            "state": dict(self.state),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Conversation:
        return cls(
            id=str(data["id"]),
            customer_id=str(data["customer_id"]),
            status=ConversationStatus(data["status"]),
            channel=str(data["channel"]),
            address=str(data["address"]),
            thread_hint=str(data.get("thread_hint", "")),
            priority=int(data.get("priority", 3)),
            created_at=float(data.get("created_at", 0.0)),
            updated_at=float(data.get("updated_at", 0.0)),
            last_seq=int(data.get("last_seq", 0)),
            handled_seq=int(data.get("handled_seq", 0)),
            state=dict(data.get("state", {})),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class NewEvent:
    """An event about to be appended; the store gives it its sequence number."""

    type: str
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """One entry of a conversation's append-only log."""

    conversation_id: str
    seq: int
    type: str
    at: float
    data: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> JSON:
        return {
            "conversation_id": self.conversation_id,
            "seq": self.seq,
            "type": self.type,
            "at": self.at,
            "data": dict(self.data),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Event:
        return cls(
            conversation_id=str(data["conversation_id"]),
            seq=int(data["seq"]),
            type=str(data["type"]),
            at=float(data["at"]),
            data=dict(data.get("data", {})),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Route:
    """Where a reply goes: a channel, the customer's address there, and its thread."""

    channel: str
    address: str
    thread_hint: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Delivery:
    """One outbound message waiting in (or leaving) the outbox.

    `id` doubles as the idempotency key a receiver uses to drop duplicates: delivery is
    at-least-once, and a crash between sending and recording the receipt resends.
    """

    id: str
    conversation_id: str
    seq: int  # the message.out event this delivers
    channel: str
    address: str
    thread_hint: str
    outbound: Outbound
    attempts: int = 0
    next_attempt_at: float = 0.0
    last_error: str = ""
    created_at: float = 0.0
    # When the current run of failed attempts began (0: none yet); the retry horizon
    # counts from here. Throttled attempts (a 429's `retry_after`) are not failures.
    failing_since: float = 0.0
    throttled: int = 0
    # Provider ids of the parts already sent of a reply the channel splits, so a retry in
    # any process resumes after them. Kept by the store apart from the rest of the entry.
    parts_sent: tuple[str, ...] = ()

    def to_json(self) -> JSON:
        return {
            "id": self.id,
            "conversation_id": self.conversation_id,
            "seq": self.seq,
            "channel": self.channel,
            "address": self.address,
            "thread_hint": self.thread_hint,
            "outbound": self.outbound.to_json(),
            "attempts": self.attempts,
            "next_attempt_at": self.next_attempt_at,
            "last_error": self.last_error,
            "created_at": self.created_at,
            "failing_since": self.failing_since,
            "throttled": self.throttled,
            "parts_sent": list(self.parts_sent),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Delivery:
        return cls(
            id=str(data["id"]),
            conversation_id=str(data["conversation_id"]),
            seq=int(data["seq"]),
            channel=str(data["channel"]),
            address=str(data["address"]),
            thread_hint=str(data.get("thread_hint", "")),
            outbound=Outbound.from_json(data["outbound"]),
            attempts=int(data.get("attempts", 0)),
            next_attempt_at=float(data.get("next_attempt_at", 0.0)),
            last_error=str(data.get("last_error", "")),
            created_at=float(data.get("created_at", 0.0)),
            failing_since=float(data.get("failing_since", 0.0)),
            throttled=int(data.get("throttled", 0)),
            parts_sent=tuple(str(part) for part in data.get("parts_sent", ())),
        )


def _clean_fields(instance: object, *names: str) -> None:
    """Replace lone surrogates in the named text fields of a frozen dataclass (in place,
    which only `__post_init__` may do)."""
    for name in names:
        value = getattr(instance, name)
        if isinstance(value, str):
            cleaned = jsonio.clean_text(value)
            if cleaned is not value:
                object.__setattr__(instance, name, cleaned)
