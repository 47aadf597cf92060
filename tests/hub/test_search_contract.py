"""One search contract, both stores: the SQLite FTS5 index and the Redis inverted index
answer the same queries with the same hits, in English, Chinese, both mixed and
Traditional Chinese, and forget what an erasure erases."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hub import search_redis
from hub.abc import TurnResult
from hub.model import Inbound, NewEvent, Outbound
from hub.ports import Backend
from hub.search import Scope, SearchIndex
from hub.search_redis import RedisSearch
from hub.search_text import QueryError, parse_query
from hub.store_sqlite import SQLiteStore
from hub.stores import beside
from tests.hub.conftest import StoreFactory
from tests.hub.test_port_directory import _raw_bytes

MESSAGES = [
    # (sender, text) — one conversation each, written at 100, 101, … in this order
    ("ana", "Hello, I would like a refund for my order 20261001"),
    ("bo", "我想退款，订单还没到"),
    ("chen", "你们卖不卖礼品卡？"),
    ("dee", "My iPhone screen is broken, 想换屏幕"),
    ("eve", "礼品和卡片都不要"),  # 礼品 and 卡, but not 礼品卡
    ("fay", "Refunded already? 已经退款了吗"),
    ("gus", 'He said "NEAR(refund, 2)" * twice'),
]


@pytest.fixture
async def indexed(
    make_store: StoreFactory,
) -> AsyncIterator[tuple[Backend, SearchIndex, list[str]]]:
    """The store with MESSAGES written, and its index brought up to date."""
    store = make_store()
    await store.open()
    conversations = []
    for i, (sender, text) in enumerate(MESSAGES):
        got = await store.record_inbound(
            Inbound(channel="api", sender=sender, message_id=f"m{i}", text=text), now=100.0 + i
        )
        conversations.append(got.conversation.id)
    index = beside(store).search()
    await settle(index)
    yield store, index, conversations
    await index.stop()
    await store.close()


async def settle(index: SearchIndex) -> None:
    """Redis indexes from the log: catch up now, as the start does (SQLite is already)."""
    if isinstance(index, RedisSearch):
        await index.catch_up()


async def found(index: SearchIndex, text: str, **kw: object) -> list[str]:
    hits = await index.search(parse_query(text), kind="conversation", scope=None, limit=50)
    return [h.conversation_id for h in hits.items]


def senders(conversations: list[str], ids: list[str]) -> list[str]:
    return [MESSAGES[conversations.index(c)][0] for c in ids]


async def test_english_chinese_mixed_and_traditional_queries(indexed) -> None:
    _, index, conversations = indexed

    async def who(text: str) -> list[str]:
        return senders(conversations, await found(index, text))

    assert await who("refund") == ["gus", "fay", "ana"]  # a prefix, newest first
    assert await who("REFUND") == ["gus", "fay", "ana"]
    assert await who("退款") == ["fay", "bo"]  # two Chinese characters
    assert await who("礼品卡") == ["chen"]  # a phrase: 礼品 … 卡 elsewhere is not it
    assert await who("禮品卡") == ["chen"]  # Traditional finds Simplified
    assert await who("iphone 屏幕") == ["dee"]  # mixed: both required
    assert await who("退款 refunded") == ["fay"]
    assert await who("20261001") == ["ana"]
    assert await who("卡") == ["eve", "chen"]  # one character: wherever it stands
    assert await who("re") == []  # a word shorter than three letters is a whole word
    assert await who("ｒｅｆｕｎｄ") == ["gus", "fay", "ana"]  # full-width letters


async def test_query_syntax_is_only_text(indexed) -> None:
    _, index, conversations = indexed
    for text in ('"', "*", '"NEAR(refund, 2)"', "refund OR 退款", "AND", "NOT refund", "^x"):
        # Nothing searchable in it is a clear refusal (QueryError), never an index error.
        with contextlib.suppress(QueryError):
            await found(index, text)
    assert senders(conversations, await found(index, 'NEAR("refund"')) == ["gus"]
    assert senders(conversations, await found(index, "refund OR")) == []  # OR is a word


async def test_pages_follow_each_other_and_a_scope_limits_what_is_found(indexed) -> None:
    _, index, conversations = indexed
    query = parse_query("refund")
    first = await index.search(query, kind="conversation", scope=None, limit=2)
    assert senders(conversations, [h.conversation_id for h in first.items]) == ["gus", "fay"]
    assert first.next_cursor
    rest = await index.search(
        query, kind="conversation", scope=None, limit=2, cursor=first.next_cursor
    )
    assert senders(conversations, [h.conversation_id for h in rest.items]) == ["ana"]
    assert rest.next_cursor is None
    with pytest.raises(QueryError):
        await index.search(query, kind="conversation", scope=None, limit=2, cursor="x:y")

    ana = conversations[0]
    only_ana = Scope(conversations=frozenset({ana}))
    hits = await index.search(query, kind="conversation", scope=only_ana, limit=10)
    assert [h.conversation_id for h in hits.items] == [ana]
    assert hits.items[0].seq == 2 and hits.items[0].kind == "message"
    nothing = await index.search(query, kind="conversation", scope=Scope(), limit=10)
    assert list(nothing.items) == []


async def test_replies_notes_and_tickets_are_found_too(indexed) -> None:
    store, index, conversations = indexed
    ana = conversations[0]
    await store.commit_turn(
        ana,
        handled_seq=2,
        result=TurnResult(
            replies=(Outbound(text="您的退货标签已发送"),),
            events=(
                NewEvent(type="handoff.note", data={"agent_id": "mei", "text": "VIP, call back"}),
                NewEvent(
                    type="handoff.requested",
                    data={"ticket_number": 1042, "skill": "billing", "reasons": ["asked_human"]},
                ),
            ),
        ),
        now=200.0,
        lease=30,
    )
    await settle(index)
    for text, kind in (("退货标签", "message"), ("call back", "message"), ("1042", "ticket")):
        hits = await index.search(parse_query(text), kind="conversation", scope=None, limit=5)
        assert [(h.conversation_id, h.kind) for h in hits.items] == [(ana, kind)], text


async def test_customers_are_found_by_name_identity_and_tag(indexed) -> None:
    store, index, _ = indexed
    ana = await store.find_customer("api:ana")
    assert ana is not None
    await store.update_customer(
        ana.id, attributes={"name": "Ana Lima 李安娜"}, tags=["vip"], now=300.0
    )
    await store.add_identity(ana.id, "email:ana.lima@example.com", now=301.0)
    await settle(index)
    for text in ("lima", "李安娜", "vip", "ana.lima@example.com", "ana"):
        hits = await index.search(parse_query(text), kind="customer", scope=None, limit=5)
        assert [h.customer_id for h in hits.items] == [ana.id], text
    scoped = await index.search(
        parse_query("lima"), kind="customer", scope=Scope(customers=frozenset({"cus_x"})), limit=5
    )
    assert list(scoped.items) == []
    # Messages and customers are searched apart.
    assert await found(index, "lima") == []


async def test_an_erasure_leaves_nothing_in_the_index(indexed, tmp_path: Path) -> None:
    store, index, conversations = indexed
    bo = await store.find_customer("api:bo")
    assert bo is not None
    await store.update_customer(bo.id, attributes={"name": "Zorblat Quuxington"}, now=300.0)
    await settle(index)
    assert await index.search(parse_query("zorblat"), kind="customer", scope=None, limit=5)
    before = _raw_bytes(store, tmp_path)
    assert b"zorblat" in before and "订单".encode() in before

    assert await store.erase_customer(bo.id, now=301.0)
    await index.forget_customer(bo.id, [conversations[1]])
    assert await found(index, "订单") == []
    assert await found(index, "退款") == [conversations[5]]
    hits = await index.search(parse_query("zorblat"), kind="customer", scope=None, limit=5)
    assert list(hits.items) == []
    raw = _raw_bytes(store, tmp_path)
    for secret in ("zorblat", "quuxington", "订单", "还没"):
        assert secret.encode() not in raw, secret
    assert "礼品".encode() in raw  # someone else's words stay searchable


async def test_data_written_before_search_existed_is_indexed_on_start(
    make_store: StoreFactory, tmp_path: Path
) -> None:
    store = make_store()
    await store.open()
    got = await store.record_inbound(
        Inbound(channel="api", sender="old", message_id="o1", text="旧的消息：退款"), now=50.0
    )
    if isinstance(store, SQLiteStore):
        await store.close()
        # The file as the previous release left it: no search tables, no triggers.
        db = sqlite3.connect(tmp_path / "contract.db")
        for (name,) in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'search_%'"
        ).fetchall():
            db.execute(f"DROP TRIGGER {name}")
        db.executescript(
            "DROP TABLE search_fts; DROP TABLE search_customer_fts;"
            " DROP TABLE search_docs; DROP TABLE search_meta;"
        )
        db.close()
        store = make_store()
        await store.open()
    index = beside(store).search()
    await index.start()  # Redis: the catch-up runs in the background
    try:
        query = parse_query("退款")

        async def hits() -> list[str]:
            page = await index.search(query, kind="conversation", scope=None, limit=5)
            return [h.conversation_id for h in page.items]

        for _ in range(500):
            if await hits():
                break
            await asyncio.sleep(0.02)
        assert await hits() == [got.conversation.id]
    finally:
        await index.stop()
        await store.close()


async def test_new_messages_are_indexed_as_they_are_appended(make_store: StoreFactory) -> None:
    """Through the listener the hub calls (Redis indexes behind a watermark)."""
    store = make_store()
    await store.open()
    index = beside(store).search()
    await index.start()
    try:
        got = await store.record_inbound(
            Inbound(channel="api", sender="new", message_id="n1", text="where is my gift card"),
            now=60.0,
        )
        index.on_events([got.event])
        query = parse_query("gift card")
        for _ in range(500):
            page = await index.search(query, kind="conversation", scope=None, limit=5)
            if page.items:
                break
            await asyncio.sleep(0.02)
        assert [h.conversation_id for h in page.items] == [got.conversation.id]
    finally:
        await index.stop()
        await store.close()


async def test_sqlite_puts_its_triggers_back_after_a_table_is_rebuilt(tmp_path: Path) -> None:
    """A schema migration that rebuilds `events` drops the triggers on it: the next open
    notices and indexes again, instead of silently indexing nothing."""
    store = SQLiteStore(tmp_path / "rebuilt.db")
    await store.open()
    await store.close()
    db = sqlite3.connect(tmp_path / "rebuilt.db")
    (table,) = db.execute("SELECT sql FROM sqlite_master WHERE name = 'events'").fetchone()
    db.executescript(
        f"{table.replace('events', 'events_new', 1)};"
        " INSERT INTO events_new SELECT * FROM events; DROP TABLE events;"
        " ALTER TABLE events_new RENAME TO events;"
        " CREATE UNIQUE INDEX events_by_seq ON events (conversation_id, seq);"
    )
    db.close()
    store = SQLiteStore(tmp_path / "rebuilt.db")
    await store.open()
    try:
        got = await store.record_inbound(
            Inbound(channel="api", sender="x", message_id="r1", text="重建之后的退款"), now=1.0
        )
        index = beside(store).search()
        hits = await index.search(parse_query("退款"), kind="conversation", scope=None, limit=5)
        assert [h.conversation_id for h in hits.items] == [got.conversation.id]
    finally:
        await store.close()


@pytest.mark.parametrize("language", ["en", "zh"])
async def test_every_page_of_a_many_word_search_in_time_order(
    make_store: StoreFactory, language: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Many documents hold one word, few hold all: the pages, one after the other, are
    exactly the documents holding every word, newest first, each once (phrases checked)."""
    words = {
        "en": ("card", "gift card", "gift shop", "gift card"),
        "zh": ("卡", "礼品卡", "礼品和卡片", "礼品卡"),
    }[language]
    one, both, apart, query_text = words
    store = make_store()
    await store.open()
    index = beside(store).search()
    expected = []
    try:
        for i in range(90):
            text = (both, one, one, apart, one)[i % 5] + f" {i}"
            got = await store.record_inbound(
                Inbound(channel="api", sender=f"c{i}", message_id=f"w{i}", text=text),
                now=1000.0 + i,
            )
            if i % 5 == 0:
                expected.append(got.conversation.id)
        await settle(index)
        query, seen, cursor = parse_query(query_text), [], None
        while True:
            page = await index.search(
                query, kind="conversation", scope=None, limit=4, cursor=cursor
            )
            seen += [h.conversation_id for h in page.items]
            if not (cursor := page.next_cursor):
                break
        assert seen == expected[::-1]
        some = Scope(conversations=frozenset(expected[:3]))
        hits = await index.search(query, kind="conversation", scope=some, limit=10)
        assert [h.conversation_id for h in hits.items] == expected[:3][::-1]
        # A scope too large to send to Redis is checked on each document read instead.
        monkeypatch.setattr(search_redis, "SCOPE_IN_REDIS", 2)
        hits = await index.search(query, kind="conversation", scope=some, limit=2)
        assert [h.conversation_id for h in hits.items] == expected[1:3][::-1]
        assert hits.next_cursor
    finally:
        await index.stop()
        await store.close()
