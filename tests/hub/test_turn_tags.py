"""A turn's `customer.tagged` events become the customer's tags (a "stop" to follow-ups is
one), and a crash right after the turn's commit does not lose them: the hub adds them
before it commits (a set: a turn run again adds nothing twice). On SQLite, a real
redis-server and a Redis Cluster."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from hub.abc import ConversationHandler, Turn, TurnResult
from hub.hub import Hub
from hub.model import EventType, Inbound, NewEvent
from hub.ports import Backend, TurnCommit
from tests.hub.conftest import StoreFactory

TAGS = {"en": ("Please stop asking me", "no_followup"), "zh": ("别再问了", "不要回访")}


class Tagger(ConversationHandler):
    """Tags the customer, whatever they wrote."""

    def __init__(self, tag: str) -> None:
        self.tag = tag

    async def handle(self, turn: Turn) -> TurnResult:
        return TurnResult(
            events=(NewEvent(type=EventType.CUSTOMER_TAGGED, data={"tag": self.tag}),)
        )


async def handled(store: Backend, conversation_id: str, seq: int) -> bool:
    conversation = await store.get_conversation(conversation_id)
    return conversation is not None and conversation.handled_seq >= seq


class ProcessDied(Exception):
    """Stands for the hub process being killed right after the store write."""


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_a_tag_survives_a_crash_right_after_the_commit(
    make_store: StoreFactory, monkeypatch: pytest.MonkeyPatch, lang: str
) -> None:
    text, tag = TAGS[lang]
    store = make_store()
    await store.open()
    real = store.commit_turn
    committed: list[TurnCommit] = []

    async def commit_then_die(conversation_id: str, **kw: Any) -> TurnCommit:
        committed.append(await real(conversation_id, **kw))
        raise ProcessDied

    monkeypatch.setattr(store, "commit_turn", commit_then_die)
    hub = Hub(store=store, bot=Tagger(tag))
    await hub.start()
    try:
        receipt = await hub.ingest(
            Inbound(channel="shop", sender="ana", message_id="m1", text=text)
        )
        while not committed:
            await asyncio.sleep(0.01)
    finally:
        await hub.stop()
    conversation = await store.get_conversation(receipt.conversation_id)
    assert conversation is not None and conversation.handled_seq == receipt.seq
    customer = await store.get_customer(receipt.customer_id)
    assert customer is not None and customer.tags == (tag,)
    await store.close()


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_a_turn_run_again_adds_its_tag_once(make_store: StoreFactory, lang: str) -> None:
    text, tag = TAGS[lang]
    store = make_store()
    await store.open()
    hub = Hub(store=store, bot=Tagger(tag))
    await hub.start()
    try:
        for number in (1, 2):  # the same tag again, as a turn run again would add it
            receipt = await hub.ingest(
                Inbound(channel="shop", sender="ana", message_id=f"m{number}", text=text)
            )
            while not await handled(store, receipt.conversation_id, receipt.seq):
                await asyncio.sleep(0.01)
    finally:
        await hub.stop()
    customer = await store.get_customer(receipt.customer_id)
    assert customer is not None and customer.tags == (tag,)
    await store.close()
