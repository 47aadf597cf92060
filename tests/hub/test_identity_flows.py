"""Verified linking, end to end: inbound → hub → identity gate → store → reply.

A tiny two-step flow stands in for the dialog engine, so continuity of a half-finished
flow across channels is visible in its state.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from connectors.telegram.parse import parse_update
from hub.abc import ConversationHandler, Turn, TurnResult
from hub.app import create_app
from hub.hub import Hub
from hub.identity import (
    IDENTITY_LINKED,
    UNVERIFIED,
    CapturingCodeSender,
    ConnectorCodeSender,
    IdentityGate,
    IdentityService,
)
from hub.identity_proofs import IdentityError, sign_widget_token
from hub.model import EventType, Inbound, Outbound
from hub.store_sqlite import SQLiteStore
from hub.text import detect_language
from tests.support import (
    CallbackReceiver,
    channel_auth,
    fast_retries,
    hub_config,
    hub_env,
    run_turn_again,
)

SECRET = b"widget-secret"


class OrderFlow(ConversationHandler):
    """Asks for an order number, then confirms it: state {"step": …, "order": …}."""

    async def handle(self, turn: Turn) -> TurnResult:
        state = dict(turn.conversation.state)
        if state.get("step") == "ask_order":
            state.update(step="done", order=turn.inbound.text)
            return TurnResult(
                replies=(Outbound(text=f"Order {turn.inbound.text} found"),), state=state
            )
        if "order" in turn.inbound.text:
            return TurnResult(
                replies=(Outbound(text="What is your order number?"),), state={"step": "ask_order"}
            )
        return TurnResult(replies=(Outbound(text=f"You said: {turn.inbound.text}"),))


async def replies_to(hub: Hub, conversation_id: str, count: int) -> list[str]:
    """The texts of the conversation's replies, once there are `count` of them."""
    for _ in range(500):
        events = await hub.store.events(conversation_id, limit=1000)
        texts = [e.data["outbound"]["text"] for e in events if e.type == EventType.MESSAGE_OUT]
        if len(texts) >= count:
            return texts
        await asyncio.sleep(0.01)
    raise AssertionError(f"expected {count} replies in {conversation_id}, got {texts}")


class Rig:
    """A real hub on SQLite with the identity gate in front of the flow."""

    def __init__(self, tmp_path: Path) -> None:
        self.sender = CapturingCodeSender()
        self.store = SQLiteStore(tmp_path / "identity.db")
        self.service = IdentityService(self.store, sender=self.sender)
        self.service.settings = type(self.service.settings)(widget_secret=SECRET)
        self.hub = Hub(store=self.store, bot=IdentityGate(OrderFlow(), self.service))
        self.n = 0

    async def say(self, channel: str, sender: str, text: str, **raw: Any) -> tuple[str, str]:
        """Send one message; wait for its reply; (conversation id, reply text)."""
        self.n += 1
        inbound = Inbound(
            channel=channel, sender=sender, message_id=f"m{self.n}", text=text, raw=raw
        )
        receipt = await self.hub.ingest(inbound)
        return receipt.conversation_id, await self.reply_for(receipt.conversation_id, receipt.seq)

    async def reply_for(self, conversation_id: str, seq: int) -> str:
        for _ in range(500):
            events = await self.store.events(conversation_id, after_seq=seq, limit=100)
            for event in events:
                if event.type == EventType.MESSAGE_OUT:
                    return str(event.data["outbound"]["text"])
            await asyncio.sleep(0.01)
        raise AssertionError("no reply")


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    rig = Rig(tmp_path)
    await rig.store.open()
    await rig.hub.start()
    yield rig
    await rig.hub.stop()
    await rig.store.close()


