"""The SMS webhooks end to end through the hub: Twilio's signature over the configured
public URL, store-then-answer, unverified senders, duplicates, statuses as receipts, bad
bodies."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from twilio.request_validator import RequestValidator

from connectors.sms.connector import SIGNATURE_HEADER, STATUS_PATH
from hub.echo import EchoBot
from tests.connectors.sms.fake_twilio import AUTH_TOKEN, FakeTwilio
from tests.connectors.sms.harness import (
    IDENTITY,
    NUMBER,
    PUBLIC_URL,
    all_events,
    hub_of,
    incoming,
    post,
    signature,
    sms_app,
    status,
    wait_for_event,
)


@pytest.fixture
async def client(aiohttp_client: Any, tmp_path: Path, fake: FakeTwilio) -> Any:
    return await aiohttp_client(sms_app(tmp_path, fake, bot=EchoBot()))


async def nothing_stored(client: Any) -> bool:
    return await hub_of(client.app).latest_conversation(IDENTITY) is None


@pytest.mark.parametrize("words", ["Is my order on its way?", "我的订单发货了吗？"])
async def test_a_signed_message_is_stored_as_an_unverified_sender_and_answered(
    client: Any, fake: FakeTwilio, words: str
) -> None:
    code, answer = await post(client, incoming(words))
    assert code == 200 and "<Response>" in answer and "<Message>" not in answer
    (call,) = await fake.wait_for("messages")
    assert call.body["To"] == NUMBER and words in call.body["Body"]
    assert call.body["StatusCallback"] == f"{PUBLIC_URL}{STATUS_PATH}"
    incoming_event = next(e for e in await all_events(client.app) if e.type == "message.in")
    assert incoming_event.data["sender_verified"] is False
    assert incoming_event.data["text"] == words
    # The number is a claim: it never resolves to whoever owns sms:+1… or phone:+1….
    assert await hub_of(client.app).latest_conversation(f"sms:{NUMBER}") is None


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {SIGNATURE_HEADER: "bm90IGEgc2lnbmF0dXJl"},
        {SIGNATURE_HEADER: signature("/webhooks/sms", incoming("hi"), token="another-token")},
    ],
    ids=["missing", "garbage", "another-token"],
)
async def test_a_wrong_or_missing_signature_is_refused_and_nothing_is_stored(
    client: Any, headers: dict[str, str]
) -> None:
    code, _ = await post(client, incoming("hi"), headers=headers)
    assert code == 403
    assert await nothing_stored(client)


async def test_the_signature_is_over_the_public_url_not_the_host_the_request_reached(
    client: Any,
) -> None:
    fields = incoming("hi")
    local = f"http://{client.host}:{client.port}/webhooks/sms"
    wrong = RequestValidator(AUTH_TOKEN).compute_signature(local, fields)
    code, _ = await post(client, fields, headers={SIGNATURE_HEADER: wrong})
    assert code == 403 and await nothing_stored(client)


async def test_a_changed_field_breaks_the_signature(client: Any) -> None:
    fields = incoming("pay me")
    signed = signature("/webhooks/sms", fields)
    code, _ = await post(
        client, {**fields, "Body": "pay me more"}, headers={SIGNATURE_HEADER: signed}
    )
    assert code == 403 and await nothing_stored(client)


async def test_a_redelivered_message_sid_is_stored_and_answered_once(
    client: Any, fake: FakeTwilio
) -> None:
    fields = incoming("hello again")
    assert (await post(client, fields))[0] == 200
    assert (await post(client, fields))[0] == 200
    await fake.wait_for("messages")
    events = await all_events(client.app)
    assert sum(e.type == "message.in" for e in events) == 1
    await wait_for_event(client.app, "delivery.delivered")
    assert len(fake.called("messages")) == 1


@pytest.mark.parametrize("words", ["hello", "你好"])
async def test_statuses_become_receipts_on_the_reply_once_each(
    client: Any, fake: FakeTwilio, words: str
) -> None:
    await post(client, incoming(words))
    events = await wait_for_event(client.app, "delivery.delivered")
    delivered = next(e for e in events if e.type == "delivery.delivered")
    (sid,) = delivered.data["receipt"]["message_ids"]
    for state in ("sent", "delivered", "delivered"):
        assert await status(client, sid, state) == 200
    assert await status(client, "SM" + "f" * 32, "undelivered", error="30003") == 200
    receipts = [e.data for e in await all_events(client.app) if e.type == "delivery.receipt"]
    assert [(r["message_sid"], r["status"]) for r in receipts] == [
        (sid, "sent"),
        (sid, "delivered"),
        ("SM" + "f" * 32, "undelivered"),
    ]
    assert receipts[0]["delivery_id"] == delivered.data["delivery_id"]
    assert receipts[2]["error_code"] == 30003 and "delivery_id" not in receipts[2]


async def test_an_unsigned_status_is_refused(client: Any) -> None:
    await post(client, incoming("hi"))
    code, _ = await post(
        client,
        {"MessageSid": "SM" + "a" * 32, "MessageStatus": "failed"},
        path=STATUS_PATH,
        headers={SIGNATURE_HEADER: "x"},
    )
    assert code == 403
    assert not [e for e in await all_events(client.app) if e.type == "delivery.receipt"]


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"Body": "hi"}, 400),  # no MessageSid, no From
        (incoming("hi", sender="not-a-number"), 400),
        (incoming("hi", sid="SM123"), 400),
        (incoming("x" * 1601), 400),
        (incoming("hi", NumMedia="eleven"), 400),
        (incoming("hi", NumMedia="1", MediaUrl0="http://insecure.example/a.jpg"), 400),
    ],
    ids=["no-sid", "bad-from", "bad-sid", "too-long", "bad-num-media", "http-media"],
)
async def test_signed_but_malformed_fields_get_400_and_nothing_is_stored(
    client: Any, fields: dict[str, str], expected: int
) -> None:
    code, _ = await post(client, fields)
    assert code == expected
    assert await nothing_stored(client)


@pytest.mark.parametrize(
    "body",
    [
        b"\xff\xfe\x00bad",
        b"a=1&&&b",
        b"just text, not a form",
        "&".join(f"f{i}=1" for i in range(200)).encode(),
    ],
    ids=["not-utf8", "empty-pairs", "no-pairs", "too-many-fields"],
)
async def test_a_body_that_is_not_a_form_gets_400(client: Any, body: bytes) -> None:
    code, text = await post(client, body, headers={SIGNATURE_HEADER: "x"})
    assert code == 400, text
    assert await nothing_stored(client)


async def test_an_oversized_body_gets_413(client: Any) -> None:
    fields = incoming("hi", Padding="p" * (70 * 1024))
    code, _ = await post(client, urlencode(fields).encode(), headers={SIGNATURE_HEADER: "x"})
    assert code == 413
    assert await nothing_stored(client)


async def test_mms_media_are_kept_as_references(client: Any) -> None:
    url = f"https://api.twilio.com/2010-04-01/Accounts/AC{'0' * 32}/Messages/MM1/Media/ME1"
    fields = incoming("photo", NumMedia="1", MediaUrl0=url, MediaContentType0="image/jpeg")
    assert (await post(client, fields))[0] == 200
    event = next(e for e in await all_events(client.app) if e.type == "message.in")
    (attachment,) = event.data["attachments"]
    assert attachment["kind"] == "image" and attachment["ref"] == url
