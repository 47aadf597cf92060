"""Two hub processes on one Redis store (one server and, for the rate and polling, a
three-master cluster) serve one bot: Telegram's per-bot rate is booked by both together,
so their sends never share a slot (each process on its own would send at once); a long
reply split in parts resumes on the other process after the first stopped halfway,
without repeating a part; in polling mode one process calls getUpdates and the other
takes over when it stops."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from hub.echo import EchoBot
from hub.model import EventType
from tests.connectors.telegram.fake_bot_api import FakeBotApi
from tests.connectors.telegram.harness import (
    CHAT,
    LongBot,
    all_events,
    ready,
    secret_headers,
    telegram_app,
    text_update,
)

PER_SECOND = 0.5  # one send of the bot every two seconds
TEXTS = {"en": ("hello", "where is my parcel"), "zh": ("你好", "我的包裹在哪里")}
OTHER_CHAT = 123456789


async def _client(app: Any) -> TestClient[Any, Any]:
    client: TestClient[Any, Any] = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    return client


@pytest.mark.parametrize("language", ["en", "zh"])
async def test_two_processes_share_the_bots_send_rate(
    tmp_path: Path, fake: FakeBotApi, shared_store_url: str, language: str
) -> None:
    for n in range(2):
        (tmp_path / f"p{n}").mkdir()
    apps = [
        telegram_app(
            tmp_path / f"p{n}",
            fake,
            bot=EchoBot(),
            store_url=shared_store_url,
            max_per_second=PER_SECOND,
            max_queue_wait=30,
        )
        for n in range(2)
    ]
    clients = [await _client(app) for app in apps]
    try:
        for app in apps:
            await ready(app)
        first, second = TEXTS[language]
        for n, (text, chat) in enumerate(((first, 987654321), (second, OTHER_CHAT))):
            update = text_update(n + 1, text, chat=chat)
            response = await clients[n].post(
                "/webhooks/telegram", json=update, headers=secret_headers()
            )
            assert response.status == 200
        sent = await fake.wait_for("sendMessage", 2, timeout=60)
        # Different ticks of the shared budget: two seconds apart (with room for a slow
        # machine sending the first one late); each process on its own would send both
        # within milliseconds of each other.
        assert sent[1].at - sent[0].at > 1 / PER_SECOND / 2
        assert sorted(call.params["text"] for call in sent) == sorted(
            f"You said: {text}" for text in TEXTS[language]
        )
    finally:
        for client in clients:
            await client.close()


@pytest.mark.parametrize("language", ["en", "zh"])
async def test_a_split_reply_resumes_on_the_other_process(
    tmp_path: Path, fake: FakeBotApi, redis_url: str, language: str
) -> None:
    letters = {"en": "abc", "zh": "甲乙丙"}[language]
    text = "\n\n".join(letter * 3000 for letter in letters)  # three messages' worth
    for n in range(2):
        (tmp_path / f"p{n}").mkdir()
    apps = [
        telegram_app(tmp_path / f"p{n}", fake, bot=LongBot(text), store_url=redis_url)
        for n in range(2)
    ]
    clients = [await _client(app) for app in apps]
    try:
        for app in apps:
            await ready(app)
        fake.fail_from("sendMessage", 2, 502, "Bad Gateway")  # after the first part: down
        update = text_update(
            1, {"en": "the long answer please", "zh": "请给我详细的回答"}[language]
        )
        response = await clients[0].post(
            "/webhooks/telegram", json=update, headers=secret_headers()
        )
        assert response.status == 200
        await fake.wait_for("sendMessage", 2, timeout=60)  # part one sent, part two refused
        await clients[0].close()  # the first process stops halfway through the reply
        fake.recover("sendMessage")
        await fake.wait_for("sendMessage", 4, timeout=60)

        async def delivered() -> bool:
            return any(e.type == EventType.DELIVERED for e in await all_events(apps[1]))

        async with asyncio.timeout(60):
            while not await delivered():
                await asyncio.sleep(0.05)
        assert [part[0] for part in fake.texts(CHAT)] == list(letters)  # none resent
    finally:
        for client in clients:
            await client.close()


@pytest.mark.parametrize("language", ["en", "zh"])
async def test_one_process_polls_and_the_other_takes_over(
    tmp_path: Path, fake: FakeBotApi, shared_store_url: str, language: str
) -> None:
    first, second = TEXTS[language]
    for n in range(2):
        (tmp_path / f"p{n}").mkdir()
    apps = [
        telegram_app(
            tmp_path / f"p{n}", fake, bot=EchoBot(), mode="polling", store_url=shared_store_url
        )
        for n in range(2)
    ]
    clients = [await _client(app) for app in apps]
    try:
        connectors = [await ready(app) for app in apps]

        async def one_polling() -> int:
            async with asyncio.timeout(60):
                while [c.polling for c in connectors].count(True) != 1:
                    await asyncio.sleep(0.05)
            return [c.polling for c in connectors].index(True)

        leader = await one_polling()
        await fake.push_update(text_update(1, first))
        await fake.wait_for("sendMessage", 1, timeout=60)
        assert [c.polling for c in connectors].count(True) == 1

        await clients[leader].close()  # the polling process stops
        follower = connectors[1 - leader]
        await fake.push_update(text_update(2, second))
        await fake.wait_for("sendMessage", 2, timeout=60)
        assert follower.polling
        assert fake.texts(CHAT) == [f"You said: {first}", f"You said: {second}"]
    finally:
        for client in clients:
            await client.close()
