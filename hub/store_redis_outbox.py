"""The Redis store's outbox (`hub.ports.Outbox`): claim, receipt, retry or park, redrive.

Each call is one Lua script (`hub.store_redis_scripts`, the `delivery:*`, `outbox` and
`dead` keys); a conversation's replies leave in order because only its head is in the
`outbox` index. Mixed into `hub.store_redis_core.RedisCore`, which owns the connection.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from typing import Any

from hub import store_redis_codec as codec
from hub import store_redis_scripts as lua
from hub.model import Delivery, EventType, NewEvent
from hub.ports import Outbox, Page
from hub.store_common import failed_delivery, redriven_delivery
from hub.store_redis_keys import KeyNames


class RedisOutbox(Outbox):
    """The outbox methods; the store that mixes this in gives `keys` and `_run`."""

    keys: KeyNames

    @abc.abstractmethod
    async def _run(self, script: str, *args: str | int | float, keys: Sequence[str] = ()) -> Any:
        """Run a registered script (`RedisCore._run`)."""

    async def claim_deliveries(self, *, now: float, limit: int, lease: float) -> list[Delivery]:
        if limit == 0:
            return []
        flat = await self._run("CLAIM_DELIVERIES", codec.num(now), limit, codec.num(now + lease))
        return codec.deliveries(flat)

    async def claim_next(
        self, conversation_id: str, *, now: float, lease: float
    ) -> Delivery | None:
        found = await self._run(
            "CLAIM_NEXT", conversation_id, codec.num(now), codec.num(now + lease)
        )
        return codec.delivery(*found) if found else None

    async def delivery_succeeded(
        self, delivery: Delivery, *, receipt: Mapping[str, Any], now: float, lease: float = 0.0
    ) -> Delivery | None:
        data = {
            "delivery_id": delivery.id,
            "seq": delivery.seq,
            "attempts": delivery.attempts + 1,
            "receipt": dict(receipt),
        }
        event = NewEvent(type=EventType.DELIVERED, data=data)
        following = await self._run(
            "DELIVERY_SUCCEEDED",
            delivery.id,
            delivery.conversation_id,
            codec.num(now),
            codec.event_json(event, now),
            codec.num(now + lease) if lease else "",
            keys=[
                self.keys.delivery(delivery.id),
                *self.keys.outbox(delivery.conversation_id),
                *self.keys.conversation(delivery.conversation_id),
            ],
        )
        return codec.delivery(*following) if following else None

    async def delivery_failed(
        self,
        delivery: Delivery,
        *,
        error: str,
        retry_at: float | None,
        now: float,
        throttled: bool = False,
    ) -> Delivery:
        updated, event = failed_delivery(
            delivery, error=error, retry_at=retry_at, now=now, throttled=throttled
        )
        await self._run(
            "DELIVERY_FAILED",
            delivery.id,
            delivery.conversation_id,
            codec.num(now),
            codec.dumps(updated.to_json()),
            updated.seq,
            "0" if retry_at is None else "1",
            codec.num(updated.next_attempt_at),
            codec.event_json(event, now),
        )
        return updated

    async def delivery_progress(self, delivery_id: str, parts_sent: Sequence[str]) -> None:
        await self._run("DELIVERY_PROGRESS", delivery_id, codec.dumps(list(parts_sent)))

    async def dead_letters(self, *, limit: int, cursor: str | None = None) -> Page:
        start = f"({cursor}" if cursor else "-"
        flat = await self._run("DEAD_LETTERS", start, limit + 1)
        rows = codec.deliveries(flat)
        items = rows[:limit]
        return Page(items=items, next_cursor=items[-1].id if len(rows) > limit else None)

    async def redrive(self, delivery_id: str, *, now: float) -> Delivery | None:
        for _ in range(lua.CAS_ATTEMPTS):
            found = await self._run("PARKED_DELIVERY", delivery_id)
            if not found or found[0] is None:
                return None
            stored, seq, parts = found
            delivery = redriven_delivery(codec.delivery(stored, seq, parts), now=now)
            event = NewEvent(
                type=EventType.DELIVERY_REDRIVEN,
                data={"delivery_id": delivery_id, "seq": delivery.seq},
            )
            outcome = await self._run(
                "REDRIVE",
                delivery_id,
                delivery.conversation_id,
                codec.num(now),
                stored,
                codec.dumps(delivery.to_json()),
                codec.event_json(event, now),
            )
            if outcome == "gone":
                return None
            if outcome == "ok":
                return delivery
        raise RuntimeError(f"delivery {delivery_id} kept changing during redrive")
