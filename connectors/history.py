"""What a webhook channel reads back from the hub's log, shared by WhatsApp and SMS.

- `recent_events`: the last events of a sender's conversation (which buttons the last reply
  offered, so a typed "2" or a button token maps back to its payload);
- `record_receipt`: a provider's status report on a reply we sent (sent, delivered, read,
  failed …) appended as a ``delivery.receipt`` event beside that reply, once per status.

Both read only through the connector's `ConversationLog`, so they work on every store.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from hub.abc import ConversationLog
from hub.model import Event, EventType, NewEvent

log = logging.getLogger("frontdesk.connectors")

RECEIPT = "delivery.receipt"  # a provider's word on a reply: sent, delivered, read, failed
SCAN = 200  # events read back to find a reply's buttons or the message a status refers to


async def recent_events(log_: ConversationLog, identity: str) -> Sequence[Event]:
    """The last `SCAN` events of the conversation `identity` last wrote in (none without a
    conversation)."""
    conversation = await log_.latest_conversation(identity)
    if conversation is None:
        return ()
    return await log_.events(
        conversation.id, after_seq=max(0, conversation.last_seq - SCAN), limit=SCAN
    )


async def record_receipt(
    log_: ConversationLog,
    *,
    identity: str,
    channel: str,
    id_key: str,
    message_id: str,
    status: str,
    at: float,
    extra: Mapping[str, Any] | None = None,
) -> bool:
    """Append a receipt for the provider's `message_id` (kept under `id_key`, e.g. ``wamid``)
    to the conversation of `identity`, pointing at the delivery that sent it
    (``delivery_id``, ``seq``) when that is among the recent events. A status already
    recorded for that message is not recorded twice (providers repeat themselves).
    Whether a receipt was appended."""
    conversation = await log_.latest_conversation(identity)
    if conversation is None:
        log.info("status for an unknown customer ignored", extra={"channel": channel})
        return False
    events = await log_.events(
        conversation.id, after_seq=max(0, conversation.last_seq - SCAN), limit=SCAN
    )
    data: dict[str, Any] = {"channel": channel, id_key: message_id, "status": status, "at": at}
    data.update(extra or {})
    for event in events:
        if event.type == RECEIPT and (event.data.get(id_key), event.data.get("status")) == (
            message_id,
            status,
        ):
            return False
        sent = event.data.get("receipt")
        ids = sent.get("message_ids") if isinstance(sent, Mapping) else None
        if event.type == EventType.DELIVERED and isinstance(ids, list) and message_id in ids:
            data["delivery_id"] = event.data.get("delivery_id")
            data["seq"] = event.data.get("seq")
    await log_.append(conversation.id, (NewEvent(type=RECEIPT, data=data),))
    return True


__all__ = ["RECEIPT", "SCAN", "recent_events", "record_receipt"]
