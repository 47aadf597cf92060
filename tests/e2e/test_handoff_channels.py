"""Channel journeys: web chat, Telegram (through the fake Bot API) and email (real SMTP) customers
ask for a person; an agent accepts over the API, sees the summary, holds a long conversation
during which the bot says nothing, resolves; the customer answers the CSAT question."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientWebSocketResponse
from aiohttp.test_utils import TestClient

from hub.api import HUB
from hub.app import create_app
from hub.config import load_config
from tests.connectors.telegram.fake_bot_api import TOKEN, FakeBotApi
from tests.connectors.telegram.harness import (
    CHAT,
    SECRET,
    WEBHOOK_URL,
    press_update,
    ready,
    secret_headers,
    text_update,
)
from tests.connectors.webchat.helpers import SECRET as WEBCHAT_SECRET
from tests.connectors.webchat.helpers import frames_until, hello
from tests.handoff.helpers import TinyBot, handoff_yaml
from tests.support import api_auth

H = "/api/v1/handoff"
BOT_WORDS = ("Try restarting", "Sorry, I didn't get that", "You're welcome", "I can get you")


def app_config(tmp_path: Path, channels: dict[str, Any]) -> dict[str, Any]:
    return {
        "bot": {"kind": "echo", "handoff_path": str(handoff_yaml(tmp_path))},
        "delivery": {
            "max_attempts": 4,
            "base_delay": 0.05,
            "max_delay": 0.2,
            "poll_interval": 0.05,
        },
        "logging": {"format": "text"},
        "channels": channels,
    }


def build(tmp_path: Path, channels: dict[str, Any], env: dict[str, str], bot: TinyBot) -> Any:
    path = tmp_path / "frontdesk.yaml"
    path.write_text(json.dumps(app_config(tmp_path, channels)), encoding="utf-8")
    env = {
        "FRONTDESK_STORE_URL": f"sqlite:///{tmp_path}/frontdesk.db",
        "FRONTDESK_API_TOKEN": "test-api-token",
        **env,
    }
    return create_app(load_config(path, env), environ=env, bot=bot)


async def api(client: TestClient, method: str, path: str, body: Any = None) -> Any:
    response = await client.request(method, f"{H}{path}", json=body, headers=api_auth())
    assert response.status < 300, await response.text()
    return await response.json()


async def agent_takes_over(
    client: TestClient, conversation_id: str, agent: str = "ana"
) -> dict[str, Any]:
    await api(client, "PUT", f"/agents/{agent}/presence", {"presence": "online"})
    for _ in range(500):  # the engine offers it as soon as Ana is online
        queue = await api(client, "GET", "/queue")
        if any(t["conversation_id"] == conversation_id for t in queue["assigned"]):
            break
        await asyncio.sleep(0.01)
    return await api(
        client, "POST", f"/conversations/{conversation_id}/accept", {"agent_id": agent}
    )


# ------------------------------------------------------------------ web chat


def out_text(fragment: str) -> Any:
    return lambda f: f["type"] == "message" and f["direction"] == "out" and fragment in f["text"]


async def ws_say(ws: ClientWebSocketResponse, number: int, text: str) -> None:
    await ws.send_json({"type": "message", "id": f"w{number}", "text": text})
    await frames_until(ws, lambda f: f["type"] == "ack" and f["id"] == f"w{number}")


async def test_web_chat_journey(aiohttp_client, tmp_path: Path) -> None:
    bot = TinyBot()
    app = build(
        tmp_path,
        {"webchat": {"enabled": True, "rate_per_second": 100, "rate_burst": 100}},
        {"FRONTDESK_WEBCHAT_SECRET": WEBCHAT_SECRET},
        bot,
    )
    client = await aiohttp_client(app)
    # Sue is online but lacks the hardware skill: the customer waits in the queue.
    await api(client, "PUT", "/agents/sue/presence", {"presence": "online"})
    async with client.ws_connect("/webchat/ws") as ws:
        await hello(ws)
        await ws_say(ws, 1, "my router is dead")
        await frames_until(ws, out_text("Try restarting"))
        await ws_say(ws, 2, "router still dead, I want to talk to a person")
        frames = await frames_until(ws, out_text("in the queue"))
        conversation_id = frames[-1]["conversation_id"]
        turns = bot.turns

        details = await agent_takes_over(client, conversation_id)
        assert details["summary"]["channel"] == "webchat"
        assert details["summary"]["what"]["intent"] == "router"
        await frames_until(ws, out_text("Ana from our team has joined"))

        seen: list[str] = []
        for number in range(12):  # a long agent conversation
            await ws_say(ws, 10 + number, f"question {number}: is the router fine? blah")
            await api(
                client,
                "POST",
                f"/conversations/{conversation_id}/reply",
                {"agent_id": "ana", "text": f"answer {number} <b>from Ana</b>"},
            )
            frames = await frames_until(ws, out_text(f"answer {number} <b>from Ana</b>"))
            seen += [
                f["text"] for f in frames if f["type"] == "message" and f["direction"] == "out"
            ]
        assert bot.turns == turns  # the bot never ran while Ana owned the conversation
        assert not any(word in text for text in seen for word in BOT_WORDS)

        await ws_say(ws, 40, "status")
        await frames_until(ws, out_text("being handled by Ana"))
        await api(client, "POST", f"/conversations/{conversation_id}/resolve", {"agent_id": "ana"})
        frames = await frames_until(ws, out_text("How satisfied"))
        assert [b["payload"] for b in frames[-1]["buttons"]][-1] == "/csat 5"
        await ws_say(ws, 41, "/csat 5")
        await frames_until(ws, out_text("Thank you for your feedback"))

    events = await app[HUB].store.events(conversation_id, limit=1000)
    answers = [e.data["score"] for e in events if e.type == "csat.answered"]
    assert answers == [5]


# ------------------------------------------------------------------ Telegram


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotApi]:
    api_server = FakeBotApi()
    await api_server.start()
    yield api_server
    await api_server.stop()


def build_telegram(tmp_path: Path, fake: FakeBotApi, bot: TinyBot) -> Any:
    """The hub with the Telegram channel (webhook mode) talking to the fake Bot API."""
    channel = {
        "enabled": True,
        "mode": "webhook",
        "webhook_url": WEBHOOK_URL,
        "base_url": fake.base_url,
        "base_file_url": fake.base_file_url,
        "per_chat_interval": 0,
    }
    env = {"FRONTDESK_TELEGRAM_TOKEN": TOKEN, "FRONTDESK_TELEGRAM_SECRET": SECRET}
    return build(tmp_path, {"telegram": channel}, env, bot)


async def test_telegram_journey(aiohttp_client, tmp_path: Path, fake: FakeBotApi) -> None:
    bot = TinyBot()
    app = build_telegram(tmp_path, fake, bot)
    client = await aiohttp_client(app)
    await ready(app)
    await api(client, "PUT", "/agents/sue/presence", {"presence": "online"})
    update = 0

    async def say(text: str) -> None:
        nonlocal update
        update += 1
        response = await client.post(
            "/webhooks/telegram", json=text_update(update, text), headers=secret_headers()
        )
        assert response.status == 200

    async def shown(fragment: str) -> str:
        for _ in range(1000):
            found = [t for t in fake.texts(CHAT) if fragment in t]
            if found:
                return found[-1]
            await asyncio.sleep(0.01)
        raise AssertionError(f"{fragment!r} never shown; saw {fake.texts(CHAT)}")

    await say("路由器坏了")
    await shown("请重启路由器")
    await say("路由器还是不行，转人工")
    await shown("正在为您转接人工客服")
    conversation = await app[HUB].latest_conversation(f"telegram:{CHAT}")
    assert conversation is not None
    turns = bot.turns

    details = await agent_takes_over(client, conversation.id, "bo")  # Bo speaks Chinese
    assert details["ticket"]["language"] == "zh"
    assert details["summary"]["who"]["channels"] == ["telegram"]
    await shown("客服 Bo 已接入")

    for number in range(12):
        await say(f"第{number}个问题：路由器灯不亮")
        await api(
            client,
            "POST",
            f"/conversations/{conversation.id}/reply",
            {"agent_id": "bo", "text": f"回答 {number}"},
        )
        await shown(f"回答 {number}")
    assert bot.turns == turns
    assert not any(word in text for text in fake.texts(CHAT)[3:] for word in ("请重启",))

    await say("进度")
    await shown("正由客服 Bo 处理")
    await api(client, "POST", f"/conversations/{conversation.id}/resolve", {"agent_id": "bo"})
    await shown("您对本次服务满意吗")
    rating = next(m for m in fake.messages[CHAT] if "满意吗" in m["visible"])
    buttons = [b for row in rating["markup"]["inline_keyboard"] for b in row]
    assert [b["text"] for b in buttons] == ["1", "2", "3", "4", "5"]
    update += 1
    response = await client.post(
        "/webhooks/telegram",
        json=press_update(update, buttons[3]["callback_data"], message_id=rating["id"]),
        headers=secret_headers(),
    )
    assert response.status == 200
    await shown("感谢您的评价")
    events = await app[HUB].store.events(conversation.id, limit=1000)
    assert [e.data["score"] for e in events if e.type == "csat.answered"] == [4]


# ------------------------------------------------------------------ email


async def test_email_journey(aiohttp_client, tmp_path: Path) -> None:
    from email.message import EmailMessage

    from tests.connectors.email.harness import (
        SUPPORT,
        CaptureRelay,
        plain_text,
        reply_to,
        send_mail,
    )

    relay = CaptureRelay()
    await relay.start()
    bot = TinyBot()
    channel = {
        "enabled": True,
        "address": SUPPORT,
        "name": "Example Support",
        "inbound": "smtp",
        "sender_auth": "off",  # unsigned test mail; sender authentication is tested apart
        "smtp_in": {"host": "127.0.0.1", "port": 0},
        "relay": {"host": "127.0.0.1", "port": relay.port, "security": "none"},
    }
    app = build(tmp_path, {"email": channel}, {}, bot)
    client = await aiohttp_client(app)
    port = app[HUB].connectors["email"].receiver.port
    customer = "carla@example.net"
    try:
        await api(client, "PUT", "/agents/sue/presence", {"presence": "online"})
        first = EmailMessage()
        first["From"], first["To"], first["Subject"] = customer, SUPPORT, "Router"
        first["Message-ID"] = "<router-1@example.net>"
        first.set_content("my router is dead")
        await send_mail(port, first.as_bytes(), sender=customer)

        async def next_mail(count: int, fragment: str) -> EmailMessage:
            mail = (await relay.wait_for(count))[count - 1]
            assert fragment in plain_text(mail), plain_text(mail)
            return mail

        async def answer(mail: EmailMessage, text: str) -> None:
            await send_mail(port, reply_to(mail, text, sender=customer), sender=customer)

        last = await next_mail(1, "Try restarting")
        await answer(last, "router still dead, I want to talk to a person")
        last = await next_mail(2, "in the queue")
        conversation = await app[HUB].latest_conversation(f"email:{customer}")
        assert conversation is not None
        turns = bot.turns

        details = await agent_takes_over(client, conversation.id)
        assert details["summary"]["channel"] == "email"
        last = await next_mail(3, "Ana from our team has joined")
        count = 3
        for number in range(6):  # a long agent conversation, by mail
            await answer(last, f"question {number}: is the router fine?")
            await api(
                client,
                "POST",
                f"/conversations/{conversation.id}/reply",
                {"agent_id": "ana", "text": f"answer {number} from Ana"},
            )
            count += 1
            last = await next_mail(count, f"answer {number} from Ana")
        assert bot.turns == turns  # the bot never ran while Ana owned the conversation
        texts = [plain_text(mail) for mail in relay.messages[3:]]
        assert not any(word in text for text in texts for word in BOT_WORDS)
        assert len(relay.messages) == count  # nothing but Ana's answers went out

        await api(client, "POST", f"/conversations/{conversation.id}/resolve", {"agent_id": "ana"})
        last = await next_mail(count + 1, "How satisfied")
        await answer(last, "5")  # the numbered list stands in for the buttons
        await next_mail(count + 2, "Thank you for your feedback")
    finally:
        await relay.stop()
    events = await app[HUB].store.events(conversation.id, limit=1000)
    assert [e.data["score"] for e in events if e.type == "csat.answered"] == [5]
