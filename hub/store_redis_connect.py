"""One Redis connection for the store, to a single server or to a Redis Cluster.

`redis+cluster://host:port` (or `rediss+cluster://` for TLS) names any node of a cluster;
the client discovers the others and routes each command to the node owning its slot.
Every other `redis://`, `rediss://` or `unix://` URL is one server.

On both, every key of the store shares one hash tag (`keyspace`), so every Lua script
and every transaction runs on one slot: on a cluster, a deployment's store lives on the
master owning that slot (see docs/architecture.md, "Redis Cluster"). What stands apart from
the store's scripts (the event bus's stream, leader leases, rate-limit buckets and
counters, send pacing) carries a tag of its own (`own_tag`), so a cluster spreads it over
other masters; the search index, busy on every message, gets one across the slot space
from the store's (`far_tag`), so that a new cluster does not put it on the store's master.

redis-py reads connection options from the URL's query string, over the defaults given
here: `?socket_connect_timeout=10` sets the seconds to open a connection (`CONNECT_TIMEOUT`
otherwise), for single servers and clusters alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeAlias

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.connection import Connection, parse_url
from redis.asyncio.retry import Retry
from redis.backoff import EqualJitterBackoff
from redis.crc import key_slot
from redis.exceptions import RedisError

from hub.redis_packing import packed_by_hiredis
from hub.store_redis_codec import redacted

RedisClient: TypeAlias = Redis | RedisCluster

CLUSTER_SCHEMES = ("redis+cluster://", "rediss+cluster://")
SINGLE_SCHEMES = ("redis://", "rediss://", "unix://")
# Seconds to open one TCP connection (not to wait for a reply): a Redis that is up accepts
# at once, so longer only delays noticing one that is down. On one server the pool's retry
# tries a connection six times; the cluster client's node connections are tried once. A
# hub starved of CPU (load far above its cores) can miss it: raise it with the URL's
# `?socket_connect_timeout=`.
CONNECT_TIMEOUT = 5.0

# Connections one process keeps to a single Redis server. Callers beyond it wait for one
# to come free, and every store call does, so the pool must hold a busy process's turns
# *and* what runs beside them: the event bus's gap fills (up to `MAX_FILLS` log reads at
# once), the search index's rounds, the delivery poller. At 64, 64 concurrent turns and
# the bus's fills queued for connections: closed-loop p99 146 -> 435-745 ms
# (docs/benchmarks.md, "The store's connection pool"). The URL's `?max_connections=`
# overrides it.
POOL_SIZE = 128


def is_cluster_url(url: str) -> bool:
    return url.startswith(CLUSTER_SCHEMES)


def keyspace(prefix: str) -> str:
    """The prefix of every key of a store configured with `prefix` (`fd:` → `fd:{fd}:`).

    The braces are a Redis Cluster hash tag: only what is inside them picks the slot, so
    all of the store's keys hash to one slot and a script may touch any of them."""
    tag = prefix.strip(":") or "fd"
    return f"{prefix}{{{tag}}}:"


def own_tag(prefix: str, name: str) -> str:
    """The prefix of keys that hash apart from the store's (`fd:`, `events` → `fd:{fd:events}`).

    Only keys used together must share a slot; a lease and its fencing counter do, the
    event bus and the conversations do not. Each such group gets its own hash tag, still
    named by the deployment's prefix so two deployments on one Redis stay apart."""
    tag = prefix.strip(":") or "fd"
    return f"{prefix}{{{tag}:{name}}}"


# Numbered tags `far_tag` chooses from; the farthest of them is about half the slot space
# away (each lands on a uniformly random slot).
_FAR_CANDIDATES = 64


def far_tag(prefix: str, name: str) -> str:
    """A tag of its own (`own_tag`) whose slot is as far as possible from the store's.

    A cluster created with `redis-cli --cluster create` gives each master one contiguous,
    equal range of slots, so two slots at least half the slot space apart are on
    different masters whenever there are two or more; `own_tag` alone leaves that to
    chance (`{fd:search}` hashes to slot 4501, on the same master of three as the store's
    3502). Of the numbered tags `{fd:<name>:0}` … the one farthest from the store's slot is
    taken (`{fd:search:4}`, slot 16343), the same in every process: it only depends on
    `prefix` and `name`. A store whose own slot is near the middle of the space gets one
    a little under half of it away. Operators who move slots choose for themselves."""
    home = key_slot(keyspace(prefix).encode())

    def distance(n: int) -> int:
        return abs(key_slot(f"{own_tag(prefix, f'{name}:{n}')}:".encode()) - home)

    best = max(range(_FAR_CANDIDATES), key=lambda n: (distance(n), -n))
    return own_tag(prefix, f"{name}:{best}")


