"""Unified identity through real channels (docs/identity.md).

1. Web chat ↔ email: a visitor types ``/link <address>`` in the real web chat WebSocket; the
   one-time code leaves through the email connector over real SMTP to a capturing relay on
   127.0.0.1; typed back in web chat, it gives the customer both identities, and a mail from
   that address (real SMTP into the hub's receiver) is attached to the same customer.
   Five wrong codes kill the challenge.
2. Telegram: a webhook update (python-telegram-bot against the fake Bot API) in which the user
   shares their own contact links the verified ``phone:+…`` identity (E.164); a contact of
   someone else links nothing; a phone that already belongs to another record merges both.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientWebSocketResponse
from aiohttp.test_utils import TestClient

from connectors.email.connector import EmailConnector
from hub.api import HUB
from hub.app import create_app
from hub.echo import EchoBot
from hub.hub import Hub
from hub.identity import IDENTITY_LINKED, UNVERIFIED
from hub.model import Customer, Event, EventType
from hub.ports import CUSTOMER_MERGED
from tests.connectors.email.harness import (
    SUPPORT,
    CaptureRelay,
    config_yaml,
    plain_text,
    send_mail,
)
from tests.connectors.telegram.fake_bot_api import FakeBotApi
from tests.connectors.telegram.harness import (
    CHAT,
    fixture,
    hub_of,
    ready,
    secret_headers,
    telegram_app,
    text_update,
)
from tests.connectors.webchat.helpers import SECRET as WEBCHAT_SECRET
from tests.connectors.webchat.helpers import frames_until, hello, is_reply
from tests.support import hub_config, hub_env

ANA = "ana@example.com"
CODE_IN_MAIL = re.compile(r"verification code is (\d{6})\.")

# ------------------------------------------------------------------ web chat + email


@dataclass
class Desk:
    """The whole hub with the webchat and email channels, and the relay its mail goes to."""

    hub: Hub
    client: TestClient[Any, Any]
    relay: CaptureRelay
    smtp_port: int  # the hub's own SMTP receiver (customers' mail comes in here)

    async def customer(self, identity: str) -> Customer:
        customer = await self.hub.store.find_customer(identity)
        assert customer is not None, f"nobody owns {identity}"
        return customer

    async def events(self, conversation_id: str) -> list[Event]:
        return await self.hub.store.events(conversation_id, limit=1000)


@pytest.fixture
async def desk(tmp_path: Path, aiohttp_client: Any) -> AsyncIterator[Desk]:
    relay = CaptureRelay()
    await relay.start()
    try:
        env = hub_env(tmp_path, FRONTDESK_WEBCHAT_SECRET=WEBCHAT_SECRET)
        path = config_yaml(tmp_path, relay_port=relay.port)
        with path.open("a", encoding="utf-8") as config:  # and the web chat channel too
            config.write("  webchat:\n    enabled: true\n")
        app = create_app(hub_config(env, path), environ=env, bot=EchoBot())
        client = await aiohttp_client(app)  # runs the start-up: store, channels, hub
        hub = app[HUB]
        assert set(hub.connectors) >= {"webchat", "email"}
        connector = hub.connectors["email"]
        assert isinstance(connector, EmailConnector) and connector.receiver is not None
        yield Desk(hub=hub, client=client, relay=relay, smtp_port=connector.receiver.port)
    finally:
        await relay.stop()


Say = Callable[[str, str], Awaitable[list[dict[str, Any]]]]


def chat(ws: ClientWebSocketResponse) -> Say:
    """Send one web chat message; the frames up to the reply with the expected text."""

    async def say(text: str, reply: str) -> list[dict[str, Any]]:
        await ws.send_json({"type": "message", "id": uuid.uuid4().hex, "text": text})
        return await frames_until(ws, is_reply(reply))

    return say


def code_in(mail: EmailMessage) -> str:
    found = CODE_IN_MAIL.search(plain_text(mail))
    assert found is not None, plain_text(mail)
    return found.group(1)


def new_mail(text: str, *, sender: str, subject: str, message_id: str) -> bytes:
    mail = EmailMessage(policy=policy.SMTP)
    mail["From"] = f"Ana Lima <{sender}>"
    mail["To"] = SUPPORT
    mail["Subject"] = subject
    mail["Message-ID"] = f"<{message_id}>"
    mail["Date"] = "Sun, 22 Nov 2026 10:00:00 +0000"
    mail.set_content(text)
    return mail.as_bytes()


async def test_a_code_mailed_over_smtp_links_web_chat_and_email(desk: Desk) -> None:
    async with desk.client.ws_connect("/webchat/ws") as ws:
        welcome = (await hello(ws))[0]
        visitor, token = welcome["visitor"], welcome["token"]
        say = chat(ws)
        frames = await say("hello", "You said: hello")
        web_conversation = frames[-1]["conversation_id"]

        # The customer-facing way to ask for a code (docs/identity.md): /link <address>.
        # The address is normalized (lower-cased) before anything is sent.
        await say(
            "/link Ana@Example.COM",
            f"We sent a 6-digit code to {ANA}. Type it here to link it to this chat.",
        )
        [mail] = await desk.relay.wait_for(1)
        [(return_path, recipients)] = desk.relay.envelopes
        assert recipients == [ANA] and return_path.startswith("bounces+")  # VERP
        assert mail["To"] == ANA
        assert mail["Auto-Submitted"] == "auto-replied"
        code = code_in(mail)
        assert plain_text(mail).startswith(
            f"Your Frontdesk verification code is {code}. It expires in 10 minutes."
        )
        # Until the code comes back, the address is only an unverified claim.
        pending = await desk.customer(f"webchat:{visitor}")
        assert pending.attributes[UNVERIFIED] == {"email": [f"email:{ANA}"]}
        assert await desk.hub.store.find_customer(f"email:{ANA}") is None

        await say(code, f"Thanks, {ANA} is now linked. We will recognise you there too.")

    customer = await desk.customer(f"webchat:{visitor}")
    assert set(customer.identities) == {f"webchat:{visitor}", f"email:{ANA}"}
    assert UNVERIFIED not in customer.attributes  # the claim is proven now
    assert (await desk.customer(f"email:{ANA}")).id == customer.id
    trail = await desk.hub.store.audit_trail(customer.id)
    assert trail[-1]["action"] == "identity.linked"
    assert (trail[-1]["identity"], trail[-1]["proof"]["kind"]) == (f"email:{ANA}", "code")
    linked = [e for e in await desk.events(web_conversation) if e.type == IDENTITY_LINKED]
    assert [e.data for e in linked] == [{"identity_kind": "email", "customer_id": customer.id}]
    # Neither the /link command nor the code reached the bot.
    bot_answers = [
        e.data["outbound"]["text"]
        for e in await desk.events(web_conversation)
        if e.type == EventType.MESSAGE_OUT
    ]
    assert not any(answer.startswith("You said: /link") for answer in bot_answers)
    assert f"You said: {code}" not in bot_answers

    # Ana now writes from her mail client (a new mail, real SMTP into the hub's receiver).
    await send_mail(
        desk.smtp_port,
        new_mail(
            "Where is order 1042?",
            sender="Ana@Example.com",
            subject="Order 1042",
            message_id="order-1042.1@example.com",
        ),
        sender="Ana@Example.com",
    )
    answer = (await desk.relay.wait_for(2))[1]
    assert desk.relay.envelopes[1][1] == [ANA]
    assert plain_text(answer).startswith("You said: Where is order 1042?")
    assert answer["Subject"] == "Re: Order 1042"

    # The mail is the same customer's, and it continues her open web chat conversation
    # (docs/identity.md, "Conversation continuity"): one timeline with both channels, the
    # reply threaded in her mail client, no second customer and no second conversation.
    by_mail = await desk.hub.latest_conversation(f"email:{ANA}")
    assert by_mail is not None and by_mail.customer_id == customer.id
    assert by_mail.id == web_conversation
    assert (by_mail.channel, by_mail.address) == ("email", ANA)
    assert by_mail.thread_hint == "order-1042.1@example.com"
    conversations = await desk.hub.store.customer_conversations(customer.id)
    assert [c.id for c in conversations] == [web_conversation]
    assert set((await desk.customer(f"email:{ANA}")).identities) == set(customer.identities)
    channels = [
        e.data["channel"] for e in await desk.events(by_mail.id) if e.type == EventType.MESSAGE_IN
    ]
    assert channels[-1] == "email" and "webchat" in channels

    # Back in web chat (same visitor token) she still continues her web chat conversation.
    async with desk.client.ws_connect("/webchat/ws") as ws:
        assert (await hello(ws, token=token))[0]["visitor"] == visitor
        frames = await chat(ws)("still there?", "You said: still there?")
    assert frames[-1]["conversation_id"] == web_conversation


async def test_five_wrong_codes_kill_the_challenge(desk: Desk) -> None:
    async with desk.client.ws_connect("/webchat/ws") as ws:
        visitor = (await hello(ws))[0]["visitor"]
        say = chat(ws)
        await say(
            f"/link {ANA}",
            f"We sent a 6-digit code to {ANA}. Type it here to link it to this chat.",
        )
        real = code_in((await desk.relay.wait_for(1))[0])
        wrong = [f"{(int(real) + n) % 1_000_000:06d}" for n in range(1, 6)]
        for n, guess in enumerate(wrong[:4], start=1):
            await say(guess, f"That code is not right. You have {5 - n} more tries.")
        await say(wrong[4], "That code is no longer valid. Ask for a new one with /link <address>.")
        # The challenge is gone: even the right code is now an ordinary message for the bot.
        await say(real, f"You said: {real}")

    customer = await desk.customer(f"webchat:{visitor}")
    assert customer.identities == (f"webchat:{visitor}",)
    assert customer.attributes[UNVERIFIED] == {"email": [f"email:{ANA}"]}  # a claim, no more
    assert await desk.hub.store.find_customer(f"email:{ANA}") is None
    assert len(desk.relay.messages) == 1  # one code, nothing else was mailed

    # A mail from that address is a stranger's: the unproven claim joined nothing.
    await send_mail(
        desk.smtp_port,
        new_mail("hi", sender=ANA, subject="Hello", message_id="hello.1@example.com"),
        sender=ANA,
    )
    await desk.relay.wait_for(2)
    stranger = await desk.customer(f"email:{ANA}")
    assert stranger.id != customer.id and stranger.identities == (f"email:{ANA}",)
    mine = await desk.hub.store.customer_conversations(customer.id)
    assert [c.channel for c in mine] == ["webchat"]


# ------------------------------------------------------------------ Telegram shared contact

ANA_PHONE = "+8613800138000"  # fixtures/contact.json says "8613800138000" (no "+")
WEBHOOK = "/webhooks/telegram"


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotApi]:
    api = FakeBotApi()
    await api.start()
    try:
        yield api
    finally:
        await api.stop()


@dataclass
class Telegram:
    hub: Hub
    client: TestClient[Any, Any]
    fake: FakeBotApi
    sent: int = 0  # sendMessage calls so far

    async def post(self, update: dict[str, Any]) -> str:
        """Post one webhook update; the text of the bot's answer to it."""
        response = await self.client.post(WEBHOOK, json=update, headers=secret_headers())
        assert response.status == 200
        self.sent += 1
        calls = await self.fake.wait_for("sendMessage", self.sent)
        return str(calls[self.sent - 1].params["text"])

    async def customer(self, identity: str) -> Customer:
        customer = await self.hub.store.find_customer(identity)
        assert customer is not None, f"nobody owns {identity}"
        return customer

    async def events(self, chat: int = CHAT) -> list[Event]:
        conversation = await self.hub.latest_conversation(f"telegram:{chat}")
        assert conversation is not None
        return await self.hub.store.events(conversation.id, limit=1000)


