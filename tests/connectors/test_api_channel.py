"""The api channel's edge: authentication and every kind of bad input, through the server."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.api import parse_message, render_delivery, sign, verify
from hub.app import create_app
from hub.echo import EchoBot
from hub.errors import InputError
from hub.model import Button, Delivery, Outbound
from tests.support import api_auth, channel_auth, hub_config, hub_env

URL = "/api/v1/channels/api/messages"


@pytest.fixture
async def client(aiohttp_client, tmp_path: Path):
    env = hub_env(tmp_path)
    return await aiohttp_client(create_app(hub_config(env), environ=env, bot=EchoBot()))


async def assert_nothing_stored(client) -> None:
    response = await client.get("/api/v1/conversations", headers=api_auth())
    assert (await response.json())["items"] == []


@pytest.mark.parametrize(
    ("headers", "why"),
    [
        ({}, "no header"),
        ({"Authorization": "Bearer nope"}, "wrong"),
        ({"Authorization": "Basic x"}, "scheme"),
    ],
)
async def test_channel_requires_its_token(client, headers, why) -> None:
    response = await client.post(
        URL, json={"id": "1", "sender": "a", "text": "hi"}, headers=headers
    )
    assert response.status == 401, why
    assert "bearer token" in (await response.json())["error"]["message"]
    await assert_nothing_stored(client)


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (b"{not json", 400, "not valid JSON"),
        (b"\xff\xfe\x00bad", 400, "not valid UTF-8"),
        (b"", 400, "body is empty"),
        (b"[1, 2]", 422, "must be a JSON object"),
        (b'{"sender": "a", "text": "hi"}', 422, "field 'id' is required"),
        (b'{"id": "1", "text": "hi"}', 422, "field 'sender' is required"),
        (b'{"id": "1", "sender": "a"}', 422, "field 'text' is required"),
        (
            b'{"id": 7, "sender": "a", "text": "hi"}',
            422,
            "field 'id' must be a string, not a number",
        ),
        (
            b'{"id": "1", "sender": "a", "text": ["x"]}',
            422,
            "field 'text' must be a string, not a list",
        ),
        (b'{"id": "1", "sender": "", "text": "hi"}', 422, "field 'sender' must not be empty"),
        (b'{"id": "1", "sender": "a", "text": "hi", "attachments": {}}', 422, "must be a list"),
        (
            b'{"id": "1", "sender": "a", "text": "hi", "attachments": [{"url": "x"}]}',
            422,
            "field 'kind' is required",
        ),
        (b'{"id": "1", "sender": "a", "text": "hi", "timestamp": "now"}', 422, "must be a number"),
    ],
)
async def test_bad_bodies_get_a_precise_error_and_store_nothing(
    client, body, status, message
) -> None:
    response = await client.post(
        URL, data=body, headers={**channel_auth(), "Content-Type": "application/json"}
    )
    assert response.status == status
    error = (await response.json())["error"]
    assert message in error["message"]
    assert "Traceback" not in error["message"]
    await assert_nothing_stored(client)


async def test_oversized_body_is_refused(client) -> None:
    big = b'{"id": "1", "sender": "a", "text": "' + b"x" * 70_000 + b'"}'
    response = await client.post(URL, data=big, headers=channel_auth())
    assert response.status == 413
    assert "65536" in (await response.json())["error"]["message"]
    await assert_nothing_stored(client)


async def test_unknown_channel_is_404(client) -> None:
    response = await client.post("/api/v1/channels/fax/messages", json={}, headers=channel_auth())
    assert response.status == 404
    assert "fax" in (await response.json())["error"]["message"]


async def test_duplicate_id_is_acknowledged_once(client) -> None:
    message = {"id": "same", "sender": "a", "text": "hi"}
    first = await client.post(URL, json=message, headers=channel_auth())
    second = await client.post(URL, json=message, headers=channel_auth())
    assert (first.status, second.status) == (202, 200)
    one, two = await first.json(), await second.json()
    assert (one["duplicate"], two["duplicate"]) == (False, True)
    assert one["seq"] == two["seq"] and one["conversation_id"] == two["conversation_id"]


async def test_read_api_requires_the_api_token(client) -> None:
    for path in ("/api/v1/conversations", "/api/v1/customers", "/api/v1/deliveries/parked"):
        assert (await client.get(path)).status == 401
        assert (await client.get(path, headers=channel_auth())).status == 401
        assert (await client.get(path, headers=api_auth())).status == 200
    assert (await client.post("/api/v1/deliveries/x/redrive")).status == 401


async def test_read_api_validates_query_parameters(client) -> None:
    bad = await client.get("/api/v1/conversations?limit=abc", headers=api_auth())
    assert bad.status == 400 and "limit" in (await bad.json())["error"]["message"]
    bad = await client.get("/api/v1/conversations?status=sleeping", headers=api_auth())
    assert bad.status == 400 and "status" in (await bad.json())["error"]["message"]
    missing = await client.get("/api/v1/conversations/con_nope/events", headers=api_auth())
    assert missing.status == 404


async def test_health_and_metrics(client) -> None:
    health = await client.get("/healthz")
    assert health.status == 200 and "api" in (await health.json())["channels"]
    await client.post(URL, json={"id": "1", "sender": "a", "text": "hi"}, headers=channel_auth())
    metrics = await (await client.get("/metrics", headers=api_auth())).text()
    assert 'frontdesk_inbound_total{channel="api"} 1' in metrics


def test_parse_message_keeps_attachments_and_metadata() -> None:
    inbound = parse_message(
        {
            "id": "9",
            "sender": "crm-42",
            "text": "",
            "thread": "T-1",
            "attachments": [{"kind": "image", "url": "https://example.test/a.png", "size": 10}],
            "metadata": {"source": "crm"},
        },
        received_at=5.0,
        max_text_length=100,
    )
    assert inbound.identity == "api:crm-42"
    assert inbound.attachments[0].kind == "image" and inbound.attachments[0].size == 10
    assert inbound.thread_hint == "T-1" and inbound.timestamp == 5.0
    assert inbound.raw == {"metadata": {"source": "crm"}}
    with pytest.raises(InputError, match="longer than 100"):
        parse_message(
            {"id": "1", "sender": "a", "text": "x" * 101}, received_at=0, max_text_length=100
        )


def test_render_and_signature_round_trip() -> None:
    delivery = Delivery(
        id="dlv_1",
        conversation_id="con_1",
        seq=3,
        channel="api",
        address="crm-42",
        thread_hint="",
        outbound=Outbound(text="Pick one", buttons=(Button(title="Yes", payload="/affirm"),)),
    )
    body = render_delivery(delivery)
    assert body["buttons"] == [{"title": "Yes", "payload": "/affirm"}]
    assert body["delivery_id"] == "dlv_1" and body["recipient"] == "crm-42"
    header = sign("s3cret", b"{}", timestamp=1000)
    assert verify("s3cret", b"{}", header, now=1010)
    assert not verify("s3cret", b"{ }", header, now=1010)
    assert not verify("s3cret", b"{}", header, now=5000)  # too old: replay refused
    assert not verify("s3cret", b"{}", "garbage", now=1000)
