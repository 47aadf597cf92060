"""The outbox port: replies waiting for their channel, claimed in per-conversation order.

Replies enter the outbox with the turn that wrote them (`EventLog.commit_turn`), in the
same atomic step as their `message.out` events. From there one conversation's replies
leave strictly in order (of their `message.out` seq): only the conversation's earliest
outstanding (not parked) delivery, its *head*, can be claimed; the next one waits until
it is delivered or parked. This holds across processes, because the backend alone
decides what is claimable.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from hub.model import Delivery, Event
from hub.ports.page import Page


@dataclass(frozen=True, slots=True, kw_only=True)
class Delivered:
    """What recording a receipt did: the `delivery.delivered` event it logged, as a log
    read at its seq gives it (None when nothing was logged: a duplicate receipt, or the
    conversation is gone), and the conversation's next reply when it was claimed too."""

    event: Event | None = None
    following: Delivery | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Rescheduled:
    """What recording a failed attempt or a redrive did: the delivery as it now stands
    (None: there was no parked delivery of that id to redrive) and the `delivery.failed`,
    `delivery.parked` or `delivery.redriven` event logged, as a log read at its seq gives it
    (None when nothing was logged: the conversation is gone)."""

    delivery: Delivery | None = None
    event: Event | None = None


class Outbox(Protocol):
    """Claim, receipt, retry or park, and redrive of the replies to send."""

    @abc.abstractmethod
    async def claim_deliveries(self, *, now: float, limit: int, lease: float) -> list[Delivery]:
        """Heads due now (at most one per conversation), leased to the caller for `lease`
        seconds."""

    @abc.abstractmethod
    async def claim_next(
        self, conversation_id: str, *, now: float, lease: float
    ) -> Delivery | None:
        """The conversation's head if it is due, leased to the caller (after a delivery was
        recorded, to carry on with the conversation's next reply at once)."""

    @abc.abstractmethod
    async def record_delivered(
        self, delivery: Delivery, *, receipt: Mapping[str, Any], now: float, lease: float = 0.0
    ) -> Delivered:
        """Remove from the outbox and log a `delivery.delivered` event. With `lease`, also
        claim the conversation's next reply if it is due, as `claim_next` would (in the same
        step: one round trip per reply). Returns both, so the caller can tell the event bus
        of the receipt (nothing else publishes it)."""

    async def delivery_succeeded(
        self, delivery: Delivery, *, receipt: Mapping[str, Any], now: float, lease: float = 0.0
    ) -> Delivery | None:
        """`record_delivered`, for a caller that only wants the next reply."""
        done = await self.record_delivered(delivery, receipt=receipt, now=now, lease=lease)
        return done.following

    @abc.abstractmethod
    async def record_failure(
        self,
        delivery: Delivery,
        *,
        error: str,
        retry_at: float | None,
        now: float,
        throttled: bool = False,
    ) -> Rescheduled:
        """Reschedule for `retry_at`, or park it in the dead letters when `retry_at` is None
        (the conversation's next reply may then go), and log it. `throttled`: the channel
        asked us to come back later; counted apart from failures. Returns the updated
        delivery and the event logged, so the caller can tell the event bus (nothing else
        publishes it)."""

    async def delivery_failed(
        self,
        delivery: Delivery,
        *,
        error: str,
        retry_at: float | None,
        now: float,
        throttled: bool = False,
    ) -> Delivery:
        """`record_failure`, for a caller that only wants the updated delivery."""
        done = await self.record_failure(
            delivery, error=error, retry_at=retry_at, now=now, throttled=throttled
        )
        assert done.delivery is not None  # a failure always names its delivery
        return done.delivery

    @abc.abstractmethod
    async def delivery_progress(self, delivery_id: str, parts_sent: Sequence[str]) -> None:
        """Remember which parts of a split reply have gone out (the provider's ids), so a
        retry in any process, after a restart too, resumes after them (`Delivery.parts_sent`).
        A delivery no longer in the outbox is left alone."""

    @abc.abstractmethod
    async def dead_letters(self, *, limit: int, cursor: str | None = None) -> Page:
        """Parked deliveries, oldest first."""

    @abc.abstractmethod
    async def record_redrive(self, delivery_id: str, *, now: float) -> Rescheduled:
        """Move a parked delivery back into the outbox with a fresh retry budget, and log
        it; `Rescheduled()` when no delivery of that id is parked. Returns the event logged
        too, so the caller can tell the event bus."""

    async def redrive(self, delivery_id: str, *, now: float) -> Delivery | None:
        """`record_redrive`, for a caller that only wants the delivery."""
        return (await self.record_redrive(delivery_id, now=now)).delivery


__all__ = ["Delivered", "Outbox", "Rescheduled"]
