"""The access token: fetched once and shared through the store by every process (two
hubs on one SQLite file, or one Redis), never fetched by each."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis

from connectors.wechat.api import WeChatApi, WeChatError
from hub.echo import EchoBot
from hub.kv import KeyValue, RedisKeyValue, SQLiteKeyValue
from tests.connectors.wechat.fake_wechat import APP_ID, APP_SECRET, FakeWeChatApi
from tests.connectors.wechat.harness import hub_of, push, sees, text, wechat_app


def api(fake: FakeWeChatApi, kv: KeyValue, secret: str = APP_SECRET) -> WeChatApi:
    return WeChatApi(base_url=fake.base_url, app_id=APP_ID, app_secret=secret, timeout=5, kv=kv)


@pytest.mark.parametrize("backend", ["sqlite", "redis"])
async def test_many_processes_asking_at_once_fetch_one_token(
    fake: FakeWeChatApi, tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    def port() -> KeyValue:
        if backend == "sqlite":
            return SQLiteKeyValue(tmp_path / "frontdesk.db")
        return RedisKeyValue(request.getfixturevalue("redis_url"), prefix="wechat-test:")

    processes = [api(fake, port()) for _ in range(4)]  # each with its own connection
    try:
        tokens = await asyncio.gather(*(p.access_token() for p in processes for _ in range(3)))
        assert set(tokens) == {"ACCESS_TOKEN_1"}
        assert fake.issued == 1
        # A send refused for a retired token refreshes once, for everyone.
        fake.revoke()
        await processes[0].send({"touser": "o1", "msgtype": "text", "text": {"content": "hi"}})
        assert await processes[3].access_token() == "ACCESS_TOKEN_2"
        assert fake.issued == 2
    finally:
        for p in processes:
            await p.close()
            await p.kv.close()


async def test_a_wrong_secret_is_an_error_that_names_wechats_code(
    fake: FakeWeChatApi, tmp_path: Path
) -> None:
    client = api(fake, SQLiteKeyValue(tmp_path / "kv.db"), secret="wrong")
    try:
        with pytest.raises(WeChatError) as raised:
            await client.access_token()
        assert raised.value.code == 40125
        # The lease was given back: the next try fetches again at once.
        fake_calls = len(fake.called("token"))
        with pytest.raises(WeChatError):
            await client.access_token()
        assert len(fake.called("token")) == fake_calls + 1
    finally:
        await client.close()
        await client.kv.close()


async def test_tokens_are_kept_apart_per_account(fake: FakeWeChatApi, tmp_path: Path) -> Any:
    kv = SQLiteKeyValue(tmp_path / "kv.db")
    client = api(fake, kv)
    try:
        await client.access_token()
        assert await kv.get(f"wechat:token:{APP_ID}") == "ACCESS_TOKEN_1"
        assert await kv.get("wechat:token:wx0000000000000000") is None
    finally:
        await client.close()
        await kv.close()


async def test_on_a_redis_store_the_hub_keeps_the_token_in_redis(
    aiohttp_client: Any, tmp_path: Path, fake: FakeWeChatApi, redis_url: str
) -> None:
    app = wechat_app(tmp_path, fake, bot=EchoBot(), store_url=redis_url)
    client = await aiohttp_client(app)
    assert await push(client, text(1, "hi 你好")) == (200, "success")
    await sees(fake, "hi 你好")
    redis = Redis.from_url(redis_url, decode_responses=True)
    try:
        key = f"{hub_of(app).store.prefix}kv:wechat:token:{APP_ID}"  # type: ignore[attr-defined]
        assert await redis.get(key) == "ACCESS_TOKEN_1"
    finally:
        await redis.aclose()
