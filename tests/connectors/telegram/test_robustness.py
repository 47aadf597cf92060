"""What must never happen on Telegram: the bot token in a log, one odd update stalling
everyone behind it, a split reply repeated after a restart, a button left spinning."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from hub.echo import EchoBot
from hub.logs import JsonFormatter, TextFormatter
from hub.model import EventType
from tests.connectors.telegram.fake_bot_api import TOKEN, FakeBotApi
from tests.connectors.telegram.harness import (
    CHAT,
    SECRET,
    WEBHOOK_PATH,
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
    wait_for_event,
)

BO = 555000111  # a second customer, who writes after the odd update


def unreadable(update_id: int, chat: int = CHAT) -> dict[str, Any]:
    """A real-shaped update with one field Telegram would never send: a numeric text."""
    update = text_update(update_id, "placeholder", chat=chat)
    update["message"]["text"] = 5
    return update


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_the_bot_token_never_reaches_a_log(
    aiohttp_client, tmp_path: Path, fake: FakeBotApi, caplog: pytest.LogCaptureFixture, mode: str
) -> None:
    caplog.set_level(logging.DEBUG)  # everything every library logs
    fake.fail("sendMessage", 502, "Bad Gateway")  # the error paths log too
    app = telegram_app(tmp_path, fake, bot=EchoBot(), mode=mode)
    client = await aiohttp_client(app)
    await ready(app)
    for update in (text_update(1, "hello"), text_update(2, "你好")):
        if mode == "webhook":
            assert await post_update(client, update) == 200
        else:
            await fake.push_update(update)
    await fake.wait_for("sendMessage", 3)
    await wait_for_event(app, EventType.DELIVERED, 2)
    await client.close()

    assert "httpx" in {record.name for record in caplog.records}  # URLs were logged …
    formatted = [caplog.text]
    for record in caplog.records:
        formatted += [JsonFormatter().format(record), TextFormatter().format(record)]
    output = "\n".join(formatted)
    assert "/bot[redacted]/sendMessage" in output  # … with the token taken out
    secret_part = TOKEN.split(":", 1)[1]
    assert TOKEN not in output and secret_part not in output
    assert SECRET not in output


async def test_an_unreadable_update_is_recorded_and_skipped_by_the_webhook(
    aiohttp_client, tmp_path: Path, fake: FakeBotApi, caplog: pytest.LogCaptureFixture
) -> None:
    app = telegram_app(tmp_path, fake, bot=EchoBot())
    client = await aiohttp_client(app)
    await ready(app)
    assert await post_update(client, unreadable(1)) == 200  # Telegram must not resend it for ever
    assert await post_update(client, unreadable(1)) == 200  # … and if it does, it is kept once
    assert await post_update(client, text_update(2, "Hello?", chat=BO)) == 200
    assert await post_update(client, text_update(3, "你好，在吗？", chat=BO)) == 200
    await fake.wait_for("sendMessage", 2)
    assert fake.texts(BO) == ["You said: Hello?", "You said: 你好，在吗？"]

    events = await all_events(app)
    noticed = [e for e in events if e.type == EventType.MESSAGE_NOTICED]
    assert len(noticed) == 1  # the audit record, never answered
    assert "TypeError" in noticed[0].data["raw"]["malformed"]
    assert noticed[0].data["raw"]["update"] == unreadable(1)
    assert not [e for e in events if e.type == EventType.MESSAGE_IN]
    assert CHAT not in fake.messages
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert any("malformed" in r.getMessage() for r in warnings)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_message_without_a_chat_is_a_400_and_writes_nothing(
    aiohttp_client, tmp_path: Path, fake: FakeBotApi, caplog: pytest.LogCaptureFixture
) -> None:
    app = telegram_app(tmp_path, fake, bot=EchoBot())
    client = await aiohttp_client(app)
    await ready(app)
    for update_id, text in ((1, "hello"), (2, "你好")):
        update = text_update(update_id, text)
        del update["message"]["chat"]
        response = await client.post(WEBHOOK_PATH, json=update, headers=secret_headers())
        assert response.status == 400
        assert "has no chat" in (await response.json())["error"]["message"]
    assert (await hub_of(app).store.list_conversations(limit=10)).items == []
    assert not [r for r in caplog.records if r.exc_info or r.exc_text]  # no traceback


async def test_an_unreadable_update_never_stalls_polling(
    aiohttp_client, tmp_path: Path, fake: FakeBotApi
) -> None:
    app = telegram_app(tmp_path, fake, bot=EchoBot(), mode="polling")
    await aiohttp_client(app)
    await ready(app)
    fake.updates.append(unreadable(10))
    await fake.push_update(text_update(11, "anyone there?", chat=BO))
    await fake.push_update(text_update(12, "有人吗？", chat=BO + 1))
    await fake.wait_for("sendMessage", 2)
    assert fake.texts(BO) == ["You said: anyone there?"]
    assert fake.texts(BO + 1) == ["You said: 有人吗？"]
    await wait_for_event(app, EventType.MESSAGE_NOTICED)
    # All three confirmed: the odd one is not fetched again and again.
    while not any((call.params.get("offset") or 0) > 12 for call in fake.called("getUpdates")):
        await fake.wait_for("getUpdates", len(fake.called("getUpdates")) + 1)


async def test_a_split_reply_is_not_repeated_after_a_restart(
    aiohttp_client, tmp_path: Path, fake: FakeBotApi
) -> None:
    text = "\n\n".join(["a" * 3000, "b" * 3000, "c" * 3000])
    fake.fail_from("sendMessage", 2, 502, "Bad Gateway")  # part 2 keeps failing
    first = await aiohttp_client(telegram_app(tmp_path, fake, bot=LongBot(text)))
    await ready(first.app)
    assert await post_update(first, text_update(1, "全部告诉我 / tell me everything")) == 200
    await wait_for_event(first.app, EventType.DELIVERY_FAILED)
    await first.close()  # the hub restarts while part 2 is failing

    fake.recover("sendMessage")
    app = telegram_app(tmp_path, fake, bot=LongBot(text))
    second = await aiohttp_client(app)
    await ready(app)
    await wait_for_event(app, EventType.DELIVERED)
    assert [part[0] for part in fake.texts(CHAT)] == ["a", "b", "c"]  # "a" went once
    await second.close()


async def test_every_button_press_is_answered(
    aiohttp_client, tmp_path: Path, fake: FakeBotApi
) -> None:
    app = telegram_app(tmp_path, fake, bot=EchoBot())
    client = await aiohttp_client(app)
    await ready(app)
    in_a_group = press_update(1, "hours", message_id=7)
    in_a_group["callback_query"]["message"]["chat"] = fixture("group_message")["message"]["chat"]
    a_game = press_update(2, "hours", message_id=7)
    del a_game["callback_query"]["data"]
    a_game["callback_query"]["game_short_name"] = "quiz"
    unreadable_press = press_update(3, "hours", message_id=7)
    unreadable_press["callback_query"]["from"] = "Ana"
    stored = press_update(4, "营业时间", message_id=7)
    for update in (in_a_group, a_game, unreadable_press, stored):
        assert await post_update(client, update) == 200
    answered = await fake.wait_for("answerCallbackQuery", 4)
    assert sorted(call.params["callback_query_id"] for call in answered) == [
        "cbq-1",
        "cbq-2",
        "cbq-3",
        "cbq-4",
    ]
    await fake.wait_for("sendMessage", 1)
    assert fake.texts(CHAT) == ["You said: 营业时间"]