@pytest.fixture
async def telegram(tmp_path: Path, fake: FakeBotApi, aiohttp_client: Any) -> Telegram:
    app = telegram_app(tmp_path, fake, bot=EchoBot())
    client = await aiohttp_client(app)
    await ready(app)
    return Telegram(hub=hub_of(app), client=client, fake=fake)


def contact_update(
    update_id: int, *, phone: str, user_id: int | None, chat: int = CHAT
) -> dict[str, Any]:
    """The user of `chat` shares a contact (`user_id` None: someone not on Telegram)."""
    update = fixture("contact")
    message = update["message"]
    update["update_id"] = update_id
    message["message_id"] = update_id
    message["chat"] = {**message["chat"], "id": chat}
    message["from"] = {**message["from"], "id": chat}
    message["contact"]["phone_number"] = phone
    if user_id is None:
        del message["contact"]["user_id"]
    else:
        message["contact"]["user_id"] = user_id
    return update


async def test_sharing_ones_own_contact_links_the_phone(telegram: Telegram) -> None:
    assert await telegram.post(text_update(1, "hi")) == "You said: hi"
    me = await telegram.customer(f"telegram:{CHAT}")

    # Contacts of someone else prove nothing: a Telegram user's, and one not on Telegram.
    someone = contact_update(2, phone="+44 7700 900123", user_id=111222333)
    assert await telegram.post(someone) == "You said: +447700900123"
    nobody = contact_update(3, phone="447700900456", user_id=None)
    assert await telegram.post(nobody) == "You said: +447700900456"
    assert await telegram.hub.store.find_customer("phone:+447700900123") is None
    assert await telegram.hub.store.find_customer("phone:+447700900456") is None
    assert (await telegram.customer(f"telegram:{CHAT}")).identities == (f"telegram:{CHAT}",)

    # The recorded fixture: Ana shares her own contact (contact.user_id == from.id).
    own = fixture("contact")
    assert own["message"]["contact"]["user_id"] == own["message"]["from"]["id"] == CHAT
    answer = await telegram.post(own)
    assert answer == f"Thanks, your phone number {ANA_PHONE} is now linked."
    assert telegram.fake.texts(CHAT)[-1] == answer

    customer = await telegram.customer(f"telegram:{CHAT}")
    assert customer.id == me.id
    assert set(customer.identities) == {f"telegram:{CHAT}", f"phone:{ANA_PHONE}"}  # E.164
    assert (await telegram.customer(f"phone:{ANA_PHONE}")).id == me.id
    trail = await telegram.hub.store.audit_trail(me.id)
    assert trail[-1]["action"] == "identity.linked"
    assert trail[-1]["proof"] == {"kind": "telegram_contact"}
    events = await telegram.events()
    linked = [e.data for e in events if e.type == IDENTITY_LINKED]
    assert linked == [{"identity_kind": "phone", "customer_id": me.id}]
    assert not [e for e in events if e.type == CUSTOMER_MERGED]
    contact_in = [e for e in events if e.type == EventType.MESSAGE_IN][-1]
    assert contact_in.data["raw"]["contact"] == {"phone": ANA_PHONE, "own": True}


