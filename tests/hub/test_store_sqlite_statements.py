"""The statements of an `api` turn on the embedded store: each read the turn needs is made
once, the ones that look up the same rows together (`docs/performance.md`, seventh round)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from hub import store_sqlite
from hub.abc import TurnResult
from hub.model import EventType, Inbound, Outbound
from hub.ports import Ingested, TurnCommit
from hub.store_sqlite import SQLiteStore
from tests.hub.conftest import TURN_TEXTS


@pytest.fixture
def store(sqlite_store: SQLiteStore) -> SQLiteStore:
    return sqlite_store


@pytest.fixture(params=["en", "zh"])
def texts(request: pytest.FixtureRequest) -> tuple[str, str]:
    """A customer's question and the bot's answer, in English and in Chinese."""
    question, answer = TURN_TEXTS[request.param]
    return question, answer


@pytest.fixture
async def got(store: SQLiteStore, texts: tuple[str, str]) -> Ingested:
    """The question, stored: the conversation's first message."""
    return await store.record_inbound(message(texts[0], "m1"), now=1.0)


@contextmanager
def traced(store: SQLiteStore) -> Iterator[list[str]]:
    """The statements run inside the block; a trigger's statements are reported with the
    text of the one that fired them, so repeats in a row count once."""
    seen: list[str] = []
    store.db.set_trace_callback(seen.append)
    try:
        yield seen
    finally:
        store.db.set_trace_callback(None)
    seen[:] = [s for i, s in enumerate(seen) if i == 0 or seen[i - 1] != s]


def reads(statements: list[str], *tables: str) -> list[str]:
    return [s for s in statements if s.startswith("SELECT") and any(t in s for t in tables)]


def message(text: str, message_id: str) -> Inbound:
    return Inbound(channel="api", sender="ana", message_id=message_id, text=text)


async def reply_to(store: SQLiteStore, got: Ingested, *texts: str, now: float) -> TurnCommit:
    """Commit a turn that answers `got` with `texts`, leasing its first reply for 30 s."""
    return await store.commit_turn(
        got.conversation.id,
        handled_seq=got.event.seq,
        result=TurnResult(replies=tuple(Outbound(text=text) for text in texts)),
        now=now,
        lease=30.0,
    )


async def test_a_message_is_checked_and_its_sender_found_in_one_statement(
    store: SQLiteStore, texts: tuple[str, str], got: Ingested
) -> None:
    question, _ = texts
    with traced(store) as statements:
        again = await store.record_inbound(message(question, "m2"), now=2.0)
        repeated = await store.record_inbound(message(question, "m2"), now=3.0)
    assert again.customer == got.customer and not again.duplicate
    assert repeated.duplicate and repeated.event == again.event
    assert repeated.event.data["text"] == question
    # One read of the dedupe key and the customer per message, the duplicate's included.
    assert len(reads(statements, "dedupe", "identities")) == 2


async def test_a_commit_reads_its_conversation_and_its_waiting_replies_in_one_statement(
    store: SQLiteStore, texts: tuple[str, str], got: Ingested
) -> None:
    question, answer = texts
    with traced(store) as statements:
        first = await reply_to(store, got, answer, now=2.0)
    assert len(reads(statements, "conversations", "outbox")) == 1
    # The first reply still waits: the next turn's reply queues behind it, not leased.
    again = await store.record_inbound(message(question, "m2"), now=3.0)
    second = await reply_to(store, again, answer, now=4.0)
    assert first.lead is not None and first.lead.outbound.text == answer
    assert second.lead is None


async def test_a_receipt_reads_its_conversation_and_the_next_reply_in_one_statement(
    store: SQLiteStore, texts: tuple[str, str], got: Ingested
) -> None:
    question, answer = texts
    commit = await reply_to(store, got, answer, question, now=2.0)
    assert commit.lead is not None
    with traced(store) as statements:
        following = await store.delivery_succeeded(
            commit.lead, receipt={"status": 200}, now=3.0, lease=30.0
        )
        assert following is not None and following.outbound.text == question
        last = await store.delivery_succeeded(following, receipt={}, now=4.0, lease=30.0)
    assert last is None
    assert len(reads(statements, "conversations", "outbox")) == 2  # one per receipt
    events = await store.events(got.conversation.id, after_seq=commit.events[-1].seq)
    assert [e.type for e in events] == [EventType.DELIVERED, EventType.DELIVERED]
    assert events[0].data["receipt"] == {"status": 200}


async def test_a_replys_outbox_entry_is_made_once_at_its_seq(
    store: SQLiteStore, texts: tuple[str, str], got: Ingested, monkeypatch: pytest.MonkeyPatch
) -> None:
    question, answer = texts
    copied: list[str] = []
    copy = dataclasses.replace

    def counting(obj: Any, /, **changes: Any) -> Any:
        copied.append(type(obj).__name__)
        return copy(obj, **changes)

    monkeypatch.setattr(store_sqlite, "replace", counting)
    commit = await reply_to(store, got, answer, question, now=2.0)
    assert copied == ["Conversation"]  # the conversation's one copy; no entry copied
    first, second = commit.deliveries
    assert [first.seq, second.seq] == [e.seq for e in commit.events]
    assert commit.lead == first and first.next_attempt_at == 32.0  # leased to the caller
    assert second.next_attempt_at == 2.0  # due at once, behind the first
    assert [d.outbound.text for d in commit.deliveries] == [answer, question]


async def test_a_turns_context_reads_its_conversation_and_customer_in_one_statement(
    store: SQLiteStore, texts: tuple[str, str], got: Ingested
) -> None:
    question, _ = texts
    with traced(store) as statements:
        context = await store.turn_context(got.conversation.id, limit=10)
    assert context is not None
    conversation, events, customer = context
    assert conversation == got.conversation and customer == got.customer
    assert events[-1].data["text"] == question
    assert len(reads(statements, "conversations", "customers")) == 1
    assert await store.turn_context("con_missing", limit=10) is None
