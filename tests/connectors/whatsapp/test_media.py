"""Inbound media on WhatsApp, through the webhook and the fake Graph API: a customer's photo
and document are looked up, downloaded and put in the attachment store before the webhook
is answered, so the agent console shows them; files the store refuses or Meta will not
hand over keep their message as references; an outage at Meta is not acknowledged."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from handoff.console.views import timeline
from hub.attachments_http import ATTACHMENTS
from hub.echo import EchoBot
from hub.model import Attachment, Outbound
from tests.attachment_samples import HTML_AS_PNG, agent_files, pdf, png
from tests.connectors.whatsapp.fake_graph import FakeGraphApi, graph_error
from tests.connectors.whatsapp.harness import (
    NUMBER,
    all_events,
    hub_of,
    message,
    post,
    text,
    wait_for_event,
    webhook,
    whatsapp_app,
)


@pytest.fixture
async def client(aiohttp_client: Any, tmp_path: Path, fake: FakeGraphApi) -> Any:
    return await aiohttp_client(whatsapp_app(tmp_path, fake, bot=EchoBot()))


async def inbound(client: Any) -> list[Any]:
    return [e for e in await all_events(client.app) if e.type == "message.in"]


@pytest.mark.parametrize(
    ("caption", "name"), [("the box is broken", "invoice.pdf"), ("箱子破了", "发票.pdf")]
)
async def test_a_photo_and_a_document_are_stored_before_the_200_and_shown_to_the_agent(
    client: Any, fake: FakeGraphApi, caption: str, name: str
) -> None:
    fake.media["M1"] = ("image/png", png(6, 4))
    fake.media["D1"] = ("application/pdf", pdf(name))
    photo = message(1, "image", {"caption": caption, "mime_type": "image/png", "id": "M1"})
    document = message(
        2, "document", {"filename": name, "mime_type": "application/pdf", "id": "D1"}
    )
    assert await post(client, webhook(photo)) == 200
    assert await post(client, webhook(document)) == 200
    # Answered means stored: the log and the store already hold both.
    first, second = await inbound(client)
    (image,) = first.data["attachments"]
    (paper,) = second.data["attachments"]
    store = client.app[ATTACHMENTS]
    assert image["id"] and image["ref"] == "M1" and image["mime_type"] == "image/png"
    assert await store.read(image["id"]) == png(6, 4)
    assert first.data["text"] == caption
    assert paper["name"] == name and paper["mime_type"] == "application/pdf"
    assert await store.read(paper["id"]) == pdf(name)
    meta = await store.meta(image["id"])
    assert meta is not None and meta.uploader == f"whatsapp:{NUMBER}"
    # The agent's transcript links each file to the console's download route.
    files = [
        f
        for item in timeline(await all_events(client.app), channel="whatsapp")
        for f in item.get("attachments", ())
    ]
    assert [f["url"] for f in files] == [
        f"/console/api/attachments/{image['id']}",
        f"/console/api/attachments/{paper['id']}",
    ]


@pytest.mark.parametrize(
    ("media", "data", "sniffed", "name"),
    [
        # A voice note recorded in WhatsApp (OGG/Opus) and an MP3 shared from the phone.
        (
            {"mime_type": "audio/ogg; codecs=opus", "voice": True},
            b"OggS\x00\x02opus",
            "audio/ogg",
            "voice message",
        ),
        (
            {"mime_type": "audio/mpeg"},
            b"ID3\x04\x00\x00\x00\x00\x00\x00mp3",
            "audio/mpeg",
            "voice message",
        ),
    ],
)
async def test_a_voice_note_is_downloaded_and_stored_for_the_agent(
    client: Any, fake: FakeGraphApi, media: dict[str, Any], data: bytes, sniffed: str, name: str
) -> None:
    fake.media["A1"] = (media["mime_type"], data)
    assert await post(client, webhook(message(1, "audio", {**media, "id": "A1"}))) == 200
    (event,) = await inbound(client)
    (audio,) = event.data["attachments"]
    assert audio["id"] and audio["ref"] == "A1" and audio["mime_type"] == sniffed
    assert audio["name"] == name
    assert await client.app[ATTACHMENTS].read(audio["id"]) == data
    assert [c.body for c in fake.called("download")] == ["A1"]
    # Offered to the agent as a download, like any stored file.
    (shown,) = [
        f
        for item in timeline(await all_events(client.app), channel="whatsapp")
        for f in item.get("attachments", ())
    ]
    assert shown["url"] == f"/console/api/attachments/{audio['id']}"


async def test_refused_media_keep_their_message(client: Any, fake: FakeGraphApi) -> None:
    fake.media["PAGE"] = ("image/png", HTML_AS_PNG)  # markup dressed as an image
    fake.media["BIG"] = ("application/pdf", pdf() + b"x" * (11 * 1024 * 1024))
    fake.media["FILM"] = ("video/mp4", b"\x00\x00\x00\x18ftypmp42")
    items = [
        message(1, "image", {"mime_type": "image/png", "id": "PAGE"}),
        message(
            2, "document", {"filename": "big.pdf", "mime_type": "application/pdf", "id": "BIG"}
        ),
        message(3, "image", {"mime_type": "image/jpeg", "id": "GONE"}),  # Meta: unknown media
        message(4, "video", {"mime_type": "video/mp4", "id": "FILM"}),
    ]
    for item in items:
        assert await post(client, webhook(item)) == 200
    events = await inbound(client)
    assert len(events) == 4
    for event in events:
        (attachment,) = event.data["attachments"]
        assert "id" not in attachment  # a reference without bytes
    codes = [[r["code"] for r in e.data["raw"].get("attachments_refused", ())] for e in events]
    assert codes == [["type_mismatch"], ["too_large"], ["unavailable"], []]
    # Over the limit by WhatsApp's own word: never downloaded; the video neither.
    assert [c.body for c in fake.called("download")] == ["PAGE"]


async def test_an_outage_at_meta_is_not_acknowledged(client: Any, fake: FakeGraphApi) -> None:
    fake.media["M2"] = ("image/png", png())
    fake.fail("media", 500, graph_error(1, "An unknown error occurred"))
    body = webhook(message(1, "image", {"mime_type": "image/png", "id": "M2"}))
    assert await post(client, body) == 503  # Meta sends it again
    assert await hub_of(client.app).latest_conversation(f"whatsapp:{NUMBER}") is None
    assert await post(client, body) == 200
    (event,) = await inbound(client)
    (image,) = event.data["attachments"]
    assert await client.app[ATTACHMENTS].read(image["id"]) == png()


@pytest.mark.parametrize(
    ("words", "name"), [("Here is your invoice.", "invoice.pdf"), ("这是您的发票。", "发票.pdf")]
)
async def test_an_agents_files_are_uploaded_and_sent_by_media_id(
    client: Any, fake: FakeGraphApi, words: str, name: str
) -> None:
    assert await post(client, text(1, "hello")) == 200
    await fake.wait_for("messages")
    hub = hub_of(client.app)
    conversation = await hub.latest_conversation(f"whatsapp:{NUMBER}")
    assert conversation is not None
    photo, paper, voice = await agent_files(
        client.app[ATTACHMENTS],
        conversation.id,
        ("photo.png", png(5, 5)),
        (name, pdf(name)),
        ("answer.ogg", b"OggS\x00\x02opus"),
    )
    files = (photo.reference(), paper.reference(), voice.reference())
    await hub.send(conversation.id, [Outbound(text=words, attachments=files)])
    await wait_for_event(client.app, "delivery.delivered", 2)
    sent = fake.sent[NUMBER][1:]
    assert [m["type"] for m in sent] == ["text", "image", "document", "audio"]
    assert sent[0]["text"]["body"] == words
    image, document, audio = (m[m["type"]]["id"] for m in sent[1:])
    assert fake.uploaded[image] == ("image/png", "photo.png", png(5, 5))
    # The upload's name in ASCII (multipart would percent-encode it); the message names it.
    uploaded_as = name if name.isascii() else "file.pdf"
    assert fake.uploaded[document] == ("application/pdf", uploaded_as, pdf(name))
    assert fake.uploaded[audio][0] == "audio/ogg"
    assert sent[2]["document"]["filename"] == name


async def test_an_agents_file_no_longer_stored_parks_the_reply_with_the_reason(
    client: Any, fake: FakeGraphApi
) -> None:
    assert await post(client, text(1, "hello")) == 200
    await fake.wait_for("messages")
    hub = hub_of(client.app)
    conversation = await hub.latest_conversation(f"whatsapp:{NUMBER}")
    assert conversation is not None
    # Expired from the store (Redis keeps files for a time) before the reply went out.
    gone = Attachment(kind="image", name="p.png", mime_type="image/png", id="att_" + "0" * 32)
    await hub.send(conversation.id, [Outbound(text="see", attachments=(gone,))])
    events = await wait_for_event(client.app, "delivery.parked")
    (parked,) = [e.data["error"] for e in events if e.type == "delivery.parked"]
    assert "no longer stored" in parked
    assert fake.called("upload") == []
