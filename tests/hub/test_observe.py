"""Liveness, readiness and metrics: a store outage is a 503 the client may retry, never a 500."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from aiohttp.test_utils import unused_port
from redis.exceptions import ClusterDownError, TryAgainError
from redis.exceptions import ConnectionError as RedisConnectionError

from hub.app import create_app
from hub.echo import EchoBot
from hub.errors import Contention, LeaseLost
from hub.store_redis_core import RedisCore
from hub.stores import is_outage
from tests.action_server import ActionServer
from tests.redis_server import RedisServer
from tests.support import api_auth, channel_auth, hub_config, hub_env

MESSAGE = "/api/v1/channels/api/messages"


async def test_readyz_follows_the_store_and_healthz_stays_live(
    aiohttp_client, tmp_path: Path, redis_server: RedisServer, redis_url: str
) -> None:
    env = hub_env(tmp_path, FRONTDESK_STORE_URL=redis_url, FRONTDESK_BOT="echo")
    client = await aiohttp_client(create_app(hub_config(env), environ=env, bot=EchoBot()))
    ready = await client.get("/readyz")
    assert ready.status == 200
    assert (await ready.json())["checks"] == {"store": "ok"}

    redis_server.stop()  # the store goes away under a running hub
    try:
        not_ready = await client.get("/readyz")
        assert not_ready.status == 503
        assert not_ready.headers["Retry-After"].isdigit()
        assert (await not_ready.json())["checks"] == {"store": "failing"}
        assert (await client.get("/healthz")).status == 200  # liveness is not readiness

        listed = await client.get("/api/v1/conversations", headers=api_auth())
        assert listed.status == 503 and listed.headers["Retry-After"].isdigit()
        assert "store is unavailable" in (await listed.json())["error"]["message"]
        for text in ("hello", "你好"):  # the sender may retry: nothing was acknowledged
            sent = await client.post(
                MESSAGE, json={"id": text, "sender": "a", "text": text}, headers=channel_auth()
            )
            assert sent.status == 503, await sent.text()
    finally:
        redis_server.start()

    assert (await client.get("/readyz")).status == 200
    for text in ("hello", "你好"):
        sent = await client.post(
            MESSAGE, json={"id": text, "sender": "a", "text": text}, headers=channel_auth()
        )
        assert sent.status == 202, await sent.text()


async def test_readyz_checks_the_action_server_when_one_is_configured(
    aiohttp_client, tmp_path: Path, action_server: ActionServer
) -> None:
    env = hub_env(tmp_path, FRONTDESK_ACTION_ENDPOINT=action_server.url)
    client = await aiohttp_client(create_app(hub_config(env), environ=env))
    ready = await client.get("/readyz")
    assert ready.status == 200
    assert (await ready.json())["checks"] == {"store": "ok", "action_server": "ok"}

    gone = f"http://127.0.0.1:{unused_port()}/webhook"
    env = hub_env(tmp_path / "b", FRONTDESK_ACTION_ENDPOINT=gone)
    client = await aiohttp_client(create_app(hub_config(env), environ=env))
    not_ready = await client.get("/readyz")
    assert not_ready.status == 503
    checks = (await not_ready.json())["checks"]
    assert checks == {"store": "ok", "action_server": "failing"}


async def test_metrics_need_the_api_token_unless_configured_public(
    aiohttp_client, tmp_path: Path
) -> None:
    env = hub_env(tmp_path)
    client = await aiohttp_client(create_app(hub_config(env), environ=env, bot=EchoBot()))
    refused = await client.get("/metrics")
    assert refused.status == 401
    assert "frontdesk_" not in await refused.text()
    allowed = await client.get("/metrics", headers=api_auth())
    assert allowed.status == 200 and "frontdesk_" in await allowed.text()

    env = hub_env(tmp_path / "public", FRONTDESK_METRICS_PUBLIC="true")
    client = await aiohttp_client(create_app(hub_config(env), environ=env, bot=EchoBot()))
    assert (await client.get("/metrics")).status == 200


async def test_server_header_names_no_versions(aiohttp_client, tmp_path: Path) -> None:
    env = hub_env(tmp_path)
    client = await aiohttp_client(create_app(hub_config(env), environ=env, bot=EchoBot()))
    for path in ("/healthz", "/no-such-page", "/console/login", "/webchat/widget.js"):
        response = await client.get(path)
        assert response.headers["Server"] == "Frontdesk", path


def test_outages_are_told_apart_from_bugs() -> None:
    assert is_outage(RedisConnectionError("Connection refused"))
    assert is_outage(ClusterDownError("CLUSTERDOWN The cluster is down"))
    assert is_outage(TryAgainError("TRYAGAIN Multiple keys request during rehashing of slot"))
    assert is_outage(LeaseLost("conv:con_1: lease 3 is no longer held"))
    assert is_outage(Contention("the outbox of con_1 kept changing"))
    assert is_outage(sqlite3.OperationalError("database or disk is full"))
    assert is_outage(sqlite3.OperationalError("attempt to write a readonly database"))
    try:
        try:
            raise RedisConnectionError("Connection refused")
        except RedisConnectionError as cause:
            raise RuntimeError("while appending") from cause
    except RuntimeError as wrapped:
        assert is_outage(wrapped)
    assert not is_outage(sqlite3.OperationalError("no such column: nope"))
    assert not is_outage(KeyError("conversation"))


async def test_a_write_that_keeps_meeting_other_processes_is_a_503_to_retry(
    aiohttp_client, tmp_path: Path, redis_url: str, monkeypatch
) -> None:
    """A checked Redis write that other processes' changes refused past its retries (a
    sender merged and merged again mid-message) wrote nothing: the client is told to retry."""
    env = hub_env(tmp_path, FRONTDESK_STORE_URL=redis_url, FRONTDESK_BOT="echo")
    client = await aiohttp_client(create_app(hub_config(env), environ=env, bot=EchoBot()))
    original = RedisCore.record_inbound_and_lease

    async def refused(*args: object, **kwargs: object) -> object:
        raise Contention("the customer or open conversations of api:a kept changing")

    monkeypatch.setattr(RedisCore, "record_inbound_and_lease", refused)
    for text in ("where is my order", "我的订单在哪里"):
        sent = await client.post(
            MESSAGE, json={"id": text, "sender": "a", "text": text}, headers=channel_auth()
        )
        assert sent.status == 503, await sent.text()
        assert sent.headers["Retry-After"].isdigit()
    monkeypatch.setattr(RedisCore, "record_inbound_and_lease", original)
    for text in ("where is my order", "我的订单在哪里"):  # the same resend is then stored
        sent = await client.post(
            MESSAGE, json={"id": text, "sender": "a", "text": text}, headers=channel_auth()
        )
        assert sent.status == 202, await sent.text()
