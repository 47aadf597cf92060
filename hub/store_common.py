"""Logic both stores share, so that they cannot disagree about what a turn writes."""

from __future__ import annotations

from dataclasses import replace

from hub.abc import TurnResult
from hub.ids import new_id
from hub.model import Conversation, Delivery, EventType, NewEvent, Outbound, Route


def conversation_update_events(conversation: Conversation, result: TurnResult) -> list[NewEvent]:
    """The events that explain a turn's changes to the conversation record."""
    events = []
    if result.status is not None and result.status != conversation.status:
        events.append(
            NewEvent(
                type=EventType.STATUS_CHANGED,
                data={"from": conversation.status.value, "to": result.status.value},
            )
        )
    return events


def reply_event_and_delivery(
    conversation: Conversation,
    outbound: Outbound,
    *,
    now: float,
    route: Route | None = None,
    seq: int = 0,
    due: float | None = None,
) -> tuple[NewEvent, Delivery]:
    """A reply's `message.out` event and its outbox entry: at `seq` and due at `due` (now
    by default) when the caller knows them, else with the seq filled in once appended.

    It goes where the customer last wrote from, unless `route` says otherwise.

    The entry is due at once; the store leases it to the committing process when it heads
    its conversation's outbox, so it can deliver at once while other
    pollers leave it alone; if that process dies the lease runs out and any process
    redelivers it.
    """
    route = route or Route(
        channel=conversation.channel,
        address=conversation.address,
        thread_hint=conversation.thread_hint,
    )
    delivery_id = new_id("dlv")
    event = NewEvent(
        type=EventType.MESSAGE_OUT,
        data={
            "delivery_id": delivery_id,
            "channel": route.channel,
            "outbound": outbound.to_json(),
        },
    )
    delivery = Delivery(
        id=delivery_id,
        conversation_id=conversation.id,
        seq=seq,
        channel=route.channel,
        address=route.address,
        thread_hint=route.thread_hint,
        outbound=outbound,
        next_attempt_at=now if due is None else due,
        created_at=now,
    )
    return event, delivery


def failed_delivery(
    delivery: Delivery,
    *,
    error: str,
    retry_at: float | None,
    now: float,
    throttled: bool = False,
) -> tuple[Delivery, NewEvent]:
    """A failed attempt: the rescheduled (or, with `retry_at` None, parked) outbox entry and
    the event that logs it. A `throttled` attempt (the channel said when to come back) is
    counted apart from failures."""
    updated = replace(
        delivery,
        attempts=delivery.attempts + 1,
        throttled=delivery.throttled + (1 if throttled else 0),
        failing_since=delivery.failing_since or now,
        last_error=error,
        next_attempt_at=retry_at if retry_at is not None else now,
    )
    data: dict[str, object] = {
        "delivery_id": delivery.id,
        "seq": delivery.seq,
        "attempts": updated.attempts,
        "error": error,
        "retry_at": retry_at,
    }
    if throttled:
        data["throttled"] = True
    event = NewEvent(
        type=EventType.DELIVERY_FAILED if retry_at is not None else EventType.DELIVERY_PARKED,
        data=data,
    )
    return updated, event


def redriven_delivery(delivery: Delivery, *, now: float) -> Delivery:
    """A parked delivery back in the outbox with a fresh retry budget (its sent parts kept)."""
    return replace(delivery, attempts=0, throttled=0, failing_since=0.0, next_attempt_at=now)