async def test_email_code_links_web_chat_and_email_and_the_flow_continues(rig: Rig) -> None:
    conversation, reply = await rig.say("webchat", "v_ana", "where is my order")
    assert reply == "What is your order number?"
    _, reply = await rig.say("webchat", "v_ana", "/link ana@example.com")
    assert "sent a 6-digit code to ana@example.com" in reply
    ((target, code, _),) = rig.sender.sent
    assert target == "email:ana@example.com"
    _, reply = await rig.say("webchat", "v_ana", code)
    assert reply == "Thanks, ana@example.com is now linked. We will recognise you there too."

    # The customer answers the half-finished flow by email: same conversation, same state.
    by_mail, reply = await rig.say("email", "ana@example.com", "A-1234")
    assert by_mail == conversation
    assert reply == "Order A-1234 found"
    record = await rig.store.get_conversation(conversation)
    assert record is not None and (record.channel, record.address) == ("email", "ana@example.com")
    assert dict(record.state) == {"step": "done", "order": "A-1234"}
    trail = await rig.store.audit_trail(record.customer_id)
    assert trail[-1]["action"] == "identity.linked" and trail[-1]["proof"]["kind"] == "code"


class LanguageFlow(ConversationHandler):
    """Keeps the conversation's language in its state, as the dialog engine does."""

    async def handle(self, turn: Turn) -> TurnResult:
        lang = detect_language(turn.inbound.text, previous="en", languages=("en", "zh"))
        return TurnResult(
            replies=(Outbound(text=f"[{lang}] {turn.inbound.text}"),), state={"lang": lang}
        )


@pytest.mark.parametrize(
    ("opening", "sent", "wrong", "linked", "invalid", "code_language"),
    [
        (
            "where is my order",
            "We sent a 6-digit code to ana@example.com.",
            "That code is not right. You have 4 more tries.",
            "Thanks, ana@example.com is now linked.",
            "That does not look like an email address or phone number",
            "en",
        ),
        (
            "我的订单到哪了",
            "我们已向 ana@example.com 发送了 6 位验证码",
            "验证码不正确，您还可以再试 4 次。",
            "谢谢，ana@example.com 已关联。",
            "“not-an-address”看起来不像邮箱地址或手机号码",
            "zh",
        ),
        (
            "我的訂單到哪了",  # Traditional: still Chinese
            "我们已向 ana@example.com 发送了 6 位验证码",
            "验证码不正确，您还可以再试 4 次。",
            "谢谢，ana@example.com 已关联。",
            "“not-an-address”看起来不像邮箱地址或手机号码",
            "zh",
        ),
    ],
)
async def test_linking_answers_in_the_conversations_language(
    tmp_path: Path,
    opening: str,
    sent: str,
    wrong: str,
    linked: str,
    invalid: str,
    code_language: str,
) -> None:
    rig = Rig(tmp_path)
    rig.hub = Hub(store=rig.store, bot=IdentityGate(LanguageFlow(), rig.service))
    await rig.store.open()
    await rig.hub.start()
    try:
        await rig.say("webchat", "v_ana", opening)
        # The command, the address and the code are not words of either language: the
        # conversation's language decides.
        _, reply = await rig.say("webchat", "v_ana", "/link not-an-address")
        assert reply.startswith(invalid)
        _, reply = await rig.say("webchat", "v_ana", "/link ana@example.com")
        assert reply.startswith(sent)
        ((_, code, language),) = rig.sender.sent
        assert language == code_language
        _, reply = await rig.say("webchat", "v_ana", f"{(int(code) + 1) % 1_000_000:06d}")
        assert reply == wrong
        _, reply = await rig.say("webchat", "v_ana", code)
        assert reply.startswith(linked)
    finally:
        await rig.hub.stop()
        await rig.store.close()


async def test_verifying_an_address_with_its_own_history_merges_both(rig: Rig) -> None:
    by_mail, _ = await rig.say("email", "ana@example.com", "hello from mail")
    mail_customer = await rig.store.find_customer("email:ana@example.com")
    web, _ = await rig.say("webchat", "v_ana", "/link ana@example.com")
    await rig.say("webchat", "v_ana", rig.sender.last_code("email:ana@example.com"))
    web_customer = await rig.store.find_customer("webchat:v_ana")
    assert mail_customer is not None and web_customer is not None
    assert web_customer.id == mail_customer.id  # the older record was kept
    conversations = {c.id for c in await rig.store.customer_conversations(web_customer.id)}
    assert conversations == {by_mail, web}


