"""The webhook end to end through the hub: handshake, signatures, store-then-200,
duplicates, bad bodies, statuses as receipts, reactions recorded."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from hub.echo import EchoBot
from tests.connectors.whatsapp.fake_graph import FakeGraphApi
from tests.connectors.whatsapp.harness import (
    NUMBER,
    VERIFY_TOKEN,
    all_events,
    hub_of,
    message,
    post,
    sign,
    status,
    text,
    wait_for_event,
    webhook,
    whatsapp_app,
)

PATH = "/webhooks/whatsapp"


@pytest.fixture
async def client(aiohttp_client: Any, tmp_path: Path, fake: FakeGraphApi) -> Any:
    return await aiohttp_client(whatsapp_app(tmp_path, fake, bot=EchoBot()))


async def nothing_stored(client: Any) -> bool:
    return await hub_of(client.app).latest_conversation(f"whatsapp:{NUMBER}") is None


async def test_the_verification_handshake_echoes_the_challenge_only_for_the_right_token(
    client: Any,
) -> None:
    good = {
        "hub.mode": "subscribe",
        "hub.verify_token": VERIFY_TOKEN,
        "hub.challenge": "1158201444",
    }
    response = await client.get(PATH, params=good)
    assert response.status == 200 and await response.text() == "1158201444"
    for bad in ({**good, "hub.verify_token": "guess"}, {**good, "hub.mode": "unsubscribe"}, {}):
        assert (await client.get(PATH, params=bad)).status == 403


@pytest.mark.parametrize("words", ["Does it come in another color?", "有别的颜色吗？"])
async def test_a_signed_message_is_stored_then_answered(
    client: Any, fake: FakeGraphApi, words: str
) -> None:
    assert await post(client, text(1, words)) == 200
    await fake.wait_for("messages")
    assert fake.texts(NUMBER) == [f"You said: {words}"]
    events = await wait_for_event(client.app, "delivery.delivered")
    (incoming,) = [e for e in events if e.type == "message.in"]
    assert incoming.data["message_id"] == "wamid.IN000001"


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Hub-Signature-256": "sha256=" + "0" * 64},
        {"X-Hub-Signature-256": "sha1=abc"},
        "wrong-secret",
    ],
)
async def test_a_wrong_or_missing_signature_is_401_and_nothing_is_stored(
    client: Any, fake: FakeGraphApi, headers: Any
) -> None:
    body = json.dumps(text(1, "hello")).encode()
    if headers == "wrong-secret":
        headers = sign(body, secret="not-the-app-secret")
    response = await client.post(PATH, data=body, headers=headers)
    assert response.status == 401
    assert await nothing_stored(client)
    assert fake.calls == []


async def test_a_signature_of_another_body_is_refused(client: Any) -> None:
    original = json.dumps(text(1, "refund me 10")).encode()
    tampered = json.dumps(text(1, "refund me 1000")).encode()
    assert (await client.post(PATH, data=tampered, headers=sign(original))).status == 401
    assert await nothing_stored(client)


async def test_a_duplicate_delivery_is_stored_and_answered_once(
    client: Any, fake: FakeGraphApi
) -> None:
    for _ in range(3):
        assert await post(client, text(7, "hello")) == 200
    await wait_for_event(client.app, "delivery.delivered")
    events = await all_events(client.app)
    assert sum(e.type == "message.in" for e in events) == 1
    assert len(fake.sent[NUMBER]) == 1


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"{not json", 400),
        (b"[1, 2]", 400),
        (b'{"object": "whatsapp_business_account"}', 400),
        (b"", 400),
        (json.dumps({"x": "y" * 70_000}).encode(), 413),
    ],
)
async def test_bad_bodies_are_4xx_and_nothing_is_stored(
    client: Any, body: bytes, status: int
) -> None:
    response = await client.post(PATH, data=body, headers=sign(body))
    assert response.status == status
    assert "error" in await response.json()
    assert await nothing_stored(client)


async def test_statuses_become_receipts_on_the_reply_they_refer_to(
    client: Any, fake: FakeGraphApi
) -> None:
    await post(client, text(1, "hello"))
    events = await wait_for_event(client.app, "delivery.delivered")
    (delivered,) = [e for e in events if e.type == "delivery.delivered"]
    (wamid,) = delivered.data["receipt"]["message_ids"]
    for state in ("sent", "delivered", "delivered", "read"):  # Meta repeats itself
        assert await post(client, status(wamid, state)) == 200
    failed = [{"code": 131026, "title": "Message undeliverable"}]
    assert await post(client, status("wamid.unknown", "failed", errors=failed)) == 200
    receipts = [e.data for e in await all_events(client.app) if e.type == "delivery.receipt"]
    assert [(r["status"], r.get("delivery_id")) for r in receipts] == [
        ("sent", delivered.data["delivery_id"]),
        ("delivered", delivered.data["delivery_id"]),
        ("read", delivered.data["delivery_id"]),
        ("failed", None),
    ]
    assert receipts[-1]["errors"][0]["code"] == 131026


async def test_a_reaction_is_recorded_and_not_answered(client: Any, fake: FakeGraphApi) -> None:
    await post(client, text(1, "hello"))
    await fake.wait_for("messages")
    reaction = message(2, "reaction", {"message_id": "wamid.HBgM00000001", "emoji": "❤️"})
    assert await post(client, webhook(reaction)) == 200
    events = await wait_for_event(client.app, "message.noticed")
    (noticed,) = [e for e in events if e.type == "message.noticed"]
    assert noticed.data["raw"]["reaction"]["emoji"] == "❤️"
    assert len(fake.sent[NUMBER]) == 1


async def test_several_messages_in_one_body_are_stored_in_order(
    client: Any, fake: FakeGraphApi
) -> None:
    body = webhook(message(1, "text", {"body": "first"}), message(2, "text", {"body": "第二"}))
    assert await post(client, body) == 200
    await fake.wait_for("messages", 2)
    events = await all_events(client.app)
    assert [e.data["text"] for e in events if e.type == "message.in"] == ["first", "第二"]


async def test_a_message_that_cannot_be_stored_is_not_acknowledged(
    aiohttp_client: Any, tmp_path: Path, fake: FakeGraphApi, redis_server: Any, redis_url: str
) -> None:
    client = await aiohttp_client(whatsapp_app(tmp_path, fake, bot=EchoBot(), store_url=redis_url))
    redis_server.stop()  # the store goes away under a running hub
    try:
        for number, words in enumerate(("hello", "你好"), start=1):
            assert await post(client, text(number, words)) == 503
    finally:
        redis_server.start()
    # Meta delivers the same bodies again: now they are stored, answered, in order.
    for number, words in enumerate(("hello", "你好"), start=1):
        assert await post(client, text(number, words)) == 200
    await fake.wait_for("messages", 2)
    assert fake.texts(NUMBER) == ["You said: hello", "You said: 你好"]
