"""When Telegram says no: rate limits, blocked users, network trouble, a bad token at start."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web
from aiohttp.test_utils import TestClient

from hub.echo import EchoBot
from hub.model import EventType
from tests.connectors.telegram.fake_bot_api import FakeBotApi
from tests.connectors.telegram.harness import (
    CHAT,
    WEBHOOK_PATH,
    LongBot,
    all_events,
    hub_of,
    ready,
    secret_headers,
    telegram_app,
    text_update,
    wait_for_event,
)


async def say(client: TestClient[web.Request, web.Application], update_id: int, text: str) -> None:
    response = await client.post(
        WEBHOOK_PATH, json=text_update(update_id, text), headers=secret_headers()
    )
    assert response.status == 200


async def test_429_retry_after_is_honoured(
    aiohttp_client, tmp_path: Path, fake: FakeBotApi
) -> None:
    fake.fail("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
    app = telegram_app(tmp_path, fake, bot=EchoBot())
    client = await aiohttp_client(app)
    await ready(app)
    await say(client, 1, "hello")
    first, second = await fake.wait_for("sendMessage", 2)
    assert second.at - first.at >= 1.0  # not before Telegram said it may
    assert fake.texts(CHAT) == ["You said: hello"]
    await wait_for_event(app, EventType.DELIVERED)


async def test_blocked_user_is_parked_without_retries(
    aiohttp_client, tmp_path: Path, fake: FakeBotApi
) -> None:
    fake.blocked.add(CHAT)
    app = telegram_app(tmp_path, fake, bot=EchoBot())
    client = await aiohttp_client(app)
    await ready(app)
    await say(client, 1, "hello")
    await wait_for_event(app, EventType.DELIVERY_PARKED)
    parked = (await hub_of(app).store.dead_letters(limit=10)).items
    assert len(parked) == 1
    assert "403" in parked[0].last_error and "blocked" in parked[0].last_error
    assert len(fake.called("sendMessage")) == 1  # parked at once: no retry budget spent


async def test_network_errors_retry_through_the_outbox(
    aiohttp_client, tmp_path: Path, fake: FakeBotApi
) -> None:
    fake.fail("sendMessage", 502, "Bad Gateway", times=2)
    app = telegram_app(tmp_path, fake, bot=EchoBot())
    client = await aiohttp_client(app)
    await ready(app)
    await say(client, 1, "hello")
    await fake.wait_for("sendMessage", 3)
    await wait_for_event(app, EventType.DELIVERED)
    failed = [e for e in await all_events(app) if e.type == EventType.DELIVERY_FAILED]
    assert len(failed) == 2
    assert fake.texts(CHAT) == ["You said: hello"]


async def test_split_reply_resumes_after_a_failure(
    aiohttp_client, tmp_path: Path, fake: FakeBotApi
) -> None:
    text = "\n\n".join(["a" * 3000, "b" * 3000, "c" * 3000])
    fake.fail_call("sendMessage", 2, 502, "Bad Gateway")  # the second part fails once
    app = telegram_app(tmp_path, fake, bot=LongBot(text))
    client = await aiohttp_client(app)
    await ready(app)
    await say(client, 1, "long please")
    await fake.wait_for("sendMessage", 4)
    await wait_for_event(app, EventType.DELIVERED)
    assert [part[0] for part in fake.texts(CHAT)] == ["a", "b", "c"]  # "a" was not resent


async def test_unreachable_telegram_at_start_is_retried(
    aiohttp_client, tmp_path: Path, fake: FakeBotApi
) -> None:
    fake.fail("getMe", 401, "Unauthorized", times=2)  # a token Telegram rejects
    fake.fail("getMe", 502, "Bad Gateway")  # then the network
    app = telegram_app(tmp_path, fake, bot=EchoBot())
    client = await aiohttp_client(app)
    response = await client.get("/healthz")  # the hub serves meanwhile
    assert response.status == 200
    await ready(app)
    assert len(fake.called("getMe")) >= 4
    assert fake.called("setWebhook")
    await say(client, 1, "hello")
    await fake.wait_for("sendMessage", 1)


async def test_replies_keep_their_order_through_a_429(
    aiohttp_client, tmp_path: Path, fake: FakeBotApi
) -> None:
    fake.fail("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
    app = telegram_app(tmp_path, fake, bot=EchoBot())
    client = await aiohttp_client(app)
    await ready(app)
    await say(client, 1, "hello")
    await fake.wait_for("sendMessage", 1)  # refused: the chat waits a second
    await say(client, 2, "你好")  # the next turn's answer must not overtake it
    await fake.wait_for("sendMessage", 3)
    await wait_for_event(app, EventType.DELIVERED, 2)
    assert fake.texts(CHAT) == ["You said: hello", "You said: 你好"]
