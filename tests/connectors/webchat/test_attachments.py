"""Web chat files through the real server: bad uploads are refused in both languages with
nothing stored, a message can name only the visitor's own files, and links are per
visitor and per file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from hub.app import create_app
from hub.attachments_http import ATTACHMENTS
from hub.attachments_redis import RedisAttachments
from hub.config import load_config
from hub.echo import EchoBot
from tests.attachment_samples import BAD_UPLOADS, pdf, png, upload_form
from tests.connectors.webchat.helpers import frames_until, webchat_config, webchat_env

UPLOAD = "/webchat/attachments"


@pytest.fixture
async def client(aiohttp_client: Any, tmp_path: Path) -> TestClient[Any, Any]:
    env = webchat_env(tmp_path)
    path = Path(webchat_config(tmp_path, env).path)
    path.write_text(path.read_text() + "attachments:\n  max_bytes: 4096\n")
    app = create_app(load_config(path, env), environ=env, bot=EchoBot())
    return await aiohttp_client(app)


async def visitor(client: TestClient[Any, Any]) -> str:
    async with client.post("/webchat/hello", json={}) as response:
        return str((await response.json())["token"])


async def upload(
    client: TestClient[Any, Any], token: str, name: str, data: bytes, mime: str
) -> tuple[int, dict[str, Any]]:
    headers = {"Authorization": f"Bearer {token}"}
    async with client.post(UPLOAD, data=upload_form(name, data, mime), headers=headers) as response:
        return response.status, await response.json()


def stored_files(tmp_path: Path) -> list[Path]:
    return [p for p in (tmp_path / "attachments").rglob("*") if p.is_file()]


@pytest.mark.parametrize(
    ("name", "data", "mime", "status", "zh"),
    BAD_UPLOADS,
    ids=[bad[0] for bad in BAD_UPLOADS],
)
async def test_bad_uploads_are_refused_in_both_languages_and_nothing_is_stored(
    client: TestClient[Any, Any],
    tmp_path: Path,
    name: str,
    data: bytes,
    mime: str,
    status: int,
    zh: str,
) -> None:
    token = await visitor(client)
    got, body = await upload(client, token, name, data, mime)
    assert got == status, body
    assert body["error"]["message"] and zh in body["error"]["message_zh"]
    assert stored_files(tmp_path) == []


async def test_uploads_need_a_visitor_token_and_multipart(
    client: TestClient[Any, Any], tmp_path: Path
) -> None:
    async with client.post(UPLOAD, data=upload_form("a.png", png(), "image/png")) as response:
        assert response.status == 401
    token = await visitor(client)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "image/png"}
    async with client.post(UPLOAD, data=png(), headers=headers) as response:
        assert response.status in (413, 415)  # a raw body is never taken as a file
    assert stored_files(tmp_path) == []


@pytest.mark.parametrize("name", ["invoice.pdf", "发票.pdf"])
async def test_a_message_names_only_the_visitors_own_files(
    client: TestClient[Any, Any], name: str
) -> None:
    ana, bob = await visitor(client), await visitor(client)
    status, body = await upload(client, ana, name, pdf(), "application/pdf")
    assert status == 201 and body["attachment"]["name"] == name
    ana_file = body["attachment"]["id"]
    # Bob cannot send Ana's file as his own.
    refused_message = {"id": "m1", "text": "", "attachments": [ana_file]}
    headers = {"Authorization": f"Bearer {bob}"}
    async with client.post("/webchat/messages", json=refused_message, headers=headers) as r:
        assert r.status == 404
        assert (await r.json())["code"] == "bad_attachment"
    # Ana can; her message (and its echo) carries the reference and a signed link.
    async with client.ws_connect("/webchat/ws") as ws:
        await ws.send_json({"type": "hello", "token": ana})
        await frames_until(ws, lambda f: f["type"] == "synced")
        await ws.send_json({"type": "message", "id": "m2", "text": "", "attachments": [ana_file]})
        frames = await frames_until(ws, lambda f: f["type"] == "message" and f["direction"] == "in")
    (shown,) = frames[-1]["attachments"]
    assert shown["id"] == ana_file and shown["name"] == name
    link = shown["url"]
    async with client.get(link) as response:
        assert response.status == 200
        assert await response.read() == pdf()
        assert response.headers["Content-Type"] == "application/pdf"
        assert response.headers["Content-Disposition"].startswith("attachment;")
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    # Without the signature, with Bob's token, or with the link altered: not found.
    async with client.get(link.split("?")[0]) as response:
        assert response.status == 404
    async with client.get(link.split("?")[0], headers=headers) as response:
        assert response.status == 404
    async with client.get(link.replace("&s=", "&s=A")) as response:
        assert response.status == 404
    async with client.get(link.split("?")[0], headers={"Authorization": f"Bearer {ana}"}) as r:
        assert r.status == 200
    # A document has no thumbnail: no thumbnail link, and asking for one finds nothing.
    assert "thumbnail_url" not in shown
    async with client.get(link + "&size=thumbnail") as response:
        assert response.status == 404


async def test_text_and_images_are_served_safely(client: TestClient[Any, Any]) -> None:
    token = await visitor(client)
    headers = {"Authorization": f"Bearer {token}"}
    _, image = await upload(client, token, "photo.png", png(), "application/octet-stream")
    _, text = await upload(client, token, "notes.txt", "备注 notes".encode(), "text/html")
    files = client.app[ATTACHMENTS]
    stored = await files.meta(text["attachment"]["id"])
    assert stored is not None and stored.sniffed_type == "text/plain"
    async with client.get(f"{UPLOAD}/{image['attachment']['id']}", headers=headers) as r:
        assert r.headers["Content-Type"] == "image/png"
        assert r.headers["Content-Disposition"].startswith("inline;")
        assert "sandbox" in r.headers["Content-Security-Policy"]
    # Its thumbnail, made when it was stored: the same headers, a JPEG.
    thumbnail = f"{UPLOAD}/{image['attachment']['id']}?size=thumbnail"
    async with client.get(thumbnail, headers=headers) as r:
        assert r.status == 200 and r.headers["Content-Type"] == "image/jpeg"
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert (await r.read()).startswith(b"\xff\xd8\xff")
    async with client.get(thumbnail) as r:  # the thumbnail is guarded as the image is
        assert r.status == 404
    async with client.get(f"{UPLOAD}/{text['attachment']['id']}", headers=headers) as r:
        assert r.headers["Content-Type"] == "text/plain; charset=utf-8"
        assert r.headers["Content-Disposition"].startswith("attachment;")
        assert "filename*=UTF-8''notes.txt" in r.headers["Content-Disposition"]
        assert (await r.read()).decode() == "备注 notes"


async def test_on_a_redis_store_files_live_in_redis(
    aiohttp_client: Any, tmp_path: Path, redis_url: str
) -> None:
    env = {**webchat_env(tmp_path), "FRONTDESK_STORE_URL": redis_url}
    app = create_app(webchat_config(tmp_path, env), environ=env, bot=EchoBot())
    client = await aiohttp_client(app)
    token = await visitor(client)
    status, body = await upload(client, token, "发票.pdf", pdf(), "application/pdf")
    assert status == 201
    file_id = body["attachment"]["id"]
    store = app[ATTACHMENTS]
    assert isinstance(store, RedisAttachments)
    assert await store.redis.exists(f"fd:att:{{{file_id}}}:data") == 1
    assert not (tmp_path / "attachments").exists()
    headers = {"Authorization": f"Bearer {token}"}
    async with client.get(f"{UPLOAD}/{file_id}", headers=headers) as response:
        assert response.status == 200 and await response.read() == pdf()
