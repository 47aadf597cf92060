"""Inbound photos on WeChat, through the push and the fake media API: fetched by MediaId
(``/cgi-bin/media/get``) and put in the attachment store before ``success``, so the agent
console shows them; a photo WeChat will not hand over keeps its message (and its PicUrl);
an expired access token is refreshed once; voice stays a reference."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from connectors.wechat import connector as wechat_connector
from connectors.wechat.api import WeChatApi, WeChatError
from handoff.console.views import timeline
from hub.attachments_http import ATTACHMENTS
from hub.echo import EchoBot
from hub.model import Outbound
from tests.attachment_samples import HTML_AS_PNG, agent_files, png
from tests.connectors.wechat.fake_wechat import APP_ID, APP_SECRET, FakeWeChatApi
from tests.connectors.wechat.harness import (
    CUSTOMER,
    OPENID,
    all_events,
    hub_of,
    message,
    push,
    text,
    wait_for_event,
    wechat_app,
)

PIC_URL = "http://mmbiz.qpic.cn/mmbiz_jpg/example/0"


@pytest.fixture
async def client(aiohttp_client: Any, tmp_path: Path, fake: FakeWeChatApi) -> Any:
    return await aiohttp_client(wechat_app(tmp_path, fake, bot=EchoBot()))


def photo(msg_id: int, media_id: str) -> dict[str, Any]:
    return message(msg_id, "image", PicUrl=PIC_URL, MediaId=media_id)


async def inbound(client: Any) -> list[Any]:
    return [e for e in await all_events(client.app) if e.type == "message.in"]


@pytest.mark.parametrize("words", ["the screen is cracked", "屏幕裂了"])
async def test_a_photo_is_stored_before_success_and_shown_to_the_agent(
    client: Any, fake: FakeWeChatApi, words: str
) -> None:
    fake.media["MEDIA_1"] = ("image/png", png(8, 8))
    assert await push(client, photo(1001, "MEDIA_1")) == (200, "success")
    assert (await push(client, text(1002, words)))[0] == 200
    # Answered means stored.
    first, second = await inbound(client)
    (image,) = first.data["attachments"]
    assert image["id"] and image["ref"] == "MEDIA_1" and image["url"] == PIC_URL
    assert image["mime_type"] == "image/png"
    assert await client.app[ATTACHMENTS].read(image["id"]) == png(8, 8)
    meta = await client.app[ATTACHMENTS].meta(image["id"])
    assert meta is not None and meta.uploader == CUSTOMER
    assert second.data["text"] == words
    files = [
        f
        for item in timeline(await all_events(client.app), channel="wechat")
        for f in item.get("attachments", ())
    ]
    assert [f["url"] for f in files] == [f"/console/api/attachments/{image['id']}"]


async def test_an_expired_token_is_refreshed_once_for_a_download(
    client: Any, fake: FakeWeChatApi
) -> None:
    fake.media["MEDIA_2"] = ("image/png", png())
    await push(client, text(1000, "hello"))  # the reply fetched and cached a token
    await fake.wait_for("send")
    fake.revoke()  # retired elsewhere
    assert (await push(client, photo(1001, "MEDIA_2")))[0] == 200
    event = (await inbound(client))[-1]
    (image,) = event.data["attachments"]
    assert await client.app[ATTACHMENTS].read(image["id"]) == png()
    assert len(fake.called("media")) == 2


async def test_media_wechat_will_not_hand_over_or_the_store_refuses_keep_their_message(
    client: Any, fake: FakeWeChatApi
) -> None:
    fake.media["PAGE"] = ("image/jpeg", HTML_AS_PNG)
    assert await push(client, photo(1001, "EXPIRED")) == (200, "success")  # 40007
    assert await push(client, photo(1002, "PAGE")) == (200, "success")
    voice = message(1003, "voice", MediaId="VOICE_1", Format="amr", Recognition="你好")
    assert await push(client, voice) == (200, "success")
    events = await inbound(client)
    assert len(events) == 3
    for event in events:
        (attachment,) = event.data["attachments"]
        assert "id" not in attachment
    codes = [[r["code"] for r in e.data["raw"].get("attachments_refused", ())] for e in events]
    assert codes == [["unavailable"], ["type_mismatch"], []]
    assert "40007" in events[0].data["raw"]["attachments_refused"][0]["reason"]
    assert [c.body for c in fake.called("media")] == ["EXPIRED", "PAGE"]  # not the voice


async def test_a_download_over_the_limit_stops(fake: FakeWeChatApi) -> None:
    fake.media["BIG"] = ("image/jpeg", b"\xff\xd8\xff" + b"x" * 5000)
    api = WeChatApi(base_url=fake.base_url, app_id=APP_ID, app_secret=APP_SECRET, timeout=5)
    try:
        with pytest.raises(WeChatError) as refused:
            await api.media("BIG", max_bytes=4096)
        assert refused.value.status == 413
        data, kind = await api.media("BIG", max_bytes=8192)
        assert len(data) == 5003 and kind == "image/jpeg"
    finally:
        await api.close()


async def test_a_slow_download_leaves_a_reference_within_wechats_five_seconds(
    client: Any, fake: FakeWeChatApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(wechat_connector, "MEDIA_SECONDS", 0.1)
    fake.media["SLOW"] = ("image/png", png())
    fake.media_delay = 2.0
    assert await push(client, photo(1001, "SLOW")) == (200, "success")
    (event,) = await inbound(client)
    (attachment,) = event.data["attachments"]
    assert "id" not in attachment and attachment["url"] == PIC_URL
    (refused,) = event.data["raw"]["attachments_refused"]
    assert refused["code"] == "unavailable" and "within" in refused["reason"]


@pytest.mark.parametrize(
    ("words", "name"), [("Here is the map", "map.png"), ("这是地图", "地图.png")]
)
async def test_an_agents_image_is_uploaded_once_and_sent_as_an_image(
    client: Any, fake: FakeWeChatApi, words: str, name: str
) -> None:
    await push(client, text(1001, "hello"))
    await fake.wait_for("send")
    hub = hub_of(client.app)
    conversation = await hub.latest_conversation(CUSTOMER)
    assert conversation is not None
    (image,) = await agent_files(client.app[ATTACHMENTS], conversation.id, (name, png(9, 9)))
    # The image message fails once: the retry sends the uploaded media again, no new upload.
    fake.fail_call("send", 3, 502, {})
    await hub.send(conversation.id, [Outbound(text=words, attachments=(image.reference(),))])
    await fake.wait_for("send", 4)
    await wait_for_event(client.app, "delivery.delivered", 2)
    sent = fake.sent[OPENID]
    assert [m["msgtype"] for m in sent] == ["text", "text", "image"]
    assert sent[1]["text"]["content"] == words
    media_id = sent[2]["image"]["media_id"]
    assert fake.uploaded[media_id] == (name if name.isascii() else "image.png", png(9, 9))
    assert len(fake.called("upload")) == 1
