"""The embedded store's turn lease taken with the message (`hub.store_sqlite_leases`): the
turn runner adopts the lock and the context the message's write left, without a read;
only when nothing wrote the conversation in between, only for a message alone, and a lease
nobody adopts is let go. In English and Chinese."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from hub.abc import ConversationHandler, Turn, TurnResult
from hub.hub import TURN_BATCH, Hub
from hub.model import EventType, Inbound, NewEvent, Outbound
from hub.ports.leases import TurnContext
from hub.store_sqlite import SQLiteStore
from tests.support import RecordingConnector, channel_links

GUARD = 10.0  # seconds a wait may take before the test gives up (never reached when green)
TEXTS = [("Where is my order?", "It left today."), ("我的订单在哪里？", "今天已发出。")]


def message(text: str, message_id: str, *, sender: str = "ana") -> Inbound:
    return Inbound(channel="api", sender=sender, message_id=message_id, text=text)


def no_reads(store: SQLiteStore, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every turn-context read from now on (the adopted lease needs none)."""
    reads: list[str] = []
    real = store.turn_context

    async def counted(conversation_id: str, *, limit: int) -> TurnContext:
        reads.append(conversation_id)
        return await real(conversation_id, limit=limit)

    monkeypatch.setattr(store, "turn_context", counted)
    return reads


def messages(context: TurnContext) -> list[tuple[int, str]]:
    assert context is not None
    return [
        (e.seq, Inbound.from_json(e.data).text)
        for e in context[1]
        if e.type == EventType.MESSAGE_IN
    ]


async def answer(store: SQLiteStore, context: TurnContext, text: str, fence: int) -> None:
    assert context is not None
    conversation, events, _ = context
    await store.commit_turn(
        conversation.id,
        handled_seq=events[-1].seq,
        result=TurnResult(replies=(Outbound(text=text),)),
        now=5.0,
        lease=30,
        known=conversation,
        fence=fence,
    )


@pytest.mark.parametrize(("question", "reply"), TEXTS)
async def test_the_runner_adopts_the_lease_and_context_of_the_message(
    sqlite_store: SQLiteStore, monkeypatch: pytest.MonkeyPatch, question: str, reply: str
) -> None:
    reads = no_reads(sqlite_store, monkeypatch)
    for turn, message_id in enumerate(("m1", "m2")):  # a new conversation, then a reply to it
        got = await sqlite_store.record_inbound_and_lease(
            message(question, message_id), now=1.0 + turn, limit=TURN_BATCH
        )
        conversation_id = got.conversation.id
        order: list[str] = []

        async def other_holder(key: str = conversation_id, order: list[str] = order) -> None:
            async with sqlite_store.conversation_lock(key):
                order.append("other")

        waiting = asyncio.create_task(other_holder())  # waits for the adopted lease
        await asyncio.sleep(0.05)
        async with sqlite_store.turn_lease(conversation_id, limit=TURN_BATCH) as (
            lease,
            context,
        ):
            order.append("turn")
            assert context is not None
            assert context[0] == got.conversation and context[2] == got.customer
            adopted = messages(context)
            # What the read would have answered (its other events are the last reply).
            assert adopted == messages(
                await SQLiteStore.turn_context(sqlite_store, conversation_id, limit=TURN_BATCH)
            )
            assert adopted == [(got.event.seq, question)]
            await answer(sqlite_store, context, reply, lease.fence)
        await asyncio.wait_for(waiting, GUARD)
        assert order == ["turn", "other"]
    assert reads == [] and sqlite_store._adopted.adopted == 2


async def test_a_write_between_the_message_and_the_runner_leaves_it_to_read(
    sqlite_store: SQLiteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = await sqlite_store.record_inbound(message("hello", "m1"), now=1.0)
    conversation_id = first.conversation.id
    async with sqlite_store.turn_lease(conversation_id, limit=TURN_BATCH) as (lease, context):
        await answer(sqlite_store, context, "hi", lease.fence)
    reads = no_reads(sqlite_store, monkeypatch)
    # The message and a note of the agent's, written in one batch, the note after it.
    got, _ = await asyncio.gather(
        sqlite_store.record_inbound_and_lease(message("你好", "m2"), now=2.0, limit=TURN_BATCH),
        sqlite_store.append_events(
            conversation_id, [NewEvent(type="agent.note", data={"text": "VIP"})], now=2.0
        ),
    )
    async with sqlite_store.turn_lease(conversation_id, limit=TURN_BATCH) as (_, context):
        assert context is not None
        assert context[0].last_seq == got.event.seq + 1  # the note is in what it read
        assert messages(context) == [(got.event.seq, "你好")]
    assert reads == [conversation_id] and sqlite_store._adopted.adopted == 0


async def test_a_message_behind_another_unanswered_one_is_read_with_it(
    sqlite_store: SQLiteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = await sqlite_store.record_inbound(message("Where is my order?", "m1"), now=1.0)
    second = await sqlite_store.record_inbound_and_lease(
        message("我的订单在哪里？", "m2"), now=2.0, limit=TURN_BATCH
    )
    reads = no_reads(sqlite_store, monkeypatch)
    async with sqlite_store.turn_lease(first.conversation.id, limit=TURN_BATCH) as (_, context):
        assert messages(context) == [
            (first.event.seq, "Where is my order?"),
            (second.event.seq, "我的订单在哪里？"),
        ]
    assert reads == [first.conversation.id]


async def test_a_lease_nobody_adopts_is_let_go(
    sqlite_store: SQLiteStore, caplog: pytest.LogCaptureFixture
) -> None:
    sqlite_store._adopted.adopt_within = 0.05
    got = await sqlite_store.record_inbound_and_lease(
        message("Is anyone there?", "m1"), now=1.0, limit=TURN_BATCH
    )
    with caplog.at_level(logging.WARNING, logger="frontdesk.store.sqlite"):

        async def lock() -> None:
            async with sqlite_store.conversation_lock(got.conversation.id):
                pass

        await asyncio.wait_for(lock(), GUARD)  # only once the offered lease was let go
    assert "never adopted" in caplog.text
    async with sqlite_store.turn_lease(got.conversation.id, limit=TURN_BATCH) as (_, context):
        assert messages(context) == [(got.event.seq, "Is anyone there?")]


class Echo(ConversationHandler):
    async def handle(self, turn: Turn) -> TurnResult:
        return TurnResult(replies=(Outbound(text=f"echo: {turn.inbound.text}"),))


class Phone(RecordingConnector):
    def texts(self) -> list[str]:
        return [outbound.text for outbound in self.sent.get("ana", [])]


@pytest.mark.parametrize(("question", "_"), TEXTS)
async def test_hub_turns_on_sqlite_run_on_the_adopted_lease(
    sqlite_store: SQLiteStore,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    question: str,
    _: str,
) -> None:
    reads = no_reads(sqlite_store, monkeypatch)
    hub = Hub(store=sqlite_store, bot=Echo())
    phone = Phone(links=channel_links(hub, tmp_path))
    hub.add_connector(phone)
    await hub.start()
    try:
        for n in range(3):
            inbound = Inbound(
                channel=Phone.name, sender="ana", message_id=f"m{n}", text=f"{question} {n}"
            )
            await hub.ingest(inbound)

            async def answered(count: int = n + 1) -> None:
                while len(phone.texts()) < count:
                    await asyncio.sleep(0.01)

            await asyncio.wait_for(answered(), GUARD)
        assert phone.texts() == [f"echo: {question} {n}" for n in range(3)]
    finally:
        await hub.stop()
    assert reads == [] and sqlite_store._adopted.adopted == 3