async def test_claiming_someone_elses_email_reaches_nothing(rig: Rig) -> None:
    victim_conversation, _ = await rig.say("email", "victim@example.com", "my secret order")
    victim = await rig.store.find_customer("email:victim@example.com")
    assert victim is not None

    attacker_conversation, _ = await rig.say("webchat", "v_evil", "my email is victim@example.com")
    attacker = await rig.store.find_customer("webchat:v_evil")
    assert attacker is not None and attacker.id != victim.id
    assert attacker.attributes[UNVERIFIED] == {"email": ["email:victim@example.com"]}

    _, reply = await rig.say("webchat", "v_evil", "/link victim@example.com")
    assert "sent a 6-digit code" in reply  # to the victim's mailbox, not to the attacker
    real = rig.sender.last_code("email:victim@example.com")
    wrong = [f"{(int(real) + i) % 1_000_000:06d}" for i in range(1, 6)]
    answers = [(await rig.say("webchat", "v_evil", guess))[1] for guess in wrong]
    assert answers[0] == "That code is not right. You have 4 more tries."
    assert answers[-1].startswith("That code is no longer valid")
    _, reply = await rig.say("webchat", "v_evil", real)  # too late: the challenge is gone
    assert reply == f"You said: {real}"

    assert (await rig.store.find_customer("email:victim@example.com")) == victim
    mine = {c.id for c in await rig.store.customer_conversations(attacker.id)}
    assert mine == {attacker_conversation} and victim_conversation not in mine
    latest = await rig.hub.latest_conversation("webchat:v_evil")
    assert latest is not None and latest.id == attacker_conversation


async def test_code_requests_are_rate_limited_per_target(rig: Rig) -> None:
    replies = [
        (await rig.say("webchat", f"v_{n}", "/link target@example.com"))[1] for n in range(4)
    ]
    assert replies[-1] == "Too many codes were requested. Please try again in an hour."
    assert len(rig.sender.sent) == 3


async def test_a_shared_telegram_contact_links_the_phone(rig: Rig) -> None:
    crm, _ = await rig.store.ensure_customer("crm:C-7", now=1.0)
    await rig.store.add_identity(crm.id, "phone:+447700900123", now=1.0)
    update = {
        "update_id": 1,
        "message": {
            "message_id": 5,
            "date": 1700000000,
            "chat": {"id": 42, "type": "private"},
            "from": {"id": 42, "is_bot": False, "first_name": "Ana"},
            "contact": {"phone_number": "447700900123", "first_name": "Ana", "user_id": 42},
        },
    }
    parsed = parse_update(update, received_at=time.time())
    assert isinstance(parsed, Inbound)
    receipt = await rig.hub.ingest(parsed)
    reply = await rig.reply_for(receipt.conversation_id, receipt.seq)
    assert reply == "Thanks, your phone number +447700900123 is now linked."
    found = await rig.store.find_customer("telegram:42")
    assert found is not None and found.id == crm.id

    # Someone else's contact proves nothing.
    update["message"]["contact"]["user_id"] = 99  # type: ignore[index]
    update["message"]["message_id"] = 6  # type: ignore[index]
    update["message"]["from"]["id"] = 43  # type: ignore[index]
    update["message"]["chat"]["id"] = 43  # type: ignore[index]
    other = parse_update(update, received_at=time.time())
    assert isinstance(other, Inbound)
    receipt = await rig.hub.ingest(other)
    assert (await rig.reply_for(receipt.conversation_id, receipt.seq)).startswith("You said")
    stranger = await rig.store.find_customer("telegram:43")
    assert stranger is not None and stranger.id != crm.id


