"""The scale-out store: one Redis shared by several hub processes.

Every write is one Lua script (see `hub.store_redis_scripts` for them and the key layout),
so it is atomic across processes; sequence numbers are allocated inside the scripts.
What a script cannot compute without decoding user data (a turn's `status.changed` and
reply routing, a redriven delivery) is built in Python from a fresh read and applied by a
script that first checks nothing it relied on has changed, retrying if it has.
Conversation ownership is a Redis lease lock (`hub.store_redis_lock`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from hub import identity_records as records
from hub import jsonio
from hub import store_redis_codec as codec
from hub.errors import Contention
from hub.ids import new_id
from hub.model import (
    Conversation,
    ConversationStatus,
    Customer,
    NewEvent,
)
from hub.ports import CustomerMerge, Moved
from hub.store_redis_connect import own_tag
from hub.store_redis_core import RedisCore
from hub.store_redis_scripts import CAS_ATTEMPTS

_CHALLENGE_SWEEP = 24 * 3600  # seconds an abandoned verification challenge lingers


class RedisStore(RedisCore):
    """`redis://host:port/db` (or `rediss://`, `unix://`; `redis+cluster://host:port` for a
    Redis Cluster); every key starts with `prefix` and its hash tag (`fd:{fd}:`).

    The conversation stream is in `hub.store_redis_core`; this adds customer identity.
    """

    async def _write_if(self, writes: _Writes, *, now: float) -> bool:
        return await self._write_appending(writes, now=now) is not None

    async def _write_appending(self, writes: _Writes, *, now: float) -> list[int] | None:
        """`_write_if`, answering the seq each `APPEND` got, in order (none for a call
        redis-py resent after a lost reply); None when a check failed."""
        reply = await self._run(
            "WRITE_IF",
            codec.num(now),
            len(writes.checks) // 4,
            *writes.checks,
            *writes.ops,
            keys=[f"{self.prefix}{key}" for key in writes.keys],
        )
        if isinstance(reply, list) and reply and codec.text(reply[0]) == "ok":
            return [int(seq) for seq in reply[1:]]
        return [] if reply == "ok" else None

    @staticmethod
    def _moved(
        merge: CustomerMerge, moved: Sequence[str], seqs: Sequence[int], event: str
    ) -> Moved:
        """A merge's or unmerge's result: the event logged in each conversation moved."""
        if len(seqs) != len(moved):  # a resent call: the seqs are not known
            return Moved(merge=merge)
        logged = (codec.event(c, seq, event) for c, seq in zip(moved, seqs, strict=True))
        return Moved(merge=merge, events=tuple(logged))

    async def _customer_json(self, customer_id: str) -> str:
        stored = await self.redis.get(self.keys.customer(customer_id))
        return codec.text(stored) if stored else ""

    async def ensure_customer(self, identity: str, *, now: float) -> tuple[Customer, bool]:
        for _ in range(CAS_ATTEMPTS):
            found = await self.find_customer(identity)
            if found is not None:
                return found, False
            customer = Customer(id=new_id("cus"), identities=(identity,), created_at=now)
            writes = _Writes()
            writes.check("EXISTS", f"identity:{identity}", "0")
            writes.op("SET", f"customer:{customer.id}", codec.dumps(customer.to_json()))
            writes.op("SET", f"identity:{identity}", customer.id)
            writes.op("ZADD", "customers", customer.id)
            if await self._write_if(writes, now=now):
                return customer, True
        raise Contention(f"identity {identity!r} kept changing during ensure_customer")

    async def add_identity(self, customer_id: str, identity: str, *, now: float) -> str | None:
        for _ in range(CAS_ATTEMPTS):
            stored = await self._customer_json(customer_id)
            if not stored:
                return None
            owner = await self.redis.get(self.keys.identity(identity))
            if owner:
                return codec.text(owner)
            customer = Customer.from_json(jsonio.stored(stored))
            customer = replace(customer, identities=(*customer.identities, identity))
            writes = _Writes()
            writes.check("GET", f"customer:{customer_id}", stored)
            writes.check("EXISTS", f"identity:{identity}", "0")
            writes.op("SET", f"identity:{identity}", customer_id)
            writes.op("SET", f"customer:{customer_id}", codec.dumps(customer.to_json()))
            if await self._write_if(writes, now=now):
                return customer_id
        raise Contention(f"customer {customer_id} kept changing during add_identity")

    async def update_customer(
        self,
        customer_id: str,
        *,
        attributes: Mapping[str, Any] | None = None,
        tags: Sequence[str] | None = None,
        now: float,
    ) -> Customer | None:
        for _ in range(CAS_ATTEMPTS):
            stored = await self._customer_json(customer_id)
            if not stored:
                return None
            customer = records.updated_customer(
                Customer.from_json(jsonio.stored(stored)), attributes, tags
            )
            writes = _Writes()
            writes.check("GET", f"customer:{customer_id}", stored)
            writes.op("SET", f"customer:{customer_id}", codec.dumps(customer.to_json()))
            if await self._write_if(writes, now=now):
                return customer
        raise Contention(f"customer {customer_id} kept changing during update_customer")

    async def _conversation_fields(self, ids: Sequence[str], *names: str) -> list[list[str]]:
        """The fields `names` of each conversation of `ids`, in one pipelined round trip: a
        merge reads every conversation it moves, and one trip each would widen the window
        in which the customer's own messages refuse it (bench/contention.py)."""
        keys = [self.keys.conversation(conversation_id)[0] for conversation_id in ids]
        found = await self._read_each("hmget", keys, list(names))
        return [[codec.text(v) if v is not None else "" for v in values] for values in found]

    def _move(
        self,
        writes: _Writes,
        conversation_id: str,
        *,
        source: str,
        target: str,
        status: str,
        thread_key: str,
        updated_at: str,
        event: str,
    ) -> None:
        """Hand one conversation from customer `source` to `target` (indexes included)."""
        writes.check("HGET", f"conv:{conversation_id}", "customer_id", source)
        writes.check("HGET", f"conv:{conversation_id}", "status", status)
        writes.op("HSET", f"conv:{conversation_id}", "customer_id", target)
        writes.op("ZREM", f"customer:{source}:conversations", conversation_id)
        writes.op("ZADD", f"customer:{target}:conversations", conversation_id)
        if status != ConversationStatus.RESOLVED:
            for suffix in (":open", f":open:{thread_key}"):
                writes.op("ZREM", f"customer:{source}{suffix}", conversation_id)
                writes.op("ZADD", f"customer:{target}{suffix}", conversation_id)
        writes.op("APPEND", f"conv:{conversation_id}", event)
        # Bookkeeping is not activity: which conversation the customer continues depends
        # on when they (or the bot, or an agent) last moved it.
        writes.op("HSET", f"conv:{conversation_id}", "updated_at", updated_at)

    async def record_merge(
        self, kept_id: str, absorbed_id: str, *, reason: Mapping[str, Any], now: float
    ) -> Moved:
        if kept_id == absorbed_id:
            raise ValueError("a customer cannot be merged with itself")
        for _ in range(CAS_ATTEMPTS):
            kept_json = await self._customer_json(kept_id)
            absorbed_json = await self._customer_json(absorbed_id)
            if not kept_json or not absorbed_json:
                raise KeyError(kept_id if not kept_json else absorbed_id)
            kept = Customer.from_json(jsonio.stored(kept_json))
            absorbed = Customer.from_json(jsonio.stored(absorbed_json))
            moved = [c.id for c in await self.customer_conversations(absorbed_id)]
            merge = CustomerMerge(
                id=new_id("mrg"),
                kept_id=kept_id,
                absorbed_id=absorbed_id,
                kept_before=kept,
                absorbed_before=absorbed,
                moved_conversations=tuple(moved),
                reason=reason,
                at=now,
            )
            event = codec.event_json(records.merge_event(merge), now)
            writes = _Writes()
            writes.check("GET", f"customer:{kept_id}", kept_json)
            writes.check("GET", f"customer:{absorbed_id}", absorbed_json)
            writes.check("ZCARD", f"customer:{absorbed_id}:conversations", str(len(moved)))
            fields = await self._conversation_fields(moved, "status", "thread_key", "updated_at")
            for conversation_id, (status, thread_key, updated_at) in zip(
                moved, fields, strict=True
            ):
                self._move(
                    writes,
                    conversation_id,
                    source=absorbed_id,
                    target=kept_id,
                    status=status,
                    thread_key=thread_key,
                    updated_at=updated_at,
                    event=event,
                )
            merged = records.merged_customer(kept, absorbed)
            writes.op("SET", f"customer:{kept_id}", codec.dumps(merged.to_json()))
            writes.op("DEL", f"customer:{absorbed_id}")
            writes.op("ZREM", "customers", absorbed_id)
            writes.op("DEL", f"challenge:{absorbed_id}")
            for identity in absorbed.identities:
                writes.op("SET", f"identity:{identity}", kept_id)
            writes.op("SET", f"merge:{merge.id}", codec.dumps(merge.to_json()))
            history = await self.redis.smembers(f"{self.keys.customer(absorbed_id)}:merges")
            for merge_id in {merge.id, *(codec.text(m) for m in history)}:
                writes.op("SADD", f"customer:{kept_id}:merges", merge_id)
                writes.op("SADD", f"customer:{absorbed_id}:merges", merge_id)
            seqs = await self._write_appending(writes, now=now)
            if seqs is not None:
                return self._moved(merge, moved, seqs, event)
        raise Contention(f"customers {kept_id}, {absorbed_id} kept changing during a merge")

    async def record_unmerge(self, merge_id: str, *, now: float) -> Moved | None:
        for _ in range(CAS_ATTEMPTS):
            merge_json = await self.redis.get(f"{self.prefix}merge:{merge_id}")
            if not merge_json:
                return None
            merge_json = codec.text(merge_json)
            merge = CustomerMerge.from_json(jsonio.stored(merge_json))
            if merge.undone_at is not None:
                raise ValueError("this merge was undone already")
            kept_json = await self._customer_json(merge.kept_id)
            if not kept_json or await self._customer_json(merge.absorbed_id):
                raise ValueError("the merged customer no longer exists as merged")
            current = Customer.from_json(jsonio.stored(kept_json))
            event = codec.event_json(records.unmerge_event(merge), now)
            writes = _Writes()
            writes.check("GET", f"merge:{merge_id}", merge_json)
            writes.check("GET", f"customer:{merge.kept_id}", kept_json)
            writes.check("EXISTS", f"customer:{merge.absorbed_id}", "0")
            fields = await self._conversation_fields(
                merge.moved_conversations, "customer_id", "status", "thread_key", "updated_at"
            )
            back: list[str] = []
            for conversation_id, (owner, status, thread_key, updated_at) in zip(
                merge.moved_conversations, fields, strict=True
            ):
                if owner != merge.kept_id:
                    continue  # erased or merged on since; it stays where it is
                back.append(conversation_id)
                self._move(
                    writes,
                    conversation_id,
                    source=merge.kept_id,
                    target=merge.absorbed_id,
                    status=status,
                    thread_key=thread_key,
                    updated_at=updated_at,
                    event=event,
                )
            restored = records.kept_after_unmerge(merge, current)
            writes.op("SET", f"customer:{merge.kept_id}", codec.dumps(restored.to_json()))
            absorbed = merge.absorbed_before
            writes.op("SET", f"customer:{merge.absorbed_id}", codec.dumps(absorbed.to_json()))
            writes.op("ZADD", "customers", merge.absorbed_id)
            for identity in absorbed.identities:
                writes.op("SET", f"identity:{identity}", merge.absorbed_id)
            merge = replace(merge, undone_at=now)
            writes.op("SET", f"merge:{merge_id}", codec.dumps(merge.to_json()))
            seqs = await self._write_appending(writes, now=now)
            if seqs is not None:
                return self._moved(merge, back, seqs, event)
        raise Contention(f"merge {merge_id} kept changing during unmerge")

    async def get_merge(self, merge_id: str) -> CustomerMerge | None:
        stored = await self.redis.get(f"{self.prefix}merge:{merge_id}")
        return CustomerMerge.from_json(jsonio.stored(stored)) if stored else None

    async def customer_conversations(self, customer_id: str) -> list[Conversation]:
        key = f"{self.keys.customer(customer_id)}:conversations"
        ids = await self.redis.zrangebylex(key, "-", "+")
        return await self._conversations([codec.text(i) for i in ids])

    async def _related_merges(self, customer_id: str) -> set[str]:
        """Every merge whose snapshots may hold this person's data, through chains of merges."""
        people, merges, todo = {customer_id}, set[str](), [customer_id]
        while todo:
            person = todo.pop()
            for merge_id in await self.redis.smembers(f"{self.prefix}customer:{person}:merges"):
                merge = await self.get_merge(codec.text(merge_id))
                merges.add(codec.text(merge_id))
                for other in (merge.kept_id, merge.absorbed_id) if merge else ():
                    if other not in people:
                        people.add(other)
                        todo.append(other)
        return merges

    async def erase_customer(self, customer_id: str, *, now: float) -> bool:
        for _ in range(CAS_ATTEMPTS):
            stored = await self._customer_json(customer_id)
            if not stored:
                return False
            customer = Customer.from_json(jsonio.stored(stored))
            writes = _Writes()
            writes.check("GET", f"customer:{customer_id}", stored)
            for conversation in await self.customer_conversations(customer_id):
                key = f"conv:{conversation.id}"
                writes.check("HGET", key, "last_seq", str(conversation.last_seq))
                writes.check("HGET", key, "status", conversation.status.value)
                events = await self.events(conversation.id, limit=-1)
                logged = [(e.type, e.data) for e in events]
                for index, event in enumerate(events):
                    anonymous = NewEvent(
                        type=event.type, data=records.erased_event_data(event.type, event.data)
                    )
                    stored = codec.event_json(anonymous, event.at)
                    writes.op("LSET", f"{key}:events", str(index), stored)
                for channel, message_id in records.dedupe_keys(logged):
                    writes.op("HDEL", f"dedupe:{channel}", message_id)
                for delivery_id in records.delivery_ids(logged):
                    for index_key in ("outbox", "dead", f"{key}:outbox"):
                        writes.op("ZREM", index_key, delivery_id)
                    writes.op("DEL", f"delivery:{delivery_id}")
                [[thread_key]] = await self._conversation_fields([conversation.id], "thread_key")
                if conversation.status != ConversationStatus.RESOLVED and thread_key:
                    writes.op("ZREM", f"customer:{customer_id}:open:{thread_key}", conversation.id)
                    writes.op("ZADD", f"customer:{customer_id}:open:", conversation.id)
                for field in ("address", "thread_hint", "thread_key"):
                    writes.op("HSET", key, field, "")
                writes.op("HSET", key, "state", "{}")
            for identity in customer.identities:
                writes.op("DEL", f"identity:{identity}")
            erased = records.erased_customer(customer, now)
            writes.op("SET", f"customer:{customer_id}", codec.dumps(erased.to_json()))
            writes.op("DEL", f"challenge:{customer_id}")
            for merge_id in await self._related_merges(customer_id):
                writes.op("DEL", f"merge:{merge_id}")
            writes.op("DEL", f"customer:{customer_id}:merges")
            trail = await self.audit_trail(customer_id, limit=-1)
            writes.op("DEL", f"customer:{customer_id}:audit")
            for entry in records.erased_audit(trail):
                writes.op("RPUSH", f"customer:{customer_id}:audit", codec.dumps(entry))
            if await self._write_if(writes, now=now):
                return True
        raise Contention(f"customer {customer_id} kept changing during erasure")

    async def count_hit(self, key: str, *, window: float, now: float) -> int:
        start = now - now % window
        # A counter is only ever used alone, so each key's counters get a slot of their own.
        name = f"{own_tag(self.base_prefix, f'hits:{key}')}:{codec.num(start)}"
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incr(name)
            pipe.expire(name, max(1, math.ceil(2 * window)))
            count, _ = await pipe.execute()
        return int(count)

    async def put_challenge(
        self, customer_id: str, challenge: Mapping[str, Any], *, expires_at: float
    ) -> None:
        key = f"{self.prefix}challenge:{customer_id}"
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(key)
            pipe.hset(
                key,
                mapping={
                    "data": codec.dumps(dict(challenge)),
                    "expires_at": codec.num(expires_at),
                    "attempts": 0,
                },
            )
            # Validity is checked against `expires_at`; the TTL only sweeps abandoned ones.
            pipe.expire(key, _CHALLENGE_SWEEP)
            await pipe.execute()

    async def attempt_challenge(self, customer_id: str, *, now: float) -> dict[str, Any] | None:
        key = f"{self.prefix}challenge:{customer_id}"
        found = await self._run("ATTEMPT_CHALLENGE", customer_id, codec.num(now), keys=[key])
        if not found:
            return None
        data, attempts = found
        challenge: dict[str, Any] = jsonio.stored(data)
        challenge["attempts"] = int(attempts)
        return challenge

    async def drop_challenge(self, customer_id: str) -> None:
        await self.redis.delete(f"{self.prefix}challenge:{customer_id}")

    async def append_audit(self, customer_id: str, entry: Mapping[str, Any], *, now: float) -> None:
        await self.redis.rpush(
            f"{self.prefix}customer:{customer_id}:audit", codec.dumps({**dict(entry), "at": now})
        )

    async def audit_trail(self, customer_id: str, *, limit: int = 1000) -> list[dict[str, Any]]:
        stop = -1 if limit < 0 else limit - 1
        stored = await self.redis.lrange(f"{self.prefix}customer:{customer_id}:audit", 0, stop)
        return [jsonio.stored(s) for s in stored]


class _Writes:
    """The checks and writes of one `WRITE_IF` call, flattened as the script reads them:
    each names its key by its place in the call's `KEYS` (`keys`, without the prefix)."""

    def __init__(self) -> None:
        self.checks: list[str] = []
        self.ops: list[str] = []
        self.keys: dict[str, int] = {}

    def _at(self, key: str) -> str:
        # KEYS[1] is the call's own; the declared keys follow it (Lua counts from 1).
        return str(self.keys.setdefault(key, len(self.keys) + 2))

    def check(self, kind: str, key: str, field_or_expected: str, expected: str = "") -> None:
        if kind == "HGET":
            self.checks += [kind, self._at(key), field_or_expected, expected]
        else:
            self.checks += [kind, self._at(key), "", field_or_expected]

    def op(self, name: str, key: str, a: str = "", b: str = "") -> None:
        if name == "APPEND":  # the script appends to the conversation's events too
            self._at(f"{key}:events")
        self.ops += [name, self._at(key), a, b]
