"""Helpers for the Telegram tests: a hub configured against the fake Bot API, update
builders with the real JSON shapes, and small bots that answer like an FAQ."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient

from connectors.telegram.connector import SECRET_HEADER, TelegramConnector
from hub.abc import ConversationHandler, Turn, TurnResult
from hub.api import HUB
from hub.hub import Hub
from hub.model import Button, Event, Outbound
from tests.connectors.hub_app import hub_app
from tests.connectors.telegram.fake_bot_api import TOKEN, FakeBotApi

FIXTURES = Path(__file__).parent / "fixtures"
SECRET = "s3cret-webhook_token"
CHAT = 987654321  # Ana, the customer in the recorded fixtures
WEBHOOK_URL = "https://localhost/webhooks/telegram"
LONG_PAYLOAD = '/handoff{"reason": "asked for a person", "skill": "billing", "priority": 2}'
OPENING_HOURS = "We are open 9:00-18:00, Monday to Friday."


def fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    return data


def telegram_app(
    tmp_path: Path,
    fake: FakeBotApi,
    *,
    bot: ConversationHandler,
    mode: str = "webhook",
    handoff_path: Path | None = None,
    store_url: str = "",
    **settings: Any,
) -> web.Application:
    """The whole hub, on SQLite in `tmp_path` (or on `store_url`), with Telegram pointed at
    the fake (and the hand-off configured by `handoff_path`, when given)."""
    channel = {
        "enabled": True,
        "mode": mode,
        "base_url": fake.base_url,
        "base_file_url": fake.base_file_url,
        "per_chat_interval": 0,
        "poll_timeout": 1,
        "reconnect_delay": 0.05,
        "reconnect_max_delay": 0.2,
        **settings,
    }
    if mode == "webhook":
        channel.setdefault("webhook_url", WEBHOOK_URL)
    env = {
        "FRONTDESK_STORE_URL": store_url or f"sqlite:///{tmp_path}/frontdesk.db",
        "FRONTDESK_TELEGRAM_TOKEN": TOKEN,
    }
    if mode == "webhook":
        env["FRONTDESK_TELEGRAM_SECRET"] = SECRET
    if handoff_path is not None:
        env["FRONTDESK_HANDOFF_PATH"] = str(handoff_path)
    return hub_app(tmp_path, channels={"telegram": channel}, environ=env, bot=bot)


def hub_of(app: web.Application) -> Hub:
    return app[HUB]


def connector_of(app: web.Application) -> TelegramConnector:
    connector = hub_of(app).connectors["telegram"]
    assert isinstance(connector, TelegramConnector)
    return connector


async def ready(app: web.Application) -> TelegramConnector:
    connector = connector_of(app)
    await asyncio.wait_for(connector.wait_ready(), 10)
    return connector


def secret_headers(secret: str = SECRET) -> dict[str, str]:
    return {SECRET_HEADER: secret}


WEBHOOK_PATH = "/webhooks/telegram"


async def post_update(
    client: TestClient[web.Request, web.Application],
    update: Any,
    headers: dict[str, str] | None = None,
) -> int:
    """POST one update to the webhook as Telegram does; the status the hub answered."""
    response = await client.post(WEBHOOK_PATH, json=update, headers=headers or secret_headers())
    return response.status


async def all_events(app: web.Application, chat: int = CHAT) -> list[Event]:
    conversation = await hub_of(app).latest_conversation(f"telegram:{chat}")
    assert conversation is not None
    return await hub_of(app).store.events(conversation.id, limit=1000)


async def wait_for_event(
    app: web.Application, event_type: str, count: int = 1, chat: int = CHAT
) -> None:
    """Until the chat's conversation logged `count` events of `event_type`."""

    async def arrived() -> None:
        while sum(e.type == event_type for e in await all_events(app, chat)) < count:
            await asyncio.sleep(0.02)

    await asyncio.wait_for(arrived(), 10)


def text_update(
    update_id: int, text: str, *, chat: int = CHAT, message_id: int = 0
) -> dict[str, Any]:
    """A private-chat text message, shaped like `fixtures/text_message.json`."""
    update = fixture("text_message")
    message = update["message"]
    message["text"] = text
    message["message_id"] = message_id or update_id
    message["chat"] = {**message["chat"], "id": chat}
    message["from"] = {**message["from"], "id": chat}
    update["update_id"] = update_id
    return update


def press_update(update_id: int, data: str, *, message_id: int, chat: int = CHAT) -> dict[str, Any]:
    """A tap on an inline button, shaped like `fixtures/callback_query.json`."""
    update = fixture("callback_query")
    query = update["callback_query"]
    query["id"] = f"cbq-{update_id}"
    query["data"] = data
    query["message"]["message_id"] = message_id
    query["message"]["chat"] = {**query["message"]["chat"], "id": chat}
    update["update_id"] = update_id
    return update


class FaqBot(ConversationHandler):
    """Just enough of an FAQ bot: a menu with buttons, one answer, a polite fallback."""

    async def handle(self, turn: Turn) -> TurnResult:
        text = turn.inbound.text
        if text == "/start":
            reply = Outbound(
                text="Hi! How can I help?",
                buttons=(
                    Button(title="Opening hours", payload="hours"),
                    Button(title="Talk to a person", payload=LONG_PAYLOAD),
                ),
            )
        elif "hours" in text.lower():
            reply = Outbound(text=OPENING_HOURS)
        elif text == LONG_PAYLOAD:
            reply = Outbound(text="Connecting you to a person.")
        elif turn.inbound.attachments and not text:
            kinds = ", ".join(sorted({a.kind for a in turn.inbound.attachments}))
            reply = Outbound(text=f"Thanks! I cannot read {kinds} yet; could you type it?")
        else:
            reply = Outbound(text=f"Sorry, I did not understand: {text}")
        return TurnResult(replies=(reply,))


class LongBot(ConversationHandler):
    """Answers every turn with the same long text."""

    def __init__(self, text: str) -> None:
        self.text = text

    async def handle(self, turn: Turn) -> TurnResult:
        return TurnResult(replies=(Outbound(text=self.text),))
