"""Files both ways on Telegram, through the webhook and the fake Bot API: a user's photo and
document are fetched (`getFile` + the file server) and stored before the update is
acknowledged; files the store refuses are logged without bytes, the message kept; an
agent's files go out as `sendPhoto` / `sendDocument`, re-read from the store on a retry."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from hub.attachments_http import ATTACHMENTS
from hub.echo import EchoBot
from hub.model import Outbound
from tests.attachment_samples import HTML_AS_PNG, agent_files, pdf, png
from tests.connectors.telegram.fake_bot_api import FakeBotApi
from tests.connectors.telegram.harness import (
    CHAT,
    all_events,
    fixture,
    hub_of,
    post_update,
    ready,
    telegram_app,
    wait_for_event,
)


def photo_update(update_id: int, file_id: str, size: int) -> dict[str, Any]:
    update = copy.deepcopy(fixture("photo"))
    update["update_id"] = update_id
    update["message"]["message_id"] = update_id
    update["message"]["photo"][-1].update(file_id=file_id, file_size=size)
    return update


def document_update(
    update_id: int, file_id: str, name: str, mime: str, size: int
) -> dict[str, Any]:
    update = copy.deepcopy(fixture("document"))
    update["update_id"] = update_id
    update["message"]["message_id"] = update_id
    update["message"]["document"].update(
        file_id=file_id, file_name=name, mime_type=mime, file_size=size
    )
    return update


async def started(
    aiohttp_client: Any, tmp_path: Path, fake: FakeBotApi
) -> tuple[web.Application, TestClient[web.Request, web.Application]]:
    app = telegram_app(tmp_path, fake, bot=EchoBot())
    client = await aiohttp_client(app)
    await ready(app)
    return app, client


async def inbound_files(app: web.Application) -> list[dict[str, Any]]:
    events = await all_events(app)
    return [a for e in events if e.type == "message.in" for a in e.data["attachments"]]


@pytest.mark.parametrize("name", ["invoice.pdf", "发票.pdf"])
async def test_a_users_photo_and_document_are_stored_before_the_ack(
    aiohttp_client: Any, tmp_path: Path, fake: FakeBotApi, name: str
) -> None:
    app, client = await started(aiohttp_client, tmp_path, fake)
    fake.user_files["PHOTO1"] = png(5, 5)
    fake.user_files["DOC1"] = pdf(name)
    assert await post_update(client, photo_update(101, "PHOTO1", len(png(5, 5)))) == 200
    update = document_update(102, "DOC1", name, "application/pdf", len(pdf(name)))
    assert await post_update(client, update) == 200
    # Acknowledged means stored: the log and the store already hold them.
    photo, document = await inbound_files(app)
    store = app[ATTACHMENTS]
    assert photo["kind"] == "image" and photo["ref"] == "PHOTO1" and photo["id"]
    assert photo["mime_type"] == "image/png"  # sniffed, not what the channel said
    assert await store.read(photo["id"]) == png(5, 5)
    assert document["name"] == name and document["mime_type"] == "application/pdf"
    assert await store.read(document["id"]) == pdf(name)
    assert fake.downloads == ["PHOTO1", "DOC1"]


async def test_refused_files_keep_their_message(
    aiohttp_client: Any, tmp_path: Path, fake: FakeBotApi
) -> None:
    app, client = await started(aiohttp_client, tmp_path, fake)
    fake.user_files["PAGE"] = HTML_AS_PNG
    fake.user_files["HUGE"] = b"%PDF-" + b"x" * 100
    disguised = document_update(201, "PAGE", "cat.png", "image/png", len(HTML_AS_PNG))
    assert await post_update(client, disguised) == 200
    # Telegram says it is 50 MB: refused without downloading it.
    huge = document_update(202, "HUGE", "../../big.pdf", "application/pdf", 50 * 1024 * 1024)
    assert await post_update(client, huge) == 200
    # A file Telegram will not hand over (unknown to getFile) is refused, not retried forever.
    assert await post_update(client, photo_update(203, "GONE", 10)) == 200
    events = [e for e in await all_events(app) if e.type == "message.in"]
    assert len(events) == 3
    for event in events:
        (attachment,) = event.data["attachments"]
        assert "id" not in attachment  # a reference without bytes
        assert event.data["raw"]["attachments_refused"][0]["code"]
    codes = [e.data["raw"]["attachments_refused"][0]["code"] for e in events]
    assert codes == ["type_mismatch", "too_large", "unavailable"]
    assert fake.downloads == ["PAGE"]
    assert not [p for p in (tmp_path / "attachments").rglob("*") if p.is_file()]


async def test_a_download_failure_is_not_acknowledged(
    aiohttp_client: Any, tmp_path: Path, fake: FakeBotApi
) -> None:
    app, client = await started(aiohttp_client, tmp_path, fake)
    fake.user_files["PHOTO2"] = png()
    fake.fail("getFile", 502, "Bad Gateway")
    update = photo_update(301, "PHOTO2", len(png()))
    assert await post_update(client, update) == 503  # Telegram will send it again
    assert await hub_of(app).latest_conversation(f"telegram:{CHAT}") is None
    assert await post_update(client, update) == 200
    (photo,) = await inbound_files(app)
    assert await app[ATTACHMENTS].read(photo["id"]) == png()


@pytest.mark.parametrize("name", ["receipt.pdf", "收据.pdf"])
async def test_an_agents_files_go_out_as_photo_and_document(
    aiohttp_client: Any, tmp_path: Path, fake: FakeBotApi, name: str
) -> None:
    app, client = await started(aiohttp_client, tmp_path, fake)
    fake.user_files["P"] = png()
    assert await post_update(client, photo_update(401, "P", len(png()))) == 200
    await wait_for_event(app, "delivery.delivered")
    hub = hub_of(app)
    conversation = await hub.latest_conversation(f"telegram:{CHAT}")
    assert conversation is not None
    image, receipt = await agent_files(
        app[ATTACHMENTS], conversation.id, ("map.png", png(9, 9)), (name, pdf(name))
    )
    # The first document upload fails: the retry reads the bytes again and repeats nothing.
    fake.fail("sendDocument", 502, "Bad Gateway")
    await hub.send(
        conversation.id,
        [Outbound(text="Here you are", attachments=(image.reference(), receipt.reference()))],
    )
    await fake.wait_for("sendDocument", 2)
    await wait_for_event(app, "delivery.delivered", 2)
    assert fake.texts(CHAT)[-1] == "Here you are"
    assert fake.texts(CHAT).count("Here you are") == 1
    photos = [f for f in fake.sent_files[CHAT] if f["method"] == "sendPhoto"]
    documents = [f for f in fake.sent_files[CHAT] if f["method"] == "sendDocument"]
    assert [(f["name"], f["data"]) for f in photos] == [("map.png", png(9, 9))]
    assert [(f["name"], f["data"]) for f in documents] == [(name, pdf(name))]
    assert len(fake.called("sendPhoto")) == 1
