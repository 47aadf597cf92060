"""On a Redis Cluster the event bus's reads cost one round trip each: the cluster client
finds an `XREAD`'s stream key itself instead of asking a node (`COMMAND GETKEYS`) before
every read (`hub.store_redis_connect.keys_read_locally`)."""

from __future__ import annotations

from typing import Any

import pytest
from redis import Redis

from hub.bus_redis import RedisBus
from hub.model import Event
from hub.store_redis_connect import connect, xread_keys
from tests.redis_cluster import RedisTestCluster


@pytest.mark.parametrize(
    ("args", "keys"),
    [
        (
            ("XREAD", "COUNT", 10, "BLOCK", 500, "STREAMS", "fd:{fd:events}:stream", "0-0"),
            ("fd:{fd:events}:stream",),
        ),
        (("XREAD", "streams", "a", "b", "1-0", "2-0"), ("a", "b")),
        (("XREAD", b"BLOCK", "10", b"COUNT", "1", b"STREAMS", "s", "0-0"), ("s",)),  # redis-py
        (("XREAD", "COUNT", 1, "STREAMS", "a"), None),  # not a read: the client asks
        (("XREAD", "COUNT", 1), None),
    ],
)
def test_the_stream_keys_of_an_xread(args: tuple[Any, ...], keys: tuple[str, ...] | None) -> None:
    assert xread_keys(args) == keys


def commands_asked(cluster: RedisTestCluster) -> int:
    """`COMMAND` calls (`COMMAND GETKEYS` among them) the cluster's masters have run."""
    total = 0
    for port in cluster.ports:
        node = Redis(host="127.0.0.1", port=port, decode_responses=True)
        try:
            stats = node.info("commandstats")
        finally:
            node.close()
        total += sum(
            int(value["calls"])
            for name, value in stats.items()
            if name.startswith("cmdstat_command")
        )
    return total


async def test_xreads_on_a_cluster_ask_no_node_for_their_keys(
    redis_cluster: RedisTestCluster, redis_cluster_url: str
) -> None:
    client = await connect(redis_cluster_url)
    try:
        key = "fd:{fd:events}:test-stream"
        await client.xadd(key, {"k": "e", "d": "你好 hello"})
        await client.xread({key: "0-0"}, count=1, block=10)  # the client's first command map
        before = commands_asked(redis_cluster)
        for _ in range(20):
            reply: Any = await client.xread({key: "0-0"}, count=1, block=10)
            assert reply and reply[0][1][0][1]["d"] == "你好 hello"
        assert commands_asked(redis_cluster) == before
    finally:
        await client.delete(key)
        await client.aclose()


async def nothing(conversation_id: str, after_seq: int, limit: int) -> list[Event]:
    return []  # no gap to fill: every batch is published in order


@pytest.mark.parametrize("text", ["where is my order", "我的订单在哪里"])
async def test_the_bus_on_a_cluster_delivers_with_no_key_lookups(
    redis_cluster: RedisTestCluster, redis_cluster_url: str, text: str
) -> None:
    sender, receiver = (RedisBus(redis_cluster_url, read_log=nothing) for _ in range(2))
    got: list[Event] = []
    receiver.subscribe(got.extend)
    await sender.start()
    await receiver.start()
    try:
        before = commands_asked(redis_cluster)
        for seq in range(1, 6):
            sender.publish(
                [
                    Event(
                        conversation_id="con_x",
                        seq=seq,
                        type="message.in",
                        at=1.0,
                        data={"text": text},
                    )
                ]
            )
            await sender.settled()
        await receiver.settled()
        assert [e.seq for e in got] == [1, 2, 3, 4, 5]
        assert all(e.data["text"] == text for e in got)
        assert commands_asked(redis_cluster) == before
    finally:
        await sender.stop()
        await receiver.stop()
