"""The WeChat webhook through the whole hub: signatures before anything is stored, the
server check, safe mode, WeChat's retries dropped, every kind of push, and bad bodies
refused with nothing written."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from connectors.wechat.connector import WEBHOOK_PATH
from hub.echo import EchoBot
from tests.connectors.wechat.fake_wechat import APP_ID, FakeWeChatApi
from tests.connectors.wechat.harness import (
    CUSTOMER,
    OPENID,
    all_events,
    event,
    hub_of,
    message,
    push,
    sealed,
    sees,
    signed_query,
    text,
    wait_for_event,
    wechat_app,
    xml,
)


async def client_for(
    aiohttp_client: Any, tmp_path: Path, fake: FakeWeChatApi, **kwargs: Any
) -> TestClient[Any, Any]:
    return await aiohttp_client(wechat_app(tmp_path, fake, bot=EchoBot(), **kwargs))


async def nothing_stored(client: TestClient[Any, Any]) -> bool:
    return await hub_of(client.app).latest_conversation(CUSTOMER) is None


@pytest.mark.parametrize("words", ["what are your opening hours?", "你们几点开门？"])
@pytest.mark.parametrize("safe", [False, True], ids=["plaintext", "safe-mode"])
async def test_a_message_is_stored_answered_success_and_echoed_through_the_service_api(
    aiohttp_client: Any, tmp_path: Path, fake: FakeWeChatApi, words: str, safe: bool
) -> None:
    client = await client_for(aiohttp_client, tmp_path, fake, safe=safe)
    assert await push(client, text(1001, words), safe=safe) == (200, "success")
    sent = await sees(fake, words)
    assert sent == {"touser": OPENID, "msgtype": "text", "text": {"content": f"You said: {words}"}}
    (stored,) = [e for e in await all_events(client.app) if e.type == "message.in"]
    assert stored.data["text"] == words
    assert stored.data["sender"] == f"{APP_ID}:{OPENID}"
    (token_call,) = fake.called("token")
    assert token_call.body["appid"] == APP_ID


async def test_wechat_retries_of_the_same_msgid_are_stored_and_answered_once(
    aiohttp_client: Any, tmp_path: Path, fake: FakeWeChatApi
) -> None:
    client = await client_for(aiohttp_client, tmp_path, fake)
    push_ = text(2002, "hello 你好")
    for _ in range(4):  # the first delivery and WeChat's three retries
        assert await push(client, push_) == (200, "success")
    await sees(fake, "hello 你好")
    assert await push(client, text(2003, "second")) == (200, "success")
    await sees(fake, "second")
    events = await all_events(client.app)
    assert [e.data["text"] for e in events if e.type == "message.in"] == ["hello 你好", "second"]
    assert fake.texts(OPENID) == ["You said: hello 你好", "You said: second"]


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"signature": "0" * 40},
        "wrong token",
        "another timestamp",
    ],
    ids=["missing", "zeros", "wrong-token", "replayed-other-timestamp"],
)
async def test_a_push_without_the_right_signature_gets_403_and_nothing_is_stored(
    aiohttp_client: Any, tmp_path: Path, fake: FakeWeChatApi, query: Any
) -> None:
    client = await client_for(aiohttp_client, tmp_path, fake)
    good = signed_query()
    if query == "wrong token":
        query = signed_query(token="someoneElsesToken")
    elif query == "another timestamp":
        query = {**good, "timestamp": str(int(good["timestamp"]) + 1)}
    elif query:
        query = {**good, **query}
    response = await client.post(WEBHOOK_PATH, params=query, data=xml(text(3003, "hi")))
    assert response.status == 403
    assert await nothing_stored(client)
    assert not fake.calls


async def test_safe_mode_refuses_a_wrong_msg_signature_a_foreign_key_and_plaintext(
    aiohttp_client: Any, tmp_path: Path, fake: FakeWeChatApi
) -> None:
    client = await client_for(aiohttp_client, tmp_path, fake, safe=True)
    body, query = sealed(xml(text(4004, "hi")), signed_query())
    forged = {**query, "msg_signature": "f" * 40}
    response = await client.post(WEBHOOK_PATH, params=forged, data=body)
    assert response.status == 403
    # Signed with our token but sealed under another account's key.
    other_key = "ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210zyxwvut"
    body, query = sealed(xml(text(4005, "hi")), signed_query(), key=other_key)
    assert (await client.post(WEBHOOK_PATH, params=query, data=body)).status == 400
    assert (await push(client, text(4006, "plain")))[0] == 400
    assert await nothing_stored(client)


async def test_the_admin_console_server_check_echoes_echostr_only_when_signed(
    aiohttp_client: Any, tmp_path: Path, fake: FakeWeChatApi
) -> None:
    client = await client_for(aiohttp_client, tmp_path, fake)
    query = {**signed_query(), "echostr": "5839117026442347361"}
    response = await client.get(WEBHOOK_PATH, params=query)
    assert (response.status, await response.text()) == (200, "5839117026442347361")
    forged = {**query, "signature": "a" * 40}
    assert (await client.get(WEBHOOK_PATH, params=forged)).status == 403
    script = {**query, "echostr": "<script>alert(1)</script>"}
    assert (await client.get(WEBHOOK_PATH, params=script)).status == 400


BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY a "aaaaaaaaaa">'
    '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>'
    "<xml><ToUserName>gh</ToUserName><FromUserName>" + OPENID + "</FromUserName>"
    "<CreateTime>1</CreateTime><MsgType>text</MsgType><Content>&c;</Content><MsgId>5</MsgId></xml>"
)
XXE = (
    '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    "<xml><ToUserName>gh</ToUserName><FromUserName>" + OPENID + "</FromUserName>"
    "<CreateTime>1</CreateTime><MsgType>text</MsgType><Content>&x;</Content><MsgId>6</MsgId></xml>"
)


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ("<xml><Content>unclosed", 400),
        ("not xml at all", 400),
        ("", 400),
        (BILLION_LAUGHS, 400),
        (XXE, 400),
        ("<html><MsgType>text</MsgType></html>", 400),
        (xml({"MsgType": "text", "Content": "who am I?", "MsgId": 7}), 400),
        (xml({**text(8, "x"), "MsgId": "not-a-number"}), 400),
        ("<xml><Content>" + "长" * 30000 + "</Content></xml>", 413),
    ],
    ids=[
        "malformed",
        "not-xml",
        "empty",
        "billion-laughs",
        "xxe",
        "not-an-xml-root",
        "no-sender",
        "bad-msgid",
        "oversized",
    ],
)
@pytest.mark.parametrize("safe", [False, True], ids=["plaintext", "safe-mode"])
async def test_bad_bodies_get_4xx_and_nothing_is_stored(
    aiohttp_client: Any, tmp_path: Path, fake: FakeWeChatApi, body: str, status: int, safe: bool
) -> None:
    client = await client_for(aiohttp_client, tmp_path, fake, safe=safe)
    answer, words = await push(client, body, safe=safe and bool(body))
    assert answer == status, words
    assert "Traceback" not in words
    assert await nothing_stored(client)


async def test_images_voice_locations_and_links_are_stored_with_what_they_carry(
    aiohttp_client: Any, tmp_path: Path, fake: FakeWeChatApi
) -> None:
    client = await client_for(aiohttp_client, tmp_path, fake)
    pushes = [
        message(11, "image", PicUrl="http://mmbiz.qpic.cn/x.jpg", MediaId="media_img_1"),
        message(12, "voice", MediaId="media_voice_1", Format="amr", Recognition="我要退货"),
        message(13, "voice", MediaId="media_voice_2", Format="amr"),
        message(
            14, "location", Location_X="23.134521", Location_Y="113.358803", Scale=20, Label="广州"
        ),
        message(15, "link", Title="Order 123", Description="", Url="https://example.com/o/123"),
    ]
    for item in pushes:
        assert await push(client, item) == (200, "success")
    events = await wait_for_event(client.app, "message.in", 5)
    stored = [e.data for e in events if e.type == "message.in"]
    assert stored[0]["attachments"][0]["ref"] == "media_img_1"
    assert stored[0]["attachments"][0]["url"] == "http://mmbiz.qpic.cn/x.jpg"
    assert stored[1]["text"] == "我要退货"  # what WeChat recognised is what the bot reads
    assert stored[1]["attachments"][0] == {
        **stored[1]["attachments"][0],
        "kind": "audio",
        "ref": "media_voice_1",
        "mime_type": "audio/amr",
    }
    assert stored[2]["text"] == "" and stored[2]["attachments"][0]["ref"] == "media_voice_2"
    assert stored[3]["attachments"][0]["name"] == "23.134521,113.358803"
    assert stored[3]["text"] == "广州"
    assert stored[4]["text"] == "Order 123\nhttps://example.com/o/123"


async def test_events_subscribe_starts_unsubscribe_is_recorded_and_retries_are_dropped(
    aiohttp_client: Any, tmp_path: Path, fake: FakeWeChatApi
) -> None:
    client = await client_for(aiohttp_client, tmp_path, fake)
    created = int(time.time())
    follow = event("subscribe", "qrscene_order_status", created=created)
    assert await push(client, follow) == (200, "success")
    assert await push(client, follow) == (200, "success")  # WeChat's retry: same second
    assert await push(client, event("CLICK", "MENU_HOURS", created=created + 1)) == (
        200,
        "success",
    )
    view = event("VIEW", "https://example.com/help", created=created + 2)
    assert await push(client, view) == (200, "success")
    assert await push(client, event("unsubscribe", created=created + 3)) == (200, "success")
    assert await push(client, event("TEMPLATESENDJOBFINISH", created=created + 4)) == (
        200,
        "success",
    )
    events = await wait_for_event(client.app, "message.noticed", 2)
    said = [e.data for e in events if e.type == "message.in"]
    assert [d["text"] for d in said] == ["/start", "MENU_HOURS"]
    assert said[0]["raw"]["deep_link"] == "order_status"
    noticed = [e.data["raw"]["event"] for e in events if e.type == "message.noticed"]
    assert noticed == ["VIEW", "unsubscribe"]


async def test_compatible_mode_is_read_from_the_encrypted_copy(
    aiohttp_client: Any, tmp_path: Path, fake: FakeWeChatApi
) -> None:
    client = await client_for(aiohttp_client, tmp_path, fake, safe=True)
    body, query = sealed(xml(text(5005, "加密的 sealed")), signed_query())
    # Compatible mode: the plaintext fields beside the encrypted copy; only the latter counts.
    plain = xml(text(5005, "forged plaintext"))[len("<xml>") : -len("</xml>")]
    both = body.replace("</xml>", plain + "</xml>")
    response = await client.post(WEBHOOK_PATH, params=query, data=both)
    assert (response.status, await response.text()) == (200, "success")
    await sees(fake, "加密的 sealed")
    assert not any("forged" in t for t in fake.texts(OPENID))