async def test_signed_widget_token_links_and_bad_tokens_do_not(rig: Rig) -> None:
    now = int(time.time())
    site, _ = await rig.store.ensure_customer("user:u-1", now=1.0)
    good = sign_widget_token(SECRET, user_id="u-1", email="ana@example.com", expires_at=now + 60)
    linked = await rig.service.accept_widget_token("webchat:v_1", good)
    assert linked.customer_id == site.id and linked.merge is not None
    found = await rig.store.find_customer("email:ana@example.com")
    assert found is not None and found.id == site.id

    expired = sign_widget_token(SECRET, user_id="u-2", expires_at=now - 1)
    forged = sign_widget_token(b"guessed", user_id="u-1", expires_at=now + 60)
    signature = good.split(".")[1]
    tampered = sign_widget_token(SECRET, user_id="u-9", expires_at=now + 60).split(".")[0]
    for token, problem in (
        (expired, "expired"),
        (forged, "signature"),
        (f"{tampered}.{signature}", "signature"),
        ("garbage", "malformed"),
    ):
        with pytest.raises(IdentityError, match=problem):
            await rig.service.accept_widget_token("webchat:v_2", token)
    assert await rig.store.find_customer("webchat:v_2") is None
    assert await rig.store.find_customer("user:u-9") is None


async def test_codes_travel_through_the_real_api_channel(
    aiohttp_client: Any, tmp_path: Path
) -> None:
    """The code reaches the claimed address through its connector (here the api channel's
    signed callback), and typing it back links the two senders."""
    receiver = CallbackReceiver()
    await receiver.start()
    try:
        env = hub_env(tmp_path, FRONTDESK_API_CHANNEL_CALLBACK_URL=receiver.url)
        store = SQLiteStore(tmp_path / "api.db")
        service = IdentityService(store)
        app = create_app(
            fast_retries(hub_config(env)),
            environ=env,
            store=store,
            bot=IdentityGate(OrderFlow(), service),
        )
        client = await aiohttp_client(app)
        from hub.api import HUB

        service.sender = ConnectorCodeSender(app[HUB].connectors)

        async def post(sender: str, message_id: str, text: str) -> None:
            response = await client.post(
                "/api/v1/channels/api/messages",
                json={"id": message_id, "sender": sender, "text": text},
                headers=channel_auth(),
            )
            assert response.status == 202

        await post("desk-7", "1", "/link api:phone-7")
        received = await receiver.wait_for(2)
        code_message = next(r for r in received if r["recipient"] == "phone-7")
        code = code_message["text"].split("code is ")[1][:6]
        await post("desk-7", "2", code)
        await receiver.wait_for(3)
        linked = await store.find_customer("api:phone-7")
        assert linked is not None and set(linked.identities) == {"api:desk-7", "api:phone-7"}
    finally:
        await receiver.stop()


async def test_a_code_turn_run_again_answers_with_the_link_it_made(rig: Rig) -> None:
    """The turn of a typed code is run again, its first commit lost: the code is used up,
    and the link it made (a merge) is what the customer hears again, not the bot's answer
    to six digits; nothing is linked twice."""
    await rig.say("email", "ana@example.com", "hello from mail")  # a record to merge with
    web, _ = await rig.say("webchat", "v_ana", "/link ana@example.com")
    _, reply = await rig.say("webchat", "v_ana", rig.sender.last_code("email:ana@example.com"))
    assert reply == "Thanks, ana@example.com is now linked. We will recognise you there too."
    again = await run_turn_again(rig.hub, web, time.time())
    assert [r.text for r in again.replies] == [reply]
    (linked,) = [e.data for e in again.events if e.type == IDENTITY_LINKED]
    assert linked["identity_kind"] == "email" and linked["merge_id"]
    kept = await rig.store.find_customer("webchat:v_ana")
    assert kept is not None and kept.id == linked["customer_id"]
    trail = await rig.store.audit_trail(kept.id)
    assert sum(1 for e in trail if e["action"] == "identity.linked") == 1