def xread_keys(args: Sequence[Any]) -> tuple[Any, ...] | None:
    """The stream keys of an `XREAD` (the first half of what follows `STREAMS`); None
    when the command does not read that way."""
    for index, arg in enumerate(args):
        # redis-py passes the keywords as bytes (b"STREAMS"), the keys as given.
        if isinstance(arg, str | bytes) and arg.upper() in ("STREAMS", b"STREAMS"):
            rest = tuple(args[index + 1 :])
            return rest[: len(rest) // 2] if rest and len(rest) % 2 == 0 else None
    return None


def keys_read_locally(client: RedisCluster) -> None:
    """Let the cluster client find an `XREAD`'s keys itself.

    redis-py's cluster client routes a command by its keys; for a command whose keys move
    (`XREAD`'s follow `STREAMS`) it asks a node with `COMMAND GETKEYS` first, twice (redis-py
    8 works out the slot twice per command), so two round trips before every read: the event bus's reader reads a batch at a time, so on a cluster that
    was ≈ 1 round trip per turn at four processes (`docs/benchmarks.md`, "Scale-out").
    Other commands are asked about as before; a redis-py without this hook is left as it is
    (it still asks)."""
    parser = getattr(client, "commands_parser", None)
    ask = getattr(parser, "get_keys", None)
    if ask is None:
        return

    async def get_keys(*args: Any) -> Any:
        if args and isinstance(args[0], str) and args[0].upper() == "XREAD":
            keys = xread_keys(args)
            if keys:
                return keys
        return await ask(*args)

    setattr(parser, "get_keys", get_keys)  # noqa: B010 - an instance's method, replaced


async def connect(url: str, *, retries: int = 5) -> RedisClient:
    """A pinged client for `url`; `ConnectionError` naming the (redacted) URL otherwise.
    `retries`: how often a command is resent after a dropped connection (0 for a caller
    that retries on its own terms, such as a blocking reader that must stop when closed)."""
    # Resending after a dropped connection is safe: write scripts are idempotent per
    # call (see `hub.store_redis_scripts`); a resent claim at worst leaves the first batch
    # leased until its lease runs out. A restart drops every pooled connection at once,
    # so without retries the next few calls would all fail.
    retry = Retry(EqualJitterBackoff(cap=1.0, base=0.02), retries=retries)
    client: RedisClient
    if is_cluster_url(url):
        # redis-py names cluster nodes with the plain schemes.
        plain = url.replace("+cluster://", "://", 1)
        client = RedisCluster.from_url(
            plain,
            decode_responses=True,
            socket_connect_timeout=CONNECT_TIMEOUT,
            retry=retry,
            # The cluster client cannot wait for a free connection: past the cap it raises
            # (a ConnectionError, which also makes it reload the slot map). Bursts of turns
            # need a cap no burst reaches; Redis's own limit is 10,000 clients.
            max_connections=512,
        )
        keys_read_locally(client)
    else:
        # A bounded pool that makes callers wait for a free connection instead of failing
        # with "Too many connections" under bursts.
        pool = BlockingConnectionPool.from_url(
            url,
            # The class redis-py would pick for the URL (TCP, TLS, Unix socket), packing
            # commands in C (`hub.redis_packing`).
            connection_class=packed_by_hiredis(parse_url(url).get("connection_class", Connection)),
            max_connections=POOL_SIZE,
            timeout=30,
            decode_responses=True,
            socket_connect_timeout=CONNECT_TIMEOUT,
            retry=retry,
        )
        # The client owns its pool: closing it closes every connection, one in use too.
        client = Redis.from_pool(pool)
    try:
        await client.ping()
    except (RedisError, OSError) as error:
        await client.aclose()
        raise ConnectionError(f"cannot reach Redis at {redacted(url)}: {error}") from error
    return client
