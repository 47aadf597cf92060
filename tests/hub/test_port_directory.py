"""The customer directory port (`hub.ports.CustomerDirectory`): identities, profile,
merge and unmerge, erasure and audit, on SQLite, a real redis-server and a Redis Cluster."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from redis import Redis
from redis.cluster import RedisCluster

from hub.abc import TurnResult
from hub.model import ConversationStatus, EventType, Inbound, Outbound
from hub.ports import CUSTOMER_MERGED, CUSTOMER_UNMERGED, Backend
from hub.store_redis import RedisStore
from hub.store_sqlite import SQLiteStore

SECRET_TEXT = "my card is 4111-SECRET-TEXT"


def inbound(channel: str, sender: str, message_id: str, text: str = "hi") -> Inbound:
    return Inbound(channel=channel, sender=sender, message_id=message_id, text=text, timestamp=1.0)


async def test_ensure_and_add_identity_keep_one_owner_per_identity(store: Backend) -> None:
    ana, created = await store.ensure_customer("crm:A1", now=1.0)
    again, created_again = await store.ensure_customer("crm:A1", now=2.0)
    assert created and not created_again and again == ana
    assert await store.add_identity(ana.id, "email:ana@example.com", now=3.0) == ana.id
    assert await store.add_identity(ana.id, "email:ana@example.com", now=3.0) == ana.id
    bo, _ = await store.ensure_customer("crm:B1", now=4.0)
    assert await store.add_identity(bo.id, "email:ana@example.com", now=5.0) == ana.id
    assert await store.add_identity("cus_missing", "email:x@example.com", now=5.0) is None
    found = await store.find_customer("email:ana@example.com")
    assert found is not None and found.id == ana.id
    assert found.identities == ("crm:A1", "email:ana@example.com")
    bo_now = await store.get_customer(bo.id)
    assert bo_now is not None and bo_now.identities == ("crm:B1",)


async def test_update_customer_upserts_attributes_and_replaces_tags(store: Backend) -> None:
    ana, _ = await store.ensure_customer("crm:A1", now=1.0)
    await store.update_customer(ana.id, attributes={"tier": "gold", "lang": "en"}, now=2.0)
    updated = await store.update_customer(
        ana.id, attributes={"lang": None, "segment": "smb"}, tags=["vip", "vip", "b2b"], now=3.0
    )
    assert updated is not None
    assert dict(updated.attributes) == {"tier": "gold", "segment": "smb"}
    assert updated.tags == ("vip", "b2b")
    assert await store.get_customer(ana.id) == updated
    assert await store.update_customer("cus_missing", attributes={}, now=1.0) is None


async def _two_customers_with_state(store: Backend) -> tuple[str, str, str, str]:
    web = await store.record_inbound(inbound("webchat", "v1", "w1"), now=10.0)
    await store.commit_turn(
        web.conversation.id,
        handled_seq=web.event.seq,
        result=TurnResult(replies=(Outbound(text="Your order number?"),), state={"step": 2}),
        now=11.0,
        lease=30,
    )
    tg = await store.record_inbound(inbound("telegram", "42", "t1"), now=5.0)
    await store.update_customer(tg.customer.id, attributes={"language": "zh"}, tags=["vip"], now=6)
    await store.update_customer(web.customer.id, attributes={"language": "en"}, now=12.0)
    return web.customer.id, tg.customer.id, web.conversation.id, tg.conversation.id


async def test_merge_moves_everything_and_unmerge_restores_both_records(store: Backend) -> None:
    web_id, tg_id, web_conv, tg_conv = await _two_customers_with_state(store)
    web_before, tg_before = await store.get_customer(web_id), await store.get_customer(tg_id)
    assert web_before is not None and tg_before is not None

    merge = await store.merge_customers(web_id, tg_id, reason={"kind": "code"}, now=20.0)
    assert merge.moved_conversations == (tg_conv,)
    merged = await store.get_customer(web_id)
    assert merged is not None
    assert set(merged.identities) == {"webchat:v1", "telegram:42"}
    assert dict(merged.attributes) == {"language": "en"}  # the kept record wins
    assert merged.tags == ("vip",)
    assert await store.get_customer(tg_id) is None
    found = await store.find_customer("telegram:42")
    assert found is not None and found.id == web_id
    assert {c.id for c in await store.customer_conversations(web_id)} == {web_conv, tg_conv}
    last = (await store.events(tg_conv))[-1]
    assert last.type == CUSTOMER_MERGED
    assert last.data["absorbed_id"] == tg_id and last.data["identities_moved"] == ["telegram:42"]
    assert await store.get_merge(merge.id) == merge

    # Linked after the merge: proved for the kept customer, so it stays with it.
    assert await store.add_identity(web_id, "email:ana@example.com", now=21.0) == web_id
    undone = await store.unmerge_customers(merge.id, now=30.0)
    assert undone is not None and undone.undone_at == 30.0
    assert await store.get_customer(tg_id) == tg_before
    restored = await store.get_customer(web_id)
    assert restored is not None
    assert restored.identities == (*web_before.identities, "email:ana@example.com")
    assert (restored.attributes, restored.tags) == (web_before.attributes, web_before.tags)
    found = await store.find_customer("telegram:42")
    assert found is not None and found.id == tg_id
    assert [c.id for c in await store.customer_conversations(tg_id)] == [tg_conv]
    assert (await store.events(tg_conv))[-1].type == CUSTOMER_UNMERGED
    latest = await store.latest_conversation(tg_id)
    assert latest is not None and latest.id == tg_conv
    with pytest.raises(ValueError):
        await store.unmerge_customers(merge.id, now=31.0)
    assert await store.unmerge_customers("mrg_missing", now=31.0) is None


async def test_a_merge_and_an_unmerge_return_the_events_they_logged(store: Backend) -> None:
    """What the identity service publishes on the event bus is exactly what was logged, in
    every conversation moved (two here: the absorbed customer's in English and in Chinese)."""
    web_id, tg_id, _, tg_conv = await _two_customers_with_state(store)
    first = await store.get_conversation(tg_conv)
    assert first is not None
    resolved = TurnResult(status=ConversationStatus.RESOLVED)
    await store.commit_turn(tg_conv, handled_seq=first.last_seq, result=resolved, now=7.0, lease=30)
    again = await store.record_inbound(inbound("telegram", "42", "t2", "我的订单呢？"), now=8.0)
    assert again.conversation.id != tg_conv  # the first was resolved: a new conversation
    moved = await store.record_merge(web_id, tg_id, reason={"kind": "code"}, now=20.0)
    assert len(moved.merge.moved_conversations) == 2 and tg_conv in moved.merge.moved_conversations
    logs = {c: await store.events(c) for c in moved.merge.moved_conversations}
    assert moved.events == tuple(logs[c][-1] for c in moved.merge.moved_conversations)
    assert {e.type for e in moved.events} == {CUSTOMER_MERGED}

    undone = await store.record_unmerge(moved.merge.id, now=30.0)
    assert undone is not None and undone.merge.undone_at == 30.0
    logs = {c: await store.events(c) for c in moved.merge.moved_conversations}
    assert undone.events == tuple(logs[c][-1] for c in moved.merge.moved_conversations)
    assert {e.type for e in undone.events} == {CUSTOMER_UNMERGED}
    assert await store.record_unmerge("mrg_missing", now=31.0) is None


async def test_merge_rejects_missing_and_identical_customers(store: Backend) -> None:
    ana, _ = await store.ensure_customer("crm:A1", now=1.0)
    with pytest.raises(KeyError):
        await store.merge_customers(ana.id, "cus_missing", reason={}, now=2.0)
    with pytest.raises(ValueError):
        await store.merge_customers(ana.id, ana.id, reason={}, now=2.0)


async def test_merged_customer_continues_the_open_conversation_from_another_channel(
    store: Backend,
) -> None:
    web_id, tg_id, web_conv, _ = await _two_customers_with_state(store)
    await store.merge_customers(web_id, tg_id, reason={"kind": "code"}, now=20.0)
    # The web chat conversation moved last, so Telegram continues it, state and all.
    got = await store.record_inbound(inbound("telegram", "42", "t2", "A-1234"), now=25.0)
    assert got.conversation.id == web_conv
    assert dict(got.conversation.state) == {"step": 2}
    # Replies now go where the customer last wrote from.
    assert (got.conversation.channel, got.conversation.address) == ("telegram", "42")
    commit = await store.commit_turn(
        web_conv,
        handled_seq=got.event.seq,
        result=TurnResult(replies=(Outbound(text="Found it"),)),
        now=26.0,
        lease=30,
    )
    assert (commit.deliveries[0].channel, commit.deliveries[0].address) == ("telegram", "42")


async def test_audit_trail_keeps_order(store: Backend) -> None:
    await store.append_audit("cus_1", {"action": "a"}, now=1.0)
    await store.append_audit("cus_1", {"action": "b", "actor": "op"}, now=2.0)
    assert await store.audit_trail("cus_1") == [
        {"action": "a", "at": 1.0},
        {"action": "b", "actor": "op", "at": 2.0},
    ]


def _raw_bytes(store: Backend, tmp_path: Path) -> bytes:
    """Every byte the store holds: the SQLite files, or every Redis key and value."""
    if isinstance(store, SQLiteStore):
        return b"".join(p.read_bytes() for p in tmp_path.glob("contract.db*"))
    assert isinstance(store, RedisStore)
    # A cluster's client scans every master.
    client = (
        RedisCluster.from_url(store.url.replace("+cluster://", "://"))
        if "+cluster://" in store.url
        else Redis.from_url(store.url)
    )
    chunks = []
    try:
        for key in client.scan_iter(count=1000):
            chunks.append(key)
            kind = client.type(key)
            if kind == b"string":
                chunks.append(client.get(key) or b"")
            elif kind == b"hash":
                for field, value in client.hgetall(key).items():
                    chunks += [field, value]
            elif kind == b"list":
                chunks += client.lrange(key, 0, -1)
            elif kind == b"set":
                chunks += list(client.smembers(key))
            elif kind == b"zset":
                chunks += client.zrange(key, 0, -1)
    finally:
        client.close()
    return b"\n".join(chunks)


async def test_erasure_leaves_no_personal_data_in_the_raw_store(
    store: Backend, tmp_path: Path
) -> None:
    web_id, tg_id, web_conv, _ = await _two_customers_with_state(store)
    await store.add_identity(web_id, "email:erin.secret@example.com", now=13.0)
    got = await store.record_inbound(inbound("webchat", "v1", "w2", SECRET_TEXT), now=14.0)
    await store.commit_turn(
        web_conv,
        handled_seq=got.event.seq,
        result=TurnResult(replies=(Outbound(text="Erin Secretname, noted"),), state={"n": "X"}),
        now=15.0,
        lease=30,
    )
    await store.update_customer(web_id, attributes={"name": "Erin Secretname"}, now=16.0)
    await store.merge_customers(web_id, tg_id, reason={"kind": "code"}, now=17.0)
    await store.put_challenge(web_id, {"target": "phone:+447700900123"}, expires_at=1e12)
    await store.append_audit(
        web_id, {"action": "x", "identity": "email:erin.secret@example.com"}, now=18
    )
    bystander = await store.record_inbound(inbound("api", "bystander", "b1", "keep me"), now=19)
    before = _raw_bytes(store, tmp_path)
    assert b"Erin Secretname" in before and b"4111-SECRET-TEXT" in before

    assert await store.erase_customer(web_id, now=20.0)
    assert not await store.erase_customer("cus_missing", now=20.0)
    raw = _raw_bytes(store, tmp_path)
    for secret in (
        b"Erin Secretname",
        b"4111-SECRET-TEXT",
        b"erin.secret@example.com",
        b"+447700900123",
        b"Your order number?",
        b"webchat:v1",
        b"telegram:42",
    ):
        assert secret not in raw, secret
    assert b"keep me" in raw  # someone else's data is untouched

    erased = await store.get_customer(web_id)
    assert erased is not None and erased.identities == () and erased.tags == ()
    assert await store.find_customer("webchat:v1") is None
    conversations = await store.customer_conversations(web_id)
    assert len(conversations) == 2  # the anonymous counters stay
    events = await store.events(web_conv)
    assert [e.type for e in events][:2] == [EventType.OPENED, EventType.MESSAGE_IN]
    assert all(e.data.get("erased") for e in events)
    assert all(json.dumps(dict(c.state)) == "{}" and c.address == "" for c in conversations)
    assert [e["action"] for e in await store.audit_trail(web_id)] == ["x"]
    assert (await store.get_customer(bystander.customer.id)) == bystander.customer
    # A new message from an erased address starts from nothing.
    fresh = await store.record_inbound(inbound("webchat", "v1", "w3"), now=30.0)
    assert fresh.customer.id != web_id
    assert fresh.conversation.status == ConversationStatus.BOT
