"""Decoded rows of the embedded store: one decode per row text, never a stale object."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from typing import Any

import pytest

from hub import jsonio
from hub.abc import TurnResult
from hub.model import Conversation, ConversationStatus, Inbound, Outbound
from hub.store_sqlite import SQLiteStore
from hub.store_sqlite_rows import DecodedRows
from tests.hub.conftest import TURN_TEXTS

TEXTS = TURN_TEXTS


@pytest.fixture
def store(sqlite_store: SQLiteStore) -> SQLiteStore:
    return sqlite_store


def test_one_text_is_decoded_once_and_another_text_afresh() -> None:
    decoded: list[dict[str, Any]] = []

    def decode(data: Mapping[str, Any]) -> dict[str, Any]:
        decoded.append(dict(data))
        return decoded[-1]

    rows = DecodedRows(decode, size=2)
    first = rows.decode("a", '{"n":1}')
    assert rows.decode("a", '{"n":1}') is first
    assert rows.decode("a", '{"n":2}') == {"n": 2}  # the row changed: decoded again
    rows.decode("b", '{"n":3}')
    rows.decode("c", '{"n":4}')  # over the size: the oldest row ("a") is dropped
    rows.decode("a", '{"n":2}')
    assert len(decoded) == 5
    rows.keep("d", '{"n":5}', {"n": 5})  # a write: its text is not decoded again
    assert rows.decode("d", '{"n":5}') == {"n": 5}
    assert len(decoded) == 5


@pytest.mark.parametrize("language", ["en", "zh"])
async def test_a_turn_decodes_its_conversation_once(store: SQLiteStore, language: str) -> None:
    question, answer = TEXTS[language]
    got = await store.record_inbound(
        Inbound(channel="api", sender="ana", message_id="m1", text=question), now=1.0
    )
    misses = store._conversations.misses
    context = await store.turn_context(got.conversation.id, limit=10)
    assert context is not None
    commit = await store.commit_turn(
        got.conversation.id,
        handled_seq=got.event.seq,
        result=TurnResult(replies=(Outbound(text=answer),), state={"step": question}),
        now=2.0,
        lease=30.0,
    )
    assert commit.lead is not None
    await store.delivery_succeeded(commit.lead, receipt={}, now=3.0)
    conversation = await store.get_conversation(got.conversation.id)
    assert conversation is not None
    assert store._conversations.misses == misses  # every read found what the last write kept
    assert dict(conversation.state) == {"step": question}
    assert conversation.last_seq == 4  # opened, message.in, message.out, delivered


@pytest.mark.parametrize("language", ["en", "zh"])
async def test_a_row_changed_by_another_writer_is_read_as_it_is_now(
    store: SQLiteStore, language: str
) -> None:
    question, _ = TEXTS[language]
    got = await store.record_inbound(
        Inbound(channel="api", sender="ana", message_id="m1", text=question), now=1.0
    )
    before = await store.get_conversation(got.conversation.id)
    assert before is not None and before.status is ConversationStatus.BOT
    # Another connection (a second process, a repair by hand) rewrites the row.
    changed = Conversation.from_json({**before.to_json(), "status": "queued", "priority": 1})
    other = sqlite3.connect(store.path, isolation_level=None)
    try:
        other.execute(
            "UPDATE conversations SET status = 'queued', data = ? WHERE id = ?",
            (jsonio.dumps(changed.to_json()), before.id),
        )
    finally:
        other.close()
    after = await store.get_conversation(got.conversation.id)
    assert after == changed


@pytest.mark.parametrize("language", ["en", "zh"])
async def test_only_the_changed_columns_are_written_and_they_stay_true(
    store: SQLiteStore, language: str
) -> None:
    question, answer = TEXTS[language]
    got = await store.record_inbound(
        Inbound(channel="api", sender="ana", message_id="m1", text=question), now=1.0
    )
    assert await store.pending_conversations() == [got.conversation.id]
    await store.commit_turn(
        got.conversation.id,
        handled_seq=got.event.seq,
        result=TurnResult(replies=(Outbound(text=answer),), status=ConversationStatus.QUEUED),
        now=2.0,
        lease=30.0,
    )
    # The columns the queries read (status, the pending mark) follow the record.
    assert await store.pending_conversations() == []
    queued = await store.list_conversations(limit=10, status=ConversationStatus.QUEUED)
    assert [c.id for c in queued.items] == [got.conversation.id]
    again = await store.record_inbound(
        Inbound(channel="api", sender="ana", message_id="m2", text=question), now=3.0
    )
    assert again.conversation.id == got.conversation.id
    assert await store.pending_conversations() == [got.conversation.id]
    bot = await store.list_conversations(limit=10, status=ConversationStatus.BOT)
    assert bot.items == []


@pytest.mark.parametrize("language", ["en", "zh"])
async def test_an_erasure_keeps_no_decoded_row_in_memory(store: SQLiteStore, language: str) -> None:
    question, _ = TEXTS[language]
    got = await store.record_inbound(
        Inbound(channel="api", sender="ana", message_id="m1", text=question), now=1.0
    )
    assert await store.erase_customer(got.customer.id, now=2.0)
    assert store._conversations._rows == {}
    assert store._customers._rows == {}
    conversation = await store.get_conversation(got.conversation.id)
    assert conversation is not None and conversation.address != "ana"


@pytest.mark.parametrize("language", ["en", "zh"])
async def test_a_turn_decodes_only_the_messages_it_answers(
    store: SQLiteStore, language: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    question, answer = TEXTS[language]
    first = await store.record_inbound(
        Inbound(channel="api", sender="ana", message_id="m1", text=question), now=1.0
    )
    commit = await store.commit_turn(
        first.conversation.id,
        handled_seq=first.event.seq,
        result=TurnResult(replies=(Outbound(text=answer),)),
        now=2.0,
        lease=30.0,
    )
    assert commit.lead is not None
    await store.delivery_succeeded(commit.lead, receipt={"status": 200}, now=3.0)
    second = await store.record_inbound(
        Inbound(channel="api", sender="ana", message_id="m2", text=question), now=4.0
    )
    decoded: list[str] = []
    stored = jsonio.stored  # how the store reads back what it wrote

    def counting_loads(text: str | bytes) -> Any:
        decoded.append(str(text))
        return stored(text)

    monkeypatch.setattr(jsonio, "stored", counting_loads)
    context = await store.turn_context(second.conversation.id, limit=10)
    assert context is not None
    _, events, _ = context
    # The reply and its receipt since the last turn, then the message to answer: only
    # that message is decoded now.
    assert [e.type for e in events] == ["message.out", "delivery.delivered", "message.in"]
    assert len(decoded) == 1 and question in decoded[0]
    assert events[-1].data["text"] == question
    # The others read as they are stored, when asked.
    logged = await store.events(second.conversation.id, after_seq=events[0].seq - 1)
    assert [dict(e.data) for e in events] == [dict(e.data) for e in logged]
    assert events == logged
    assert events[0].data["outbound"]["text"] == answer


@pytest.mark.parametrize("language", ["en", "zh"])
async def test_a_known_customer_is_read_in_one_statement(store: SQLiteStore, language: str) -> None:
    question, _ = TEXTS[language]
    first = await store.record_inbound(
        Inbound(channel="api", sender="ana", message_id="m1", text=question), now=1.0
    )
    statements: list[str] = []
    store.db.set_trace_callback(statements.append)
    try:
        again = await store.record_inbound(
            Inbound(channel="api", sender="ana", message_id="m2", text=question), now=2.0
        )
    finally:
        store.db.set_trace_callback(None)
    assert again.customer == first.customer
    reads = [s for s in statements if "identities" in s or "customers" in s]
    assert len(reads) == 1
