"""The contact panel's two surfaces over one service, on the real hub: the console (an agent
sees only the customers of conversations they may open; a supervisor sees all) and the
operators' REST API (`X-Frontdesk-Actor` is who acted) — same answers, same audit entries,
clear 400s that write nothing, in English and in Chinese."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from handoff.api import ACTIONS
from handoff.console.accounts import Role
from handoff.queue import Presence
from tests.handoff.console.helpers import console_app, handoff_env, login, seed_sqlite, wait_until
from tests.handoff.helpers import engine_of
from tests.support import api_auth, channel_auth

WORDS = {
    "en": {"ask": "talk to a person", "tag": "vip", "note": "Prefers email", "q": "person"},
    "zh": {"ask": "转人工", "tag": "重要客户", "note": "喜欢邮件联系", "q": "人工"},
}


async def ask(client: TestClient[Any, Any], sender: str, text: str) -> tuple[str, str]:
    response = await client.post(
        "/api/v1/channels/api/messages",
        json={"id": f"{sender}-1", "sender": sender, "text": text},
        headers=channel_auth(),
    )
    assert response.status == 202, await response.text()
    data = await response.json()
    return str(data["customer_id"]), str(data["conversation_id"])


@pytest.mark.parametrize("language", ["en", "zh"])
async def test_console_and_rest_edit_through_one_audited_service(
    tmp_path: Path, aiohttp_client: Any, language: str
) -> None:
    words = WORDS[language]
    await seed_sqlite(tmp_path, ("mei", Role.AGENT), ("tom", Role.AGENT), ("sara", Role.SUPERVISOR))
    app = console_app(handoff_env(tmp_path))
    client: TestClient[Any, Any] = await aiohttp_client(app)
    customer_id, conversation_id = await ask(client, "ana", words["ask"])
    engine = engine_of(app)
    await wait_until(lambda: conversation_id in engine.queue.tickets)
    csrf = await login(client, "mei")
    headers = {"X-CSRF-Token": csrf}
    base = f"/console/api/customers/{customer_id}"

    # Waiting in the queue: Mei may see this customer and edit them.
    edited = await client.patch(base, json={"tags": [words["tag"]]}, headers=headers)
    assert edited.status == 200, await edited.text()
    assert (await edited.json())["tags"] == [words["tag"]]
    noted = await client.post(base + "/notes", json={"text": words["note"]}, headers=headers)
    assert noted.status == 201
    listed = await client.get(base + "/conversations", params={"q": words["q"]})
    assert [c["id"] for c in (await listed.json())["items"]] == [conversation_id]
    read = await client.get(f"{base}/conversations/{conversation_id}")
    assert words["ask"] in [i.get("text") for i in (await read.json())["timeline"]]

    # Bad input: a 400 that names the problem and writes nothing.
    for body in ({"tags": ["two words"]}, {"attributes": {"Bad Key": "x"}}, {"tags": "vip"}):
        refused = await client.patch(base, json=body, headers=headers)
        assert refused.status == 400, body
        assert (await refused.json())["error"]["message"]
    empty = await client.post(base + "/notes", json={"text": "  "}, headers=headers)
    assert empty.status == 400

    # The operator's REST API: the same service, the same audit entries.
    rest = await client.patch(
        f"/api/v1/customers/{customer_id}",
        json={"attributes": {"tier": "gold"}},
        headers={**api_auth(), "X-Frontdesk-Actor": "crm-sync"},
    )
    assert rest.status == 200
    contact = await (
        await client.get(f"/api/v1/customers/{customer_id}/contact", headers=api_auth())
    ).json()
    assert contact["tags"] == [words["tag"]]
    assert {f["key"]: f["value"] for f in contact["crm"]}["tier"] == "gold"
    assert [n["text"] for n in contact["notes"]] == [words["note"]]
    trail = await engine.hub.store.audit_trail(customer_id)
    assert [(e["action"], e["actor"]) for e in trail] == [
        ("customer.tags_changed", "mei"),
        ("customer.note", "mei"),
        ("customer.attribute_changed", "crm-sync"),
    ]

    # Offered to someone else and out of the queue: Mei sees no such customer any more;
    # a supervisor sees every customer.
    app[ACTIONS].writes.set_presence("sara", Presence.ONLINE)
    await wait_until(lambda: engine.queue.tickets[conversation_id].agent_id == "sara")
    hidden = await client.get(base + "/contact")
    assert hidden.status == 404
    hidden_edit = await client.patch(base, json={"tags": []}, headers=headers)
    assert hidden_edit.status == 404
    await login(client, "sara")
    seen = await client.get(base + "/contact")
    assert seen.status == 200 and (await seen.json())["tags"] == [words["tag"]]


async def test_a_crm_conflict_becomes_a_merge_suggestion_never_a_merge(
    tmp_path: Path, aiohttp_client: Any
) -> None:
    app = console_app(handoff_env(tmp_path))
    client: TestClient[Any, Any] = await aiohttp_client(app)
    chatter, _ = await ask(client, "ana", "hello")
    # The CRM vouches for api:ana, which the chat customer already holds: reported, kept apart.
    upsert = await client.put(
        "/api/v1/customers/C-1", json={"identities": ["api:ana"]}, headers=api_auth()
    )
    assert upsert.status == 201 and (await upsert.json())["conflicts"] == ["api:ana"]
    crm_id = (await upsert.json())["id"]
    contact = await (
        await client.get(f"/api/v1/customers/{crm_id}/contact", headers=api_auth())
    ).json()
    assert [(s["customer_id"], s["reason"]) for s in contact["merge_suggestions"]] == [
        (chatter, "crm")
    ]
    assert contact["crm_ids"] == ["C-1"]
    unmerged = await client.get(f"/api/v1/customers/{chatter}/contact", headers=api_auth())
    assert (await unmerged.json())["identities"][0]["identity"] == "api:ana"
