"""The SQLite search index is written off the turn: a message's write does nothing for it, the
indexer follows the log and makes the message searchable a moment later (or a search, before it runs), a restart indexes
what was left, and an erasure before the indexer ran leaves nothing to find."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from hub import jsonio, search_sqlite_indexer, search_text
from hub.memo import TextMemo
from hub.model import Inbound
from hub.search_sqlite import SQLiteSearch
from hub.search_text import event_body, parse_query
from hub.store_sqlite import SQLiteStore
from tests.cancels import BOUND, SwallowsFirstCancel, stops
from tests.hub.test_search_sqlite_triggers import count_body_calls

TEXTS = {"en": ("where is my gift card", "gift"), "zh": ("我的礼品卡在哪里", "礼品卡")}


def indexed(store: SQLiteStore) -> int:
    (count,) = store.db.execute(
        "SELECT count(*) FROM search_docs WHERE kind = 'message'"
    ).fetchone()
    return int(count)


def pending(store: SQLiteStore) -> int:
    """Events waiting to be indexed: noted after an edit, or past the indexed mark."""
    (count,) = store.db.execute(
        "SELECT count(*) FROM (SELECT event_id FROM search_pending UNION SELECT id FROM events"
        f" WHERE id > ? AND type IN ({search_sqlite_indexer.INDEXED_TYPES_SQL}))",
        (search_sqlite_indexer.indexed_through(store.db),),
    ).fetchone()
    return int(count)


async def until_indexed(store: SQLiteStore, count: int) -> None:
    """Wait for the running indexer (no search, which would index first itself)."""
    for _ in range(1000):
        if indexed(store) >= count:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"{indexed(store)} of {count} messages indexed")


async def say(store: SQLiteStore, sender: str, text: str, n: int = 1) -> str:
    got = await store.record_inbound(
        Inbound(channel="api", sender=sender, message_id=f"{sender}-{n}", text=text), now=10.0 + n
    )
    return got.conversation.id


@pytest.mark.parametrize("language", ["en", "zh"])
async def test_a_message_is_indexed_after_its_write(
    sqlite_store: SQLiteStore, language: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    text, word = TEXTS[language]
    bodies = count_body_calls(monkeypatch)
    search = SQLiteSearch(sqlite_store)
    await search.start()
    try:
        got = await sqlite_store.record_inbound(
            Inbound(channel="api", sender="ana", message_id="m1", text=text), now=1.0
        )
        # The write committed the message, and nothing of the index.
        assert (indexed(sqlite_store), pending(sqlite_store), bodies[0]) == (0, 1, 0)
        search.on_events([got.event])  # as the hub's listener does after the write
        await until_indexed(sqlite_store, 1)
        assert pending(sqlite_store) == 0 and bodies[0] == 1
        hits = await search.search(parse_query(word), kind="conversation", scope=None, limit=5)
        assert [h.conversation_id for h in hits.items] == [got.conversation.id]
    finally:
        await search.stop()


@pytest.mark.parametrize("language", ["en", "zh"])
async def test_a_search_finds_every_message_stored_before_it(
    sqlite_store: SQLiteStore, language: str
) -> None:
    text, word = TEXTS[language]
    conversations = [await say(sqlite_store, f"c{i}", f"{text} {i}") for i in range(5)]
    search = SQLiteSearch(sqlite_store)  # not started: the search itself indexes first
    search.indexer.batch = 2  # several batches
    hits = await search.search(parse_query(word), kind="conversation", scope=None, limit=10)
    assert [h.conversation_id for h in hits.items] == conversations[::-1]
    assert (indexed(sqlite_store), pending(sqlite_store)) == (5, 0)


@pytest.mark.parametrize("language", ["en", "zh"])
async def test_a_restart_indexes_what_the_previous_run_left(tmp_path: Path, language: str) -> None:
    text, _ = TEXTS[language]
    store = SQLiteStore(tmp_path / "frontdesk.db")
    await store.open()
    for i in range(3):
        await say(store, f"c{i}", text)
    await store.close()  # as a crash would: notes written, nothing indexed

    store = SQLiteStore(tmp_path / "frontdesk.db")
    await store.open()
    search = SQLiteSearch(store)
    try:
        assert (indexed(store), pending(store)) == (0, 3)
        await search.start()
        await until_indexed(store, 3)
        assert pending(store) == 0
    finally:
        await search.stop()
        await store.close()


@pytest.mark.parametrize("language", ["en", "zh"])
async def test_an_erasure_before_the_indexer_ran_leaves_nothing_to_find(
    sqlite_store: SQLiteStore, language: str, tmp_path: Path
) -> None:
    text, word = TEXTS[language]
    await say(sqlite_store, "bo", text)
    other = await say(sqlite_store, "eve", text)
    bo = await sqlite_store.find_customer("api:bo")
    assert bo is not None and indexed(sqlite_store) == 0
    assert await sqlite_store.erase_customer(bo.id, now=50.0)
    search = SQLiteSearch(sqlite_store)
    hits = await search.search(parse_query(word), kind="conversation", scope=None, limit=10)
    assert [h.conversation_id for h in hits.items] == [other]
    assert (indexed(sqlite_store), pending(sqlite_store)) == (1, 0)


EDITS = {
    "en": ("where is my gift card", "voucher code please", "gift", "voucher"),
    "zh": ("我的礼品卡在哪里", "请给我优惠码", "礼品卡", "优惠码"),
}


def edit(store: SQLiteStore, conversation_id: str, text: str) -> None:
    """The conversation's message changed in place, as an erasure changes it."""
    with store._transaction() as db:
        (seq, data) = db.execute(
            "SELECT seq, data FROM events WHERE conversation_id = ? AND type = 'message.in'",
            (conversation_id,),
        ).fetchone()
        changed = {**jsonio.stored(data), "text": text}
        db.execute(
            "UPDATE events SET data = ? WHERE conversation_id = ? AND seq = ?",
            (jsonio.dumps(changed), conversation_id, seq),
        )