async def test_a_shared_contact_merges_with_the_record_that_holds_the_phone(
    telegram: Telegram,
) -> None:
    # Ana is already known by phone (say from the CRM), before she ever wrote on Telegram.
    store = telegram.hub.store
    known, created = await store.ensure_customer(f"phone:{ANA_PHONE}", now=time.time() - 3600)
    assert created
    assert await store.add_identity(known.id, "crm:C-7", now=time.time() - 3600) == known.id

    assert await telegram.post(text_update(1, "hi")) == "You said: hi"
    newcomer = await telegram.customer(f"telegram:{CHAT}")
    assert newcomer.id != known.id
    conversation = await telegram.hub.latest_conversation(f"telegram:{CHAT}")
    assert conversation is not None

    answer = await telegram.post(fixture("contact"))
    assert answer == f"Thanks, your phone number {ANA_PHONE} is now linked."

    # One customer: the older record is kept and absorbs the Telegram one.
    customer = await telegram.customer(f"telegram:{CHAT}")
    assert customer.id == known.id
    assert set(customer.identities) == {f"phone:{ANA_PHONE}", "crm:C-7", f"telegram:{CHAT}"}
    assert await store.get_customer(newcomer.id) is None
    assert [c.id for c in await store.customer_conversations(known.id)] == [conversation.id]

    events = await telegram.events()
    [merged] = [e for e in events if e.type == CUSTOMER_MERGED]
    assert merged.conversation_id == conversation.id
    assert merged.data["kept_id"] == known.id
    assert merged.data["absorbed_id"] == newcomer.id
    assert merged.data["identities_moved"] == [f"telegram:{CHAT}"]
    assert merged.data["conversations_moved"] == [conversation.id]
    assert merged.data["reason"]["kind"] == "telegram_contact"
    assert merged.data["reason"]["identity_kind"] == "phone"
    [linked] = [e for e in events if e.type == IDENTITY_LINKED]
    assert linked.data == {
        "identity_kind": "phone",
        "customer_id": known.id,
        "merge_id": merged.data["merge_id"],
    }
    merge = await store.get_merge(merged.data["merge_id"])
    assert merge is not None
    assert (merge.kept_id, merge.absorbed_id) == (known.id, newcomer.id)
    assert merge.moved_conversations == (conversation.id,)
    actions = [entry["action"] for entry in await store.audit_trail(known.id)]
    assert actions[-2:] == ["customer.merged", "identity.linked"]

    # The conversation carries on, on Telegram, as the merged customer's.
    assert await telegram.post(text_update(5, "thanks")) == "You said: thanks"
    after = await telegram.hub.latest_conversation(f"telegram:{CHAT}")
    assert after is not None
    assert (after.id, after.customer_id) == (conversation.id, known.id)
