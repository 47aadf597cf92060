"""Group commit on the embedded store: concurrent writes share one transaction, each is
answered only once that transaction committed, and one that fails is rolled back alone."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from hub.abc import TurnResult
from hub.errors import LeaseLost
from hub.model import EventType, Inbound, Outbound
from hub.search_text import parse_query
from hub.store_sqlite import SQLiteStore
from hub.stores import beside
from tests.hub.conftest import TURN_TEXTS

TEXTS = TURN_TEXTS


@pytest.fixture
def store(sqlite_store: SQLiteStore) -> SQLiteStore:
    return sqlite_store


def committed_rows(path: Path, table: str) -> int:
    """Rows another connection sees: what is committed, not what is in a transaction."""
    db = sqlite3.connect(path)
    try:
        return int(db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
    finally:
        db.close()


@pytest.mark.parametrize("language", ["en", "zh"])
async def test_concurrent_writes_share_one_transaction(store: SQLiteStore, language: str) -> None:
    question, _ = TEXTS[language]
    batches, writes = store._group.batches, store._group.writes
    got = await asyncio.gather(
        *(
            store.record_inbound(
                Inbound(channel="api", sender=f"s{i}", message_id=f"m{i}", text=question),
                now=1.0,
            )
            for i in range(20)
        )
    )
    assert len({g.conversation.id for g in got}) == 20
    assert store._group.writes - writes == 20
    assert store._group.batches - batches == 1
    # Answered means committed: another connection sees every message.
    assert committed_rows(store.path, "dedupe") == 20


@pytest.mark.parametrize("language", ["en", "zh"])
async def test_a_write_that_fails_is_rolled_back_alone(store: SQLiteStore, language: str) -> None:
    question, answer = TEXTS[language]
    first = await store.record_inbound(
        Inbound(channel="api", sender="ana", message_id="m1", text=question), now=1.0
    )
    conversation_id = first.conversation.id
    async with (
        store.conversation_lock(conversation_id) as stale,
        store.conversation_lock("other") as fresh,
    ):
        pass
    # The fresher lease commits first, so the stale one is refused; both are in one batch
    # with a message of another customer, which must commit regardless.
    await store.commit_turn(
        conversation_id,
        handled_seq=first.event.seq,
        result=TurnResult(),
        now=2.0,
        lease=30.0,
        fence=fresh.fence,
    )
    outcomes = await asyncio.gather(
        store.commit_turn(
            conversation_id,
            handled_seq=first.event.seq,
            result=TurnResult(replies=(Outbound(text=answer),)),
            now=3.0,
            lease=30.0,
            fence=stale.fence,
        ),
        store.record_inbound(
            Inbound(channel="api", sender="bo", message_id="m2", text=question), now=3.0
        ),
        return_exceptions=True,
    )
    assert isinstance(outcomes[0], LeaseLost)
    assert not isinstance(outcomes[1], BaseException)
    events = await store.events(conversation_id)
    assert [e.type for e in events] == [EventType.OPENED, EventType.MESSAGE_IN]
    assert committed_rows(store.path, "outbox") == 0
    assert await store.get_conversation(outcomes[1].conversation.id) is not None


@pytest.mark.parametrize("language", ["en", "zh"])
async def test_a_batch_whose_commit_fails_acknowledges_none(
    store: SQLiteStore, tmp_path: Path, language: str
) -> None:
    question, _ = TEXTS[language]
    # Another connection holds the write lock: BEGIN IMMEDIATE cannot start, and every
    # write of the batch must fail rather than be answered.
    store.db.execute("PRAGMA busy_timeout=50")
    blocker = sqlite3.connect(store.path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        outcomes = await asyncio.gather(
            *(
                store.record_inbound(
                    Inbound(channel="api", sender=f"s{i}", message_id=f"m{i}", text=question),
                    now=1.0,
                )
                for i in range(3)
            ),
            return_exceptions=True,
        )
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert all(isinstance(o, sqlite3.OperationalError) for o in outcomes)
    assert committed_rows(store.path, "dedupe") == 0
    # The store goes on: the same messages are accepted once the file is free again.
    again = await store.record_inbound(
        Inbound(channel="api", sender="s0", message_id="m0", text=question), now=2.0
    )
    assert not again.duplicate


@pytest.mark.parametrize("language", ["en", "zh"])
async def test_a_write_cancelled_while_queued_is_not_made(
    store: SQLiteStore, language: str
) -> None:
    question, _ = TEXTS[language]
    message = Inbound(channel="api", sender="ana", message_id="m1", text=question)
    task = asyncio.create_task(store.record_inbound(message, now=1.0))
    await asyncio.sleep(0)  # the write is queued, its batch not yet run
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.sleep(0)  # the batch's turn has come and gone
    assert committed_rows(store.path, "dedupe") == 0
    again = await store.record_inbound(message, now=2.0)
    assert not again.duplicate


@pytest.mark.parametrize("language", ["en", "zh"])
async def test_a_batch_that_succeeds_runs_without_savepoints_and_indexes_every_message(
    store: SQLiteStore, language: str
) -> None:
    # FTS5 writes a segment of its index at every savepoint: a batch of writes that all
    # succeed must not pay for one per write, and every message must still be searchable.
    question, _ = TEXTS[language]
    statements: list[str] = []
    store.db.set_trace_callback(statements.append)
    got = await asyncio.gather(
        *(
            store.record_inbound(
                Inbound(channel="api", sender=f"s{i}", message_id=f"m{i}", text=f"{question} {i}"),
                now=1.0,
            )
            for i in range(5)
        )
    )
    store.db.set_trace_callback(None)
    assert not [s for s in statements if s.startswith("SAVEPOINT")]
    index = beside(store).search()
    for word in (question, "3"):
        found = await index.search(parse_query(word), kind="conversation", scope=None, limit=10)
        expected = 5 if word == question else 1
        assert len(found.items) == expected, word
    assert {hit.conversation_id for hit in found.items} == {got[3].conversation.id}


@pytest.mark.parametrize("language", ["en", "zh"])
async def test_a_failing_write_makes_its_batch_run_again_with_savepoints(
    store: SQLiteStore, language: str
) -> None:
    question, answer = TEXTS[language]
    first = await store.record_inbound(
        Inbound(channel="api", sender="ana", message_id="m1", text=question), now=1.0
    )
    statements: list[str] = []
    store.db.set_trace_callback(statements.append)
    outcomes = await asyncio.gather(
        store.record_inbound(
            Inbound(channel="api", sender="bo", message_id="m2", text=question), now=2.0
        ),
        store.commit_turn(  # no such conversation: this write raises
            "con_missing", handled_seq=1, result=TurnResult(), now=2.0, lease=30.0
        ),
        store.commit_turn(
            first.conversation.id,
            handled_seq=first.event.seq,
            result=TurnResult(replies=(Outbound(text=answer),)),
            now=2.0,
            lease=30.0,
        ),
        return_exceptions=True,
    )
    store.db.set_trace_callback(None)
    assert isinstance(outcomes[1], KeyError)
    assert not isinstance(outcomes[0], BaseException)
    assert not isinstance(outcomes[2], BaseException)
    assert len([s for s in statements if s.startswith("SAVEPOINT")]) == 3
    assert statements.count("ROLLBACK") == 1  # the first attempt, and nothing after it
    # The two good writes are there exactly once, not twice (the batch ran again).
    events = await store.events(first.conversation.id)
    assert [e.type for e in events] == [
        EventType.OPENED,
        EventType.MESSAGE_IN,
        EventType.MESSAGE_OUT,
    ]
    assert committed_rows(store.path, "outbox") == 1
    assert committed_rows(store.path, "dedupe") == 2
