"""WeChat's refusals mapped onto the outbox: an invalid or expired token is refreshed and
the message tried once more; a rate limit or a 5xx comes back later; a closed 48-hour
window (by our clock or by WeChat's 45015) parks the reply with the reason."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest

from hub.echo import EchoBot
from tests.connectors.wechat.fake_wechat import FakeWeChatApi
from tests.connectors.wechat.harness import (
    OPENID,
    connector_of,
    push,
    sees,
    text,
    wait_for_event,
    wechat_app,
)


async def start(aiohttp_client: Any, tmp_path: Path, fake: FakeWeChatApi, **kw: Any) -> Any:
    return await aiohttp_client(
        wechat_app(tmp_path, fake, bot=EchoBot(), rate_limit_pause=0.05, **kw)
    )


@pytest.mark.parametrize("code", [40001, 42001])
async def test_an_invalid_or_expired_token_is_refreshed_and_the_message_sent_once_more(
    aiohttp_client: Any, tmp_path: Path, fake: FakeWeChatApi, code: int
) -> None:
    client = await start(aiohttp_client, tmp_path, fake)
    assert (await push(client, text(1, "first 第一")))[0] == 200
    await sees(fake, "first 第一")
    fake.fail("send", 200, {"errcode": code, "errmsg": "access_token expired"})
    assert (await push(client, text(2, "second 第二")))[0] == 200
    await sees(fake, "second 第二")
    assert fake.issued == 2  # one refresh, not one per attempt
    assert len(fake.called("send")) == 3  # first, the refused try, the one retry


async def test_a_token_refused_again_after_the_refresh_goes_back_to_the_outbox(
    aiohttp_client: Any, tmp_path: Path, fake: FakeWeChatApi
) -> None:
    client = await start(aiohttp_client, tmp_path, fake)
    fake.fail("send", 200, {"errcode": 40001, "errmsg": "invalid credential"}, times=2)
    assert (await push(client, text(1, "hello")))[0] == 200
    await sees(fake, "hello")  # the outbox's next attempt
    failed = await wait_for_event(client.app, "delivery.failed")
    assert (
        "fresh access token" in next(e for e in failed if e.type == "delivery.failed").data["error"]
    )


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (200, {"errcode": 45009, "errmsg": "reach max api daily quota limit"}),
        (200, {"errcode": -1, "errmsg": "system error"}),
        (502, {"errmsg": "bad gateway"}),
    ],
    ids=["45009-rate-limit", "system-busy", "5xx"],
)
async def test_rate_limits_and_outages_are_retried_later(
    aiohttp_client: Any, tmp_path: Path, fake: FakeWeChatApi, status: int, body: Any
) -> None:
    client = await start(aiohttp_client, tmp_path, fake)
    fake.fail("send", status, body)
    assert (await push(client, text(1, "你好 hello")))[0] == 200
    await sees(fake, "你好 hello")
    events = await wait_for_event(client.app, "delivery.failed")
    assert not [e for e in events if e.type == "delivery.parked"]


async def test_45015_parks_the_reply_with_the_reason(
    aiohttp_client: Any, tmp_path: Path, fake: FakeWeChatApi
) -> None:
    client = await start(aiohttp_client, tmp_path, fake)
    fake.fail("send", 200, {"errcode": 45015, "errmsg": "response out of time limit"})
    assert (await push(client, text(1, "late")))[0] == 200
    events = await wait_for_event(client.app, "delivery.parked")
    (parked,) = [e for e in events if e.type == "delivery.parked"]
    assert "48-hour window has closed" in parked.data["error"]
    assert len(fake.called("send")) == 1  # no retry can reopen the window


async def test_outside_the_48_hour_window_the_reply_is_parked_without_calling_wechat(
    aiohttp_client: Any, tmp_path: Path, fake: FakeWeChatApi
) -> None:
    client = await start(aiohttp_client, tmp_path, fake)
    connector_of(client.app).clock = lambda: time.time() + 49 * 3600
    assert (await push(client, text(1, "anyone there?")))[0] == 200
    events = await wait_for_event(client.app, "delivery.parked")
    (parked,) = [e for e in events if e.type == "delivery.parked"]
    assert "48-hour window closed at" in parked.data["error"]
    assert not fake.called("send")


async def test_a_long_reply_is_split_under_2048_bytes_and_resumes_after_its_sent_parts(
    aiohttp_client: Any, tmp_path: Path, fake: FakeWeChatApi
) -> None:
    client = await start(aiohttp_client, tmp_path, fake)
    words = "退货政策。" * 300  # 4,500 bytes of UTF-8
    fake.fail_call("send", 2, 502, {"errmsg": "bad gateway"})
    assert (await push(client, text(1, words)))[0] == 200
    for _ in range(3000):
        if len(fake.sent.get(OPENID, [])) >= 3:
            break
        await asyncio.sleep(0.01)
    parts = fake.texts(OPENID)
    assert len(parts) == 3
    assert all(len(part.encode()) <= 2048 for part in parts)
    assert "".join(parts) == f"You said: {words}".strip()


async def test_a_message_the_store_could_not_take_gets_no_success_and_wechats_retry_lands(
    aiohttp_client: Any, tmp_path: Path, fake: FakeWeChatApi
) -> None:
    client = await start(aiohttp_client, tmp_path, fake)
    connector = connector_of(client.app)
    real = connector.ingest
    calls = 0

    async def store_down_once(inbound: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise ConnectionError("store unreachable")
        return await real(inbound)

    connector.ingest = store_down_once
    status, answer = await push(client, text(1, "还在吗 still there?"))
    assert status == 503 and answer != "success"
    assert await push(client, text(1, "还在吗 still there?")) == (200, "success")
    await sees(fake, "还在吗 still there?")


async def test_a_refused_access_token_request_is_retried_with_the_reason(
    aiohttp_client: Any, tmp_path: Path, fake: FakeWeChatApi
) -> None:
    client = await start(aiohttp_client, tmp_path, fake)
    fake.fail(
        "token", 200, {"errcode": 40164, "errmsg": "invalid ip 203.0.113.9, not in whitelist"}
    )
    assert (await push(client, text(1, "hello 你好")))[0] == 200
    await sees(fake, "hello 你好")  # the next attempt got a token
    events = await wait_for_event(client.app, "delivery.failed")
    error = next(e for e in events if e.type == "delivery.failed").data["error"]
    assert "40164" in error and "IP whitelist" in error
