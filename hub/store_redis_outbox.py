"""The Redis store's outbox (`hub.ports.Outbox`): claim, receipt, retry or park, redrive.

Each write is one Lua script (`hub.store_redis_scripts`, the `delivery:*`, `outbox` and
`dead` keys); a conversation's replies leave in order because only its head is in the
`outbox` index. A script that changes a lane is handed the delivery that heads it
afterwards: this process's guess (the replies it committed, `_lanes`), which the script
checks; a wrong one writes nothing and names the head, and the call is made again with it.
Mixed into `hub.store_redis_core.RedisCore`, which owns the connection.
"""

from __future__ import annotations

import abc
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, cast

from hub import store_redis_codec as codec
from hub import store_redis_scripts as lua
from hub.errors import Contention
from hub.model import Delivery, Event, EventType, NewEvent
from hub.ports import Delivered, Outbox, Page, Rescheduled
from hub.store_common import failed_delivery, redriven_delivery
from hub.store_redis_connect import RedisClient
from hub.store_redis_keys import KeyNames, Recent


class RedisOutbox(Outbox):
    """The outbox methods; the store that mixes this in gives `keys`, `_lanes`, `redis`
    and `_run`."""

    keys: KeyNames
    _lanes: Recent[str, tuple[str, ...]]

    @property
    @abc.abstractmethod
    def redis(self) -> RedisClient:
        """The connection (`RedisCore.redis`)."""

    @abc.abstractmethod
    async def _run(self, script: str, *args: str | int | float, keys: Sequence[str] = ()) -> Any:
        """Run a registered script (`RedisCore._run`)."""

    def _queued(self, conversation_id: str, *delivery_ids: str) -> None:
        """Remember replies this process put in the conversation's lane, in order."""
        lane = self._lanes.get(conversation_id) or ()
        self._lanes.put(conversation_id, (*lane, *delivery_ids))

    async def _heading(
        self, conversation_id: str, leaving: str, call: Callable[[str], Awaitable[Any]]
    ) -> Any:
        """`call(key)` with the key of the delivery guessed to head the conversation's lane
        once `leaving` has left it (or stayed in it); again with the head the script names
        when the guess was wrong (it wrote nothing then). No guess: the key of no delivery."""
        remembered = self._lanes.get(conversation_id)
        lane = tuple(i for i in remembered or () if i != leaving)
        if remembered is not None:
            self._lanes.put(conversation_id, lane)
        guess = lane[0] if lane else ""
        for _ in range(lua.CAS_ATTEMPTS):
            reply = await call(self.keys.delivery(guess))
            if not (isinstance(reply, list) and len(reply) == 2 and reply[0] == "head"):
                return reply
            guess = codec.text(reply[1])
        raise Contention(f"the outbox of {conversation_id} kept changing")

    async def _on_lane(
        self, script: str, delivery: Delivery, leaving: str, *args: str | int | float
    ) -> Any:
        """A script that changes the delivery's lane (`DELIVERY_SUCCEEDED`, `_FAILED`,
        `REDRIVE`): handed the delivery, the outbox, dead letters, the lane, the
        conversation's hash and events, and the head guessed once `leaving` left it."""
        conversation_id = delivery.conversation_id
        keys = [
            self.keys.delivery(delivery.id),
            *self.keys.outbox(conversation_id),
            *self.keys.conversation(conversation_id),
        ]
        return await self._heading(
            conversation_id,
            leaving,
            lambda head: self._run(script, delivery.id, conversation_id, *args, keys=[*keys, head]),
        )

    async def claim_deliveries(self, *, now: float, limit: int, lease: float) -> list[Delivery]:
        """The due heads are read first; the script leases those still due then."""
        if limit == 0:
            return []
        outbox = self.keys.outbox("")[0]
        found = await self.redis.zrangebyscore(outbox, "-inf", codec.num(now), 0, limit)
        due = [codec.text(i) for i in cast(list[str], found)]
        if not due:
            return []
        flat = await self._run(
            "CLAIM_DELIVERIES",
            codec.num(now),
            codec.num(now + lease),
            *due,
            keys=[outbox, *(self.keys.delivery(i) for i in due)],
        )
        return codec.deliveries(flat)

    async def claim_next(
        self, conversation_id: str, *, now: float, lease: float
    ) -> Delivery | None:
        outbox, _, lane = self.keys.outbox(conversation_id)
        found = await self._heading(
            conversation_id,
            "",
            lambda head: self._run(
                "CLAIM_NEXT",
                conversation_id,
                codec.num(now),
                codec.num(now + lease),
                keys=[outbox, lane, head],
            ),
        )
        return codec.delivery(*found) if found else None

    async def record_delivered(
        self, delivery: Delivery, *, receipt: Mapping[str, Any], now: float, lease: float = 0.0
    ) -> Delivered:
        data = {
            "delivery_id": delivery.id,
            "seq": delivery.seq,
            "attempts": delivery.attempts + 1,
            "receipt": dict(receipt),
        }
        stored = codec.event_json(NewEvent(type=EventType.DELIVERED, data=data), now)
        logged, *following = await self._on_lane(
            "DELIVERY_SUCCEEDED",
            delivery,
            delivery.id,
            codec.num(now),
            stored,
            codec.num(now + lease) if lease else "",
        )
        return Delivered(
            # Decoded from what was stored, so it is what a log read at that seq gives.
            event=self._logged(delivery, logged, stored),
            following=codec.delivery(*following) if following else None,
        )

    async def record_failure(
        self,
        delivery: Delivery,
        *,
        error: str,
        retry_at: float | None,
        now: float,
        throttled: bool = False,
    ) -> Rescheduled:
        updated, event = failed_delivery(
            delivery, error=error, retry_at=retry_at, now=now, throttled=throttled
        )
        stored = codec.event_json(event, now)
        logged = await self._on_lane(
            "DELIVERY_FAILED",
            delivery,
            delivery.id,
            codec.num(now),
            codec.dumps(updated.to_json()),
            updated.seq,
            "0" if retry_at is None else "1",
            codec.num(updated.next_attempt_at),
            stored,
        )
        return Rescheduled(delivery=updated, event=self._logged(delivery, logged, stored))

    def _logged(self, delivery: Delivery, seq: Any, stored: str) -> Event | None:
        """The event a script appended at `seq` (0: none), decoded from what was stored, so
        it is what a log read at that seq gives."""
        return codec.event(delivery.conversation_id, int(seq), stored) if int(seq) else None

    async def delivery_progress(self, delivery_id: str, parts_sent: Sequence[str]) -> None:
        await self._run(
            "DELIVERY_PROGRESS",
            delivery_id,
            codec.dumps(list(parts_sent)),
            keys=[self.keys.delivery(delivery_id)],
        )

    async def dead_letters(self, *, limit: int, cursor: str | None = None) -> Page:
        """The parked ids, then their deliveries, pipelined (one redriven in between is
        still listed, as a read a moment earlier would have; one erased is left out)."""
        start = f"({cursor}" if cursor else "-"
        dead = self.keys.outbox("")[1]
        ids = [codec.text(i) for i in await self.redis.zrangebylex(dead, start, "+", 0, limit + 1)]
        if not ids:
            return Page(items=[], next_cursor=None)
        async with self.redis.pipeline(transaction=False) as pipe:
            for delivery_id in ids[:limit]:
                pipe.hmget(self.keys.delivery(delivery_id), ["data", "seq", "parts"])
            stored = await pipe.execute()
        items = [codec.delivery(d, s, p or "[]") for d, s, p in stored if d is not None]
        more = 0 < limit < len(ids)
        return Page(items=items, next_cursor=ids[limit - 1] if more else None)

    async def record_redrive(self, delivery_id: str, *, now: float) -> Rescheduled:
        for _ in range(lua.CAS_ATTEMPTS):
            found = await self._run(
                "PARKED_DELIVERY",
                delivery_id,
                keys=[self.keys.outbox("")[1], self.keys.delivery(delivery_id)],
            )
            if not found or found[0] is None:
                return Rescheduled()
            stored, seq, parts = found
            delivery = redriven_delivery(codec.delivery(stored, seq, parts), now=now)
            event = codec.event_json(
                NewEvent(
                    type=EventType.DELIVERY_REDRIVEN,
                    data={"delivery_id": delivery_id, "seq": delivery.seq},
                ),
                now,
            )
            outcome = await self._on_lane(
                "REDRIVE",
                delivery,
                "",
                codec.num(now),
                stored,
                codec.dumps(delivery.to_json()),
                event,
            )
            if outcome == "gone":
                return Rescheduled()
            if isinstance(outcome, list) and codec.text(outcome[0]) == "ok":
                return Rescheduled(
                    delivery=delivery, event=self._logged(delivery, outcome[1], event)
                )
        raise Contention(f"delivery {delivery_id} kept changing during redrive")
