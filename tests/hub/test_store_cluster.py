"""On a Redis Cluster every key the store and the console's accounts write carries their hash
tag, so each Lua script and transaction stays on one slot (docs/architecture.md); the search
index and the rate-limit counters carry tags of their own, and the index sits on another
master than the store."""

from __future__ import annotations

import pytest
from redis import Redis
from redis.crc import key_slot

from handoff.console.accounts import Account, Role, accounts_from_url
from hub import search_redis
from hub.abc import TurnResult
from hub.model import Inbound, Outbound
from hub.search_redis import RedisSearch
from hub.search_text import parse_query
from hub.store_redis import RedisStore
from hub.store_redis_connect import keyspace
from tests.redis_cluster import RedisTestCluster


def every_key(cluster: RedisTestCluster) -> dict[str, int]:
    """Every key of the cluster, and the port of the master that holds it."""
    found: dict[str, int] = {}
    for port in cluster.ports:
        node = Redis(host="127.0.0.1", port=port, decode_responses=True)
        try:
            found.update((str(key), port) for key in node.scan_iter(count=1000))
        finally:
            node.close()
    return found


@pytest.mark.parametrize(
    ("question", "answer"),
    [("Where is my order?", "It left today."), ("我的订单呢？", "今天发货了。")],
)
async def test_every_key_carries_the_hash_tag(
    redis_cluster: RedisTestCluster, redis_cluster_url: str, question: str, answer: str
) -> None:
    store = RedisStore(redis_cluster_url)
    accounts = accounts_from_url(redis_cluster_url)
    await store.open()
    await accounts.open()
    try:
        web = await store.record_inbound(
            Inbound(channel="webchat", sender="v1", message_id="w1", text=question), now=1.0
        )
        tg = await store.record_inbound(
            Inbound(channel="telegram", sender="42", message_id="t1", text=question), now=2.0
        )
        async with store.conversation_lock(web.conversation.id) as lease:
            commit = await store.commit_turn(
                web.conversation.id,
                handled_seq=web.event.seq,
                result=TurnResult(replies=(Outbound(text=answer),)),
                now=3.0,
                lease=30,
                fence=lease.fence,
            )
        assert commit.lead is not None
        await store.delivery_failed(commit.lead, error="down", retry_at=None, now=4.0)
        await store.merge_customers(web.customer.id, tg.customer.id, reason={}, now=5.0)
        await store.put_challenge(web.customer.id, {"code": "x"}, expires_at=99.0)
        await store.count_hit("code:webchat:v1", window=60, now=6.0)
        await store.append_audit(web.customer.id, {"action": "merge"}, now=7.0)
        await accounts.add(
            Account(id="mei", name="Mei", role=Role.AGENT, password_hash="$argon2id$x")
        )
        keys = every_key(redis_cluster)
    finally:
        await accounts.close()
        await store.close()
    tags = ("fd:{fd}:", "fd:console:{console}:", "fd:{fd:hits:code:webchat:v1}:")
    assert {k for k in keys if not k.startswith(tags)} == set()
    assert any(k.startswith("fd:{fd}:conv:") for k in keys)
    assert any(k.startswith("fd:console:{console}:account:") for k in keys)
    assert any(k.startswith("fd:{fd:hits:") for k in keys)


@pytest.mark.parametrize(
    ("question", "word"), [("Where is my refund?", "refund"), ("我的退款呢？", "退款")]
)
async def test_the_search_index_lives_on_another_master_than_the_store(
    redis_cluster: RedisTestCluster, redis_cluster_url: str, question: str, word: str
) -> None:
    store = RedisStore(redis_cluster_url)
    await store.open()
    index = RedisSearch(store)
    try:
        got = await store.record_inbound(
            Inbound(channel="webchat", sender="v1", message_id="w1", text=question), now=1.0
        )
        await index.index_conversation(got.conversation.id)
        hits = await index.search(parse_query(word), kind="conversation", scope=None, limit=5)
        keys = every_key(redis_cluster)
    finally:
        await store.close()
    assert [hit.conversation_id for hit in hits.items] == [got.conversation.id]
    prefix = search_redis.keyspace("fd:")
    assert prefix == "fd:{fd:search:4}:"
    index_masters = {port for key, port in keys.items() if key.startswith(prefix)}
    store_masters = {port for key, port in keys.items() if key.startswith("fd:{fd}:")}
    assert len(index_masters) == 1 and len(store_masters) == 1
    assert index_masters != store_masters
    assert {k for k in keys if not k.startswith((prefix, "fd:{fd}:"))} == set()


@pytest.mark.parametrize("prefix", ["fd:", "acme:", "客服:"])
def test_the_index_tag_is_half_the_slot_space_from_the_store(prefix: str) -> None:
    """Equal contiguous ranges put slots 8,192 apart on different masters, for any count."""
    home = key_slot(keyspace(prefix).encode())
    index = key_slot(search_redis.keyspace(prefix).encode())
    assert abs(index - home) >= 8192
    assert search_redis.keyspace(prefix).startswith(f"{prefix}{{{prefix.strip(':')}:search:")
