"""Schema versions: a store written by the previous release opens, its data reads back and
its version moves forward; a store newer than the code refuses to start.

The old data is written with raw SQL and raw Redis commands, exactly as the previous
release laid it out, not through today's store."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from hub import bus_redis, migrations_redis, migrations_sqlite, search_redis
from hub.abc import TurnResult
from hub.errors import ConfigError
from hub.model import Customer, Delivery, EventType, Inbound, NewEvent, Outbound
from hub.search_text import parse_query, tokens
from hub.store_redis import RedisStore
from hub.store_redis_codec import dumps, event_json
from hub.store_redis_connect import connect
from hub.store_sqlite import SQLiteStore
from hub.stores import beside


@contextlib.asynccontextmanager
async def opened_by_two(url: str) -> AsyncIterator[RedisStore]:
    """Two processes starting together on `url`: one migrates, the other waits for it."""
    stores = [RedisStore(url), RedisStore(url)]
    await asyncio.gather(*(store.open() for store in stores))
    try:
        yield stores[0]
    finally:
        for store in stores:
            await store.close()


# The SQLite schema of the release before versions, as it created it.
OLD_SQLITE_SCHEMA = """
CREATE TABLE customers (id TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE identities (identity TEXT PRIMARY KEY, customer_id TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE conversations (
    id TEXT PRIMARY KEY, customer_id TEXT NOT NULL, status TEXT NOT NULL,
    inbound_seq INTEGER NOT NULL DEFAULT 0, handled_seq INTEGER NOT NULL DEFAULT 0,
    thread_key TEXT NOT NULL DEFAULT '', data TEXT NOT NULL
);
CREATE TABLE events (
    conversation_id TEXT NOT NULL, seq INTEGER NOT NULL, type TEXT NOT NULL, at REAL NOT NULL,
    data TEXT NOT NULL, PRIMARY KEY (conversation_id, seq)
) WITHOUT ROWID;
CREATE TABLE dedupe (
    channel TEXT NOT NULL, message_id TEXT NOT NULL, conversation_id TEXT NOT NULL,
    seq INTEGER NOT NULL, PRIMARY KEY (channel, message_id)
) WITHOUT ROWID;
CREATE TABLE outbox (
    id TEXT PRIMARY KEY, next_attempt_at REAL NOT NULL, parked_at REAL, data TEXT NOT NULL,
    conversation_id TEXT NOT NULL DEFAULT '', seq INTEGER NOT NULL DEFAULT 0,
    parts TEXT NOT NULL DEFAULT '[]'
);
CREATE TABLE merges (
    id TEXT PRIMARY KEY, kept_id TEXT NOT NULL, absorbed_id TEXT NOT NULL, data TEXT NOT NULL
);
CREATE TABLE challenges (customer_id TEXT PRIMARY KEY, expires_at REAL NOT NULL, data TEXT NOT NULL);
CREATE TABLE hits (key TEXT PRIMARY KEY, window_start REAL NOT NULL, count INTEGER NOT NULL)
    WITHOUT ROWID;
CREATE TABLE audit (
    customer_id TEXT NOT NULL, n INTEGER NOT NULL, data TEXT NOT NULL,
    PRIMARY KEY (customer_id, n)
) WITHOUT ROWID;
"""

CASES = [
    ("ana", "Where is my order?", "It left today."),
    ("li", "我的订单在哪里？", "今天发货了。"),
]


def an_inbound(sender: str, text: str, message_id: str = "m1") -> Inbound:
    return Inbound(channel="api", sender=sender, message_id=message_id, text=text, timestamp=1.0)


def a_reply(conversation_id: str, sender: str, text: str) -> Delivery:
    return Delivery(
        id="dlv_old",
        conversation_id=conversation_id,
        seq=3,
        channel="api",
        address=sender,
        thread_hint="",
        outbound=Outbound(text=text),
        created_at=2.0,
    )


def conversation_json(conversation_id: str, customer_id: str, sender: str) -> dict[str, object]:
    return {
        "id": conversation_id,
        "customer_id": customer_id,
        "status": "bot",
        "channel": "api",
        "address": sender,
        "thread_hint": "",
        "priority": 3,
        "created_at": 1.0,
        "updated_at": 2.0,
        "last_seq": 3,
        "handled_seq": 2,
        "state": {"step": 1},
    }


# ------------------------------------------------------------------ SQLite


def write_old_sqlite(path: Path, sender: str, question: str, answer: str) -> None:
    db = sqlite3.connect(path)
    db.executescript(OLD_SQLITE_SCHEMA)
    customer = Customer(id="cus_old", identities=(f"api:{sender}",), created_at=1.0)
    db.execute("INSERT INTO customers VALUES (?, ?)", (customer.id, dumps(customer.to_json())))
    db.execute("INSERT INTO identities VALUES (?, ?)", (f"api:{sender}", customer.id))
    data = dumps(conversation_json("con_old", customer.id, sender))
    db.execute(
        "INSERT INTO conversations VALUES ('con_old', 'cus_old', 'bot', 2, 2, '', ?)", (data,)
    )
    events = [
        (1, EventType.OPENED, {"channel": "api"}),
        (2, EventType.MESSAGE_IN, an_inbound(sender, question).to_json()),
        (3, EventType.MESSAGE_OUT, {"outbound": Outbound(text=answer).to_json()}),
    ]
    for seq, kind, event_data in events:
        db.execute(
            "INSERT INTO events VALUES ('con_old', ?, ?, 2.0, ?)",
            (seq, str(kind), dumps(event_data)),
        )
    db.execute("INSERT INTO dedupe VALUES ('api', 'm1', 'con_old', 2)")
    reply = a_reply("con_old", sender, answer)
    db.execute(
        "INSERT INTO outbox VALUES (?, 2.0, NULL, ?, 'con_old', 3, '[]')",
        (reply.id, dumps(reply.to_json())),
    )
    db.commit()
    db.close()


@pytest.mark.parametrize(("sender", "question", "answer"), CASES)
async def test_sqlite_from_the_previous_release_keeps_its_data(
    tmp_path: Path, sender: str, question: str, answer: str
) -> None:
    path = tmp_path / "old.db"
    write_old_sqlite(path, sender, question, answer)
    store = SQLiteStore(path)
    await store.open()
    try:
        assert migrations_sqlite.schema_version(store.db) == migrations_sqlite.CURRENT == 3
        again = await store.record_inbound(an_inbound(sender, question), now=5.0)
        assert again.duplicate and again.conversation.id == "con_old"
        conversation = await store.get_conversation("con_old")
        assert conversation is not None and dict(conversation.state) == {"step": 1}
        events = await store.events("con_old")
        assert Inbound.from_json(events[1].data).text == question
        (waiting,) = await store.claim_deliveries(now=10.0, limit=10, lease=30)
        assert waiting.outbound.text == answer
        # The new table works: the conversation's lease and a fenced commit.
        nxt = await store.record_inbound(an_inbound(sender, question, "m2"), now=6.0)
        async with store.conversation_lock("con_old") as lease:
            await store.commit_turn(
                "con_old", handled_seq=nxt.event.seq, result=TurnResult(), now=7.0, lease=30,
                fence=lease.fence,
            )  # fmt: skip
    finally:
        await store.close()
    # Opening again is a no-op.
    reopened = SQLiteStore(path)
    await reopened.open()
    try:
        assert migrations_sqlite.schema_version(reopened.db) == 3
        assert len(await reopened.events("con_old")) == 4
    finally:
        await reopened.close()


# What version 2 added, and the search index of that release (`search_meta.version` 1): its
# documents keyed apart from the events, and a trigger on `events` noting each message.
V2_SQLITE_SCHEMA = """
CREATE TABLE leases (name TEXT PRIMARY KEY, fence INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE lease_epoch (id INTEGER PRIMARY KEY CHECK (id = 1), epoch INTEGER NOT NULL);
INSERT INTO lease_epoch VALUES (1, 0);
CREATE TABLE search_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO search_meta VALUES ('version', '1'), ('triggers', '3');
CREATE TABLE search_docs (
    id INTEGER PRIMARY KEY, kind TEXT NOT NULL, conversation_id TEXT NOT NULL,
    seq INTEGER NOT NULL, customer_id TEXT NOT NULL, body TEXT NOT NULL
);
CREATE INDEX search_docs_by_event ON search_docs (conversation_id, seq);
CREATE TABLE search_pending (
    id INTEGER PRIMARY KEY, conversation_id TEXT NOT NULL, seq INTEGER NOT NULL,
    UNIQUE (conversation_id, seq)
);
CREATE VIRTUAL TABLE search_fts USING fts5 (
    body, content = 'search_docs', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 0'
);
CREATE VIRTUAL TABLE search_customer_fts USING fts5 (
    body, content = 'search_docs', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 0'
);
CREATE TRIGGER search_doc_added AFTER INSERT ON search_docs BEGIN
    INSERT INTO search_fts (rowid, body) SELECT new.id, new.body WHERE new.kind != 'customer';
END;
CREATE TRIGGER search_event_added AFTER INSERT ON events
WHEN new.type IN ('message.in', 'message.out') BEGIN
    INSERT OR REPLACE INTO search_pending (conversation_id, seq)
    VALUES (new.conversation_id, new.seq);
END;
PRAGMA user_version = 2;
"""

V2_CONVERSATIONS = [
    # (conversation, sender, the customer's question, the reply); written interleaved in time
    ("con_en", "ana", "I want a refund for the blender", "Your refund is on its way."),
    ("con_zh", "li", "我要退款，搅拌机坏了", "退款已经在处理了。"),
]


def write_v2_sqlite(path: Path) -> None:
    """A file of the release before this one: events keyed by (conversation, seq), the
    first message of each conversation indexed, the second only noted."""
    db = sqlite3.connect(path)
    db.executescript(OLD_SQLITE_SCHEMA + V2_SQLITE_SCHEMA)
    for n, (conversation_id, sender, question, answer) in enumerate(V2_CONVERSATIONS):
        customer = Customer(id=f"cus_{sender}", identities=(f"api:{sender}",), created_at=1.0)
        db.execute("INSERT INTO customers VALUES (?, ?)", (customer.id, dumps(customer.to_json())))
        db.execute("INSERT INTO identities VALUES (?, ?)", (f"api:{sender}", customer.id))
        data = dumps(conversation_json(conversation_id, customer.id, sender))
        db.execute(
            "INSERT INTO conversations VALUES (?, ?, 'bot', 3, 3, '', ?)",
            (conversation_id, customer.id, data),
        )
        events = [
            (1, 1.0 + n, EventType.OPENED, {"channel": "api"}),
            (2, 1.0 + n, EventType.MESSAGE_IN, an_inbound(sender, question).to_json()),
            (3, 3.0 + n, EventType.MESSAGE_OUT, {"outbound": Outbound(text=answer).to_json()}),
        ]
        for seq, at, kind, event_data in events:
            db.execute(
                "INSERT INTO events VALUES (?, ?, ?, ?, ?)",
                (conversation_id, seq, str(kind), at, dumps(event_data)),
            )
        # The indexer of that release had taken the question and not yet the reply.
        db.execute(
            "INSERT INTO search_docs (kind, conversation_id, seq, customer_id, body)"
            " VALUES ('message', ?, 2, '', ?)",
            (conversation_id, " ".join(tokens(question))),
        )
        db.execute(
            "DELETE FROM search_pending WHERE conversation_id = ? AND seq = 2", (conversation_id,)
        )
    db.commit()
    db.close()


async def test_sqlite_version_2_gets_its_log_in_write_order_and_its_index_rebuilt(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "v2.db"
    write_v2_sqlite(path)
    store = SQLiteStore(path)
    with caplog.at_level(logging.INFO, logger="frontdesk"):
        await store.open()
    index = beside(store).search()
    try:
        assert migrations_sqlite.schema_version(store.db) == 3
        # A long copy is announced before it starts, with what it does, and counted.
        said = [r.getMessage() for r in caplog.records]
        assert any("migrating to schema version 3 (the event log in" in m for m in said)
        assert any("6 events copied into the log in write order" in m for m in said)
        building = [r for r in caplog.records if r.getMessage().startswith("building the search")]
        assert [getattr(r, "events", None) for r in building] == [6]
        # Ids in the order the events were written (by time), each conversation's order kept.
        rows = store.db.execute("SELECT conversation_id, seq FROM events ORDER BY id").fetchall()
        assert rows == [
            ("con_en", 1), ("con_en", 2), ("con_zh", 1), ("con_zh", 2),
            ("con_en", 3), ("con_zh", 3),
        ]  # fmt: skip
        for conversation_id, _, question, answer in V2_CONVERSATIONS:
            events = await store.events(conversation_id)
            assert [e.seq for e in events] == [1, 2, 3]
            assert Inbound.from_json(events[1].data).text == question
            assert events[2].data["outbound"]["text"] == answer
        # Both the indexed question and the reply that was only noted are found.
        for word, conversation_id in (("blender", "con_en"), ("搅拌机", "con_zh")):
            found = await index.search(parse_query(word), kind="conversation", scope=None, limit=5)
            assert [(h.conversation_id, h.seq) for h in found.items] == [(conversation_id, 2)]
        for word, conversation_id in (("way", "con_en"), ("处理", "con_zh")):
            found = await index.search(parse_query(word), kind="conversation", scope=None, limit=5)
            assert [(h.conversation_id, h.seq) for h in found.items] == [(conversation_id, 3)]
        # A new message goes on after them: its conversation's next seq, and newest first.
        for sender, text in (("ana", "another refund please"), ("li", "再次退款")):
            got = await store.record_inbound(an_inbound(sender, text, f"{sender}-9"), now=9.0)
            assert not got.duplicate and got.event.seq == 4
        found = await index.search(parse_query("退款"), kind="conversation", scope=None, limit=5)
        assert [(h.conversation_id, h.seq) for h in found.items] == [
            ("con_zh", 4), ("con_zh", 3), ("con_zh", 2),
        ]  # fmt: skip
        found = await index.search(parse_query("refund"), kind="conversation", scope=None, limit=5)
        assert [(h.conversation_id, h.seq) for h in found.items] == [
            ("con_en", 4), ("con_en", 3), ("con_en", 2),
        ]  # fmt: skip
    finally:
        await store.close()


async def test_a_new_sqlite_file_is_created_without_migration_notices(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = SQLiteStore(tmp_path / "new.db")
    with caplog.at_level(logging.INFO, logger="frontdesk"):
        await store.open()
    try:
        assert migrations_sqlite.schema_version(store.db) == migrations_sqlite.CURRENT
        said = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]
        assert not [m for m in said if "schema version" in m or "copied" in m], said
    finally:
        await store.close()


async def test_a_newer_sqlite_file_refuses_to_open(tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version = 99")
    db.close()
    with pytest.raises(ConfigError) as raised:
        await SQLiteStore(path).open()
    assert "schema version 99, newer than this Frontdesk knows (3)" in raised.value.message
    assert str(path) in raised.value.message


# ------------------------------------------------------------------ Redis


async def write_old_redis(url: str, sender: str, question: str, answer: str) -> None:
    """The previous release's layout: `fd:<name>`, no hash tag, no schema key."""
    redis = Redis.from_url(url, decode_responses=True)
    customer = Customer(id="cus_old", identities=(f"api:{sender}",), created_at=1.0)
    conv = "fd:conv:con_old"
    reply = a_reply("con_old", sender, answer)
    try:
        await redis.set("fd:customer:cus_old", dumps(customer.to_json()))
        await redis.set(f"fd:identity:api:{sender}", "cus_old")
        await redis.zadd("fd:customers", {"cus_old": 0})
        await redis.hset(
            conv,
            mapping={
                "id": "con_old", "customer_id": "cus_old", "status": "bot", "channel": "api",
                "address": sender, "thread_hint": "", "priority": 3, "created_at": "1.0",
                "updated_at": "2.0", "last_seq": 3, "handled_seq": 2, "inbound_seq": 2,
                "thread_key": "", "state": dumps({"step": 1}),
            },
        )  # fmt: skip
        opened = NewEvent(type=EventType.OPENED, data={"channel": "api"})
        message = NewEvent(type=EventType.MESSAGE_IN, data=an_inbound(sender, question).to_json())
        out = NewEvent(type=EventType.MESSAGE_OUT, data={"outbound": {"text": answer}})
        await redis.rpush(f"{conv}:events", *(event_json(e, 2.0) for e in (opened, message, out)))
        for index in ("fd:conversations", "fd:conversations:bot"):
            await redis.zadd(index, {"con_old": 0})
        for suffix in (":conversations", ":open", ":open:"):
            await redis.zadd(f"fd:customer:cus_old{suffix}", {"con_old": 0})
        await redis.hset("fd:dedupe:api", "m1", "con_old 2 fd:op:gone")
        await redis.hset(
            "fd:delivery:dlv_old",
            mapping={"data": dumps(reply.to_json()), "seq": 3, "conv": "con_old", "next": "2.0"},
        )
        await redis.zadd(f"{conv}:outbox", {"dlv_old": 3})
        await redis.zadd("fd:outbox", {"dlv_old": 2.0})
        # Not the store's: the console's accounts live beside it and must stay where they are.
        await redis.set("fd:console:account:agent1", "{}")
    finally:
        await redis.aclose()


@pytest.mark.parametrize(("sender", "question", "answer"), CASES)
async def test_redis_from_the_previous_release_is_moved_under_the_hash_tag(
    redis_url: str, sender: str, question: str, answer: str
) -> None:
    await write_old_redis(redis_url, sender, question, answer)
    # Two processes starting together: one migrates, the other waits for it.
    async with opened_by_two(redis_url) as store:
        keys = {str(key) for key in await store.redis.keys("*")}
        assert "fd:console:account:agent1" in keys
        untagged = {k for k in keys if not k.startswith("fd:{fd}:") and "console" not in k}
        assert untagged == set()
        assert await store.redis.get("fd:{fd}:schema") == str(migrations_redis.CURRENT)
        again = await store.record_inbound(an_inbound(sender, question), now=5.0)
        assert again.duplicate and again.conversation.id == "con_old"
        nxt = await store.record_inbound(an_inbound(sender, question, "m2"), now=6.0)
        assert nxt.conversation.id == "con_old" and nxt.event.seq == 4
        found = await store.find_customer(f"api:{sender}")
        assert found is not None and found.id == "cus_old"
        assert [c.id for c in (await store.list_conversations(limit=10)).items] == ["con_old"]
        assert await store.pending_conversations() == ["con_old"]  # m2 waits for its turn
        (waiting,) = await store.claim_deliveries(now=10.0, limit=10, lease=30)
        assert waiting.outbound.text == answer
        events = await store.events("con_old")
        assert json.loads(json.dumps(events[1].data))["text"] == question


async def test_version_1_bus_leases_and_limits_move_to_their_own_tags(
    shared_store_url: str,
) -> None:
    """Version 1 kept the bus, the leases and the buckets under the store's tag `{fd}`;
    version 2 gives each its own, and a fencing token never goes back."""
    redis = await connect(shared_store_url)
    try:
        await redis.set("fd:{fd}:schema", "1")
        await redis.set("fd:{fd}:{lease:handoff-clock}:fence", "7")
        await redis.set("fd:{fd}:{lease:handoff-clock}", "gone-holder", px=60_000)
        await redis.xadd("fd:{fd}:{bus}:events", {"n": "old", "k": "s", "t": "x", "d": "{}"})
    finally:
        await redis.aclose()
    async with opened_by_two(shared_store_url) as store:
        assert await store.redis.get("fd:{fd}:schema") == str(migrations_redis.CURRENT)
        for old in ("{lease:handoff-clock}:fence", "{lease:handoff-clock}", "{bus}:events"):
            assert not await store.redis.exists(f"fd:{{fd}}:{old}")
        assert await store.redis.get("fd:{fd:lease:handoff-clock}:fence") == "7"
        lease = beside(store).lease("handoff-clock")
        await lease.start()
        try:
            assert lease.leading and lease.token == 8  # the next term, after the old ones
        finally:
            await lease.stop()
        assert bus_redis.stream_key(store.base_prefix) == "fd:{fd:events}:stream"


async def test_a_newer_redis_store_refuses_to_open(redis_url: str) -> None:
    redis = Redis.from_url(redis_url, decode_responses=True)
    await redis.set("fd:{fd}:schema", "99")
    await redis.aclose()
    with pytest.raises(ConfigError) as raised:
        await RedisStore(redis_url).open()
    assert "schema version 99, newer than this Frontdesk knows (3)" in raised.value.message


async def test_a_new_redis_store_starts_at_the_current_version(redis_url: str) -> None:
    store = RedisStore(redis_url)
    await store.open()
    try:
        assert await store.redis.get("fd:{fd}:schema") == str(migrations_redis.CURRENT)
    finally:
        await store.close()


# A version-2 search index: one message document and its tokens under the store's own tag.
OLD_INDEX = "fd:{fd}:{search}:"


async def write_version_2_index(url: str, word: str, text: str) -> None:
    redis = await connect(url)
    try:
        await redis.set("fd:{fd}:schema", "2")
        words = tokens(f"{word} {text}")  # the body keeps them in text order (phrases)
        doc = {"k": "message", "c": "con_old", "s": 2, "u": "", "b": " ".join(words)}
        await redis.hset(f"{OLD_INDEX}docs", "000000000001", json.dumps(doc, ensure_ascii=False))
        await redis.hset(f"{OLD_INDEX}ref", "m:con_old:2", "000000000001")
        for token in set(words):
            await redis.zadd(f"{OLD_INDEX}t:{token}", {"000000000001": 2.0})
            await redis.zadd(f"{OLD_INDEX}dict", {token: 0})
        await redis.sadd(f"{OLD_INDEX}conv:con_old", "000000000001")
        await redis.hset(f"{OLD_INDEX}seen", "con_old", "2")
        await redis.set(f"{OLD_INDEX}next", "1")
        await redis.zadd(f"{OLD_INDEX}tmp:abc", {"000000000001": 2.0})
        await redis.pexpire(f"{OLD_INDEX}tmp:abc", 600_000)
        await redis.set("fd:{fd}:hits:code:api:ana:0.0", "3", ex=120)
    finally:
        await redis.aclose()


@pytest.mark.parametrize(("word", "text"), [("refund", "late"), ("退款", "还没到")])
async def test_version_2_search_index_and_counters_move_to_slots_of_their_own(
    shared_store_url: str, word: str, text: str
) -> None:
    """Version 2 kept the search index and the rate-limit counters under the store's tag
    `{fd}`; version 3 copies each key to its own tag, expiry included, and carries on after
    an interruption."""
    await write_version_2_index(shared_store_url, word, text)
    new = search_redis.keyspace("fd:")
    redis = await connect(shared_store_url)
    try:
        # A run stopped between copying the documents and deleting the originals.
        await redis.hset(f"{new}docs", "000000000001", "half copied")
    finally:
        await redis.aclose()
    async with opened_by_two(shared_store_url) as store:
        assert await store.redis.get("fd:{fd}:schema") == str(migrations_redis.CURRENT) == "3"
        left = [str(k) async for k in store.redis.scan_iter(match=f"{OLD_INDEX}*")]
        assert left == []
        assert await store.redis.hget(f"{new}seen", "con_old") == "2"  # nothing to re-index
        assert 0 < await store.redis.pttl(f"{new}tmp:abc") <= 600_000
        index = search_redis.RedisSearch(store)
        for query in (word, text):
            hits = await index.search(parse_query(query), kind="conversation", scope=None, limit=5)
            assert [(hit.conversation_id, hit.seq) for hit in hits.items] == [("con_old", 2)]
        # A counter of version 2 goes on counting under its own tag, expiry kept.
        assert not await store.redis.exists("fd:{fd}:hits:code:api:ana:0.0")
        assert 0 < await store.redis.pttl("fd:{fd:hits:code:api:ana}:0.0") <= 120_000
        assert await store.count_hit("code:api:ana", window=60, now=1.0) == 4
