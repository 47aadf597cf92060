"""The demo bot through real channels: the same dialog engine answers on Telegram (through
python-telegram-bot against the fake Bot API) and in web chat (over the real WebSocket)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from dialogs.engine import DialogEngine
from hub.app import create_app
from tests.connectors.telegram.fake_bot_api import FakeBotApi
from tests.connectors.telegram.harness import (
    CHAT,
    all_events,
    press_update,
    ready,
    secret_headers,
    telegram_app,
    text_update,
)
from tests.connectors.webchat.helpers import frames_until, hello, webchat_config, webchat_env

DEMO = Path(__file__).resolve().parents[2] / "config" / "dialogs"


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotApi]:
    fake = FakeBotApi()
    await fake.start()
    yield fake
    await fake.stop()


class DemoOnTelegram:
    """The demo bot behind the Telegram connector; `say` posts an update and waits for the
    bot's `sendMessage` calls to reach `replies` in all."""

    def __init__(self, client: Any, app: web.Application, fake: FakeBotApi) -> None:
        self.client, self.app, self.fake = client, app, fake

    async def say(self, update: dict[str, Any], replies: int) -> None:
        response = await self.client.post(
            "/webhooks/telegram", json=update, headers=secret_headers()
        )
        assert response.status == 200
        await self.fake.wait_for("sendMessage", replies)

    def keyboard(self) -> tuple[int, list[dict[str, Any]]]:
        """The id and the buttons of the latest message."""
        message = self.fake.messages[CHAT][-1]
        rows = (message["markup"] or {}).get("inline_keyboard", [])
        return message["id"], [b for row in rows for b in row]


@pytest.fixture
async def telegram(
    aiohttp_client: Any, tmp_path: Path, fake: FakeBotApi, action_server: Any
) -> DemoOnTelegram:
    bot = DialogEngine.from_path(DEMO, action_endpoint=action_server.url)
    app = telegram_app(tmp_path, fake, bot=bot)
    client = await aiohttp_client(app)
    await ready(app)
    return DemoOnTelegram(client, app, fake)


async def test_telegram_customer_gets_faq_and_troubleshooting_in_two_languages(
    telegram: DemoOnTelegram, fake: FakeBotApi
) -> None:
    await telegram.say(text_update(1, "what are your opening hours?"), 1)
    assert "10:00–21:00" in fake.texts(CHAT)[-1]

    await telegram.say(text_update(2, "我的手机开不了机"), 3)
    prompt = fake.messages[CHAT][-1]
    assert "长按电源键 10 秒" in prompt["visible"]
    _, buttons = telegram.keyboard()
    assert buttons, "a yes/no question is asked with inline buttons"
    no = next(b for b in buttons if b["text"] in ("否", "不是", "没有", "No", "no"))
    await telegram.say(press_update(3, no["callback_data"], message_id=prompt["id"]), 4)
    assert "充电" in fake.texts(CHAT)[-1]


@pytest.mark.parametrize(
    ("start", "first", "answer"),
    [
        ("/start", "my phone won't turn on", "hold the power button"),
        ("/start ref-7f3a9c", "我的手机开不了机", "长按电源键"),
    ],
)
async def test_telegram_start_greets_and_the_first_message_is_understood(
    telegram: DemoOnTelegram, fake: FakeBotApi, start: str, first: str, answer: str
) -> None:
    await telegram.say(text_update(1, start), 1)
    # The greeting, never the "device won't turn on" flow that "it won't start" resembles.
    assert "Frontdesk assistant" in fake.texts(CHAT)[-1]
    await telegram.say(text_update(2, first), 3)
    assert answer in fake.texts(CHAT)[-1]
    assert not any("doesn't look right" in t or "格式" in t for t in fake.texts(CHAT))


async def test_telegram_start_with_a_deep_link_naming_a_flow_starts_it(
    telegram: DemoOnTelegram, fake: FakeBotApi
) -> None:
    await telegram.say(text_update(1, "/start order_status"), 1)
    assert "order number" in fake.texts(CHAT)[-1]


@pytest.mark.parametrize(
    ("opening", "unclear", "light"),
    [
        ("my phone won't turn on", "banana", "charging light"),
        ("手机开不了机", "香蕉", "充电指示灯"),
    ],
)
async def test_telegram_button_of_a_re_asked_question_has_expired(
    telegram: DemoOnTelegram, fake: FakeBotApi, opening: str, unclear: str, light: str
) -> None:
    await telegram.say(text_update(1, opening), 2)
    old_id, old_buttons = telegram.keyboard()
    await telegram.say(text_update(2, unclear), 4)  # not an answer: the question is asked again
    new_id, new_buttons = telegram.keyboard()
    assert new_id != old_id
    response = await telegram.client.post(
        "/webhooks/telegram",
        json=press_update(3, old_buttons[0]["callback_data"], message_id=old_id),  # "Yes"
        headers=secret_headers(),
    )
    assert response.status == 200
    (answer,) = await fake.wait_for("answerCallbackQuery", 1)
    assert "This question has expired" in answer.params["text"]
    assert "这个问题已过期" in answer.params["text"]
    events = await all_events(telegram.app)
    assert [e.data["text"] for e in events if e.type == "message.in"] == [opening, unclear]
    # The current copy still answers: "No" moves on to the charging light.
    await telegram.say(press_update(4, new_buttons[1]["callback_data"], message_id=new_id), 5)
    assert light in fake.texts(CHAT)[-1]


async def test_webchat_visitor_gets_the_demo_bot(
    aiohttp_client: Any, tmp_path: Path, action_server: Any
) -> None:
    env = webchat_env(tmp_path)
    bot = DialogEngine.from_path(DEMO, action_endpoint=action_server.url)
    client = await aiohttp_client(create_app(webchat_config(tmp_path, env), environ=env, bot=bot))
    async with client.ws_connect("/webchat/ws") as ws:
        await hello(ws)
        await ws.send_json({"type": "message", "id": "c1", "text": "where is my order"})
        frames = await frames_until(
            ws, lambda f: f["type"] == "message" and f["direction"] == "out"
        )
        asked = frames[-1]["text"]
        assert "order number" in asked.lower()
        await ws.send_json({"type": "message", "id": "c2", "text": "20261001"})
        frames = await frames_until(
            ws,
            lambda f: (
                f["type"] == "message" and f["direction"] == "out" and "20261001" in f["text"]
            ),
        )
        assert "shipped" in frames[-1]["text"].lower()