async def conversations_found(store: SQLiteStore, word: str) -> list[str]:
    hits = await SQLiteSearch(store).search(
        parse_query(word), kind="conversation", scope=None, limit=10
    )
    return [h.conversation_id for h in hits.items]


@pytest.mark.parametrize("language", ["en", "zh"])
async def test_a_message_edited_before_and_after_it_was_indexed_is_found_by_its_new_text_once(
    sqlite_store: SQLiteStore, language: str
) -> None:
    old, new, old_word, new_word = EDITS[language]
    early = await say(sqlite_store, "early", old)  # indexed, then edited
    assert await conversations_found(sqlite_store, old_word) == [early]
    late = await say(sqlite_store, "late", old)  # edited before the indexer reached it
    edit(sqlite_store, early, new)
    edit(sqlite_store, late, new)
    assert pending(sqlite_store) == 2
    assert await conversations_found(sqlite_store, old_word) == []
    assert await conversations_found(sqlite_store, new_word) == [late, early]
    assert (indexed(sqlite_store), pending(sqlite_store)) == (2, 0)


@pytest.mark.parametrize("language", ["en", "zh"])
async def test_the_mark_follows_the_log_past_events_that_are_not_indexed(
    sqlite_store: SQLiteStore, language: str
) -> None:
    """Turn records and receipts are not indexed: once every message is, the indexer has
    nothing left to look at, however many of them the log ends with."""
    text, word = TEXTS[language]
    conversation_id = await say(sqlite_store, "ana", text)
    indexer = SQLiteSearch(sqlite_store).indexer
    await sqlite_store._write(
        lambda db: db.executemany(
            "INSERT INTO events (conversation_id, seq, type, at, data) VALUES (?, ?, ?, 1.0, '{}')",
            [(conversation_id, seq, "bot.turn") for seq in range(10, 15)],
        )
    )
    assert indexer.pending()
    await indexer.catch_up()
    assert not indexer.pending()
    (last,) = sqlite_store.db.execute("SELECT max(id) FROM events").fetchone()
    assert search_sqlite_indexer.indexed_through(sqlite_store.db) == last
    assert await conversations_found(sqlite_store, word) == [conversation_id]


@pytest.mark.parametrize("language", ["en", "zh"])
async def test_an_id_is_never_given_twice_so_no_message_is_skipped(
    sqlite_store: SQLiteStore, language: str
) -> None:
    """The newest event deleted after it was indexed: the next message must not get its id,
    which the mark has already passed."""
    text, word = TEXTS[language]
    first = await say(sqlite_store, "ana", text)
    assert await conversations_found(sqlite_store, word) == [first]
    await sqlite_store._write(
        lambda db: db.execute("DELETE FROM events WHERE conversation_id = ?", (first,))
    )
    second = await say(sqlite_store, "bo", text)
    assert await conversations_found(sqlite_store, word) == [second]


# One index batch is one synchronous write on the event loop: no batch may take more notes
# than this (at ≈ 50 µs a note, ≈ 3 ms), whatever the backlog.
MOST_NOTES_PER_WRITE = 64


@pytest.mark.parametrize("language", ["en", "zh"])
async def test_a_backlog_is_indexed_in_short_writes(
    sqlite_store: SQLiteStore, language: str
) -> None:
    text, word = TEXTS[language]
    backlog = 2 * MOST_NOTES_PER_WRITE + 2
    for i in range(backlog):
        await say(sqlite_store, f"c{i}", f"{text} {i}")
    indexer = SQLiteSearch(sqlite_store).indexer  # not started: caught up by hand
    indexer.budget = float("inf")  # notes counted, not time: the budget has a test of its own
    batches = sqlite_store._group.batches
    assert await indexer.catch_up() == backlog
    assert sqlite_store._group.batches - batches == 3  # 64 + 64 + 2 notes
    assert (indexed(sqlite_store), pending(sqlite_store)) == (backlog, 0)
    hits = await SQLiteSearch(sqlite_store).search(
        parse_query(word), kind="conversation", scope=None, limit=backlog + 1
    )
    assert len(hits.items) == backlog


