"""Record-level identity logic both stores share, so they cannot disagree about a merge,
an unmerge or what erasure leaves behind. Pure functions; no store access."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from hub.model import Conversation, Customer, EventType, NewEvent
from hub.ports import CUSTOMER_MERGED, CUSTOMER_UNMERGED, CustomerMerge

ERASED = {"erased": True}


def merged_customer(kept: Customer, absorbed: Customer) -> Customer:
    """One record for both: every identity, the union of tags, and the attributes of both
    where the kept record wins a conflict (it is the one already trusted)."""
    identities = (*kept.identities, *(i for i in absorbed.identities if i not in kept.identities))
    tags = (*kept.tags, *(t for t in absorbed.tags if t not in kept.tags))
    attributes = {**dict(absorbed.attributes), **dict(kept.attributes)}
    return replace(
        kept,
        identities=identities,
        tags=tags,
        attributes=attributes,
        created_at=min(kept.created_at, absorbed.created_at),
    )


def merge_event(merge: CustomerMerge) -> NewEvent:
    """What every moved conversation logs: which record came from where."""
    return NewEvent(
        type=CUSTOMER_MERGED,
        data={
            "merge_id": merge.id,
            "kept_id": merge.kept_id,
            "absorbed_id": merge.absorbed_id,
            "identities_moved": list(merge.absorbed_before.identities),
            "conversations_moved": list(merge.moved_conversations),
            "reason": dict(merge.reason),
        },
    )


def unmerge_event(merge: CustomerMerge) -> NewEvent:
    return NewEvent(
        type=CUSTOMER_UNMERGED,
        data={"merge_id": merge.id, "kept_id": merge.kept_id, "absorbed_id": merge.absorbed_id},
    )


def kept_after_unmerge(merge: CustomerMerge, current: Customer) -> Customer:
    """The kept record exactly as before the merge, plus identities linked to it since
    (they were proved for the kept customer, not for the absorbed one)."""
    before = merge.kept_before
    absorbed = set(merge.absorbed_before.identities)
    later = [i for i in current.identities if i not in before.identities and i not in absorbed]
    return replace(before, identities=(*before.identities, *later))


def erased_customer(customer: Customer, now: float) -> Customer:
    return Customer(
        id=customer.id,
        identities=(),
        attributes={"erased_at": now},
        tags=(),
        created_at=customer.created_at,
    )


def erased_conversation(conversation: Conversation) -> Conversation:
    return replace(conversation, address="", thread_hint="", state={})


def erased_event_data(event_type: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """An event's data with everything personal gone; what stays feeds anonymous counters
    (which channel a message used, which status a conversation moved to)."""
    kept: dict[str, Any] = dict(ERASED)
    if event_type in (EventType.MESSAGE_IN, EventType.MESSAGE_EDITED, EventType.MESSAGE_NOTICED):
        kept["channel"] = str(data.get("channel", ""))
    elif event_type == EventType.MESSAGE_OUT:
        kept["channel"] = str(data.get("channel", ""))
        kept["delivery_id"] = str(data.get("delivery_id", ""))
    elif event_type == EventType.STATUS_CHANGED:
        kept.update({k: data[k] for k in ("from", "to") if k in data})
    elif event_type == EventType.OPENED:
        kept["channel"] = str(data.get("channel", ""))
    return kept


def erased_audit(entries: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Audit entries keep what was done and when, not to whom it pointed."""
    return [{"at": e.get("at", 0.0), "action": e.get("action", "")} for e in entries]


def delivery_ids(events: Sequence[tuple[str, Mapping[str, Any]]]) -> list[str]:
    """The outbox entries a conversation's replies created (to drop them on erasure)."""
    return [
        str(data["delivery_id"])
        for kind, data in events
        if kind == EventType.MESSAGE_OUT and "delivery_id" in data
    ]


def dedupe_keys(events: Sequence[tuple[str, Mapping[str, Any]]]) -> list[tuple[str, str]]:
    """(channel, message_id) of every inbound message (channel message ids can carry
    personal data, such as an email Message-ID's host)."""
    return [
        (str(data["channel"]), str(data["message_id"]))
        for kind, data in events
        if kind in (EventType.MESSAGE_IN, EventType.MESSAGE_EDITED, EventType.MESSAGE_NOTICED)
        and "channel" in data
        and "message_id" in data
    ]


def updated_customer(
    customer: Customer, attributes: Mapping[str, Any] | None, tags: Sequence[str] | None
) -> Customer:
    """Upsert attributes (None deletes a key) and replace the tags when given."""
    merged = dict(customer.attributes)
    for key, value in (attributes or {}).items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    new_tags = customer.tags if tags is None else tuple(dict.fromkeys(tags))
    return replace(customer, attributes=merged, tags=new_tags)
