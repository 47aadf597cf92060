"""Whole journeys in webhook mode: Telegram → hub → bot → hub → fake Bot API."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient

from hub.echo import EchoBot
from hub.model import EventType
from tests.connectors.telegram.fake_bot_api import FakeBotApi
from tests.connectors.telegram.harness import (
    CHAT,
    LONG_PAYLOAD,
    OPENING_HOURS,
    SECRET,
    WEBHOOK_PATH,
    WEBHOOK_URL,
    FaqBot,
    LongBot,
    all_events,
    fixture,
    hub_of,
    post_update,
    press_update,
    ready,
    secret_headers,
    telegram_app,
    text_update,
)


async def post(
    client: TestClient[web.Request, web.Application],
    update: Any,
    headers: dict[str, str] | None = None,
) -> None:
    assert await post_update(client, update, headers) == 200


async def test_faq_conversation(aiohttp_client, tmp_path: Path, fake: FakeBotApi) -> None:
    app = telegram_app(tmp_path, fake, bot=FaqBot())
    client = await aiohttp_client(app)
    await ready(app)
    webhook = fake.called("setWebhook")[-1].params
    assert webhook["url"] == WEBHOOK_URL
    assert webhook["secret_token"] == SECRET
    assert set(webhook["allowed_updates"]) >= {"message", "edited_message", "callback_query"}

    await post(client, fixture("start_deep_link"))
    await fake.wait_for("sendMessage", 1)
    menu = fake.messages[CHAT][0]
    assert menu["visible"] == "Hi! How can I help?"
    buttons = [b for row in menu["markup"]["inline_keyboard"] for b in row]
    assert [b["text"] for b in buttons] == ["Opening hours", "Talk to a person"]
    assert buttons[0]["callback_data"] == "hours"

    await post(client, fixture("text_message"))
    await fake.wait_for("sendMessage", 2)
    assert fake.texts(CHAT) == ["Hi! How can I help?", OPENING_HOURS]
    assert {call.params["action"] for call in fake.called("sendChatAction")} == {"typing"}

    events = await all_events(app)
    inbound = [e for e in events if e.type == EventType.MESSAGE_IN]
    assert [e.data["text"] for e in inbound] == ["/start", "What are your opening hours?"]
    assert inbound[0].data["raw"]["deep_link"] == "ref-7f3a9c"
    assert inbound[0].data["raw"]["update"] == fixture("start_deep_link")
    delivered = [e for e in events if e.type == EventType.DELIVERED]
    while len(delivered) < 2:  # the receipt is logged just after the send returns
        await asyncio.sleep(0.02)
        delivered = [e for e in await all_events(app) if e.type == EventType.DELIVERED]


async def test_button_presses(aiohttp_client, tmp_path: Path, fake: FakeBotApi) -> None:
    app = telegram_app(tmp_path, fake, bot=FaqBot())
    client = await aiohttp_client(app)
    await ready(app)
    await post(client, text_update(1, "/start"))
    await fake.wait_for("sendMessage", 1)
    menu = fake.messages[CHAT][0]
    short, long = (b for row in menu["markup"]["inline_keyboard"] for b in row)
    assert len(long["callback_data"].encode()) <= 64
    assert long["callback_data"] != LONG_PAYLOAD

    await post(client, press_update(2, short["callback_data"], message_id=menu["id"]))
    await fake.wait_for("sendMessage", 2)
    assert fake.texts(CHAT)[-1] == OPENING_HOURS
    answered = await fake.wait_for("answerCallbackQuery", 1)
    assert answered[0].params["callback_query_id"] == "cbq-2"
    edits = await fake.wait_for("editMessageReplyMarkup", 1)
    assert edits[0].params["message_id"] == menu["id"]
    assert fake.messages[CHAT][0]["markup"] is None  # the keyboard is gone

    await post(client, press_update(3, long["callback_data"], message_id=menu["id"]))
    await fake.wait_for("sendMessage", 3)
    assert fake.texts(CHAT)[-1] == "Connecting you to a person."
    inbound = [e for e in await all_events(app) if e.type == EventType.MESSAGE_IN]
    assert [e.data["text"] for e in inbound] == ["/start", "hours", LONG_PAYLOAD]


async def test_long_button_payload_survives_restart(
    aiohttp_client, tmp_path: Path, fake: FakeBotApi
) -> None:
    first = await aiohttp_client(telegram_app(tmp_path, fake, bot=FaqBot()))
    await ready(first.app)
    await post(first, text_update(1, "/start"))
    await fake.wait_for("sendMessage", 1)
    menu = fake.messages[CHAT][0]
    token = menu["markup"]["inline_keyboard"][-1][-1]["callback_data"]
    await first.close()

    # A new process: nothing in memory, the same store.
    app = telegram_app(tmp_path, fake, bot=FaqBot())
    second = await aiohttp_client(app)
    await ready(app)
    await post(second, press_update(2, token, message_id=menu["id"]))
    await fake.wait_for("sendMessage", 2)
    assert fake.texts(CHAT)[-1] == "Connecting you to a person."


async def test_unknown_button_token_is_answered_not_ingested(
    aiohttp_client, tmp_path: Path, fake: FakeBotApi
) -> None:
    app = telegram_app(tmp_path, fake, bot=FaqBot())
    client = await aiohttp_client(app)
    await ready(app)
    await post(client, text_update(1, "/start"))
    await fake.wait_for("sendMessage", 1)
    await post(client, press_update(2, "fd1:AAAAAAAAAAAAAAAAAAAAAAAA", message_id=1))
    answered = await fake.wait_for("answerCallbackQuery", 1)
    assert answered[0].params["text"] == "This button has expired."
    inbound = [e for e in await all_events(app) if e.type == EventType.MESSAGE_IN]
    assert len(inbound) == 1


async def test_secret_token_is_required(aiohttp_client, tmp_path: Path, fake: FakeBotApi) -> None:
    app = telegram_app(tmp_path, fake, bot=FaqBot())
    client = await aiohttp_client(app)
    for headers in ({}, secret_headers("wrong"), secret_headers(SECRET + "x")):
        response = await client.post(WEBHOOK_PATH, json=text_update(1, "hello"), headers=headers)
        assert response.status == 403
        assert "X-Telegram-Bot-Api-Secret-Token" in (await response.json())["error"]["message"]
    assert await hub_of(app).latest_conversation(f"telegram:{CHAT}") is None
    await post(client, text_update(1, "hello"))
    assert await hub_of(app).latest_conversation(f"telegram:{CHAT}") is not None


async def test_duplicate_update_is_processed_once(
    aiohttp_client, tmp_path: Path, fake: FakeBotApi
) -> None:
    app = telegram_app(tmp_path, fake, bot=EchoBot())
    client = await aiohttp_client(app)
    await ready(app)
    await post(client, text_update(10, "once"))
    await post(client, text_update(10, "once"))  # Telegram retried the delivery
    await post(client, text_update(11, "twice"))
    await fake.wait_for("sendMessage", 2)
    inbound = [e for e in await all_events(app) if e.type == EventType.MESSAGE_IN]
    assert [e.data["text"] for e in inbound] == ["once", "twice"]
    assert fake.texts(CHAT) == ["You said: once", "You said: twice"]


async def test_edit_is_logged_without_a_turn(
    aiohttp_client, tmp_path: Path, fake: FakeBotApi
) -> None:
    app = telegram_app(tmp_path, fake, bot=EchoBot())
    client = await aiohttp_client(app)
    await ready(app)
    await post(client, fixture("text_message"))
    await post(client, fixture("edited_message"))
    await post(client, text_update(584021400, "next question"))
    await fake.wait_for("sendMessage", 2)
    types = [e.type for e in await all_events(app)]
    assert types.count(EventType.MESSAGE_EDITED) == 1
    assert types.count(EventType.MESSAGE_IN) == 2
    assert fake.texts(CHAT) == [
        "You said: What are your opening hours?",
        "You said: next question",
    ]


async def test_customer_html_is_shown_literally(
    aiohttp_client, tmp_path: Path, fake: FakeBotApi
) -> None:
    app = telegram_app(tmp_path, fake, bot=EchoBot())
    client = await aiohttp_client(app)
    await ready(app)
    nasty = "<b>bold</b> & _under_ *star* <script>alert(1)</script> </i> &amp;"
    await post(client, text_update(1, nasty))
    sent = await fake.wait_for("sendMessage", 1)
    assert sent[0].params["parse_mode"] == "HTML"
    assert fake.texts(CHAT) == [f"You said: {nasty}"]  # the fake parsed it as Telegram does


async def test_long_reply_is_split_on_paragraphs(
    aiohttp_client, tmp_path: Path, fake: FakeBotApi
) -> None:
    paragraphs = [f"Paragraph {i}: " + "x" * 480 for i in range(10)]
    text = "\n\n".join(paragraphs)  # about 5,000 characters
    assert 4096 < len(text) < 5100
    app = telegram_app(tmp_path, fake, bot=LongBot(text))
    client = await aiohttp_client(app)
    await ready(app)
    await post(client, text_update(1, "tell me everything"))
    await fake.wait_for("sendMessage", 2)
    parts = fake.texts(CHAT)
    assert len(parts) == 2
    assert all(len(part) <= 4096 for part in parts)
    assert parts[0].endswith(paragraphs[7]) and parts[1].startswith(paragraphs[8])
    assert "\n\n".join(parts) == text


async def test_media_and_contacts(aiohttp_client, tmp_path: Path, fake: FakeBotApi) -> None:
    app = telegram_app(tmp_path, fake, bot=FaqBot())
    client = await aiohttp_client(app)
    await ready(app)
    for name in ("voice", "sticker", "contact"):
        await post(client, fixture(name))
    await fake.wait_for("sendMessage", 3)
    assert fake.texts(CHAT)[:2] == [
        "Thanks! I cannot read audio yet; could you type it?",
        "Thanks! I cannot read sticker yet; could you type it?",
    ]
    inbound = [e for e in await all_events(app) if e.type == EventType.MESSAGE_IN]
    contact = inbound[-1].data
    assert contact["text"] == "+8613800138000"
    assert contact["raw"]["contact"] == {"phone": "+8613800138000", "own": True}
    assert inbound[0].data["attachments"][0]["ref"] == "AwACAgQAAxkBAAIBRWVhVoice"


async def test_bad_input_gets_4xx_and_is_never_stored(
    aiohttp_client, tmp_path: Path, fake: FakeBotApi
) -> None:
    app = telegram_app(tmp_path, fake, bot=EchoBot())
    client = await aiohttp_client(app)
    await ready(app)
    cases = [
        (b"{not json", 400, "not valid JSON"),
        (b"[1, 2]", 400, "must be a JSON object"),
        (b'{"message": {}}', 400, "integer 'update_id'"),
        (b'{"update_id": 5, "message": {"message_id": 1}}', 400, "malformed"),
        (b'{"update_id": 6, "message": "hello"}', 400, "malformed"),
        (b"{" + b" " * 70_000 + b"}", 413, "larger than the limit"),
    ]
    for body, status, message in cases:
        response = await client.post(
            WEBHOOK_PATH,
            data=body,
            headers={**secret_headers(), "Content-Type": "application/json"},
        )
        assert response.status == status, body[:40]
        assert message in (await response.json())["error"]["message"]
    for ignored in ("poll_answer", "group_message", "my_chat_member_blocked"):
        await post(client, fixture(ignored))
    assert await hub_of(app).latest_conversation(f"telegram:{CHAT}") is None
    # The channel still works afterwards.
    await post(client, text_update(7, "still there?"))
    await fake.wait_for("sendMessage", 1)
    assert fake.texts(CHAT) == ["You said: still there?"]


async def test_group_chats_when_allowed(aiohttp_client, tmp_path: Path, fake: FakeBotApi) -> None:
    app = telegram_app(tmp_path, fake, bot=EchoBot(), allow_groups=True, per_group_interval=0)
    client = await aiohttp_client(app)
    await ready(app)
    await post(client, fixture("group_message"))
    await fake.wait_for("sendMessage", 1)
    assert fake.texts(-1001234567890) == ["You said: hello bot"]