@pytest.mark.parametrize("language", ["en", "zh"])
async def test_a_turn_written_during_a_backlog_waits_for_one_batch_only(
    sqlite_store: SQLiteStore, language: str
) -> None:
    """The loop is free between two batches: a write asked for while the indexer works
    through a backlog commits with the first batch, not after the whole backlog."""
    text, _ = TEXTS[language]
    backlog = 2 * MOST_NOTES_PER_WRITE + 2
    for i in range(backlog):
        await say(sqlite_store, f"c{i}", f"{text} {i}")
    indexer = SQLiteSearch(sqlite_store).indexer
    indexer.budget = float("inf")
    catching_up = asyncio.create_task(indexer.catch_up())
    await asyncio.sleep(0)  # the indexer's first batch is queued
    await say(sqlite_store, "late", text)  # a customer's message, during the backlog
    assert indexed(sqlite_store) == MOST_NOTES_PER_WRITE  # committed with the first batch
    assert await catching_up == backlog + 1
    assert pending(sqlite_store) == 0


@pytest.mark.parametrize("language", ["en", "zh"])
async def test_a_batch_stops_taking_notes_once_its_tokenizing_budget_is_spent(
    sqlite_store: SQLiteStore, language: str
) -> None:
    """Long texts (which the memo does not keep) make a batch slow: it stops taking notes
    after `budget` seconds and leaves the rest, oldest first, for the next one."""
    text, word = TEXTS[language]
    conversations = [await say(sqlite_store, f"c{i}", f"{text} {i}") for i in range(5)]
    ticks = iter(range(100))  # a clock that moves one second at each reading

    def clock() -> float:
        return float(next(ticks))

    taken = await sqlite_store._write(
        lambda db: search_sqlite_indexer.index_pending(db, budget=2.5, clock=clock)
    )
    assert taken == 3  # read at 0 (deadline 2.5), then 1, 2, 3: past it after the third
    assert (indexed(sqlite_store), pending(sqlite_store)) == (3, 2)
    found = sqlite_store.db.execute(
        "SELECT conversation_id FROM search_docs WHERE kind = 'message'"
    ).fetchall()
    assert sorted(c for (c,) in found) == sorted(conversations[:3])
    hits = await SQLiteSearch(sqlite_store).search(
        parse_query(word), kind="conversation", scope=None, limit=10
    )
    assert len(hits.items) == 5 and pending(sqlite_store) == 0


def test_a_repeated_text_is_tokenized_once_with_the_same_body(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Bot answers repeat: their tokens come from the memo, the very body computing gives,
    also once the memo has turned over."""
    small = TextMemo(
        search_sqlite_indexer._body, longest=search_sqlite_indexer.MEMO_TEXT_CHARS, size=3
    )
    monkeypatch.setattr(search_sqlite_indexer, "_bodies", small)
    calls = [0]
    real = search_text.tokens

    def counting(text: str) -> list[str]:
        calls[0] += 1
        return real(text)

    monkeypatch.setattr(search_sqlite_indexer, "tokens", counting)
    texts = [*(t for t, _ in TEXTS.values()), "Our opening hours are 9–17", "營業時間是幾點"]
    for text in texts * 3:
        data = jsonio.dumps({"text": text})
        assert search_sqlite_indexer.row_body("message.in", data) == event_body(
            "message.in", {"text": text}
        )
    assert calls[0] == len(texts) * 3  # a memo of 3 turned over by 4 texts in a cycle
    calls[0] = 0
    for _ in range(3):
        search_sqlite_indexer.row_body("message.in", jsonio.dumps({"text": texts[0]}))
    assert calls[0] == 1  # then kept
    long = "退款 refund " * 100
    kept = search_sqlite_indexer._bodies.cache_info().currsize
    assert search_sqlite_indexer.text_body(long) == event_body("message.in", {"text": long})
    assert search_sqlite_indexer._bodies.cache_info().currsize == kept  # not kept


async def test_an_indexer_that_swallows_the_cancel_still_stops(
    sqlite_store: SQLiteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cancel turned into an error or swallowed within a batch must not keep the indexer,
    and the store's shutdown, going: it stops on a flag too (as `hub.periodic`)."""
    search = SQLiteSearch(sqlite_store)
    batch = SwallowsFirstCancel()  # a batch that does not end
    monkeypatch.setattr(search.indexer, "catch_up", batch)
    await search.start()  # the start's first round: what a previous run left pending
    await asyncio.wait_for(batch.busy.wait(), BOUND)
    task = search.indexer._task
    assert task is not None
    await stops(search.stop(), "the SQLite search indexer's stop()")
    assert task.done() and batch.rounds == 1
