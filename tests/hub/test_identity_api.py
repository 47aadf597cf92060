"""The customer identity API through a real app: CRM upsert, links, merge/undo, export, erase."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient

from hub.app import create_app
from hub.customers_api import routes as customer_routes
from hub.echo import EchoBot
from tests.support import api_auth, channel_auth, hub_config, hub_env

ACTOR = {**api_auth(), "X-Frontdesk-Actor": "agent-li"}


async def make_client(aiohttp_client: Any, tmp_path: Path) -> TestClient[Any, Any]:
    env = hub_env(tmp_path)
    app = create_app(hub_config(env), environ=env, bot=EchoBot())
    app.router.add_routes(customer_routes)  # the wiring create_app will do
    client: TestClient[Any, Any] = await aiohttp_client(app)
    return client


async def post_message(client: TestClient[Any, Any], sender: str, mid: str, text: str) -> str:
    response = await client.post(
        "/api/v1/channels/api/messages",
        json={"id": mid, "sender": sender, "text": text},
        headers=channel_auth(),
    )
    assert response.status == 202
    return str((await response.json())["customer_id"])


async def test_crm_upsert_is_idempotent_and_reports_conflicts(
    aiohttp_client: Any, tmp_path: Path
) -> None:
    client = await make_client(aiohttp_client, tmp_path)
    chatter = await post_message(client, "ana", "1", "hi")
    body = {
        "attributes": {"tier": "gold", "language": "en"},
        "tags": ["vip"],
        "identities": ["email:Ana@Example.com", "api:ana"],
    }
    first = await client.put("/api/v1/customers/C-1", json=body, headers=ACTOR)
    assert first.status == 201
    created = await first.json()
    assert created["identities"] == ["crm:C-1", "email:ana@example.com"]
    assert created["conflicts"] == ["api:ana"]  # someone else's: never merged silently
    again = await client.put("/api/v1/customers/C-1", json=body, headers=ACTOR)
    assert again.status == 200 and (await again.json())["id"] == created["id"]

    bad = await client.put("/api/v1/customers/C-1", json={"tags": "vip"}, headers=ACTOR)
    assert bad.status == 422 and "tags" in (await bad.json())["error"]["message"]
    assert (await client.put("/api/v1/customers/C-1", json=body)).status == 401

    profile = await client.get(f"/api/v1/customers/{chatter}/profile", headers=ACTOR)
    facts = (await profile.json())["facts"]
    assert facts["conversations_90d"] == 1 and facts["channels_used"] == ["api"]


async def test_manual_link_merge_and_undo_are_audited(aiohttp_client: Any, tmp_path: Path) -> None:
    client = await make_client(aiohttp_client, tmp_path)
    ana = await post_message(client, "ana", "1", "hi")
    ana2 = await post_message(client, "ana-mobile", "2", "hello again")
    conflict = await client.post(
        f"/api/v1/customers/{ana}/links", json={"identity": "api:ana-mobile"}, headers=ACTOR
    )
    assert conflict.status == 409
    linked = await client.post(
        f"/api/v1/customers/{ana}/links",
        json={"identity": "api:ana-mobile", "merge": True},
        headers=ACTOR,
    )
    assert linked.status == 200
    merge = (await linked.json())["merge"]
    assert {merge["kept_id"], merge["absorbed_id"]} == {ana, ana2}

    undo = await client.post(f"/api/v1/merges/{merge['id']}/undo", headers=ACTOR)
    assert undo.status == 200
    assert (await client.post(f"/api/v1/merges/{merge['id']}/undo", headers=ACTOR)).status == 409
    for customer_id, identity in ((ana, "api:ana"), (ana2, "api:ana-mobile")):
        record = await (await client.get(f"/api/v1/customers/{customer_id}", headers=ACTOR)).json()
        assert record["identities"] == [identity]

    merged = await client.post(
        f"/api/v1/customers/{ana}/merge", json={"other": ana2, "reason": "same"}, headers=ACTOR
    )
    assert merged.status == 200
    missing = await client.post(
        f"/api/v1/customers/{ana}/merge", json={"other": "cus_nobody"}, headers=ACTOR
    )
    assert missing.status == 404
    kept = (await merged.json())["kept_id"]
    export = await (await client.get(f"/api/v1/customers/{kept}/export", headers=ACTOR)).json()
    actions = [(e["action"], e.get("actor")) for e in export["audit"]]
    assert ("identity.linked", None) in actions and ("customer.unmerged", "agent-li") in actions
    assert ("customer.exported", "agent-li") in actions


async def test_export_then_erase(aiohttp_client: Any, tmp_path: Path) -> None:
    client = await make_client(aiohttp_client, tmp_path)
    ana = await post_message(client, "ana", "1", "my address is 1 Secret Road")
    export = await client.get(f"/api/v1/customers/{ana}/export", headers=ACTOR)
    assert export.status == 200
    data = await export.json()
    texts = [e["data"].get("text") for c in data["conversations"] for e in c["events"]]
    assert "my address is 1 Secret Road" in texts

    erased = await client.delete(f"/api/v1/customers/{ana}", headers=ACTOR)
    assert erased.status == 200
    after = await (await client.get(f"/api/v1/customers/{ana}/export", headers=ACTOR)).json()
    assert "Secret Road" not in str(after)
    assert after["customer"]["identities"] == []
    assert [e["action"] for e in after["audit"]][-2:] == ["customer.erased", "customer.exported"]
    assert (await client.delete("/api/v1/customers/cus_nobody", headers=ACTOR)).status == 404
    assert (await client.delete(f"/api/v1/customers/{ana}")).status == 401
