"""An agent's files through the console's JSON API and the hand-off REST API, on the real
hub: bad uploads are refused (in English and Chinese) with nothing stored, a reply can only
carry files of its own conversation, both surfaces write the same reply, and downloads
need a session or the operator token."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from handoff.console.accounts import Role
from hub.api import HUB
from hub.attachments_http import ATTACHMENTS
from tests.attachment_samples import BAD_UPLOADS, pdf, png, upload_form
from tests.handoff.console.helpers import console_app, handoff_env, login, seed_sqlite, wait_until
from tests.handoff.test_actions_contract import customer_asks
from tests.support import api_auth


@pytest.fixture
async def shift(tmp_path: Path, aiohttp_client: Any) -> tuple[TestClient[Any, Any], str, str]:
    """Mei signed in, online, holding Ana's conversation; the CSRF token and its id."""
    await seed_sqlite(tmp_path, ("mei", Role.AGENT))
    client: TestClient[Any, Any] = await aiohttp_client(console_app(handoff_env(tmp_path)))
    conversation_id = await customer_asks(client, "ana", "I want to talk to a person")
    csrf = await login(client, "mei")
    headers = {"X-CSRF-Token": csrf}
    await client.post("/console/api/presence", json={"presence": "online"}, headers=headers)

    async def offered() -> bool:
        snapshot = await (await client.get("/console/api/snapshot")).json()
        return [t["conversation_id"] for t in snapshot["mine"]] == [conversation_id]

    await wait_until(offered)
    base = f"/console/api/conversations/{conversation_id}"
    assert (await client.post(base + "/accept", headers=headers)).status == 200
    return client, csrf, conversation_id


def stored_files(tmp_path: Path) -> list[Path]:
    return [p for p in (tmp_path / "attachments").rglob("*") if p.is_file()]


@pytest.mark.parametrize(
    ("name", "data", "mime", "status", "zh"),
    BAD_UPLOADS,
    ids=[bad[0] for bad in BAD_UPLOADS],
)
async def test_bad_uploads_are_refused_and_nothing_is_stored(
    shift: tuple[TestClient[Any, Any], str, str],
    tmp_path: Path,
    name: str,
    data: bytes,
    mime: str,
    status: int,
    zh: str,
) -> None:
    client, csrf, conversation_id = shift
    url = f"/console/api/conversations/{conversation_id}/attachments"
    response = await client.post(
        url, data=upload_form(name, data, mime), headers={"X-CSRF-Token": csrf}
    )
    assert response.status == status
    error = (await response.json())["error"]
    assert error["message"] and zh in error["message_zh"]
    assert stored_files(tmp_path) == []


@pytest.mark.parametrize(("name", "text"), [("invoice.pdf", "Here it is"), ("发票.pdf", "")])
async def test_a_reply_carries_files_of_its_own_conversation_only(
    shift: tuple[TestClient[Any, Any], str, str], name: str, text: str
) -> None:
    client, csrf, conversation_id = shift
    headers = {"X-CSRF-Token": csrf}
    base = f"/console/api/conversations/{conversation_id}"
    uploaded = await client.post(
        base + "/attachments", data=upload_form(name, pdf(name), "application/pdf"), headers=headers
    )
    assert uploaded.status == 201
    file_id = (await uploaded.json())["attachment"]["id"]
    # A file stored for another conversation cannot ride on this one's reply.
    store = client.app[ATTACHMENTS]
    elsewhere = await store.put(
        png(), name="x.png", declared_type="", uploader="agent:tom", conversation_id="con_other"
    )
    refused = await client.post(
        base + "/reply", json={"text": "x", "attachments": [elsewhere.id]}, headers=headers
    )
    assert refused.status == 404
    no_id = await client.post(base + "/reply", json={"attachments": [3]}, headers=headers)
    assert no_id.status == 422

    sent = await client.post(
        base + "/reply", json={"text": text, "attachments": [file_id]}, headers=headers
    )
    assert sent.status == 200, await sent.text()
    events = await client.app[HUB].store.events(conversation_id)
    [out] = [e for e in events if e.type == "message.out"][-1:]
    (reference,) = out.data["outbound"]["attachments"]
    assert reference["id"] == file_id and reference["name"] == name
    assert "data" not in reference  # metadata only

    view = await (await client.get(base)).json()
    [shown] = [i for i in view["timeline"] if i["type"] == "message.out"][-1]["attachments"]
    assert shown["url"] == f"/console/api/attachments/{file_id}" and shown["name"] == name
    download = await client.get(shown["url"])
    assert download.status == 200 and await download.read() == pdf(name)
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert download.headers["X-Content-Type-Options"] == "nosniff"

    client.session.cookie_jar.clear()
    assert (await client.get(shown["url"])).status == 401  # no session, no file


async def test_the_hand_off_api_takes_files_the_same_way(
    shift: tuple[TestClient[Any, Any], str, str],
) -> None:
    client, _, conversation_id = shift
    base = f"/api/v1/handoff/conversations/{conversation_id}"
    body = upload_form("收据.pdf", pdf("r"), "application/pdf")
    unauthorised = await client.post(base + "/attachments?agent_id=mei", data=body)
    assert unauthorised.status == 401
    body = upload_form("收据.pdf", pdf("r"), "application/pdf")
    uploaded = await client.post(base + "/attachments?agent_id=mei", data=body, headers=api_auth())
    assert uploaded.status == 201, await uploaded.text()
    attachment = (await uploaded.json())["attachment"]
    assert attachment["name"] == "收据.pdf" and attachment["mime_type"] == "application/pdf"
    sent = await client.post(
        base + "/reply",
        json={"agent_id": "mei", "attachments": [attachment["id"]]},
        headers=api_auth(),
    )
    assert sent.status == 200, await sent.text()
    download = await client.get(
        f"/api/v1/handoff/attachments/{attachment['id']}", headers=api_auth()
    )
    assert download.status == 200 and await download.read() == pdf("r")
