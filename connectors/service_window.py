"""The provider's customer-service window, for channels that have one.

WhatsApp (24 hours) and WeChat (48 hours) let a business send free-form messages only for a
while after the customer last wrote; after that only pre-approved templates go (WhatsApp),
or nothing (WeChat). The rule is the same everywhere, so it lives here once:

- *when did the customer last write on this channel, from this address?* is read from the
  conversation's own log (``message.in`` events, with the provider's timestamp), so every
  process and every restart agrees and nothing extra has to be stored;
- *what kind of reply is this?* (`reply_purpose`) decides which template, if any, may carry
  it after the window: an agent's reply, the CSAT question, or anything else. It is read
  from the events committed together with the reply (`handoff.agent_message`,
  ``csat.asked``), so the connector never needs to know the hand-off.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from hub.model import Delivery, Event, EventType


class EventReader(Protocol):
    """What the window needs of the hub's log: a conversation's events, in pages."""

    async def events(
        self, conversation_id: str, *, after_seq: int = 0, limit: int = 100
    ) -> list[Event]: ...


AGENT_REPLY = "agent_reply"
CSAT = "csat"
OTHER = "other"
_PAGE = 200
_MAX_SCAN = 5000  # events read back at most; a customer silent for longer is outside anyway


@dataclass(frozen=True, slots=True, kw_only=True)
class ServiceWindow:
    """`length` seconds after the customer's last message on `channel`."""

    channel: str
    length: float

    def closes_at(self, last_inbound: float | None) -> float | None:
        return None if last_inbound is None else last_inbound + self.length

    def is_open(self, last_inbound: float | None, now: float) -> bool:
        closes = self.closes_at(last_inbound)
        return closes is not None and now < closes

    async def last_inbound(
        self, log: EventReader, conversation_id: str, *, before_seq: int, address: str
    ) -> float | None:
        """When the customer at `address` last wrote on this channel in the conversation,
        reading its log backwards from `before_seq`; None when they never did."""
        upper = before_seq
        while upper > 0 and before_seq - upper < _MAX_SCAN:
            after = max(0, upper - _PAGE)
            events = await log.events(conversation_id, after_seq=after, limit=upper - after)
            found = last_inbound_at(events, channel=self.channel, address=address)
            if found is not None:
                return found
            upper = after
        return None

    async def last_before(self, log: EventReader, delivery: Delivery) -> float | None:
        """When the customer `delivery` goes to last wrote before it (None: never)."""
        return await self.last_inbound(
            log, delivery.conversation_id, before_seq=delivery.seq, address=delivery.address
        )


def last_inbound_at(events: Iterable[Event], *, channel: str, address: str) -> float | None:
    """The newest customer message of `channel` from `address` among `events` (pure)."""
    latest: float | None = None
    for event in events:
        data = event.data
        if event.type != EventType.MESSAGE_IN or data.get("channel") != channel:
            continue
        if str(data.get("sender", "")) != address:
            continue
        stamp = data.get("timestamp")
        # The provider's time of the message; the store's time if the provider gave none.
        at = float(stamp) if isinstance(stamp, int | float) and stamp > 0 else event.at
        latest = at if latest is None else max(latest, at)
    return latest


def reply_purpose(events: Sequence[Event], seq: int) -> str:
    """What the reply logged at `seq` is for, from the events of its own commit (pure).

    A commit's events share their time; the hand-off logs ``handoff.agent_message`` before an
    agent's reply and ``csat.asked`` with the resolution, whose *last* reply is the question.
    """
    by_seq = {event.seq: event for event in events}
    reply = by_seq.get(seq)
    if reply is None or reply.type != EventType.MESSAGE_OUT:
        return OTHER
    commit = [e for e in events if e.at == reply.at]
    kinds = {e.type for e in commit}
    replies = [e.seq for e in commit if e.type == EventType.MESSAGE_OUT]
    if "csat.asked" in kinds and seq == max(replies):
        return CSAT
    if "handoff.agent_message" in kinds:
        return AGENT_REPLY
    return OTHER


__all__ = [
    "AGENT_REPLY",
    "CSAT",
    "OTHER",
    "ServiceWindow",
    "last_inbound_at",
    "reply_purpose",
]
