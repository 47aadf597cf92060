"""Polling mode: the same journeys with `getUpdates`, and a loop that bad input cannot stop."""

from __future__ import annotations

from pathlib import Path

from hub.echo import EchoBot
from hub.model import EventType
from tests.connectors.telegram.fake_bot_api import FakeBotApi
from tests.connectors.telegram.harness import (
    CHAT,
    OPENING_HOURS,
    FaqBot,
    all_events,
    connector_of,
    fixture,
    press_update,
    ready,
    telegram_app,
    text_update,
)


async def test_faq_conversation_by_polling(
    aiohttp_client, tmp_path: Path, fake: FakeBotApi
) -> None:
    fake.webhook = {"url": "https://old.example/hook"}  # left over from a webhook deployment
    app = telegram_app(tmp_path, fake, bot=FaqBot(), mode="polling")
    client = await aiohttp_client(app)
    await ready(app)
    assert (await client.post("/webhooks/telegram", json={})).status == 404  # no webhook route
    methods = [call.method for call in fake.calls]
    assert methods[:2] == ["getMe", "deleteWebhook"]

    await fake.push_update(fixture("start_deep_link"))
    await fake.wait_for("sendMessage", 1)
    menu = fake.messages[CHAT][0]
    await fake.push_update(press_update(584021400, "hours", message_id=menu["id"]))
    await fake.wait_for("sendMessage", 2)
    await fake.push_update(fixture("text_message"))
    await fake.wait_for("sendMessage", 3)
    assert fake.texts(CHAT) == ["Hi! How can I help?", OPENING_HOURS, OPENING_HOURS]
    await fake.wait_for("answerCallbackQuery", 1)

    # Each update was confirmed (offset past it) only after it was stored.
    offsets = [call.params.get("offset") for call in fake.called("getUpdates")]
    assert 584021401 in offsets
    assert connector_of(app).settings.mode == "polling"


async def test_bad_updates_never_stop_the_loop(
    aiohttp_client, tmp_path: Path, fake: FakeBotApi
) -> None:
    app = telegram_app(tmp_path, fake, bot=EchoBot(), mode="polling")
    await aiohttp_client(app)
    await ready(app)
    fake.updates.extend(
        [
            {"update_id": 100, "message": {"message_id": 1}},  # malformed
            {"update_id": 101, "poll_answer": {"poll_id": "1"}},  # a type we do not use
            "not an update",  # type: ignore[list-item]
            text_update(102, "first"),
            text_update(102, "first"),  # the same update twice
            fixture("group_message") | {"update_id": 103},
        ]
    )
    await fake.push_update(text_update(104, "second"))
    await fake.wait_for("sendMessage", 2)
    assert fake.texts(CHAT) == ["You said: first", "You said: second"]
    inbound = [e for e in await all_events(app) if e.type == EventType.MESSAGE_IN]
    assert [e.data["text"] for e in inbound] == ["first", "second"]

    await fake.push_update(text_update(105, "third"))  # still polling
    await fake.wait_for("sendMessage", 3)


async def test_polling_recovers_from_telegram_errors(
    aiohttp_client, tmp_path: Path, fake: FakeBotApi
) -> None:
    fake.fail("getUpdates", 502, "Bad Gateway", times=2)
    fake.fail("getUpdates", 409, "Conflict: terminated by other getUpdates request")
    app = telegram_app(tmp_path, fake, bot=EchoBot(), mode="polling")
    await aiohttp_client(app)
    await ready(app)
    await fake.push_update(text_update(1, "anyone there?"))
    await fake.wait_for("sendMessage", 1)
    assert len(fake.called("getUpdates")) >= 4
