"""An inbound whose channel could not verify the sender (`sender_verified=False`, e.g. an
email with a forged From:) never reaches the customer who owns that address: not their
record, not their conversations, not their identity proofs. On both stores."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from hub.abc import ConversationHandler, Turn, TurnResult
from hub.hub import Hub
from hub.identity import IDENTITY_REFUSED, CapturingCodeSender, IdentityGate, IdentityService
from hub.model import Event, EventType, Inbound, Outbound
from hub.ports import Backend

ANA = "ana@example.com"


class Echo(ConversationHandler):
    async def handle(self, turn: Turn) -> TurnResult:
        return TurnResult(replies=(Outbound(text=f"You said: {turn.inbound.text}"),))


class Rig:
    def __init__(self, store: Backend) -> None:
        self.store = store
        self.codes = CapturingCodeSender()
        self.service = IdentityService(store, sender=self.codes)
        self.hub = Hub(store=store, bot=IdentityGate(Echo(), self.service))
        self.n = 0

    async def say(self, text: str, *, verified: bool = True, thread: str = "") -> str:
        """One message from Ana's address; returns its conversation once it was handled."""
        self.n += 1
        inbound = Inbound(
            channel="email",
            sender=ANA,
            message_id=f"m{self.n}@example.com",
            text=text,
            thread_hint=thread,
            sender_verified=verified,
        )
        receipt = await self.hub.ingest(inbound)
        for _ in range(500):
            conversation = await self.store.get_conversation(receipt.conversation_id)
            if conversation is not None and conversation.handled_seq >= receipt.seq:
                return receipt.conversation_id
            await asyncio.sleep(0.01)
        raise AssertionError("the turn was not handled")

    async def events(self, conversation_id: str) -> list[Event]:
        return await self.store.events(conversation_id, limit=100)


@pytest.fixture
async def rig(store: Backend) -> AsyncIterator[Rig]:
    rig = Rig(store)
    await rig.hub.start()
    yield rig
    await rig.hub.stop()


@pytest.mark.parametrize("text", ["Where is my order?", "我的订单在哪里？"])
async def test_an_unverified_sender_gets_a_conversation_of_its_own(rig: Rig, text: str) -> None:
    genuine = await rig.say(text, thread="root@example.com")
    forged = await rig.say(text, verified=False, thread="root@example.com")
    unthreaded = await rig.say(text, verified=False)
    assert forged != genuine and unthreaded not in (genuine, forged)

    ana = await rig.store.find_customer(f"email:{ANA}")
    stranger = await rig.store.find_customer(f"unverified:email:{ANA}")
    assert ana is not None and stranger is not None and ana.id != stranger.id
    assert ana.identities == (f"email:{ANA}",)
    conversation = await rig.store.get_conversation(forged)
    assert conversation is not None and conversation.customer_id == stranger.id
    [inbound] = [e for e in await rig.events(forged) if e.type == EventType.MESSAGE_IN]
    assert inbound.data["sender_verified"] is False
    assert Inbound.from_json(inbound.data).sender_verified is False
    # Ana's own conversation saw one message: hers.
    ins = [e for e in await rig.events(genuine) if e.type == EventType.MESSAGE_IN]
    assert [e.data["text"] for e in ins] == [text]


@pytest.mark.parametrize("link", ["/link attacker@evil.example", "/LINK attacker@evil.example"])
async def test_an_unverified_sender_cannot_request_or_complete_a_code(rig: Rig, link: str) -> None:
    forged = await rig.say(link, verified=False)
    assert rig.codes.sent == []  # no code went to the attacker
    events = await rig.events(forged)
    assert [e.type for e in events].count(IDENTITY_REFUSED) == 1
    assert not [e for e in events if e.type == EventType.MESSAGE_OUT]  # no answer either

    # Ana herself asks for a code; a forged mail typing it does not complete it.
    await rig.say("/link ana@work.example")
    ((_, code, _),) = rig.codes.sent
    typed = await rig.say(code, verified=False)
    assert [
        e.data["outbound"]["text"] for e in await rig.events(typed) if e.type == "message.out"
    ] == [f"You said: {code}"]
    ana = await rig.store.find_customer(f"email:{ANA}")
    assert ana is not None and ana.identities == (f"email:{ANA}",)
    assert await rig.store.find_customer("email:attacker@evil.example") is None
    assert await rig.store.find_customer("email:ana@work.example") is None
    # …and Ana can still complete it herself.
    await rig.say(code)
    ana = await rig.store.find_customer(f"email:{ANA}")
    assert ana is not None and "email:ana@work.example" in ana.identities


def test_rows_written_before_the_flag_read_back_as_verified() -> None:
    old = {"channel": "email", "sender": ANA, "message_id": "m1", "text": "hi"}
    assert Inbound.from_json(old).sender_verified is True
    verified = Inbound(channel="email", sender=ANA, message_id="m1", text="hi")
    assert "sender_verified" not in verified.to_json()  # the JSON form is unchanged
    assert verified.identity == f"email:{ANA}"
