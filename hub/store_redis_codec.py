"""How the Redis store encodes records: JSON strings built in Python, floats as `repr`.

Nothing here talks to Redis; the Lua scripts store these strings without decoding them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from hub import jsonio
from hub.model import Conversation, ConversationStatus, Delivery, Event, NewEvent


def dumps(value: Any) -> str:
    """Compact strict JSON (no NaN or infinity), the same bytes the SQLite store writes."""
    return jsonio.dumps(value)


def num(value: float) -> str:
    """A float as Redis stores it: `repr` round-trips exactly."""
    return repr(float(value))


def event_json(event: NewEvent, now: float) -> str:
    """An event as stored in its list: no seq (its position) nor conversation id (its key)."""
    return dumps({"type": str(event.type), "at": now, "data": dict(event.data)})


def event(conversation_id: str, seq: int, stored: str) -> Event:
    """The inverse of `event_json`."""
    data = jsonio.stored(stored)
    return Event(
        conversation_id=conversation_id,
        seq=seq,
        type=data["type"],
        at=float(data["at"]),
        data=data["data"],
    )


def text(value: bytes | str) -> str:
    """Narrow redis-py's `bytes | str` (the client decodes responses, so it is `str`)."""
    return value.decode() if isinstance(value, bytes) else value


def pairs(flat: Sequence[str]) -> dict[str, str]:
    """HGETALL as a Lua script returns it (a flat list) → a dict."""
    return dict(zip(flat[::2], flat[1::2], strict=True))


def conversation(fields: Mapping[str, str]) -> Conversation:
    """A conversation from its hash (`state` is the only JSON field)."""
    return Conversation(
        id=fields["id"],
        customer_id=fields["customer_id"],
        status=ConversationStatus(fields["status"]),
        channel=fields.get("channel", ""),
        address=fields.get("address", ""),
        thread_hint=fields.get("thread_hint", ""),
        priority=int(fields.get("priority", 3)),
        created_at=float(fields.get("created_at", 0.0)),
        updated_at=float(fields.get("updated_at", 0.0)),
        last_seq=int(fields.get("last_seq", 0)),
        handled_seq=int(fields.get("handled_seq", 0)),
        state=jsonio.stored(fields.get("state", "{}")),
    )


def delivery(data: str, seq: str, parts: str = "[]") -> Delivery:
    """A delivery from its hash; `seq` is kept apart because a script assigns it, and the
    parts sent because they are recorded while the rest of the entry may be rewritten."""
    return replace(
        Delivery.from_json(jsonio.stored(data)),
        seq=int(seq),
        parts_sent=tuple(str(part) for part in jsonio.stored(parts)),
    )


def deliveries(flat: Sequence[str]) -> list[Delivery]:
    """Deliveries from a flat `data, seq, parts, data, seq, parts …` script reply."""
    triples = zip(flat[::3], flat[1::3], flat[2::3], strict=True)
    return [delivery(data, seq, parts) for data, seq, parts in triples]


def redacted(url: str) -> str:
    """The URL without its password, fit for an error message or a log."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username or ''}:***@{parts.hostname}"
    if parts.port is not None:
        netloc += f":{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc))
